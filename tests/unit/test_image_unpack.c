/* Unit tests for src/agent/image/tar.c, unpack.c and rootfs.c: tar edge cases (GNU long names,
 * PAX, base-256, checksums, truncation), path traversal, symlink escapes, hard links, owners,
 * devices, OCI whiteouts in both on-disk formats, gzip, and the copied root filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "agent/image/digest.h"
#include "agent/image/store.h"
#include "agent/image/tar.h"
#include "agent/image/unpack.h"

/* ---- a tiny tar writer ---------------------------------------------------------------- */
struct tb {
    unsigned char *d;
    size_t len, cap;
};

static void tb_put(struct tb *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        t->cap = (t->len + n) * 2 + 1024;
        t->d = realloc(t->d, t->cap);
        assert_non_null(t->d);
    }
    memcpy(t->d + t->len, p, n);
    t->len += n;
}

static void tb_pad(struct tb *t)
{
    static const unsigned char z[512];
    if (t->len % 512)
        tb_put(t, z, 512 - t->len % 512);
}

static void octal(unsigned char *f, size_t n, uint64_t v)
{
    snprintf((char *)f, n, "%0*llo", (int)(n - 1), (unsigned long long)v);
}

struct hdr {
    const char *name;
    char type;
    const void *data;
    size_t size;
    unsigned mode, uid, gid;
    const char *link;
    unsigned dmaj, dmin;
    bool base256_size, bad_checksum;
};

static void tb_entry(struct tb *t, struct hdr h)
{
    unsigned char b[512] = {0};
    strncpy((char *)b, h.name, 100);
    octal(b + 100, 8, h.mode ? h.mode : 0644);
    octal(b + 108, 8, h.uid);
    octal(b + 116, 8, h.gid);
    if (h.base256_size) {
        memset(b + 124, 0, 12);
        b[124] = 0x80;
        b[135] = (unsigned char)h.size;
        b[134] = (unsigned char)(h.size >> 8);
    } else
        octal(b + 124, 12, h.size);
    octal(b + 136, 12, 1700000000);
    b[156] = (unsigned char)(h.type ? h.type : '0');
    if (h.link)
        strncpy((char *)b + 157, h.link, 100);
    memcpy(b + 257,
           "ustar\0"
           "00",
           8);
    octal(b + 329, 8, h.dmaj);
    octal(b + 337, 8, h.dmin);
    memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += b[i];
    if (h.bad_checksum)
        sum++;
    snprintf((char *)b + 148, 8, "%06o", sum);
    tb_put(t, b, 512);
    if (h.size && h.data) {
        tb_put(t, h.data, h.size);
        tb_pad(t);
    }
}

static void tb_end(struct tb *t)
{
    static const unsigned char z[1024];
    tb_put(t, z, 1024);
}

static void tb_pax(struct tb *t, const char *records)
{
    tb_entry(t, (struct hdr){
                    .name = "PaxHeader", .type = 'x', .data = records, .size = strlen(records)});
}

struct mem {
    const unsigned char *p;
    size_t len, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
    struct mem *m = ctx;
    size_t k = m->len - m->off < n ? m->len - m->off : n;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

/* ---- fixtures ------------------------------------------------------------------------- */
static char tmpdir[64];
static int root_fd = -1;

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/kos-unpack-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    root_fd = open(tmpdir, O_RDONLY | O_DIRECTORY);
    assert_true(root_fd >= 0);
    return 0;
}

static int teardown(void **state)
{
    close(root_fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "umount -q %s/c/rootfs 2>/dev/null; rm -rf %s", tmpdir, tmpdir);
    (void)system(cmd);
    return 0;
}

static int unpack(struct tb *t, enum image_whiteout_format fmt, struct kos_error **err)
{
    struct mem m = {t->d, t->len, 0};
    return image_unpack_tar(mem_read, &m, root_fd, fmt, err);
}

static char *slurp(const char *rel)
{
    static char buf[4096];
    int fd = openat(root_fd, rel, O_RDONLY | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return buf;
}

static void expect_error(struct tb *t, const char *why)
{
    struct kos_error *err = NULL;
    int r = unpack(t, IMAGE_WHITEOUT_OVERLAY, &err);
    assert_true(r < 0);
    assert_non_null(err);
    if (!strstr(err->message, why))
        print_error("got \"%s\", want \"%s\"\n", err->message, why);
    assert_non_null(strstr(err->message, why));
    kos_error_free(err);
    free(t->d);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_basic_entries(void **state)
{
    struct tb t = {0};
    tb_entry(&t, (struct hdr){.name = "./etc/", .type = '5', .mode = 0750, .uid = 7, .gid = 8});
    tb_entry(&t, (struct hdr){.name = "./etc/passwd",
                              .data = "root\n",
                              .size = 5,
                              .mode = 04711,
                              .uid = 1000,
                              .gid = 2000});
    tb_entry(&t, (struct hdr){.name = "etc/link", .type = '1', .link = "./etc/passwd"});
    tb_entry(&t, (struct hdr){.name = "etc/sym", .type = '2', .link = "/etc/passwd"});
    tb_entry(&t, (struct hdr){.name = "dev/null", .type = '3', .mode = 0666, .dmaj = 1, .dmin = 3});
    tb_entry(&t, (struct hdr){.name = "run/fifo", .type = '6', .mode = 0600});
    tb_entry(&t, (struct hdr){.name = "/abs/file", .data = "x", .size = 1});
    tb_entry(&t, (struct hdr){.name = "dup", .data = "first", .size = 5});
    tb_entry(&t, (struct hdr){.name = "dup", .data = "second", .size = 6});
    tb_end(&t);
    struct kos_error *err = NULL;
    assert_int_equal(unpack(&t, IMAGE_WHITEOUT_OVERLAY, &err), 0);
    free(t.d);
    struct stat st;
    assert_int_equal(fstatat(root_fd, "etc", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_uid, 7);
    assert_int_equal(fstatat(root_fd, "etc/passwd", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 04711);
    assert_int_equal(st.st_uid, 1000);
    assert_int_equal(st.st_gid, 2000);
    assert_int_equal(st.st_mtime, 1700000000);
    assert_int_equal(st.st_nlink, 2);
    assert_string_equal(slurp("etc/link"), "root\n");
    char target[64];
    ssize_t n = readlinkat(root_fd, "etc/sym", target, sizeof(target));
    assert_int_equal(n, 11);
    assert_memory_equal(target, "/etc/passwd", 11);
    assert_int_equal(fstatat(root_fd, "dev/null", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(1, 3));
    assert_int_equal(fstatat(root_fd, "run/fifo", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_string_equal(slurp("abs/file"), "x");
    assert_string_equal(slurp("dup"), "second");
}

static void test_long_names_pax_base256(void **state)
{
    char longname[300];
    memset(longname, 'n', sizeof(longname));
    memcpy(longname, "deep/", 5);
    longname[120] = longname[240] = '/'; /* components stay under NAME_MAX */
    longname[299] = '\0';
    struct tb t = {0};
    /* GNU long name */
    tb_entry(&t, (struct hdr){.name = "././@LongLink",
                              .type = 'L',
                              .data = longname,
                              .size = strlen(longname) + 1});
    tb_entry(&t, (struct hdr){.name = "truncated", .data = "gnu", .size = 3});
    /* PAX path and size override the header */
    tb_pax(&t, "21 path=pax/name.txt\n10 size=4\n");
    tb_entry(&t, (struct hdr){.name = "ignored", .data = "paxx", .size = 4});
    /* base-256 size */
    tb_entry(&t, (struct hdr){.name = "b256", .data = "hello", .size = 5, .base256_size = true});
    /* a GNU long link target */
    tb_entry(&t, (struct hdr){.name = "././@LongLink",
                              .type = 'K',
                              .data = longname,
                              .size = strlen(longname) + 1});
    tb_entry(&t, (struct hdr){.name = "longsym", .type = '2', .link = "short"});
    tb_end(&t);
    struct kos_error *err = NULL;
    int r = unpack(&t, IMAGE_WHITEOUT_OVERLAY, &err);
    if (r < 0)
        print_error("%s\n", err->message);
    assert_int_equal(r, 0);
    free(t.d);
    assert_string_equal(slurp(longname), "gnu");
    assert_string_equal(slurp("pax/name.txt"), "paxx");
    assert_null(slurp("ignored"));
    assert_string_equal(slurp("b256"), "hello");
    char target[400];
    ssize_t n = readlinkat(root_fd, "longsym", target, sizeof(target));
    assert_int_equal(n, 299);
}

static void test_malformed(void **state)
{
    struct tb t = {0};
    tb_entry(&t, (struct hdr){.name = "a", .data = "x", .size = 1, .bad_checksum = true});
    tb_end(&t);
    expect_error(&t, "checksum");

    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "a", .data = "0123456789", .size = 10});
    t.len -= 512 - 5; /* cut inside the data */
    expect_error(&t, "truncated");

    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "a", .data = "x", .size = 1});
    tb_put(&t, "garbage", 7); /* half a header */
    expect_error(&t, "truncated");

    t = (struct tb){0};
    tb_pax(&t, "99 path=x\n");
    tb_entry(&t, (struct hdr){.name = "a"});
    tb_end(&t);
    expect_error(&t, "bad PAX record");

    t = (struct tb){0};
    tb_pax(&t, "21 GNU.sparse.size=1\n");
    tb_entry(&t, (struct hdr){.name = "a"});
    tb_end(&t);
    expect_error(&t, "sparse");

    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "a", .type = 'S'});
    tb_end(&t);
    expect_error(&t, "unsupported entry type 'S'");

    t = (struct tb){0};
    tb_pax(&t, "10 path=x\n");
    tb_end(&t);
    expect_error(&t, "extended header without an entry");

    /* end of input without the zero blocks is accepted, as tar does */
    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "noend", .data = "y", .size = 1});
    struct kos_error *err = NULL;
    assert_int_equal(unpack(&t, IMAGE_WHITEOUT_OVERLAY, &err), 0);
    free(t.d);
    assert_string_equal(slurp("noend"), "y");
}

static void test_traversal(void **state)
{
    struct tb t = {0};
    tb_entry(&t, (struct hdr){.name = "../escape", .data = "x", .size = 1});
    tb_end(&t);
    expect_error(&t, "escapes the layer root");

    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "a/../../escape", .data = "x", .size = 1});
    tb_end(&t);
    expect_error(&t, "escapes the layer root");

    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "hl", .type = '1', .link = "../../etc/passwd"});
    tb_end(&t);
    expect_error(&t, "escapes the layer root");

    /* Symlinks, absolute or relative, resolve inside the root when written through. */
    t = (struct tb){0};
    tb_entry(&t, (struct hdr){.name = "inner/", .type = '5', .mode = 0755});
    tb_entry(&t, (struct hdr){.name = "abs", .type = '2', .link = "/inner"});
    tb_entry(&t, (struct hdr){.name = "rel", .type = '2', .link = "../../../../inner"});
    tb_entry(&t, (struct hdr){.name = "tmpl", .type = '2', .link = "/tmp"});
    tb_entry(&t, (struct hdr){.name = "abs/one", .data = "1", .size = 1});
    tb_entry(&t, (struct hdr){.name = "rel/two", .data = "2", .size = 1});
    tb_entry(&t, (struct hdr){.name = "tmpl/kos-unpack-escape-test", .data = "3", .size = 1});
    /* a hard link through a symlink to the host's /etc/passwd must not reach the host */
    tb_entry(&t, (struct hdr){.name = "etcl", .type = '2', .link = "/etc"});
    tb_entry(&t, (struct hdr){.name = "stolen", .type = '1', .link = "etcl/passwd"});
    tb_end(&t);
    struct kos_error *err = NULL;
    int r = unpack(&t, IMAGE_WHITEOUT_OVERLAY, &err);
    free(t.d);
    /* The hard link target does not exist inside the root, so the archive fails there. */
    assert_true(r < 0);
    assert_non_null(strstr(err->message, "stolen"));
    kos_error_free(err);
    assert_string_equal(slurp("inner/one"), "1");
    assert_string_equal(slurp("inner/two"), "2");
    assert_string_equal(slurp("tmp/kos-unpack-escape-test"), "3");
    assert_int_equal(access("/tmp/kos-unpack-escape-test", F_OK), -1);
    assert_int_equal(faccessat(root_fd, "stolen", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

static void test_whiteouts(void **state)
{
    struct tb t = {0};
    tb_entry(&t, (struct hdr){.name = "d/", .type = '5', .mode = 0755});
    tb_entry(&t, (struct hdr){.name = "d/.wh..wh..opq"});
    tb_entry(&t, (struct hdr){.name = "d/.wh.gone"});
    tb_entry(&t, (struct hdr){.name = ".wh..wh.plnk"});
    tb_entry(&t, (struct hdr){.name = "d/kept", .data = "k", .size = 1});
    tb_end(&t);
    struct kos_error *err = NULL;
    struct mem m = {t.d, t.len, 0};
    assert_int_equal(mkdirat(root_fd, "ovl", 0755), 0);
    int ofd = openat(root_fd, "ovl", O_RDONLY | O_DIRECTORY);
    assert_int_equal(image_unpack_tar(mem_read, &m, ofd, IMAGE_WHITEOUT_OVERLAY, &err), 0);
    struct stat st;
    assert_int_equal(fstatat(ofd, "d/gone", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    assert_int_equal(faccessat(ofd, "d/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(ofd, ".wh..wh.plnk", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    char v[4];
    assert_int_equal(getxattr("/proc/self/fd/0", "x", v, 0), -1); /* keep errno sane */
    char p[128];
    snprintf(p, sizeof(p), "%s/ovl/d", tmpdir);
    assert_int_equal(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
    assert_int_equal(v[0], 'y');
    close(ofd);

    m = (struct mem){t.d, t.len, 0};
    assert_int_equal(mkdirat(root_fd, "mark", 0755), 0);
    int mfd = openat(root_fd, "mark", O_RDONLY | O_DIRECTORY);
    assert_int_equal(image_unpack_tar(mem_read, &m, mfd, IMAGE_WHITEOUT_MARKER, &err), 0);
    assert_int_equal(faccessat(mfd, "d/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(faccessat(mfd, "d/.wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(faccessat(mfd, "d/gone", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    close(mfd);
    free(t.d);
}

static void gzip_blob(const struct tb *t, struct tb *out, int members)
{
    size_t per = t->len / (size_t)members + 1;
    for (int i = 0; i < members; i++) {
        size_t off = (size_t)i * per;
        if (off >= t->len)
            break;
        size_t n = t->len - off < per ? t->len - off : per;
        z_stream z = {0};
        assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
        unsigned char buf[1 << 16];
        z.next_in = t->d + off;
        z.avail_in = (uInt)n;
        int zr;
        do {
            z.next_out = buf;
            z.avail_out = sizeof(buf);
            zr = deflate(&z, Z_FINISH);
            tb_put(out, buf, sizeof(buf) - z.avail_out);
        } while (zr != Z_STREAM_END);
        deflateEnd(&z);
    }
}

/* Writes the blob into the store under its digest, so image_store_unpack_layer can use it. */
static void put_blob(struct image_store *s, const struct tb *b, char digest[IMAGE_DIGEST_MAX])
{
    assert_int_equal(image_digest_of(b->d, b->len, digest), 0);
    assert_int_equal(image_store_put_blob(s, digest, b->d, b->len), 0);
}

static void rootfs_with(enum image_whiteout_format fmt, const char *snapshotter)
{
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(tmpdir, &s, &err), 0);
    s->whiteouts = fmt;
    assert_int_equal(image_store_set_snapshotter(s, snapshotter), 0);

    struct tb l1 = {0}, l2 = {0}, g1 = {0};
    tb_entry(&l1, (struct hdr){.name = "etc/", .type = '5', .mode = 0755});
    tb_entry(&l1, (struct hdr){.name = "etc/a", .data = "a", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "etc/b", .data = "b", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "etc/hl", .type = '1', .link = "etc/b"});
    tb_entry(&l1, (struct hdr){.name = "opq/", .type = '5', .mode = 0755});
    tb_entry(&l1, (struct hdr){.name = "opq/old", .data = "o", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "gonedir/", .type = '5', .mode = 0755});
    tb_entry(&l1, (struct hdr){.name = "gonedir/x", .data = "x", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "swap", .type = '2', .link = "/etc"});
    tb_end(&l1);
    gzip_blob(&l1, &g1, 3); /* a multi-member gzip stream */
    tb_entry(&l2, (struct hdr){.name = "etc/.wh.a"});
    tb_entry(&l2, (struct hdr){.name = "opq/.wh..wh..opq"});
    tb_entry(&l2, (struct hdr){.name = "opq/new", .data = "n", .size = 1});
    tb_entry(&l2, (struct hdr){.name = ".wh.gonedir"});
    tb_entry(&l2, (struct hdr){.name = "swap/", .type = '5', .mode = 0700});
    tb_entry(&l2, (struct hdr){.name = "swap/inside", .data = "i", .size = 1});
    tb_end(&l2);

    struct image_info info = {0};
    info.n_layers = 2;
    info.layers = calloc(2, sizeof(*info.layers));
    put_blob(s, &g1, info.layers[0]);
    put_blob(s, &l2, info.layers[1]);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(image_store_unpack_layer(s, info.layers[i], &err), 0);
    /* unpacked once: a second call is a no-op */
    assert_int_equal(image_store_unpack_layer(s, info.layers[0], &err), 0);

    char cdir[128];
    snprintf(cdir, sizeof(cdir), "%s/c", tmpdir);
    struct image_rootfs rf;
    int r = image_rootfs_create(s, &info, cdir, &rf, &err);
    if (r < 0)
        print_error("%s\n", err->message);
    assert_int_equal(r, 0);
    assert_int_equal(rf.overlay, strcmp(snapshotter, "overlay") == 0);
    int fd = open(rf.path, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(faccessat(fd, "etc/a", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(fd, "etc/b", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(fstatat(fd, "etc/hl", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_nlink, 2);
    assert_int_equal(faccessat(fd, "opq/old", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(fd, "opq/new", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(faccessat(fd, "gonedir", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(fd, "swap", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode)); /* a directory over a symlink replaces it */
    assert_int_equal(faccessat(fd, "swap/inside", F_OK, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(faccessat(fd, "etc/inside", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(fd, "etc/.wh.a", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(faccessat(fd, "opq/.wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    close(fd);
    /* idempotent, then removed */
    assert_int_equal(image_rootfs_create(s, &info, cdir, &rf, &err), 0);
    assert_int_equal(image_rootfs_remove(cdir), 0);
    assert_int_equal(access(rf.path, F_OK), -1);
    assert_int_equal(image_rootfs_remove(cdir), 0);

    image_info_clear(&info);
    free(l1.d);
    free(l2.d);
    free(g1.d);
    image_store_close(s);
}

static void test_rootfs_copy_marker(void **state)
{
    rootfs_with(IMAGE_WHITEOUT_MARKER, "copy");
}

static void test_rootfs_copy_overlay_format(void **state)
{
    rootfs_with(IMAGE_WHITEOUT_OVERLAY, "copy");
}

/* Where overlayfs cannot be used (no overlay-format whiteouts here), auto falls back to a copy. */
static void test_rootfs_auto_falls_back(void **state)
{
    rootfs_with(IMAGE_WHITEOUT_MARKER, "auto");
}

static void test_rootfs_overlay(void **state)
{
    if (geteuid() != 0) {
        skip();
        return;
    }
    rootfs_with(IMAGE_WHITEOUT_OVERLAY, "overlay");
}

/* The shared mount-point layer: the paths the image has room for, with the image's owner
 * and mode, and nothing where the image has something else (a symlinked /var/run, a file). */
static void test_mountpoints_layer(void **state)
{
    if (geteuid() != 0) { /* overlay whiteouts are character devices */
        skip();
        return;
    }
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(tmpdir, &s, &err), 0);
    s->whiteouts = IMAGE_WHITEOUT_OVERLAY;
    struct tb l1 = {0}, l2 = {0};
    tb_entry(&l1, (struct hdr){.name = "etc/", .type = '5', .mode = 0750, .uid = 7, .gid = 8});
    tb_entry(&l1, (struct hdr){.name = "etc/hosts", .type = '2', .link = "/x"});
    tb_entry(&l1, (struct hdr){.name = "etc/hostname", .data = "h", .size = 1, .mode = 0600});
    tb_entry(&l1, (struct hdr){.name = "var/", .type = '5', .mode = 0755});
    tb_entry(&l1, (struct hdr){.name = "var/run", .type = '2', .link = "../run"});
    tb_entry(&l1, (struct hdr){.name = "dev", .data = "f", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "sys", .data = "f", .size = 1});
    tb_entry(&l1, (struct hdr){.name = "proc/", .type = '5', .mode = 0555});
    tb_end(&l1);
    tb_entry(&l2, (struct hdr){.name = ".wh.dev"}); /* dev deleted: room for a directory */
    tb_end(&l2);
    struct image_info info = {0};
    info.n_layers = 2;
    info.layers = calloc(2, sizeof(*info.layers));
    put_blob(s, &l1, info.layers[0]);
    put_blob(s, &l2, info.layers[1]);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(image_store_unpack_layer(s, info.layers[i], &err), 0);
    snprintf(info.config_digest, sizeof(info.config_digest), "sha256:%064x", 42);

    char p[4096], p2[4096];
    assert_int_equal(image_mountpoints_layer(s, &info, true, p, sizeof(p)), 0);
    int fd = open(p, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    struct stat st;
    /* proc is in the image: nothing to make */
    assert_int_equal(faccessat(fd, "proc", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(fd, "dev", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(faccessat(fd, "sys", F_OK, AT_SYMLINK_NOFOLLOW), -1); /* a file there */
    assert_int_equal(fstatat(fd, "etc", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0750);
    assert_int_equal(st.st_uid, 7);
    assert_int_equal(st.st_gid, 8);
    assert_int_equal(faccessat(fd, "etc/hosts", F_OK, AT_SYMLINK_NOFOLLOW), -1); /* a symlink */
    /* the image has it: not made (an empty file would hide the image's) */
    assert_int_equal(faccessat(fd, "etc/hostname", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    assert_int_equal(fstatat(fd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 0);
    /* var/run is a symlink in the image: nothing of the path is made, var included */
    assert_int_equal(faccessat(fd, "var", F_OK, AT_SYMLINK_NOFOLLOW), -1);
    close(fd);
    /* made once; the variant without the service-account path is another layer */
    assert_int_equal(image_mountpoints_layer(s, &info, true, p2, sizeof(p2)), 0);
    assert_string_equal(p, p2);
    assert_int_equal(image_mountpoints_layer(s, &info, false, p2, sizeof(p2)), 0);
    assert_string_not_equal(p, p2);

    /* an image where the whole path fits gets it */
    struct tb l3 = {0};
    tb_entry(&l3, (struct hdr){.name = "var/", .type = '5', .mode = 0755});
    tb_entry(&l3, (struct hdr){.name = "var/run/", .type = '5', .mode = 0711});
    tb_end(&l3);
    struct image_info info2 = {0};
    info2.n_layers = 1;
    info2.layers = calloc(1, sizeof(*info2.layers));
    put_blob(s, &l3, info2.layers[0]);
    assert_int_equal(image_store_unpack_layer(s, info2.layers[0], &err), 0);
    snprintf(info2.config_digest, sizeof(info2.config_digest), "sha256:%064x", 43);
    assert_int_equal(image_mountpoints_layer(s, &info2, true, p, sizeof(p)), 0);
    fd = open(p, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(fstatat(fd, "var/run", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    assert_int_equal(
        fstatat(fd, "var/run/secrets/kubernetes.io/serviceaccount", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(fstatat(fd, "etc/hosts", &st, AT_SYMLINK_NOFOLLOW), 0);
    close(fd);

    /* a root filesystem over it shows the image as it was, plus the mount points */
    image_store_set_snapshotter(s, "overlay");
    char cdir[128];
    snprintf(cdir, sizeof(cdir), "%s/c", tmpdir);
    struct image_rootfs rf;
    assert_int_equal(image_mountpoints_layer(s, &info, true, p, sizeof(p)), 0);
    int r = image_rootfs_create_over(s, &info, cdir, p, &rf, &err);
    if (r == 0) { /* overlayfs where the host allows */
        struct stat hosts, hostname, run, dev;
        fd = open(rf.path, O_RDONLY | O_DIRECTORY);
        int r1 = fstatat(fd, "etc/hosts", &hosts, AT_SYMLINK_NOFOLLOW);
        int r2 = fstatat(fd, "etc/hostname", &hostname, AT_SYMLINK_NOFOLLOW);
        int r3 = fstatat(fd, "var/run", &run, AT_SYMLINK_NOFOLLOW);
        int r4 = fstatat(fd, "dev", &dev, AT_SYMLINK_NOFOLLOW);
        if (fd >= 0)
            close(fd);
        assert_int_equal(image_rootfs_remove(cdir), 0); /* before any assertion can fail */
        assert_true(fd >= 0);
        assert_int_equal(r1 | r2 | r3 | r4, 0);
        assert_true(S_ISLNK(hosts.st_mode));
        assert_int_equal(hostname.st_size, 1); /* the image's file, not an empty one */
        assert_true(S_ISLNK(run.st_mode));
        assert_true(S_ISDIR(dev.st_mode));
    } else {
        kos_error_free(err);
    }
    image_info_clear(&info);
    image_info_clear(&info2);
    free(l1.d);
    free(l2.d);
    free(l3.d);
    image_store_close(s);
}

static void test_bad_gzip(void **state)
{
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(tmpdir, &s, &err), 0);
    struct tb t = {0}, g = {0};
    tb_entry(&t, (struct hdr){.name = "f", .data = "data", .size = 4});
    tb_end(&t);
    gzip_blob(&t, &g, 1);
    g.d[g.len / 2] ^= 0x55;
    char d[IMAGE_DIGEST_MAX];
    put_blob(s, &g, d);
    assert_true(image_store_unpack_layer(s, d, &err) < 0);
    assert_non_null(err);
    assert_true(strstr(err->message, "gzip") || strstr(err->message, "invalid layer archive"));
    kos_error_free(err);
    assert_false(image_store_has_layer(s, d));
    /* zstd is named, not mistaken for a tar */
    err = NULL;
    struct tb z = {0};
    tb_put(&z,
           "\x28\xb5\x2f\xfd"
           "rest",
           8);
    put_blob(s, &z, d);
    assert_true(image_store_unpack_layer(s, d, &err) < 0);
    assert_non_null(strstr(err->message, "zstd"));
    kos_error_free(err);
    free(t.d);
    free(g.d);
    free(z.d);
    image_store_close(s);
}

/* Temp entries of pulls that died long ago are removed when the store opens; fresh ones stay. */
static void test_stale_tmp_removed(void **state)
{
    struct image_store *s = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(image_store_open(tmpdir, &s, &err), 0);
    image_store_close(s);
    char p[256];
    snprintf(p, sizeof(p), "%s/images/tmp/layer-old", tmpdir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/images/tmp/layer-old/f", tmpdir);
    int fd = open(p, O_WRONLY | O_CREAT, 0600);
    close(fd);
    snprintf(p, sizeof(p), "%s/images/tmp/layer-old", tmpdir);
    struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
    assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
    snprintf(p, sizeof(p), "%s/images/tmp/blob-fresh", tmpdir);
    fd = open(p, O_WRONLY | O_CREAT, 0600);
    close(fd);
    assert_int_equal(image_store_open(tmpdir, &s, &err), 0);
    snprintf(p, sizeof(p), "%s/images/tmp/layer-old", tmpdir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof(p), "%s/images/tmp/blob-fresh", tmpdir);
    assert_int_equal(access(p, F_OK), 0);
    image_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_names_pax_base256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whiteouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rootfs_copy_marker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rootfs_copy_overlay_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rootfs_auto_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rootfs_overlay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mountpoints_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_tmp_removed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

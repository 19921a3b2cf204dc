#include "agent/image/unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "agent/image/fsutil.h"
#include "util/cleanup.h"
#include "util/strutil.h"

static int fail(struct kos_error **err, int e, const char *what, const char *path)
{
    return kos_error_set(err, 500, "ErrImagePull", "failed to extract layer: %s %s: %s", what, path,
                         strerror(-e));
}

/* Ownership changes need privilege; an unprivileged agent (tests) keeps its own. */
static int chown_ok(int r)
{
    return r < 0 && errno == EPERM && geteuid() != 0 ? 0 : r;
}

static void apply_xattrs(int fd, const struct tar_entry *e)
{
    for (size_t i = 0; i < e->n_xattrs; i++) {
        /* A layer must not forge overlayfs metadata (whiteouts, redirects). */
        if (kos_str_has_prefix(e->xattrs[i].name, "trusted.overlay."))
            continue;
        (void)fsetxattr(fd, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len, 0);
    }
}

/* Lexically normalises path as if resolved inside a root: "." dropped, ".." pops a component
 * and stops at the root, exactly as RESOLVE_IN_ROOT treats it. */
static int clamp_path(const char *in, char *out, size_t size)
{
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        const char *c = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - c);
        if (n == 0 || (n == 1 && c[0] == '.'))
            continue;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        if (o + 1 + n + 1 > size)
            return -ENAMETOOLONG;
        if (o)
            out[o++] = '/';
        memcpy(out + o, c, n);
        o += n;
    }
    out[o] = '\0';
    return 0;
}

/* Opens the directory at relative path dir inside the root, creating what is missing (0755)
 * as Docker does. A dangling symlink on the way is followed inside the root (its target dirs
 * are created there), never outside. */
static int open_parent(int root_fd, const char *dir)
{
    char path[TAR_PATH_MAX];
    if (kos_strlcpy(path, dir, sizeof(path)) >= sizeof(path))
        return -ENAMETOOLONG;
    for (int hops = 0; hops < 40; hops++) {
        int fd = image_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY);
        if (fd != -ENOENT)
            return fd;
        size_t len = strlen(path);
        bool restart = false;
        for (size_t i = 0; i <= len && !restart; i++) {
            if (i < len && path[i] != '/')
                continue;
            char prefix[TAR_PATH_MAX];
            memcpy(prefix, path, i);
            prefix[i] = '\0';
            int cfd = image_open_in_root(root_fd, prefix, O_RDONLY | O_DIRECTORY);
            if (cfd >= 0) {
                close(cfd);
                continue;
            }
            if (cfd != -ENOENT)
                return cfd;
            char *slash = strrchr(prefix, '/');
            const char *base = slash ? slash + 1 : prefix;
            if (slash)
                *slash = '\0';
            _cleanup_close_ int pfd =
                image_open_in_root(root_fd, slash ? prefix : "", O_RDONLY | O_DIRECTORY);
            if (pfd < 0)
                return pfd;
            char target[TAR_PATH_MAX];
            ssize_t tl = readlinkat(pfd, base, target, sizeof(target) - 1);
            if (tl < 0) {
                if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
                    return -errno;
                continue;
            }
            target[tl] = '\0';
            char joined[3 * TAR_PATH_MAX];
            snprintf(joined, sizeof(joined), "%s/%s/%s", target[0] == '/' || !slash ? "" : prefix,
                     target, path + i);
            if (clamp_path(joined, path, sizeof(path)) < 0)
                return -ENAMETOOLONG;
            restart = true;
        }
        if (!restart)
            return image_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY);
    }
    return -ELOOP;
}

static int write_file(struct tar_reader *tr, int pfd, const char *base, const struct tar_entry *e)
{
    _cleanup_close_ int fd =
        openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char buf[65536];
    for (;;) {
        ssize_t n = tar_read_data(tr, buf, sizeof(buf));
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            off += w;
        }
    }
    if (chown_ok(fchown(fd, e->uid, e->gid)) < 0 || fchmod(fd, e->mode) < 0)
        return -errno;
    apply_xattrs(fd, e);
    struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
    (void)futimens(fd, ts);
    return 0;
}

static int make_whiteout(int root_fd, int pfd, const char *dir, const char *base,
                         enum image_whiteout_format fmt)
{
    if (fmt == IMAGE_WHITEOUT_MARKER) {
        /* Kept as the OCI marker file; rootfs.c applies it when copying. */
        int r = image_rm_rf_at(pfd, base);
        if (r < 0)
            return r;
        int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return -errno;
        close(fd);
        return 0;
    }
    if (strcmp(base, IMAGE_WH_OPAQUE) == 0) {
        _cleanup_close_ int dfd = image_open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
            return dfd;
        return fsetxattr(dfd, IMAGE_OPAQUE_XATTR, "y", 1, 0) < 0 ? -errno : 0;
    }
    const char *name = base + strlen(IMAGE_WH_PREFIX);
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return -EINVAL;
    int r = image_rm_rf_at(pfd, name);
    if (r < 0)
        return r;
    return mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0 ? -errno : 0;
}

static int extract_one(struct tar_reader *tr, int root_fd, enum image_whiteout_format fmt,
                       struct kos_error **err)
{
    const struct tar_entry *e = &tr->entry;
    char path[TAR_PATH_MAX];
    int r = image_clean_path(e->path, path, sizeof(path));
    if (r < 0)
        return kos_error_set(err, 400, "ErrImagePull",
                             "failed to extract layer: path \"%s\" escapes the layer root",
                             e->path);
    if (!path[0])
        return 0; /* the root itself: its attributes come from the container's upper dir */

    char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[TAR_PATH_MAX] = "";
    if (slash) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
    }
    _cleanup_close_ int pfd = open_parent(root_fd, dir);
    if (pfd < 0)
        return fail(err, pfd, "cannot open parent of", e->path);

    if (kos_str_has_prefix(base, IMAGE_WH_PREFIX)) {
        if (kos_str_has_prefix(base, ".wh..wh.") && strcmp(base, IMAGE_WH_OPAQUE) != 0)
            return 0; /* aufs metadata (.wh..wh.plnk, ...): not part of the file system */
        r = make_whiteout(root_fd, pfd, dir, base, fmt);
        return r < 0 ? fail(err, r, "cannot create whiteout", e->path) : 0;
    }

    struct stat st;
    bool exists = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(e->type == TAR_DIR && S_ISDIR(st.st_mode))) {
        r = image_rm_rf_at(pfd, base);
        if (r < 0)
            return fail(err, r, "cannot replace", e->path);
        exists = false;
    }

    switch (e->type) {
    case TAR_REG:
        r = write_file(tr, pfd, base, e);
        break;
    case TAR_DIR: {
        if (!exists && mkdirat(pfd, base, 0700) < 0) {
            r = -errno;
            break;
        }
        _cleanup_close_ int dfd =
            openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0 || chown_ok(fchown(dfd, e->uid, e->gid)) < 0 || fchmod(dfd, e->mode) < 0) {
            r = -errno;
            break;
        }
        apply_xattrs(dfd, e);
        r = 0;
        break;
    }
    case TAR_SYMLINK:
        r = symlinkat(e->linkpath, pfd, base) < 0 ? -errno : 0;
        if (r == 0 && chown_ok(fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW)) < 0)
            r = -errno;
        if (r == 0) {
            struct timespec ts[2] = {{.tv_sec = e->mtime}, {.tv_sec = e->mtime}};
            (void)utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
        }
        break;
    case TAR_LINK: {
        char target[TAR_PATH_MAX];
        if (image_clean_path(e->linkpath, target, sizeof(target)) < 0 || !target[0])
            return kos_error_set(err, 400, "ErrImagePull",
                                 "failed to extract layer: hard link \"%s\" -> \"%s\" escapes "
                                 "the layer root",
                                 e->path, e->linkpath);
        char *ts = strrchr(target, '/');
        const char *tbase = ts ? ts + 1 : target;
        if (ts)
            *ts = '\0';
        _cleanup_close_ int tfd =
            image_open_in_root(root_fd, ts ? target : "", O_RDONLY | O_DIRECTORY);
        if (tfd < 0) {
            r = tfd;
            break;
        }
        r = linkat(tfd, tbase, pfd, base, 0) < 0 ? -errno : 0;
        break;
    }
    case TAR_CHR:
    case TAR_BLK:
    case TAR_FIFO: {
        mode_t t = e->type == TAR_CHR ? S_IFCHR : e->type == TAR_BLK ? S_IFBLK : S_IFIFO;
        r = mknodat(pfd, base, t | (e->mode & 0777), makedev(e->devmajor, e->devminor)) < 0 ? -errno
                                                                                            : 0;
        if (r == 0 && chown_ok(fchownat(pfd, base, e->uid, e->gid, AT_SYMLINK_NOFOLLOW)) < 0)
            r = -errno;
        if (r == 0 && fchmodat(pfd, base, e->mode, 0) < 0)
            r = -errno;
        break;
    }
    default:
        r = -EINVAL;
    }
    if (r == -EPIPE)
        return kos_error_set(err, 400, "ErrImagePull", "invalid layer archive: truncated data");
    if (r == -EBADMSG)
        return kos_error_set(err, 400, "ErrImagePull", "failed to extract layer: bad gzip data");
    if (r == -EFBIG)
        return kos_error_set(err, 400, "ErrImagePull",
                             "failed to extract layer: it expands past %llu bytes",
                             (unsigned long long)IMAGE_UNPACKED_MAX);
    return r < 0 ? fail(err, r, "cannot create", e->path) : 0;
}

int image_unpack_tar(tar_read_fn read, void *ctx, int dir_fd, enum image_whiteout_format fmt,
                     struct kos_error **err)
{
    struct tar_reader tr;
    tar_reader_init(&tr, read, ctx);
    int r;
    while ((r = tar_next(&tr, err)) > 0) {
        r = extract_one(&tr, dir_fd, fmt, err);
        if (r < 0)
            break;
    }
    tar_reader_free(&tr);
    if (r == -EPIPE || r == -EIO)
        return kos_error_set(err, 400, "ErrImagePull", "invalid layer archive: truncated data");
    return r < 0 ? r : 0;
}

/* A byte source over the blob file, inflating when it starts with the gzip magic. */
struct layer_src {
    int fd;
    bool gzip, zinit, zend;
    z_stream z;
    unsigned char in[65536];
    size_t in_len, in_off;
    bool in_eof;
    uint64_t total;
    int error;
};

/* Reads more input behind the bytes not yet consumed (which move to the front). 1 when
 * something was read, 0 at the end of the file. */
static int fill(struct layer_src *s)
{
    size_t keep = s->in_len - s->in_off;
    memmove(s->in, s->in + s->in_off, keep);
    s->in_len = keep;
    s->in_off = 0;
    if (s->in_eof)
        return 0;
    ssize_t n;
    do
        n = read(s->fd, s->in + keep, sizeof(s->in) - keep);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        s->in_eof = true;
    s->in_len += (size_t)n;
    return (int)(n > 0);
}

static ssize_t src_read(void *ctx, void *buf, size_t n)
{
    struct layer_src *s = ctx;
    if (s->error)
        return s->error;
    if (!s->gzip) {
        if (s->in_off == s->in_len) {
            int r = fill(s);
            if (r <= 0)
                return r;
        }
        size_t k = s->in_len - s->in_off < n ? s->in_len - s->in_off : n;
        memcpy(buf, s->in + s->in_off, k);
        s->in_off += k;
        return (ssize_t)k;
    }
    for (;;) {
        if (s->zend) {
            /* gzip allows several members back to back (pigz, concatenated streams); other
             * trailing bytes (zero padding) end the stream as gzip(1) treats them. */
            if (s->in_len - s->in_off < 2) {
                int r = fill(s); /* so that the magic is never split across two reads */
                if (r < 0)
                    return s->error = r;
            }
            if (s->in_len - s->in_off < 2 || s->in[s->in_off] != 0x1f ||
                s->in[s->in_off + 1] != 0x8b)
                return 0;
            inflateReset(&s->z);
            s->zend = false;
        }
        if (s->in_off == s->in_len) {
            int r = fill(s);
            if (r < 0)
                return s->error = r;
            if (r == 0)
                return s->error = -EPIPE; /* the stream ended inside a member */
        }
        s->z.next_in = s->in + s->in_off;
        s->z.avail_in = (uInt)(s->in_len - s->in_off);
        s->z.next_out = buf;
        s->z.avail_out = (uInt)(n > 1u << 30 ? 1u << 30 : n);
        int zr = inflate(&s->z, Z_NO_FLUSH);
        s->in_off = s->in_len - s->z.avail_in;
        size_t produced = (size_t)((unsigned char *)s->z.next_out - (unsigned char *)buf);
        if (zr == Z_STREAM_END)
            s->zend = true;
        else if (zr != Z_OK && zr != Z_BUF_ERROR)
            return s->error = -EBADMSG;
        s->total += produced;
        if (s->total > IMAGE_UNPACKED_MAX)
            return s->error = -EFBIG;
        if (produced > 0)
            return (ssize_t)produced;
    }
}

int image_unpack_layer(int blob_fd, int dir_fd, enum image_whiteout_format fmt,
                       struct kos_error **err)
{
    struct layer_src *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->fd = blob_fd;
    int r = fill(s);
    if (r < 0) {
        free(s);
        return fail(err, r, "cannot read layer blob", "");
    }
    if (s->in_len >= 4 && s->in[0] == 0x28 && s->in[1] == 0xb5 && s->in[2] == 0x2f &&
        s->in[3] == 0xfd) {
        free(s);
        return kos_error_set(err, 415, "ErrImagePull",
                             "failed to extract layer: zstd-compressed layers are not supported");
    }
    if (s->in_len >= 2 && s->in[0] == 0x1f && s->in[1] == 0x8b) {
        s->gzip = true;
        if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
            free(s);
            return -ENOMEM;
        }
        s->zinit = true;
    }
    r = image_unpack_tar(src_read, s, dir_fd, fmt, err);
    if (r < 0 && s->error == -EBADMSG)
        kos_error_set(err, 400, "ErrImagePull", "failed to extract layer: bad gzip data");
    else if (r < 0 && s->error == -EFBIG)
        kos_error_set(err, 400, "ErrImagePull",
                      "failed to extract layer: it expands past %llu bytes",
                      (unsigned long long)IMAGE_UNPACKED_MAX);
    if (s->zinit)
        inflateEnd(&s->z);
    free(s);
    return r;
}

enum image_whiteout_format image_whiteout_probe(int dir_fd)
{
    static unsigned counter;
    char name[64];
    snprintf(name, sizeof(name), ".probe-%d-%u", (int)getpid(),
             __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    (void)image_rm_rf_at(dir_fd, name);
    if (mkdirat(dir_fd, name, 0700) < 0)
        return IMAGE_WHITEOUT_MARKER;
    enum image_whiteout_format f = IMAGE_WHITEOUT_MARKER;
    _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 && mknodat(fd, "wh", S_IFCHR | 0, makedev(0, 0)) == 0 &&
        fsetxattr(fd, IMAGE_OPAQUE_XATTR, "y", 1, 0) == 0)
        f = IMAGE_WHITEOUT_OVERLAY;
    (void)image_rm_rf_at(dir_fd, name);
    return f;
}

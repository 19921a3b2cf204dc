#include "agent/image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/image/digest.h"
#include "agent/image/fsutil.h"
#include "agent/image/manifest.h"
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/buf.h"

#define REFS_MAX_BYTES    (16u << 20)
#define IMAGE_TMP_STALE_S (6 * 3600)

/* Leftovers of pulls that died (temp blobs, half-unpacked layers). A live pull writes to its
 * temp entries all the time, so only entries untouched for hours are taken. */
static void remove_stale_tmp(int tfd, time_t now)
{
    int dfd = dup(tfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == '\0' || (de->d_name[1] == '.' && de->d_name[2] == '\0')))
            continue;
        if (fstatat(tfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            st.st_mtime + IMAGE_TMP_STALE_S < now)
            (void)image_rm_rf_at(tfd, de->d_name);
    }
    closedir(d);
}

int image_store_open(const char *root_dir, struct image_store **out, struct kos_error **err)
{
    if (!root_dir || root_dir[0] != '/')
        return kos_error_set(err, 400, "BadRequest", "image store: root dir must be absolute");
    _cleanup_free_ char *dir = NULL;
    if (asprintf(&dir, "%s/images", root_dir) < 0)
        return -ENOMEM;
    static const char *const subdirs[] = {"", "/blobs/sha256", "/layers/sha256", "/tmp", "/locks"};
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
        char p[4096];
        if ((size_t)snprintf(p, sizeof(p), "%s%s", dir, subdirs[i]) >= sizeof(p))
            return kos_error_set(err, 400, "BadRequest", "image store: root dir too long");
        int r = kos_mkdir_p(p, 0700);
        if (r < 0)
            return kos_error_set(err, 500, "InternalError", "image store: cannot create %s: %s", p,
                                 strerror(-r));
    }
    struct image_store *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        int e = -errno;
        free(s);
        return kos_error_set(err, 500, "InternalError", "image store: cannot open %s: %s", dir,
                             strerror(-e));
    }
    s->dir = TAKE_PTR(dir);
    _cleanup_close_ int tfd = openat(s->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tfd >= 0)
        remove_stale_tmp(tfd, time(NULL));
    s->whiteouts = tfd >= 0 ? image_whiteout_probe(tfd) : IMAGE_WHITEOUT_MARKER;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void image_store_close(struct image_store *s)
{
    if (!s)
        return;
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    for (size_t i = 0; i < s->n_backoff; i++)
        free(s->backoff[i].key);
    free(s->backoff);
    pthread_mutex_destroy(&s->lock);
    free(s->dir);
    free(s);
}

int image_store_set_snapshotter(struct image_store *s, const char *name)
{
    if (strcmp(name, "auto") == 0)
        s->snapshotter = IMAGE_SNAPSHOTTER_AUTO;
    else if (strcmp(name, "overlay") == 0 || strcmp(name, "overlayfs") == 0)
        s->snapshotter = IMAGE_SNAPSHOTTER_OVERLAY;
    else if (strcmp(name, "copy") == 0 || strcmp(name, "native") == 0)
        s->snapshotter = IMAGE_SNAPSHOTTER_COPY;
    else
        return -EINVAL;
    return 0;
}

static void blob_rel(const char *digest, char out[128])
{
    snprintf(out, 128, "blobs/sha256/%s", image_digest_hex(digest));
}

bool image_store_has_blob(struct image_store *s, const char *digest)
{
    char rel[128];
    blob_rel(digest, rel);
    return faccessat(s->dir_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int image_store_read_blob(struct image_store *s, const char *digest, size_t max,
                          struct kos_buf *out, struct kos_error **err)
{
    char rel[128];
    blob_rel(digest, rel);
    _cleanup_close_ int fd = openat(s->dir_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    kos_buf_reset(out);
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        if (out->len + (size_t)n > max || kos_buf_append(out, buf, (size_t)n) < 0)
            return kos_error_set(err, 500, "ErrImagePull", "blob %s: too large", digest);
    }
    char got[IMAGE_DIGEST_MAX];
    int r = image_digest_of(out->data ? out->data : "", out->len, got);
    if (r < 0)
        return r;
    if (strcmp(got, digest) != 0) {
        (void)unlinkat(s->dir_fd, rel, 0); /* so that the next pull fetches it again */
        return kos_error_set(err, 500, "ErrImagePull",
                             "stored blob %s is corrupt: digest mismatch: got %s", digest, got);
    }
    return 0;
}

int image_store_tmpfile(struct image_store *s, char *path, size_t size)
{
    if ((size_t)snprintf(path, size, "%s/tmp/blob-XXXXXX", s->dir) >= size)
        return -ENAMETOOLONG;
    int fd = mkostemp(path, O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int image_store_commit_blob(struct image_store *s, const char *tmp_path, const char *digest)
{
    char rel[128], dst[4096];
    blob_rel(digest, rel);
    snprintf(dst, sizeof(dst), "%s/%s", s->dir, rel);
    if (chmod(tmp_path, 0644) < 0 || rename(tmp_path, dst) < 0)
        return -errno;
    return 0;
}

int image_store_put_blob(struct image_store *s, const char *digest, const void *data, size_t len)
{
    char tmp[4096];
    _cleanup_close_ int fd = image_store_tmpfile(s, tmp, sizeof(tmp));
    if (fd < 0)
        return fd;
    const char *p = data;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = -errno;
            unlink(tmp);
            return e;
        }
        off += (size_t)w;
    }
    int r = fsync(fd) < 0 ? -errno : image_store_commit_blob(s, tmp, digest);
    if (r < 0)
        unlink(tmp);
    return r;
}

int image_store_lock(struct image_store *s, const char *name)
{
    char rel[256];
    if ((size_t)snprintf(rel, sizeof(rel), "locks/%s", name) >= sizeof(rel))
        return -ENAMETOOLONG;
    int fd = openat(s->dir_fd, rel, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = -errno;
            close(fd);
            return e;
        }
    }
    return fd;
}

static json_t *refs_load(struct image_store *s)
{
    _cleanup_close_ int fd = openat(s->dir_fd, "refs.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return json_object();
    json_error_t je;
    json_t *j = json_loadfd(fd, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        return json_object(); /* a damaged index only costs a pull */
    }
    return j;
}

int image_store_ref_get(struct image_store *s, const char *ref, char digest[IMAGE_DIGEST_MAX])
{
    _cleanup_json_ json_t *j = refs_load(s);
    const char *d = json_string_value(json_object_get(j, ref));
    if (!d || !image_digest_valid(d))
        return -ENOENT;
    kos_strlcpy(digest, d, IMAGE_DIGEST_MAX);
    return 0;
}

/* Writes the index atomically; the caller holds the "refs" lock. */
static int refs_save(struct image_store *s, const json_t *j)
{
    _cleanup_free_ char *text = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(1));
    if (!text || strlen(text) > REFS_MAX_BYTES)
        return -ENOMEM;
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "tmp/refs-%d.json", (int)getpid());
    _cleanup_close_ int fd =
        openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(text);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        off += (size_t)w;
    }
    if (fsync(fd) < 0 || renameat(s->dir_fd, tmp, s->dir_fd, "refs.json") < 0)
        return -errno;
    return 0;
}

int image_store_ref_set(struct image_store *s, const char *ref, const char *digest)
{
    _cleanup_close_ int lk = image_store_lock(s, "refs");
    if (lk < 0)
        return lk;
    _cleanup_json_ json_t *j = refs_load(s);
    if (!j || json_object_set_new(j, ref, json_string(digest)) < 0)
        return -ENOMEM;
    return refs_save(s, j);
}

int image_store_layer_path(struct image_store *s, const char *digest, char *out, size_t size)
{
    if ((size_t)snprintf(out, size, "%s/layers/sha256/%s", s->dir, image_digest_hex(digest)) >=
        size)
        return -ENAMETOOLONG;
    return 0;
}

bool image_store_has_layer(struct image_store *s, const char *digest)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "layers/sha256/%s", image_digest_hex(digest));
    return faccessat(s->dir_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int image_store_unpack_layer(struct image_store *s, const char *digest, struct kos_error **err)
{
    if (image_store_has_layer(s, digest))
        return 0;
    char lockname[80];
    snprintf(lockname, sizeof(lockname), "layer-%s", image_digest_hex(digest));
    _cleanup_close_ int lk = image_store_lock(s, lockname);
    if (lk < 0)
        return kos_error_set(err, 500, "ErrImagePull", "cannot lock layer %s: %s", digest,
                             strerror(-lk));
    if (image_store_has_layer(s, digest))
        return 0; /* another pull unpacked it while we waited */

    char rel[128], tmp[4096], dst[4096];
    blob_rel(digest, rel);
    _cleanup_close_ int bfd = openat(s->dir_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (bfd < 0)
        return kos_error_set(err, 500, "ErrImagePull", "layer blob %s: %s", digest,
                             strerror(errno));
    snprintf(tmp, sizeof(tmp), "%s/tmp/layer-XXXXXX", s->dir);
    if (!mkdtemp(tmp))
        return kos_error_set(err, 500, "ErrImagePull", "cannot create a temp dir: %s",
                             strerror(errno));
    int r;
    _cleanup_close_ int dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 || fchmod(dfd, 0755) < 0) {
        r = kos_error_set(err, 500, "ErrImagePull", "cannot open %s: %s", tmp, strerror(errno));
        goto fail;
    }
    r = image_unpack_layer(bfd, dfd, s->whiteouts, err);
    if (r < 0)
        goto fail;
    /* The layer is complete before it gets its name. */
    if (syncfs(dfd) < 0) {
        r = -errno;
        goto fail;
    }
    image_store_layer_path(s, digest, dst, sizeof(dst));
    if (rename(tmp, dst) < 0) {
        r = kos_error_set(err, 500, "ErrImagePull", "cannot store layer %s: %s", digest,
                          strerror(errno));
        goto fail;
    }
    return 0;
fail : {
    _cleanup_close_ int tdir = openat(s->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (tdir >= 0)
        (void)image_rm_rf_at(tdir, strrchr(tmp, '/') + 1);
}
    return r;
}

/* ---- garbage collection (the kubelet's ImageGC.DeleteUnusedImages) ---- */

/* Younger than this, a blob or layer may belong to a pull that has not set its reference
 * yet, and an image may be about to get its first container. */
#define GC_MIN_AGE_S 120

static bool old_enough(int dir_fd, const char *rel, time_t now)
{
    struct stat st;
    return fstatat(dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && now - st.st_mtime >= GC_MIN_AGE_S;
}

/* Adds the manifest `digest` and everything it names (platform manifest of an index, config,
 * layers) to `live`. -EINVAL when it cannot be read: then nothing may be deleted. */
static int mark_image(struct image_store *s, const char *digest, json_t *live, int depth)
{
    if (depth > 2 || !image_digest_valid(digest))
        return -EINVAL;
    json_object_set_new(live, digest, json_true());
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, IMAGE_MANIFEST_MAX_BYTES);
    struct kos_error *err = NULL;
    int r = image_store_read_blob(s, digest, IMAGE_MANIFEST_MAX_BYTES, &b, &err);
    kos_error_free(err);
    if (r == -ENOENT)
        return 0; /* a reference to a manifest that is gone keeps nothing else */
    if (r < 0)
        return r;
    /* the store keeps no Content-Type: a document without its own mediaType is tried as an
     * OCI manifest, then as an OCI index */
    static const char *const types[] = {NULL, "application/vnd.oci.image.manifest.v1+json",
                                        "application/vnd.oci.image.index.v1+json"};
    struct image_manifest m = {0};
    for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
        err = NULL;
        r = image_manifest_parse(b.data, b.len, types[t], "linux", "amd64", &m, &err);
        kos_error_free(err);
        if (r == 0)
            break;
    }
    if (r < 0)
        return r;
    if (m.kind == IMAGE_MANIFEST_INDEX) {
        r = mark_image(s, m.platform.digest, live, depth + 1);
    } else {
        json_object_set_new(live, m.config.digest, json_true());
        for (size_t i = 0; i < m.n_layers; i++)
            json_object_set_new(live, m.layers[i].digest, json_true());
    }
    image_manifest_clear(&m);
    return r;
}

static __thread int64_t du_bytes;

static int du_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p, (void)flag, (void)f;
    du_bytes += (int64_t)sb->st_blocks * 512;
    return 0;
}

static int64_t dir_bytes(const char *path)
{
    du_bytes = 0;
    (void)nftw(path, du_cb, 16, FTW_PHYS | FTW_MOUNT);
    return du_bytes;
}

/* Removes the entries of <sub>/sha256/ that `live` does not name; adds their bytes. */
static void sweep(struct image_store *s, const char *sub, const json_t *live, time_t now,
                  int64_t *freed)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "%s/sha256", sub);
    _cleanup_close_ int dfd = openat(s->dir_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dup(dfd));
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char digest[IMAGE_DIGEST_MAX];
        if (snprintf(digest, sizeof(digest), "sha256:%s", e->d_name) >= (int)sizeof(digest) ||
            !image_digest_valid(digest) || json_object_get(live, digest))
            continue;
        char rel[400];
        if (snprintf(rel, sizeof(rel), "%s/%s", dir, e->d_name) >= (int)sizeof(rel))
            continue;
        if (!old_enough(s->dir_fd, rel, now))
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
            if (unlinkat(dfd, e->d_name, 0) == 0)
                *freed += (int64_t)st.st_blocks * 512;
        } else {
            char path[4096];
            (void)snprintf(path, sizeof(path), "%s/%s/%s", s->dir, dir, e->d_name);
            int64_t before = dir_bytes(path);
            if (image_rm_rf_at(dfd, e->d_name) == 0)
                *freed += before;
        }
    }
    closedir(d);
}

int image_store_gc(struct image_store *s, const json_t *in_use, int64_t *freed_bytes)
{
    _cleanup_close_ int lk = image_store_lock(s, "refs");
    if (lk < 0)
        return lk;
    time_t now = time(NULL);
    _cleanup_json_ json_t *refs = refs_load(s);
    _cleanup_json_ json_t *live = json_object();
    if (!refs || !live)
        return -ENOMEM;
    bool changed = false;
    const char *ref;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(refs, tmp, ref, v)
    {
        const char *digest = json_string_value(v);
        bool used = false;
        size_t i;
        json_t *u;
        json_array_foreach(in_use, i, u)
        {
            if (digest && json_string_value(u) && !strcmp(digest, json_string_value(u)))
                used = true;
        }
        char rel[128];
        if (!used && digest && image_digest_valid(digest)) {
            blob_rel(digest, rel);
            if (!old_enough(s->dir_fd, rel, now))
                used = true;
        }
        if (used)
            continue;
        json_object_del(refs, ref);
        changed = true;
    }
    int r;
    if (changed && (r = refs_save(s, refs)) < 0)
        return r;
    json_object_foreach(refs, ref, v)
    {
        if ((r = mark_image(s, json_string_value(v), live, 0)) < 0)
            return r; /* unreadable: deleting anything could break a live image */
    }
    int64_t freed = 0;
    sweep(s, "blobs", live, now, &freed);
    sweep(s, "layers", live, now, &freed);
    *freed_bytes = freed;
    return 0;
}

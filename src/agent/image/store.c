#include "agent/image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/image/digest.h"
#include "agent/image/fsutil.h"
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

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

int image_store_ref_set(struct image_store *s, const char *ref, const char *digest)
{
    _cleanup_close_ int lk = image_store_lock(s, "refs");
    if (lk < 0)
        return lk;
    _cleanup_json_ json_t *j = refs_load(s);
    if (!j || json_object_set_new(j, ref, json_string(digest)) < 0)
        return -ENOMEM;
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

/* A read-only layer of mount points over an image's layers (Docker's "init layer").
 *
 * Every container gets /proc, /dev, /sys, /etc/hosts, /etc/hostname and /etc/resolv.conf
 * mounted (and the service-account token where it mounts one). Where the image lacks the
 * mount point, runc makes it in the container's overlay upper directory: some ten inodes
 * created (and, for directories, copied up) per container start, on the node's disk. One
 * shared layer per image and variant holds them instead, made once.
 *
 * The layer must not change what the container sees: a path goes into it only if every
 * component along it is, in the image, a directory (a regular file for the leaf files) or
 * absent, and only what the image lacks is made (an empty /etc/hosts must not hide the
 * image's); an image where /etc or /var/run is a symlink keeps its symlink (the path is left
 * out, runc makes it as before). The directories copy the image's owner and mode, since the
 * top layer's attributes are what the merged directory shows. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/image/fsutil.h"
#include "agent/image/image.h"
#include "agent/image/store.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define COMPONENTS_MAX 8

/* A trailing '/' marks a directory. */
static const char *const base_points[] = {"proc/",     "dev/",         "sys/",
                                          "etc/hosts", "etc/hostname", "etc/resolv.conf"};
static const char *const sa_points[] = {"var/run/secrets/kubernetes.io/serviceaccount/"};

enum kind { KIND_ABSENT, KIND_DIR, KIND_FILE, KIND_OTHER };

struct found {
    enum kind kind;
    struct stat st; /* of the entry, when found */
};

/* What rel (no trailing '/') is in one layer, walked without following symlinks. A whiteout
 * hides the lower layers: it counts as found, absent. *hit tells whether this layer decides. */
static int kind_in_layer(int layer_fd, const char *rel, struct found *f, bool *hit)
{
    char buf[256];
    kos_strlcpy(buf, rel, sizeof(buf));
    _cleanup_close_ int dfd = fcntl(layer_fd, F_DUPFD_CLOEXEC, 3);
    if (dfd < 0)
        return -errno;
    *hit = false;
    for (char *comp = buf; comp;) {
        char *slash = strchr(comp, '/');
        if (slash)
            *slash = '\0';
        char *next = slash ? slash + 1 : NULL;
        struct stat st;
        if (fstatat(dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return errno == ENOENT ? 0 : -errno; /* not in this layer: a lower one decides */
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
            *hit = true; /* whiteout: deleted above the lower layers */
            f->kind = KIND_ABSENT;
            return 0;
        }
        if (!next) {
            *hit = true;
            f->st = st;
            f->kind = S_ISDIR(st.st_mode) ? KIND_DIR : S_ISREG(st.st_mode) ? KIND_FILE : KIND_OTHER;
            return 0;
        }
        /* a parent that is no directory here: the caller checked the parents first, and
         * found this layer's parent absent or a directory in a layer above */
        if (!S_ISDIR(st.st_mode))
            return 0;
        int nfd = openat(dfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0)
            return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        close(dfd);
        dfd = nfd;
        comp = next;
    }
    return 0;
}

/* What rel is in the image: the top-most layer that has it decides. */
static int kind_in_image(const int *layer_fds, size_t n, const char *rel, struct found *f)
{
    f->kind = KIND_ABSENT;
    for (size_t i = n; i-- > 0;) {
        bool hit;
        int r = kind_in_layer(layer_fds[i], rel, f, &hit);
        if (r < 0)
            return r;
        if (hit)
            return 0;
    }
    f->kind = KIND_ABSENT;
    return 0;
}

/* Adds one mount point to the layer being built (tmp_fd) if the image allows it. */
static int add_point(int tmp_fd, const int *layer_fds, size_t n, const char *point)
{
    char rel[256];
    kos_strlcpy(rel, point, sizeof(rel));
    size_t len = strlen(rel);
    bool leaf_dir = len > 0 && rel[len - 1] == '/';
    if (leaf_dir)
        rel[--len] = '\0';
    /* check every prefix first: nothing is made unless the whole path fits the image */
    struct found fs[COMPONENTS_MAX];
    size_t nc = 0;
    for (size_t i = 0; i <= len; i++) {
        if (rel[i] != '/' && rel[i] != '\0')
            continue;
        if (nc == COMPONENTS_MAX)
            return -E2BIG;
        char c = rel[i];
        rel[i] = '\0';
        int r = kind_in_image(layer_fds, n, rel, &fs[nc]);
        rel[i] = c;
        if (r < 0)
            return r;
        bool last = rel[i] == '\0';
        enum kind want = last && !leaf_dir ? KIND_FILE : KIND_DIR;
        if (fs[nc].kind != KIND_ABSENT && fs[nc].kind != want)
            return 0; /* the image has something else there: leave the path out */
        if (last && fs[nc].kind == want)
            return 0; /* the image has it: nothing to make (nor to hide) */
        nc++;
    }
    nc = 0;
    for (size_t i = 0; i <= len; i++) {
        if (rel[i] != '/' && rel[i] != '\0')
            continue;
        char c = rel[i];
        rel[i] = '\0';
        bool last = c == '\0';
        const struct found *f = &fs[nc++];
        mode_t mode =
            f->kind == KIND_ABSENT ? (last && !leaf_dir ? 0644 : 0755) : (f->st.st_mode & 07777);
        int r = 0;
        if (last && !leaf_dir) {
            int fd =
                openat(tmp_fd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
            if (fd < 0)
                r = -errno;
            else
                close(fd);
        } else if (mkdirat(tmp_fd, rel, mode) < 0 && errno != EEXIST) {
            r = -errno;
        }
        if (r == 0 && f->kind != KIND_ABSENT &&
            fchownat(tmp_fd, rel, f->st.st_uid, f->st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
            r = -errno;
        if (r == 0 && fchmodat(tmp_fd, rel, mode, 0) < 0) /* past the umask, after chown */
            r = -errno;
        rel[i] = c;
        if (r < 0)
            return r;
    }
    return 0;
}

static int build(struct image_store *s, const struct image_info *info, bool sa, int tmp_fd)
{
    int *fds = calloc(info->n_layers + 1, sizeof(*fds));
    if (!fds)
        return -ENOMEM;
    size_t n = 0;
    int r = 0;
    for (; n < info->n_layers; n++) {
        char lp[4096];
        if ((r = image_store_layer_path(s, info->layers[n], lp, sizeof(lp))) < 0)
            break;
        fds[n] = open(lp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fds[n] < 0) {
            r = -errno;
            break;
        }
    }
    for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(base_points); i++)
        r = add_point(tmp_fd, fds, n, base_points[i]);
    for (size_t i = 0; r >= 0 && sa && i < ARRAY_SIZE(sa_points); i++)
        r = add_point(tmp_fd, fds, n, sa_points[i]);
    for (size_t i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    return r;
}

int image_mountpoints_layer(struct image_store *s, const struct image_info *info, bool sa,
                            char *out, size_t size)
{
    const char *hex = strchr(info->config_digest, ':');
    hex = hex ? hex + 1 : info->config_digest;
    if (!*hex || strspn(hex, "0123456789abcdef") != strlen(hex) || info->n_layers == 0)
        return -EINVAL;
    char name[IMAGE_DIGEST_MAX + 16];
    snprintf(name, sizeof(name), "%s-%s", hex, sa ? "sa" : "base");
    int n = snprintf(out, size, "%s/mountpoints/%s", s->dir, name);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return 0; /* made before (layers are immutable, and so is this) */
    if (mkdirat(s->dir_fd, "mountpoints", 0755) < 0 && errno != EEXIST)
        return -errno;
    _cleanup_close_ int mfd = openat(s->dir_fd, "mountpoints", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mfd < 0)
        return -errno;
    /* built aside and renamed into place whole: a concurrent builder of the same loses the
     * rename and uses the winner's */
    char tmp[IMAGE_DIGEST_MAX + 64];
    snprintf(tmp, sizeof(tmp), ".%s.%d.%lx", name, (int)getpid(), (unsigned long)pthread_self());
    (void)image_rm_rf_at(mfd, tmp);
    if (mkdirat(mfd, tmp, 0755) < 0)
        return -errno;
    int r;
    {
        _cleanup_close_ int tfd = openat(mfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = tfd < 0 ? -errno : build(s, info, sa, tfd);
    }
    if (r >= 0 && renameat(mfd, tmp, mfd, name) < 0 && errno != EEXIST && errno != ENOTEMPTY)
        r = -errno;
    (void)image_rm_rf_at(mfd, tmp); /* the loser's copy (or a failed build) */
    if (r < 0)
        return r;
    return stat(out, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOENT;
}

/* A container's root filesystem: an overlay mount over the unpacked layers where the host
 * allows, else a copy of the layers applied in order (whiteouts honoured). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "agent/image/fsutil.h"
#include "agent/image/store.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define COPY_DEPTH_MAX 512
#define MOUNT_DATA_MAX 4000 /* the kernel takes one page of mount options */

struct link_seen {
    dev_t dev;
    ino_t ino;
    char *rel;
};

struct copier {
    int root_fd; /* the rootfs being built */
    struct link_seen *links;
    size_t n_links;
    char rel[4096]; /* path of the directory being copied, relative to the rootfs */
};

static int chown_ok(int r)
{
    return r < 0 && errno == EPERM && geteuid() != 0 ? 0 : r;
}

static void copy_xattrs(int src, int dst)
{
    char names[4096];
    ssize_t n = flistxattr(src, names, sizeof(names));
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        if (kos_str_has_prefix(name, "trusted.overlay."))
            continue;
        char val[4096];
        ssize_t vl = fgetxattr(src, name, val, sizeof(val));
        if (vl >= 0)
            (void)fsetxattr(dst, name, val, (size_t)vl, 0);
    }
}

static int copy_data(int src, int dst)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(src, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(dst, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return -errno;
            off += w;
        }
    }
}

static bool is_opaque(int dfd)
{
    char v[2];
    if (fgetxattr(dfd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y')
        return true;
    return faccessat(dfd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int copy_dir(struct copier *c, int src, int dst, int depth);

static int copy_entry(struct copier *c, int src, int dst, const char *name, int depth)
{
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    if (strcmp(name, ".wh..wh..opq") == 0)
        return 0;
    if (kos_str_has_prefix(name, ".wh."))
        return image_rm_rf_at(dst, name + 4); /* marker-format whiteout */
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
        return image_rm_rf_at(dst, name); /* overlay-format whiteout */

    struct stat dt;
    bool exists = fstatat(dst, name, &dt, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(dt.st_mode))) {
        int r = image_rm_rf_at(dst, name);
        if (r < 0)
            return r;
        exists = false;
    }
    size_t rl = strlen(c->rel);
    int n = snprintf(c->rel + rl, sizeof(c->rel) - rl, "%s%s", rl ? "/" : "", name);
    if (n < 0 || (size_t)n >= sizeof(c->rel) - rl)
        return -ENAMETOOLONG;
    int r = 0;
    if (S_ISDIR(st.st_mode)) {
        if (!exists && mkdirat(dst, name, 0700) < 0) {
            r = -errno;
            goto out;
        }
        _cleanup_close_ int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s2 < 0 || d2 < 0 || chown_ok(fchown(d2, st.st_uid, st.st_gid)) < 0 ||
            fchmod(d2, st.st_mode & 07777) < 0) {
            r = -errno;
            goto out;
        }
        copy_xattrs(s2, d2);
        r = copy_dir(c, s2, d2, depth + 1);
    } else if (S_ISREG(st.st_mode)) {
        if (st.st_nlink > 1) {
            for (size_t i = 0; i < c->n_links; i++)
                if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino) {
                    r = linkat(c->root_fd, c->links[i].rel, dst, name, 0) < 0 ? -errno : 0;
                    goto out;
                }
            struct link_seen *nl = realloc(c->links, (c->n_links + 1) * sizeof(*nl));
            if (!nl) {
                r = -ENOMEM;
                goto out;
            }
            c->links = nl;
            nl[c->n_links].dev = st.st_dev;
            nl[c->n_links].ino = st.st_ino;
            nl[c->n_links].rel = strdup(c->rel);
            if (!nl[c->n_links].rel) {
                r = -ENOMEM;
                goto out;
            }
            c->n_links++;
        }
        _cleanup_close_ int sf = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int df =
            openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (sf < 0 || df < 0) {
            r = -errno;
            goto out;
        }
        r = copy_data(sf, df);
        if (r == 0 &&
            (chown_ok(fchown(df, st.st_uid, st.st_gid)) < 0 || fchmod(df, st.st_mode & 07777) < 0))
            r = -errno;
        if (r == 0) {
            copy_xattrs(sf, df);
            struct timespec ts[2] = {st.st_atim, st.st_mtim};
            (void)futimens(df, ts);
        }
    } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t tl = readlinkat(src, name, target, sizeof(target) - 1);
        if (tl < 0) {
            r = -errno;
            goto out;
        }
        target[tl] = '\0';
        if (symlinkat(target, dst, name) < 0 ||
            chown_ok(fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)) < 0)
            r = -errno;
    } else {
        if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0 ||
            chown_ok(fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW)) < 0 ||
            fchmodat(dst, name, st.st_mode & 07777, 0) < 0)
            r = -errno;
    }
out:
    c->rel[rl] = '\0';
    return r;
}

static int copy_dir(struct copier *c, int src, int dst, int depth)
{
    if (depth > COPY_DEPTH_MAX)
        return -ELOOP;
    if (is_opaque(src)) {
        int r = image_empty_dir(dst);
        if (r < 0)
            return r;
    }
    int dfd = dup(src);
    if (dfd < 0)
        return -errno;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    int r = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        r = copy_entry(c, src, dst, de->d_name, depth);
        if (r < 0)
            break;
    }
    closedir(d);
    return r;
}

static int copy_layers(struct image_store *s, const struct image_info *info, int root_fd)
{
    for (size_t i = 0; i < info->n_layers; i++) {
        char lp[4096];
        int r = image_store_layer_path(s, info->layers[i], lp, sizeof(lp));
        if (r < 0)
            return r;
        _cleanup_close_ int lfd = open(lp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (lfd < 0)
            return -errno;
        struct copier c = {.root_fd = root_fd};
        r = copy_dir(&c, lfd, root_fd, 0);
        for (size_t k = 0; k < c.n_links; k++)
            free(c.links[k].rel);
        free(c.links);
        if (r < 0)
            return r;
    }
    return 0;
}

static int mount_overlay(struct image_store *s, const struct image_info *info, const char *dir,
                         const char *target, const char *top_layer)
{
    if (info->n_layers == 0 || s->whiteouts != IMAGE_WHITEOUT_OVERLAY)
        return -EOPNOTSUPP;
    _cleanup_buf_ struct kos_buf opts;
    kos_buf_init(&opts, MOUNT_DATA_MAX);
    int r = kos_buf_append_str(&opts, "lowerdir=");
    if (r >= 0 && top_layer) {
        if (strpbrk(top_layer, ":,"))
            return -EINVAL;
        r = kos_buf_printf(&opts, "%s:", top_layer);
    }
    /* overlayfs lists the top layer first. */
    for (size_t i = info->n_layers; r >= 0 && i-- > 0;) {
        char lp[4096];
        r = image_store_layer_path(s, info->layers[i], lp, sizeof(lp));
        if (r >= 0 && strpbrk(lp, ":,"))
            r = -EINVAL;
        if (r >= 0)
            r = kos_buf_append_str(&opts, lp);
        if (r >= 0 && i > 0)
            r = kos_buf_append_str(&opts, ":");
    }
    if (r >= 0)
        r = kos_buf_printf(&opts, ",upperdir=%s/upper,workdir=%s/work", dir, dir);
    if (r < 0)
        return r; /* -E2BIG: too many layers for one page of options; a copy will do */
    if (strpbrk(dir, ":,"))
        return -EINVAL;
    char p[4096];
    snprintf(p, sizeof(p), "%s/upper", dir);
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
        return -errno;
    snprintf(p, sizeof(p), "%s/work", dir);
    if (mkdir(p, 0700) < 0 && errno != EEXIST)
        return -errno;
    if (mkdir(target, 0755) < 0 && errno != EEXIST)
        return -errno;
    if (mount("overlay", target, "overlay", 0, opts.data) < 0)
        return -errno;
    return 0;
}

static bool is_mountpoint(const char *dir, const char *path)
{
    struct stat a, b;
    return stat(dir, &a) == 0 && lstat(path, &b) == 0 && S_ISDIR(b.st_mode) && a.st_dev != b.st_dev;
}

int image_rootfs_create(struct image_store *s, const struct image_info *info,
                        const char *container_dir, struct image_rootfs *out, struct kos_error **err)
{
    return image_rootfs_create_over(s, info, container_dir, NULL, out, err);
}

int image_rootfs_create_over(struct image_store *s, const struct image_info *info,
                             const char *container_dir, const char *top_layer,
                             struct image_rootfs *out, struct kos_error **err)
{
    struct image_rootfs rf = {0};
    if ((size_t)snprintf(rf.path, sizeof(rf.path), "%s/rootfs", container_dir) >=
        sizeof(rf.path) - 16)
        return kos_error_set(err, 400, "CreateContainerError", "container dir too long");
    if (mkdir(container_dir, 0700) < 0 && errno != EEXIST)
        return kos_error_set(err, 500, "CreateContainerError", "cannot create %s: %s",
                             container_dir, strerror(errno));
    char upper[4096];
    snprintf(upper, sizeof(upper), "%s/upper", container_dir);
    struct stat st;

    /* A restarted agent finds what it made before. */
    if (is_mountpoint(container_dir, rf.path)) {
        rf.overlay = true;
        *out = rf;
        return 0;
    }
    bool had_upper = lstat(upper, &st) == 0;
    if (!had_upper && lstat(rf.path, &st) == 0 && S_ISDIR(st.st_mode)) {
        *out = rf; /* a finished copy: copies are renamed into place only when complete */
        return 0;
    }

    int r = -EOPNOTSUPP;
    if (s->snapshotter != IMAGE_SNAPSHOTTER_COPY)
        r = mount_overlay(s, info, container_dir, rf.path, top_layer);
    if (r == 0) {
        rf.overlay = true;
        *out = rf;
        return 0;
    }
    if (s->snapshotter == IMAGE_SNAPSHOTTER_OVERLAY || had_upper)
        return kos_error_set(err, 500, "CreateContainerError",
                             "cannot mount the overlay root filesystem at %s: %s", rf.path,
                             strerror(-r));
    /* Fall back to a copy: a leftover empty mount point from the attempt goes first. */
    (void)rmdir(rf.path);
    char upper_dir[4096], work_dir[4096];
    snprintf(upper_dir, sizeof(upper_dir), "%s/upper", container_dir);
    snprintf(work_dir, sizeof(work_dir), "%s/work", container_dir);
    (void)rmdir(upper_dir);
    (void)rmdir(work_dir);

    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s/rootfs.tmp", container_dir);
    _cleanup_close_ int cfd = open(container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cfd < 0)
        return kos_error_set(err, 500, "CreateContainerError", "cannot open %s: %s", container_dir,
                             strerror(errno));
    r = image_rm_rf_at(cfd, "rootfs.tmp");
    if (r >= 0 && mkdirat(cfd, "rootfs.tmp", 0755) < 0)
        r = -errno;
    if (r >= 0) {
        _cleanup_close_ int tfd =
            openat(cfd, "rootfs.tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = tfd < 0 ? -errno : copy_layers(s, info, tfd);
    }
    if (r >= 0 && renameat(cfd, "rootfs.tmp", cfd, "rootfs") < 0)
        r = -errno;
    if (r < 0) {
        (void)image_rm_rf_at(cfd, "rootfs.tmp");
        return kos_error_set(err, 500, "CreateContainerError", "cannot copy the image into %s: %s",
                             rf.path, strerror(-r));
    }
    *out = rf;
    return 0;
}

int image_rootfs_remove(const char *container_dir)
{
    char p[4096];
    if ((size_t)snprintf(p, sizeof(p), "%s/rootfs", container_dir) >= sizeof(p))
        return -ENAMETOOLONG;
    if (is_mountpoint(container_dir, p) && umount2(p, MNT_DETACH) < 0 && errno != EINVAL)
        return -errno;
    _cleanup_close_ int cfd = open(container_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cfd < 0)
        return errno == ENOENT ? 0 : -errno;
    static const char *const names[] = {"rootfs", "rootfs.tmp", "upper", "work"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        int r = image_rm_rf_at(cfd, names[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Pod volumes on the node (see volumes.h). */
#include "agent/pods/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/quantity.h"
#include "util/fs.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MOUNT_ERR "FailedMount"
#define MAX_PATH  4096

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A relative path that stays below its base: no "..", not absolute, not empty. */
static bool safe_rel_path(const char *p)
{
    if (!p || !*p || p[0] == '/')
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return false;
        if (!e)
            break;
        s = e + 1;
    }
    return true;
}

static int write_file(const char *dir, const char *rel, const char *data, size_t len, int mode)
{
    if (!safe_rel_path(rel))
        return -EINVAL;
    char path[MAX_PATH];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    int r = kos_mkdir_p(path, 0755);
    if (r < 0)
        return r;
    *slash = '/';
    if (kos_file_has(path, data, len, (mode_t)mode & 07777))
        return 0; /* rewritten on every sync: an unchanged file stays as it is */
    /* a container reading the file sees the old or the new content, never half */
    return kos_write_file_replace(path, data, len, (mode_t)mode);
}

/* The value of key `k` in a ConfigMap (data, then binaryData) or a Secret (base64 data). */
static int key_bytes(bool secret, const json_t *obj, const char *k, char **ret, size_t *len)
{
    const char *v = jstr(json_object_get(obj, "data"), k);
    if (v && !secret) {
        *ret = strdup(v);
        *len = strlen(v);
        return *ret ? 0 : -ENOMEM;
    }
    if (!v)
        v = jstr(json_object_get(obj, "binaryData"), k);
    if (!v)
        return -ENOENT;
    return kos_base64_decode(v, strlen(v), ret, len);
}

static int lookup(const struct kos_env_ctx *ctx, const char *kind, const char *name, json_t **ret)
{
    const char *ns = jstr(json_object_get(ctx->pod, "metadata"), "namespace");
    if (!ctx->lookup)
        return -ENOENT;
    return ctx->lookup(ctx->ud, kind, ns, name, ret);
}

/* configMap / secret source: every key, or the listed items. */
static int project_object(const struct kos_env_ctx *ctx, const char *vol, const json_t *src,
                          bool secret, const char *dir, int default_mode, struct kos_error **err)
{
    const char *name = jstr(src, secret ? "secretName" : "name");
    if (!name)
        name = jstr(src, "name");
    bool optional = json_is_true(json_object_get(src, "optional"));
    _cleanup_json_ json_t *obj = NULL;
    int r = lookup(ctx, secret ? "Secret" : "ConfigMap", name ? name : "", &obj);
    if (r == -ENOENT) {
        if (optional)
            return 0;
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : %s \"%s\" not found",
                             vol, secret ? "secret" : "configmap", name ? name : "");
    }
    if (r < 0)
        return kos_error_set(err, 503, MOUNT_ERR, "MountVolume.SetUp failed for volume \"%s\" : %s",
                             vol, strerror(-r));
    json_int_t dm = json_integer_value(json_object_get(src, "defaultMode"));
    int mode = json_object_get(src, "defaultMode") ? (int)dm : default_mode;
    const json_t *items = json_object_get(src, "items");
    if (json_array_size(items) > 0) {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *k = jstr(it, "key"), *p = jstr(it, "path");
            _cleanup_free_ char *data = NULL;
            size_t len = 0;
            if (key_bytes(secret, obj, k ? k : "", &data, &len) < 0) {
                if (optional)
                    continue;
                return kos_error_set(err, 422, MOUNT_ERR,
                                     "MountVolume.SetUp failed for volume \"%s\" : configmap "
                                     "references non-existent config key: %s",
                                     vol, k ? k : "");
            }
            int m = json_object_get(it, "mode")
                        ? (int)json_integer_value(json_object_get(it, "mode"))
                        : mode;
            if ((r = write_file(dir, p ? p : "", data, len, m)) < 0)
                return kos_error_set(err, 422, MOUNT_ERR,
                                     "MountVolume.SetUp failed for volume \"%s\" : %s: %s", vol,
                                     p ? p : "", strerror(-r));
        }
        return 0;
    }
    const char *fields[] = {"data", "binaryData"};
    for (size_t f = 0; f < (secret ? 1u : 2u); f++) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(obj, fields[f]), k, v)
        {
            _cleanup_free_ char *data = NULL;
            size_t len = 0;
            if (key_bytes(secret, obj, k, &data, &len) < 0)
                continue;
            if ((r = write_file(dir, k, data, len, mode)) < 0)
                return kos_error_set(err, 422, MOUNT_ERR,
                                     "MountVolume.SetUp failed for volume \"%s\" : %s: %s", vol, k,
                                     strerror(-r));
        }
    }
    return 0;
}

static int project_downward(const struct kos_env_ctx *ctx, const char *vol, const json_t *src,
                            const char *dir, int default_mode, struct kos_error **err)
{
    int mode = json_object_get(src, "defaultMode")
                   ? (int)json_integer_value(json_object_get(src, "defaultMode"))
                   : default_mode;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(src, "items"), i, it)
    {
        _cleanup_free_ char *val = NULL;
        int r;
        const json_t *rf = json_object_get(it, "resourceFieldRef");
        if (json_object_get(it, "fieldRef")) {
            r = kos_pod_field_value(ctx, jstr(json_object_get(it, "fieldRef"), "fieldPath"), &val,
                                    err);
        } else if (rf) {
            const char *cname = jstr(rf, "containerName");
            const json_t *c = NULL;
            size_t j;
            json_t *cc;
            json_array_foreach(json_object_get(json_object_get(ctx->pod, "spec"), "containers"), j,
                               cc) if (cname && kos_streq_null(jstr(cc, "name"), cname)) c = cc;
            r = kos_pod_resource_value(ctx, c, jstr(rf, "resource"), jstr(rf, "divisor"), &val,
                                       err);
        } else {
            continue;
        }
        if (r < 0)
            return r;
        int m = json_object_get(it, "mode") ? (int)json_integer_value(json_object_get(it, "mode"))
                                            : mode;
        const char *p = jstr(it, "path");
        if ((r = write_file(dir, p ? p : "", val, strlen(val), m)) < 0)
            return kos_error_set(err, 422, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"%s\" : %s: %s", vol,
                                 p ? p : "", strerror(-r));
    }
    return 0;
}

static int host_path_check(const char *vol, const char *path, const char *type,
                           struct kos_error **err)
{
    struct stat st;
    int r = stat(path, &st);
    if (!type || !*type)
        return 0;
    if (strcmp(type, "DirectoryOrCreate") == 0) {
        if (r < 0 && (r = kos_mkdir_p(path, 0755)) < 0)
            return kos_error_set(err, 422, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"%s\" : %s", vol,
                                 strerror(-r));
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
    } else if (strcmp(type, "FileOrCreate") == 0) {
        if (r < 0) {
            int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            if (fd >= 0)
                close(fd);
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return 0;
    } else if (r == 0 && ((strcmp(type, "Directory") == 0 && S_ISDIR(st.st_mode)) ||
                          (strcmp(type, "File") == 0 && S_ISREG(st.st_mode)) ||
                          (strcmp(type, "Socket") == 0 && S_ISSOCK(st.st_mode)) ||
                          (strcmp(type, "CharDevice") == 0 && S_ISCHR(st.st_mode)) ||
                          (strcmp(type, "BlockDevice") == 0 && S_ISBLK(st.st_mode)))) {
        return 0;
    }
    const char *what = strstr(type, "Directory")         ? "directory"
                       : strstr(type, "File")            ? "file"
                       : strcmp(type, "Socket") == 0     ? "socket"
                       : strcmp(type, "CharDevice") == 0 ? "character device"
                                                         : "block device";
    return kos_error_set(err, 422, MOUNT_ERR,
                         "MountVolume.SetUp failed for volume \"%s\" : hostPath type check "
                         "failed: %s is not a %s",
                         vol, path, what);
}

static int pvc_path(const struct kos_env_ctx *ctx, const char *vol, const json_t *src,
                    const char **ret_path, json_t **keep, struct kos_error **err)
{
    const char *claim = jstr(src, "claimName");
    _cleanup_json_ json_t *pvc = NULL;
    int r = lookup(ctx, "PersistentVolumeClaim", claim ? claim : "", &pvc);
    if (r < 0)
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : "
                             "persistentvolumeclaim \"%s\" not found",
                             vol, claim ? claim : "");
    const char *pv_name = jstr(json_object_get(pvc, "spec"), "volumeName");
    if (!pv_name || !*pv_name)
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : "
                             "persistentvolumeclaim \"%s\" is not bound",
                             vol, claim);
    json_t *pv = NULL;
    if (lookup(ctx, "PersistentVolume", pv_name, &pv) < 0)
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : "
                             "persistentvolume \"%s\" not found",
                             vol, pv_name);
    const json_t *spec = json_object_get(pv, "spec");
    const char *p = jstr(json_object_get(spec, "hostPath"), "path");
    if (!p)
        p = jstr(json_object_get(spec, "local"), "path");
    if (!p) {
        json_decref(pv);
        return kos_error_set(err, 422, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : persistentvolume "
                             "\"%s\" is neither hostPath nor local, which this node cannot mount",
                             vol, pv_name);
    }
    if (json_object_get(json_object_get(spec, "hostPath"), "path")) {
        r = host_path_check(vol, p, jstr(json_object_get(spec, "hostPath"), "type"), err);
        if (r < 0) {
            json_decref(pv);
            return r;
        }
    }
    *ret_path = p;
    *keep = pv;
    return 0;
}

static int empty_dir(const char *vol, const json_t *src, const char *dir, struct kos_error **err)
{
    int r = kos_mkdir_p(dir, 0777);
    if (r < 0)
        return kos_error_set(err, 500, MOUNT_ERR, "MountVolume.SetUp failed for volume \"%s\" : %s",
                             vol, strerror(-r));
    chmod(dir, 0777); /* the kubelet's emptyDir mode: any container user may write */
    if (!kos_streq_null(jstr(src, "medium"), "Memory"))
        return 0;
    struct stat st, parent;
    char up[MAX_PATH + 8];
    snprintf(up, sizeof(up), "%s/..", dir);
    if (stat(dir, &st) == 0 && stat(up, &parent) == 0 && st.st_dev != parent.st_dev)
        return 0; /* already mounted (agent restart) */
    char opts[64] = "mode=1777";
    const char *limit = jstr(src, "sizeLimit");
    struct kos_quantity q;
    if (limit && kos_quantity_parse(limit, &q) == 0 && kos_quantity_value(&q) > 0)
        snprintf(opts, sizeof(opts), "mode=1777,size=%lld", (long long)kos_quantity_value(&q));
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return kos_error_set(err, 500, MOUNT_ERR,
                             "MountVolume.SetUp failed for volume \"%s\" : mount tmpfs: %s", vol,
                             strerror(errno));
    return 0;
}

int kos_pod_volumes_setup(const struct kos_env_ctx *ctx, const char *pod_dir, json_t **ret_paths,
                          struct kos_error **err)
{
    _cleanup_json_ json_t *paths = json_object();
    if (!paths)
        return -ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_object_get(ctx->pod, "spec"), "volumes"), i, v)
    {
        const char *name = jstr(v, "name");
        if (!name || !safe_rel_path(name) || strchr(name, '/'))
            return kos_error_set(err, 422, MOUNT_ERR, "invalid volume name");
        char dir[MAX_PATH];
        snprintf(dir, sizeof(dir), "%s/volumes/%s", pod_dir, name);
        const char *host = dir;
        _cleanup_json_ json_t *keep = NULL;
        const json_t *src;
        int r = 0;
        if ((src = json_object_get(v, "emptyDir"))) {
            r = empty_dir(name, src, dir, err);
        } else if ((src = json_object_get(v, "hostPath"))) {
            host = jstr(src, "path");
            if (!host || host[0] != '/')
                return kos_error_set(err, 422, MOUNT_ERR,
                                     "hostPath of volume \"%s\" must be "
                                     "absolute",
                                     name);
            r = host_path_check(name, host, jstr(src, "type"), err);
        } else if ((src = json_object_get(v, "persistentVolumeClaim"))) {
            r = pvc_path(ctx, name, src, &host, &keep, err);
        } else if ((src = json_object_get(v, "configMap")) ||
                   (src = json_object_get(v, "secret")) ||
                   (src = json_object_get(v, "downwardAPI")) ||
                   (src = json_object_get(v, "projected"))) {
            /* Content volumes are rewritten in place, file by file (rename), on every sync:
             * the directory itself must stay, running containers have it bind-mounted. (Keys
             * removed from the source stay until the pod goes: no atomic ..data swap yet.) */
            if ((r = kos_mkdir_p(dir, 0755)) < 0)
                return kos_error_set(err, 500, MOUNT_ERR, "%s: %s", dir, strerror(-r));
            if (json_object_get(v, "configMap"))
                r = project_object(ctx, name, src, false, dir, 0644, err);
            else if (json_object_get(v, "secret"))
                r = project_object(ctx, name, src, true, dir, 0644, err);
            else if (json_object_get(v, "downwardAPI"))
                r = project_downward(ctx, name, src, dir, 0644, err);
            else {
                int mode = json_object_get(src, "defaultMode")
                               ? (int)json_integer_value(json_object_get(src, "defaultMode"))
                               : 0644;
                size_t j;
                json_t *s;
                json_array_foreach(json_object_get(src, "sources"), j, s)
                {
                    const json_t *x;
                    if ((x = json_object_get(s, "configMap")))
                        r = project_object(ctx, name, x, false, dir, mode, err);
                    else if ((x = json_object_get(s, "secret")))
                        r = project_object(ctx, name, x, true, dir, mode, err);
                    else if ((x = json_object_get(s, "downwardAPI")))
                        r = project_downward(ctx, name, x, dir, mode, err);
                    else if ((x = json_object_get(s, "serviceAccountToken")) && ctx->sa_token)
                        r = ctx->sa_token(ctx->ud, ctx->pod, pod_dir, name, x, dir, mode, err);
                    else
                        r = kos_error_set(err, 422, MOUNT_ERR,
                                          "MountVolume.SetUp failed for volume \"%s\" : this "
                                          "node cannot project %s sources",
                                          name,
                                          x ? "serviceAccountToken (no API server issues "
                                              "tokens)"
                                            : "clusterTrustBundle");
                    if (r < 0)
                        break;
                }
            }
        } else {
            return kos_error_set(err, 422, MOUNT_ERR,
                                 "MountVolume.SetUp failed for volume \"%s\" : this node "
                                 "supports emptyDir, hostPath, configMap, secret, downwardAPI, "
                                 "projected and persistentVolumeClaim volumes",
                                 name);
        }
        if (r < 0)
            return r;
        if (json_object_set_new(paths, name, json_string(host)) < 0)
            return -ENOMEM;
    }
    *ret_paths = TAKE_PTR(paths);
    return 0;
}

static int umount_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    /* the emptyDirs sit at depth 1 below volumes/ */
    if (f->level == 1)
        umount2(p, MNT_DETACH);
    return 0;
}

int kos_pod_volumes_teardown(const char *pod_dir)
{
    char dir[MAX_PATH];
    snprintf(dir, sizeof(dir), "%s/volumes", pod_dir);
    if (access(dir, F_OK) < 0)
        return 0;
    /* tmpfs emptyDirs: unmount first (FTW_MOUNT keeps the walk on this filesystem, so the
     * mount points themselves are seen, their contents are not). */
    nftw(dir, umount_cb, 16, FTW_PHYS | FTW_MOUNT);
    kos_rm_rf(dir);
    return access(dir, F_OK) == 0 ? -EBUSY : 0;
}

int kos_pod_container_mounts(const json_t *container, const json_t *paths,
                             struct kos_pod_mounts *ret, struct kos_error **err)
{
    const json_t *vms = json_object_get(container, "volumeMounts");
    size_t n = json_array_size(vms);
    _cleanup_free_ struct kos_oci_mount *m = calloc(n ? n : 1, sizeof(*m));
    _cleanup_json_ json_t *strings = json_array();
    if (!m || !strings)
        return -ENOMEM;
    size_t i;
    json_t *vm;
    json_array_foreach(vms, i, vm)
    {
        const char *name = jstr(vm, "name"), *dst = jstr(vm, "mountPath");
        const char *host = jstr(paths, name ? name : "");
        if (!host || !dst || dst[0] != '/')
            return kos_error_set(err, 422, "CreateContainerConfigError",
                                 "cannot find volume \"%s\" to mount into container \"%s\"",
                                 name ? name : "", jstr(container, "name"));
        const char *sub = jstr(vm, "subPath");
        char src[MAX_PATH];
        if (sub && *sub) {
            if (!safe_rel_path(sub))
                return kos_error_set(err, 422, "CreateContainerConfigError",
                                     "failed to prepare subPath for volumeMount \"%s\" of "
                                     "container \"%s\"",
                                     name, jstr(container, "name"));
            snprintf(src, sizeof(src), "%s/%s", host, sub);
            struct stat st;
            if (lstat(src, &st) < 0)
                kos_mkdir_p(src, 0755);
            /* a symlink could lead outside the volume: resolve and check */
            _cleanup_free_ char *real = realpath(src, NULL);
            _cleanup_free_ char *rbase = realpath(host, NULL);
            size_t bl = rbase ? strlen(rbase) : 0;
            if (!real || !rbase || strncmp(real, rbase, bl) != 0 ||
                (real[bl] != '/' && real[bl] != '\0'))
                return kos_error_set(err, 422, "CreateContainerConfigError",
                                     "failed to prepare subPath for volumeMount \"%s\" of "
                                     "container \"%s\"",
                                     name, jstr(container, "name"));
            kos_strlcpy(src, real, sizeof(src));
        } else {
            kos_strlcpy(src, host, sizeof(src));
        }
        json_array_append_new(strings, json_string(src));
        m[i].source = json_string_value(json_array_get(strings, json_array_size(strings) - 1));
        m[i].destination = dst;
        m[i].readonly = json_is_true(json_object_get(vm, "readOnly"));
    }
    ret->m = TAKE_PTR(m);
    ret->n = n;
    ret->strings = TAKE_PTR(strings);
    return 0;
}

void kos_pod_mounts_free(struct kos_pod_mounts *m)
{
    if (!m)
        return;
    free(m->m);
    json_decref(m->strings);
    m->m = NULL;
    m->strings = NULL;
    m->n = 0;
}

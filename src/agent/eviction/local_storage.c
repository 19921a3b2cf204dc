/* Local ephemeral storage limit evictions: the rules and the du-like measuring. */
#include "agent/eviction/local_storage.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/eviction/message.h"
#include "api/quantity.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define ES "ephemeral-storage"

void evict_storage_usage_clear(struct evict_storage_usage *u)
{
    if (!u)
        return;
    free(u->volume_bytes);
    free(u->container_bytes);
    *u = (struct evict_storage_usage){0};
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A quantity string's value (rounded up) and whether it prints as BinarySI. */
static bool quantity(const char *s, int64_t *v, bool *binary)
{
    struct kos_quantity q;
    if (!s || strlen(s) > KOS_QUANTITY_MAX_LEN || kos_quantity_parse(s, &q) < 0)
        return false;
    *v = kos_quantity_value(&q);
    if (binary)
        *binary = s[0] && s[strlen(s) - 1] == 'i';
    return true;
}

static const char *limit_of(const json_t *c)
{
    return jstr(json_object_get(json_object_get(c, "resources"), "limits"), ES);
}

static const json_t *spec_of(const json_t *pod)
{
    return json_object_get(pod, "spec");
}

bool evict_local_storage_limited(const json_t *pod)
{
    const json_t *spec = spec_of(pod);
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        if (jstr(json_object_get(v, "emptyDir"), "sizeLimit"))
            return true;
    }
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
        json_array_foreach(json_object_get(spec, lists[l]), i, v)
        {
            if (limit_of(v))
                return true;
        }
    return false;
}

/* resourcehelper.PodLimits for ephemeral-storage: Σ app containers + Σ restartable init
 * containers, at least each other init container's limit plus the sidecars started before
 * it, plus the overhead. found: some container has the limit. binary: how the sum prints (the
 * format of the first quantity added). */
static bool pod_limit(const json_t *spec, int64_t *ret, bool *binary)
{
    bool found = false, first = true;
    int64_t sum = 0, sidecars = 0, init_max = 0, v;
    bool b;
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c)
    {
        if (!quantity(limit_of(c), &v, &b))
            continue;
        if (first)
            *binary = b;
        first = false;
        found = true;
        sum += v;
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
    {
        v = 0;
        if (quantity(limit_of(c), &v, &b)) {
            if (first)
                *binary = b;
            first = false;
            found = true;
        }
        if (kos_streq_null(jstr(c, "restartPolicy"), "Always"))
            sidecars += v;
        else if (v + sidecars > init_max)
            init_max = v + sidecars;
    }
    if (!found)
        return false;
    int64_t total = sum + sidecars > init_max ? sum + sidecars : init_max;
    if (quantity(jstr(json_object_get(spec, "overhead"), ES), &v, NULL))
        total += v;
    *ret = total;
    return true;
}

static int message(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int message(char **ret, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    char *m = strdup(buf);
    if (!m)
        return -ENOMEM;
    *ret = m;
    return 1;
}

int evict_local_storage_check(const json_t *pod, const struct evict_storage_usage *u,
                              char **ret_msg)
{
    const json_t *spec = spec_of(pod);
    size_t i;
    const json_t *v;
    char q[48];
    int64_t lim;
    bool binary = false;
    /* emptyDirLimitEviction: a positive sizeLimit, and usage strictly above it */
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        const char *size = jstr(json_object_get(v, "emptyDir"), "sizeLimit");
        if (!size || i >= u->n_volumes || u->volume_bytes[i] < 0 ||
            !quantity(size, &lim, &binary) || lim <= 0 || u->volume_bytes[i] <= lim)
            continue;
        evict_format_quantity(lim, binary, q, sizeof(q));
        return message(ret_msg, "Usage of EmptyDir volume \"%s\" exceeds the limit \"%s\". ",
                       jstr(v, "name") ? jstr(v, "name") : "", q);
    }
    /* podEphemeralStorageLimitEviction */
    if (u->pod_bytes >= 0 && pod_limit(spec, &lim, &binary) && u->pod_bytes > lim) {
        evict_format_quantity(lim, binary, q, sizeof(q));
        return message(ret_msg,
                       "Pod ephemeral local storage usage exceeds the total limit of containers "
                       "%s. ",
                       q);
    }
    /* containerEphemeralStorageLimitEviction: app containers with a non-zero limit */
    json_array_foreach(json_object_get(spec, "containers"), i, v)
    {
        if (i >= u->n_containers || u->container_bytes[i] < 0 ||
            !quantity(limit_of(v), &lim, &binary) || lim == 0 || u->container_bytes[i] <= lim)
            continue;
        evict_format_quantity(lim, binary, q, sizeof(q));
        return message(ret_msg, "Container %s exceeded its local ephemeral storage limit \"%s\". ",
                       jstr(v, "name") ? jstr(v, "name") : "", q);
    }
    return 0;
}

/* ---- measuring ---- */

#define LINKS_MAX 1024 /* hard-linked inodes remembered per walk; past it each counts */

struct du_walk {
    int64_t bytes, inodes, entries;
    size_t n_links;
    struct {
        dev_t dev;
        ino_t ino;
    } links[LINKS_MAX];
};

static __thread struct du_walk *walk;

static bool seen_link(const struct stat *sb)
{
    for (size_t i = 0; i < walk->n_links; i++)
        if (walk->links[i].dev == sb->st_dev && walk->links[i].ino == sb->st_ino)
            return true;
    if (walk->n_links < LINKS_MAX) {
        walk->links[walk->n_links].dev = sb->st_dev;
        walk->links[walk->n_links].ino = sb->st_ino;
        walk->n_links++;
    }
    return false;
}

static int du_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p;
    (void)f;
    if (++walk->entries > EVICT_DU_MAX_ENTRIES)
        return FTW_STOP;
    if (flag == FTW_NS)
        return FTW_CONTINUE; /* gone between readdir and stat */
    if (!S_ISDIR(sb->st_mode) && sb->st_nlink > 1 && seen_link(sb))
        return FTW_CONTINUE;
    walk->bytes += (int64_t)sb->st_blocks * 512;
    walk->inodes++;
    return FTW_CONTINUE;
}

int evict_du(const char *path, int64_t *ret_bytes, int64_t *ret_inodes)
{
    _cleanup_free_ struct du_walk *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    walk = w;
    /* FTW_MOUNT: stay on the filesystem the walk starts on, as DiskUsage skips other devices */
    int r = nftw(path, du_cb, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
    walk = NULL;
    if (r < 0 && errno != ENOENT)
        return -errno;
    *ret_bytes = w->bytes;
    if (ret_inodes)
        *ret_inodes = w->inodes;
    return 0;
}

static int64_t du_bytes(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t du_bytes(const char *fmt, ...)
{
    char path[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    int64_t b = 0;
    if (n < 0 || (size_t)n >= sizeof(path) || evict_du(path, &b, NULL) < 0)
        return 0;
    return b;
}

/* The writable layers of every attempt of the pod's containers found under
 * root_dir/containers ("<uid>_<name>_<attempt>"), added to bytes[] by container index. */
static void writable_layers(const json_t *spec, const char *uid, const char *root_dir, size_t n_app,
                            int64_t *bytes)
{
    char dir[4096];
    if (snprintf(dir, sizeof(dir), "%s/containers", root_dir) >= (int)sizeof(dir))
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t ul = strlen(uid);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, uid, ul) != 0 || e->d_name[ul] != '_')
            continue;
        const char *name = e->d_name + ul + 1;
        const char *us = strrchr(name, '_');
        if (!us || us == name)
            continue;
        size_t nl = (size_t)(us - name);
        size_t k = 0;
        const json_t *c = NULL;
        static const char *const lists[] = {"containers", "initContainers"};
        for (size_t l = 0; l < ARRAY_SIZE(lists) && !c; l++) {
            size_t i;
            const json_t *x;
            json_array_foreach(json_object_get(spec, lists[l]), i, x)
            {
                const char *cn = jstr(x, "name");
                if (cn && strlen(cn) == nl && !memcmp(cn, name, nl)) {
                    c = x;
                    k = (l == 0 ? 0 : n_app) + i;
                    break;
                }
            }
        }
        if (!c)
            continue;
        /* overlay: the upper dir is the writable layer; a copied rootfs is all writable */
        char upper[4400];
        if (snprintf(upper, sizeof(upper), "%s/%s/upper", dir, e->d_name) >= (int)sizeof(upper))
            continue;
        if (access(upper, F_OK) == 0)
            bytes[k] += du_bytes("%s", upper);
        else
            bytes[k] += du_bytes("%s/%s/rootfs", dir, e->d_name);
    }
    closedir(d);
}

int evict_storage_usage_read(const json_t *pod, const char *root_dir, const char *pod_log_dir,
                             struct evict_storage_usage *ret)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *spec = spec_of(pod);
    const char *uid = jstr(meta, "uid"), *ns = jstr(meta, "namespace"), *name = jstr(meta, "name");
    if (!uid || !ns || !name || strchr(uid, '/') || strchr(uid, '.'))
        return -EINVAL;
    const json_t *vols = json_object_get(spec, "volumes");
    size_t n_vol = json_array_size(vols);
    size_t n_app = json_array_size(json_object_get(spec, "containers"));
    size_t n_all = n_app + json_array_size(json_object_get(spec, "initContainers"));
    _cleanup_free_ int64_t *vb = calloc(n_vol ? n_vol : 1, sizeof(*vb));
    _cleanup_free_ int64_t *cb = calloc(n_all ? n_all : 1, sizeof(*cb));
    if (!vb || !cb)
        return -ENOMEM;
    int64_t total = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(vols, i, v)
    {
        const char *vn = jstr(v, "name");
        const json_t *ed = json_object_get(v, "emptyDir");
        vb[i] = -1;
        if (!vn || strchr(vn, '/') || !strcmp(vn, "..") ||
            (!ed && !json_object_get(v, "configMap")))
            continue;
        vb[i] = du_bytes("%s/pods/%s/volumes/%s", root_dir, uid, vn);
        /* IsLocalEphemeralVolume: a memory-backed emptyDir is not the node's disk */
        if (!ed || !kos_streq_null(jstr(ed, "medium"), "Memory"))
            total += vb[i];
    }
    writable_layers(spec, uid, root_dir, n_app, cb);
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
        json_array_foreach(json_object_get(spec, lists[l]), i, v)
        {
            const char *cn = jstr(v, "name");
            size_t k = (l == 0 ? 0 : n_app) + i;
            if (cn && !strchr(cn, '/') && strcmp(cn, ".."))
                cb[k] += du_bytes("%s/%s_%s_%s/%s", pod_log_dir, ns, name, uid, cn);
            total += cb[k];
        }
    total += du_bytes("%s/pods/%s/etc-hosts", root_dir, uid);
    *ret = (struct evict_storage_usage){.n_volumes = n_vol,
                                        .volume_bytes = TAKE_PTR(vb),
                                        .n_containers = n_app,
                                        .container_bytes = TAKE_PTR(cb),
                                        .pod_bytes = total};
    return 0;
}

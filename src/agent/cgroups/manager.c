/* Creating, writing and removing the kubelet's cgroup tree under --cgroup-root, in every
 * mounted hierarchy (v1 controllers, the hybrid v2 tree, or the unified tree). */
#include "agent/cgroups/cgroups.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"

#define CG_PATH_MAX 1024

struct cg_manager {
    struct cg_host host;
    char root[512]; /* "" for "/", else "/a/b" without a trailing slash */
};

static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 255 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == '\0' || s[i] == '\n' || (unsigned char)s[i] < 0x20)
            return false;
    return true;
}

int cg_manager_new(const struct cg_host *host, const char *cgroup_root, struct cg_manager **ret)
{
    if (!host || !cgroup_root || cgroup_root[0] != '/')
        return -EINVAL;
    struct cg_manager *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->host = *host;
    size_t used = 0;
    const char *p = cgroup_root;
    while (*p) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        if (!valid_name(p, n) || used + n + 2 > sizeof(m->root)) {
            free(m);
            return -EINVAL;
        }
        m->root[used++] = '/';
        memcpy(m->root + used, p, n);
        used += n;
        m->root[used] = '\0';
        p += n;
    }
    *ret = m;
    return 0;
}

void cg_manager_free(struct cg_manager *m)
{
    free(m);
}

const struct cg_host *cg_manager_host(const struct cg_manager *m)
{
    return &m->host;
}

static const char *tier_of(enum agent_qos q)
{
    switch (q) {
    case AGENT_QOS_BURSTABLE:
        return "/burstable";
    case AGENT_QOS_BEST_EFFORT:
        return "/besteffort";
    case AGENT_QOS_GUARANTEED:
        break;
    }
    return "";
}

int cg_manager_pod_name(const struct cg_manager *m, enum agent_qos qos, const char *uid, char *out,
                        size_t size)
{
    if (!uid || !valid_name(uid, strlen(uid)) || strlen(uid) > 128)
        return -EINVAL;
    int n = snprintf(out, size, "%s/kubepods%s/pod%s", m->root, tier_of(qos), uid);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_manager_container_path(const struct cg_manager *m, enum agent_qos qos, const char *uid,
                              const char *container_id, char *out, size_t size)
{
    char pod[CG_PATH_MAX];
    int r = cg_manager_pod_name(m, qos, uid, pod, sizeof(pod));
    if (r < 0)
        return r;
    if (!container_id || !valid_name(container_id, strlen(container_id)))
        return -EINVAL;
    int n = snprintf(out, size, "%s/%s", pod, container_id);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_manager_pod_dir(const struct cg_manager *m, enum agent_qos qos, const char *uid,
                       const char *controller, char *out, size_t size)
{
    const struct cg_hierarchy *h = cg_host_controller(&m->host, controller ? controller : "");
    if (!h)
        return -ENOENT;
    char pod[CG_PATH_MAX];
    int r = cg_manager_pod_name(m, qos, uid, pod, sizeof(pod));
    if (r < 0)
        return r;
    int n = snprintf(out, size, "%s%s", h->mount, pod);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_manager_kubepods_dir(const struct cg_manager *m, const char *controller, char *out,
                            size_t size)
{
    const struct cg_hierarchy *h = cg_host_controller(&m->host, controller ? controller : "");
    if (!h)
        return -ENOENT;
    int n = snprintf(out, size, "%s%s/kubepods", h->mount, m->root);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- files ---- */

static int write_file(const char *dir, const char *file, const char *value)
{
    char path[CG_PATH_MAX + 64];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    /* O_CREAT changes nothing on cgroupfs (its files exist or cannot be made) and lets the
     * unit tests run the manager on plain directories */
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    if (w < 0)
        return -errno;
    return (size_t)w == len ? 0 : -EIO;
}

static int write_int(const char *dir, const char *file, int64_t v)
{
    char s[32];
    snprintf(s, sizeof(s), "%" PRId64, v);
    return write_file(dir, file, s);
}

static int read_file(const char *dir, const char *file, char *out, size_t size)
{
    char path[CG_PATH_MAX + 64];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= sizeof(path))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, out, size - 1);
    if (r < 0)
        return -errno;
    out[r] = '\0';
    while (r > 0 && (out[r - 1] == '\n' || out[r - 1] == ' '))
        out[--r] = '\0';
    return 0;
}

/* A new v1 cpuset cgroup starts with no cpus and mems, and no task may join it: copy the
 * parent's (what runc does for the directories it makes). */
static int cpuset_inherit(const char *dir)
{
    char parent[CG_PATH_MAX];
    kos_strlcpy(parent, dir, sizeof(parent));
    char *slash = strrchr(parent, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < 2; i++) {
        char cur[4096], val[4096];
        if (read_file(dir, files[i], cur, sizeof(cur)) < 0 || cur[0])
            continue;
        if (read_file(parent, files[i], val, sizeof(val)) == 0 && val[0]) {
            int r = write_file(dir, files[i], val);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

/* v2: a child only gets the controllers its parent delegates. */
static void enable_subtree(const char *dir)
{
    static const char *const ctrls[] = {"+cpu", "+memory", "+pids", "+cpuset", "+io", "+hugetlb"};
    for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
        (void)write_file(dir, "cgroup.subtree_control", ctrls[i]);
}

/* mkdir -p of mount + name, one level at a time. */
static int ensure_dir(const struct cg_hierarchy *h, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s", h->mount);
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    size_t used = (size_t)n;
    const char *p = name;
    bool cpuset = !h->v2 && strstr(h->options, "cpuset") != NULL;
    while (*p) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (h->v2)
            enable_subtree(out);
        if (used + len + 2 > size)
            return -ENAMETOOLONG;
        out[used++] = '/';
        memcpy(out + used, p, len);
        used += len;
        out[used] = '\0';
        p += len;
        if (mkdir(out, 0755) < 0) {
            if (errno != EEXIST)
                return -errno;
        } else if (cpuset) {
            int r = cpuset_inherit(out);
            if (r < 0)
                return r;
        }
    }
    return 0;
}

static bool has_ctrl(const struct cg_host *host, const struct cg_hierarchy *h, const char *ctrl)
{
    return cg_host_controller(host, ctrl) == h;
}

/* Writes the values that belong to hierarchy h into dir. */
static int apply(const struct cg_host *host, const struct cg_hierarchy *h, const char *dir,
                 const struct cg_resources *res)
{
    int r = 0;
    if (has_ctrl(host, h, "cpu")) {
        if (h->v2) {
            if (res->cpu_shares > 0 &&
                (r = write_int(dir, "cpu.weight", cg_shares_to_weight(res->cpu_shares))) < 0)
                return r;
            if (res->cpu_quota != 0 || res->cpu_period > 0) {
                char v[64];
                int64_t period = res->cpu_period > 0 ? res->cpu_period : CG_QUOTA_PERIOD;
                if (res->cpu_quota > 0)
                    snprintf(v, sizeof(v), "%" PRId64 " %" PRId64, res->cpu_quota, period);
                else
                    snprintf(v, sizeof(v), "max %" PRId64, period);
                if ((r = write_file(dir, "cpu.max", v)) < 0)
                    return r;
            }
        } else {
            if (res->cpu_shares > 0 && (r = write_int(dir, "cpu.shares", res->cpu_shares)) < 0)
                return r;
            if (res->cpu_period > 0 &&
                (r = write_int(dir, "cpu.cfs_period_us", res->cpu_period)) < 0)
                return r;
            if (res->cpu_quota != 0 &&
                (r = write_int(dir, "cpu.cfs_quota_us", res->cpu_quota > 0 ? res->cpu_quota : -1)) <
                    0)
                return r;
        }
    }
    if (has_ctrl(host, h, "memory") && res->memory_limit > 0) {
        if ((r = write_int(dir, h->v2 ? "memory.max" : "memory.limit_in_bytes",
                           res->memory_limit)) < 0)
            return r;
    }
    if (has_ctrl(host, h, "pids") && res->pids_max != 0) {
        if (res->pids_max > 0)
            r = write_int(dir, "pids.max", res->pids_max);
        else
            r = write_file(dir, "pids.max", "max");
        if (r < 0)
            return r;
    }
    return 0;
}

/* Creates name in every hierarchy and writes res (NULL: nothing) where it belongs. */
static int ensure_everywhere(struct cg_manager *m, const char *name, const struct cg_resources *res)
{
    for (size_t i = 0; i < m->host.n; i++) {
        const struct cg_hierarchy *h = &m->host.h[i];
        char dir[CG_PATH_MAX];
        int r = ensure_dir(h, name, dir, sizeof(dir));
        if (r < 0)
            return r;
        if (res && (r = apply(&m->host, h, dir, res)) < 0)
            return r;
    }
    return 0;
}

int cg_manager_ensure_node(struct cg_manager *m, const struct cg_resources *kubepods)
{
    char name[CG_PATH_MAX];
    snprintf(name, sizeof(name), "%s/kubepods", m->root);
    int r = ensure_everywhere(m, name, kubepods);
    if (r < 0)
        return r;
    struct cg_resources be = {.cpu_shares = CG_MIN_SHARES};
    snprintf(name, sizeof(name), "%s/kubepods/besteffort", m->root);
    if ((r = ensure_everywhere(m, name, &be)) < 0)
        return r;
    snprintf(name, sizeof(name), "%s/kubepods/burstable", m->root);
    return ensure_everywhere(m, name, NULL);
}

int cg_manager_set_burstable_cpu(struct cg_manager *m, int64_t milli_cpu_requests)
{
    const struct cg_hierarchy *h = cg_host_controller(&m->host, "cpu");
    if (!h)
        return -ENOENT;
    char dir[CG_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s%s/kubepods/burstable", h->mount, m->root);
    struct cg_resources res = {.cpu_shares = cg_milli_cpu_to_shares(milli_cpu_requests)};
    return apply(&m->host, h, dir, &res);
}

int cg_manager_ensure_pod(struct cg_manager *m, const json_t *pod)
{
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    struct cg_resources res;
    int r = cg_pod_resources(pod, &res);
    if (r < 0)
        return r;
    char name[CG_PATH_MAX];
    if ((r = cg_manager_pod_name(m, agent_qos_of_pod(pod), uid, name, sizeof(name))) < 0)
        return r;
    return ensure_everywhere(m, name, &res);
}

/* rmdir of dir after its child cgroups (container cgroups runc left), bottom-up. */
static int remove_tree(const char *dir, int depth)
{
    if (depth > 16)
        return -ELOOP;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    int r = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char sub[CG_PATH_MAX];
        int n = snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(sub)) {
            r = -ENAMETOOLONG;
            continue;
        }
        int q = remove_tree(sub, depth + 1);
        if (q < 0 && r == 0)
            r = q;
    }
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT && r == 0)
        r = -errno;
    return r;
}

int cg_manager_remove_pod(struct cg_manager *m, const char *uid)
{
    static const enum agent_qos all[] = {AGENT_QOS_GUARANTEED, AGENT_QOS_BURSTABLE,
                                         AGENT_QOS_BEST_EFFORT};
    int ret = 0;
    for (size_t q = 0; q < ARRAY_SIZE(all); q++) {
        char name[CG_PATH_MAX];
        int r = cg_manager_pod_name(m, all[q], uid, name, sizeof(name));
        if (r < 0)
            return r;
        for (size_t i = 0; i < m->host.n; i++) {
            char dir[CG_PATH_MAX + 256];
            snprintf(dir, sizeof(dir), "%s%s", m->host.h[i].mount, name);
            r = remove_tree(dir, 0);
            if (r < 0 && ret == 0)
                ret = r;
        }
    }
    return ret;
}

bool cg_manager_pod_exists(const struct cg_manager *m, const char *uid)
{
    static const enum agent_qos all[] = {AGENT_QOS_GUARANTEED, AGENT_QOS_BURSTABLE,
                                         AGENT_QOS_BEST_EFFORT};
    for (size_t q = 0; q < ARRAY_SIZE(all); q++)
        for (size_t i = 0; i < m->host.n; i++) {
            char name[CG_PATH_MAX], dir[CG_PATH_MAX + 256];
            struct stat st;
            if (cg_manager_pod_name(m, all[q], uid, name, sizeof(name)) < 0)
                return false;
            snprintf(dir, sizeof(dir), "%s%s", m->host.h[i].mount, name);
            if (stat(dir, &st) == 0)
                return true;
        }
    return false;
}

static int list_dir_pods(const char *dir, json_t *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *e;
    int r = 0;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || strncmp(e->d_name, "pod", 3) != 0 || !e->d_name[3])
            continue;
        if (json_array_append_new(out, json_string(e->d_name + 3)) < 0) {
            r = -ENOMEM;
            break;
        }
    }
    closedir(d);
    return r;
}

int cg_manager_list_pods(const struct cg_manager *m, json_t **ret)
{
    json_t *out = json_array();
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < m->host.n; i++) {
        char dir[CG_PATH_MAX + 256];
        struct stat st;
        snprintf(dir, sizeof(dir), "%s%s/kubepods", m->host.h[i].mount, m->root);
        if (stat(dir, &st) < 0)
            continue;
        static const char *const tiers[] = {"", "/burstable", "/besteffort"};
        for (size_t t = 0; t < ARRAY_SIZE(tiers); t++) {
            char sub[CG_PATH_MAX + 300];
            snprintf(sub, sizeof(sub), "%s%s", dir, tiers[t]);
            int r = list_dir_pods(sub, out);
            if (r < 0) {
                json_decref(out);
                return r;
            }
        }
        break;
    }
    *ret = out;
    return 0;
}

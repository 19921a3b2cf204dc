/* Reads the node's and the pods' usage for the eviction manager. */
#include "agent/eviction/signals.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"

int64_t evict_working_set(int64_t usage, int64_t inactive_file)
{
    return usage > inactive_file ? usage - inactive_file : 0;
}

/* A file holding one integer ("max" reads as INT64_MAX). */
static int read_i64(const char *dir, const char *file, int64_t *ret)
{
    char path[4096];
    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
        return -ENAMETOOLONG;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return n < 0 ? -errno : -EIO;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (!strcmp(buf, "max")) {
        *ret = INT64_MAX;
        return 0;
    }
    return kos_parse_int64(buf, ret);
}

/* One "key value" line of a stat file (memory.stat, /proc/meminfo with its "key:" form). */
static int read_keyed(const char *path, const char *key, int64_t *ret)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[256];
    size_t kl = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, kl) != 0 || (line[kl] != ' ' && line[kl] != ':'))
            continue;
        const char *p = line + kl + 1;
        while (*p == ' ')
            p++;
        char *end = NULL;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            return -EINVAL;
        *ret = v;
        return 0;
    }
    return -ENOENT;
}

int evict_cgroup_memory(const char *dir, bool v2, int64_t *working_set, int64_t *usage)
{
    char stat[4096];
    if (snprintf(stat, sizeof(stat), "%s/memory.stat", dir) >= (int)sizeof(stat))
        return -ENAMETOOLONG;
    int64_t u, inactive = 0;
    int r = read_i64(dir, v2 ? "memory.current" : "memory.usage_in_bytes", &u);
    if (r < 0)
        return r;
    /* v1: total_ counts the whole subtree as usage_in_bytes does */
    if (read_keyed(stat, v2 ? "inactive_file" : "total_inactive_file", &inactive) < 0)
        inactive = 0;
    *working_set = evict_working_set(u, inactive);
    if (usage)
        *usage = u;
    return 0;
}

static int node_memory(const struct evict_sources *src, struct evict_observation *ret)
{
    const struct cg_host *host = cg_manager_host(src->cgroups);
    const struct cg_hierarchy *h = cg_host_controller(host, "memory");
    if (!h)
        return -ENOENT;
    int64_t ws;
    if (!h->v2) {
        int r = evict_cgroup_memory(h->mount, false, &ws, NULL);
        if (r < 0)
            return r;
    } else {
        /* the root of the unified tree has no memory.current: MemTotal − MemFree */
        char meminfo[512], stat[512];
        snprintf(meminfo, sizeof(meminfo), "%s/meminfo", src->proc);
        snprintf(stat, sizeof(stat), "%s/memory.stat", h->mount);
        int64_t total, free_kb, inactive = 0;
        int r;
        if ((r = read_keyed(meminfo, "MemTotal", &total)) < 0 ||
            (r = read_keyed(meminfo, "MemFree", &free_kb)) < 0)
            return r;
        if (read_keyed(stat, "inactive_file", &inactive) < 0)
            inactive = 0;
        ws = evict_working_set((total - free_kb) * 1024, inactive);
    }
    *ret = (struct evict_observation){
        .present = true, .available = src->memory_capacity - ws, .capacity = src->memory_capacity};
    return 0;
}

static int allocatable_memory(const struct evict_sources *src, struct evict_observation *ret)
{
    const struct cg_hierarchy *h = cg_host_controller(cg_manager_host(src->cgroups), "memory");
    char dir[4096];
    if (!h)
        return -ENOENT;
    int r = cg_manager_kubepods_dir(src->cgroups, h->v2 ? "" : "memory", dir, sizeof(dir));
    if (r < 0)
        return r;
    int64_t ws, limit;
    if ((r = evict_cgroup_memory(dir, h->v2, &ws, NULL)) < 0 ||
        (r = read_i64(dir, h->v2 ? "memory.max" : "memory.limit_in_bytes", &limit)) < 0)
        return r;
    /* an unlimited kubepods (v1 reports a page-rounded INT64_MAX) is bounded by the machine */
    if (limit > src->memory_capacity)
        limit = src->memory_capacity;
    *ret = (struct evict_observation){.present = true, .available = limit - ws, .capacity = limit};
    return 0;
}

static int fs(const char *dir, struct evict_observation *bytes, struct evict_observation *inodes,
              dev_t *dev)
{
    struct statvfs st;
    struct stat sb;
    if (statvfs(dir, &st) < 0 || stat(dir, &sb) < 0)
        return -errno;
    uint64_t bs = st.f_frsize ? st.f_frsize : st.f_bsize;
    *bytes = (struct evict_observation){.present = true,
                                        .available = (int64_t)(st.f_bavail * bs),
                                        .capacity = (int64_t)(st.f_blocks * bs)};
    /* a filesystem without inode accounting (f_files 0) has no inode signal */
    if (st.f_files > 0)
        *inodes = (struct evict_observation){
            .present = true, .available = (int64_t)st.f_ffree, .capacity = (int64_t)st.f_files};
    *dev = sb.st_dev;
    return 0;
}

static int pids(const struct evict_sources *src, struct evict_observation *ret)
{
    char path[512];
    int64_t max = -1;
    static const char *const files[] = {"sys/kernel/pid_max", "sys/kernel/threads-max"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", src->proc, files[i]);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        long long v;
        if (!f || fscanf(f, "%lld", &v) != 1 || v <= 0)
            return -EINVAL;
        if (max < 0 || v < max)
            max = v;
    }
    /* the tasks field of /proc/loadavg ("0.01 0.02 0.00 1/203 4711"): sysinfo(2) truncates
     * past 65535 */
    snprintf(path, sizeof(path), "%s/loadavg", src->proc);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    long long running, total;
    if (!f || fscanf(f, "%*s %*s %*s %lld/%lld", &running, &total) != 2)
        return -EINVAL;
    *ret = (struct evict_observation){.present = true, .available = max - total, .capacity = max};
    return 0;
}

int evict_observe(const struct evict_sources *src, struct evict_observations *ret)
{
    struct evict_observations o = {0};
    (void)node_memory(src, &o.o[EVICT_SIG_MEMORY]);
    (void)allocatable_memory(src, &o.o[EVICT_SIG_ALLOCATABLE_MEMORY]);
    dev_t node_dev = 0, image_dev = 0;
    if (src->nodefs_dir && fs(src->nodefs_dir, &o.o[EVICT_SIG_NODEFS],
                              &o.o[EVICT_SIG_NODEFS_INODES], &node_dev) == 0) {
        o.o[EVICT_SIG_CONTAINERFS] = o.o[EVICT_SIG_NODEFS];
        o.o[EVICT_SIG_CONTAINERFS_INODES] = o.o[EVICT_SIG_NODEFS_INODES];
    }
    /* without a store of its own the image filesystem is nodefs (the runtime's ImageFs then
     * reports the same numbers) */
    const char *img = src->imagefs_dir && access(src->imagefs_dir, F_OK) == 0 ? src->imagefs_dir
                                                                              : src->nodefs_dir;
    if (img && fs(img, &o.o[EVICT_SIG_IMAGEFS], &o.o[EVICT_SIG_IMAGEFS_INODES], &image_dev) == 0)
        o.separate_imagefs = image_dev != node_dev;
    (void)pids(src, &o.o[EVICT_SIG_PID]);
    *ret = o;
    return 0;
}

/* ---- pods ---- */

/* "<uid>_<name>_<attempt>" -> name */
static bool container_name(const char *id, const char *uid, char *out, size_t size)
{
    size_t ul = strlen(uid);
    if (strncmp(id, uid, ul) != 0 || id[ul] != '_')
        return false;
    const char *name = id + ul + 1;
    const char *us = strrchr(name, '_');
    if (!us || us == name || (size_t)(us - name) >= size)
        return false;
    memcpy(out, name, (size_t)(us - name));
    out[us - name] = '\0';
    return true;
}

static int64_t count_procs(const char *dir, int depth)
{
    char path[4096];
    int64_t n = 0;
    if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) < (int)sizeof(path)) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char line[32];
        while (f && fgets(line, sizeof(line), f))
            n++;
    }
    if (depth > 4)
        return n;
    DIR *d = opendir(dir);
    if (!d)
        return n;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
            n += count_procs(path, depth + 1);
    }
    closedir(d);
    return n;
}

static __thread int64_t walk_bytes, walk_inodes;

static int walk_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)p;
    (void)flag;
    (void)f;
    walk_bytes += (int64_t)sb->st_blocks * 512;
    walk_inodes++;
    return 0;
}

int evict_pod_stats_read(const struct cg_manager *cgroups, enum agent_qos qos, const char *uid,
                         const char *const *pod_dirs, bool with_disk, struct evict_pod_stats *ret)
{
    struct evict_pod_stats st = {0};
    const struct cg_hierarchy *h = cg_host_controller(cg_manager_host(cgroups), "memory");
    char dir[4096];
    int r;
    if (!h)
        return -ENOENT;
    if ((r = cg_manager_pod_dir(cgroups, qos, uid, h->v2 ? "" : "memory", dir, sizeof(dir))) < 0)
        return r;
    if ((r = evict_cgroup_memory(dir, h->v2, &st.memory, NULL)) < 0)
        return r;
    st.found = true;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && st.n_containers < EVICT_MAX_CONTAINERS) {
            char sub[4096], name[64];
            int64_t ws;
            if (e->d_type != DT_DIR || !container_name(e->d_name, uid, name, sizeof(name)) ||
                snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
                evict_cgroup_memory(sub, h->v2, &ws, NULL) < 0)
                continue;
            /* a restarted container leaves its old attempt's cgroup briefly: sum them */
            size_t i;
            for (i = 0; i < st.n_containers; i++)
                if (!strcmp(st.containers[i].name, name))
                    break;
            if (i == st.n_containers) {
                kos_strlcpy(st.containers[i].name, name, sizeof(st.containers[i].name));
                st.n_containers++;
            }
            st.containers[i].memory += ws;
        }
        closedir(d);
    }
    char pids_dir[4096];
    int64_t n;
    if (cg_manager_pod_dir(cgroups, qos, uid, h->v2 ? "" : "pids", pids_dir, sizeof(pids_dir)) ==
            0 &&
        read_i64(pids_dir, "pids.current", &n) == 0)
        st.processes = n;
    else
        st.processes = count_procs(dir, 0);
    if (with_disk && pod_dirs) {
        walk_bytes = walk_inodes = 0;
        for (size_t i = 0; pod_dirs[i]; i++)
            (void)nftw(pod_dirs[i], walk_cb, 16, FTW_PHYS | FTW_MOUNT);
        st.disk = walk_bytes;
        st.inodes = walk_inodes;
    }
    *ret = st;
    return 0;
}

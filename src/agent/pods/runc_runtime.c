/* The pod runtime on runc/crun (implements pod_runtime.h): init containers in order, then the
 * containers; images through agent/image; environment, volumes and the OCI spec; containers
 * under the shim; restarts with the kubelet's CrashLoopBackOff; status from the shims' state.
 *
 * Containers are named "<pod uid>_<container name>_<attempt>": what the shims left on disk is
 * enough to find every pod's containers again after the agent restarts. The latest two
 * attempts of each container are kept (state and logs: `kubectl logs --previous`). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/image/image.h"
#include "agent/network/pod_files.h"
#include "agent/network/podnet.h"
#include "agent/pods/backoff.h"
#include "agent/pods/env.h"
#include "agent/pods/exit_watch.h"
#include "agent/pods/pod_probes.h"
#include "agent/pods/pod_runtime.h"
#include "agent/pods/pod_status.h"
#include "agent/pods/sa_token.h"
#include "agent/pods/volumes.h"
#include "controllers/events.h"
#include "agent/runtime/attach.h"
#include "agent/runtime/container.h"
#include "agent/runtime/oci_spec.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define MAX_CTRS 64
#define POLL_MS  1000

/* a container's imageID as the status shows it */
struct image_id {
    char s[IMAGE_REF_MAX + IMAGE_DIGEST_MAX];
};

struct pod_entry {
    char uid[64];
    char start_time[40];
    json_t *pod;       /* last seen */
    json_t *waiting;   /* container name -> {reason, message}: errors before a start */
    json_t *images;    /* container name -> imageID */
    bool dns_warned;   /* MissingClusterDNS recorded */
    char pod_ip[64];   /* its own address ("": the node's, hostNetwork or no pod network) */
    char netns[1400];  /* its network namespace ("": the node's) */
    char net_err[512]; /* the last network set-up failure reported (events once each) */
    struct {
        char name[256];
        struct kos_crash_backoff b;
    } backoff[MAX_CTRS];
    size_t n_backoff;
    struct pod_entry *next;
};

struct rt {
    struct pod_runtime_env env;
    /* the agent's own env: it fills `agent` in only after pod_runtime_new returned */
    const struct pod_runtime_env *live_env;
    char root[1024];
    char state_root[1100];
    char runtime_root[1100];
    char pods_dir[1100];
    struct kos_runtime crt;
    struct image_store *images;
    struct kos_event_recorder *events; /* the kubelet's FailedMount warnings */
    struct kos_prober *prober;         /* liveness, readiness and startup probes */
    struct exit_watch *exits;          /* the exits of the containers started here */
    pthread_mutex_t lock;
    struct pod_entry *pods;
};

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)f;
    if (flag == FTW_DP)
        rmdir(p);
    else
        unlink(p);
    return 0;
}

static struct pod_entry *entry_get(struct rt *rt, const char *uid, bool create)
{
    for (struct pod_entry *e = rt->pods; e; e = e->next)
        if (strcmp(e->uid, uid) == 0)
            return e;
    if (!create)
        return NULL;
    struct pod_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    kos_strlcpy(e->uid, uid, sizeof(e->uid));
    e->waiting = json_object();
    e->images = json_object();
    e->next = rt->pods;
    rt->pods = e;
    return e;
}

static void entry_free(struct pod_entry *e)
{
    json_decref(e->pod);
    json_decref(e->waiting);
    json_decref(e->images);
    free(e);
}

static struct kos_crash_backoff *backoff_of(struct pod_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n_backoff; i++)
        if (strcmp(e->backoff[i].name, name) == 0)
            return &e->backoff[i].b;
    if (e->n_backoff == MAX_CTRS)
        return &e->backoff[MAX_CTRS - 1].b;
    kos_strlcpy(e->backoff[e->n_backoff].name, name, sizeof(e->backoff[0].name));
    return &e->backoff[e->n_backoff++].b;
}

static void container_id(const char *uid, const char *name, int attempt, char *out, size_t size)
{
    snprintf(out, size, "%s_%s_%d", uid, name, attempt);
}

/* The latest attempt number of a container (-1: none), from the state directories. */
static int latest_attempt(struct rt *rt, const char *uid, const char *name)
{
    char **ids = NULL;
    size_t n = 0;
    if (kos_container_list(&rt->crt, &ids, &n) < 0)
        return -1;
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s_%s_", uid, name);
    size_t pl = strlen(prefix);
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        int64_t a;
        if (strncmp(ids[i], prefix, pl) == 0 && kos_parse_int64(ids[i] + pl, &a) == 0 && a >= 0 &&
            a < 1000000 && a > best)
            best = (int)a;
        free(ids[i]);
    }
    free(ids);
    return best;
}

static void log_path(struct rt *rt, const json_t *pod, const char *uid, const char *name,
                     int attempt, char *out, size_t size)
{
    const json_t *meta = json_object_get(pod, "metadata");
    snprintf(out, size, "%s/%s_%s_%s/%s/%d.log", rt->env.pod_log_dir, jstr(meta, "namespace"),
             jstr(meta, "name"), uid, name, attempt);
}

static int api_lookup(void *ud, const char *kind, const char *ns, const char *name, json_t **ret)
{
    struct rt *rt = ud;
    if (!rt->env.client)
        return -ENOENT;
    const struct kos_kind *k = kos_client_kind_of("v1", kind);
    if (!k)
        return -EINVAL;
    struct kos_ref ref = {.kind = k, .ns = ns, .name = name};
    return kos_client_get(rt->env.client, &ref, ret, NULL);
}

static int token_fetch(void *ud, const char *ns, const char *name, const json_t *body, json_t **ret,
                       struct kos_error **err)
{
    struct rt *rt = ud;
    if (!rt->env.client)
        return -ENOENT;
    struct kos_ref ref = {
        .kind = kos_client_kind_of("v1", "ServiceAccount"), .ns = ns, .name = name, .sub = "token"};
    if (!ref.kind)
        return -EINVAL;
    return kos_client_create(rt->env.client, &ref, body, ret, err);
}

/* kos_env_ctx.sa_token */
static int project_token(void *ud, const json_t *pod, const char *pod_dir, const char *vol,
                         const json_t *src, const char *dir, int mode, struct kos_error **err)
{
    return kos_sa_token_project(pod, pod_dir, vol, src, dir, mode, token_fetch, ud, err);
}

static void set_waiting(struct pod_entry *e, const char *name, const char *reason,
                        const char *message)
{
    json_object_set_new(e->waiting, name,
                        json_pack("{ssss}", "reason", reason, "message", message ? message : ""));
}

/* Writes a file that containers have bind-mounted: in place (a rename would leave their
 * mounts on the old inode), and only when its content changed (every sync writes it). */
static int write_shared_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (kos_file_has(path, data, len, 0644))
        return 0;
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || fchmod(fd, 0644) < 0 || ftruncate(fd, 0) < 0)
        return -errno;
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Files every container of the pod shares: /etc/hosts, /etc/hostname, /etc/resolv.conf
 * (agent/network/pod_files.h has their texts). *missing_dns tells the kubelet's
 * MissingClusterDNS fallback. */
static int pod_files(const json_t *pod, const char *pod_dir, const char *pod_ip, bool *missing_dns)
{
    char node_name[256] = "";
    gethostname(node_name, sizeof(node_name) - 1);
    char hostname[64];
    kos_pod_hostname(pod, node_name, hostname, sizeof(hostname));
    char hostname_line[sizeof(hostname) + 1];
    snprintf(hostname_line, sizeof(hostname_line), "%s\n", hostname);
    _cleanup_free_ char *node_hosts = NULL, *node_resolv = NULL;
    size_t len;
    (void)kos_read_file("/etc/hosts", 1 << 20, &node_hosts, &len);
    (void)kos_read_file("/etc/resolv.conf", 1 << 20, &node_resolv, &len);
    _cleanup_buf_ struct kos_buf hosts, resolv;
    kos_buf_init(&hosts, 2 << 20);
    kos_buf_init(&resolv, 1 << 20);
    int r = kos_pod_hosts_content(pod, pod_ip, node_hosts, node_name, &hosts);
    if (r == 0)
        r = kos_pod_resolv_content(pod, node_resolv, missing_dns, &resolv);
    if (r < 0)
        return r;
    const struct {
        const char *name;
        const char *text;
        size_t len;
    } files[] = {
        {"etc-hosts", hosts.data ? hosts.data : "", hosts.len},
        {"etc-hostname", hostname_line, strlen(hostname_line)},
        {"resolv.conf", resolv.data ? resolv.data : "", resolv.len},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if ((r = write_shared_file(pod_dir, files[i].name, files[i].text, files[i].len)) < 0)
            return r;
    return 0;
}

static void parse_user(const char *user, uint32_t *uid, uint32_t *gid)
{
    /* numeric "uid" or "uid:gid" only: names need the image's /etc/passwd */
    if (!user || !*user)
        return;
    char buf[64];
    kos_strlcpy(buf, user, sizeof(buf));
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    int64_t v;
    if (kos_parse_int64(buf, &v) == 0 && v >= 0 && v <= UINT32_MAX)
        *uid = (uint32_t)v;
    if (colon && kos_parse_int64(colon + 1, &v) == 0 && v >= 0 && v <= UINT32_MAX)
        *gid = (uint32_t)v;
}

static json_t *str_list(char **v)
{
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static int64_t sec_ctx_int(const json_t *c, const json_t *pod_sc, const char *key, bool *found)
{
    const json_t *v = json_object_get(json_object_get(c, "securityContext"), key);
    if (!v)
        v = json_object_get(pod_sc, key);
    *found = json_is_integer(v);
    return json_integer_value(v);
}

/* Pulls, prepares and starts attempt `attempt` of container c. Errors before the start are
 * recorded as the container's waiting reason; a failed start is recorded by the shim. */
/* The kubelet's value, raised to what the agent may set at all. */
static int container_oom_adj(struct rt *rt, const json_t *pod, const json_t *c)
{
    static int floor_adj = 1001;
    int f = __atomic_load_n(&floor_adj, __ATOMIC_RELAXED);
    if (f == 1001) {
        f = cg_oom_score_adj_floor();
        __atomic_store_n(&floor_adj, f, __ATOMIC_RELAXED);
    }
    int v = rt->env.memory_capacity > 0 ? cg_oom_score_adj(pod, c, rt->env.memory_capacity) : 0;
    return v < f ? f : v;
}

static int start_container(struct rt *rt, struct pod_entry *e, const struct pod_runtime_pod *p,
                           const json_t *c, int attempt, const char *pod_dir, const json_t *vols)
{
    const json_t *pod = p->pod;
    const char *name = jstr(c, "name"), *image = jstr(c, "image");
    _cleanup_error_ struct kos_error *err = NULL;
    char key[512];
    snprintf(key, sizeof(key), "%s/%s", p->uid, image ? image : "");
    time_t now = time(NULL);
    if (image_backoff_check(rt->images, key, image ? image : "", now, &err) < 0) {
        set_waiting(e, name, err->reason, err->message);
        return -EAGAIN;
    }
    enum image_pull_policy policy;
    if (image_pull_policy_parse(jstr(c, "imagePullPolicy"), &policy) < 0)
        policy = IMAGE_PULL_DEFAULT;
    struct image_info info = {0};
    if (image_pull(rt->images, image ? image : "", policy, NULL, &info, &err) < 0) {
        image_backoff_record(rt->images, key, false, now);
        set_waiting(e, name, err ? err->reason : "ErrImagePull", err ? err->message : "");
        return -EAGAIN;
    }
    image_backoff_record(rt->images, key, true, now);
    char image_id[IMAGE_REF_MAX + IMAGE_DIGEST_MAX];
    {
        struct image_ref ref;
        if (image_ref_parse(info.ref, &ref, NULL) == 0) {
            ref.tag[0] = '\0';
            ref.digest[0] = '\0';
            char base[IMAGE_REF_MAX];
            image_ref_format(&ref, base, sizeof(base));
            snprintf(image_id, sizeof(image_id), "%s@%s", base, info.digest);
        } else {
            snprintf(image_id, sizeof(image_id), "%s", info.digest);
        }
    }
    json_object_set_new(e->images, name, json_string(image_id));

    int r;
    struct kos_env_ctx ectx = {.pod = pod,
                               .host_ip = rt->env.host_ip,
                               .pod_ip = e->pod_ip[0] ? e->pod_ip : rt->env.host_ip,
                               .node_milli_cpu = sysconf(_SC_NPROCESSORS_ONLN) * 1000,
                               .node_memory = rt->env.memory_capacity,
                               .lookup = api_lookup,
                               .ud = rt};
    _cleanup_json_ json_t *image_env = str_list(info.env);
    _cleanup_json_ json_t *env = NULL, *env_map = NULL, *args = NULL, *spec = NULL;
    if ((r = kos_pod_env(&ectx, c, image_env, &env, &env_map, &err)) < 0) {
        set_waiting(e, name, "CreateContainerConfigError", err ? err->message : strerror(-r));
        image_info_clear(&info);
        return r;
    }
    _cleanup_json_ json_t *ep = str_list(info.entrypoint), *icmd = str_list(info.cmd);
    if (kos_oci_process_args(json_object_get(c, "command"), json_object_get(c, "args"), ep, icmd,
                             env_map, &args) < 0) {
        set_waiting(e, name, "CreateContainerError",
                    "failed to generate container spec: no command specified");
        image_info_clear(&info);
        return -EINVAL;
    }
    struct kos_pod_mounts pm = {0};
    if ((r = kos_pod_container_mounts(c, vols, &pm, &err)) < 0) {
        set_waiting(e, name, "CreateContainerConfigError", err ? err->message : strerror(-r));
        image_info_clear(&info);
        return r;
    }
    /* the pod's files, unless the container mounts something there itself */
    struct kos_oci_mount all[128];
    size_t n = 0;
    char hosts[4200], hostname[4200], resolv[4200];
    snprintf(hosts, sizeof(hosts), "%s/etc-hosts", pod_dir);
    snprintf(hostname, sizeof(hostname), "%s/etc-hostname", pod_dir);
    snprintf(resolv, sizeof(resolv), "%s/resolv.conf", pod_dir);
    const struct kos_oci_mount files[] = {
        {"/etc/hosts", hosts, false},
        {"/etc/hostname", hostname, false},
        {"/etc/resolv.conf", resolv, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        bool taken = false;
        for (size_t j = 0; j < pm.n; j++)
            taken |= strcmp(pm.m[j].destination, files[i].destination) == 0;
        if (!taken)
            all[n++] = files[i];
    }
    for (size_t j = 0; j < pm.n && n < ARRAY_SIZE(all); j++)
        all[n++] = pm.m[j];

    char id[512], dir[4096];
    container_id(p->uid, name, attempt, id, sizeof(id));
    if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0 || kos_mkdir_p(dir, 0755) < 0) {
        set_waiting(e, name, "CreateContainerError", "invalid container name");
        kos_pod_mounts_free(&pm);
        image_info_clear(&info);
        return -EINVAL;
    }
    struct image_rootfs rootfs;
    if ((r = image_rootfs_create(rt->images, &info, dir, &rootfs, &err)) < 0) {
        set_waiting(e, name, "CreateContainerError", err ? err->message : strerror(-r));
        kos_pod_mounts_free(&pm);
        image_info_clear(&info);
        return r;
    }
    struct cg_resources res = {0};
    cg_container_resources(c, &res);
    char cg_path[1024] = "";
    if (rt->env.cgroups)
        cg_manager_container_path(rt->env.cgroups, p->qos, p->uid, id, cg_path, sizeof(cg_path));
    const json_t *pod_sc = json_object_get(json_object_get(pod, "spec"), "securityContext");
    const json_t *sc = json_object_get(c, "securityContext");
    uint32_t uid = 0, gid = 0;
    parse_user(info.user, &uid, &gid);
    bool found;
    int64_t v = sec_ctx_int(c, pod_sc, "runAsUser", &found);
    if (found)
        uid = (uint32_t)v;
    v = sec_ctx_int(c, pod_sc, "runAsGroup", &found);
    if (found)
        gid = (uint32_t)v;
    _cleanup_json_ json_t *gids = json_array();
    size_t gi;
    json_t *g;
    json_array_foreach(json_object_get(pod_sc, "supplementalGroups"), gi, g)
        json_array_append(gids, g);
    if (json_is_integer(json_object_get(pod_sc, "fsGroup")))
        json_array_append(gids, json_object_get(pod_sc, "fsGroup"));
    const json_t *ape = json_object_get(sc, "allowPrivilegeEscalation");
    const char *wd = jstr(c, "workingDir");
    int oom_adj = container_oom_adj(rt, pod, c);
    struct kos_oci_params op = {
        .rootfs = rootfs.path,
        .readonly_rootfs = json_is_true(json_object_get(sc, "readOnlyRootFilesystem")),
        .hostname = jstr(json_object_get(pod, "metadata"), "name"),
        .args = args,
        .env = env,
        .cwd = wd && *wd ? wd : info.working_dir,
        .uid = uid,
        .gid = gid,
        .additional_gids = gids,
        /* the kubelet sets no_new_privs only when allowPrivilegeEscalation is false */
        .no_new_privileges = json_is_false(ape),
        .privileged = json_is_true(json_object_get(sc, "privileged")),
        .cap_add = json_object_get(json_object_get(sc, "capabilities"), "add"),
        .cap_drop = json_object_get(json_object_get(sc, "capabilities"), "drop"),
        .host_network = !e->netns[0],
        .netns_path = e->netns,
        /* containerd gives a hostNetwork sandbox the node's UTS namespace as well */
        .host_uts = json_is_true(json_object_get(json_object_get(pod, "spec"), "hostNetwork")),
        .cgroups_path = cg_path,
        .oom_score_adj = oom_adj,
        .resources = {.cpu_shares = res.cpu_shares,
                      .cpu_quota = res.cpu_quota,
                      .cpu_period = res.cpu_period,
                      .memory_limit = res.memory_limit},
        .mounts = all,
        .n_mounts = n,
    };
    if (jstr(json_object_get(pod, "spec"), "hostname"))
        op.hostname = jstr(json_object_get(pod, "spec"), "hostname");
    r = kos_oci_spec_build(&op, &spec, &err);
    if (r == 0) /* kubectl attach: a stdin the shim keeps open */
        kos_attach_mark_spec(spec, json_is_true(json_object_get(c, "stdin")),
                             json_is_true(json_object_get(c, "stdinOnce")),
                             json_is_true(json_object_get(c, "tty")));
    kos_pod_mounts_free(&pm);
    image_info_clear(&info);
    if (r < 0) {
        set_waiting(e, name, "CreateContainerError", err ? err->message : strerror(-r));
        return r;
    }
    char cfg[4200];
    snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    if (json_dump_file(spec, cfg, JSON_COMPACT) < 0) {
        set_waiting(e, name, "CreateContainerError", "cannot write the container's config.json");
        return -EIO;
    }
    snprintf(cfg, sizeof(cfg), "%s/image-id", dir);
    FILE *f = fopen(cfg, "we");
    if (f) {
        fputs(image_id, f);
        fclose(f);
    }
    char lp[4096];
    log_path(rt, pod, p->uid, name, attempt, lp, sizeof(lp));
    char ldir[4096];
    kos_strlcpy(ldir, lp, sizeof(ldir));
    *strrchr(ldir, '/') = '\0';
    kos_mkdir_p(ldir, 0755);
    json_object_del(e->waiting, name);
    int exit_fd = -1;
    r = kos_container_start(&rt->crt, id, lp, &exit_fd, &err);
    if (exit_fd >= 0) {
        const json_t *meta = json_object_get(pod, "metadata");
        /* on failure (too many watched) the pod is looked at every POLL_MS instead */
        (void)exit_watch_add(rt->exits, exit_fd, id, jstr(meta, "namespace"), jstr(meta, "name"));
    }
    /* StartError is recorded in the container's state and shows as its termination */
    return r;
}

/* Removes attempts older than keep_from (their state, rootfs and log). */
static void prune_attempts(struct rt *rt, const json_t *pod, const char *uid, const char *name,
                           int keep_from)
{
    for (int a = keep_from - 1; a >= 0; a--) {
        char id[512], dir[4096], lp[4096];
        container_id(uid, name, a, id, sizeof(id));
        if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0 || access(dir, F_OK) < 0)
            break;
        image_rootfs_remove(dir);
        kos_container_remove(&rt->crt, id);
        if (pod) {
            log_path(rt, pod, uid, name, a, lp, sizeof(lp));
            unlink(lp);
        }
    }
}

static void read_image_id(struct rt *rt, const char *id, char *out, size_t size)
{
    char dir[4096], path[4200];
    out[0] = '\0';
    if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0)
        return;
    snprintf(path, sizeof(path), "%s/image-id", dir);
    FILE *f = fopen(path, "re");
    if (f) {
        if (!fgets(out, (int)size, f))
            out[0] = '\0';
        fclose(f);
    }
}

/* Fills a view from the container's attempts on disk. */
static void view_of(struct rt *rt, struct pod_entry *e, const char *uid, const json_t *c,
                    struct kos_ctr_view *v, char *image_id_buf, size_t image_id_size)
{
    memset(v, 0, sizeof(*v));
    v->name = jstr(c, "name");
    v->image = jstr(c, "image");
    int a = latest_attempt(rt, uid, v->name);
    if (a >= 0) {
        char id[512];
        container_id(uid, v->name, a, id, sizeof(id));
        if (kos_container_state(&rt->crt, id, &v->cur) == 0) {
            v->has_cur = true;
            v->restart_count = a;
            snprintf(v->container_id, sizeof(v->container_id), "%s://%s",
                     rt->env.container_runtime ? rt->env.container_runtime : "runc", id);
            read_image_id(rt, id, image_id_buf, image_id_size);
        }
        if (a > 0) {
            container_id(uid, v->name, a - 1, id, sizeof(id));
            if (kos_container_state(&rt->crt, id, &v->last) == 0 &&
                v->last.status == KOS_CONTAINER_EXITED) {
                v->has_last = true;
                snprintf(v->last_id, sizeof(v->last_id), "%s://%s",
                         rt->env.container_runtime ? rt->env.container_runtime : "runc", id);
            }
        }
    }
    if (!image_id_buf[0] && jstr(e->images, v->name))
        kos_strlcpy(image_id_buf, jstr(e->images, v->name), image_id_size);
    v->image_id = image_id_buf;
    const json_t *w = json_object_get(e->waiting, v->name);
    if (w) {
        v->waiting_reason = jstr(w, "reason");
        v->waiting_message = jstr(w, "message");
    }
}

static bool should_restart(const char *policy, const struct kos_container_state *st)
{
    if (!policy || strcmp(policy, "Always") == 0)
        return true;
    if (strcmp(policy, "OnFailure") == 0)
        return st->exit_code != 0;
    return false;
}

/* Decides about an exited container: restart now, wait in backoff, or leave it. Returns the
 * delay before the next look (ms), 0 if it was (re)started, -1 when it stays exited. */
static int64_t handle_exited(struct rt *rt, struct pod_entry *e, const struct pod_runtime_pod *p,
                             const json_t *c, struct kos_ctr_view *v, const char *pod_dir,
                             const json_t *vols, const char *policy)
{
    if (!should_restart(policy, &v->cur))
        return -1;
    v->restarting = true;
    struct kos_crash_backoff *b = backoff_of(e, v->name);
    int64_t event = v->cur.finished_ns / 1000000, now = now_ms();
    if (kos_crash_backoff_in_backoff(b, event, now)) {
        char d[32];
        kos_go_duration(b->backoff_ms, d, sizeof(d));
        char msg[1024];
        const json_t *meta = json_object_get(p->pod, "metadata");
        snprintf(msg, sizeof(msg), "back-off %s restarting failed container=%s pod=%s_%s(%s)", d,
                 v->name, jstr(meta, "name"), jstr(meta, "namespace"), p->uid);
        set_waiting(e, v->name, "CrashLoopBackOff", msg);
        return kos_crash_backoff_remaining(b, event, now);
    }
    kos_crash_backoff_next(b, event);
    int next = v->restart_count + 1;
    start_container(rt, e, p, c, next, pod_dir, vols);
    prune_attempts(rt, p->pod, p->uid, v->name, next - 1);
    return 0;
}

/* Whether the current attempt of a container runs with its exit watched (no polling). */
static bool exit_watched(struct rt *rt, const char *uid, const struct kos_ctr_view *v)
{
    if (!v->has_cur || v->cur.status != KOS_CONTAINER_RUNNING)
        return false;
    char id[512];
    container_id(uid, v->name, v->restart_count, id, sizeof(id));
    return exit_watch_has(rt->exits, id);
}

/* The pod's own network (unless hostNetwork or the node has no pod network): 0 when the
 * containers may start. A failure leaves the containers waiting in ContainerCreating with
 * the reason, and an event the first time each reason shows (the kubelet's
 * FailedCreatePodSandBox / NetworkNotReady). */
static int pod_network(struct rt *rt, struct pod_entry *e, const json_t *pod)
{
    const json_t *spec = json_object_get(pod, "spec");
    if (!rt->env.network || json_is_true(json_object_get(spec, "hostNetwork"))) {
        e->pod_ip[0] = e->netns[0] = '\0';
        return 0;
    }
    _cleanup_error_ struct kos_error *err = NULL;
    int r = kos_podnet_setup(rt->env.network, e->uid, e->netns, sizeof(e->netns), e->pod_ip,
                             sizeof(e->pod_ip), &err);
    if (r == 0) {
        if (e->net_err[0]) {
            /* the network is there now (e.g. the podCIDR came after an agent restart):
             * containers that kept running were marked waiting for it; they are not */
            const char *key;
            json_t *w, *tmp;
            json_object_foreach_safe(e->waiting, tmp, key, w)
            {
                const char *msg = jstr(w, "message");
                if (msg && strcmp(msg, e->net_err) == 0)
                    json_object_del(e->waiting, key);
            }
        }
        e->net_err[0] = '\0';
        return 0;
    }
    const char *msg = err && err->message ? err->message : strerror(-r);
    const char *reason = err ? err->reason : "FailedCreatePodSandBox";
    if (strcmp(e->net_err, msg) != 0) {
        kos_strlcpy(e->net_err, msg, sizeof(e->net_err));
        if (rt->events)
            (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, reason, "%s", msg);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
        set_waiting(e, jstr(c, "name"), "ContainerCreating", msg);
    json_array_foreach(json_object_get(spec, "containers"), i, c)
        set_waiting(e, jstr(c, "name"), "ContainerCreating", msg);
    return r;
}

/* status.podIP(s): the pod's own address once it has one (the status builder puts the
 * node's there, right for hostNetwork pods). */
static void set_pod_ip(json_t *st, const struct pod_entry *e)
{
    if (!st)
        return;
    if (e->pod_ip[0]) {
        json_object_set_new(st, "podIP", json_string(e->pod_ip));
        json_object_set_new(st, "podIPs", json_pack("[{ss}]", "ip", e->pod_ip));
    } else if (e->net_err[0]) {
        json_object_del(st, "podIP");
        json_object_del(st, "podIPs");
    }
}

static int rt_sync(void *opaque, const struct pod_runtime_pod *p, json_t **ret_status)
{
    struct rt *rt = opaque;
    const json_t *pod = p->pod;
    const json_t *spec = json_object_get(pod, "spec");
    pthread_mutex_lock(&rt->lock);
    struct pod_entry *e = entry_get(rt, p->uid, true);
    pthread_mutex_unlock(&rt->lock);
    if (!e)
        return -ENOMEM;
    json_decref(e->pod);
    e->pod = json_deep_copy(pod);
    if (!e->start_time[0]) {
        const char *st = jstr(json_object_get(pod, "status"), "startTime");
        if (st)
            kos_strlcpy(e->start_time, st, sizeof(e->start_time));
        else
            kos_time_rfc3339(time(NULL), e->start_time, sizeof(e->start_time));
    }
    const char *policy = jstr(spec, "restartPolicy");
    bool deleting = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;

    char pod_dir[2048];
    snprintf(pod_dir, sizeof(pod_dir), "%s/%s", rt->pods_dir, p->uid);
    kos_mkdir_p(pod_dir, 0755);
    _cleanup_json_ json_t *vols = NULL;
    int64_t requeue = -1;
    bool net_ok = true;
    if (!deleting)
        net_ok = pod_network(rt, e, pod) == 0;
    if (!deleting && !net_ok) {
        requeue = 2000;
    } else if (!deleting) {
        bool missing_dns = false;
        pod_files(pod, pod_dir, e->pod_ip[0] ? e->pod_ip : rt->env.host_ip, &missing_dns);
        if (missing_dns && !e->dns_warned && rt->events) {
            e->dns_warned = true;
            (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, "MissingClusterDNS",
                                   "pod: \"%s_%s(%s)\". kubelet does not have ClusterDNS IP "
                                   "configured and cannot create Pod using \"ClusterFirst\" "
                                   "policy. Falling back to \"Default\" policy.",
                                   jstr(json_object_get(pod, "metadata"), "name"),
                                   jstr(json_object_get(pod, "metadata"), "namespace"), p->uid);
        }
        struct kos_env_ctx ectx = {.pod = pod,
                                   .host_ip = rt->env.host_ip,
                                   .pod_ip = e->pod_ip[0] ? e->pod_ip : rt->env.host_ip,
                                   .node_milli_cpu = sysconf(_SC_NPROCESSORS_ONLN) * 1000,
                                   .node_memory = rt->env.memory_capacity,
                                   .lookup = api_lookup,
                                   .sa_token = rt->env.client ? project_token : NULL,
                                   .ud = rt};
        _cleanup_error_ struct kos_error *err = NULL;
        /* Without an API server (`kos ctr pod-sync`, like a kubelet in standalone mode) there
         * is no one to issue a service-account token: a projected token source fails. */
        if (kos_pod_volumes_setup(&ectx, pod_dir, &vols, &err) < 0) {
            json_decref(TAKE_PTR(vols)); /* no container starts without its files */
            if (rt->events && err)
                (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, err->reason, "%s",
                                       err->message ? err->message : "");
            size_t i;
            json_t *c;
            json_array_foreach(json_object_get(spec, "containers"), i, c)
                set_waiting(e, jstr(c, "name"), "ContainerCreating", err ? err->message : "");
            requeue = 10000;
        }
    }

    const json_t *inits = json_object_get(spec, "initContainers");
    const json_t *ctrs = json_object_get(spec, "containers");
    size_t n_init = json_array_size(inits), n = json_array_size(ctrs);
    if (n_init > MAX_CTRS || n > MAX_CTRS)
        return -E2BIG;
    /* on the heap: a worker thread's stack and TLS stay small (RSS with many workers) */
    _cleanup_free_ struct kos_ctr_view *iv = calloc(n_init + 1, sizeof(*iv));
    _cleanup_free_ struct kos_ctr_view *cv = calloc(n + 1, sizeof(*cv));
    _cleanup_free_ struct image_id *ids = calloc(n_init + n + 1, sizeof(*ids));
    if (!iv || !cv || !ids)
        return -ENOMEM;
    bool init_done = true, init_failed = false;
    for (size_t i = 0; i < n_init; i++) {
        const json_t *c = json_array_get(inits, i);
        ids[i].s[0] = '\0';
        view_of(rt, e, p->uid, c, &iv[i], ids[i].s, sizeof(ids[i].s));
        if (!init_done)
            continue; /* later init containers wait for this one */
        struct kos_ctr_view *v = &iv[i];
        if (v->has_cur && v->cur.status == KOS_CONTAINER_EXITED && v->cur.exit_code == 0 &&
            strcmp(v->cur.reason, "StartError") != 0)
            continue;
        init_done = false;
        if (deleting || !vols)
            continue;
        if (!v->has_cur) {
            start_container(rt, e, p, c, 0, pod_dir, vols);
            requeue = 0;
        } else if (v->cur.status == KOS_CONTAINER_EXITED) {
            /* init containers restart unless the pod's policy is Never */
            if (policy && strcmp(policy, "Never") == 0) {
                init_failed = true;
            } else {
                int64_t d = handle_exited(rt, e, p, c, v, pod_dir, vols, "Always");
                requeue = d > 0 ? d : 0;
            }
        } else if (!exit_watched(rt, p->uid, v)) {
            requeue = POLL_MS;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(ctrs, i);
        ids[n_init + i].s[0] = '\0';
        view_of(rt, e, p->uid, c, &cv[i], ids[n_init + i].s, sizeof(ids[0].s));
        struct kos_ctr_view *v = &cv[i];
        if (!init_done) {
            if (!v->waiting_reason)
                v->waiting_reason = "PodInitializing";
            continue;
        }
        if (deleting || !vols)
            continue;
        if (kos_pod_probes_kill_failed(rt->prober, rt->events, &rt->crt, pod, c, v)) {
            /* failed its liveness or startup probe: now it is an exited container */
            ids[n_init + i].s[0] = '\0';
            view_of(rt, e, p->uid, c, v, ids[n_init + i].s, sizeof(ids[0].s));
        }
        if (!v->has_cur) {
            if (start_container(rt, e, p, c, 0, pod_dir, vols) == -EAGAIN && requeue != 0)
                requeue = requeue > 0 && requeue < 10000 ? requeue : 10000;
            else
                requeue = 0;
        } else if (v->cur.status == KOS_CONTAINER_EXITED) {
            int64_t d = handle_exited(rt, e, p, c, v, pod_dir, vols, policy);
            if (d >= 0 && (requeue < 0 || d < requeue))
                requeue = d;
        } else if ((requeue < 0 || requeue > POLL_MS) && !exit_watched(rt, p->uid, v)) {
            requeue = POLL_MS; /* look for its exit */
        }
    }
    if (requeue == 0) {
        /* something started: report what it looks like now, and look again soon unless
         * everything runs with its exit watched (or is an init container that is done) */
        bool watched = true;
        for (size_t i = 0; i < n_init; i++) {
            ids[i].s[0] = '\0';
            view_of(rt, e, p->uid, json_array_get(inits, i), &iv[i], ids[i].s, sizeof(ids[i].s));
            watched &= exit_watched(rt, p->uid, &iv[i]) ||
                       (iv[i].has_cur && iv[i].cur.status == KOS_CONTAINER_EXITED &&
                        iv[i].cur.exit_code == 0 && strcmp(iv[i].cur.reason, "StartError") != 0);
        }
        for (size_t i = 0; i < n; i++) {
            ids[n_init + i].s[0] = '\0';
            view_of(rt, e, p->uid, json_array_get(ctrs, i), &cv[i], ids[n_init + i].s,
                    sizeof(ids[0].s));
            if (cv[i].has_cur && cv[i].cur.status == KOS_CONTAINER_EXITED &&
                should_restart(policy, &cv[i].cur))
                cv[i].restarting = true;
            watched &= exit_watched(rt, p->uid, &cv[i]);
        }
        requeue = watched ? -1 : 200;
    }
    /* Waiting reasons may have changed (and their strings with them) while acting. */
    for (size_t i = 0; i < n_init + n; i++) {
        struct kos_ctr_view *v = i < n_init ? &iv[i] : &cv[i - n_init];
        const json_t *w = json_object_get(e->waiting, v->name);
        v->waiting_reason = w ? jstr(w, "reason") : NULL;
        v->waiting_message = w ? jstr(w, "message") : NULL;
        if (!w && i >= n_init && !init_done)
            v->waiting_reason = "PodInitializing";
    }
    kos_pod_probes_apply(rt->prober, pod, rt->env.host_ip, cv, n, true);
    if (requeue > 0 && rt->live_env->requeue) {
        const json_t *meta = json_object_get(pod, "metadata");
        rt->live_env->requeue(rt->live_env->agent, jstr(meta, "namespace"), jstr(meta, "name"),
                              requeue);
    }
    if (ret_status) {
        *ret_status =
            kos_pod_status_build(pod, json_object_get(pod, "status"), iv, n_init, init_done,
                                 init_failed, cv, n, rt->env.host_ip, e->start_time, time(NULL));
        set_pod_ip(*ret_status, e);
    }
    return 0;
}

static int rt_kill(void *opaque, const char *uid, const json_t *pod, int64_t grace_seconds)
{
    struct rt *rt = opaque;
    if (!uid)
        return -EINVAL;
    char **ids = NULL;
    size_t n = 0;
    int r = kos_container_list(&rt->crt, &ids, &n);
    if (r < 0)
        return r;
    size_t ul = strlen(uid);
    /* TERM every running container of the pod first, so their grace periods overlap */
    for (size_t i = 0; i < n; i++) {
        if (strncmp(ids[i], uid, ul) != 0 || ids[i][ul] != '_')
            continue;
        struct kos_container_state st;
        if (kos_container_state(&rt->crt, ids[i], &st) == 0 && st.status == KOS_CONTAINER_RUNNING &&
            grace_seconds > 0 && st.pid > 1)
            kill(st.pid, SIGTERM);
    }
    /* one grace period for the whole pod, not one per container */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(ids[i], uid, ul) == 0 && ids[i][ul] == '_') {
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            int64_t left = grace_seconds - (int64_t)(t1.tv_sec - t0.tv_sec);
            kos_container_stop(&rt->crt, ids[i], left > 0 ? left : 0);
            char dir[4096];
            if (kos_container_dir(&rt->crt, ids[i], dir, sizeof(dir)) == 0)
                image_rootfs_remove(dir);
            int rr = kos_container_remove(&rt->crt, ids[i]);
            if (rr < 0 && r == 0)
                r = rr;
        }
        free(ids[i]);
    }
    free(ids);
    /* the network goes once no container of the pod runs in it */
    if (r == 0 && rt->env.network) {
        int nr = kos_podnet_teardown(rt->env.network, uid);
        if (nr < 0)
            r = nr;
    }
    char pod_dir[2048];
    snprintf(pod_dir, sizeof(pod_dir), "%s/%s", rt->pods_dir, uid);
    kos_pod_volumes_teardown(pod_dir);
    nftw(pod_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    /* A finished pod that still exists keeps its logs (kubectl logs on a Completed pod);
     * they go with the pod's deletion. */
    bool keep_logs = pod && !json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp");
    pthread_mutex_lock(&rt->lock);
    struct pod_entry **pp = &rt->pods;
    const json_t *known = keep_logs ? NULL : pod;
    while (*pp) {
        if (strcmp((*pp)->uid, uid) == 0) {
            struct pod_entry *dead = *pp;
            *pp = dead->next;
            if (!known && !keep_logs && dead->pod) {
                /* the pod's log directory, known from the last sync */
                const json_t *meta = json_object_get(dead->pod, "metadata");
                char ld[4096];
                snprintf(ld, sizeof(ld), "%s/%s_%s_%s", rt->env.pod_log_dir,
                         jstr(meta, "namespace"), jstr(meta, "name"), uid);
                nftw(ld, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
            }
            entry_free(dead);
            break;
        }
        pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&rt->lock);
    kos_prober_remove_pod(rt->prober, uid);
    if (known) {
        const json_t *meta = json_object_get(known, "metadata");
        char ld[4096];
        snprintf(ld, sizeof(ld), "%s/%s_%s_%s", rt->env.pod_log_dir, jstr(meta, "namespace"),
                 jstr(meta, "name"), uid);
        nftw(ld, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    }
    return r < 0 ? r : 0;
}

static int rt_status(void *opaque, const char *uid, json_t **ret_status)
{
    struct rt *rt = opaque;
    pthread_mutex_lock(&rt->lock);
    struct pod_entry *e = entry_get(rt, uid, false);
    json_t *pod = e && e->pod ? json_incref(e->pod) : NULL;
    pthread_mutex_unlock(&rt->lock);
    if (!pod)
        return -ENOENT;
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *inits = json_object_get(spec, "initContainers");
    const json_t *ctrs = json_object_get(spec, "containers");
    size_t n_init = json_array_size(inits), n = json_array_size(ctrs);
    _cleanup_free_ struct kos_ctr_view *iv = calloc(n_init + 1, sizeof(*iv));
    _cleanup_free_ struct kos_ctr_view *cv = calloc(n + 1, sizeof(*cv));
    _cleanup_free_ struct image_id *ids = calloc(n_init + n + 1, sizeof(*ids));
    if (n_init > MAX_CTRS || n > MAX_CTRS || !iv || !cv || !ids) {
        json_decref(pod);
        return n_init > MAX_CTRS || n > MAX_CTRS ? -E2BIG : -ENOMEM;
    }
    bool init_done = true;
    for (size_t i = 0; i < n_init; i++) {
        ids[i].s[0] = '\0';
        view_of(rt, e, uid, json_array_get(inits, i), &iv[i], ids[i].s, sizeof(ids[i].s));
        if (!(iv[i].has_cur && iv[i].cur.status == KOS_CONTAINER_EXITED &&
              iv[i].cur.exit_code == 0))
            init_done = false;
    }
    for (size_t i = 0; i < n; i++) {
        ids[n_init + i].s[0] = '\0';
        view_of(rt, e, uid, json_array_get(ctrs, i), &cv[i], ids[n_init + i].s, sizeof(ids[0].s));
    }
    kos_pod_probes_apply(rt->prober, pod, rt->env.host_ip, cv, n, false);
    *ret_status = kos_pod_status_build(pod, json_object_get(pod, "status"), iv, n_init, init_done,
                                       false, cv, n, rt->env.host_ip, e->start_time, time(NULL));
    set_pod_ip(*ret_status, e);
    json_decref(pod);
    return *ret_status ? 0 : -ENOMEM;
}

/* ContainerGC.DeleteAllUnusedContainers, then ImageGC.DeleteUnusedImages: every exited
 * earlier attempt goes (the latest attempt of a container is its status and stays; the logs
 * stay with the pod), then every image no remaining container uses. */
static int rt_reclaim_disk(void *opaque, int64_t *freed)
{
    struct rt *rt = opaque;
    char **ids = NULL;
    size_t n = 0;
    int r = kos_container_list(&rt->crt, &ids, &n);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *in_use = json_array();
    for (size_t i = 0; i < n && in_use; i++) {
        const char *us = strrchr(ids[i], '_');
        int64_t attempt;
        if (!us || kos_parse_int64(us + 1, &attempt) < 0)
            continue;
        size_t pl = (size_t)(us - ids[i]) + 1; /* "<uid>_<name>_" */
        bool newer = false;
        for (size_t j = 0; j < n && !newer; j++) {
            int64_t a;
            newer = j != i && !strncmp(ids[j], ids[i], pl) && !strchr(ids[j] + pl, '_') &&
                    kos_parse_int64(ids[j] + pl, &a) == 0 && a > attempt;
        }
        struct kos_container_state st;
        if (newer && kos_container_state(&rt->crt, ids[i], &st) == 0 &&
            st.status == KOS_CONTAINER_EXITED) {
            char dir[4096];
            if (kos_container_dir(&rt->crt, ids[i], dir, sizeof(dir)) == 0)
                image_rootfs_remove(dir);
            kos_container_remove(&rt->crt, ids[i]);
            continue;
        }
        char image_id[IMAGE_REF_MAX + IMAGE_DIGEST_MAX];
        read_image_id(rt, ids[i], image_id, sizeof(image_id));
        image_id[strcspn(image_id, "\n")] = '\0';
        const char *at = strrchr(image_id, '@');
        const char *digest = at ? at + 1 : image_id;
        if (*digest)
            json_array_append_new(in_use, json_string(digest));
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (!in_use)
        return -ENOMEM;
    int64_t f = 0;
    r = image_store_gc(rt->images, in_use, &f);
    if (r == 0 && freed)
        *freed += f;
    return r;
}

static void rt_free(void *opaque)
{
    struct rt *rt = opaque;
    if (!rt)
        return;
    exit_watch_free(rt->exits); /* first: its thread requeues through the agent */
    while (rt->pods) {
        struct pod_entry *e = rt->pods;
        rt->pods = e->next;
        entry_free(e);
    }
    kos_prober_free(rt->prober); /* its threads record events */
    image_store_close(rt->images);
    kos_event_recorder_free(rt->events);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

/* A probe result changed, or a container exited: the pod's status (or a restart) is due
 * now. */
static void pod_changed(void *opaque, const char *ns, const char *name)
{
    struct rt *rt = opaque;
    if (rt->live_env->requeue)
        rt->live_env->requeue(rt->live_env->agent, ns, name, 0);
}

static const struct pod_runtime_ops ops = {
    .name = "runc",
    .sync = rt_sync,
    .kill = rt_kill,
    .status = rt_status,
    .reclaim_disk = rt_reclaim_disk,
    .free = rt_free,
};

int pod_runtime_new(const struct pod_runtime_env *env, const struct pod_runtime_ops **ret_ops,
                    void **ret_rt)
{
    if (!env || !env->root_dir || !env->pod_log_dir)
        return -EINVAL;
    struct rt *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return -ENOMEM;
    rt->env = *env;
    rt->live_env = env;
    kos_strlcpy(rt->root, env->root_dir, sizeof(rt->root));
    snprintf(rt->state_root, sizeof(rt->state_root), "%s/containers", rt->root);
    snprintf(rt->runtime_root, sizeof(rt->runtime_root), "%s/runtime", rt->root);
    snprintf(rt->pods_dir, sizeof(rt->pods_dir), "%s/pods", rt->root);
    kos_mkdir_p(rt->state_root, 0755);
    kos_mkdir_p(rt->runtime_root, 0755);
    kos_mkdir_p(rt->pods_dir, 0755);
    kos_mkdir_p(env->pod_log_dir, 0755);
    rt->crt = (struct kos_runtime){
        .runtime = env->container_runtime ? env->container_runtime : "runc",
        .runtime_root = rt->runtime_root,
        .state_root = rt->state_root,
        .log_max_size = 10 << 20, /* the kubelet's --container-log-max-size default */
        .log_max_files = 5,
    };
    pthread_mutex_init(&rt->lock, NULL);
    struct kos_error *err = NULL;
    int r = image_store_open(rt->root, &rt->images, &err);
    kos_error_free(err);
    if (r >= 0 && env->client)
        r = kos_event_recorder_new(env->client, "kubelet", &rt->events);
    if (r >= 0) {
        struct kos_prober_config pc = {.events = rt->events,
                                       .changed = pod_changed,
                                       .changed_ctx = rt,
                                       .exec = kos_pod_probes_exec,
                                       .exec_ctx = &rt->crt};
        r = kos_prober_new(&pc, &rt->prober);
    }
    if (r >= 0)
        r = exit_watch_new(pod_changed, rt, &rt->exits);
    if (r < 0) {
        rt_free(rt);
        return r;
    }
    *ret_ops = &ops;
    *ret_rt = rt;
    return 0;
}

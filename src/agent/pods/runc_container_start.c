/* Starting one attempt of a container: its image, environment, mounts and user, the OCI
 * spec and bundle, then the shim that runs it under runc/crun. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pods/runc_internal.h"
#include "agent/pods/env.h"
#include "agent/pods/volumes.h"
#include "agent/runtime/attach.h"
#include "agent/runtime/oci_spec.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

/* Whether the container mounts something (kube's ServiceAccount admission puts the
 * kube-api-access volume there) at the well-known service-account path. */
static bool mounts_sa_path(const json_t *c)
{
    static const char sa_path[] = "/var/run/secrets/kubernetes.io/serviceaccount";
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(c, "volumeMounts"), i, m)
    {
        const char *path = json_string_value(json_object_get(m, "mountPath"));
        size_t n = path ? strlen(path) : 0;
        while (n > 1 && path[n - 1] == '/')
            n--;
        if (n == sizeof(sa_path) - 1 && memcmp(path, sa_path, n) == 0)
            return true;
    }
    return false;
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

/* Pulls, prepares and starts attempt `attempt` of container c. Errors before the start are
 * recorded as the container's waiting reason; a failed start is recorded by the shim. */
int runc_start_container(struct rt *rt, struct pod_entry *e, const struct pod_runtime_pod *p,
                         const json_t *c, int attempt, const char *pod_dir, const json_t *vols)
{
    const json_t *pod = p->pod;
    const char *name = jstr(c, "name"), *image = jstr(c, "image");
    _cleanup_error_ struct kos_error *err = NULL;
    char key[512];
    snprintf(key, sizeof(key), "%s/%s", p->uid, image ? image : "");
    time_t now = time(NULL);
    if (image_backoff_check(rt->images, key, image ? image : "", now, &err) < 0) {
        runc_set_waiting(e, name, err->reason, err->message);
        return -EAGAIN;
    }
    enum image_pull_policy policy;
    if (image_pull_policy_parse(jstr(c, "imagePullPolicy"), &policy) < 0)
        policy = IMAGE_PULL_DEFAULT;
    struct image_info info = {0};
    if (image_pull(rt->images, image ? image : "", policy, NULL, &info, &err) < 0) {
        image_backoff_record(rt->images, key, false, now);
        runc_set_waiting(e, name, err ? err->reason : "ErrImagePull", err ? err->message : "");
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
                               .lookup = runc_api_lookup,
                               .ud = rt};
    _cleanup_json_ json_t *image_env = str_list(info.env);
    _cleanup_json_ json_t *env = NULL, *env_map = NULL, *args = NULL, *spec = NULL;
    if ((r = kos_pod_env(&ectx, c, image_env, &env, &env_map, &err)) < 0) {
        runc_set_waiting(e, name, "CreateContainerConfigError", err ? err->message : strerror(-r));
        image_info_clear(&info);
        return r;
    }
    _cleanup_json_ json_t *ep = str_list(info.entrypoint), *icmd = str_list(info.cmd);
    if (kos_oci_process_args(json_object_get(c, "command"), json_object_get(c, "args"), ep, icmd,
                             env_map, &args) < 0) {
        runc_set_waiting(e, name, "CreateContainerError",
                         "failed to generate container spec: no command specified");
        image_info_clear(&info);
        return -EINVAL;
    }
    struct kos_pod_mounts pm = {0};
    if ((r = kos_pod_container_mounts(c, vols, &pm, &err)) < 0) {
        runc_set_waiting(e, name, "CreateContainerConfigError", err ? err->message : strerror(-r));
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
    runc_container_id(p->uid, name, attempt, id, sizeof(id));
    if (kos_container_dir(&rt->crt, id, dir, sizeof(dir)) < 0 || kos_mkdir_p(dir, 0755) < 0) {
        runc_set_waiting(e, name, "CreateContainerError", "invalid container name");
        kos_pod_mounts_free(&pm);
        image_info_clear(&info);
        return -EINVAL;
    }
    /* the mount points runc would otherwise make in this container's upper directory */
    bool sa_mount = mounts_sa_path(c);
    char points[4096];
    bool have_points =
        image_mountpoints_layer(rt->images, &info, sa_mount, points, sizeof(points)) == 0;
    struct image_rootfs rootfs;
    if ((r = image_rootfs_create_over(rt->images, &info, dir, have_points ? points : NULL, &rootfs,
                                      &err)) < 0) {
        runc_set_waiting(e, name, "CreateContainerError", err ? err->message : strerror(-r));
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
        runc_set_waiting(e, name, "CreateContainerError", err ? err->message : strerror(-r));
        return r;
    }
    char cfg[4200];
    snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    if (json_dump_file(spec, cfg, JSON_COMPACT) < 0) {
        runc_set_waiting(e, name, "CreateContainerError",
                         "cannot write the container's config.json");
        return -EIO;
    }
    snprintf(cfg, sizeof(cfg), "%s/image-id", dir);
    FILE *f = fopen(cfg, "we");
    if (f) {
        fputs(image_id, f);
        fclose(f);
    }
    char lp[4096];
    runc_log_path(rt, pod, p->uid, name, attempt, lp, sizeof(lp));
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

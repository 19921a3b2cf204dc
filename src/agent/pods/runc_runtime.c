/* The pod runtime on runc/crun (implements pod_runtime.h): init containers in order, then the
 * containers; images through agent/image; environment, volumes and the OCI spec; containers
 * under the shim; restarts with the kubelet's CrashLoopBackOff; status from the shims' state.
 * This file: the runtime's life, its pod entries and container names (runc_internal.h has
 * the rest of its files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pods/runc_internal.h"
#include "agent/pods/pod_probes.h"
#include "util/fs.h"
#include "util/strutil.h"

struct pod_entry *runc_entry_get(struct rt *rt, const char *uid, bool create)
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

void runc_entry_free(struct pod_entry *e)
{
    json_decref(e->pod);
    json_decref(e->waiting);
    json_decref(e->images);
    free(e);
}

void runc_container_id(const char *uid, const char *name, int attempt, char *out, size_t size)
{
    snprintf(out, size, "%s_%s_%d", uid, name, attempt);
}

void runc_log_path(struct rt *rt, const json_t *pod, const char *uid, const char *name, int attempt,
                   char *out, size_t size)
{
    const json_t *meta = json_object_get(pod, "metadata");
    snprintf(out, size, "%s/%s_%s_%s/%s/%d.log", rt->env.pod_log_dir, jstr(meta, "namespace"),
             jstr(meta, "name"), uid, name, attempt);
}

void runc_set_waiting(struct pod_entry *e, const char *name, const char *reason,
                      const char *message)
{
    json_object_set_new(e->waiting, name,
                        json_pack("{ssss}", "reason", reason, "message", message ? message : ""));
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
        runc_entry_free(e);
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
    .sync = runc_rt_sync,
    .kill = runc_rt_kill,
    .status = runc_rt_status,
    .reclaim_disk = runc_rt_reclaim_disk,
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

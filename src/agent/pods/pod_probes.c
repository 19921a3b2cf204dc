/* Probes in the pod runtime (see pod_probes.h). */
#include "agent/pods/pod_probes.h"

#include <string.h>

#include "agent/runtime/exec_sync.h"
#include "util/json_cleanup.h"

#define MAX_CTRS 64

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* "runc://<id>" -> "<id>" */
static const char *runtime_id_of(const char *container_id)
{
    const char *s = strstr(container_id, "://");
    return s ? s + 3 : container_id;
}

static bool running(const struct kos_ctr_view *v)
{
    return v->has_cur && !v->waiting_reason && !v->restarting &&
           v->cur.status == KOS_CONTAINER_RUNNING;
}

const char *kos_pod_probes_ip(const json_t *pod, const char *host_ip)
{
    const char *ip = jstr(json_object_get(pod, "status"), "podIP");
    return ip && *ip ? ip : host_ip;
}

void kos_pod_probes_apply(struct kos_prober *pr, const json_t *pod, const char *host_ip,
                          struct kos_ctr_view *v, size_t n, bool sync)
{
    if (!pr || n > MAX_CTRS)
        return;
    const char *uid = jstr(json_object_get(pod, "metadata"), "uid");
    if (!uid)
        return;
    if (sync) {
        struct kos_prober_container cs[MAX_CTRS];
        for (size_t i = 0; i < n; i++)
            cs[i] = (struct kos_prober_container){
                .name = v[i].name,
                .container_id = v[i].container_id,
                .runtime_id = runtime_id_of(v[i].container_id),
                .running = running(&v[i]),
                .terminated = v[i].has_cur && v[i].cur.status == KOS_CONTAINER_EXITED,
                .started_at_ms = v[i].cur.started_ns / 1000000,
            };
        (void)kos_prober_sync_pod(pr, pod, kos_pod_probes_ip(pod, host_ip), cs, n);
    }
    for (size_t i = 0; i < n; i++) {
        bool started, ready;
        kos_prober_container_status(pr, uid, v[i].name, v[i].container_id, running(&v[i]), &started,
                                    &ready);
        v[i].not_started = !started;
        v[i].not_ready = !ready;
    }
}

bool kos_pod_probes_kill_failed(struct kos_prober *pr, struct kos_event_recorder *events,
                                const struct kos_runtime *crt, const json_t *pod,
                                const json_t *container, const struct kos_ctr_view *v)
{
    const char *uid = jstr(json_object_get(pod, "metadata"), "uid");
    enum kos_probe_type why;
    if (!pr || !uid || !v->has_cur || v->cur.status != KOS_CONTAINER_RUNNING ||
        !kos_prober_failed(pr, uid, v->name, v->container_id, &why))
        return false;
    const json_t *spec = json_object_get(pod, "spec");
    const char *policy = jstr(spec, "restartPolicy");
    bool restart = !policy || strcmp(policy, "Never") != 0;
    const char *kind = why == KOS_PROBE_LIVENESS ? "liveness" : "startup";
    if (events) {
        _cleanup_json_ json_t *ref = kos_prober_event_ref(pod, v->name);
        if (ref)
            (void)kos_event_record(events, ref, KOS_EVENT_NORMAL, "Killing",
                                   "Container %s failed %s probe%s", v->name, kind,
                                   restart ? ", will be restarted" : "");
    }
    /* setTerminationGracePeriod: the probe's own period wins over the pod's */
    const json_t *probe =
        json_object_get(container, why == KOS_PROBE_LIVENESS ? "livenessProbe" : "startupProbe");
    const json_t *g = json_object_get(probe, "terminationGracePeriodSeconds");
    if (!json_is_integer(g))
        g = json_object_get(spec, "terminationGracePeriodSeconds");
    int64_t grace = json_is_integer(g) ? json_integer_value(g) : 2;
    /* killContainer: always a minimal window to shut down, not an outright SIGKILL */
    (void)kos_container_stop(crt, runtime_id_of(v->container_id), grace < 2 ? 2 : grace);
    return true;
}

int kos_pod_probes_exec(void *ctx, const char *runtime_id, const char *const *argv, size_t argc,
                        int64_t timeout_ms, char *out, size_t size, int *exit_code)
{
    return kos_container_exec_sync(ctx, runtime_id, argv, argc, timeout_ms, out, size, exit_code);
}

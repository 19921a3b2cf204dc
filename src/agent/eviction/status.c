/* An evicted pod's status. */
#include "agent/eviction/status.h"

#include <stdbool.h>
#include <string.h>

#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define SYSTEM_CRITICAL_PRIORITY 2000000000

bool evict_pod_is_critical(const json_t *pod)
{
    const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
    const char *source = json_string_value(json_object_get(ann, "kubernetes.io/config.source"));
    if (source && strcmp(source, "api") != 0)
        return true; /* a static pod */
    if (json_object_get(ann, "kubernetes.io/config.mirror"))
        return true;
    const json_t *prio = json_object_get(json_object_get(pod, "spec"), "priority");
    return json_is_integer(prio) && json_integer_value(prio) >= SYSTEM_CRITICAL_PRIORITY;
}

static int set_condition(json_t *conds, const char *type, const char *status, const char *reason,
                         const char *message, const char *now)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (!t || strcmp(t, type) != 0)
            continue;
        const char *old = json_string_value(json_object_get(c, "status"));
        json_t *nc =
            json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status, "lastTransitionTime",
                      old && !strcmp(old, status)
                          ? json_string_value(json_object_get(c, "lastTransitionTime"))
                          : now,
                      "reason", reason);
        if (!nc || (message && json_object_set_new(nc, "message", json_string(message)) < 0))
            return json_decref(nc), -1;
        if (json_object_get(c, "lastProbeTime"))
            json_object_set(nc, "lastProbeTime", json_object_get(c, "lastProbeTime"));
        return json_array_set_new(conds, i, nc);
    }
    json_t *nc = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status,
                           "lastTransitionTime", now, "reason", reason);
    if (!nc || (message && json_object_set_new(nc, "message", json_string(message)) < 0))
        return json_decref(nc), -1;
    return json_array_append_new(conds, nc);
}

/* running containers end as killed by the kubelet (SIGKILL after the grace period: 137) */
static json_t *terminated_statuses(const json_t *list, const char *now)
{
    json_t *out = json_array();
    size_t i;
    const json_t *cs;
    json_array_foreach(list, i, cs)
    {
        json_t *c = json_deep_copy(cs);
        if (!c)
            break;
        json_t *running = json_object_get(json_object_get(c, "state"), "running");
        if (running) {
            json_t *term =
                json_pack("{s:i, s:s, s:s}", "exitCode", 137, "reason", "Error", "finishedAt", now);
            json_t *started = json_object_get(running, "startedAt");
            if (term && started)
                json_object_set(term, "startedAt", started);
            if (term && json_object_get(c, "containerID"))
                json_object_set(term, "containerID", json_object_get(c, "containerID"));
            json_object_set_new(c, "state", json_pack("{s:o}", "terminated", term));
        }
        json_object_set_new(c, "ready", json_false());
        if (json_object_get(c, "started"))
            json_object_set_new(c, "started", json_false());
        json_array_append_new(out, c);
    }
    return out;
}

json_t *evict_pod_status(const json_t *pod, const char *message, time_t now)
{
    return evict_pod_status_ex(pod, message, now, true);
}

json_t *evict_pod_status_ex(const json_t *pod, const char *message, time_t now,
                            bool disruption_target)
{
    char ts[32];
    kos_time_rfc3339(now, ts, sizeof(ts));
    const json_t *cur = json_object_get(pod, "status");
    const json_t *old_conds = json_object_get(cur, "conditions");
    _cleanup_json_ json_t *conds =
        json_is_array(old_conds) ? json_deep_copy(old_conds) : json_array();
    _cleanup_json_ json_t *cstat =
        terminated_statuses(json_object_get(cur, "containerStatuses"), ts);
    if (!conds || !cstat)
        return NULL;
    /* GeneratePodReadyCondition: a Failed pod is explicitly not ready, reason PodFailed */
    int r = 0;
    r |= set_condition(conds, "Ready", "False", "PodFailed", NULL, ts);
    r |= set_condition(conds, "ContainersReady", "False", "PodFailed", NULL, ts);
    if (disruption_target)
        r |= set_condition(conds, "DisruptionTarget", "True", "TerminationByKubelet", message, ts);
    if (r)
        return NULL;
    json_t *st = json_pack("{s:s, s:s, s:s, s:O, s:O}", "phase", "Failed", "reason", "Evicted",
                           "message", message, "conditions", conds, "containerStatuses", cstat);
    return st;
}

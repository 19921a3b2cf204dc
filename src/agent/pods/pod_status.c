/* PodStatus assembly (see pod_status.h). */
#include "agent/pods/pod_status.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

void kos_rfc3339_ns(int64_t ns, char *out, size_t size)
{
    kos_time_rfc3339((time_t)(ns / 1000000000LL), out, size);
}

static json_t *terminated(const struct kos_container_state *st, const char *id)
{
    char s[40], f[40];
    kos_rfc3339_ns(st->started_ns ? st->started_ns : st->finished_ns, s, sizeof(s));
    kos_rfc3339_ns(st->finished_ns, f, sizeof(f));
    json_t *t = json_pack("{sissssssss}", "exitCode", st->exit_code, "reason",
                          st->reason[0] ? st->reason : "Error", "startedAt", s, "finishedAt", f,
                          "containerID", id);
    if (t && st->message[0])
        json_object_set_new(t, "message", json_string(st->message));
    return json_pack("{so}", "terminated", t);
}

static bool view_running(const struct kos_ctr_view *v)
{
    return v->has_cur && !v->waiting_reason && !v->restarting &&
           (v->cur.status == KOS_CONTAINER_RUNNING || v->cur.status == KOS_CONTAINER_CREATED);
}

/* running and passing its startup and readiness probes */
static bool view_ready(const struct kos_ctr_view *v)
{
    return view_running(v) && !v->not_started && !v->not_ready;
}

static json_t *container_status(const struct kos_ctr_view *v)
{
    json_t *state, *last = json_object();
    const char *id = v->container_id;
    if (v->waiting_reason) {
        state = json_pack("{s{ss}}", "waiting", "reason", v->waiting_reason);
        if (v->waiting_message && *v->waiting_message)
            json_object_set_new(json_object_get(state, "waiting"), "message",
                                json_string(v->waiting_message));
    } else if (view_running(v)) {
        char s[40];
        kos_rfc3339_ns(v->cur.started_ns, s, sizeof(s));
        state = json_pack("{s{ss}}", "running", "startedAt", s);
    } else if (v->has_cur && v->cur.status == KOS_CONTAINER_UNKNOWN) {
        state = json_pack("{s{ss}}", "waiting", "reason", "ContainerStatusUnknown");
    } else if (v->has_cur) {
        state = terminated(&v->cur, v->container_id);
    } else {
        state = json_pack("{s{ss}}", "waiting", "reason", "ContainerCreating");
    }
    /* waiting to restart: the exit just seen is the last state */
    if (v->has_cur && (v->restarting || v->waiting_reason) &&
        v->cur.status == KOS_CONTAINER_EXITED) {
        json_decref(last);
        last = terminated(&v->cur, v->container_id);
    } else if (v->has_last) {
        json_decref(last);
        last = terminated(&v->last, v->last_id);
    }
    bool running = view_running(v);
    json_t *o = json_pack("{sssssssbsisbsoso}", "name", v->name, "image", v->image ? v->image : "",
                          "imageID", v->image_id ? v->image_id : "", "ready", view_ready(v),
                          "restartCount", v->restart_count, "started", running && !v->not_started,
                          "state", state, "lastState", last);
    if (o && id[0])
        json_object_set_new(o, "containerID", json_string(id));
    return o;
}

const char *kos_pod_phase(const char *restart_policy, const struct kos_ctr_view *ctrs, size_t n,
                          bool init_done, bool init_failed)
{
    if (init_failed)
        return "Failed";
    if (!init_done)
        return "Pending";
    size_t waiting = 0, running = 0, stopped = 0, succeeded = 0, unknown = 0;
    for (size_t i = 0; i < n; i++) {
        const struct kos_ctr_view *v = &ctrs[i];
        if (view_running(v)) {
            running++;
        } else if (v->has_cur && v->cur.status == KOS_CONTAINER_UNKNOWN) {
            unknown++;
        } else if (v->has_cur && v->cur.status == KOS_CONTAINER_EXITED) {
            /* exited, restarting or not: the kubelet counts it as stopped (a waiting
             * container with a last termination state is stopped too) */
            stopped++;
            if (v->cur.exit_code == 0 && !v->restarting)
                succeeded++;
        } else {
            waiting++;
        }
    }
    if (waiting > 0)
        return "Pending";
    if (running > 0 && unknown == 0)
        return "Running";
    if (running == 0 && stopped > 0 && unknown == 0) {
        if (!restart_policy || strcmp(restart_policy, "Always") == 0)
            return "Running";
        if (stopped == succeeded)
            return "Succeeded";
        if (strcmp(restart_policy, "Never") == 0)
            return "Failed";
        return "Running";
    }
    return "Pending";
}

static json_t *condition(const json_t *old_status, const char *type, bool ok, const char *reason,
                         const char *message, int64_t now)
{
    const char *status = ok ? "True" : "False";
    char ts[40];
    kos_time_rfc3339((time_t)now, ts, sizeof(ts));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(old_status, "conditions"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", type) == 0 &&
            strcmp(json_string_value(json_object_get(c, "status")) ?: "", status) == 0 &&
            json_string_value(json_object_get(c, "lastTransitionTime")))
            snprintf(ts, sizeof(ts), "%s",
                     json_string_value(json_object_get(c, "lastTransitionTime")));
    }
    json_t *o = json_pack("{sssssnss}", "type", type, "status", status, "lastProbeTime",
                          "lastTransitionTime", ts);
    if (o && !ok && reason)
        json_object_set_new(o, "reason", json_string(reason));
    if (o && !ok && message)
        json_object_set_new(o, "message", json_string(message));
    return o;
}

/* "containers with unready status: [a b]" */
static void name_list(struct kos_buf *b, const char *prefix, const struct kos_ctr_view *v, size_t n,
                      bool init)
{
    kos_buf_append_str(b, prefix);
    kos_buf_append_str(b, "[");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        bool done = init ? (v[i].has_cur && v[i].cur.status == KOS_CONTAINER_EXITED &&
                            v[i].cur.exit_code == 0)
                         : view_ready(&v[i]);
        if (done)
            continue;
        kos_buf_printf(b, "%s%s", first ? "" : " ", v[i].name);
        first = false;
    }
    kos_buf_append_str(b, "]");
}

json_t *kos_pod_status_build(const json_t *pod, const json_t *old_status,
                             const struct kos_ctr_view *init, size_t n_init, bool init_done,
                             bool init_failed, const struct kos_ctr_view *ctrs, size_t n,
                             const char *host_ip, const char *start_time, int64_t now)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *policy = json_string_value(json_object_get(spec, "restartPolicy"));
    const char *phase = kos_pod_phase(policy, ctrs, n, init_done, init_failed);
    _cleanup_json_ json_t *st = json_object();
    _cleanup_json_ json_t *cs = json_array();
    _cleanup_json_ json_t *ics = json_array();
    if (!st || !cs || !ics)
        return NULL;
    bool all_ready = init_done;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(cs, container_status(&ctrs[i]));
        if (!view_ready(&ctrs[i]))
            all_ready = false;
    }
    for (size_t i = 0; i < n_init; i++)
        json_array_append_new(ics, container_status(&init[i]));

    struct kos_buf msg;
    kos_buf_init(&msg, 64 << 10);
    json_t *conds = json_array();
    json_array_append_new(conds, condition(old_status, "PodScheduled", true, NULL, NULL, now));
    bool succeeded = strcmp(phase, "Succeeded") == 0;
    if (!init_done) {
        name_list(&msg, "containers with incomplete status: ", init, n_init, true);
        json_array_append_new(conds, condition(old_status, "Initialized", false,
                                               "ContainersNotInitialized", msg.data, now));
        kos_buf_reset(&msg);
    } else {
        json_array_append_new(conds, condition(old_status, "Initialized", true, NULL, NULL, now));
    }
    const char *reason = succeeded ? "PodCompleted" : "ContainersNotReady";
    name_list(&msg, "containers with unready status: ", ctrs, n, false);
    json_array_append_new(conds, condition(old_status, "ContainersReady", all_ready, reason,
                                           succeeded ? NULL : msg.data, now));
    json_array_append_new(
        conds, condition(old_status, "Ready", all_ready, reason, succeeded ? NULL : msg.data, now));
    kos_buf_free(&msg);

    json_object_set_new(st, "phase", json_string(phase));
    json_object_set_new(st, "conditions", conds);
    json_object_set_new(st, "containerStatuses", json_incref(cs));
    if (n_init > 0)
        json_object_set_new(st, "initContainerStatuses", json_incref(ics));
    if (host_ip && *host_ip) {
        json_object_set_new(st, "hostIP", json_string(host_ip));
        json_object_set_new(st, "hostIPs", json_pack("[{ss}]", "ip", host_ip));
        /* host network until pod networking: the pod's address is the node's */
        json_object_set_new(st, "podIP", json_string(host_ip));
        json_object_set_new(st, "podIPs", json_pack("[{ss}]", "ip", host_ip));
    }
    if (start_time && *start_time)
        json_object_set_new(st, "startTime", json_string(start_time));
    return TAKE_PTR(st);
}

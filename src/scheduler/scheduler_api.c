/* API writes of the scheduler loop (see scheduler_api.h). */
#include "scheduler/scheduler_api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define PREEMPT_MESSAGE                                                                            \
    SCHED_DEFAULT_SCHEDULER_NAME ": preempting to accommodate a higher priority pod"

static const struct kos_kind *pods_kind(void)
{
    return kos_kind_by_kind("", "Pod");
}

int sched_api_bind(struct kos_client *c, const struct sched_pod *pod, const char *node)
{
    struct kos_ref ref = {pods_kind(), pod->namespace, pod->name, "binding"};
    char path[1024];
    int r = kos_client_path(&ref, path, sizeof(path));
    if (r < 0)
        return r;
    /* written directly: a bind per pod, and a tree plus its encoding cost more than the
     * rest of the request on the client's side */
    _cleanup_buf_ struct kos_buf body;
    kos_buf_init(&body, 8192);
    r = kos_buf_append_str(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{"
                                  "\"name\":");
    if (r == 0)
        r = kos_buf_append_json_string(&body, pod->name);
    if (r == 0)
        r = kos_buf_append_str(&body, ",\"namespace\":");
    if (r == 0)
        r = kos_buf_append_json_string(&body, pod->namespace);
    if (r == 0)
        r = kos_buf_append_str(&body, ",\"uid\":");
    if (r == 0)
        r = kos_buf_append_json_string(&body, pod->uid);
    if (r == 0)
        r = kos_buf_append_str(&body, "},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\","
                                      "\"name\":");
    if (r == 0)
        r = kos_buf_append_json_string(&body, node);
    if (r == 0)
        r = kos_buf_append_str(&body, "}}");
    if (r < 0)
        return r;
    long status = 0;
    /* the answer is a Status; only its code matters */
    r = kos_client_request(c, "POST", path, "application/json", body.data, body.len, &status, NULL,
                           NULL);
    if (r < 0)
        return r;
    if (status >= 200 && status < 300)
        return 0;
    return status == 409 ? -EEXIST : kos_error_errno_for_code((int)status);
}

static int patch_status(struct kos_client *c, const char *ns, const char *name, json_t *status)
{
    _cleanup_json_ json_t *patch = json_pack("{s:o}", "status", status);
    if (!patch)
        return -ENOMEM;
    struct kos_ref ref = {pods_kind(), ns, name, "status"};
    return kos_client_patch(c, &ref, KOS_PATCH_STRATEGIC, patch, NULL, false, NULL, NULL);
}

static json_t *condition(const char *type, const char *status, const char *reason,
                         const char *message)
{
    char now[40];
    kos_time_rfc3339(time(NULL), now, sizeof(now));
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:n}", "type", type, "status", status, "reason", reason,
                     "message", message, "lastTransitionTime", now, "lastProbeTime");
}

static const json_t *find_condition(const json_t *pod, const char *type)
{
    const json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
    size_t i;
    const json_t *cnd;
    json_array_foreach(conds, i, cnd)
    {
        const char *t = json_string_value(json_object_get(cnd, "type"));
        if (t && strcmp(t, type) == 0)
            return cnd;
    }
    return NULL;
}

static bool str_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v && want && strcmp(v, want) == 0;
}

int sched_api_update_status(struct kos_client *c, const json_t *cur, const struct sched_pod *pod,
                            const char *reason, const char *message, const char *nominate,
                            bool clear_nominated)
{
    const char *have_nnn =
        json_string_value(json_object_get(json_object_get(cur, "status"), "nominatedNodeName"));
    bool nnn_change = (nominate && !(have_nnn && strcmp(have_nnn, nominate) == 0)) ||
                      (clear_nominated && have_nnn && *have_nnn);
    const json_t *cnd = cur ? find_condition(cur, "PodScheduled") : NULL;
    /* kube's updatePod: nothing to write when the condition says the same thing already. */
    if (cur && !nnn_change && cnd && str_is(cnd, "status", "False") &&
        str_is(cnd, "reason", reason) && str_is(cnd, "message", message))
        return 0;
    json_t *status = json_object();
    json_t *c1 = condition("PodScheduled", "False", reason, message);
    if (!status || !c1 || json_object_set_new(status, "conditions", json_pack("[o]", c1)) < 0) {
        json_decref(status);
        return -ENOMEM;
    }
    if (nominate)
        json_object_set_new(status, "nominatedNodeName", json_string(nominate));
    else if (clear_nominated)
        json_object_set_new(status, "nominatedNodeName", json_null());
    return patch_status(c, pod->namespace, pod->name, status);
}

int sched_api_preempt_victim(struct kos_client *c, struct sched_events *ev,
                             const struct sched_pod *preemptor, const struct sched_victim *v,
                             const char *node)
{
    json_t *cnd = condition("DisruptionTarget", "True", "PreemptionByScheduler", PREEMPT_MESSAGE);
    json_t *status = cnd ? json_pack("{s:[o]}", "conditions", cnd) : NULL;
    if (!status)
        return -ENOMEM;
    int r = patch_status(c, v->namespace, v->name, status);
    if (r < 0)
        return r;
    struct kos_ref ref = {pods_kind(), v->namespace, v->name, NULL};
    struct kos_delete_options o = {.precondition_uid = v->uid};
    r = kos_client_delete(c, &ref, &o, NULL, NULL);
    if (r < 0)
        return r;
    sched_events_record(ev, v->namespace, v->name, v->uid, KOS_EVENT_NORMAL, "Preempted",
                        "Preempted by %s/%s on node %s", preemptor->namespace, preemptor->name,
                        node);
    return 0;
}

int sched_api_clear_nomination(struct kos_client *c, const char *ns, const char *name)
{
    json_t *status = json_pack("{s:n}", "nominatedNodeName");
    return status ? patch_status(c, ns, name, status) : -ENOMEM;
}

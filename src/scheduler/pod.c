#include "scheduler/pod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/intern.h"
#include "util/cleanup.h"
#include "util/hash.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

static void pod_free(struct sched_pod *p)
{
    free(p->uid);
    free(p->namespace);
    free(p->name);
    free(p->node_name);
    free(p->nominated_node_name);
    free(p->scheduler_name);
    sched_intern_release(p->labels);
    sched_pod_resources_clear(&p->res);
    sched_tolerations_free(p->tolerations, p->n_tolerations);
    sched_node_affinity_clear(&p->affinity);
    free(p);
}

struct sched_pod *sched_pod_ref(struct sched_pod *p)
{
    if (p)
        __atomic_add_fetch(&p->refcount, 1, __ATOMIC_RELAXED);
    return p;
}

void sched_pod_unref(struct sched_pod *p)
{
    if (p && __atomic_sub_fetch(&p->refcount, 1, __ATOMIC_ACQ_REL) == 0)
        pod_free(p);
}

/* Duplicates a string field; absent/null/"" → NULL (or `dflt`), non-string → -EINVAL. */
static int dup_opt(const json_t *obj, const char *field, const char *dflt, char **ret)
{
    const json_t *v = json_object_get(obj, field);
    const char *s = NULL;
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return -EINVAL;
        s = json_string_value(v);
    }
    if (!s || !*s)
        s = dflt;
    *ret = NULL;
    if (s && !(*ret = strdup(s)))
        return -ENOMEM;
    return 0;
}

static int parse_time_ms(const json_t *v, int64_t unset, int64_t *ret)
{
    *ret = unset;
    if (!v || json_is_null(v))
        return 0;
    time_t t;
    if (!json_is_string(v) || kos_time_parse_rfc3339(json_string_value(v), &t) < 0)
        return -EINVAL;
    *ret = (int64_t)t * 1000;
    return 0;
}

static bool is_preemption_victim(const json_t *status)
{
    const json_t *conds = json_object_get(status, "conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (!type || strcmp(type, "DisruptionTarget") != 0)
            continue;
        const char *st = json_string_value(json_object_get(c, "status"));
        const char *reason = json_string_value(json_object_get(c, "reason"));
        return st && reason && strcmp(st, "True") == 0 &&
               strcmp(reason, "PreemptionByScheduler") == 0;
    }
    return false;
}

static bool volatile_member(const char *k, unsigned level, bool in_meta)
{
    static const char *const volatile_meta[] = {"resourceVersion", "generation", "managedFields",
                                                "finalizers"};
    if (level == 0)
        return strcmp(k, "status") == 0;
    if (level == 1 && in_meta)
        for (size_t i = 0; i < ARRAY_SIZE(volatile_meta); i++)
            if (strcmp(k, volatile_meta[i]) == 0)
                return true;
    return false;
}

/* A hash of the value in place, without serializing it: members are combined by a sum, so
 * the order of keys does not matter (as with sorted keys); list items are chained in order.
 * At the top, status and the metadata kube changes on every write are left out. */
static uint64_t value_hash(const json_t *v, unsigned level, bool in_meta)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            if (volatile_member(k, level, in_meta))
                continue;
            bool meta = level == 0 && strcmp(k, "metadata") == 0;
            h += kos_hash_mix64(kos_hash_bytes(k, strlen(k)) ^
                                (value_hash(m, level + 1, meta) * 31));
        }
        return kos_hash_mix64(h ^ 1);
    }
    case JSON_ARRAY: {
        uint64_t h = 0x51ed270b27a1f3c5ULL;
        for (size_t i = 0; i < json_array_size(v); i++)
            h = kos_hash_mix64(h ^ value_hash(json_array_get(v, i), level + 1, false));
        return kos_hash_mix64(h ^ 2);
    }
    case JSON_STRING:
        return kos_hash_mix64(kos_hash_bytes(json_string_value(v), json_string_length(v)) ^ 3);
    case JSON_INTEGER:
        return kos_hash_mix64((uint64_t)json_integer_value(v) ^ 0x400000000000000ULL);
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        return kos_hash_mix64(bits ^ 5);
    }
    case JSON_TRUE:
        return 6;
    case JSON_FALSE:
        return 7;
    default:
        return 8;
    }
}

bool sched_pod_changed(const json_t *old_obj, const json_t *obj)
{
    return value_hash(old_obj, 0, false) != value_hash(obj, 0, false);
}

int sched_pod_from_json(const json_t *obj, struct sched_pod **ret)
{
    if (!json_is_object(obj))
        return -EINVAL;
    const json_t *meta = json_object_get(obj, "metadata");
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    if (!json_is_object(meta) || (spec && !json_is_object(spec)))
        return -EINVAL;

    struct sched_pod *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->refcount = 1;
    _cleanup_sched_pod_ struct sched_pod *guard = p;

    int r;
    if ((r = dup_opt(meta, "uid", NULL, &p->uid)) < 0 ||
        (r = dup_opt(meta, "name", NULL, &p->name)) < 0 ||
        (r = dup_opt(meta, "namespace", "default", &p->namespace)) < 0 ||
        (r = dup_opt(spec, "nodeName", NULL, &p->node_name)) < 0 ||
        (r = dup_opt(status, "nominatedNodeName", NULL, &p->nominated_node_name)) < 0 ||
        (r = dup_opt(spec, "schedulerName", SCHED_DEFAULT_SCHEDULER_NAME, &p->scheduler_name)) < 0)
        return r;
    if (!p->uid || !p->name)
        return -EINVAL;

    const json_t *prio = json_object_get(spec, "priority");
    if (prio && !json_is_null(prio)) {
        if (!json_is_integer(prio) || json_integer_value(prio) < INT32_MIN ||
            json_integer_value(prio) > INT32_MAX)
            return -EINVAL;
        p->priority = (int32_t)json_integer_value(prio);
    }
    const char *pp = json_string_value(json_object_get(spec, "preemptionPolicy"));
    p->preempt_never = pp && strcmp(pp, "Never") == 0;
    const char *phase = json_string_value(json_object_get(status, "phase"));
    p->terminal = phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0);
    const json_t *dt = json_object_get(meta, "deletionTimestamp");
    p->deleting = dt && !json_is_null(dt);
    p->preemption_victim = p->deleting && is_preemption_victim(status);
    p->gated = json_array_size(json_object_get(spec, "schedulingGates")) > 0;

    if ((r = parse_time_ms(json_object_get(meta, "creationTimestamp"), 0, &p->creation_ms)) < 0 ||
        (r = parse_time_ms(json_object_get(status, "startTime"), SCHED_TIME_UNSET, &p->start_ms)) <
            0)
        return r;

    const json_t *labels = json_object_get(meta, "labels");
    if (labels && !json_is_null(labels) && !json_is_object(labels))
        return -EINVAL;
    _cleanup_json_ json_t *none = json_is_object(labels) ? NULL : json_object();
    p->labels = sched_intern_object(none ? none : labels);
    if (!p->labels)
        return -ENOMEM;

    if ((r = sched_pod_resources_from_spec(spec, &p->res)) < 0 ||
        (r = sched_tolerations_from_json(json_object_get(spec, "tolerations"), &p->tolerations,
                                         &p->n_tolerations)) < 0 ||
        (r = sched_node_affinity_from_spec(spec, &p->affinity)) < 0)
        return r;

    struct sched_taint unsched = {.key = (char *)SCHED_TAINT_UNSCHEDULABLE,
                                  .value = (char *)"",
                                  .effect = SCHED_EFFECT_NO_SCHEDULE};
    p->tolerates_unschedulable =
        sched_tolerations_tolerate(p->tolerations, p->n_tolerations, &unsched);
    guard = NULL;
    *ret = p;
    return 0;
}

bool sched_pod_more_important(const struct sched_pod *a, const struct sched_pod *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    return a->start_ms < b->start_ms;
}

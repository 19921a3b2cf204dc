/* Priority admission (see admission_priority.h). Texts are kube's:
 * plugin/pkg/admission/priority/admission.go (admitPod). */
#include "apiserver/admission_priority.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "apiserver/objects.h"
#include "store/store.h"
#include "util/json_cleanup.h"

#define PREEMPT_LOWER "PreemptLowerPriority"
/* More classes than any cluster has; the list is read only when no class is named. */
#define MAX_CLASSES 10000

struct resolved {
    json_int_t value;
    char policy[32];
    char name[254]; /* the globalDefault class, when one was used */
    bool found;
};

static void take_class(const json_t *pc, struct resolved *out)
{
    const char *policy = json_string_value(json_object_get(pc, "preemptionPolicy"));
    const char *name = obj_str(pc, "metadata.name");
    out->value = json_integer_value(json_object_get(pc, "value"));
    snprintf(out->policy, sizeof(out->policy), "%s", policy && *policy ? policy : PREEMPT_LOWER);
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    out->found = true;
}

static const struct kos_kind *pc_kind(void)
{
    return kos_kind_by_kind("scheduling.k8s.io", "PriorityClass");
}

static int get_class(struct store *st, const char *name, struct resolved *out)
{
    const struct kos_kind *k = pc_kind();
    char key[512];
    if (!k || kos_kind_key(k, NULL, name, key, sizeof(key)) < 0)
        return -ENOENT;
    struct store_kv kv = {0};
    int r = store_get(st, key, &kv);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *pc = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    if (!pc)
        return -EIO;
    take_class(pc, out);
    return 0;
}

/* The globalDefault class with the lowest value (several can exist after a race). */
static int default_class(struct store *st, struct resolved *out)
{
    const struct kos_kind *k = pc_kind();
    char prefix[256];
    if (!k || kos_kind_key_prefix(k, NULL, prefix, sizeof(prefix)) < 0)
        return 0;
    struct store_list l = {0};
    int r = store_list(st, prefix, NULL, MAX_CLASSES, &l);
    if (r < 0)
        return r;
    for (size_t i = 0; i < l.count; i++) {
        _cleanup_json_ json_t *pc = obj_decode_value(l.items[i].value, NULL);
        if (!pc || !json_is_true(json_object_get(pc, "globalDefault")))
            continue;
        json_int_t v = json_integer_value(json_object_get(pc, "value"));
        if (!out->found || v < out->value)
            take_class(pc, out);
    }
    store_list_clear(&l);
    return 0;
}

/* admission.NewForbidden: `pods "<name>" is forbidden: <cause>`. */
static int forbidden(const json_t *obj, struct kos_error **err, const char *cause)
{
    const char *name = obj_str(obj, "metadata.name");
    kos_error_set(err, 403, "Forbidden", "pods \"%s\" is forbidden: %s", name ? name : "", cause);
    if (*err)
        kos_error_set_details(*err, name, NULL, "pods");
    return -EACCES;
}

int admission_priority(struct resource_request *rr, json_t *obj, struct kos_error **err)
{
    if (strcmp(rr->kind->kind, "Pod") != 0 || rr->kind->group[0] || rr->sub[0])
        return 0;
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return 0; /* validation answers */
    const char *pcn = json_string_value(json_object_get(spec, "priorityClassName"));
    struct resolved res = {.value = 0, .policy = PREEMPT_LOWER};
    int r = 0;
    if (!pcn || !*pcn) {
        r = default_class(rr->srv->store, &res);
        if (r == 0 && res.found &&
            json_object_set_new(spec, "priorityClassName", json_string(res.name)) < 0)
            r = -ENOMEM;
    } else {
        r = get_class(rr->srv->store, pcn, &res);
        if (r == -ENOENT && strcmp(pcn, "system-cluster-critical") == 0) {
            res.value = PRIORITY_SYSTEM_CLUSTER_CRITICAL;
            r = 0;
        } else if (r == -ENOENT && strcmp(pcn, "system-node-critical") == 0) {
            res.value = PRIORITY_SYSTEM_NODE_CRITICAL;
            r = 0;
        } else if (r == -ENOENT) {
            char cause[400];
            snprintf(cause, sizeof(cause), "no PriorityClass with name %s was found", pcn);
            return forbidden(obj, err, cause);
        }
    }
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading PriorityClasses failed: %s",
                             strerror(-r));
    const json_t *given = json_object_get(spec, "priority");
    char cause[400];
    if (json_is_integer(given) && json_integer_value(given) != res.value) {
        snprintf(cause, sizeof(cause),
                 "the integer value of priority (%lld) must not be provided in pod spec; "
                 "priority admission controller computed %lld from the given PriorityClass name",
                 (long long)json_integer_value(given), (long long)res.value);
        return forbidden(obj, err, cause);
    }
    const char *gp = json_string_value(json_object_get(spec, "preemptionPolicy"));
    if (gp && *gp && strcmp(gp, res.policy) != 0) {
        snprintf(cause, sizeof(cause),
                 "the string value of PreemptionPolicy (%s) must not be provided in pod spec; "
                 "priority admission controller computed %s from the given PriorityClass name",
                 gp, res.policy);
        return forbidden(obj, err, cause);
    }
    if (json_object_set_new(spec, "priority", json_integer(res.value)) < 0 ||
        json_object_set_new(spec, "preemptionPolicy", json_string(res.policy)) < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return 0;
}

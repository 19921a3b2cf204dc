/* PATCH dispatch: picks the patch implementation for the request's patch type and enforces
 * what kube-apiserver enforces around it (a kind's object must stay a JSON object), plus the
 * strategic merge patch metadata (patchStrategy / patchMergeKey) of the built-in kinds.
 *
 * The metadata table mirrors the Go struct tags in k8s.io/api (core/v1, apps/v1, batch/v1,
 * policy/v1, storage/v1) and k8s.io/apimachinery meta/v1. It is deliberately small and
 * self-contained; it can later be replaced by the generated schema tables (api/schema.h). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "api/patch.h"
#include "api/patch_internal.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* Where a rule's field path is anchored. */
enum rule_scope {
    SCOPE_ROOT,      /* the path from the object root, exactly */
    SCOPE_META,      /* under any ObjectMeta: "metadata" or "<...>.metadata" */
    SCOPE_POD,       /* under any PodSpec (pods, pod templates, job templates) */
    SCOPE_CONTAINER, /* under any container of any PodSpec */
};

struct rule {
    const char *kind; /* NULL: any kind */
    enum rule_scope scope;
    const char *field;
    const char *merge_key;
    unsigned strategy;
};

#define MERGE  KOS_PATCH_STRATEGY_MERGE
#define RETAIN KOS_PATCH_STRATEGY_RETAIN_KEYS

static const struct rule rules[] = {
    /* meta/v1 ObjectMeta */
    {NULL, SCOPE_META, "finalizers", NULL, MERGE},
    {NULL, SCOPE_META, "ownerReferences", "uid", MERGE},
    /* core/v1 PodSpec */
    {NULL, SCOPE_POD, "volumes", "name", MERGE | RETAIN},
    {NULL, SCOPE_POD, "initContainers", "name", MERGE},
    {NULL, SCOPE_POD, "containers", "name", MERGE},
    {NULL, SCOPE_POD, "ephemeralContainers", "name", MERGE},
    {NULL, SCOPE_POD, "imagePullSecrets", "name", MERGE},
    {NULL, SCOPE_POD, "hostAliases", "ip", MERGE},
    {NULL, SCOPE_POD, "topologySpreadConstraints", "topologyKey", MERGE},
    {NULL, SCOPE_POD, "schedulingGates", "name", MERGE},
    {NULL, SCOPE_POD, "resourceClaims", "name", MERGE | RETAIN},
    /* core/v1 Container and EphemeralContainerCommon */
    {NULL, SCOPE_CONTAINER, "ports", "containerPort", MERGE},
    {NULL, SCOPE_CONTAINER, "env", "name", MERGE},
    {NULL, SCOPE_CONTAINER, "volumeMounts", "mountPath", MERGE},
    {NULL, SCOPE_CONTAINER, "volumeDevices", "devicePath", MERGE},
    /* core/v1 PodStatus */
    {"Pod", SCOPE_ROOT, "status.podIPs", "ip", MERGE},
    {"Pod", SCOPE_ROOT, "status.hostIPs", "ip", MERGE},
    {"Pod", SCOPE_ROOT, "status.resourceClaimStatuses", "name", MERGE | RETAIN},
    /* core/v1 others */
    {"Service", SCOPE_ROOT, "spec.ports", "port", MERGE},
    {"ServiceAccount", SCOPE_ROOT, "secrets", "name", MERGE},
    {"Node", SCOPE_ROOT, "spec.podCIDRs", NULL, MERGE},
    {"Node", SCOPE_ROOT, "status.addresses", "type", MERGE},
    /* apps/v1 DeploymentSpec.strategy */
    {"Deployment", SCOPE_ROOT, "spec.strategy", NULL, RETAIN},
    /* policy/v1 PodDisruptionBudgetSpec.selector */
    {"PodDisruptionBudget", SCOPE_ROOT, "spec.selector", NULL, KOS_PATCH_STRATEGY_REPLACE},
    /* storage/v1 CSINodeSpec.drivers */
    {"CSINode", SCOPE_ROOT, "spec.drivers", "name", MERGE},
    /* Every built-in status with conditions (Pod, Node, Namespace, PVC, Service, RC,
     * Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, PDB, HPA, Ingress...) merges
     * them by type. */
    {NULL, SCOPE_ROOT, "status.conditions", "type", MERGE},
};

/* Where a PodSpec sits in the objects that carry one. Paths are matched without looking at
 * the kind so that every workload reuses the pod rules. */
static const char *const pod_spec_paths[] = {
    "spec",                                /* Pod */
    "spec.template.spec",                  /* Deployment, ReplicaSet, StatefulSet, ... */
    "spec.jobTemplate.spec.template.spec", /* CronJob */
    "template.spec",                       /* PodTemplate */
};

static const char *const container_lists[] = {"containers", "initContainers",
                                              "ephemeralContainers"};

/* If path starts with "<prefix>." returns what follows, else NULL. */
static const char *after_prefix(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0 || path[n] != '.')
        return NULL;
    return path + n + 1;
}

static bool under_pod_spec(const char *path, const char *field)
{
    for (size_t i = 0; i < ARRAY_SIZE(pod_spec_paths); i++) {
        const char *rest = after_prefix(path, pod_spec_paths[i]);
        if (rest && strcmp(rest, field) == 0)
            return true;
    }
    return false;
}

static bool under_container(const char *path, const char *field)
{
    for (size_t i = 0; i < ARRAY_SIZE(pod_spec_paths); i++) {
        const char *rest = after_prefix(path, pod_spec_paths[i]);
        if (!rest)
            continue;
        for (size_t c = 0; c < ARRAY_SIZE(container_lists); c++) {
            const char *leaf = after_prefix(rest, container_lists[c]);
            if (leaf && strcmp(leaf, field) == 0)
                return true;
        }
    }
    return false;
}

static bool under_meta(const char *path, const char *field)
{
    const char *rest = after_prefix(path, "metadata");
    if (rest && strcmp(rest, field) == 0)
        return true;
    /* "<anything>.metadata.<field>": pod template and claim template metadata */
    size_t plen = strlen(path), flen = strlen(field);
    static const char meta[] = ".metadata.";
    size_t mlen = sizeof(meta) - 1;
    return plen > flen + mlen && strcmp(path + plen - flen, field) == 0 &&
           strncmp(path + plen - flen - mlen, meta, mlen) == 0;
}

void kos_patch_meta_lookup(const struct kos_kind *kind, const char *path,
                           struct kos_patch_meta *ret)
{
    *ret = (struct kos_patch_meta){0};
    if (!path)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
        const struct rule *r = &rules[i];
        if (r->kind && kind && kind->kind && strcmp(r->kind, kind->kind) != 0)
            continue;
        bool match = false;
        switch (r->scope) {
        case SCOPE_ROOT:
            match = strcmp(path, r->field) == 0;
            break;
        case SCOPE_META:
            match = under_meta(path, r->field);
            break;
        case SCOPE_POD:
            match = under_pod_spec(path, r->field);
            break;
        case SCOPE_CONTAINER:
            match = under_container(path, r->field);
            break;
        }
        if (match) {
            ret->strategy = r->strategy;
            ret->merge_key = r->merge_key;
            return;
        }
    }
}

int kos_patch_type_from_content_type(const char *content_type, enum patch_type *ret)
{
    static const struct {
        const char *media;
        enum patch_type type;
    } types[] = {
        {"application/json-patch+json", PATCH_JSON},
        {"application/merge-patch+json", PATCH_MERGE},
        {"application/strategic-merge-patch+json", PATCH_STRATEGIC},
        {"application/apply-patch+yaml", PATCH_APPLY},
    };

    if (!content_type)
        return -EOPNOTSUPP;
    const char *s = content_type;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strcspn(s, ";");
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        if (strlen(types[i].media) == n && strncasecmp(s, types[i].media, n) == 0) {
            *ret = types[i].type;
            return 0;
        }
    }
    return -EOPNOTSUPP;
}

/* kube-apiserver decodes the patched JSON into the kind's Go type; anything but an object
 * fails there with 422 Invalid. */
static int require_object(json_t **res, json_t **ret, struct kos_error **err)
{
    if (!json_is_object(*res)) {
        json_decref(*res);
        *res = NULL;
        return kos_error_set(err, 422, "Invalid",
                             "patch: Invalid value: the patched document is not a JSON object");
    }
    *ret = *res;
    *res = NULL;
    return 0;
}

int kos_patch_apply(enum patch_type type, const struct kos_kind *kind, const json_t *original,
                    const json_t *patch, json_t **ret, struct kos_error **err)
{
    _cleanup_json_ json_t *res = NULL;
    int rc;

    if (!original || !patch || !ret)
        return -EINVAL;

    switch (type) {
    case PATCH_JSON:
        rc = kos_json_patch(original, patch, &res, err);
        break;
    case PATCH_MERGE:
        /* evanphx/json-patch MergePatch: a null or scalar patch is not a merge patch at all
         * (400); an array replaces the document and then fails to decode (422 below). */
        if (!json_is_object(patch) && !json_is_array(patch))
            return kos_error_set(err, 400, "BadRequest", "Invalid JSON Patch");
        rc = kos_json_merge_patch(original, patch, &res, err);
        break;
    case PATCH_STRATEGIC:
        if (!json_is_object(patch))
            return kos_error_set(err, 400, "BadRequest",
                                 "json: cannot unmarshal %s into Go value of type "
                                 "map[string]interface {}",
                                 json_is_array(patch) ? "array" : "non-object value");
        rc = kos_strategic_merge_patch(kind, original, patch, &res, err);
        break;
    case PATCH_APPLY:
        /* Server-side apply, minimal tier: the applied configuration is merged onto the live
         * object as a strategic merge patch (maps merge, keyed lists merge by their merge
         * key, other lists are replaced, null removes). There is no field ownership yet:
         * fields this manager applied before and now omits are NOT removed, there are no
         * conflicts (409) and metadata.managedFields is not maintained. The caller handles
         * create-when-absent by applying onto an empty object. */
        if (!json_is_object(patch))
            return kos_error_set(err, 400, "BadRequest",
                                 "error decoding YAML: the applied configuration must be an "
                                 "object");
        rc = kos_strategic_merge_patch(kind, original, patch, &res, err);
        break;
    default:
        return kos_error_set(err, 415, "UnsupportedMediaType", "unknown patch type %d", (int)type);
    }
    if (rc < 0)
        return rc;
    return require_object(&res, ret, err);
}

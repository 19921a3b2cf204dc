/* The built-in kinds kos serves. One row per kind; everything generic (routing, discovery,
 * OpenAPI, storage keys) is derived from these rows. */
#include "api/kinds.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STRS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ALL       STRS("all")
#define CORE      "io.k8s.api.core.v1"

/* Most kinds: the full verb set. Events and leases have no status; bindings are a subresource. */
static const struct kos_kind kinds[] = {
    {"", "v1", "Namespace", "namespaces", "namespace", STRS("ns"), NULL, false,
     VERBS_ALL & ~VERB_DELETECOLLECTION, SUB_STATUS | SUB_FINALIZE, NAME_DNS1123_LABEL, CORE,
     false},
    {"", "v1", "Pod", "pods", "pod", STRS("po"), ALL, true, VERBS_ALL,
     SUB_STATUS | SUB_BINDING | SUB_LOG | SUB_EXEC | SUB_ATTACH | SUB_PORTFORWARD,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "Node", "nodes", "node", STRS("no"), NULL, false, VERBS_ALL, SUB_STATUS,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "ConfigMap", "configmaps", "configmap", STRS("cm"), NULL, true, VERBS_ALL, 0,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "Secret", "secrets", "secret", NULL, NULL, true, VERBS_ALL, 0,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", STRS("sa"), NULL, true,
     VERBS_ALL, SUB_TOKEN, NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "Service", "services", "service", STRS("svc"), ALL, true, VERBS_ALL, SUB_STATUS,
     NAME_DNS1035_LABEL, CORE, false},
    {"", "v1", "Endpoints", "endpoints", "endpoints", STRS("ep"), NULL, true, VERBS_ALL, 0,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "Event", "events", "event", STRS("ev"), NULL, true, VERBS_ALL, 0,
     NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", STRS("pv"), NULL, false,
     VERBS_ALL, SUB_STATUS, NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim",
     STRS("pvc"), NULL, true, VERBS_ALL, SUB_STATUS, NAME_DNS1123_SUBDOMAIN, CORE, false},
    {"apps", "v1", "Deployment", "deployments", "deployment", STRS("deploy"), ALL, true, VERBS_ALL,
     SUB_STATUS | SUB_SCALE, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.apps.v1", true},
    {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", STRS("rs"), ALL, true, VERBS_ALL,
     SUB_STATUS | SUB_SCALE, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.apps.v1", true},
    {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", STRS("sts"), ALL, true, VERBS_ALL,
     SUB_STATUS | SUB_SCALE, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.apps.v1", true},
    {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", STRS("ds"), ALL, true, VERBS_ALL,
     SUB_STATUS, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.apps.v1", true},
    {"batch", "v1", "Job", "jobs", "job", NULL, ALL, true, VERBS_ALL, SUB_STATUS,
     NAME_DNS1123_SUBDOMAIN, "io.k8s.api.batch.v1", true},
    {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget",
     STRS("pdb"), NULL, true, VERBS_ALL, SUB_STATUS, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.policy.v1",
     true},
    {"storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", STRS("sc"), NULL,
     false, VERBS_ALL, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.storage.v1", false},
    {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", STRS("pc"),
     NULL, false, VERBS_ALL, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.scheduling.v1", false},
    {"coordination.k8s.io", "v1", "Lease", "leases", "lease", NULL, NULL, true, VERBS_ALL, 0,
     NAME_DNS1123_SUBDOMAIN, "io.k8s.api.coordination.v1", false},
    {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", NULL, NULL, true,
     VERBS_ALL, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.discovery.v1", false},
    {"rbac.authorization.k8s.io", "v1", "Role", "roles", "role", NULL, NULL, true, VERBS_ALL, 0,
     NAME_PATH_SEGMENT, "io.k8s.api.rbac.v1", false},
    {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", NULL, NULL,
     true, VERBS_ALL, 0, NAME_PATH_SEGMENT, "io.k8s.api.rbac.v1", false},
    {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", NULL, NULL,
     false, VERBS_ALL, 0, NAME_PATH_SEGMENT, "io.k8s.api.rbac.v1", false},
    {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings",
     "clusterrolebinding", NULL, NULL, false, VERBS_ALL, 0, NAME_PATH_SEGMENT, "io.k8s.api.rbac.v1",
     false},
    {"authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", "", NULL,
     NULL, false, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authorization.v1", false,
     true},
    {"authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "", NULL, NULL,
     false, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authorization.v1", false, true},
    {"authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", "",
     NULL, NULL, true, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authorization.v1", false,
     true},
    {"authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", "", NULL,
     NULL, false, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authorization.v1", false,
     true},
    {"authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "", NULL, NULL,
     false, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authentication.v1", false, true},
    {"authentication.k8s.io", "v1alpha1", "SelfSubjectReview", "selfsubjectreviews", "", NULL, NULL,
     false, VERB_CREATE, 0, NAME_DNS1123_SUBDOMAIN, "io.k8s.api.authentication.v1alpha1", false,
     true, true},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* Callers iterate pointers (CRDs will add kinds that do not live in this table). */
static const struct kos_kind *kind_ptrs[NKINDS];
static pthread_once_t kind_ptrs_once = PTHREAD_ONCE_INIT;

static void fill_kind_ptrs(void)
{
    for (size_t i = 0; i < NKINDS; i++)
        kind_ptrs[i] = &kinds[i];
}

const struct kos_kind *const *kos_kinds_all(size_t *ret_count)
{
    pthread_once(&kind_ptrs_once, fill_kind_ptrs);
    *ret_count = NKINDS;
    return kind_ptrs;
}

const struct kos_kind *kos_kind_by_resource(const char *group, const char *version,
                                            const char *plural)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const struct kos_kind *k = &kinds[i];
        if (strcmp(k->group, group) == 0 && strcmp(k->version, version) == 0 &&
            strcmp(k->plural, plural) == 0)
            return k;
    }
    return NULL;
}

const struct kos_kind *kos_kind_by_kind(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const struct kos_kind *k = &kinds[i];
        if (strcmp(k->group, group) == 0 && strcmp(k->kind, kind) == 0)
            return k;
    }
    return NULL;
}

void kos_kind_api_version(const struct kos_kind *k, char *out, size_t size)
{
    if (k->group[0])
        snprintf(out, size, "%s/%s", k->group, k->version);
    else
        snprintf(out, size, "%s", k->version);
}

static int checked(int n, size_t size)
{
    if (n < 0 || (size_t)n >= size)
        return -ENAMETOOLONG;
    return 0;
}

int kos_kind_key_prefix(const struct kos_kind *k, const char *ns, char *out, size_t size)
{
    const char *g = k->group[0] ? k->group : NULL;
    int n;
    if (k->namespaced && ns && ns[0])
        n = g ? snprintf(out, size, "/registry/%s/%s/%s/", g, k->plural, ns)
              : snprintf(out, size, "/registry/%s/%s/", k->plural, ns);
    else
        n = g ? snprintf(out, size, "/registry/%s/%s/", g, k->plural)
              : snprintf(out, size, "/registry/%s/", k->plural);
    return checked(n, size);
}

int kos_kind_key(const struct kos_kind *k, const char *ns, const char *name, char *out, size_t size)
{
    if (k->namespaced && (!ns || !ns[0]))
        return -EINVAL;
    int r = kos_kind_key_prefix(k, k->namespaced ? ns : NULL, out, size);
    if (r < 0)
        return r;
    size_t used = strlen(out);
    return checked(snprintf(out + used, size - used, "%s", name), size - used);
}

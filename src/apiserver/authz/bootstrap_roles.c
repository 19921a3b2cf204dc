/* Bootstrap RBAC policy, transcribed from kube's bootstrappolicy testdata
 * (cluster-roles.yaml, cluster-role-bindings.yaml): lists are sorted there because
 * PolicyRuleBuilder sorts them, which is also how a real cluster stores them. */
#include "apiserver/authz/bootstrap_roles.h"

#include <string.h>

#include "apiserver/authz/rbac.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* Comma-separated lists; "" is the one-element list [""] (the core group), NULL is absent. */
struct brule {
    const char *verbs;
    const char *groups;
    const char *resources;
    const char *names;
    const char *urls;
};

#define R(v, g, r)                                                                                 \
    {                                                                                              \
        .verbs = v, .groups = g, .resources = r                                                    \
    }
#define RN(v, g, r, n)                                                                             \
    {                                                                                              \
        .verbs = v, .groups = g, .resources = r, .names = n                                        \
    }
#define U(v, u)                                                                                    \
    {                                                                                              \
        .verbs = v, .urls = u                                                                      \
    }
#define END                                                                                        \
    {                                                                                              \
        0                                                                                          \
    }

#define READ  "get,list,watch"
#define WRITE "create,delete,deletecollection,patch,update"
#define ALL   "create,delete,deletecollection,get,list,patch,update,watch"
#define EVENT "create,patch,update"

#define AGG_ADMIN "rbac.authorization.k8s.io/aggregate-to-admin"
#define AGG_EDIT  "rbac.authorization.k8s.io/aggregate-to-edit"
#define AGG_VIEW  "rbac.authorization.k8s.io/aggregate-to-view"

struct brole {
    const char *name;
    const char *label;     /* an extra label set to "true", or NULL */
    const char *aggregate; /* aggregationRule selecting this label = "true", or NULL */
    const struct brule *rules;
};

static const struct brule cluster_admin[] = {R("*", "*", "*"), U("*", "*"), END};

static const struct brule aggregate_to_admin[] = {
    R("create", "authorization.k8s.io", "localsubjectaccessreviews"),
    R(ALL, "rbac.authorization.k8s.io", "rolebindings,roles"),
    END,
};

static const struct brule aggregate_to_edit[] = {
    R(READ, "", "pods/attach,pods/exec,pods/portforward,pods/proxy,secrets,services/proxy"),
    R("impersonate", "", "serviceaccounts"),
    R(WRITE, "", "pods,pods/attach,pods/exec,pods/portforward,pods/proxy"),
    R("create", "", "pods/eviction"),
    R(WRITE, "",
      "configmaps,events,persistentvolumeclaims,replicationcontrollers,"
      "replicationcontrollers/scale,secrets,serviceaccounts,services,services/proxy"),
    R("create", "", "serviceaccounts/token"),
    R(WRITE, "apps",
      "daemonsets,deployments,deployments/rollback,deployments/scale,replicasets,"
      "replicasets/scale,statefulsets,statefulsets/scale"),
    R(WRITE, "autoscaling", "horizontalpodautoscalers"),
    R(WRITE, "batch", "cronjobs,jobs"),
    R(WRITE, "extensions",
      "daemonsets,deployments,deployments/rollback,deployments/scale,ingresses,networkpolicies,"
      "replicasets,replicasets/scale,replicationcontrollers/scale"),
    R(WRITE, "policy", "poddisruptionbudgets"),
    R(WRITE, "networking.k8s.io", "ingresses,networkpolicies"),
    R(ALL, "coordination.k8s.io", "leases"),
    END,
};

static const struct brule aggregate_to_view[] = {
    R(READ, "",
      "configmaps,endpoints,persistentvolumeclaims,persistentvolumeclaims/status,pods,"
      "replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,"
      "services/status"),
    R(READ, "",
      "bindings,events,limitranges,namespaces/status,pods/log,pods/status,"
      "replicationcontrollers/status,resourcequotas,resourcequotas/status"),
    R(READ, "", "namespaces"),
    R(READ, "discovery.k8s.io", "endpointslices"),
    R(READ, "apps",
      "controllerrevisions,daemonsets,daemonsets/status,deployments,deployments/scale,"
      "deployments/status,replicasets,replicasets/scale,replicasets/status,statefulsets,"
      "statefulsets/scale,statefulsets/status"),
    R(READ, "autoscaling", "horizontalpodautoscalers,horizontalpodautoscalers/status"),
    R(READ, "batch", "cronjobs,cronjobs/status,jobs,jobs/status"),
    R(READ, "extensions",
      "daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,ingresses,"
      "ingresses/status,networkpolicies,replicasets,replicasets/scale,replicasets/status,"
      "replicationcontrollers/scale"),
    R(READ, "policy", "poddisruptionbudgets,poddisruptionbudgets/status"),
    R(READ, "networking.k8s.io", "ingresses,ingresses/status,networkpolicies"),
    END,
};

static const struct brule auth_delegator[] = {
    R("create", "authentication.k8s.io", "tokenreviews"),
    R("create", "authorization.k8s.io", "subjectaccessreviews"),
    END,
};

static const struct brule basic_user[] = {
    R("create", "authorization.k8s.io", "selfsubjectaccessreviews,selfsubjectrulesreviews"),
    R("create", "authentication.k8s.io", "selfsubjectreviews"),
    END,
};

static const struct brule csr_nodeclient[] = {
    R("create", "certificates.k8s.io", "certificatesigningrequests/nodeclient"), END};
static const struct brule csr_selfnodeclient[] = {
    R("create", "certificates.k8s.io", "certificatesigningrequests/selfnodeclient"), END};
static const struct brule csr_client_approver[] = {
    RN("approve", "certificates.k8s.io", "signers", "kubernetes.io/kube-apiserver-client"), END};
static const struct brule csr_kubelet_client_approver[] = {
    RN("approve", "certificates.k8s.io", "signers", "kubernetes.io/kube-apiserver-client-kubelet"),
    END};
static const struct brule csr_kubelet_serving_approver[] = {
    RN("approve", "certificates.k8s.io", "signers", "kubernetes.io/kubelet-serving"), END};
static const struct brule csr_legacy_unknown_approver[] = {
    RN("approve", "certificates.k8s.io", "signers", "kubernetes.io/legacy-unknown"), END};

static const struct brule discovery[] = {
    U("get", "/api,/api/*,/apis,/apis/*,/healthz,/livez,/openapi,/openapi/*,/readyz,/version,"
             "/version/"),
    END,
};

static const struct brule heapster[] = {
    R(READ, "", "events,namespaces,nodes,pods"),
    R(READ, "extensions", "deployments"),
    END,
};

static const struct brule kube_aggregator[] = {R(READ, "", "endpoints,services"), END};

static const struct brule kube_controller_manager[] = {
    R(EVENT, ",events.k8s.io", "events"),
    R("create", "coordination.k8s.io", "leases"),
    RN("get,update", "coordination.k8s.io", "leases", "kube-controller-manager"),
    R("create", "", "secrets,serviceaccounts"),
    R("delete", "", "secrets"),
    R("get", "", "configmaps,namespaces,secrets,serviceaccounts"),
    R("update", "", "secrets,serviceaccounts"),
    R("create", "authentication.k8s.io", "tokenreviews"),
    R("create", "authorization.k8s.io", "subjectaccessreviews"),
    R("list,watch", "*", "*"),
    R("create", "", "serviceaccounts/token"),
    END,
};

/* Controller roles (bootstrappolicy.ControllerRoles) of the controllers kos runs, each bound to
 * its service account in kube-system as kube-controller-manager's
 * --use-service-account-credentials expects. */
static const struct brule ctl_clusterrole_aggregation[] = {
    R("escalate,get,list,patch,update,watch", "rbac.authorization.k8s.io", "clusterroles"),
    END,
};

static const struct brule ctl_garbage_collector[] = {
    R("delete,get,list,patch,update,watch", "*", "*"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

static const struct brule ctl_namespace[] = {
    R("delete,get,list,watch", "", "namespaces"),
    R("update", "", "namespaces/finalize,namespaces/status"),
    R("delete,deletecollection,get,list", "*", "*"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

/* kube's is create and update: its lister reads from a cache; kos's reads the one object */
static const struct brule ctl_root_ca_cert_publisher[] = {
    R("create,get,update", "", "configmaps"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

static const struct brule ctl_node[] = {
    R("delete,get,list,patch,update", "", "nodes"), R("patch,update", "", "nodes/status"),
    R("patch,update", "", "pods/status"),           R("delete,list", "", "pods"),
    R(EVENT, ",events.k8s.io", "events"),           END,
};

static const struct brule kube_dns[] = {R("list,watch", "", "endpoints,services"), END};

static const struct brule kube_scheduler[] = {
    R(EVENT, ",events.k8s.io", "events"),
    R("create", "coordination.k8s.io", "leases"),
    RN("get,update", "coordination.k8s.io", "leases", "kube-scheduler"),
    R(READ, "", "nodes"),
    R("delete,get,list,watch", "", "pods"),
    R("create", "", "bindings,pods/binding"),
    R("patch,update", "", "pods/status"),
    R(READ, "", "replicationcontrollers,services"),
    R(READ, "apps,extensions", "replicasets"),
    R(READ, "apps", "statefulsets"),
    R(READ, "policy", "poddisruptionbudgets"),
    R(READ, "", "persistentvolumeclaims,persistentvolumes"),
    R("create", "authentication.k8s.io", "tokenreviews"),
    R("create", "authorization.k8s.io", "subjectaccessreviews"),
    R(READ, "storage.k8s.io", "csinodes"),
    R(READ, "", "namespaces"),
    R(READ, "storage.k8s.io", "csidrivers"),
    R(READ, "storage.k8s.io", "csistoragecapacities"),
    END,
};

static const struct brule kubelet_api_admin[] = {
    R(READ, "", "nodes"),
    R("proxy", "", "nodes"),
    R("*", "", "nodes/log,nodes/metrics,nodes/proxy,nodes/stats"),
    END,
};

static const struct brule monitoring[] = {
    U("get", "/healthz,/healthz/*,/livez,/livez/*,/metrics,/metrics/slis,/readyz,/readyz/*"),
    END,
};

static const struct brule node[] = {
    R("create", "authentication.k8s.io", "tokenreviews"),
    R("create", "authorization.k8s.io", "localsubjectaccessreviews,subjectaccessreviews"),
    R(READ, "", "services"),
    R("create,get,list,watch", "", "nodes"),
    R("patch,update", "", "nodes/status"),
    R("patch,update", "", "nodes"),
    R(EVENT, "", "events"),
    R(READ, "", "pods"),
    R("create,delete", "", "pods"),
    R("patch,update", "", "pods/status"),
    R("create", "", "pods/eviction"),
    R(READ, "", "configmaps,secrets"),
    R("get", "", "persistentvolumeclaims,persistentvolumes"),
    R("get", "", "endpoints"),
    R("create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"),
    R("create,delete,get,patch,update", "coordination.k8s.io", "leases"),
    R("get", "storage.k8s.io", "volumeattachments"),
    R("create", "", "serviceaccounts/token"),
    R("get,patch,update", "", "persistentvolumeclaims/status"),
    R(READ, "storage.k8s.io", "csidrivers"),
    R("create,delete,get,patch,update", "storage.k8s.io", "csinodes"),
    R(READ, "node.k8s.io", "runtimeclasses"),
    END,
};

static const struct brule node_bootstrapper[] = {
    R("create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"), END};

static const struct brule node_problem_detector[] = {
    R("get", "", "nodes"),
    R("patch", "", "nodes/status"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

static const struct brule node_proxier[] = {
    R("list,watch", "", "endpoints,services"),
    R(READ, "", "nodes"),
    R(EVENT, ",events.k8s.io", "events"),
    R("list,watch", "discovery.k8s.io", "endpointslices"),
    END,
};

static const struct brule pv_provisioner[] = {
    R("create,delete,get,list,watch", "", "persistentvolumes"),
    R("get,list,update,watch", "", "persistentvolumeclaims"),
    R(READ, "storage.k8s.io", "storageclasses"),
    R("watch", "", "events"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

static const struct brule public_info_viewer[] = {
    U("get", "/healthz,/livez,/readyz,/version,/version/"), END};

static const struct brule sa_issuer_discovery[] = {
    U("get", "/.well-known/openid-configuration,/openid/v1/jwks"), END};

static const struct brule volume_scheduler[] = {
    R("get,list,patch,update,watch", "", "persistentvolumes"),
    R(READ, "storage.k8s.io", "storageclasses"),
    R("get,list,patch,update,watch", "", "persistentvolumeclaims"),
    END,
};

static const struct brule ctl_endpoint[] = {
    R(READ, "", "pods,services"),
    R("create,delete,get,list,update", "", "endpoints"),
    R("create", "", "endpoints/restricted"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

static const struct brule ctl_endpointslice[] = {
    R(READ, "", "nodes,pods,services"),
    R("create,delete,get,list,update", "discovery.k8s.io", "endpointslices"),
    R(EVENT, ",events.k8s.io", "events"),
    END,
};

/* What the node agent's Service proxy reads beyond the Node authorizer's grants (kos's own:
 * kube-proxy runs as system:kube-proxy with system:node-proxier). */
static const struct brule node_service_proxy[] = {
    R("list,watch", "", "services"),
    R("list,watch", "discovery.k8s.io", "endpointslices"),
    END,
};

static const struct brule none[] = {END};

/* By name, as kube lists them. */
static const struct brole roles[] = {
    {"admin", NULL, AGG_ADMIN, none},
    {"cluster-admin", NULL, NULL, cluster_admin},
    {"edit", AGG_ADMIN, AGG_EDIT, none},
    {"kos:node-service-proxy", NULL, NULL, node_service_proxy},
    {"system:aggregate-to-admin", AGG_ADMIN, NULL, aggregate_to_admin},
    {"system:aggregate-to-edit", AGG_EDIT, NULL, aggregate_to_edit},
    {"system:aggregate-to-view", AGG_VIEW, NULL, aggregate_to_view},
    {"system:auth-delegator", NULL, NULL, auth_delegator},
    {"system:basic-user", NULL, NULL, basic_user},
    {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", NULL, NULL,
     csr_nodeclient},
    {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", NULL, NULL,
     csr_selfnodeclient},
    {"system:certificates.k8s.io:kube-apiserver-client-approver", NULL, NULL, csr_client_approver},
    {"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", NULL, NULL,
     csr_kubelet_client_approver},
    {"system:certificates.k8s.io:kubelet-serving-approver", NULL, NULL,
     csr_kubelet_serving_approver},
    {"system:certificates.k8s.io:legacy-unknown-approver", NULL, NULL, csr_legacy_unknown_approver},
    {"system:controller:clusterrole-aggregation-controller", NULL, NULL,
     ctl_clusterrole_aggregation},
    {"system:controller:endpoint-controller", NULL, NULL, ctl_endpoint},
    {"system:controller:endpointslice-controller", NULL, NULL, ctl_endpointslice},
    {"system:controller:generic-garbage-collector", NULL, NULL, ctl_garbage_collector},
    {"system:controller:namespace-controller", NULL, NULL, ctl_namespace},
    {"system:controller:node-controller", NULL, NULL, ctl_node},
    {"system:controller:root-ca-cert-publisher", NULL, NULL, ctl_root_ca_cert_publisher},
    {"system:discovery", NULL, NULL, discovery},
    {"system:heapster", NULL, NULL, heapster},
    {"system:kube-aggregator", NULL, NULL, kube_aggregator},
    {"system:kube-controller-manager", NULL, NULL, kube_controller_manager},
    {"system:kube-dns", NULL, NULL, kube_dns},
    {"system:kube-scheduler", NULL, NULL, kube_scheduler},
    {"system:kubelet-api-admin", NULL, NULL, kubelet_api_admin},
    {"system:monitoring", NULL, NULL, monitoring},
    {"system:node", NULL, NULL, node},
    {"system:node-bootstrapper", NULL, NULL, node_bootstrapper},
    {"system:node-problem-detector", NULL, NULL, node_problem_detector},
    {"system:node-proxier", NULL, NULL, node_proxier},
    {"system:persistent-volume-provisioner", NULL, NULL, pv_provisioner},
    {"system:public-info-viewer", NULL, NULL, public_info_viewer},
    {"system:service-account-issuer-discovery", NULL, NULL, sa_issuer_discovery},
    {"system:volume-scheduler", NULL, NULL, volume_scheduler},
    {"view", AGG_EDIT, AGG_VIEW, none},
};

struct bsubject {
    const char *kind; /* NULL ends the list */
    const char *name;
    const char *namespace_;
};

struct bbinding {
    const char *name; /* of the binding and of the ClusterRole it binds */
    struct bsubject subjects[3];
};

#define GROUP(n)                                                                                   \
    {                                                                                              \
        "Group", n, NULL                                                                           \
    }
#define USER(n)                                                                                    \
    {                                                                                              \
        "User", n, NULL                                                                            \
    }

static const struct bbinding bindings[] = {
    {"cluster-admin", {GROUP("system:masters")}},
    {"system:basic-user", {GROUP("system:authenticated")}},
    {"system:controller:clusterrole-aggregation-controller",
     {{"ServiceAccount", "clusterrole-aggregation-controller", "kube-system"}}},
    {"system:controller:endpoint-controller",
     {{"ServiceAccount", "endpoint-controller", "kube-system"}}},
    {"system:controller:endpointslice-controller",
     {{"ServiceAccount", "endpointslice-controller", "kube-system"}}},
    {"system:controller:generic-garbage-collector",
     {{"ServiceAccount", "generic-garbage-collector", "kube-system"}}},
    {"system:controller:namespace-controller",
     {{"ServiceAccount", "namespace-controller", "kube-system"}}},
    {"system:controller:node-controller", {{"ServiceAccount", "node-controller", "kube-system"}}},
    {"system:controller:root-ca-cert-publisher",
     {{"ServiceAccount", "root-ca-cert-publisher", "kube-system"}}},
    {"system:discovery", {GROUP("system:authenticated")}},
    {"system:kube-controller-manager", {USER("system:kube-controller-manager")}},
    {"system:kube-dns", {{"ServiceAccount", "kube-dns", "kube-system"}}},
    {"system:kube-scheduler", {USER("system:kube-scheduler")}},
    {"system:monitoring", {GROUP("system:monitoring")}},
    /* kept without subjects since the Node authorizer took over (kube does the same) */
    {"system:node", {{0}}},
    {"system:node-proxier", {USER("system:kube-proxy")}},
    /* kos runs the Service proxy inside every node agent, with the node's credentials */
    {"kos:node-service-proxy", {GROUP("system:nodes")}},
    {"system:public-info-viewer", {GROUP("system:authenticated"), GROUP("system:unauthenticated")}},
    {"system:service-account-issuer-discovery", {GROUP("system:serviceaccounts")}},
    {"system:volume-scheduler", {USER("system:kube-scheduler")}},
};

static json_t *split(const char *list)
{
    json_t *a = json_array();
    for (const char *p = list; a;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (json_array_append_new(a, json_stringn(p, len)) < 0) {
            json_decref(a);
            return NULL;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return a;
}

static int set_list(json_t *obj, const char *key, const char *list)
{
    return list ? json_object_set_new(obj, key, split(list)) : 0;
}

static json_t *rules_json(const struct brule *rules)
{
    _cleanup_json_ json_t *a = json_array();
    for (const struct brule *r = rules; a && r->verbs; r++) {
        json_t *o = json_object();
        if (json_array_append_new(a, o) < 0 || set_list(o, "verbs", r->verbs) < 0 ||
            set_list(o, "apiGroups", r->groups) < 0 || set_list(o, "resources", r->resources) < 0 ||
            set_list(o, "resourceNames", r->names) < 0 ||
            set_list(o, "nonResourceURLs", r->urls) < 0)
            return NULL;
    }
    return TAKE_PTR(a);
}

static json_t *metadata(const char *name, const char *label)
{
    json_t *m = json_pack("{s:s, s:{s:s}, s:{s:s}}", "name", name, "labels",
                          "kubernetes.io/bootstrapping", "rbac-defaults", "annotations",
                          "rbac.authorization.kubernetes.io/autoupdate", "true");
    if (m && label &&
        json_object_set_new(json_object_get(m, "labels"), label, json_string("true")) < 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static json_t *role_json(const struct brole *br)
{
    _cleanup_json_ json_t *o =
        json_pack("{s:s, s:s, s:o*}", "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
                  "ClusterRole", "metadata", metadata(br->name, br->label));
    if (!o || !json_object_get(o, "metadata"))
        return NULL;
    if (br->aggregate && json_object_set_new(o, "aggregationRule",
                                             json_pack("{s:[{s:{s:s}}]}", "clusterRoleSelectors",
                                                       "matchLabels", br->aggregate, "true")) < 0)
        return NULL;
    if (json_object_set_new(o, "rules", rules_json(br->rules)) < 0)
        return NULL;
    return TAKE_PTR(o);
}

static json_t *binding_json(const struct bbinding *bb)
{
    _cleanup_json_ json_t *o = json_pack(
        "{s:s, s:s, s:o*, s:{s:s, s:s, s:s}}", "apiVersion", "rbac.authorization.k8s.io/v1", "kind",
        "ClusterRoleBinding", "metadata", metadata(bb->name, NULL), "roleRef", "apiGroup",
        "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", bb->name);
    if (!o || !json_object_get(o, "metadata"))
        return NULL;
    if (!bb->subjects[0].kind)
        return TAKE_PTR(o);
    json_t *subjects = json_array();
    if (json_object_set_new(o, "subjects", subjects) < 0)
        return NULL;
    for (const struct bsubject *s = bb->subjects; s < bb->subjects + 3 && s->kind; s++) {
        json_t *js = s->namespace_ ? json_pack("{s:s, s:s, s:s}", "kind", s->kind, "name", s->name,
                                               "namespace", s->namespace_)
                                   : json_pack("{s:s, s:s, s:s}", "kind", s->kind, "apiGroup",
                                               "rbac.authorization.k8s.io", "name", s->name);
        if (json_array_append_new(subjects, js) < 0)
            return NULL;
    }
    return TAKE_PTR(o);
}

static void rbac_freep(struct rbac_authorizer **r)
{
    rbac_free(*r);
}

/* Fills the aggregated roles' rules with what the aggregation controller would write. */
static int fill_aggregated(json_t *objs)
{
    _cleanup_(rbac_freep) struct rbac_authorizer *r = NULL;
    int k = rbac_new(&r);
    if (k == 0)
        k = rbac_apply_all(r, objs);
    for (size_t i = 0; k >= 0 && i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        if (!json_object_get(o, "aggregationRule"))
            continue;
        json_t *rules = NULL;
        k = rbac_cluster_role_rules(
            r, json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), &rules);
        if (k == 0)
            k = json_object_set_new(o, "rules", rules);
    }
    return k < 0 ? k : 0;
}

json_t *authz_bootstrap_objects(void)
{
    _cleanup_json_ json_t *a = json_array();
    for (size_t i = 0; a && i < ARRAY_SIZE(roles); i++)
        if (json_array_append_new(a, role_json(&roles[i])) < 0)
            return NULL;
    for (size_t i = 0; a && i < ARRAY_SIZE(bindings); i++)
        if (json_array_append_new(a, binding_json(&bindings[i])) < 0)
            return NULL;
    if (!a || fill_aggregated(a) < 0)
        return NULL;
    return TAKE_PTR(a);
}

json_t *authz_bootstrap_node_rules(void)
{
    return rules_json(node);
}

/* The smaller API groups: storage.k8s.io StorageClass, scheduling.k8s.io PriorityClass,
 * rbac.authorization.k8s.io, policy PodDisruptionBudget, coordination.k8s.io Lease
 * (pkg/apis/<group>/validation). */
#include <arpa/inet.h>
#include "api/validate_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

#define RBAC_GROUP        "rbac.authorization.k8s.io"
#define HIGHEST_USER_PRIO 1000000000LL

static bool in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; s && list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

/* ---- StorageClass ---- */

static void v_storageclass(struct vctx *v, const json_t *obj)
{
    static const char *const reclaim[] = {"Delete", "Retain", NULL};
    static const char *const binding[] = {"Immediate", "WaitForFirstConsumer", NULL};
    const char *prov = v_str(v, obj, "provisioner", "");
    if (!prov || !*prov) {
        v_required(v, "provisioner", "");
    } else if (strlen(prov) > 253) {
        v_too_long(v, "provisioner", 253);
    } else {
        _cleanup_free_ char *lower = strdup(prov);
        if (!lower) {
            v->oom = true;
            return;
        }
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        const char *msgs[6];
        int n = qualified_name_msgs(lower, msgs);
        for (int i = 0; i < n; i++)
            v_invalid_str(v, "provisioner", prov, msgs[i]);
    }
    const json_t *params = v_strmap(v, obj, "parameters", "");
    if (json_object_size(params) > 512)
        v_too_long(v, "parameters", 512);
    const char *rp = v_str(v, obj, "reclaimPolicy", "");
    if (rp && !in_list(rp, reclaim))
        v_not_supported(v, "reclaimPolicy", rp, reclaim);
    const char *bm = v_str(v, obj, "volumeBindingMode", "");
    if (!bm)
        v_required(v, "volumeBindingMode", "");
    else if (!in_list(bm, binding))
        v_not_supported(v, "volumeBindingMode", bm, binding);
    bool b;
    v_bool(v, obj, "allowVolumeExpansion", "", &b);
}

static void v_storageclass_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    if (!json_equal_loose(json_object_get(obj, "parameters"), json_object_get(old, "parameters")))
        v_forbidden(v, "parameters", "updates to parameters are forbidden.");
    const char *p = json_string_value(json_object_get(obj, "provisioner"));
    const char *op = json_string_value(json_object_get(old, "provisioner"));
    if (strcmp(p ? p : "", op ? op : "") != 0)
        v_forbidden(v, "provisioner", "updates to provisioner are forbidden.");
    const char *r = json_string_value(json_object_get(obj, "reclaimPolicy"));
    const char *orp = json_string_value(json_object_get(old, "reclaimPolicy"));
    if (strcmp(r ? r : "", orp ? orp : "") != 0)
        v_forbidden(v, "reclaimPolicy", "updates to reclaimPolicy are forbidden.");
    const char *m = json_string_value(json_object_get(obj, "volumeBindingMode"));
    const char *om = json_string_value(json_object_get(old, "volumeBindingMode"));
    if (strcmp(m ? m : "", om ? om : "") != 0)
        v_invalid_str(v, "volumeBindingMode", m ? m : "", "field is immutable");
}

/* ---- PriorityClass ---- */

static void v_priorityclass(struct vctx *v, const json_t *obj)
{
    static const struct {
        const char *name;
        int64_t value;
    } system_classes[] = {
        {"system-node-critical", 2000001000},
        {"system-cluster-critical", 2000000000},
    };
    static const char *const policies[] = {"Never", "PreemptLowerPriority", NULL};
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    int64_t value = 0;
    v_int(v, obj, "value", "", 32, &value);
    bool global = false;
    v_bool(v, obj, "globalDefault", "", &global);
    if (name && !strncmp(name, "system-", 7)) {
        char err[256];
        snprintf(err, sizeof(err), "%s is not a known system priority class", name);
        bool ok = false;
        for (size_t i = 0; i < sizeof(system_classes) / sizeof(system_classes[0]); i++) {
            if (strcmp(name, system_classes[i].name) != 0)
                continue;
            if (value != system_classes[i].value)
                snprintf(err, sizeof(err), "value of %s PriorityClass must be %lld", name,
                         (long long)system_classes[i].value);
            else if (global)
                snprintf(err, sizeof(err), "globalDefault of %s PriorityClass must be false", name);
            else
                ok = true;
        }
        if (!ok) {
            char d[512];
            snprintf(d, sizeof(d),
                     "priority class names with 'system-' prefix are reserved for system use "
                     "only. error: %s",
                     err);
            v_forbidden(v, "metadata.name", d);
        }
    } else if (value > HIGHEST_USER_PRIO) {
        v_forbidden(v, "value", "maximum allowed value of a user defined priority is 1000000000");
    }
    const char *pp = v_str(v, obj, "preemptionPolicy", "");
    if (pp && !in_list(pp, policies))
        v_not_supported(v, "preemptionPolicy", pp, policies);
}

static void v_priorityclass_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    if (!json_equal_loose(json_object_get(obj, "value"), json_object_get(old, "value")))
        v_forbidden(v, "value", "may not be changed in an update.");
    const char *p = json_string_value(json_object_get(obj, "preemptionPolicy"));
    const char *op = json_string_value(json_object_get(old, "preemptionPolicy"));
    if (strcmp(p ? p : "", op ? op : "") != 0)
        v_invalid_str(v, "preemptionPolicy", p ? p : "", "field is immutable");
}

/* ---- RBAC ---- */

static size_t str_array_len(struct vctx *v, const json_t *rule, const char *key, const char *path)
{
    char f[FP_MAX];
    const json_t *a = v_arr(v, rule, key, path);
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!json_is_string(json_array_get(a, i)))
            v_decode_error(v, fp(f, "%s.%s", path, key), json_array_get(a, i), "string");
    return json_array_size(a);
}

static void v_rules(struct vctx *v, const json_t *obj, bool namespaced)
{
    char p[FP_MAX], f[FP_MAX];
    const json_t *rules = v_arr(v, obj, "rules", "");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        fp(p, "rules[%zu]", i);
        const json_t *r = v_elem_obj(v, rules, i, p);
        if (!r)
            continue;
        if (str_array_len(v, r, "verbs", p) == 0)
            v_required(v, fp(f, "%s.verbs", p), "verbs must contain at least one value");
        size_t urls = str_array_len(v, r, "nonResourceURLs", p);
        size_t groups = str_array_len(v, r, "apiGroups", p);
        size_t resources = str_array_len(v, r, "resources", p);
        size_t names = str_array_len(v, r, "resourceNames", p);
        if (urls > 0) {
            _cleanup_free_ char *repr = go_strlist_repr(json_object_get(r, "nonResourceURLs"));
            if (namespaced)
                v_invalid_repr(v, fp(f, "%s.nonResourceURLs", p), repr,
                               "namespaced rules cannot apply to non-resource URLs");
            if (groups > 0 || resources > 0 || names > 0)
                v_invalid_repr(v, fp(f, "%s.nonResourceURLs", p), repr,
                               "rules cannot apply to both regular resources and non-resource "
                               "URLs");
            continue;
        }
        if (groups == 0)
            v_required(v, fp(f, "%s.apiGroups", p),
                       "resource rules must supply at least one api group");
        if (resources == 0)
            v_required(v, fp(f, "%s.resources", p),
                       "resource rules must supply at least one resource");
    }
}

static void v_role(struct vctx *v, const json_t *obj)
{
    v_rules(v, obj, true);
}

static void v_clusterrole(struct vctx *v, const json_t *obj)
{
    /* an aggregated ClusterRole gets its rules from the controller */
    if (json_object_get(obj, "aggregationRule") &&
        !json_is_null(json_object_get(obj, "aggregationRule")))
        return;
    v_rules(v, obj, false);
}

static void v_binding(struct vctx *v, const json_t *obj, bool namespaced)
{
    char p[FP_MAX], f[FP_MAX];
    static const char *const rbac_group[] = {RBAC_GROUP, NULL};
    static const char *const role_kinds[] = {"Role", "ClusterRole", NULL};
    static const char *const cluster_kinds[] = {"ClusterRole", NULL};
    static const char *const subject_kinds[] = {"ServiceAccount", "User", "Group", NULL};
    static const char *const empty_group[] = {"", NULL};
    const json_t *ref = v_obj(v, obj, "roleRef", "");
    const char *group = v_str(v, ref, "apiGroup", "roleRef");
    const char *kind = v_str(v, ref, "kind", "roleRef");
    const char *name = v_str(v, ref, "name", "roleRef");
    if (strcmp(group ? group : "", RBAC_GROUP) != 0)
        v_not_supported(v, "roleRef.apiGroup", group ? group : "", rbac_group);
    const char *const *kinds = namespaced ? role_kinds : cluster_kinds;
    if (!in_list(kind ? kind : "", kinds))
        v_not_supported(v, "roleRef.kind", kind ? kind : "", kinds);
    if (!name || !*name) {
        v_required(v, "roleRef.name", "");
    } else {
        const char *msgs[6];
        int n = name_msgs(NAME_PATH_SEGMENT, name, msgs);
        for (int i = 0; i < n; i++)
            v_invalid_str(v, "roleRef.name", name, msgs[i]);
    }
    const json_t *subjects = v_arr(v, obj, "subjects", "");
    for (size_t i = 0; i < json_array_size(subjects); i++) {
        fp(p, "subjects[%zu]", i);
        const json_t *s = v_elem_obj(v, subjects, i, p);
        if (!s)
            continue;
        const char *sname = v_str(v, s, "name", p);
        const char *skind = v_str(v, s, "kind", p);
        const char *sgroup = v_str(v, s, "apiGroup", p);
        const char *sns = v_str(v, s, "namespace", p);
        sname = sname ? sname : "";
        skind = skind ? skind : "";
        sgroup = sgroup ? sgroup : "";
        if (!*sname)
            v_required(v, fp(f, "%s.name", p), "");
        if (!strcmp(skind, "ServiceAccount")) {
            if (*sname)
                v_dns1123_subdomain(v, fp(f, "%s.name", p), sname);
            if (*sgroup)
                v_not_supported(v, fp(f, "%s.apiGroup", p), sgroup, empty_group);
            if (!namespaced && (!sns || !*sns))
                v_required(v, fp(f, "%s.namespace", p), "");
        } else if (!strcmp(skind, "User") || !strcmp(skind, "Group")) {
            if (strcmp(sgroup, RBAC_GROUP) != 0)
                v_not_supported(v, fp(f, "%s.apiGroup", p), sgroup, rbac_group);
        } else {
            v_not_supported(v, fp(f, "%s.kind", p), skind, subject_kinds);
        }
    }
}

static void v_rolebinding(struct vctx *v, const json_t *obj)
{
    v_binding(v, obj, true);
}

static void v_clusterrolebinding(struct vctx *v, const json_t *obj)
{
    v_binding(v, obj, false);
}

static void v_binding_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const json_t *ref = json_object_get(obj, "roleRef");
    if (json_equal_loose(ref, json_object_get(old, "roleRef")))
        return;
    static const char *const keys[] = {"apiGroup", "kind", "name"};
    char *q[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < 3; i++) {
        const char *s = json_string_value(json_object_get(ref, keys[i]));
        q[i] = go_quote(s ? s : "");
        if (!q[i]) {
            for (size_t j = 0; j < i; j++)
                free(q[j]);
            v->oom = true;
            return;
        }
    }
    char *repr = NULL;
    if (asprintf(&repr, "rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}", q[0], q[1], q[2]) < 0)
        repr = NULL;
    for (size_t i = 0; i < 3; i++)
        free(q[i]);
    v_invalid_repr(v, "roleRef", repr, "cannot change roleRef");
    free(repr);
}

/* ---- PodDisruptionBudget ---- */

static void pdb_int_or_percent(struct vctx *v, const json_t *spec, const char *key)
{
    char f[FP_MAX];
    int64_t i = 0;
    const char *s = NULL;
    fp(f, "spec.%s", key);
    int t = v_int_or_string(v, spec, key, "spec", &i, &s);
    if (t == 0)
        return;
    _cleanup_free_ char *repr = go_intstr_repr(json_object_get(spec, key));
    if (t == 1) {
        if (i < 0)
            v_invalid_int(v, f, i, "must be greater than or equal to 0");
        return;
    }
    size_t n = strlen(s);
    bool ok = n >= 2 && s[n - 1] == '%';
    int64_t pct = 0;
    for (size_t k = 0; ok && k + 1 < n; k++) {
        ok = s[k] >= '0' && s[k] <= '9';
        if (pct <= 1000)
            pct = pct * 10 + (s[k] - '0');
    }
    if (!ok)
        v_invalid_repr(v, f, repr,
                       "a valid percent string must be a numeric string followed by an ending "
                       "'%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    else if (pct > 100)
        v_invalid_repr(v, f, repr, "must not be greater than 100%");
}

static void v_pdb(struct vctx *v, const json_t *obj)
{
    static const char *const policies[] = {"AlwaysAllow", "IfHealthyBudget", NULL};
    const json_t *spec = v_obj(v, obj, "spec", "");
    const json_t *mina = json_object_get(spec, "minAvailable");
    const json_t *maxu = json_object_get(spec, "maxUnavailable");
    if (mina && !json_is_null(mina) && maxu && !json_is_null(maxu))
        v_invalid_repr(v, "spec", "policy.PodDisruptionBudgetSpec{...}",
                       "minAvailable and maxUnavailable cannot be both set");
    pdb_int_or_percent(v, spec, "minAvailable");
    pdb_int_or_percent(v, spec, "maxUnavailable");
    v_label_selector(v, v_obj(v, spec, "selector", "spec"), "spec.selector");
    const char *uhp = v_str(v, spec, "unhealthyPodEvictionPolicy", "spec");
    if (uhp && !in_list(uhp, policies))
        v_not_supported(v, "spec.unhealthyPodEvictionPolicy", uhp, policies);
}

/* ---- Lease ---- */

static void v_lease(struct vctx *v, const json_t *obj)
{
    const json_t *spec = v_obj(v, obj, "spec", "");
    int64_t n;
    if (v_int(v, spec, "leaseDurationSeconds", "spec", 32, &n) && n <= 0)
        v_invalid_int(v, "spec.leaseDurationSeconds", n, "must be greater than 0");
    if (v_int(v, spec, "leaseTransitions", "spec", 32, &n) && n < 0)
        v_invalid_int(v, "spec.leaseTransitions", n, "must be greater than or equal to 0");
    v_str(v, spec, "holderIdentity", "spec");
    v_str(v, spec, "acquireTime", "spec");
    v_str(v, spec, "renewTime", "spec");
}

/* ---- EndpointSlice (discovery.k8s.io/v1) ---- */

#define SLICE_MAX_ENDPOINTS 1000
#define SLICE_MAX_PORTS     100
#define SLICE_MAX_ADDRESSES 100

static void v_endpointslice(struct vctx *v, const json_t *obj)
{
    static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    char p[FP_MAX], f[FP_MAX];
    const char *type = v_str(v, obj, "addressType", "");
    if (!type || !*type)
        v_required(v, "addressType", "");
    else if (!in_list(type, types))
        v_not_supported(v, "addressType", type, types);
    const json_t *eps = v_arr(v, obj, "endpoints", "");
    size_t n = json_array_size(eps);
    if (n > SLICE_MAX_ENDPOINTS) {
        char d[80];
        snprintf(d, sizeof(d), "must have at most %d items", SLICE_MAX_ENDPOINTS);
        v_invalid_int(v, "endpoints", (int64_t)n, d);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        fp(p, "endpoints[%zu]", i);
        const json_t *ep = v_elem_obj(v, eps, i, p);
        if (!ep)
            continue;
        const json_t *addrs = v_arr(v, ep, "addresses", p);
        size_t na = json_array_size(addrs);
        if (na == 0)
            v_required(v, fp(f, "%s.addresses", p), "must contain at least 1 address");
        else if (na > SLICE_MAX_ADDRESSES)
            v_invalid_int(v, fp(f, "%s.addresses", p), (int64_t)na, "must have at most 100 items");
        for (size_t j = 0; j < na && j < SLICE_MAX_ADDRESSES; j++) {
            const char *a = json_string_value(json_array_get(addrs, j));
            unsigned char buf[16];
            fp(f, "%s.addresses[%zu]", p, j);
            if (!a)
                v_invalid_str(v, f, "", "must be a string");
            else if (type && !strcmp(type, "IPv4") && inet_pton(AF_INET, a, buf) != 1)
                v_invalid_str(v, f, a, "must be a valid IPv4 address");
            else if (type && !strcmp(type, "IPv6") && inet_pton(AF_INET6, a, buf) != 1)
                v_invalid_str(v, f, a, "must be a valid IPv6 address");
            else if (type && !strcmp(type, "FQDN"))
                v_dns1123_subdomain(v, f, a);
        }
        const char *host = v_str(v, ep, "hostname", p);
        if (host)
            v_dns1123_label(v, fp(f, "%s.hostname", p), host);
        const json_t *cond = v_obj(v, ep, "conditions", p);
        bool b;
        fp(f, "%s.conditions", p);
        v_bool(v, cond, "ready", f, &b);
        v_bool(v, cond, "serving", f, &b);
        v_bool(v, cond, "terminating", f, &b);
        const char *node = v_str(v, ep, "nodeName", p);
        if (node && *node)
            v_dns1123_subdomain(v, fp(f, "%s.nodeName", p), node);
    }
    const json_t *ports = v_arr(v, obj, "ports", "");
    size_t np = json_array_size(ports);
    if (np > SLICE_MAX_PORTS) {
        v_invalid_int(v, "ports", (int64_t)np, "must have at most 100 items");
        return;
    }
    for (size_t i = 0; i < np; i++) {
        fp(p, "ports[%zu]", i);
        const json_t *port = v_elem_obj(v, ports, i, p);
        if (!port)
            continue;
        const char *name = v_str(v, port, "name", p);
        if (name && *name)
            v_dns1123_label(v, fp(f, "%s.name", p), name);
        const char *proto = v_str(v, port, "protocol", p);
        if (proto && !in_list(proto, protocols))
            v_not_supported(v, fp(f, "%s.protocol", p), proto, protocols);
        int64_t num = 0;
        if (v_int(v, port, "port", p, 32, &num) && (num < 1 || num > 65535))
            v_invalid_int(v, fp(f, "%s.port", p), num, "must be between 1 and 65535, inclusive");
    }
}

static void v_endpointslice_update(struct vctx *v, const json_t *obj, const json_t *old)
{
    const char *type = json_string_value(json_object_get(obj, "addressType"));
    const char *otype = json_string_value(json_object_get(old, "addressType"));
    if (type && otype && strcmp(type, otype) != 0)
        v_invalid_str(v, "addressType", type, "field is immutable");
}

const struct vkind vkinds_other[] = {
    {"storage.k8s.io", "StorageClass", v_storageclass, v_storageclass_update},
    {"scheduling.k8s.io", "PriorityClass", v_priorityclass, v_priorityclass_update},
    {RBAC_GROUP, "Role", v_role, NULL},
    {RBAC_GROUP, "ClusterRole", v_clusterrole, NULL},
    {RBAC_GROUP, "RoleBinding", v_rolebinding, v_binding_update},
    {RBAC_GROUP, "ClusterRoleBinding", v_clusterrolebinding, v_binding_update},
    {"policy", "PodDisruptionBudget", v_pdb, NULL},
    {"coordination.k8s.io", "Lease", v_lease, NULL},
    {"discovery.k8s.io", "EndpointSlice", v_endpointslice, v_endpointslice_update},
    {NULL, NULL, NULL, NULL},
};

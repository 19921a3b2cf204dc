#include "controllers/endpoints/build.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

static const json_t *get(const json_t *o, const char *a, const char *b)
{
    const json_t *x = json_object_get(o, a);
    return b ? json_object_get(x, b) : x;
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
    return json_string_value(get(o, a, b));
}

static int copy_field(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    return v ? json_object_set(dst, key, v) : 0;
}

json_t *kos_ep_trim_pod(const json_t *pod)
{
    _cleanup_json_ json_t *out = json_pack("{s:{}, s:{}, s:{}}", "metadata", "spec", "status");
    if (!out)
        return NULL;
    json_t *m = json_object_get(out, "metadata"), *s = json_object_get(out, "spec"),
           *st = json_object_get(out, "status");
    const json_t *pm = json_object_get(pod, "metadata"), *ps = json_object_get(pod, "spec"),
                 *pst = json_object_get(pod, "status");
    static const char *const mk[] = {"name",   "namespace",       "uid",
                                     "labels", "resourceVersion", "deletionTimestamp"};
    static const char *const sk[] = {"nodeName", "hostname", "subdomain"};
    static const char *const stk[] = {"podIP", "phase"};
    int r = 0;
    for (size_t i = 0; i < sizeof(mk) / sizeof(mk[0]); i++)
        r |= copy_field(m, pm, mk[i]);
    for (size_t i = 0; i < sizeof(sk) / sizeof(sk[0]); i++)
        r |= copy_field(s, ps, sk[i]);
    for (size_t i = 0; i < sizeof(stk) / sizeof(stk[0]); i++)
        r |= copy_field(st, pst, stk[i]);
    /* container ports only, for named target ports */
    json_t *ports = json_array();
    if (!ports || json_object_set_new(s, "ports", ports) < 0)
        return NULL;
    size_t i, j;
    const json_t *c, *p;
    json_array_foreach(json_object_get(ps, "containers"), i, c)
    {
        json_array_foreach(json_object_get(c, "ports"), j, p)
        {
            r |= json_array_append(ports, (json_t *)p);
        }
    }
    bool ready = false;
    json_array_foreach(json_object_get(pst, "conditions"), i, c)
    {
        const char *t = str_at(c, "type", NULL);
        if (t && strcmp(t, "Ready") == 0)
            ready = json_string_value(json_object_get(c, "status")) &&
                    strcmp(json_string_value(json_object_get(c, "status")), "True") == 0;
    }
    r |= json_object_set_new(st, "ready", json_boolean(ready));
    return r ? NULL : TAKE_PTR(out);
}

bool kos_ep_selector_matches(const json_t *selector, const json_t *labels)
{
    if (!json_is_object(selector) || json_object_size(selector) == 0)
        return false;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)selector, k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

/* The port of a service port on this pod: a number, or the container port with that name and
 * protocol; 0 when it does not resolve (kube leaves the pod out for that port). */
static json_int_t resolve_port(const json_t *sp, const json_t *pod)
{
    const json_t *tp = json_object_get(sp, "targetPort");
    if (json_is_integer(tp))
        return json_integer_value(tp);
    if (!tp)
        return json_integer_value(json_object_get(sp, "port"));
    const char *name = json_string_value(tp);
    const char *proto = str_at(sp, "protocol", NULL);
    size_t i;
    const json_t *cp;
    json_array_foreach(get(pod, "spec", "ports"), i, cp)
    {
        const char *cproto = str_at(cp, "protocol", NULL);
        if (name && kos_streq_null(str_at(cp, "name", NULL), name) &&
            strcmp(cproto ? cproto : "TCP", proto ? proto : "TCP") == 0)
            return json_integer_value(json_object_get(cp, "containerPort"));
    }
    return 0;
}

static bool terminal(const json_t *pod)
{
    const char *phase = str_at(pod, "status", "phase");
    return phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0);
}

/* The resolved ports of pod for svc as an EndpointPort array (Endpoints and slices share the
 * shape: name, port, protocol, appProtocol). */
static json_t *pod_ports(const json_t *svc, const json_t *pod)
{
    json_t *out = json_array();
    size_t i;
    const json_t *sp;
    json_array_foreach(get(svc, "spec", "ports"), i, sp)
    {
        json_int_t port = resolve_port(sp, pod);
        if (port <= 0 || port > 65535)
            continue;
        const char *name = str_at(sp, "name", NULL);
        const char *proto = str_at(sp, "protocol", NULL);
        json_t *p = json_pack("{s:s, s:I, s:s}", "name", name ? name : "", "port", (json_int_t)port,
                              "protocol", proto ? proto : "TCP");
        if (p)
            copy_field(p, sp, "appProtocol");
        if (!p || json_array_append_new(out, p) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *target_ref(const json_t *pod)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "kind", "Pod", "namespace",
                     str_at(pod, "metadata", "namespace") ?: "", "name",
                     str_at(pod, "metadata", "name") ?: "", "uid",
                     str_at(pod, "metadata", "uid") ?: "");
}

static const char *pod_hostname(const json_t *svc, const json_t *pod)
{
    const char *h = str_at(pod, "spec", "hostname"), *sub = str_at(pod, "spec", "subdomain");
    const char *svc_name = str_at(svc, "metadata", "name");
    return h && *h && sub && svc_name && strcmp(sub, svc_name) == 0 ? h : NULL;
}

static int cmp_ip(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *xi = str_at(x, "ip", NULL), *yi = str_at(y, "ip", NULL);
    if (!xi)
        xi = json_string_value(json_array_get(json_object_get(x, "addresses"), 0));
    if (!yi)
        yi = json_string_value(json_array_get(json_object_get(y, "addresses"), 0));
    int c = strcmp(xi ? xi : "", yi ? yi : "");
    if (c)
        return c;
    return strcmp(str_at(x, "targetRef", "name") ?: "", str_at(y, "targetRef", "name") ?: "");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int sort_array(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return 0;
    json_t **v = calloc(n, sizeof(*v));
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof(*v), cmp_ip);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
    return 0;
}

/* Groups by the serialized port list: { signature: {"ports": [...], <list>: [...]} }. */
static json_t *group_for(json_t *groups, json_t *ports, const char *list2)
{
    _cleanup_free_ char *sig = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
    if (!sig)
        return NULL;
    json_t *g = json_object_get(groups, sig);
    if (g)
        return g;
    g = list2 ? json_pack("{s:O, s:[], s:[]}", "ports", ports, "addresses", list2)
              : json_pack("{s:O, s:[]}", "ports", ports, "endpoints");
    if (!g || json_object_set_new(groups, sig, g) < 0)
        return NULL;
    return g;
}

json_t *kos_ep_build_subsets(const json_t *svc, const json_t *pods)
{
    bool tolerate = json_is_true(get(svc, "spec", "publishNotReadyAddresses"));
    _cleanup_json_ json_t *groups = json_object();
    if (!groups)
        return NULL;
    size_t i;
    const json_t *pod;
    json_array_foreach(pods, i, pod)
    {
        const char *ip = str_at(pod, "status", "podIP");
        if (!ip || !*ip || terminal(pod) ||
            (!tolerate && get(pod, "metadata", "deletionTimestamp")))
            continue;
        _cleanup_json_ json_t *ports = pod_ports(svc, pod);
        if (!ports)
            return NULL;
        /* a pod that resolves none of the ports is left out (headless without ports aside) */
        if (json_array_size(ports) == 0 && json_array_size(get(svc, "spec", "ports")) > 0)
            continue;
        json_t *g = group_for(groups, ports, "notReadyAddresses");
        json_t *addr = json_pack("{s:s, s:o}", "ip", ip, "targetRef", target_ref(pod));
        if (!g || !addr)
            return NULL;
        const char *node = str_at(pod, "spec", "nodeName");
        if (node && *node)
            json_object_set_new(addr, "nodeName", json_string(node));
        const char *host = pod_hostname(svc, pod);
        if (host)
            json_object_set_new(addr, "hostname", json_string(host));
        bool ready = tolerate || json_is_true(get(pod, "status", "ready"));
        json_array_append_new(json_object_get(g, ready ? "addresses" : "notReadyAddresses"), addr);
    }
    json_t *subsets = json_array();
    const char *sig;
    json_t *g;
    json_object_foreach(groups, sig, g)
    {
        json_t *ready = json_object_get(g, "addresses");
        json_t *unready = json_object_get(g, "notReadyAddresses");
        sort_array(ready);
        sort_array(unready);
        if (json_array_size(ready) == 0)
            json_object_del(g, "addresses");
        if (json_array_size(unready) == 0)
            json_object_del(g, "notReadyAddresses");
        if (json_array_size(json_object_get(g, "ports")) == 0)
            json_object_del(g, "ports");
        if (subsets)
            json_array_append(subsets, g);
    }
    return subsets;
}

json_t *kos_ep_build_slices(const json_t *svc, const json_t *pods, size_t max_per_slice)
{
    bool tolerate = json_is_true(get(svc, "spec", "publishNotReadyAddresses"));
    if (max_per_slice == 0)
        max_per_slice = KOS_SLICE_MAX_ENDPOINTS;
    _cleanup_json_ json_t *groups = json_object();
    if (!groups)
        return NULL;
    size_t i;
    const json_t *pod;
    json_array_foreach(pods, i, pod)
    {
        const char *ip = str_at(pod, "status", "podIP");
        if (!ip || !*ip || terminal(pod))
            continue;
        _cleanup_json_ json_t *ports = pod_ports(svc, pod);
        if (!ports)
            return NULL;
        json_t *g = group_for(groups, ports, NULL);
        bool terminating = get(pod, "metadata", "deletionTimestamp") != NULL;
        bool serving = tolerate || json_is_true(get(pod, "status", "ready"));
        json_t *ep = json_pack("{s:[s], s:{s:b, s:b, s:b}, s:o}", "addresses", ip, "conditions",
                               "ready", serving && !terminating, "serving", serving, "terminating",
                               terminating, "targetRef", target_ref(pod));
        if (!g || !ep)
            return NULL;
        const char *node = str_at(pod, "spec", "nodeName");
        if (node && *node)
            json_object_set_new(ep, "nodeName", json_string(node));
        const char *host = pod_hostname(svc, pod);
        if (host)
            json_object_set_new(ep, "hostname", json_string(host));
        json_array_append_new(json_object_get(g, "endpoints"), ep);
    }
    json_t *out = json_array();
    const char *sig;
    json_t *g;
    /* jansson iterates objects in insertion order; sort the signatures for a stable result */
    size_t n = json_object_size(groups), k = 0;
    const char **sigs = calloc(n ? n : 1, sizeof(*sigs));
    if (!out || !sigs) {
        free(sigs);
        json_decref(out);
        return NULL;
    }
    json_object_foreach(groups, sig, g)
    {
        sigs[k++] = sig;
    }
    qsort(sigs, n, sizeof(*sigs), cmp_str);
    for (k = 0; k < n; k++) {
        g = json_object_get(groups, sigs[k]);
        json_t *eps = json_object_get(g, "endpoints");
        sort_array(eps);
        for (size_t start = 0; start < json_array_size(eps) || start == 0; start += max_per_slice) {
            json_t *chunk = json_array();
            for (size_t e = start; chunk && e < json_array_size(eps) && e < start + max_per_slice;
                 e++)
                json_array_append(chunk, json_array_get(eps, e));
            json_t *slice = chunk ? json_pack("{s:O, s:o}", "ports", json_object_get(g, "ports"),
                                              "endpoints", chunk)
                                  : NULL;
            if (!slice || json_array_append_new(out, slice) < 0) {
                free(sigs);
                json_decref(out);
                return NULL;
            }
            if (json_array_size(eps) == 0)
                break;
        }
    }
    free(sigs);
    /* a Service that selects nothing still has one (empty) slice, kube's placeholder */
    if (json_array_size(out) == 0 &&
        json_array_append_new(out, json_pack("{s:[]}", "endpoints")) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

#include "apiserver/discovery.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/kinds.h"

static json_t *strs(const char *const *list)
{
    json_t *a = json_array();
    for (size_t i = 0; list && list[i]; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

static json_t *verbs_of(unsigned verbs)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{VERB_CREATE, "create"},
                 {VERB_DELETE, "delete"},
                 {VERB_DELETECOLLECTION, "deletecollection"},
                 {VERB_GET, "get"},
                 {VERB_LIST, "list"},
                 {VERB_PATCH, "patch"},
                 {VERB_UPDATE, "update"},
                 {VERB_WATCH, "watch"}};
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (verbs & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *gvk(const char *group, const char *version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", group, "version", version, "kind", kind);
}

/* Subresources every kind of a given shape has; discovery lists them after the resource. */
struct sub_info {
    unsigned bit;
    const char *name;
    const char *group, *version, *kind; /* NULL = the parent's kind */
    const char *const *verbs;
};

static const struct sub_info subs[] = {
    {SUB_STATUS, "status", NULL, NULL, NULL, (const char *const[]){"get", "patch", "update", NULL}},
    {SUB_SCALE, "scale", "autoscaling", "v1", "Scale",
     (const char *const[]){"get", "patch", "update", NULL}},
    {SUB_BINDING, "binding", "", "v1", "Binding", (const char *const[]){"create", NULL}},
    {SUB_TOKEN, "token", "authentication.k8s.io", "v1", "TokenRequest",
     (const char *const[]){"create", NULL}},
    {SUB_FINALIZE, "finalize", NULL, NULL, NULL, (const char *const[]){"update", NULL}},
    {SUB_LOG, "log", "", "v1", "Pod", (const char *const[]){"get", NULL}},
    {SUB_EXEC, "exec", "", "v1", "PodExecOptions", (const char *const[]){"create", "get", NULL}},
    {SUB_ATTACH, "attach", "", "v1", "PodAttachOptions",
     (const char *const[]){"create", "get", NULL}},
    {SUB_PORTFORWARD, "portforward", "", "v1", "PodPortForwardOptions",
     (const char *const[]){"create", "get", NULL}},
};

static json_t *aggregated_resource(const struct kos_kind *k)
{
    json_t *r = json_pack("{s:s, s:o, s:s, s:s, s:o}", "resource", k->plural, "responseKind",
                          gvk(k->group, k->version, k->kind), "scope",
                          k->namespaced ? "Namespaced" : "Cluster", "singularResource", k->singular,
                          "verbs", verbs_of(k->verbs));
    if (!r)
        return NULL;
    if (k->short_names)
        json_object_set_new(r, "shortNames", strs(k->short_names));
    if (k->categories)
        json_object_set_new(r, "categories", strs(k->categories));
    json_t *sr = json_array();
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (!(k->subresources & subs[i].bit))
            continue;
        const char *g = subs[i].kind ? subs[i].group : k->group;
        const char *v = subs[i].kind ? subs[i].version : k->version;
        const char *kk = subs[i].kind ? subs[i].kind : k->kind;
        json_array_append_new(sr, json_pack("{s:s, s:o, s:o}", "subresource", subs[i].name,
                                            "responseKind", gvk(g, v, kk), "verbs",
                                            strs(subs[i].verbs)));
    }
    if (json_array_size(sr))
        json_object_set_new(r, "subresources", sr);
    else
        json_decref(sr);
    return r;
}

/* Groups in the order their first kind appears in the kinds table. */
static size_t served_groups(const char **out, size_t max)
{
    size_t count, n = 0;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        if (all[i]->discovery_hidden)
            continue;
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            if (strcmp(out[j], all[i]->group) == 0)
                seen = true;
        if (!seen && n < max)
            out[n++] = all[i]->group;
    }
    return n;
}

json_t *discovery_aggregated(bool core, const char *version)
{
    char api_version[64];
    snprintf(api_version, sizeof(api_version), "apidiscovery.k8s.io/%s", version);
    json_t *items = json_array();
    const char *groups[32];
    size_t ngroups = served_groups(groups, 32), count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t g = 0; g < ngroups; g++) {
        if ((groups[g][0] == '\0') != core)
            continue;
        json_t *resources = json_array();
        const char *ver = NULL;
        for (size_t i = 0; i < count; i++) {
            if (strcmp(all[i]->group, groups[g]) != 0 || all[i]->discovery_hidden)
                continue;
            ver = all[i]->version;
            json_array_append_new(resources, aggregated_resource(all[i]));
        }
        json_t *versions = json_pack("[{s:s, s:o, s:s}]", "version", ver, "resources", resources,
                                     "freshness", "Current");
        json_array_append_new(items, json_pack("{s:{s:s}, s:o}", "metadata", "name", groups[g],
                                               "versions", versions));
    }
    return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                     api_version, "metadata", "items", items);
}

json_t *discovery_api_versions(const char *server_address)
{
    return json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", "v1",
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     server_address);
}

static json_t *group_object(const char *group)
{
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(all[i]->group, group) != 0 || all[i]->discovery_hidden)
            continue;
        char gv[160];
        snprintf(gv, sizeof(gv), "%s/%s", group, all[i]->version);
        return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", group, "versions",
                         "groupVersion", gv, "version", all[i]->version, "preferredVersion",
                         "groupVersion", gv, "version", all[i]->version);
    }
    return NULL;
}

json_t *discovery_group_list(void)
{
    const char *groups[32];
    size_t n = served_groups(groups, 32);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        if (groups[i][0])
            json_array_append_new(list, group_object(groups[i]));
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups", list);
}

json_t *discovery_group(const char *group)
{
    if (!group[0])
        return NULL;
    json_t *g = group_object(group);
    if (!g)
        return NULL;
    json_object_set_new(g, "kind", json_string("APIGroup"));
    json_object_set_new(g, "apiVersion", json_string("v1"));
    return g;
}

json_t *discovery_resource_list(const char *group, const char *version)
{
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    json_t *resources = json_array();
    bool any = false;
    for (size_t i = 0; i < count; i++) {
        const struct kos_kind *k = all[i];
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0 || k->discovery_hidden)
            continue;
        any = true;
        json_t *r =
            json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", k->plural, "singularName", k->singular,
                      "namespaced", k->namespaced, "kind", k->kind, "verbs", verbs_of(k->verbs));
        if (k->short_names)
            json_object_set_new(r, "shortNames", strs(k->short_names));
        if (k->categories)
            json_object_set_new(r, "categories", strs(k->categories));
        json_array_append_new(resources, r);
        for (size_t s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
            if (!(k->subresources & subs[s].bit))
                continue;
            char name[160];
            snprintf(name, sizeof(name), "%s/%s", k->plural, subs[s].name);
            json_t *sr =
                json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
                          "namespaced", k->namespaced, "kind",
                          subs[s].kind ? subs[s].kind : k->kind, "verbs", strs(subs[s].verbs));
            if (subs[s].kind) {
                json_object_set_new(sr, "group", json_string(subs[s].group));
                json_object_set_new(sr, "version", json_string(subs[s].version));
            }
            json_array_append_new(resources, sr);
        }
    }
    if (!any) {
        json_decref(resources);
        return NULL;
    }
    char gv[160];
    if (group[0])
        snprintf(gv, sizeof(gv), "%s/%s", group, version);
    else
        snprintf(gv, sizeof(gv), "%s", version);
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", resources);
}

/* True when one comma-separated media range of accept names the aggregated form `v`:
 * parameters in any order, spaces allowed (client-go parses with mime.ParseMediaType). */
static bool accept_has(const char *accept, const char *v)
{
    const char *p = accept;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char range[512];
        if (len + 2 <= sizeof(range)) {
            size_t j = 0;
            for (size_t i = 0; i < len; i++)
                if (p[i] != ' ')
                    range[j++] = p[i];
            /* a trailing ';' lets every parameter be matched as ";name=value;" */
            range[j++] = ';';
            range[j] = '\0';
            char want_v[32];
            snprintf(want_v, sizeof(want_v), ";v=%s;", v);
            if (strncmp(range, "application/json;", 17) == 0 &&
                strstr(range, ";g=apidiscovery.k8s.io;") && strstr(range, want_v) &&
                strstr(range, ";as=APIGroupDiscoveryList;"))
                return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

enum discovery_format discovery_negotiate(const char *accept)
{
    if (!accept)
        return DISCOVERY_LEGACY;
    if (accept_has(accept, "v2"))
        return DISCOVERY_V2;
    if (accept_has(accept, "v2beta1"))
        return DISCOVERY_V2BETA1;
    return DISCOVERY_LEGACY;
}

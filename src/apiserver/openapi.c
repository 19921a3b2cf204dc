#include "apiserver/openapi.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/kinds.h"
#include "apiserver/apiserver.h"

/* Changes whenever the served kinds change; clients cache per-GV documents by this hash. */
#define OPENAPI_HASH "kos-" KOS_KUBE_GIT_VERSION "-1"

static void gv_path(const char *group, const char *version, char *out, size_t size)
{
    if (group[0])
        snprintf(out, size, "apis/%s/%s", group, version);
    else
        snprintf(out, size, "api/%s", version);
}

json_t *openapi_v3_root(void)
{
    json_t *paths = json_object();
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        char p[160], url[256];
        gv_path(all[i]->group, all[i]->version, p, sizeof(p));
        snprintf(url, sizeof(url), "/openapi/v3/%s?hash=%s", p, OPENAPI_HASH);
        if (!json_object_get(paths, p))
            json_object_set_new(paths, p, json_pack("{s:s}", "serverRelativeURL", url));
    }
    return json_pack("{s:o}", "paths", paths);
}

static json_t *param(const char *name, const char *in)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:b}", "name", name, "in", in, "schema", "type", "string",
                     "uniqueItems", true);
}

static json_t *gvk_ext(const struct kos_kind *k)
{
    return json_pack("{s:s, s:s, s:s}", "group", k->group, "version", k->version, "kind", k->kind);
}

json_t *openapi_v3_group_version(const char *group, const char *version)
{
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    json_t *paths = json_object();
    json_t *schemas = json_object();
    bool any = false;
    for (size_t i = 0; i < count; i++) {
        const struct kos_kind *k = all[i];
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0)
            continue;
        any = true;
        char base[160], path[320], ref[256];
        gv_path(group, version, base, sizeof(base));
        if (k->namespaced)
            snprintf(path, sizeof(path), "/%s/namespaces/{namespace}/%s/{name}", base, k->plural);
        else
            snprintf(path, sizeof(path), "/%s/%s/{name}", base, k->plural);
        snprintf(ref, sizeof(ref), "#/components/schemas/%s.%s", k->openapi_package, k->kind);

        json_t *params = json_array();
        json_array_append_new(params, param("dryRun", "query"));
        json_array_append_new(params, param("fieldManager", "query"));
        json_array_append_new(params, param("fieldValidation", "query"));
        json_array_append_new(params, param("force", "query"));
        json_t *ok = json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "OK", "content",
                               "application/json", "schema", "$ref", ref);
        json_t *op = json_pack("{s:s, s:o, s:o, s:{s:o}, s:s}", "operationId", k->plural,
                               "x-kubernetes-group-version-kind", gvk_ext(k), "parameters", params,
                               "responses", "200", ok, "x-kubernetes-action", "patch");
        json_object_set_new(paths, path, json_pack("{s:o}", "patch", op));

        char name[256];
        snprintf(name, sizeof(name), "%s.%s", k->openapi_package, k->kind);
        json_t *schema = json_pack("{s:s, s:s, s:[o]}", "type", "object", "description", k->kind,
                                   "x-kubernetes-group-version-kind", gvk_ext(k));
        json_object_set_new(schemas, name, schema);
    }
    if (!any) {
        json_decref(paths);
        json_decref(schemas);
        return NULL;
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes", "version", KOS_KUBE_GIT_VERSION, "paths", paths, "components",
                     "schemas", schemas);
}

#include "apiserver/openapi.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/kinds.h"
#include "api/schema.h"
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
        if (all[i]->discovery_hidden)
            continue;
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

json_t *openapi_scalar_schema(const struct schema_node *n)
{
    static const char *const names[] = {
        [SCHEMA_STRING] = "string",
        [SCHEMA_INTEGER] = "integer",
        [SCHEMA_NUMBER] = "number",
        [SCHEMA_BOOLEAN] = "boolean",
    };
    if (n->type > SCHEMA_BOOLEAN)
        return NULL;
    json_t *out = json_pack("{s:s}", "type", names[n->type]);
    if (out && n->format && json_object_set_new(out, "format", json_string(n->format)) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *ref_to(const char *name)
{
    char ref[320];
    snprintf(ref, sizeof(ref), "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

static void add_struct(json_t *schemas, const struct schema_struct *s, int depth);

/* The OpenAPI form of one field type; named types are added to `schemas` as they are met. */
static json_t *node_schema(json_t *schemas, const struct schema_node *n, int depth)
{
    switch (n->type) {
    case SCHEMA_STRING:
    case SCHEMA_INTEGER:
    case SCHEMA_NUMBER:
    case SCHEMA_BOOLEAN:
        return openapi_scalar_schema(n);
    case SCHEMA_OBJECT:
        if (!n->ref)
            return json_pack("{s:s}", "type", "object");
        add_struct(schemas, n->ref, depth + 1);
        /* kube-openapi wraps references in allOf so a description can sit beside them */
        return json_pack("{s:[o], s:{}}", "allOf", ref_to(n->ref->name), "default");
    case SCHEMA_ARRAY:
        return json_pack("{s:s, s:o}", "type", "array", "items",
                         node_schema(schemas, n->items, depth));
    case SCHEMA_MAP:
        return json_pack("{s:s, s:o}", "type", "object", "additionalProperties",
                         node_schema(schemas, n->items, depth));
    case SCHEMA_QUANTITY:
        return json_pack("{s:[o]}", "allOf", ref_to(QUANTITY_SCHEMA));
    case SCHEMA_INT_OR_STRING:
        return json_pack("{s:[o]}", "allOf", ref_to(INTSTR_SCHEMA));
    case SCHEMA_TIME:
        return json_pack("{s:[o]}", "allOf", ref_to(TIME_SCHEMA));
    case SCHEMA_ANY:
        return json_pack("{s:s, s:b}", "type", "object", "x-kubernetes-preserve-unknown-fields",
                         true);
    }
    return NULL;
}

/* Adds s and every struct it reaches, once each. Depth is bounded by the tables themselves
 * (they are acyclic but for JSONSchemaProps-like recursion, which kos does not serve). */
static void add_struct(json_t *schemas, const struct schema_struct *s, int depth)
{
    if (!s || depth > 64 || json_object_get(schemas, s->name))
        return;
    json_t *props = json_object();
    json_t *schema = json_pack("{s:s, s:o}", "type", "object", "properties", props);
    if (!schema)
        return;
    if (s->description)
        json_object_set_new(schema, "description", json_string(s->description));
    /* Registered before recursing, so self-references end. */
    json_object_set_new(schemas, s->name, schema);
    for (size_t i = 0; i < s->nfields; i++) {
        const struct schema_field *f = &s->fields[i];
        json_t *p = node_schema(schemas, &f->node, depth);
        if (!p)
            continue;
        if (f->description)
            json_object_set_new(p, "description", json_string(f->description));
        if (f->patch_merge_key)
            json_object_set_new(p, "x-kubernetes-patch-merge-key", json_string(f->patch_merge_key));
        if (f->patch_strategy)
            json_object_set_new(p, "x-kubernetes-patch-strategy", json_string(f->patch_strategy));
        json_object_set_new(props, f->name, p);
    }
}

static void add_named_scalars(json_t *schemas)
{
    json_object_set_new(schemas, QUANTITY_SCHEMA,
                        json_pack("{s:s, s:[{s:s},{s:s}]}", "description",
                                  "Quantity is a fixed-point representation of a number.", "oneOf",
                                  "type", "string", "type", "number"));
    json_object_set_new(schemas, INTSTR_SCHEMA,
                        json_pack("{s:s, s:s, s:s}", "description",
                                  "IntOrString is a type that can hold an int32 or a string.",
                                  "type", "string", "format", "int-or-string"));
    json_object_set_new(schemas, TIME_SCHEMA,
                        json_pack("{s:s, s:s, s:s}", "description",
                                  "Time is a wrapper around time.Time which supports correct "
                                  "marshaling to YAML and JSON.",
                                  "type", "string", "format", "date-time"));
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
        if (strcmp(k->group, group) != 0 || strcmp(k->version, version) != 0 || k->discovery_hidden)
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
        const struct schema_struct *top = schema_for_kind(k);
        if (top)
            add_struct(schemas, top, 0);
        json_t *schema = json_object_get(schemas, top ? top->name : name);
        if (!schema) {
            schema = json_pack("{s:s, s:s}", "type", "object", "description", k->kind);
            json_object_set_new(schemas, name, schema);
        }
        json_object_set_new(schema, "x-kubernetes-group-version-kind",
                            json_pack("[o]", gvk_ext(k)));
    }
    if (!any) {
        json_decref(paths);
        json_decref(schemas);
        return NULL;
    }
    add_named_scalars(schemas);
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes", "version", KOS_KUBE_GIT_VERSION, "paths", paths, "components",
                     "schemas", schemas);
}

/* OpenAPI v2: the Swagger 2.0 document built from the field tables (as JSON, in the shape
 * kube-openapi gives it), and its encoding as gnostic's openapi.v2.Document protobuf
 * (github.com/google/gnostic-models openapiv2/OpenAPIv2.proto; field numbers below).
 *
 * The JSON form is the one source: the protobuf encoder walks it, so both answers always say
 * the same thing. Differences from the v3 documents, all as kube-openapi does for v2:
 * references are plain {"$ref": "#/definitions/<name>"} (descriptions beside them; v2 has no
 * allOf wrapping), and vendor extensions travel in protobuf as YAML text (Any.yaml), which
 * kubectl parses with sigs.k8s.io/yaml. */
#include "apiserver/openapi.h"
#include "apiserver/openapi_v2.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include "api/kinds.h"
#include "api/schema.h"
#include "apiserver/apiserver.h"
#include "apiserver/respond.h"
#include "codec/protobuf_write.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define DEF_PREFIX "#/definitions/"
#define GVK_EXT    "x-kubernetes-group-version-kind"

/* Far above the real size (a few hundred KiB); only a runaway table could reach it. */
#define V2_MAX_BYTES (64u * 1024 * 1024)
/* Struct nesting in the tables is shallow (PodTemplateSpec -> ... -> VolumeSource...). */
#define V2_MAX_DEPTH 48

/* ---- the JSON document ------------------------------------------------------------------- */

static json_t *ref_to(const char *name)
{
    char ref[320];
    snprintf(ref, sizeof(ref), DEF_PREFIX "%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

static int add_struct(json_t *defs, const struct schema_struct *s, int depth);

/* The v2 form of one field type (NULL when out of memory); named types are added to `defs`
 * as they are met. */
static json_t *node_schema(json_t *defs, const struct schema_node *n, int depth)
{
    json_t *sub;
    switch (n->type) {
    case SCHEMA_STRING:
    case SCHEMA_INTEGER:
    case SCHEMA_NUMBER:
    case SCHEMA_BOOLEAN:
        return openapi_scalar_schema(n);
    case SCHEMA_OBJECT:
        if (!n->ref)
            return json_pack("{s:s}", "type", "object");
        if (add_struct(defs, n->ref, depth + 1) < 0)
            return NULL;
        return ref_to(n->ref->name);
    case SCHEMA_ARRAY:
    case SCHEMA_MAP:
        if (!n->items || depth > V2_MAX_DEPTH)
            return NULL;
        sub = node_schema(defs, n->items, depth + 1);
        if (!sub)
            return NULL;
        if (n->type == SCHEMA_ARRAY)
            return json_pack("{s:s, s:o}", "type", "array", "items", sub);
        return json_pack("{s:s, s:o}", "type", "object", "additionalProperties", sub);
    case SCHEMA_QUANTITY:
        return ref_to(QUANTITY_SCHEMA);
    case SCHEMA_INT_OR_STRING:
        return ref_to(INTSTR_SCHEMA);
    case SCHEMA_TIME:
        return ref_to(TIME_SCHEMA);
    case SCHEMA_ANY:
        /* No type and no properties: kubectl's parser makes it "arbitrary" and accepts any
         * value, which is what a free-form field (RawExtension, JSON) holds. */
        return json_object();
    }
    return NULL;
}

static int set_str(json_t *obj, const char *key, const char *value)
{
    return value ? json_object_set_new(obj, key, json_string(value)) : 0;
}

/* Adds s and every struct it reaches, once each; registered before recursing, so cycles end. */
static int add_struct(json_t *defs, const struct schema_struct *s, int depth)
{
    if (!s || json_object_get(defs, s->name))
        return 0;
    if (depth > V2_MAX_DEPTH)
        return -ELOOP;
    json_t *props = json_object();
    json_t *schema = json_pack("{s:s, s:o}", "type", "object", "properties", props);
    if (!schema || set_str(schema, "description", s->description) < 0 ||
        json_object_set_new(defs, s->name, schema) < 0)
        return -ENOMEM;
    for (size_t i = 0; i < s->nfields; i++) {
        const struct schema_field *f = &s->fields[i];
        json_t *p = node_schema(defs, &f->node, depth);
        if (!p)
            return -ENOMEM;
        if (json_object_set_new(props, f->name, p) < 0 ||
            set_str(p, "description", f->description) < 0 ||
            set_str(p, "x-kubernetes-patch-merge-key", f->patch_merge_key) < 0 ||
            set_str(p, "x-kubernetes-patch-strategy", f->patch_strategy) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* kube-openapi's v2 forms of the types the tables name by type rather than by struct. */
static int add_named_scalars(json_t *defs)
{
    json_t *q =
        json_pack("{s:s, s:s}", "description",
                  "Quantity is a fixed-point representation of a number.", "type", "string");
    json_t *i = json_pack("{s:s, s:s, s:s}", "description",
                          "IntOrString is a type that can hold an int32 or a string.", "type",
                          "string", "format", "int-or-string");
    json_t *t = json_pack("{s:s, s:s, s:s}", "description",
                          "Time is a wrapper around time.Time which supports correct marshaling to "
                          "YAML and JSON.",
                          "type", "string", "format", "date-time");
    int r1 = json_object_set_new(defs, QUANTITY_SCHEMA, q);
    int r2 = json_object_set_new(defs, INTSTR_SCHEMA, i);
    int r3 = json_object_set_new(defs, TIME_SCHEMA, t);
    return r1 < 0 || r2 < 0 || r3 < 0 ? -ENOMEM : 0;
}

static json_t *gvk_map(const struct kos_kind *k)
{
    return json_pack("{s:s, s:s, s:s}", "group", k->group, "kind", k->kind, "version", k->version);
}

/* The struct that describes a kind: the kind table first, then the definition name (the
 * review kinds live only there). */
static const struct schema_struct *kind_struct(const struct kos_kind *k)
{
    const struct schema_struct *s = schema_for_kind(k);
    if (s)
        return s;
    char name[256];
    snprintf(name, sizeof(name), "%s.%s", k->openapi_package, k->kind);
    return schema_struct_by_name(name);
}

/* "patchCoreV1NamespacedPod", "readRbacAuthorizationV1ClusterRole": kube's operation ids. */
static void operation_id(const struct kos_kind *k, const char *verb, char *out, size_t size)
{
    struct kos_buf b;
    kos_buf_init(&b, size);
    int r = kos_buf_append_str(&b, verb);
    const char *g = k->group[0] ? k->group : "core";
    size_t glen = strlen(g);
    if (glen > 7 && strcmp(g + glen - 7, ".k8s.io") == 0)
        glen -= 7;
    bool upper = true;
    for (size_t i = 0; i < glen && r == 0; i++) {
        if (g[i] == '.' || g[i] == '-') {
            upper = true;
            continue;
        }
        char c = upper ? (char)toupper((unsigned char)g[i]) : g[i];
        upper = false;
        r = kos_buf_append(&b, &c, 1);
    }
    if (r == 0)
        r = kos_buf_printf(&b, "%c%s%s%s", toupper((unsigned char)k->version[0]), k->version + 1,
                           k->namespaced ? "Namespaced" : "", k->kind);
    snprintf(out, size, "%s", r == 0 && b.data ? b.data : verb);
    kos_buf_free(&b);
}

static json_t *param(const char *name, const char *in, bool required)
{
    json_t *p = json_pack("{s:b, s:s, s:s, s:s}", "uniqueItems", true, "type", "string", "name",
                          name, "in", in);
    if (p && required && json_object_set_new(p, "required", json_true()) < 0) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *ok_response(const char *def)
{
    json_t *r = json_pack("{s:s}", "description", "OK");
    if (r && def && json_object_set_new(r, "schema", ref_to(def)) < 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* One operation on a kind's item path; `def` names the kind's definition (NULL if none). */
static json_t *operation(const struct kos_kind *k, const char *verb, const char *action,
                         const char *def, json_t *params, json_t *consumes)
{
    char id[256];
    operation_id(k, verb, id, sizeof(id));
    json_t *op =
        json_pack("{s:s, s:[s,s,s], s:[s], s:o, s:{s:o}, s:s, s:o}", "operationId", id, "produces",
                  "application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
                  "schemes", "https", "parameters", params, "responses", "200", ok_response(def),
                  "x-kubernetes-action", action, GVK_EXT, gvk_map(k));
    if (op && consumes && json_object_set_new(op, "consumes", consumes) < 0) {
        json_decref(op);
        return NULL;
    }
    if (!op || !consumes)
        json_decref(consumes);
    return op;
}

/* get and patch on the item path: the patch operation's GVK and fieldValidation parameter are
 * what kubectl's v2 query-parameter check looks for (query_param_verifier.go). */
static int add_paths(json_t *paths, const struct kos_kind *k, const char *def)
{
    if (!(k->verbs & (VERB_GET | VERB_PATCH)))
        return 0;
    char path[512];
    if (k->group[0])
        snprintf(path, sizeof(path), "/apis/%s/%s/%s%s/{name}", k->group, k->version,
                 k->namespaced ? "namespaces/{namespace}/" : "", k->plural);
    else
        snprintf(path, sizeof(path), "/api/%s/%s%s/{name}", k->version,
                 k->namespaced ? "namespaces/{namespace}/" : "", k->plural);
    json_t *common =
        k->namespaced
            ? json_pack("[o,o,o]", param("name", "path", true), param("namespace", "path", true),
                        param("pretty", "query", false))
            : json_pack("[o,o]", param("name", "path", true), param("pretty", "query", false));
    json_t *item = json_pack("{s:o}", "parameters", common);
    if (!item || json_object_set_new(paths, path, item) < 0)
        return -ENOMEM;
    if (k->verbs & VERB_GET) {
        json_t *op = operation(k, "read", "get", def, json_array(), NULL);
        if (!op || json_object_set_new(item, "get", op) < 0)
            return -ENOMEM;
    }
    if (k->verbs & VERB_PATCH) {
        json_t *params = json_pack(
            "[o,o,o,o]", param("dryRun", "query", false), param("fieldManager", "query", false),
            param("fieldValidation", "query", false), param("force", "query", false));
        json_t *consumes =
            json_pack("[s,s,s,s]", "application/json-patch+json", "application/merge-patch+json",
                      "application/strategic-merge-patch+json", "application/apply-patch+yaml");
        json_t *op = operation(k, "patch", "patch", def, params, consumes);
        if (!op || json_object_set_new(item, "patch", op) < 0)
            return -ENOMEM;
    }
    return 0;
}

json_t *openapi_v2_document(void)
{
    _cleanup_json_ json_t *paths = json_object();
    _cleanup_json_ json_t *defs = json_object();
    if (!paths || !defs)
        return NULL;
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        const struct kos_kind *k = all[i];
        const struct schema_struct *s = kind_struct(k);
        /* A kind without a schema gets no definition: kubectl then skips validating it and
         * takes strategic-merge metadata from its compiled-in types, rather than treating
         * every list as atomic. */
        if (s) {
            if (add_struct(defs, s, 0) < 0)
                return NULL;
            json_t *def = json_object_get(defs, s->name);
            json_t *gvks = json_object_get(def, GVK_EXT);
            if (!gvks) {
                gvks = json_array();
                if (json_object_set_new(def, GVK_EXT, gvks) < 0)
                    return NULL;
            }
            if (json_array_append_new(gvks, gvk_map(k)) < 0)
                return NULL;
        }
        if (add_paths(paths, k, s ? s->name : NULL) < 0)
            return NULL;
    }
    /* Everything else the tables hold (DeleteOptions, Scale, ...), for completeness. */
    for (size_t i = 0; i < schema_struct_count(); i++)
        if (add_struct(defs, schema_struct_at(i), 0) < 0)
            return NULL;
    if (add_named_scalars(defs) < 0)
        return NULL;
    return json_pack("{s:s, s:{s:s, s:s}, s:O, s:O}", "swagger", "2.0", "info", "title",
                     "Kubernetes", "version", KOS_KUBE_GIT_VERSION, "paths", paths, "definitions",
                     defs);
}

/* ---- vendor extensions as YAML ----------------------------------------------------------- */

/* Plain YAML scalars need no quotes unless they would read as another type or as syntax. */
static bool yaml_plain_ok(const char *s)
{
    static const char *const special[] = {"true", "false", "yes", "no",   "on",
                                          "off",  "y",     "n",   "null", "~"};
    if (!s[0] || !isalpha((unsigned char)s[0]))
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._/,-", *p))
            return false;
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcasecmp(s, special[i]) == 0)
            return false;
    return true;
}

static int yaml_scalar(struct kos_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        /* a JSON string literal is a valid YAML double-quoted scalar */
        return yaml_plain_ok(s) ? kos_buf_append_str(b, s) : kos_buf_append_json_string(b, s);
    }
    _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    return s ? kos_buf_append_str(b, s) : -ENOMEM;
}

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

/* "k: v" lines of a flat object in its order; `indent` opens every line but the first. */
static int yaml_flat_object(struct kos_buf *b, const json_t *obj, const char *indent, bool first)
{
    const char *key;
    const json_t *v;
    int r = 0;
    /* jansson iterates in insertion order; the builder inserts group, kind, version sorted */
    json_object_foreach((json_t *)obj, key, v)
    {
        if (r == 0 && !first)
            r = kos_buf_append_str(b, indent);
        first = false;
        if (r == 0)
            r = kos_buf_printf(b, "%s: ", key);
        if (r == 0)
            r = yaml_scalar(b, v);
        if (r == 0)
            r = kos_buf_append_str(b, "\n");
    }
    return r;
}

static bool flat_object(const json_t *v)
{
    const char *key;
    const json_t *x;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return false;
    json_object_foreach((json_t *)v, key, x)
    {
        if (!is_scalar(x) || !yaml_plain_ok(key))
            return false;
    }
    return true;
}

/* The block-style YAML that gnostic keeps for an extension (yaml.Marshal of its value):
 * "name\n", "group: apps\nkind: Deployment\n...", "- group: \"\"\n  kind: Pod\n...". Shapes
 * other than these are written as flow-style JSON, which YAML reads the same. */
static char *yaml_of(const json_t *v)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 64 * 1024);
    int r = 0;
    size_t i;
    const json_t *x;
    bool list_of_flat = json_is_array(v) && json_array_size(v) > 0;
    json_array_foreach(json_is_array(v) ? (json_t *)v : NULL, i, x)
    {
        list_of_flat = list_of_flat && flat_object(x);
    }
    if (flat_object(v)) {
        r = yaml_flat_object(&b, v, "", true);
    } else if (list_of_flat) {
        json_array_foreach((json_t *)v, i, x)
        {
            if (r == 0)
                r = kos_buf_append_str(&b, "- ");
            if (r == 0)
                r = yaml_flat_object(&b, x, "  ", true);
        }
    } else {
        r = yaml_scalar(&b, v);
        if (r == 0)
            r = kos_buf_append_str(&b, "\n");
    }
    if (r < 0)
        return NULL;
    return kos_buf_steal(&b, NULL);
}

/* ---- the protobuf encoding --------------------------------------------------------------- */

/* gnostic openapi.v2 field numbers (OpenAPIv2.proto) */
enum {
    DOC_SWAGGER = 1,
    DOC_INFO = 2,
    DOC_PATHS = 8,
    DOC_DEFINITIONS = 9,
    INFO_TITLE = 1,
    INFO_VERSION = 2,
    PATHS_PATH = 2,  /* Paths.path: NamedPathItem */
    NAMED_NAME = 1,  /* every Named*: name */
    NAMED_VALUE = 2, /* every Named*: value */
    ANY_YAML = 2,    /* Any.yaml */
    MAP_ENTRIES = 1, /* Definitions/Properties.additional_properties: NamedSchema */
    SCHEMA_REF = 1,  /* Schema._ref */
    SCHEMA_FORMAT = 2,
    SCHEMA_TITLE = 3,
    SCHEMA_DESCRIPTION = 4,
    SCHEMA_REQUIRED = 19,
    SCHEMA_ADDITIONAL = 21, /* AdditionalPropertiesItem{schema 1, boolean 2} */
    SCHEMA_TYPE = 22,       /* TypeItem{value 1 repeated} */
    SCHEMA_ITEMS = 23,      /* ItemsItem{schema 1 repeated} */
    SCHEMA_ALL_OF = 24,
    SCHEMA_PROPERTIES = 25,
    SCHEMA_EXTENSION = 31,
    PATH_PARAMETERS = 9,
    PATH_EXTENSION = 10,
    OP_TAGS = 1,
    OP_DESCRIPTION = 3,
    OP_ID = 5,
    OP_PRODUCES = 6,
    OP_CONSUMES = 7,
    OP_PARAMETERS = 8, /* ParametersItem{parameter 1: Parameter{body 1, non_body 2}} */
    OP_RESPONSES = 9,  /* Responses{response_code 1: NamedResponseValue} */
    OP_SCHEMES = 10,
    OP_EXTENSION = 13,
    RESPONSE_VALUE_RESPONSE = 1, /* ResponseValue.response */
    RESPONSE_DESCRIPTION = 1,
    RESPONSE_SCHEMA = 2, /* SchemaItem{schema 1} */
};

/* PathItem's operations by field number. */
static const struct {
    const char *name;
    uint32_t field;
} path_ops[] = {{"get", 2},     {"put", 3},  {"post", 4}, {"delete", 5},
                {"options", 6}, {"head", 7}, {"patch", 8}};

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of obj in byte order (Go marshals maps sorted; gnostic keeps that order). The
 * caller frees the array, not the keys. NULL with *n == 0 for an empty object. */
static const char **sorted_keys(struct pb_writer *w, const json_t *obj, size_t *n)
{
    *n = 0;
    size_t size = json_object_size(obj);
    if (size == 0)
        return NULL;
    const char **keys = calloc(size, sizeof(*keys));
    if (!keys) {
        pbw_set_error(w, -ENOMEM);
        return NULL;
    }
    const char *key;
    const json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (i < size)
            keys[i++] = key;
    }
    qsort(keys, i, sizeof(*keys), cmp_key);
    *n = i;
    return keys;
}

static void enc_string(struct pb_writer *w, uint32_t field, const json_t *v)
{
    if (json_is_string(v))
        pbw_bytes(w, field, json_string_value(v), json_string_length(v));
}

/* A string or an array of strings, as a repeated string field. */
static void enc_strings(struct pb_writer *w, uint32_t field, const json_t *v)
{
    size_t i;
    const json_t *x;
    enc_string(w, field, v);
    json_array_foreach((json_t *)v, i, x)
    {
        enc_string(w, field, x);
    }
}

/* NamedAny{name, Any{yaml}} for every "x-" key of obj. */
static void enc_extensions(struct pb_writer *w, uint32_t field, const json_t *obj)
{
    size_t n;
    _cleanup_free_ const char **keys = sorted_keys(w, obj, &n);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(keys[i], "x-", 2) != 0)
            continue;
        _cleanup_free_ char *yaml = yaml_of(json_object_get(obj, keys[i]));
        if (!yaml) {
            pbw_set_error(w, -ENOMEM);
            return;
        }
        pbw_begin(w, field);
        pbw_string(w, NAMED_NAME, keys[i]);
        pbw_begin(w, NAMED_VALUE);
        pbw_string(w, ANY_YAML, yaml);
        pbw_end(w);
        pbw_end(w);
    }
}

static void enc_schema(struct pb_writer *w, uint32_t field, const json_t *s);

/* Definitions and Properties: repeated NamedSchema, sorted by name. */
static void enc_named_schemas(struct pb_writer *w, uint32_t field, const json_t *obj)
{
    size_t n;
    _cleanup_free_ const char **keys = sorted_keys(w, obj, &n);
    pbw_begin(w, field);
    for (size_t i = 0; i < n; i++) {
        pbw_begin(w, MAP_ENTRIES);
        pbw_string(w, NAMED_NAME, keys[i]);
        enc_schema(w, NAMED_VALUE, json_object_get(obj, keys[i]));
        pbw_end(w);
    }
    pbw_end(w);
}

/* Schema, fields in number order like Go's marshaller. Nesting is bounded by the writer's
 * depth limit (PBW_MAX_DEPTH), which fails the whole encoding rather than truncating it. */
static void enc_schema(struct pb_writer *w, uint32_t field, const json_t *s)
{
    if (!json_is_object(s) || w->err)
        return;
    size_t i;
    const json_t *x;
    pbw_begin(w, field);
    enc_string(w, SCHEMA_REF, json_object_get(s, "$ref"));
    enc_string(w, SCHEMA_FORMAT, json_object_get(s, "format"));
    enc_string(w, SCHEMA_TITLE, json_object_get(s, "title"));
    enc_string(w, SCHEMA_DESCRIPTION, json_object_get(s, "description"));
    enc_strings(w, SCHEMA_REQUIRED, json_object_get(s, "required"));
    const json_t *add = json_object_get(s, "additionalProperties");
    if (json_is_object(add)) {
        pbw_begin(w, SCHEMA_ADDITIONAL);
        enc_schema(w, 1, add);
        pbw_end(w);
    } else if (json_is_boolean(add)) {
        pbw_begin(w, SCHEMA_ADDITIONAL);
        pbw_bool(w, 2, json_is_true(add));
        pbw_end(w);
    }
    const json_t *type = json_object_get(s, "type");
    if (type) {
        pbw_begin(w, SCHEMA_TYPE);
        enc_strings(w, 1, type);
        pbw_end(w);
    }
    const json_t *items = json_object_get(s, "items");
    if (items) {
        pbw_begin(w, SCHEMA_ITEMS);
        enc_schema(w, 1, items);
        json_array_foreach((json_t *)items, i, x)
        {
            enc_schema(w, 1, x);
        }
        pbw_end(w);
    }
    json_array_foreach(json_object_get(s, "allOf"), i, x)
    {
        enc_schema(w, SCHEMA_ALL_OF, x);
    }
    const json_t *props = json_object_get(s, "properties");
    /* present even when empty: kubectl tells a struct (Kind) from a map by its presence */
    if (json_is_object(props))
        enc_named_schemas(w, SCHEMA_PROPERTIES, props);
    enc_extensions(w, SCHEMA_EXTENSION, s);
    pbw_end(w);
}

/* ParametersItem{parameter: Parameter{non_body_parameter: NonBodyParameter{<in>_sub_schema}}}
 * or, for "in": "body", Parameter.body_parameter. */
static void enc_parameter(struct pb_writer *w, uint32_t field, const json_t *p)
{
    const char *in = json_string_value(json_object_get(p, "in"));
    if (!in)
        return;
    bool required = json_is_true(json_object_get(p, "required"));
    bool unique = json_is_true(json_object_get(p, "uniqueItems"));
    pbw_begin(w, field);
    pbw_begin(w, 1);
    if (strcmp(in, "body") == 0) {
        pbw_begin(w, 1); /* BodyParameter{description 1, name 2, in 3, required 4, schema 5} */
        enc_string(w, 1, json_object_get(p, "description"));
        enc_string(w, 2, json_object_get(p, "name"));
        pbw_string(w, 3, in);
        if (required)
            pbw_bool(w, 4, true);
        enc_schema(w, 5, json_object_get(p, "schema"));
        pbw_end(w);
    } else {
        /* header 1, formData 2, query 3, path 4; all start required 1, in 2, description 3,
         * name 4; type is 6 in query and formData (after allow_empty_value 5), else 5 */
        uint32_t sub = strcmp(in, "query") == 0      ? 3
                       : strcmp(in, "path") == 0     ? 4
                       : strcmp(in, "formData") == 0 ? 2
                                                     : 1;
        bool shifted = sub == 3 || sub == 2;
        pbw_begin(w, 2);
        pbw_begin(w, sub);
        if (required)
            pbw_bool(w, 1, true);
        pbw_string(w, 2, in);
        enc_string(w, 3, json_object_get(p, "description"));
        enc_string(w, 4, json_object_get(p, "name"));
        enc_string(w, shifted ? 6 : 5, json_object_get(p, "type"));
        if (unique)
            pbw_bool(w, shifted ? 20 : 19, true);
        pbw_end(w);
        pbw_end(w);
    }
    pbw_end(w);
    pbw_end(w);
}

static void enc_operation(struct pb_writer *w, uint32_t field, const json_t *op)
{
    size_t i, n;
    const json_t *x;
    pbw_begin(w, field);
    enc_strings(w, OP_TAGS, json_object_get(op, "tags"));
    enc_string(w, OP_DESCRIPTION, json_object_get(op, "description"));
    enc_string(w, OP_ID, json_object_get(op, "operationId"));
    enc_strings(w, OP_PRODUCES, json_object_get(op, "produces"));
    enc_strings(w, OP_CONSUMES, json_object_get(op, "consumes"));
    json_array_foreach(json_object_get(op, "parameters"), i, x)
    {
        enc_parameter(w, OP_PARAMETERS, x);
    }
    const json_t *responses = json_object_get(op, "responses");
    _cleanup_free_ const char **codes = sorted_keys(w, responses, &n);
    pbw_begin(w, OP_RESPONSES);
    for (i = 0; i < n; i++) {
        const json_t *resp = json_object_get(responses, codes[i]);
        pbw_begin(w, 1);
        pbw_string(w, NAMED_NAME, codes[i]);
        pbw_begin(w, NAMED_VALUE);
        pbw_begin(w, RESPONSE_VALUE_RESPONSE);
        enc_string(w, RESPONSE_DESCRIPTION, json_object_get(resp, "description"));
        const json_t *schema = json_object_get(resp, "schema");
        if (schema) {
            pbw_begin(w, RESPONSE_SCHEMA);
            enc_schema(w, 1, schema);
            pbw_end(w);
        }
        pbw_end(w);
        pbw_end(w);
        pbw_end(w);
    }
    pbw_end(w);
    enc_strings(w, OP_SCHEMES, json_object_get(op, "schemes"));
    enc_extensions(w, OP_EXTENSION, op);
    pbw_end(w);
}

static void enc_path_item(struct pb_writer *w, const json_t *item)
{
    size_t i;
    const json_t *x;
    for (i = 0; i < sizeof(path_ops) / sizeof(path_ops[0]); i++) {
        const json_t *op = json_object_get(item, path_ops[i].name);
        if (json_is_object(op))
            enc_operation(w, path_ops[i].field, op);
    }
    json_array_foreach(json_object_get(item, "parameters"), i, x)
        enc_parameter(w, PATH_PARAMETERS, x);
    enc_extensions(w, PATH_EXTENSION, item);
}

int openapi_v2_encode(const json_t *doc, uint8_t **ret, size_t *ret_len)
{
    if (!json_is_object(doc))
        return -EINVAL;
    _cleanup_pbw_ struct pb_writer w;
    pbw_init(&w, V2_MAX_BYTES);
    enc_string(&w, DOC_SWAGGER, json_object_get(doc, "swagger"));
    const json_t *info = json_object_get(doc, "info");
    pbw_begin(&w, DOC_INFO);
    enc_string(&w, INFO_TITLE, json_object_get(info, "title"));
    enc_string(&w, INFO_VERSION, json_object_get(info, "version"));
    pbw_end(&w);

    const json_t *paths = json_object_get(doc, "paths");
    size_t n;
    _cleanup_free_ const char **names = sorted_keys(&w, paths, &n);
    pbw_begin(&w, DOC_PATHS);
    for (size_t i = 0; i < n; i++) {
        pbw_begin(&w, PATHS_PATH);
        pbw_string(&w, NAMED_NAME, names[i]);
        pbw_begin(&w, NAMED_VALUE);
        enc_path_item(&w, json_object_get(paths, names[i]));
        pbw_end(&w);
        pbw_end(&w);
    }
    pbw_end(&w);
    enc_named_schemas(&w, DOC_DEFINITIONS, json_object_get(doc, "definitions"));
    return pbw_finish(&w, ret, ret_len);
}

/* ---- serving ----------------------------------------------------------------------------- */

/* Built on the first request; never freed, as it lives as long as the server. */
static struct {
    uint8_t *pb;
    size_t pb_len;
    char *json;
    size_t json_len;
    int err;
} cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_build(void)
{
    _cleanup_json_ json_t *doc = openapi_v2_document();
    if (!doc) {
        cache.err = -ENOMEM;
        return;
    }
    _cleanup_free_ char *json = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    int r = json ? openapi_v2_encode(doc, &pb, &pb_len) : -ENOMEM;
    if (r < 0) {
        cache.err = r;
        return;
    }
    cache.json_len = strlen(json);
    cache.json = TAKE_PTR(json);
    cache.pb = pb;
    cache.pb_len = pb_len;
}

/* kube-apiserver answers protobuf only when Accept names the gnostic type; JSON otherwise. */
static bool wants_protobuf(const char *accept)
{
    return accept && strstr(accept, "application/com.github.proto-openapi.spec.v2");
}

void openapi_v2_handle(const struct http_request *req, struct http_reply *rep)
{
    pthread_once(&cache_once, cache_build);
    if (cache.err) {
        reply_errorf(rep, 500, "InternalError", "building the OpenAPI v2 document: %s",
                     strerror(-cache.err));
        return;
    }
    bool pb = wants_protobuf(http_header(req, "Accept"));
    struct iovec *iov = calloc(1, sizeof(*iov));
    if (!iov) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    /* the cached bytes are sent in place: no copy, nothing to free but the iovec */
    iov->iov_base = pb ? (void *)cache.pb : (void *)cache.json;
    iov->iov_len = pb ? cache.pb_len : cache.json_len;
    rep->status = 200;
    rep->content_type = pb ? CT_OPENAPI_V2_PB : CT_JSON;
    rep->iov = iov;
    rep->iovcnt = 1;
}

/* Field schemas of the built-in kinds: which fields exist, their types, and the strategic
 * merge patch keys. Used for fieldValidation=Strict/Warn (unknown fields), and later for
 * OpenAPI v3 schemas and protobuf decoding. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "api/kinds.h"

enum schema_type_kind {
    SCHEMA_STRING,
    SCHEMA_INTEGER,
    SCHEMA_NUMBER,
    SCHEMA_BOOLEAN,
    SCHEMA_OBJECT,        /* a struct: `ref` names its fields */
    SCHEMA_ARRAY,         /* items described by `items` */
    SCHEMA_MAP,           /* map[string]<items> */
    SCHEMA_QUANTITY,      /* resource.Quantity: string or number */
    SCHEMA_INT_OR_STRING, /* intstr.IntOrString */
    SCHEMA_TIME,          /* metav1.Time: RFC 3339 string or null */
    SCHEMA_ANY,           /* free-form (RawExtension, JSON): not checked inside */
};

struct schema_struct;

struct schema_node {
    enum schema_type_kind type;
    const struct schema_struct *ref; /* SCHEMA_OBJECT */
    const struct schema_node *items; /* SCHEMA_ARRAY and SCHEMA_MAP */
    /* OpenAPI format: "int32", "int64", "double", "byte" (base64 []byte), "date-time",
     * "int-or-string", or NULL */
    const char *format;
};

struct schema_field {
    const char *name;
    struct schema_node node;
    const char *patch_merge_key; /* strategic merge patch: list merge key, or NULL */
    const char *patch_strategy;  /* "merge", "replace", "retainKeys", "merge,retainKeys" or NULL */
    const char *description;     /* for OpenAPI / explain; may be NULL */
    /* Protobuf field number of this field in the message of its struct, 0 if it is not
     * encoded (apiVersion and kind live in the runtime.Unknown envelope). */
    unsigned proto_tag;
    /* Go structs embedded with `json:",inline"` are flattened here, but in protobuf they stay
     * a nested message: proto_inline is that message's field number in the outer struct
     * (Volume.volumeSource = 2, Probe.handler = 1, ...), proto_tag the number inside it.
     * 0 for ordinary fields. */
    unsigned proto_inline;
};

struct schema_struct {
    const char *name; /* OpenAPI definition name, e.g. "io.k8s.api.core.v1.PodSpec" */
    const struct schema_field *fields;
    size_t nfields;
    const char *description; /* one line, set for the top level of kinds; else NULL */
};

/* At most this many unknown fields are reported (sigs.k8s.io/json stops there too). */
#define SCHEMA_MAX_UNKNOWN_FIELDS 100

/* The top-level schema of a kind (NULL if none is known: then nothing is checked). */
const struct schema_struct *schema_for_kind(const struct kos_kind *kind);
const struct schema_field *schema_struct_field(const struct schema_struct *s, const char *name);

/* Unknown fields in obj, as kube-apiserver names them ("spec.containers[0].imagee"); the
 * caller frees the array and each string. Returns the count (>= 0) or a negative errno. */
int schema_unknown_fields(const struct kos_kind *kind, const json_t *obj, char ***ret_paths);
/* Removes every unknown field from obj, as decoding into Go structs drops them in
 * kube-apiserver (fieldValidation Ignore and Warn), and reports the first
 * SCHEMA_MAX_UNKNOWN_FIELDS paths like schema_unknown_fields. */
int schema_prune_unknown_fields(const struct kos_kind *kind, json_t *obj, char ***ret_paths);

/* The same for a body that is not a kind's object (Binding, Scale, DeleteOptions...):
 * s may be NULL (then 0 paths). */
int schema_unknown_fields_in(const struct schema_struct *s, const json_t *obj, char ***ret_paths);
/* Frees what schema_unknown_fields*() returned (NULL-safe). */
void schema_paths_free(char **paths, size_t n);

/* Top-level schema by API group ("" for core) and kind; version must be "v1" or NULL. */
const struct schema_struct *schema_for_group_kind(const char *group, const char *version,
                                                  const char *kind);
/* Any struct by its OpenAPI definition name, e.g. "io.k8s.api.core.v1.Binding",
 * "io.k8s.api.autoscaling.v1.Scale", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions". */
const struct schema_struct *schema_struct_by_name(const char *name);
/* Every struct the tables hold (for OpenAPI); order is stable but unspecified. */
const struct schema_struct *schema_struct_at(size_t i);
size_t schema_struct_count(void);

/* The struct reached through a node, looking through arrays and maps (the element struct of
 * "containers", the value struct of a map); NULL when the elements are not objects. */
const struct schema_struct *schema_node_struct(const struct schema_node *n);
/* The field named by a dotted path of field names from s ("spec.template.spec.containers"),
 * stepping through arrays and maps; NULL if any step is unknown. For merge-key lookups. */
const struct schema_field *schema_field_at_path(const struct schema_struct *s, const char *path);

/* Shared machinery of the validators (validate_meta.c, validate_pod.c, validate.c): an error
 * list with apimachinery's field.Error shapes, type-checked JSON getters, Go-style value
 * printing, and the ObjectMeta / label / selector validators every kind reuses. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/kinds.h"
#include "util/error.h"

/* Field paths are user-controlled (map keys end up in them), so they are bounded. */
#define FP_MAX 1024

enum verr_type {
    VERR_NOT_FOUND,
    VERR_REQUIRED,
    VERR_DUPLICATE,
    VERR_INVALID,
    VERR_NOT_SUPPORTED,
    VERR_FORBIDDEN,
    VERR_TOO_LONG,
    VERR_TOO_MANY,
};

struct vctx {
    const struct kos_kind *kind;
    json_t *errs;     /* array of {reason, field, message}, in the order found */
    char *decode_err; /* first wrong-JSON-type problem: becomes a 400 like kube's decoder */
    bool oom;
};

/* Builds "fmt" into out (FP_MAX bytes), cut on a UTF-8 boundary if too long. */
const char *fp(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds one error; value is the already-printed bad value (NULL for types that omit it). */
void verr_add(struct vctx *v, enum verr_type t, const char *field, const char *value,
              const char *detail);
void v_required(struct vctx *v, const char *field, const char *detail);
void v_forbidden(struct vctx *v, const char *field, const char *detail);
void v_too_long(struct vctx *v, const char *field, long max);
void v_invalid_str(struct vctx *v, const char *field, const char *val, const char *detail);
void v_invalid_int(struct vctx *v, const char *field, int64_t val, const char *detail);
void v_invalid_repr(struct vctx *v, const char *field, const char *repr, const char *detail);
void v_duplicate_str(struct vctx *v, const char *field, const char *val);
void v_not_found_str(struct vctx *v, const char *field, const char *val);
/* supported: NULL-terminated list, printed quoted in the given order. */
void v_not_supported(struct vctx *v, const char *field, const char *val,
                     const char *const *supported);
/* Records a JSON type mismatch at field (first one wins). */
void v_decode_error(struct vctx *v, const char *field, const json_t *got, const char *go_type);
/* Records a decode problem with its own wording (first one wins). */
void v_decode_msg(struct vctx *v, const char *msg);

/* Type-checked getters: absent or null gives NULL/false; a wrong type records a decode error
 * and also gives NULL/false, so callers never see a value of the wrong type. */
const json_t *v_obj(struct vctx *v, const json_t *parent, const char *key, const char *path);
const json_t *v_arr(struct vctx *v, const json_t *parent, const char *key, const char *path);
const char *v_str(struct vctx *v, const json_t *parent, const char *key, const char *path);
/* Integer field that must fit in `bits` (32 or 64) signed bits. */
bool v_int(struct vctx *v, const json_t *parent, const char *key, const char *path, int bits,
           int64_t *ret);
bool v_bool(struct vctx *v, const json_t *parent, const char *key, const char *path, bool *ret);
/* A map[string]string: every value must be a string. */
const json_t *v_strmap(struct vctx *v, const json_t *parent, const char *key, const char *path);
/* Element i of an array that must be an object (NULL + decode error otherwise). */
const json_t *v_elem_obj(struct vctx *v, const json_t *arr, size_t i, const char *path);
/* An IntOrString field: returns 0 absent, 1 int (*ival), 2 string (*sval). */
int v_int_or_string(struct vctx *v, const json_t *parent, const char *key, const char *path,
                    int64_t *ival, const char **sval);

/* Go's strconv.Quote into out (a NUL-terminated malloc'd string) or NULL on ENOMEM. */
char *go_quote(const char *s);
/* %#v of map[string]string (nil when m is NULL), keys sorted as fmt prints them. */
char *go_strmap_repr(const json_t *m);
/* %#v of a metav1.LabelSelector value. */
char *go_label_selector_repr(const json_t *sel);
/* %#v of an intstr.IntOrString value. */
char *go_intstr_repr(const json_t *val);

/* apimachinery name/format validators: fill msgs (up to 4) and return the count. */
int name_msgs(enum kos_name_rule rule, const char *name, const char **msgs);
int dns1123_label_msgs(const char *s, const char **msgs);
int dns1123_subdomain_msgs(const char *s, const char **msgs);
int dns1035_label_msgs(const char *s, const char **msgs);
int qualified_name_msgs(const char *s, const char **msgs);
int label_value_msgs(const char *s, const char **msgs);
int config_key_msgs(const char *s, const char **msgs);
int port_name_msgs(const char *s, const char **msgs);
bool is_dns1123_label(const char *s);

/* field.Invalid for every message of the validator. */
void v_dns1123_label(struct vctx *v, const char *field, const char *s);
void v_dns1123_subdomain(struct vctx *v, const char *field, const char *s);
void v_qualified_name(struct vctx *v, const char *field, const char *s);

/* ObjectMeta on create (name, namespace, labels, annotations, generation). */
void v_object_meta(struct vctx *v, const json_t *obj, const char *path);
/* ObjectMeta on update: immutable name/namespace/uid/creationTimestamp plus the
 * label/annotation checks. */
void v_object_meta_update(struct vctx *v, const json_t *obj, const json_t *old);
void v_labels(struct vctx *v, const json_t *labels, const char *path);
void v_annotations(struct vctx *v, const json_t *annotations, const char *path);
/* metav1.LabelSelector validation (matchLabels, matchExpressions). */
void v_label_selector(struct vctx *v, const json_t *sel, const char *path);
/* Whether labels satisfy a metav1.LabelSelector; an empty selector matches everything. */
bool selector_matches(const json_t *sel, const json_t *labels);
bool selector_is_empty(const json_t *sel);

/* "must be greater than or equal to 0" when the integer is negative. */
void v_nonnegative(struct vctx *v, const json_t *parent, const char *key, const char *path);

/* Pod spec validation (validate_pod.c); path is "spec" or "spec.template.spec". */
void v_pod_spec(struct vctx *v, const json_t *spec, const char *path);
/* PodTemplateSpec: metadata labels/annotations then the pod spec. */
void v_pod_template(struct vctx *v, const json_t *tmpl, const char *path);
void v_pod(struct vctx *v, const json_t *pod);
void v_pod_update(struct vctx *v, const json_t *pod, const json_t *old);

/* Per-kind validators: create(v, obj) checks the whole object except ObjectMeta; update(v,
 * obj, old) adds the rules that compare against the stored object. */
typedef void (*vkind_create_fn)(struct vctx *v, const json_t *obj);
typedef void (*vkind_update_fn)(struct vctx *v, const json_t *obj, const json_t *old);
struct vkind {
    const char *group;
    const char *kind;
    vkind_create_fn create;
    vkind_update_fn update;
};
/* Tables in validate_core.c (core group) and validate_other.c (storage, scheduling, rbac,
 * policy, coordination); NULL-kind terminated. */
extern const struct vkind vkinds_core[];
extern const struct vkind vkinds_other[];

/* %#v of []string (nil when arr is NULL). */
char *go_strlist_repr(const json_t *arr);
/* Deep equality where absent, null and empty object/array count as the same (Go structs
 * with omitempty decode all three alike). */
bool json_equal_loose(const json_t *a, const json_t *b);

/* Turns the collected errors into *err; returns 0 when there are none. */
int vctx_finish(struct vctx *v, const json_t *obj, struct kos_error **err);
void vctx_free(struct vctx *v);

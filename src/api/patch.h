/* The four PATCH types kube-apiserver accepts. Each takes the current object and the patch
 * document and produces the patched object (a new tree; the inputs are not modified). */
#pragma once

#include <jansson.h>

#include "api/kinds.h"
#include "util/error.h"

enum patch_type {
    PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
    PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
    PATCH_STRATEGIC, /* application/strategic-merge-patch+json */
    PATCH_APPLY,     /* application/apply-patch+yaml (server-side apply) */
};

/* Errors: 422 for a JSON patch whose op fails ("the server rejected our request due to an
 * error in our request" style messages as kube-apiserver), 400 for a malformed patch. */
int kos_patch_apply(enum patch_type type, const struct kos_kind *kind, const json_t *original,
                    const json_t *patch, json_t **ret, struct kos_error **err);

/* The Content-Type of a PATCH request to its patch type; media type parameters
 * ("; charset=utf-8") are ignored. -EOPNOTSUPP for any other media type (the caller answers
 * 415 UnsupportedMediaType). */
int kos_patch_type_from_content_type(const char *content_type, enum patch_type *ret);

/* The building blocks, usable on any JSON document (not only kind objects). Each returns a
 * new tree in *ret and leaves its inputs untouched. */

/* RFC 6902 JSON Patch. 400 for a malformed patch document, 413 for more than
 * KOS_JSON_PATCH_MAX_OPS operations, 422 for an operation that does not apply. */
#define KOS_JSON_PATCH_MAX_OPS 10000
int kos_json_patch(const json_t *doc, const json_t *patch, json_t **ret, struct kos_error **err);

/* RFC 7386 JSON merge patch (the result may be any JSON value). */
int kos_json_merge_patch(const json_t *target, const json_t *patch, json_t **ret,
                         struct kos_error **err);

/* Strategic merge patch of an object of `kind` (NULL: rules of every built-in kind apply). */
int kos_strategic_merge_patch(const struct kos_kind *kind, const json_t *original,
                              const json_t *patch, json_t **ret, struct kos_error **err);

/* How strategic merge patch treats the list (or map) at `path`: the field names from the
 * object root with list indices dropped, e.g. "spec.template.spec.containers.ports". */
enum kos_patch_strategy {
    KOS_PATCH_STRATEGY_NONE = 0,             /* lists replace, maps merge */
    KOS_PATCH_STRATEGY_MERGE = 1 << 0,       /* lists merge (by merge key, or as a set) */
    KOS_PATCH_STRATEGY_RETAIN_KEYS = 1 << 1, /* the client sends $retainKeys */
    KOS_PATCH_STRATEGY_REPLACE = 1 << 2,     /* maps are replaced whole */
};
struct kos_patch_meta {
    unsigned strategy;     /* enum kos_patch_strategy */
    const char *merge_key; /* NULL for lists of primitives / non-merging lists */
};
/* Always fills *ret (KOS_PATCH_STRATEGY_NONE for unknown paths). */
void kos_patch_meta_lookup(const struct kos_kind *kind, const char *path,
                           struct kos_patch_meta *ret);

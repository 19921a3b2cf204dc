/* Helpers on API objects as JSON trees: metadata access, server-owned fields, and turning an
 * object into the bytes the store keeps once its revision is known. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/kinds.h"
#include "store/store.h"
#include "util/error.h"

/* metadata object of obj, created when absent (NULL only on allocation failure). */
json_t *obj_meta(json_t *obj);
/* String at a dotted path ("metadata.name"), or NULL when absent or not a string. */
const char *obj_str(const json_t *obj, const char *path);
json_t *obj_path(const json_t *obj, const char *path);
/* Sets a string member (a copy). */
int obj_set_str(json_t *obj, const char *key, const char *value);

/* store_render_fn: ctx is the json_t object; sets metadata.resourceVersion to the revision
 * and serializes it. */
int obj_render(void *ctx, int64_t rev, struct kos_value **ret);

/* The object serialized by the request's thread before its write is queued, with the place
 * of metadata.resourceVersion left open, so that the store's single writer only fills in the
 * revision (obj_render_prepared) instead of walking a tree another thread built, while the
 * whole batch waits. */
struct obj_prepared {
    json_t *obj;
    char *data;
    size_t len;
    size_t at;         /* where the placeholder for the resourceVersion starts */
    size_t marker_len; /* and its length */
};

/* 0, or a negative errno when the object cannot be prepared (then render it with
 * obj_render). Leaves a placeholder in the object's metadata.resourceVersion until
 * obj_render_prepared runs. */
int obj_prepare(json_t *obj, struct obj_prepared *ret);
/* store_render_fn; ctx is a struct obj_prepared. Also sets metadata.resourceVersion in the
 * object, as obj_render does, unless the prepared one has no object (obj NULL). */
int obj_render_prepared(void *ctx, int64_t rev, struct kos_value **ret);
/* Accepts a zeroed one. */
void obj_prepared_clear(struct obj_prepared *p);
/* store_write of obj, serialized by the caller's thread (obj_prepare) when it can be. */
int obj_store_write(struct store *st, enum store_write_type type, const char *key,
                    int64_t expected_mod_rev, json_t *obj, struct store_write_result *ret);
/* obj_store_write for a caller that reads nothing of obj once it is written (the result's
 * value holds the stored bytes): obj's members are freed as soon as they are encoded, before
 * the write waits for its commit, and obj is left an empty object. Why: freed after the
 * fsync, a request's tree had gone cold in the cache and its free cost more than its parse
 * (~5% of a create). Written by the writer (obj_render) as obj_store_write does when it
 * cannot be encoded ahead; obj is kept then. */
int obj_store_write_consume(struct store *st, enum store_write_type type, const char *key,
                            int64_t expected_mod_rev, json_t *obj, struct store_write_result *ret);

/* Decodes a stored value (new reference) or NULL with a 500 in err. */
json_t *obj_decode_value(const struct kos_value *v, struct kos_error **err);

/* Ensures apiVersion and kind are set to the kind's and rejects a body that names another
 * kind (400 BadRequest like kube-apiserver). */
int obj_check_type(json_t *obj, const struct kos_kind *kind, struct kos_error **err);

/* "2025-01-01T00:00:00Z" for now. */
void obj_now_rfc3339(char *out, size_t size);

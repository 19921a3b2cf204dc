/* Decoding of untrusted JSON request bodies, bounded: size is bounded by the caller (the
 * HTTP layer refuses bodies over the limit), nesting depth here, duplicates rejected. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

#define KOS_JSON_MAX_DEPTH 100

/* Parses exactly one JSON value (any type) filling data[0..len). Errors: 400 BadRequest with a
 * message naming the problem (empty body, syntax error with position, trailing data, invalid
 * UTF-8, \u0000, integer beyond int64, nesting too deep, duplicate field); -ENOMEM. */
int kos_json_decode(const char *data, size_t len, json_t **ret, struct kos_error **err);

/* The same, except that a duplicate field is not an error: the last value wins (as Go's
 * decoder has it) and *ret_duplicate is set to the first duplicated key, quoted as JSON
 * ("\"data\""), or NULL when there was none. The caller frees it. */
int kos_json_decode_allow_duplicates(const char *data, size_t len, json_t **ret,
                                     char **ret_duplicate, struct kos_error **err);

/* Compact serialization (no spaces, insertion order kept, reals as kos_json_format_double,
 * non-ASCII left as UTF-8); NUL-terminated, the length without the NUL in *ret_len (may be
 * NULL). NULL on failure (allocation, or a NaN/Inf real jansson should never hold). */
char *kos_json_encode(const json_t *v, size_t *ret_len);
/* kos_json_encode with the object `node`, found by identity (a subtree of v the caller knows),
 * written as `bytes`: what kos_json_encode gives for node, kept from an earlier encoding of
 * a tree that is shared and never changed (the managedFields of creates of one shape). */
char *kos_json_encode_splice(const json_t *v, const json_t *node, const char *bytes, size_t len,
                             size_t *ret_len);
/* The same with every object's members in bytewise key order (shorter first on a common
 * prefix): equal values give equal bytes, for keys of interning tables and comparisons. A
 * replacement for json_dumps(JSON_COMPACT | JSON_SORT_KEYS), several times faster. */
char *kos_json_encode_sorted(const json_t *v, size_t *ret_len);

/* Depth of the deepest nesting in v (1 for a scalar; a container is 1 + its deepest child,
 * an empty one counting as holding a scalar: {} and {"a":1} are 2). Decoding refuses input
 * whose tree would be deeper than KOS_JSON_MAX_DEPTH. */
size_t kos_json_depth(const json_t *v);

#define KOS_JSON_DOUBLE_BUFSZ 64

/* Formats a finite double as Go's encoding/json does: the shortest digits that read back to
 * the same value, plain notation in [1e-6, 2^63) (1.0 prints as 1), exponent form outside it
 * (1e+19, 1e-7). Go keeps plain digits up to 1e21; we stop at 2^63 so that the output never
 * holds an integer kos_json_decode would refuse as beyond int64. out must hold
 * KOS_JSON_DOUBLE_BUFSZ bytes. -EINVAL for NaN/Inf. */
int kos_json_format_double(double d, char *out, size_t size);

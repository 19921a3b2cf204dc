/* Scanning serialized JSON without parsing it: the readers that pick a few members out of
 * stored objects (the informers' decoder, the Table renderer) step over everything else with
 * these. The input is JSON the server itself wrote (or a client's, already validated), so the
 * scanners only need to find where a value ends; they never read past end. */
#pragma once

#include <stddef.h>

/* The first byte at or after p that is not JSON whitespace (end when none). */
const char *kos_json_skip_ws(const char *p, const char *end);
/* p at an opening quote: the byte after the closing one, or NULL when the string is cut. */
const char *kos_json_skip_string(const char *p, const char *end);
/* p at the start of a value: the byte after it, or NULL when it is cut or nested deeper than
 * KOS_JSON_MAX_DEPTH. */
const char *kos_json_skip_value(const char *p, const char *end);

/* The value of the top-level member key of the object at [data, data + len): 1 with the value's
 * bytes in [*value, *value + *value_len), 0 when the object has no such member, -EINVAL when
 * the bytes are not a plain object. Keys written with escapes never match. */
int kos_json_member(const char *data, size_t len, const char *key, const char **value,
                    size_t *value_len);

/* Several members in one pass: for each of the n keys, values[i]/value_lens[i] get its value
 * (values[i] NULL when absent). The scan stops once every key was found, so members after the
 * last wanted one are not read. Returns how many were found, or -EINVAL as kos_json_member. */
int kos_json_members(const char *data, size_t len, const char *const *keys, size_t n,
                     const char **values, size_t *value_lens);

/* kos_json_members, except that the scan stops at the start of the value of the key found
 * last when all n are found: that value's length is not known then, and value_lens gives the
 * rest of the input (a reader of its members stops at its closing bracket; kos_json_skip_value
 * finds its end). Saves a pass over a large value that is read member by member next. */
int kos_json_members_open(const char *data, size_t len, const char *const *keys, size_t n,
                          const char **values, size_t *value_lens);

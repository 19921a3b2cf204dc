/* A fast path for parsing JSON into jansson trees (see json_fast.c). */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* Parses data[0..len) into *ret (any type) exactly as jansson would: 0; -EAGAIN for input it
 * leaves to jansson (which may still accept it, or report the error); -ENOMEM. */
int kos_json_fast_parse(const char *data, size_t len, json_t **ret);

/* kos_json_fast_parse for input whose containers nest at most max_nesting deep (capped at
 * KOS_JSON_MAX_DEPTH); deeper input is -EAGAIN. */
int kos_json_fast_parse_nesting(const char *data, size_t len, unsigned max_nesting, json_t **ret);

/* The value at the start of data[0..len) (leading whitespace skipped), without looking past
 * it: 0 with the tree in *ret and the bytes it took in *ret_consumed; -EAGAIN and -ENOMEM as
 * kos_json_fast_parse. Saves the scan for a value's end before parsing it. */
int kos_json_fast_parse_prefix(const char *data, size_t len, json_t **ret, size_t *ret_consumed);

/* json_loadb with the fast path first: the same result for every input and flags. */
json_t *kos_json_loadb(const char *data, size_t len, size_t flags, json_error_t *error);

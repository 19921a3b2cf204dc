/* Shared by the patch implementations (patch*.c); not part of the module's interface. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Nesting bound for the trees a patch may build and for the recursion that walks them. The
 * request decoder already stops at 100 levels; this is the second line of defence, so that
 * no patch input (fuzzed, or built by copy operations) can grow the stack without bound. */
#define KOS_PATCH_MAX_DEPTH 128

/* A deep copy that can fail only on allocation (json_deep_copy of a valid tree). */
static inline json_t *patch_copy(const json_t *v)
{
    return json_deep_copy(v);
}

/* Nesting depth of v (a scalar is 1), counting no further than limit + 1. */
size_t patch_json_depth(const json_t *v, size_t limit);

/* Number of values in v (every scalar, array and object counts 1), no further than limit + 1. */
size_t patch_json_nodes(const json_t *v, size_t limit);

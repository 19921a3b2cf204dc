/* The pieces of a value that is not flat (value.c builds and frees them, value_share.c
 * decides them). */
#pragma once

#include "store/value.h"

struct kos_value_chunk; /* value_share.c */

struct kos_value_seg {
    const char *p; /* into the value's own bytes, or into the chunk's */
    size_t n;
    struct kos_value_chunk *chunk; /* a shared chunk (one holder's share), or NULL */
};

static inline struct kos_value_seg *kos_value_segs(const struct kos_value *v)
{
    return (struct kos_value_seg *)(uintptr_t)v->data;
}

/* Gives back one holder's share of a chunk (value_share.c). */
void kos_value_chunk_release(struct kos_value_chunk *chunk);

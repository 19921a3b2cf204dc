/* An immutable, reference-counted byte string: a stored object as serialized JSON.
 * The same value is shared by the current-state index, the watch window and responses in
 * flight, so a 2 KB pod is held once however many watchers send it. Refcounts are atomic. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <sys/uio.h>

struct kos_value {
    atomic_int refs;
    size_t len;
    char data[]; /* len bytes plus a terminating NUL */
};

/* Copies len bytes; returns NULL on allocation failure. */
struct kos_value *kos_value_new(const void *data, size_t len);
/* Takes ownership of a malloc'd buffer would need a second allocation anyway; this variant
 * copies and frees `data`, for callers that built it in a kos_buf. */
struct kos_value *kos_value_from_malloc(char *data, size_t len);
/* The parts' bytes one after another (NULL on allocation failure or overflow). */
struct kos_value *kos_value_concat(const struct iovec *parts, size_t n);
struct kos_value *kos_value_ref(struct kos_value *v);
/* Accepts NULL. */
void kos_value_unref(struct kos_value *v);

static inline void kos_value_unrefp(struct kos_value **v)
{
    kos_value_unref(*v);
}
#define _cleanup_value_ __attribute__((cleanup(kos_value_unrefp)))

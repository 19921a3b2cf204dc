/* An immutable, reference-counted byte string: a stored object as serialized JSON.
 * The same value is shared by the current-state index, the watch window and responses in
 * flight, so a 2 KB pod is held once however many watchers send it. Refcounts are atomic.
 *
 * A value is flat (its bytes at data) or, when the store made it with kos_value_new_shared,
 * may be pieces: its own bytes between chunks shared process-wide with other values (the parts
 * that many stored objects repeat byte for byte: a pod's spec, its managedFields' fieldsV1).
 * The bytes are the same either way; readers that need them in one piece use kos_value_bytes,
 * writers of responses kos_value_iov. v->data is valid only when kos_value_is_flat(v). */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct kos_value {
    atomic_int refs;
    uint32_t nseg; /* 0: flat; else the pieces (struct kos_value_seg) sit at data */
    size_t len;
    char data[]; /* flat: len bytes plus a terminating NUL */
};

/* Copies len bytes; returns NULL on allocation failure. */
struct kos_value *kos_value_new(const void *data, size_t len);
/* Takes ownership of a malloc'd buffer would need a second allocation anyway; this variant
 * copies and frees `data`, for callers that built it in a kos_buf. */
struct kos_value *kos_value_from_malloc(char *data, size_t len);
/* The parts' bytes one after another (NULL on allocation failure or overflow). */
struct kos_value *kos_value_concat(const struct iovec *parts, size_t n);
/* The same bytes as kos_value_new, with the large repeated members of a stored object
 * (see value_share.c) shared with every other value holding them. */
struct kos_value *kos_value_new_shared(const void *data, size_t len);
struct kos_value *kos_value_ref(struct kos_value *v);
/* Accepts NULL. */
void kos_value_unref(struct kos_value *v);

static inline bool kos_value_is_flat(const struct kos_value *v)
{
    return v->nseg == 0;
}
/* The bytes in one piece (NUL-terminated): v->data when flat, else a copy that *tmp takes
 * (the caller frees it). NULL when out of memory. */
const char *kos_value_bytes(const struct kos_value *v, char **tmp);
/* How many iovecs kos_value_iov fills for v. */
size_t kos_value_iovcnt(const struct kos_value *v);
/* The bytes as kos_value_iovcnt(v) iovecs into iov (which has room for them); they stay valid
 * while the caller holds a reference to v. Returns the count. */
size_t kos_value_iov(const struct kos_value *v, struct iovec *iov);
/* Copies the bytes [off, off + max) of v (fewer at its end) into dst, pieces joined; returns
 * the count copied (0 when off >= v->len). */
size_t kos_value_read(const struct kos_value *v, size_t off, void *dst, size_t max);

static inline void kos_value_unrefp(struct kos_value **v)
{
    kos_value_unref(*v);
}
#define _cleanup_value_ __attribute__((cleanup(kos_value_unrefp)))

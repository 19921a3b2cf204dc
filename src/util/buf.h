/* A growable byte buffer with a hard size limit (curl's dynbuf idea): growth past `limit`
 * fails with -E2BIG and frees the contents, so a client can never make us hold more than
 * the limit. The contents are always NUL-terminated (the NUL is not counted in len). */
#pragma once

#include <stddef.h>
#include <stdarg.h>
#include <string.h>

struct kos_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
};

void kos_buf_init(struct kos_buf *b, size_t limit);
int kos_buf_append(struct kos_buf *b, const void *data, size_t len);
/* Room for extra more bytes (and the NUL) without another allocation; -E2BIG past the
 * limit (the buffer is freed then, as kos_buf_append does). */
int kos_buf_reserve(struct kos_buf *b, size_t extra);
int kos_buf_append_str(struct kos_buf *b, const char *s);
int kos_buf_printf(struct kos_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
int kos_buf_append_json_string(struct kos_buf *b, const char *s);
void kos_buf_reset(struct kos_buf *b);
/* Hands the data to the caller (who frees it) and leaves the buffer empty. */
char *kos_buf_steal(struct kos_buf *b, size_t *ret_len);
void kos_buf_free(struct kos_buf *b);

/* kos_buf_append for a hot loop of small tokens (an encoder, a shape key): one capacity check
 * and a memcpy, and no NUL written. The contents are NUL-terminated again only by a later
 * append or by the caller (data[len] = '\0': kos_buf_reserve keeps room for it). */
static inline int kos_buf_put(struct kos_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len <= n) {
        int r = kos_buf_reserve(b, n);
        if (r < 0)
            return r;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static inline void kos_buf_freep(struct kos_buf *b)
{
    kos_buf_free(b);
}
#define _cleanup_buf_ __attribute__((cleanup(kos_buf_freep)))

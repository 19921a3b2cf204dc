#include "store/value.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/value_internal.h"

_Static_assert(offsetof(struct kos_value, data) % alignof(struct kos_value_seg) == 0,
               "pieces are laid out at data");

struct kos_value *kos_value_new(const void *data, size_t len)
{
    if (len > SIZE_MAX - sizeof(struct kos_value) - 1)
        return NULL;
    struct kos_value *v = malloc(sizeof(*v) + len + 1);
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    v->nseg = 0;
    v->len = len;
    if (len)
        memcpy(v->data, data, len);
    v->data[len] = '\0';
    return v;
}

struct kos_value *kos_value_from_malloc(char *data, size_t len)
{
    /* The header must sit in front of the bytes, so one copy is unavoidable; freeing the
     * input on every path keeps the caller's error handling trivial. */
    struct kos_value *v = kos_value_new(data, len);
    free(data);
    return v;
}

struct kos_value *kos_value_concat(const struct iovec *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].iov_len > SIZE_MAX - sizeof(struct kos_value) - 1 - len)
            return NULL;
        len += parts[i].iov_len;
    }
    struct kos_value *v = malloc(sizeof(*v) + len + 1);
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    v->nseg = 0;
    v->len = len;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].iov_len)
            memcpy(v->data + at, parts[i].iov_base, parts[i].iov_len);
        at += parts[i].iov_len;
    }
    v->data[len] = '\0';
    return v;
}

struct kos_value *kos_value_ref(struct kos_value *v)
{
    if (v)
        atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    return v;
}

void kos_value_unref(struct kos_value *v)
{
    if (!v)
        return;
    /* acq_rel: every other holder's reads of data happen before the free. */
    if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    const struct kos_value_seg *s = kos_value_segs(v);
    for (uint32_t i = 0; i < v->nseg; i++)
        if (s[i].chunk)
            kos_value_chunk_release(s[i].chunk);
    free(v);
}

const char *kos_value_bytes(const struct kos_value *v, char **tmp)
{
    *tmp = NULL;
    if (v->nseg == 0)
        return v->data;
    char *out = malloc(v->len + 1);
    if (!out)
        return NULL;
    const struct kos_value_seg *s = kos_value_segs(v);
    size_t at = 0;
    for (uint32_t i = 0; i < v->nseg; i++) {
        memcpy(out + at, s[i].p, s[i].n);
        at += s[i].n;
    }
    out[at] = '\0';
    *tmp = out;
    return out;
}

size_t kos_value_iovcnt(const struct kos_value *v)
{
    return v->nseg ? v->nseg : 1;
}

size_t kos_value_iov(const struct kos_value *v, struct iovec *iov)
{
    if (v->nseg == 0) {
        iov[0] = (struct iovec){(void *)v->data, v->len};
        return 1;
    }
    const struct kos_value_seg *s = kos_value_segs(v);
    for (uint32_t i = 0; i < v->nseg; i++)
        iov[i] = (struct iovec){(void *)s[i].p, s[i].n};
    return v->nseg;
}

size_t kos_value_read(const struct kos_value *v, size_t off, void *dst, size_t max)
{
    if (off >= v->len)
        return 0;
    if (max > v->len - off)
        max = v->len - off;
    if (v->nseg == 0) {
        memcpy(dst, v->data + off, max);
        return max;
    }
    const struct kos_value_seg *s = kos_value_segs(v);
    char *out = dst;
    size_t done = 0;
    for (uint32_t i = 0; i < v->nseg && done < max; i++) {
        if (off >= s[i].n) {
            off -= s[i].n;
            continue;
        }
        size_t take = s[i].n - off;
        if (take > max - done)
            take = max - done;
        memcpy(out + done, s[i].p + off, take);
        done += take;
        off = 0;
    }
    return done;
}

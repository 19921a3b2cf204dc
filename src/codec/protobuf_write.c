#include "codec/protobuf_write.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PBW_MAX_FIELD ((1u << 29) - 1)
#define WIRE_VARINT   0u
#define WIRE_LEN      2u

void pbw_init(struct pb_writer *w, size_t limit)
{
    memset(w, 0, sizeof(*w));
    w->limit = limit;
}

void pbw_free(struct pb_writer *w)
{
    free(w->data);
    size_t limit = w->limit;
    memset(w, 0, sizeof(*w));
    w->limit = limit;
}

static void fail(struct pb_writer *w, int err)
{
    if (!w->err)
        w->err = err;
}

void pbw_set_error(struct pb_writer *w, int err)
{
    fail(w, err < 0 ? err : -EINVAL);
}

/* Makes room for n more bytes; false (and the sticky error) past the limit or out of memory. */
static bool reserve(struct pb_writer *w, size_t n)
{
    if (w->err)
        return false;
    if (n > w->limit || w->len > w->limit - n) {
        fail(w, -E2BIG);
        return false;
    }
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n)
        cap = cap > SIZE_MAX / 2 ? w->len + n : cap * 2;
    if (cap > w->limit)
        cap = w->limit;
    uint8_t *p = realloc(w->data, cap);
    if (!p) {
        fail(w, -ENOMEM);
        return false;
    }
    w->data = p;
    w->cap = cap;
    return true;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static void raw_varint(struct pb_writer *w, uint64_t v)
{
    if (!reserve(w, varint_size(v)))
        return;
    w->len += varint_put(w->data + w->len, v);
}

static bool key(struct pb_writer *w, uint32_t field, unsigned wire)
{
    if (w->err)
        return false;
    if (field == 0 || field > PBW_MAX_FIELD) {
        fail(w, -EINVAL);
        return false;
    }
    raw_varint(w, ((uint64_t)field << 3) | wire);
    return !w->err;
}

void pbw_varint(struct pb_writer *w, uint32_t field, uint64_t value)
{
    if (key(w, field, WIRE_VARINT))
        raw_varint(w, value);
}

void pbw_bool(struct pb_writer *w, uint32_t field, bool value)
{
    pbw_varint(w, field, value ? 1 : 0);
}

void pbw_bytes(struct pb_writer *w, uint32_t field, const void *data, size_t len)
{
    if (!key(w, field, WIRE_LEN))
        return;
    raw_varint(w, len);
    if (len == 0 || !reserve(w, len))
        return;
    memcpy(w->data + w->len, data, len);
    w->len += len;
}

void pbw_string(struct pb_writer *w, uint32_t field, const char *s)
{
    if (s)
        pbw_bytes(w, field, s, strlen(s));
}

void pbw_begin(struct pb_writer *w, uint32_t field)
{
    if (w->err)
        return;
    if (w->depth >= PBW_MAX_DEPTH) {
        fail(w, -ELOOP);
        return;
    }
    if (!key(w, field, WIRE_LEN))
        return;
    w->open[w->depth++] = w->len;
}

void pbw_end(struct pb_writer *w)
{
    if (w->err)
        return;
    if (w->depth == 0) {
        fail(w, -EINVAL);
        return;
    }
    size_t start = w->open[--w->depth];
    size_t payload = w->len - start;
    size_t n = varint_size(payload);
    if (!reserve(w, n))
        return;
    memmove(w->data + start + n, w->data + start, payload);
    varint_put(w->data + start, payload);
    w->len += n;
}

int pbw_finish(struct pb_writer *w, uint8_t **ret, size_t *ret_len)
{
    if (!w->err && w->depth != 0)
        fail(w, -EINVAL);
    if (!w->err && !w->data && !reserve(w, 1))
        w->err = w->err ? w->err : -ENOMEM;
    int err = w->err;
    if (err) {
        pbw_free(w);
        return err;
    }
    *ret = w->data;
    *ret_len = w->len;
    w->data = NULL;
    pbw_free(w);
    return 0;
}

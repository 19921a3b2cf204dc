#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kos_buf_init(struct kos_buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

static int grow(struct kos_buf *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra) {
        kos_buf_free(b);
        return -E2BIG;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->limit + 1)
        cap = b->limit + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int kos_buf_reserve(struct kos_buf *b, size_t extra)
{
    return grow(b, extra);
}

int kos_buf_append(struct kos_buf *b, const void *data, size_t len)
{
    int r = grow(b, len);
    if (r < 0)
        return r;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int kos_buf_append_str(struct kos_buf *b, const char *s)
{
    return kos_buf_append(b, s, strlen(s));
}

int kos_buf_printf(struct kos_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int r = grow(b, (size_t)n);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int kos_buf_append_json_string(struct kos_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int r = kos_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p; p++) {
        switch (*p) {
        case '"':
            r = kos_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            r = kos_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            r = kos_buf_append(b, "\\n", 2);
            break;
        case '\r':
            r = kos_buf_append(b, "\\r", 2);
            break;
        case '\t':
            r = kos_buf_append(b, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
                r = kos_buf_append(b, esc, sizeof(esc));
            } else {
                r = kos_buf_append(b, p, 1);
            }
        }
    }
    if (r == 0)
        r = kos_buf_append(b, "\"", 1);
    return r;
}

void kos_buf_reset(struct kos_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *kos_buf_steal(struct kos_buf *b, size_t *ret_len)
{
    char *d = b->data;
    if (!d) {
        d = calloc(1, 1);
        if (!d)
            return NULL;
    }
    if (ret_len)
        *ret_len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

void kos_buf_free(struct kos_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

#include "codec/json_scan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "codec/json.h"

const char *kos_json_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Byte classes for the scanners: a table lookup per byte instead of a chain of compares (the
 * scanners run over every stored pod several times: the informers, the Node authorizer). */
enum { C_NONE, C_QUOTE, C_OPEN, C_CLOSE };
static const unsigned char byte_class[256] = {
    ['"'] = C_QUOTE, ['{'] = C_OPEN, ['['] = C_OPEN, ['}'] = C_CLOSE, [']'] = C_CLOSE,
};

const char *kos_json_skip_string(const char *p, const char *end)
{
    /* memchr to each quote, then whether an odd run of backslashes escapes it: stored
     * objects are mostly strings, and the store scans every value it loads (value_share.c) */
    const char *start = ++p;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return NULL;
        const char *b = q;
        while (b > start && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0)
            return q + 1;
        p = q + 1;
    }
    return NULL;
}

const char *kos_json_skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return kos_json_skip_string(p, end);
    if (*p != '{' && *p != '[') {
        /* a number, true, false or null: up to the next delimiter */
        while (p < end && !memchr(",}] \t\r\n", *p, 7))
            p++;
        return p;
    }
    size_t depth = 0;
    for (; p < end; p++) {
        switch (byte_class[(unsigned char)*p]) {
        case C_QUOTE:
            p = kos_json_skip_string(p, end);
            if (!p)
                return NULL;
            p--; /* the loop steps past the closing quote */
            break;
        case C_OPEN:
            if (++depth > KOS_JSON_MAX_DEPTH)
                return NULL;
            break;
        case C_CLOSE:
            if (--depth == 0)
                return p + 1;
            break;
        default:
            break;
        }
    }
    return NULL;
}

static int members(const char *data, size_t len, const char *const *keys, size_t n,
                   const char **values, size_t *value_lens, bool open_last)
{
    for (size_t i = 0; i < n; i++) {
        values[i] = NULL;
        value_lens[i] = 0;
    }
    const char *end = data + len;
    const char *p = kos_json_skip_ws(data, end);
    if (p >= end || *p != '{')
        return -EINVAL;
    p = kos_json_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return 0;
    size_t found = 0;
    while (p < end && *p == '"') {
        const char *kend = kos_json_skip_string(p, end);
        if (!kend)
            return -EINVAL;
        size_t klen = (size_t)(kend - p - 2);
        size_t match = n;
        for (size_t i = 0; i < n && match == n; i++)
            if (!values[i] && strlen(keys[i]) == klen && memcmp(p + 1, keys[i], klen) == 0)
                match = i;
        p = kos_json_skip_ws(kend, end);
        if (p >= end || *p != ':')
            return -EINVAL;
        p = kos_json_skip_ws(p + 1, end);
        if (match < n && open_last && found + 1 == n) {
            values[match] = p; /* not stepped over: the caller reads it next */
            value_lens[match] = (size_t)(end - p);
            return (int)n;
        }
        const char *vend = kos_json_skip_value(p, end);
        if (!vend)
            return -EINVAL;
        if (match < n) {
            values[match] = p;
            value_lens[match] = (size_t)(vend - p);
            if (++found == n)
                return (int)found;
        }
        p = kos_json_skip_ws(vend, end);
        if (p < end && *p == ',')
            p = kos_json_skip_ws(p + 1, end);
        else
            break;
    }
    return p < end && *p == '}' ? (int)found : -EINVAL;
}

int kos_json_members(const char *data, size_t len, const char *const *keys, size_t n,
                     const char **values, size_t *value_lens)
{
    return members(data, len, keys, n, values, value_lens, false);
}

int kos_json_members_open(const char *data, size_t len, const char *const *keys, size_t n,
                          const char **values, size_t *value_lens)
{
    return members(data, len, keys, n, values, value_lens, true);
}

int kos_json_member(const char *data, size_t len, const char *key, const char **value,
                    size_t *value_len)
{
    const char *v;
    size_t v_len;
    int r = kos_json_members(data, len, &key, 1, &v, &v_len);
    if (r == 1) {
        *value = v;
        *value_len = v_len;
    }
    return r;
}

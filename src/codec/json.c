#include "codec/json.h"
#include "codec/json_fast.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"

/* A tree deeper than this cannot come from our decoders; refusing it in the encoder keeps a
 * hand-built (or cyclic) tree from exhausting the stack. */
#define ENCODE_MAX_DEPTH 10000

static void sanitize_message(char *s)
{
    /* jansson quotes the offending input ("near '...'"), which may be invalid UTF-8; a message
     * that is not valid UTF-8 could not be put into a Status body, so keep it to ASCII. */
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            *s = '?';
}

/* Bracket nesting found by a byte scan (strings and escapes honoured) without building
 * anything, so hostile input is refused before jansson recurses into it. Returns true when
 * some container sits at nesting level > max_nesting. */
static bool nesting_exceeds(const char *data, size_t len, size_t max_nesting)
{
    size_t nesting = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped byte can never end the string */
            else if (c == '"')
                in_string = false;
            continue;
        }
        switch (c) {
        case '"':
            in_string = true;
            break;
        case '[':
        case '{':
            if (++nesting > max_nesting)
                return true;
            break;
        case ']':
        case '}':
            if (nesting > 0)
                nesting--;
            break;
        default:
            break;
        }
    }
    return false;
}

static bool all_whitespace(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", data[i]) || data[i] == '\0')
            return false;
    return true;
}

/* jansson reports a duplicate as `duplicate object key near '"k\"ey"'`: the quoted part is
 * the key's raw string token, already quoted the way Go's %q would (kube-apiserver's message
 * is `json: duplicate field "k\"ey"`). Returns its length once it checks out as a complete JSON
 * string (so valid UTF-8 and not cut short by jansson's text limit), else 0. */
static size_t duplicate_key_token(const char *text, const char **ret)
{
    const char *start = strstr(text, "near '");
    if (!start)
        return 0;
    start += strlen("near '");
    size_t n = strlen(start);
    if (n < 3 || start[n - 1] != '\'')
        return 0;
    json_t *key = json_loadb(start, n - 1, JSON_DECODE_ANY, NULL);
    bool ok = json_is_string(key);
    json_decref(key);
    if (!ok)
        return 0;
    *ret = start;
    return n - 1;
}

static int decode(const char *data, size_t len, bool allow_duplicates, json_t **ret,
                  char **ret_duplicate, struct kos_error **err)
{
    /* The common case first: input the fast parser takes within the nesting limit needs
     * neither of the scans below (it is not blank, and its nesting was counted while parsing).
     * It has no duplicate keys either, or the fast parser would have left it to jansson. */
    if (data && kos_json_fast_parse_nesting(data, len, KOS_JSON_MAX_DEPTH - 1, ret) == 0)
        return 0;
    if (!data || all_whitespace(data, len))
        return kos_error_set(err, 400, "BadRequest", "error decoding body: empty body");

    /* A container at nesting n has depth n + 1 as kos_json_depth counts (its scalars). */
    if (nesting_exceeds(data, len, KOS_JSON_MAX_DEPTH - 1))
        return kos_error_set(err, 400, "BadRequest",
                             "error decoding body: the object provided is too deeply nested "
                             "(maximum depth %d)",
                             KOS_JSON_MAX_DEPTH);

    json_error_t jerr;
    json_t *v = kos_json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        if (json_error_code(&jerr) == json_error_out_of_memory)
            return -ENOMEM;
        const char *key;
        size_t key_len;
        if (json_error_code(&jerr) == json_error_duplicate_key &&
            (key_len = duplicate_key_token(jerr.text, &key)) > 0) {
            if (!allow_duplicates)
                return kos_error_set(err, 400, "BadRequest", "json: duplicate field %.*s",
                                     (int)key_len, key);
            /* The last value wins, as Go's decoder does; the caller warns about the key. */
            char *dup = strndup(key, key_len);
            if (!dup)
                return -ENOMEM;
            v = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
            if (v) {
                *ret = v;
                *ret_duplicate = dup;
                return 0;
            }
            free(dup);
        }
        sanitize_message(jerr.text);
        return kos_error_set(err, 400, "BadRequest", "error decoding body: %s at line %d column %d",
                             jerr.text, jerr.line, jerr.column);
    }
    *ret = v;
    return 0;
}

size_t kos_json_depth(const json_t *v)
{
    size_t max = 0;
    const char *key;
    json_t *child;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, key, child)
        {
            size_t d = kos_json_depth(child);
            if (d > max)
                max = d;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, child)
        {
            size_t d = kos_json_depth(child);
            if (d > max)
                max = d;
        }
    } else {
        return 1;
    }
    /* An empty container still holds one level below it, so {} and {"a":1} agree. */
    return 1 + (max ? max : 1);
}

int kos_json_format_double(double d, char *out, size_t size)
{
    char digits[32];
    int exp10 = 0;

    if (!isfinite(d) || size < KOS_JSON_DOUBLE_BUFSZ)
        return -EINVAL;
    /* Shortest %e form that reads back as the same double: Go's strconv does the same, so
     * 0.1 prints as 0.1 and not 0.10000000000000001. */
    for (int prec = 0; prec <= 16; prec++) {
        char tmp[40];
        snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
        /* 17 significant digits always read back exactly. */
        if (strtod(tmp, NULL) != d && prec < 16)
            continue;
        /* tmp is [-]D[.DDD]e[+-]XX: split it into the digit string and the exponent. */
        size_t n = 0;
        const char *p = tmp;
        if (*p == '-')
            p++;
        for (; *p && *p != 'e'; p++)
            if (*p != '.')
                digits[n++] = *p;
        digits[n] = '\0';
        exp10 = (int)strtol(p + 1, NULL, 10);
        break;
    }

    size_t nd = strlen(digits);
    size_t o = 0;
    if (signbit(d))
        out[o++] = '-';
    /* encoding/json switches to exponent form outside [1e-6, 1e21). We also do from 2^63 on:
     * Go would print such a whole number as plain digits, which jansson (and so our own
     * decoder, reading back what we stored) refuses as an integer beyond int64. */
    double a = fabs(d);
    if (a != 0 && (a < 1e-6 || a >= 9223372036854775808.0)) {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, nd - 1);
            o += nd - 1;
        }
        /* Go writes e-7 but e+21. */
        snprintf(out + o, size - o, exp10 < 0 ? "e-%d" : "e+%02d", abs(exp10));
        return 0;
    }
    if (exp10 < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int z = -1; z > exp10; z--)
            out[o++] = '0';
        memcpy(out + o, digits, nd);
        o += nd;
    } else {
        size_t int_digits = (size_t)exp10 + 1;
        for (size_t k = 0; k < int_digits; k++)
            out[o++] = k < nd ? digits[k] : '0';
        if (nd > int_digits) {
            out[o++] = '.';
            memcpy(out + o, digits + int_digits, nd - int_digits);
            o += nd - int_digits;
        }
    }
    out[o] = '\0';
    return 0;
}

/* The encoder writes straight into the buffer (kos_buf_put: one reserve per token; the
 * appends of a few bytes each were most of its time); the buffer is NUL-terminated only at
 * the end. */

static inline int put_char(struct kos_buf *b, char c)
{
    if (b->cap - b->len <= 1) {
        int r = kos_buf_reserve(b, 1);
        if (r < 0)
            return r;
    }
    b->data[b->len++] = c;
    return 0;
}

/* 1 for the bytes a JSON string must escape. */
static const unsigned char needs_escape[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

/* Whether any of the 8 bytes in w is one JSON must escape (below 0x20, '"' or '\\'): the
 * usual SWAR tests for a byte below n and for a zero byte, which are exact about whether
 * there is one. Bytes from 0x80 on (UTF-8) never match. */
static inline bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
            ((backslash - ones) & ~backslash)) &
           highs;
}

/* Writes the escape of c (a byte needs_escape marks). */
static int put_escape(struct kos_buf *b, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t esc_len = 2;
    if (c == '"' || c == '\\')
        esc[1] = (char)c;
    else if (c == '\n')
        esc[1] = 'n';
    else if (c == '\r')
        esc[1] = 'r';
    else if (c == '\t')
        esc[1] = 't';
    else {
        esc[1] = 'u';
        esc[2] = esc[3] = '0';
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        esc_len = 6;
    }
    return kos_buf_put(b, esc, esc_len);
}

static int encode_string(struct kos_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    int r;
    /* the quotes and the common case of nothing to escape, reserved at once */
    if (len > SIZE_MAX / 2)
        return -E2BIG;
    if (b->cap - b->len <= len + 2 && (r = kos_buf_reserve(b, len + 2)) < 0)
        return r;
    b->data[b->len++] = '"';

    /* eight bytes a step while none needs escaping; a step that has one goes byte by byte */
    while (i < len) {
        if (len - i >= sizeof(uint64_t)) {
            uint64_t w;
            memcpy(&w, u + i, sizeof(w));
            if (!word_needs_escape(w)) {
                i += sizeof(w);
                continue;
            }
        }
        size_t stop = len - i > sizeof(uint64_t) ? i + sizeof(uint64_t) : len;
        for (; i < stop; i++) {
            if (!needs_escape[u[i]])
                continue;
            /* Copy the unescaped run before this byte in one go. */
            if ((r = kos_buf_put(b, s + run, i - run)) < 0 || (r = put_escape(b, u[i])) < 0)
                return r;
            run = i + 1;
        }
    }
    if ((r = kos_buf_put(b, s + run, len - run)) < 0)
        return r;
    return put_char(b, '"');
}

static int encode_integer(struct kos_buf *b, json_int_t v)
{
    char tmp[24];
    size_t n = 0;
    /* through unsigned: the most negative value has no positive counterpart */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof(tmp) - 1 - n++] = '-';
    return kos_buf_put(b, tmp + sizeof(tmp) - n, n);
}

struct sorted_member {
    const char *key;
    size_t len;
    json_t *value;
};

/* Bytewise, a shorter key before the longer one it begins (Go's string order). */
static int member_cmp(const void *a, const void *b)
{
    const struct sorted_member *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* A value written as given bytes instead of encoded (kos_json_encode_splice). */
struct splice {
    const json_t *node;
    const char *bytes;
    size_t len;
};

static int encode_value(struct kos_buf *b, const json_t *v, size_t depth, bool sorted,
                        const struct splice *sp);

/* Members small objects have (labels, selectors) sort on the stack. */
#define SORTED_STACK_MEMBERS 16

static int encode_object_sorted(struct kos_buf *b, const json_t *v, size_t depth,
                                const struct splice *sp)
{
    struct sorted_member stack[SORTED_STACK_MEMBERS];
    _cleanup_free_ struct sorted_member *heap = NULL;
    size_t n = json_object_size(v), i = 0;
    struct sorted_member *m = stack;
    if (n > SORTED_STACK_MEMBERS) {
        heap = calloc(n, sizeof(*heap));
        if (!heap)
            return -ENOMEM;
        m = heap;
    }
    const char *key;
    size_t key_len;
    json_t *child;
    json_object_keylen_foreach((json_t *)v, key, key_len, child)
    {
        if (i == n)
            break;
        m[i++] = (struct sorted_member){key, key_len, child};
    }
    qsort(m, i, sizeof(*m), member_cmp);
    int r = put_char(b, '{');
    for (size_t k = 0; r == 0 && k < i; k++) {
        if ((k > 0 && (r = put_char(b, ',')) < 0) ||
            (r = encode_string(b, m[k].key, m[k].len)) < 0 || (r = put_char(b, ':')) < 0 ||
            (r = encode_value(b, m[k].value, depth + 1, true, sp)) < 0)
            return r;
    }
    return r < 0 ? r : put_char(b, '}');
}

static int encode_value(struct kos_buf *b, const json_t *v, size_t depth, bool sorted,
                        const struct splice *sp)
{
    char num[KOS_JSON_DOUBLE_BUFSZ];
    int r = 0;

    if (depth > ENCODE_MAX_DEPTH)
        return -ELOOP;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t key_len;
        json_t *child;
        bool first = true;

        if (sp && v == sp->node)
            return kos_buf_put(b, sp->bytes, sp->len);
        if (sorted)
            return encode_object_sorted(b, v, depth, sp);
        if ((r = put_char(b, '{')) < 0)
            return r;
        json_object_keylen_foreach((json_t *)v, key, key_len, child)
        {
            if ((!first && (r = put_char(b, ',')) < 0) ||
                (r = encode_string(b, key, key_len)) < 0 || (r = put_char(b, ':')) < 0 ||
                (r = encode_value(b, child, depth + 1, sorted, sp)) < 0)
                return r;
            first = false;
        }
        return put_char(b, '}');
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *child;

        if ((r = put_char(b, '[')) < 0)
            return r;
        json_array_foreach(v, i, child)
        {
            if ((i > 0 && (r = put_char(b, ',')) < 0) ||
                (r = encode_value(b, child, depth + 1, sorted, sp)) < 0)
                return r;
        }
        return put_char(b, ']');
    }
    case JSON_STRING:
        return encode_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return encode_integer(b, json_integer_value(v));
    case JSON_REAL:
        r = kos_json_format_double(json_real_value(v), num, sizeof(num));
        return r < 0 ? r : kos_buf_put(b, num, strlen(num));
    case JSON_TRUE:
        return kos_buf_put(b, "true", 4);
    case JSON_FALSE:
        return kos_buf_put(b, "false", 5);
    case JSON_NULL:
        return kos_buf_put(b, "null", 4);
    }
    return -EINVAL;
}

/* Most objects kos stores are a few KB: start there rather than doubling up from 256 bytes. */
#define ENCODE_INITIAL_CAP 4096

static char *encode(const json_t *v, size_t initial_cap, bool sorted, const struct splice *sp,
                    size_t *ret_len)
{
    _cleanup_buf_ struct kos_buf b;

    kos_buf_init(&b, SIZE_MAX / 2);
    if (!v || kos_buf_reserve(&b, initial_cap) < 0 || encode_value(&b, v, 0, sorted, sp) < 0 ||
        kos_buf_reserve(&b, 0) < 0)
        return NULL;
    b.data[b.len] = '\0';
    return kos_buf_steal(&b, ret_len);
}

char *kos_json_encode(const json_t *v, size_t *ret_len)
{
    return encode(v, ENCODE_INITIAL_CAP, false, NULL, ret_len);
}

char *kos_json_encode_splice(const json_t *v, const json_t *node, const char *bytes, size_t len,
                             size_t *ret_len)
{
    const struct splice sp = {node, bytes, len};
    return encode(v, ENCODE_INITIAL_CAP, false, node && bytes ? &sp : NULL, ret_len);
}

/* Canonical forms are mostly of small objects (labels, selectors, trimmed pods). */
#define ENCODE_SORTED_INITIAL_CAP 256

char *kos_json_encode_sorted(const json_t *v, size_t *ret_len)
{
    size_t len;
    char *s = encode(v, ENCODE_SORTED_INITIAL_CAP, true, NULL, &len);
    if (!s)
        return NULL;
    /* held for long (index entries, interning keys): no slack from the doubling */
    char *fit = realloc(s, len + 1);
    if (fit)
        s = fit;
    if (ret_len)
        *ret_len = len;
    return s;
}

int kos_json_decode(const char *data, size_t len, json_t **ret, struct kos_error **err)
{
    char *dup = NULL;
    return decode(data, len, false, ret, &dup, err);
}

int kos_json_decode_allow_duplicates(const char *data, size_t len, json_t **ret,
                                     char **ret_duplicate, struct kos_error **err)
{
    char *dup = NULL;
    int r = decode(data, len, true, ret, &dup, err);
    if (r == 0)
        *ret_duplicate = dup;
    return r;
}

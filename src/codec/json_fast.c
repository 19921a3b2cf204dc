/* A fast path in front of jansson's parser for the JSON the API server reads most: request
 * bodies and its own stored objects (ASCII keys and strings, integers, few escapes).
 *
 * Why: parsing was the largest cost left in a create (the body once, the stored pod once more
 * for the in-process informers), and jansson's lexer reads through a stream abstraction one
 * character at a time. This parser scans the bytes directly and builds the same jansson tree.
 * It takes only input whose tree it can build exactly as jansson would: anything else
 * (non-ASCII bytes, \u escapes, reals, integers of more than 18 digits, duplicate keys,
 * control characters, any syntax error) returns -EAGAIN before a tree is handed out, and the
 * caller parses with jansson, which then decides, with its error messages. */
#include "codec/json_fast.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

#define STRING_STACK 64 /* per nesting level on the stack; longer escaped strings: heap */

struct parser {
    const char *p, *end;
    unsigned depth, max_depth;
};

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

/* The bytes of w that end or escape a string or that this parser leaves to jansson ('"',
 * '\\', below 0x20, from 0x80 on), as their high bits. The SWAR tests can flag a byte above
 * a real one by a borrow, never one below it: the lowest flag is the first such byte. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "word_specials: first byte lowest");

static inline uint64_t word_specials(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return (w | ((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
            ((backslash - ones) & ~backslash)) &
           highs;
}

/* The string at ps->p (its opening quote) unescaped: *out points into the input when it has
 * no escape, else into scratch (malloc'd when *heap is set, which the caller frees). */
static int parse_string(struct parser *ps, char *scratch, size_t scratch_size, const char **out,
                        size_t *out_len, char **heap)
{
    const char *s = ++ps->p, *q = s;
    while (q < ps->end) {
        /* eight bytes a step up to the first that is not plain (little-endian: the lowest
         * flag is the first byte) */
        if (ps->end - q >= (ptrdiff_t)sizeof(uint64_t)) {
            uint64_t w;
            memcpy(&w, q, sizeof(w));
            uint64_t t = word_specials(w);
            if (!t) {
                q += sizeof(w);
                continue;
            }
            q += __builtin_ctzll(t) >> 3;
        }
        unsigned char c = (unsigned char)*q;
        if (c == '"' || c == '\\')
            break;
        if (c < 0x20 || c >= 0x80)
            return -EAGAIN;
        q++;
    }
    if (q >= ps->end)
        return -EAGAIN;
    if (*q == '"') {
        *out = s;
        *out_len = (size_t)(q - s);
        ps->p = q + 1;
        return 0;
    }
    /* escapes: the unescaped string is never longer than the escaped one */
    size_t max = (size_t)(ps->end - s);
    char *buf = scratch;
    if (max > scratch_size) {
        buf = malloc(max);
        if (!buf)
            return -ENOMEM;
        *heap = buf;
    }
    size_t n = 0;
    for (q = s; q < ps->end;) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *out = buf;
            *out_len = n;
            ps->p = q + 1;
            return 0;
        }
        if (c < 0x20 || c >= 0x80)
            return -EAGAIN;
        if (c != '\\') {
            buf[n++] = (char)c;
            q++;
            continue;
        }
        if (q + 1 >= ps->end)
            return -EAGAIN;
        switch (q[1]) {
        case '"':
        case '\\':
        case '/':
            buf[n++] = q[1];
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        default:
            return -EAGAIN; /* \u (surrogates, NUL) and anything invalid: jansson's call */
        }
        q += 2;
    }
    return -EAGAIN;
}

static int parse_value(struct parser *ps, json_t **ret);

/* After an object member or array element: 1 past a comma (another item follows), 0 past
 * the closing bracket, -EAGAIN for anything else. */
static int next_item(struct parser *ps, char close)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        skip_ws(ps);
        return 1;
    }
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    return -EAGAIN;
}

static int parse_object(struct parser *ps, json_t **ret)
{
    json_t *obj = json_object();
    if (!obj)
        return -ENOMEM;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        *ret = obj;
        return 0;
    }
    for (;;) {
        char scratch[STRING_STACK], *heap = NULL;
        const char *k;
        size_t klen;
        json_t *v = NULL;
        int r = ps->p < ps->end && *ps->p == '"'
                    ? parse_string(ps, scratch, sizeof(scratch), &k, &klen, &heap)
                    : -EAGAIN;
        if (r == 0) {
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ':') {
                ps->p++;
                skip_ws(ps);
                r = parse_value(ps, &v);
            } else {
                r = -EAGAIN;
            }
        }
        /* A duplicate key replaces the value and leaves the size as it was (one hash lookup
         * rather than a get before the set). jansson's REJECT_DUPLICATES message, or its
         * last-one-wins: either way its call. */
        size_t size = json_object_size(obj);
        if (r == 0 && json_object_setn_new_nocheck(obj, k, klen, v) < 0)
            r = -ENOMEM;
        else if (r == 0 && json_object_size(obj) == size)
            r = -EAGAIN;
        if (heap)
            free(heap);
        if (r < 0) {
            json_decref(obj);
            return r;
        }
        int more = next_item(ps, '}');
        if (more > 0)
            continue;
        if (more == 0) {
            *ret = obj;
            return 0;
        }
        json_decref(obj);
        return -EAGAIN;
    }
}

static int parse_array(struct parser *ps, json_t **ret)
{
    json_t *arr = json_array();
    if (!arr)
        return -ENOMEM;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        *ret = arr;
        return 0;
    }
    for (;;) {
        json_t *v = NULL;
        int r = parse_value(ps, &v);
        if (r == 0 && json_array_append_new(arr, v) < 0)
            r = -ENOMEM;
        if (r < 0) {
            json_decref(arr);
            return r;
        }
        int more = next_item(ps, ']');
        if (more > 0)
            continue;
        if (more == 0) {
            *ret = arr;
            return 0;
        }
        json_decref(arr);
        return -EAGAIN;
    }
}

/* Integers of up to 18 digits (no overflow possible); reals and longer ones are jansson's. */
static int parse_number(struct parser *ps, json_t **ret)
{
    const char *q = ps->p;
    bool neg = false;
    if (*q == '-') {
        neg = true;
        q++;
    }
    const char *digits = q;
    json_int_t n = 0;
    while (q < ps->end && *q >= '0' && *q <= '9') {
        if (q - digits >= 18)
            return -EAGAIN;
        n = n * 10 + (*q - '0');
        q++;
    }
    size_t nd = (size_t)(q - digits);
    if (nd == 0 || (nd > 1 && digits[0] == '0'))
        return -EAGAIN;
    if (q < ps->end && (*q == '.' || *q == 'e' || *q == 'E'))
        return -EAGAIN;
    json_t *v = json_integer(neg ? -n : n);
    if (!v)
        return -ENOMEM;
    ps->p = q;
    *ret = v;
    return 0;
}

static int literal(struct parser *ps, const char *word, json_t *v, json_t **ret)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return -EAGAIN;
    ps->p += n;
    *ret = v;
    return 0;
}

static int parse_value(struct parser *ps, json_t **ret)
{
    if (ps->p >= ps->end)
        return -EAGAIN;
    int r;
    switch (*ps->p) {
    case '{':
    case '[':
        if (++ps->depth > ps->max_depth)
            return -EAGAIN;
        r = *ps->p == '{' ? parse_object(ps, ret) : parse_array(ps, ret);
        ps->depth--;
        return r;
    case '"': {
        char scratch[STRING_STACK], *heap = NULL;
        const char *s;
        size_t n;
        r = parse_string(ps, scratch, sizeof(scratch), &s, &n, &heap);
        if (r == 0) {
            *ret = json_stringn_nocheck(s, n);
            r = *ret ? 0 : -ENOMEM;
        }
        if (heap) /* rarely set: a call per string was a measurable cost */
            free(heap);
        return r;
    }
    case 't':
        return literal(ps, "true", json_true(), ret);
    case 'f':
        return literal(ps, "false", json_false(), ret);
    case 'n':
        return literal(ps, "null", json_null(), ret);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return parse_number(ps, ret);
        return -EAGAIN;
    }
}

static int parse_prefix(const char *data, size_t len, unsigned max_depth, json_t **ret,
                        size_t *ret_consumed)
{
    struct parser ps = {data, data + len, 0, max_depth};
    json_t *v = NULL;
    skip_ws(&ps);
    int r = parse_value(&ps, &v);
    if (r < 0)
        return r;
    *ret = v;
    *ret_consumed = (size_t)(ps.p - data);
    return 0;
}

int kos_json_fast_parse_prefix(const char *data, size_t len, json_t **ret, size_t *ret_consumed)
{
    return parse_prefix(data, len, KOS_JSON_MAX_DEPTH, ret, ret_consumed);
}

int kos_json_fast_parse_nesting(const char *data, size_t len, unsigned max_nesting, json_t **ret)
{
    json_t *v = NULL;
    size_t used;
    if (max_nesting > KOS_JSON_MAX_DEPTH)
        max_nesting = KOS_JSON_MAX_DEPTH;
    int r = parse_prefix(data, len, max_nesting, &v, &used);
    if (r < 0)
        return r;
    struct parser ps = {data + used, data + len, 0, 0};
    skip_ws(&ps);
    if (ps.p != ps.end) {
        json_decref(v);
        return -EAGAIN;
    }
    *ret = v;
    return 0;
}

int kos_json_fast_parse(const char *data, size_t len, json_t **ret)
{
    return kos_json_fast_parse_nesting(data, len, KOS_JSON_MAX_DEPTH, ret);
}

json_t *kos_json_loadb(const char *data, size_t len, size_t flags, json_error_t *error)
{
    json_t *v = NULL;
    /* other flags change the tree (reals, NUL, trailing data): jansson's alone */
    if ((flags & ~(size_t)(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)) == 0 &&
        kos_json_fast_parse(data, len, &v) == 0 &&
        ((flags & JSON_DECODE_ANY) || json_is_object(v) || json_is_array(v)))
        return v;
    json_decref(v);
    return json_loadb(data, len, flags, error);
}

#include "codec/yaml.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define PREFIX     "error converting YAML to JSON: "
#define TAG_PREFIX "tag:yaml.org,2002:"
/* User text quoted in messages is cut here so an error stays small. */
#define QUOTE_MAX 200

struct ctx {
    yaml_parser_t parser;
    struct kos_error **err;
    /* name -> [value, nodes an alias to it adds, its kos_json_depth]: jansson's hash table
     * serves as the map, and a redefined anchor simply replaces the entry. */
    json_t *anchors;
    size_t nodes;
};

static void event_deletep(yaml_event_t *e)
{
    yaml_event_delete(e);
}
#define _cleanup_event_ _cleanup_(event_deletep)

static size_t line_of(const yaml_event_t *ev)
{
    return ev->start_mark.line + 1;
}

/* How many bytes of s to quote: at most QUOTE_MAX, never cutting a UTF-8 sequence, so the
 * message stays valid UTF-8 for the Status body. */
static int quote_len(const char *s, size_t len)
{
    size_t n = len;
    if (n > QUOTE_MAX) {
        n = QUOTE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    return (int)n;
}

/* "%.*s%s" arguments quoting user text, cut with "..." when long. */
#define QUOTED(s, n) quote_len((s), (n)), (s), (size_t)quote_len((s), (n)) < (n) ? "..." : ""

static int fail(struct ctx *c, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, size_t line, const char *fmt, ...)
{
    _cleanup_free_ char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    return kos_error_set(c->err, 400, "BadRequest", PREFIX "yaml: line %zu: %s", line, msg);
}

static int parser_fail(struct ctx *c)
{
    const yaml_parser_t *p = &c->parser;
    const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";

    if (p->error == YAML_MEMORY_ERROR)
        return -ENOMEM;
    if (p->error == YAML_READER_ERROR)
        return kos_error_set(c->err, 400, "BadRequest", PREFIX "yaml: %s at byte offset %zu",
                             problem, p->problem_offset);
    /* go-yaml's wording ("yaml: line 3: did not find expected key"), with the column added. */
    return kos_error_set(c->err, 400, "BadRequest", PREFIX "yaml: line %zu: %s (column %zu)",
                         p->problem_mark.line + 1, problem, p->problem_mark.column + 1);
}

static int next_event(struct ctx *c, yaml_event_t *ev)
{
    yaml_event_delete(ev);
    if (!yaml_parser_parse(&c->parser, ev))
        return parser_fail(c);
    return 0;
}

static int count_nodes(struct ctx *c, const yaml_event_t *ev, size_t n)
{
    /* Counting expanded nodes (not bytes) is what stops a billion-laughs document: a few
     * hundred bytes of nested aliases would otherwise expand to gigabytes. */
    if (n > KOS_YAML_MAX_NODES || c->nodes > KOS_YAML_MAX_NODES - n)
        return fail(c, line_of(ev), "document too large after alias expansion (more than %d nodes)",
                    KOS_YAML_MAX_NODES);
    c->nodes += n;
    return 0;
}

static int parse_alias(struct ctx *c, const yaml_event_t *ev, size_t depth, json_t **ret,
                       size_t *ret_height)
{
    const char *name = (const char *)ev->data.alias.anchor;
    json_t *a = json_object_get(c->anchors, name);
    if (!a)
        return fail(c, line_of(ev), "unknown anchor referenced: \"%.*s%s\"",
                    QUOTED(name, strlen(name)));

    size_t height = (size_t)json_integer_value(json_array_get(a, 2));
    if (depth + height - 1 > KOS_YAML_MAX_DEPTH)
        return fail(c, line_of(ev), "the object provided is too deeply nested (maximum depth %d)",
                    KOS_YAML_MAX_DEPTH);
    int r = count_nodes(c, ev, (size_t)json_integer_value(json_array_get(a, 1)));
    if (r < 0)
        return r;
    /* A copy, not a shared reference: later edits of one occurrence (defaulting, patches)
     * must not show up in the other. */
    json_t *v = json_deep_copy(json_array_get(a, 0));
    if (!v)
        return -ENOMEM;
    *ret = v;
    *ret_height = height;
    return 0;
}

/* ---- plain scalar resolution: go-yaml v2's resolve() as sigs.k8s.io/yaml runs it ---- */

enum kind { K_NULL, K_BOOL, K_INT, K_FLOAT, K_STR };

struct resolved {
    enum kind kind;
    bool b;
    bool big; /* an int beyond int64 (go-yaml's uint64): kept in d */
    json_int_t i;
    double d;
};

static const char *const kind_tag[] = {"!!null", "!!bool", "!!int", "!!float", "!!str"};

/* go-yaml's resolve table, one space-separated list per value. */
static const struct {
    const char *list;
    enum kind kind;
    bool b;
    double d;
} words[] = {
    {" y Y yes Yes YES true True TRUE on On ON ", K_BOOL, true, 0},
    {" n N no No NO false False FALSE off Off OFF ", K_BOOL, false, 0},
    {" ~ null Null NULL ", K_NULL, false, 0},
    {" .nan .NaN .NAN ", K_FLOAT, false, NAN},
    {" .inf .Inf .INF +.inf +.Inf +.INF ", K_FLOAT, false, INFINITY},
    {" -.inf -.Inf -.INF ", K_FLOAT, false, -INFINITY},
};

static size_t skip_digits(const char *s, size_t i, size_t n)
{
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool is_yaml_float(const char *s, size_t n)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-'), j;

    if (i < n && s[i] == '.') {
        if ((j = skip_digits(s, i + 1, n)) == i + 1)
            return false;
    } else {
        if ((j = skip_digits(s, i, n)) == i)
            return false;
        if (j < n && s[j] == '.')
            j = skip_digits(s, j + 1, n);
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        i = j + 1 + (j + 1 < n && (s[j + 1] == '+' || s[j + 1] == '-'));
        if ((j = skip_digits(s, i, n)) == i)
            return false;
    }
    return j == n;
}

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

/* Go's strconv.ParseInt(s, 0, 64) then ParseUint(s, 0, 64) (s has no '_' left): sign, then
 * 0x / 0o / 0b / leading-0 octal / decimal. False when not an integer of 64 bits. */
static bool parse_go_int(const char *s, size_t n, struct resolved *out)
{
    bool neg = false, sign = false;
    unsigned base = 10;
    uint64_t mag = 0;
    size_t i = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        sign = true;
        i++;
    }
    if (n - i >= 2 && s[i] == '0') {
        char p = s[i + 1];
        if (p == 'x' || p == 'X')
            base = 16, i += 2;
        else if (p == 'o' || p == 'O')
            base = 8, i += 2;
        else if (p == 'b' || p == 'B')
            base = 2, i += 2;
        else
            base = 8, i += 1;
    }
    if (i >= n)
        return false;
    for (; i < n; i++) {
        unsigned dv = (unsigned)digit_value(s[i]);
        if (dv >= base || mag > (UINT64_MAX - dv) / base)
            return false; /* bad digit, or beyond uint64 */
        mag = mag * base + dv;
    }
    out->kind = K_INT;
    if (neg && mag <= (uint64_t)INT64_MAX + 1) {
        out->i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)mag;
        return true;
    }
    if (!neg && mag <= INT64_MAX) {
        out->i = (json_int_t)mag;
        return true;
    }
    /* ParseUint takes no sign: +2^63 and beyond falls through to the float rule instead. */
    if (neg || sign)
        return false;
    out->big = true;
    out->d = (double)mag;
    return true;
}

static bool parse_float(const char *s, struct resolved *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    /* Go's ParseFloat fails on overflow (so the scalar stays a string), not on underflow.
     * strtod follows LC_NUMERIC, which stays "C" as long as nobody calls setlocale. */
    if (*end || (errno == ERANGE && isinf(d)))
        return false;
    out->kind = K_FLOAT;
    out->d = d;
    return true;
}

static int resolve_plain(const char *s, size_t n, struct resolved *out)
{
    *out = (struct resolved){.kind = K_STR};
    if (n == 0) {
        out->kind = K_NULL;
        return 0;
    }
    /* The longest word has 5 bytes; a blank inside could match across two list entries. */
    if (n <= 5 && !memchr(s, ' ', n) && !memchr(s, '\t', n)) {
        char word[8] = " ";
        memcpy(word + 1, s, n);
        word[n + 1] = ' ';
        for (size_t w = 0; w < ARRAY_SIZE(words); w++) {
            if (strstr(words[w].list, word)) {
                *out = (struct resolved){.kind = words[w].kind, .b = words[w].b, .d = words[w].d};
                return 0;
            }
        }
    }
    if (!(s[0] == '.' || s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return 0;

    _cleanup_free_ char *plain = malloc(n + 1);
    size_t m = 0;
    if (!plain)
        return -ENOMEM;
    if (s[0] == '.') {
        /* Go's ParseFloat on the raw text: underscores are not removed here. */
        memcpy(plain, s, n);
        m = n;
    } else {
        for (size_t i = 0; i < n; i++)
            if (s[i] != '_')
                plain[m++] = s[i];
    }
    plain[m] = '\0';
    if (s[0] != '.' && parse_go_int(plain, m, out))
        return 0;
    if (is_yaml_float(plain, m) && parse_float(plain, out))
        return 0;
    *out = (struct resolved){.kind = K_STR};
    return 0;
}

static int make_string(struct ctx *c, const yaml_event_t *ev, json_t **ret)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;

    /* jansson refuses \u0000 in JSON; keep YAML ("\0" in double quotes) in line with it, as C
     * consumers of the tree would truncate at the NUL. */
    if (memchr(s, '\0', n))
        return fail(c, line_of(ev), "strings containing \\0 are not supported");
    json_t *v = json_stringn(s, n);
    if (!v)
        return -ENOMEM; /* libyaml hands out valid UTF-8 only */
    *ret = v;
    return 0;
}

static int parse_scalar(struct ctx *c, const yaml_event_t *ev, json_t **ret)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    enum kind want = K_STR;
    struct resolved res;
    json_t *v;

    if (!tag) {
        /* Quoted, literal and folded scalars are strings; only plain ones are resolved. */
        if (!ev->data.scalar.plain_implicit)
            return make_string(c, ev, ret);
    } else if (strcmp(tag, TAG_PREFIX "int") == 0) {
        want = K_INT;
    } else if (strcmp(tag, TAG_PREFIX "float") == 0) {
        want = K_FLOAT;
    } else if (strcmp(tag, TAG_PREFIX "bool") == 0) {
        want = K_BOOL;
    } else if (strcmp(tag, TAG_PREFIX "null") == 0) {
        want = K_NULL;
    } else {
        /* !!str, "!", !!binary, !!timestamp, local tags: go-yaml keeps the text. */
        return make_string(c, ev, ret);
    }

    int r = resolve_plain(s, n, &res);
    if (r < 0)
        return r;
    if (tag && res.kind != want && !(want == K_FLOAT && res.kind == K_INT))
        return fail(c, line_of(ev), "cannot decode %s `%.*s%s` as a %s", kind_tag[res.kind],
                    QUOTED(s, n), kind_tag[want]);
    switch (res.kind) {
    case K_NULL:
        v = json_null();
        break;
    case K_BOOL:
        v = json_boolean(res.b);
        break;
    case K_INT:
        v = res.big ? json_real(res.d) : json_integer(res.i);
        break;
    case K_FLOAT:
        if (!isfinite(res.d))
            /* What sigs.k8s.io/yaml's json.Marshal says: JSON has no Inf or NaN. */
            return kos_error_set(c->err, 400, "BadRequest",
                                 PREFIX "json: unsupported value: %s (line %zu)",
                                 isnan(res.d) ? "NaN"
                                 : res.d > 0  ? "+Inf"
                                              : "-Inf",
                                 line_of(ev));
        /* Go marshals a whole float64 without a fraction (1.0 as 1), so kube-apiserver sees
         * an integer; do the same where int64 holds it. */
        if (floor(res.d) == res.d && res.d >= -9223372036854775808.0 &&
            res.d < 9223372036854775808.0)
            v = json_integer((json_int_t)res.d);
        else
            v = json_real(res.d);
        break;
    default:
        return make_string(c, ev, ret);
    }
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

static int parse_node(struct ctx *c, const yaml_event_t *ev, size_t depth, json_t **ret,
                      size_t *ret_height);

/* Mapping keys become JSON member names the way sigs.k8s.io/yaml converts them. */
static int key_text(struct ctx *c, size_t line, const json_t *k, char *buf, size_t size,
                    const char **ret, size_t *ret_len)
{
    switch (json_typeof(k)) {
    case JSON_STRING:
        *ret = json_string_value(k);
        *ret_len = json_string_length(k);
        return 0;
    case JSON_INTEGER:
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
        break;
    case JSON_REAL:
        kos_json_format_double(json_real_value(k), buf, size); /* finite: from our resolver */
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(buf, size, "%s", json_is_true(k) ? "true" : "false");
        break;
    case JSON_NULL:
        return fail(c, line, "unsupported map key: null");
    default:
        return fail(c, line, "invalid map key: a mapping or sequence cannot be a key");
    }
    *ret = buf;
    *ret_len = strlen(buf);
    return 0;
}

/* `<<: {...}` or `<<: [{...}, ...]`: keys already present win, earlier sources win over later
 * ones; `merged` records which keys came from a merge so an explicit key may still replace
 * them without being a duplicate. */
static int merge_into(struct ctx *c, size_t line, json_t *obj, json_t *merged, json_t *src)
{
    size_t n = json_is_array(src) ? json_array_size(src) : 1;

    if (!json_is_object(src) && !json_is_array(src))
        return fail(c, line, "map merge requires map or sequence of maps as the value");
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_is_array(src) ? json_array_get(src, i) : src;
        const char *key;
        size_t key_len;
        json_t *v;

        if (!json_is_object(m))
            return fail(c, line, "map merge requires map or sequence of maps as the value");
        json_object_keylen_foreach(m, key, key_len, v)
        {
            if (json_object_getn(obj, key, key_len))
                continue;
            if (json_object_setn(obj, key, key_len, v) < 0 ||
                json_object_setn_new(merged, key, key_len, json_true()) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* go-yaml's isMerge: a plain untagged `<<`, or one tagged !!merge. */
static bool is_merge_key(const yaml_event_t *ev)
{
    if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.length != 2 ||
        memcmp(ev->data.scalar.value, "<<", 2) != 0)
        return false;
    const char *tag = (const char *)ev->data.scalar.tag;
    return tag ? strcmp(tag, TAG_PREFIX "merge") == 0 : ev->data.scalar.plain_implicit;
}

static int parse_mapping(struct ctx *c, size_t depth, json_t **ret, size_t *ret_height)
{
    _cleanup_json_ json_t *obj = json_object();
    _cleanup_json_ json_t *merged = json_object();
    _cleanup_event_ yaml_event_t ev = {0};
    size_t height = 2; /* as kos_json_depth counts an empty container */
    int r;

    if (!obj || !merged)
        return -ENOMEM;
    for (;;) {
        _cleanup_json_ json_t *k = NULL;
        _cleanup_json_ json_t *v = NULL;
        char buf[KOS_JSON_DOUBLE_BUFSZ];
        const char *key = NULL;
        size_t key_len = 0, h;

        r = next_event(c, &ev);
        if (r < 0)
            return r;
        if (ev.type == YAML_MAPPING_END_EVENT)
            break;
        size_t line = line_of(&ev);
        bool merge = is_merge_key(&ev);
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
            return fail(c, line, "invalid map key: a mapping or sequence cannot be a key");
        r = parse_node(c, &ev, depth + 1, &k, &h);
        if (r >= 0)
            r = key_text(c, line, k, buf, sizeof(buf), &key, &key_len);
        if (r >= 0)
            r = next_event(c, &ev);
        if (r >= 0)
            r = parse_node(c, &ev, depth + 1, &v, &h);
        if (r < 0)
            return r;
        /* For a merge this overestimates by a level, which only makes alias checks stricter. */
        if (h + 1 > height)
            height = h + 1;

        if (merge) {
            r = merge_into(c, line, obj, merged, v);
            if (r < 0)
                return r;
            continue;
        }
        if (json_object_getn(obj, key, key_len)) {
            if (!json_object_getn(merged, key, key_len))
                /* go-yaml's strict wording, which kube-apiserver passes on. */
                return kos_error_set(c->err, 400, "BadRequest",
                                     PREFIX "yaml: unmarshal errors:\n  line %zu: key "
                                            "\"%.*s%s\" already set in map",
                                     line, QUOTED(key, key_len));
            json_object_deln(merged, key, key_len);
        }
        if (json_object_setn(obj, key, key_len, v) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(obj);
    *ret_height = height;
    return 0;
}

static int parse_sequence(struct ctx *c, size_t depth, json_t **ret, size_t *ret_height)
{
    _cleanup_json_ json_t *arr = json_array();
    _cleanup_event_ yaml_event_t ev = {0};
    size_t height = 2; /* as kos_json_depth counts an empty container */

    if (!arr)
        return -ENOMEM;
    for (;;) {
        json_t *v;
        size_t h;
        int r = next_event(c, &ev);
        if (r < 0)
            return r;
        if (ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        r = parse_node(c, &ev, depth + 1, &v, &h);
        if (r < 0)
            return r;
        if (json_array_append_new(arr, v) < 0)
            return -ENOMEM;
        if (h + 1 > height)
            height = h + 1;
    }
    *ret = TAKE_PTR(arr);
    *ret_height = height;
    return 0;
}

/* Builds the node that starts with ev (a scalar, an alias or a collection start) at depth
 * `depth` (the root is 1), reading the rest of a collection's events. */
static int parse_node(struct ctx *c, const yaml_event_t *ev, size_t depth, json_t **ret,
                      size_t *ret_height)
{
    _cleanup_json_ json_t *v = NULL;
    const char *anchor = NULL;
    size_t nodes_before = c->nodes, height = 1;
    int r;

    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        return parse_alias(c, ev, depth, ret, ret_height);
    case YAML_SCALAR_EVENT:
        anchor = (const char *)ev->data.scalar.anchor;
        r = count_nodes(c, ev, 1);
        if (r >= 0)
            r = parse_scalar(c, ev, &v);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        anchor =
            (const char *)(ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                                                                 : ev->data.mapping_start.anchor);
        /* A container at depth d makes the tree at least d + 1 deep. */
        if (depth >= KOS_YAML_MAX_DEPTH)
            return fail(c, line_of(ev),
                        "the object provided is too deeply nested (maximum depth %d)",
                        KOS_YAML_MAX_DEPTH);
        r = count_nodes(c, ev, 1);
        if (r >= 0)
            r = ev->type == YAML_SEQUENCE_START_EVENT ? parse_sequence(c, depth, &v, &height)
                                                      : parse_mapping(c, depth, &v, &height);
        break;
    default:
        return fail(c, line_of(ev), "unexpected event in node");
    }
    if (r < 0)
        return r;
    if (anchor && json_object_set_new(c->anchors, anchor,
                                      json_pack("[O,I,I]", v, (json_int_t)(c->nodes - nodes_before),
                                                (json_int_t)height)) < 0)
        return -ENOMEM;
    *ret = TAKE_PTR(v);
    *ret_height = height;
    return 0;
}

static int parse_stream(struct ctx *c, json_t **ret)
{
    _cleanup_event_ yaml_event_t ev = {0};
    _cleanup_json_ json_t *v = NULL;
    size_t h;
    int r;

    /* STREAM-START, then DOCUMENT-START or, for no document at all, STREAM-END. */
    if ((r = next_event(c, &ev)) < 0 || (r = next_event(c, &ev)) < 0)
        return r;
    if (ev.type == YAML_STREAM_END_EVENT)
        return kos_error_set(c->err, 400, "BadRequest", PREFIX "empty body");
    if ((r = next_event(c, &ev)) < 0) /* the root node */
        return r;
    if (ev.type == YAML_SCALAR_EVENT && ev.data.scalar.length == 0 && !ev.data.scalar.tag &&
        ev.data.scalar.plain_implicit)
        return kos_error_set(c->err, 400, "BadRequest", PREFIX "empty body");
    /* Then DOCUMENT-END, and reading on to STREAM-END surfaces errors after the document. */
    if ((r = parse_node(c, &ev, 1, &v, &h)) < 0 || (r = next_event(c, &ev)) < 0 ||
        (r = next_event(c, &ev)) < 0)
        return r;
    if (ev.type != YAML_STREAM_END_EVENT)
        return fail(c, line_of(&ev),
                    "multiple documents are not supported in one request body (found \"---\")");
    *ret = TAKE_PTR(v);
    return 0;
}

int kos_yaml_decode(const char *data, size_t len, json_t **ret, struct kos_error **err)
{
    struct ctx c = {.err = err};
    json_t *v = NULL;
    int r;

    if (!data || len == 0)
        return kos_error_set(err, 400, "BadRequest", PREFIX "empty body");
    if (!yaml_parser_initialize(&c.parser))
        return -ENOMEM;
    c.anchors = json_object();
    if (!c.anchors)
        r = -ENOMEM;
    else {
        yaml_parser_set_input_string(&c.parser, (const unsigned char *)data, len);
        r = parse_stream(&c, &v);
    }
    json_decref(c.anchors);
    yaml_parser_delete(&c.parser);
    if (r < 0)
        return r;
    *ret = v;
    return 0;
}

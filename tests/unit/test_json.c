/* Request-body JSON codec: strict decoding, bounded depth, Go-compatible compact encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <cmocka.h>

#include "codec/json.h"
#include "codec/json_fast.h"
#include "codec/json_scan.h"

/* Decodes s, expecting success, and returns the tree. */
static json_t *decode_ok(const char *s)
{
    json_t *v = NULL;
    struct kos_error *err = NULL;
    int r = kos_json_decode(s, strlen(s), &v, &err);
    if (r < 0)
        fail_msg("decoding %s: %d %s", s, r, err && err->message ? err->message : "");
    assert_null(err);
    assert_non_null(v);
    return v;
}

/* Decodes s, expecting a 400 whose message contains want; the out-parameter stays as it was. */
static void decode_fails(const char *s, size_t len, const char *want)
{
    json_t *sentinel = json_null();
    json_t *v = sentinel;
    struct kos_error *err = NULL;

    int r = kos_json_decode(s, len, &v, &err);
    assert_int_equal(r, -EINVAL);
    assert_ptr_equal(v, sentinel);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->reason, "BadRequest");
    assert_non_null(err->message);
    if (!strstr(err->message, want))
        fail_msg("input %.60s: message \"%s\" lacks \"%s\"", s, err->message, want);
    /* The message must be valid UTF-8 so it can go into a Status body. */
    json_t *m = json_string(err->message);
    assert_non_null(m);
    json_decref(m);
    kos_error_free(err);
}

static void assert_encodes(const json_t *v, const char *want)
{
    size_t len = 0;
    char *s = kos_json_encode(v, &len);
    assert_non_null(s);
    assert_string_equal(s, want);
    assert_int_equal(len, strlen(want));
    free(s);
}

static void test_roundtrip(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"kind\": \"Pod\", \"apiVersion\": \"v1\", \"metadata\": {\"name\": \"p\"}}",
         "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\"}}"},
        {" [1, 2 ,3] \n", "[1,2,3]"},
        {"{\"z\":1,\"a\":2,\"m\":3}", "{\"z\":1,\"a\":2,\"m\":3}"}, /* insertion order */
        {"{}", "{}"},
        {"[]", "[]"},
        {"[{},[],{\"a\":[]}]", "[{},[],{\"a\":[]}]"},
        {"\"s\"", "\"s\""},
        {"null", "null"},
        {"true", "true"},
        {"false", "false"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9007199254740993", "9007199254740993"}, /* above 2^53 stays exact */
        {"0.5", "0.5"},
        {"0.1", "0.1"},
        {"1.0", "1"}, /* as Go prints a whole float64 */
        {"-0.0", "-0"},
        {"1e21", "1e+21"},
        {"1e20", "1e+20"}, /* Go: plain digits, which jansson would refuse */
        {"9.2e18", "9200000000000000000"},
        {"1e-7", "1e-7"},
        {"0.000001", "0.000001"},
        {"123456.789", "123456.789"},
        {"1.5e-300", "1.5e-300"},
        {"2.5e+300", "2.5e+300"},
        {"0.30000000000000004", "0.30000000000000004"},
        {"[\"\\u00e9\\u2028\\/\"]", "[\"\xc3\xa9\xe2\x80\xa8/\"]"},
        {"\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\"", "\"a\\\"b\\\\c\\n\\r\\t\\u0008\\u000c\\u0001\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = decode_ok(cases[i].in);
        assert_encodes(v, cases[i].out);
        json_decref(v);
    }
}

static void test_errors(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "empty body"},
        {" \n\t ", "empty body"},
        {"{\"a\":1,\"a\":2}", "json: duplicate field \"a\""},
        {"{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", "json: duplicate field \"b\""},
        {"{\"a\\\"b\":1,\"a\\\"b\":2}", "json: duplicate field \"a\\\"b\""},
        {"{\"a\":1} x", "end of file expected near 'x' at line 1 column"},
        {"{\"a\":1}{}", "end of file expected"},
        {"[1,2", "at line 1 column"},
        {"{\"a\":1,}", "error decoding body: "},
        {"{\n\"a\":\n  nul}", "at line 3 column"},
        {"\"x\\u0000y\"", "\\u0000 is not allowed"},
        {"\"\\ud800\"", "invalid Unicode"},
        {"{\"a\":\"\xff\"}", "unable to decode byte 0xff"},
        {"{\"\xc3\x28\":1}", "unable to decode byte"},
        {"\xef\xbb\xbf{}", "invalid token"},
        {"99999999999999999999", "too big integer"},
        {"1e400", "real number overflow"},
        {"NaN", "invalid token"},
        {"'a'", "invalid token"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        decode_fails(cases[i].in, strlen(cases[i].in), cases[i].want);
}

static void test_nul_byte_in_body(void **state)
{
    static const char body[] = "{\"a\":1}\0";
    decode_fails(body, sizeof(body) - 1, "end of file expected");
    decode_fails("\0", 1, "error decoding body");
    decode_fails(NULL, 0, "empty body");
}

static char *nested(size_t n, const char *open, const char *inner, const char *close)
{
    size_t len = n * (strlen(open) + strlen(close)) + strlen(inner) + 1;
    char *s = malloc(len);
    assert_non_null(s);
    s[0] = '\0';
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, len - o, "%s", open);
    o += (size_t)snprintf(s + o, len - o, "%s", inner);
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, len - o, "%s", close);
    return s;
}

static void test_depth_limit(void **state)
{
    /* 99 brackets make a tree of depth 100: the most allowed. */
    char *s = nested(KOS_JSON_MAX_DEPTH - 1, "[", "1", "]");
    json_t *v = decode_ok(s);
    assert_int_equal(kos_json_depth(v), KOS_JSON_MAX_DEPTH);
    json_decref(v);
    free(s);

    s = nested(KOS_JSON_MAX_DEPTH - 1, "{\"a\":", "{}", "}");
    decode_fails(s, strlen(s), "too deeply nested");
    free(s);

    s = nested(KOS_JSON_MAX_DEPTH, "[", "", "]");
    decode_fails(s, strlen(s), "too deeply nested");
    free(s);

    /* Far beyond jansson's own 2048 and unbalanced: refused by the scan, not by recursion. */
    s = nested(100000, "[", "", "");
    decode_fails(s, strlen(s), "too deeply nested");
    free(s);

    /* Brackets inside strings, and escaped quotes, do not count. */
    s = nested(KOS_JSON_MAX_DEPTH - 2, "[", "\"[[[[\\\"[[[[{{{{\"", "]");
    char *t = NULL;
    assert_true(asprintf(&t, "[%s, \"\\\\\", \"[[[[[[\"]", s) > 0);
    v = decode_ok(t);
    json_decref(v);
    free(t);
    free(s);
}

static void test_depth_of(void **state)
{
    static const struct {
        const char *in;
        size_t depth;
    } cases[] = {
        {"1", 1},         {"\"s\"", 1},          {"{}", 2},        {"[]", 2},
        {"{\"a\":1}", 2}, {"[1,[2,[3]]]", 4},    {"[[],[[]]]", 4}, {"{\"a\":{\"b\":{}}}", 4},
        {"null", 1},      {"[1,{\"a\":[]}]", 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = decode_ok(cases[i].in);
        assert_int_equal(kos_json_depth(v), cases[i].depth);
        json_decref(v);
    }
}

static void test_encode_built(void **state)
{
    json_t *o = json_object();
    json_object_set_new(o, "b", json_real(0.5));
    json_object_set_new(o, "a", json_integer(INT64_MIN));
    json_object_set_new(o, "s", json_stringn("x\0y", 3));
    json_object_set_new(o, "r", json_real(-2.0));
    assert_encodes(o, "{\"b\":0.5,\"a\":-9223372036854775808,\"s\":\"x\\u0000y\",\"r\":-2}");
    json_decref(o);

    json_t *a = json_pack("[i,i,I,s,s,{},[],s]", 0, -1, (json_int_t)INT64_MAX,
                          "q\"b\\n\nt\tr\r\x1f\x7f", "", "\xc3\xa9");
    assert_encodes(a, "[0,-1,9223372036854775807,\"q\\\"b\\\\n\\nt\\tr\\r\\u001f\x7f\",\"\",{},[],"
                      "\"\xc3\xa9\"]");
    json_decref(a);

    /* past the encoder's first buffer, with escapes on both sides of its end */
    char big[10000];
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = i % 97 == 0 ? '"' : 'x';
    big[sizeof(big) - 1] = '\0';
    json_t *bs = json_string(big);
    size_t len = 0;
    char *enc = kos_json_encode(bs, &len);
    json_t *back = json_loadb(enc, len, JSON_DECODE_ANY, NULL);
    assert_true(json_equal(back, bs));
    assert_int_equal(strlen(enc), len);
    free(enc);
    json_decref(back);
    json_decref(bs);

    assert_null(kos_json_encode(NULL, NULL));
    char *s = kos_json_encode(json_true(), NULL); /* length out-parameter is optional */
    assert_string_equal(s, "true");
    free(s);
}

/* Sorted keys at every depth, Go's bytewise order, equal values give equal bytes whatever
 * the insertion order; the bytes parse back to the same value. */
static void test_encode_sorted(void **state)
{
    (void)state;
    json_t *a = json_loads("{\"b\":1,\"a\":{\"z\":[{\"y\":true,\"x\":null}],\"ab\":\"\\u00e9\\\"\","
                           "\"a\":2.5},\"B\":[],\"\":{}}",
                           0, NULL);
    assert_non_null(a);
    size_t len = 0;
    char *s = kos_json_encode_sorted(a, &len);
    assert_string_equal(s, "{\"\":{},\"B\":[],\"a\":{\"a\":2.5,\"ab\":\"\xc3\xa9\\\"\","
                           "\"z\":[{\"x\":null,\"y\":true}]},\"b\":1}");
    assert_int_equal(len, strlen(s));
    json_t *back = json_loadb(s, len, 0, NULL);
    assert_true(json_equal(back, a));
    json_decref(back);

    /* more members than sort on the stack, inserted in reverse */
    json_t *big = json_object();
    char key[16];
    for (int i = 39; i >= 0; i--) {
        snprintf(key, sizeof(key), "k%02d", i);
        json_object_set_new(big, key, json_integer(i));
    }
    json_t *big2 = json_object();
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        json_object_set_new(big2, key, json_integer(i));
    }
    char *b1 = kos_json_encode_sorted(big, NULL), *b2 = kos_json_encode_sorted(big2, NULL);
    assert_string_equal(b1, b2);
    assert_non_null(strstr(b1, "{\"k00\":0,\"k01\":1,"));
    assert_non_null(strstr(b1, "\"k38\":38,\"k39\":39}"));
    assert_null(kos_json_encode_sorted(NULL, NULL));
    free(b1);
    free(b2);
    free(s);
    json_decref(big);
    json_decref(big2);
    json_decref(a);
}

static void test_format_double(void **state)
{
    static const struct {
        double d;
        const char *want;
    } cases[] = {
        {0.5, "0.5"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {100, "100"},
        {1e21, "1e+21"},
        {1.5e21, "1.5e+21"},
        {999999999999999900000.0, "9.999999999999999e+20"},
        {9223372036854774784.0, "9223372036854775000"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {1e-6, "0.000001"},
        {1.25e-7, "1.25e-7"},
        {1e-100, "1e-100"},
        {1e100, "1e+100"},
        {-1.5, "-1.5"},
        {0.0, "0"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {9007199254740993.0, "9007199254740992"},
    };
    char buf[KOS_JSON_DOUBLE_BUFSZ];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(kos_json_format_double(cases[i].d, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].want);
        assert_true(strtod(buf, NULL) == cases[i].d);
    }
    assert_int_equal(kos_json_format_double(NAN, buf, sizeof(buf)), -EINVAL);
    assert_int_equal(kos_json_format_double(INFINITY, buf, sizeof(buf)), -EINVAL);
}

static void test_duplicates_allowed_last_wins(void **state)
{
    const char *body = "{\"a\":1,\"data\":{\"x\":\"1\"},\"data\":{\"y\":\"2\"}}";
    json_t *v = NULL;
    char *dup = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(kos_json_decode(body, strlen(body), &v, &err), -EINVAL);
    assert_non_null(err);
    assert_string_equal(err->message, "json: duplicate field \"data\"");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(kos_json_decode_allow_duplicates(body, strlen(body), &v, &dup, &err), 0);
    assert_string_equal(dup, "\"data\"");
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "data"), "y")), "2");
    assert_null(json_object_get(json_object_get(v, "data"), "x"));
    free(dup);
    json_decref(v);
    dup = NULL;
    assert_int_equal(kos_json_decode_allow_duplicates("{\"a\":1}", 7, &v, &dup, &err), 0);
    assert_null(dup);
    json_decref(v);
}

/* kos_json_member finds a top-level member's bytes without parsing the rest (the
 * authorizers' cache reads pods with it), and never a nested one or an escaped key. */
static void test_member(void **state)
{
    (void)state;
    const char *doc =
        " {\"kind\":\"Pod\", \"metadata\" : {\"name\":\"p\",\"x\":[1,{\"a\":\"}\\\"\"}]},"
        "\"spec\":{\"nodeName\":\"n1\"},\"n\":-1.5e3,\"na\\u006de\":1} ";
    const char *v;
    size_t n;
    assert_int_equal(kos_json_member(doc, strlen(doc), "spec", &v, &n), 1);
    assert_int_equal(n, strlen("{\"nodeName\":\"n1\"}"));
    assert_memory_equal(v, "{\"nodeName\":\"n1\"}", n);
    assert_int_equal(kos_json_member(doc, strlen(doc), "n", &v, &n), 1);
    assert_memory_equal(v, "-1.5e3", n);
    assert_int_equal(kos_json_member(doc, strlen(doc), "metadata", &v, &n), 1);
    const char *name;
    size_t name_len;
    assert_int_equal(kos_json_member(v, n, "name", &name, &name_len), 1);
    assert_memory_equal(name, "\"p\"", name_len);
    assert_int_equal(kos_json_member(doc, strlen(doc), "nodeName", &v, &n), 0); /* nested */
    assert_int_equal(kos_json_member(doc, strlen(doc), "name", &v, &n), 0);     /* escaped */
    assert_int_equal(kos_json_member("{}", 2, "a", &v, &n), 0);
    static const char *const bad[] = {
        "", "[]", "{\"a\"", "{\"a\":", "{\"a\":\"x", "{\"a\":1", "{\"a\" 1}", "{\"a\":{\"b\":1}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kos_json_member(bad[i], strlen(bad[i]), "z", &v, &n), -EINVAL);

    /* several at once: the same values as one by one, NULL for the absent */
    static const char *const keys[] = {"spec", "metadata", "nope", "n"};
    const char *vals[4];
    size_t lens[4];
    assert_int_equal(kos_json_members(doc, strlen(doc), keys, 4, vals, lens), 3);
    assert_memory_equal(vals[0], "{\"nodeName\":\"n1\"}", lens[0]);
    assert_int_equal(kos_json_member(doc, strlen(doc), "metadata", &v, &n), 1);
    assert_ptr_equal(vals[1], v);
    assert_int_equal(lens[1], n);
    assert_null(vals[2]);
    assert_memory_equal(vals[3], "-1.5e3", lens[3]);
    /* it stops after the last key wanted: what follows is not read, broken or not */
    static const char *const first[] = {"kind"};
    const char *cut = "{\"kind\":\"Pod\",\"x\":";
    assert_int_equal(kos_json_members(cut, strlen(cut), first, 1, vals, lens), 1);
    assert_memory_equal(vals[0], "\"Pod\"", lens[0]);
    assert_int_equal(kos_json_members("{}", 2, keys, 4, vals, lens), 0);
    assert_null(vals[0]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kos_json_members(bad[i], strlen(bad[i]), keys, 4, vals, lens), -EINVAL);
}

/* A value parsed where it stands in a larger text: the same tree as the value alone, and
 * exactly its bytes taken. */
static void test_fast_parse_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t used;
    } cases[] = {
        {"{\"a\":[1,25,\"x\"],\"b\":{}},\"next\":1}", 23},
        {"  [true,null] ]", 13},
        {"\"s\\\"q\"}", 6},
        {"-12,3", 3},
        {"false}", 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *v = NULL;
        size_t used = 0;
        assert_int_equal(kos_json_fast_parse_prefix(cases[i].in, strlen(cases[i].in), &v, &used),
                         0);
        assert_int_equal(used, cases[i].used);
        json_t *alone = json_loadb(cases[i].in, used, JSON_DECODE_ANY, NULL);
        assert_non_null(alone);
        assert_true(json_equal(v, alone));
        json_decref(alone);
        json_decref(v);
    }
    json_t *v = NULL;
    size_t used = 0;
    assert_true(kos_json_fast_parse_prefix("{\"a\":", 5, &v, &used) < 0); /* cut */
    assert_true(kos_json_fast_parse_prefix("", 0, &v, &used) < 0);
    assert_null(v);
}

/* The fast path (codec/json_fast.c) builds jansson's tree for what it takes and leaves the
 * rest to jansson: never a different tree, never an acceptance jansson would refuse. */
static void test_fast_path_matches_jansson(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool fast; /* taken by the fast path */
    } cases[] = {
        {"{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{}}", true},
        {"  [ ]  ", true},
        {"{\"k\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\"}", true},
        {"-0", true},
        {"-123456789012345678", true},
        {"\"\"", true},
        {"{\"\":0}", true},
        {"1234567890123456789", false}, /* 19 digits: jansson range-checks */
        {"99999999999999999999", false},
        {"1.5", false},
        {"1e3", false},
        {"01", false},
        {"-", false},
        {"{\"a\":1,\"a\":2}", false},
        {"\"\\u00e9\"", false},
        {"\"\\u0000\"", false},
        {"\"caf\xc3\xa9\"", false},
        {"\"\xff\"", false},
        {"\"a\x01\"", false},
        {"\"a\\x\"", false},
        {"{\"a\":1,}", false},
        {"[1,]", false},
        {"[1 2]", false},
        {"{\"a\" 1}", false},
        {"truex", false},
        {"nul", false},
        {"{\"a\":1} x", false},
        {"", false},
        {"   ", false},
        {"\"open", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *in = cases[i].in;
        json_t *fast = NULL;
        int r = kos_json_fast_parse(in, strlen(in), &fast);
        if (cases[i].fast != (r == 0))
            fail_msg("fast path %s: %s", r == 0 ? "took" : "left", in);
        json_t *slow = json_loadb(in, strlen(in), JSON_DECODE_ANY, NULL);
        if (r == 0) {
            assert_non_null(slow);
            assert_true(json_equal(fast, slow));
        }
        /* the wrapper always gives jansson's answer */
        json_t *wrapped = kos_json_loadb(in, strlen(in), JSON_DECODE_ANY, NULL);
        assert_true(slow ? wrapped && json_equal(wrapped, slow) : !wrapped);
        json_decref(fast);
        json_decref(slow);
        json_decref(wrapped);
    }
    /* without JSON_DECODE_ANY a scalar is refused, as jansson refuses it */
    assert_null(kos_json_loadb("1", 1, 0, NULL));
    /* escaped strings longer than the stack scratch */
    char big[600];
    memset(big, 'a', sizeof(big));
    big[0] = '"';
    big[1] = '\\';
    big[2] = 'n';
    big[sizeof(big) - 2] = '"';
    big[sizeof(big) - 1] = '\0';
    json_t *v = NULL;
    assert_int_equal(kos_json_fast_parse(big, strlen(big), &v), 0);
    assert_int_equal(json_string_length(v), sizeof(big) - 4);
    assert_int_equal(json_string_value(v)[0], '\n');
    json_decref(v);
}

/* A byte at a time, the way Go's encoder escapes (the reference for the encoder's 8-byte
 * steps). */
static void reference_escape(const unsigned char *s, size_t len, char *out, size_t size)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* Every byte that needs escaping (and neighbours that do not: space, DEL, UTF-8) at every
 * position of strings of 0 to 40 bytes, alone and in pairs, encodes as byte by byte. */
static void test_encode_string_escapes(void **state)
{
    (void)state;
    static const unsigned char specials[] = {0x01, 0x08, 0x0c, 0x1f, '"',  '\\', '\n', '\r',
                                             '\t', ' ',  0x7f, 0xc3, 0xa9, '!',  '#',  ']'};
    for (size_t len = 0; len <= 40; len++)
        for (size_t pos = 0; pos < (len ? len : 1); pos++)
            for (size_t k = 0; k < sizeof(specials); k++) {
                unsigned char str[41];
                memset(str, 'a', sizeof(str));
                if (len) {
                    str[pos] = specials[k];
                    str[(pos * 7 + 3) % len] = specials[(k + 5) % sizeof(specials)];
                }
                char want[41 * 6 + 3];
                reference_escape(str, len, want, sizeof(want));
                json_t *v = json_stringn_nocheck((const char *)str, len);
                size_t n;
                char *got = kos_json_encode(v, &n);
                assert_non_null(got);
                if (strcmp(got, want) != 0)
                    fail_msg("len %zu pos %zu: %s vs %s", len, pos, got, want);
                assert_int_equal(n, strlen(want));
                free(got);
                json_decref(v);
            }
}

/* A spliced value is written as the given bytes where that very object is (not where an
 * equal one is), and with its own encoding the output is the plain encoding. */
static void test_encode_splice(void **state)
{
    (void)state;
    json_t *v =
        json_loads("{\"a\":1,\"m\":{\"x\":{\"y\":\"z\"},\"e\":{}},\"l\":[{\"x\":{\"y\":\"z\"}}],"
                   "\"n\":{\"x\":{\"y\":\"z\"},\"e\":{}}}",
                   0, NULL);
    assert_non_null(v);
    json_t *m = json_object_get(v, "m");
    size_t n;
    char *plain = kos_json_encode(v, NULL), *own = kos_json_encode(m, &n);
    char *same = kos_json_encode_splice(v, m, own, n, NULL);
    assert_string_equal(same, plain);
    char *marked = kos_json_encode_splice(v, m, "{\"S\":1}", 7, &n);
    assert_string_equal(marked, "{\"a\":1,\"m\":{\"S\":1},\"l\":[{\"x\":{\"y\":\"z\"}}],"
                                "\"n\":{\"x\":{\"y\":\"z\"},\"e\":{}}}");
    assert_int_equal(n, strlen(marked));
    /* a node inside an array, and no node at all */
    char *in_list =
        kos_json_encode_splice(v, json_array_get(json_object_get(v, "l"), 0), "{}", 2, NULL);
    assert_string_equal(in_list, "{\"a\":1,\"m\":{\"x\":{\"y\":\"z\"},\"e\":{}},\"l\":[{}],"
                                 "\"n\":{\"x\":{\"y\":\"z\"},\"e\":{}}}");
    char *none = kos_json_encode_splice(v, NULL, NULL, 0, NULL);
    assert_string_equal(none, plain);
    free(plain);
    free(own);
    free(same);
    free(marked);
    free(in_list);
    free(none);
    json_decref(v);
}

/* Strings of 0 to 40 bytes with a byte the fast parser must stop at (a quote, a backslash,
 * a control byte, UTF-8) at every position, and plain ones: the fast parser takes the plain
 * and escaped ones with jansson's result and leaves the others to jansson. */
static void test_fast_parse_string_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *bytes; /* as written inside the JSON string */
        bool fast;
    } specials[] = {
        {"b", true},         {"\\\"", true},  {"\\\\", true},     {"\\n", true},
        {"~", true},         {"\x7f", true},  {"\x01", false},    {"\x1f", false},
        {"\xc3\xa9", false}, {"\xff", false}, {"\\u0041", false},
    };
    for (size_t len = 0; len <= 40; len++)
        for (size_t pos = 0; pos <= len; pos++)
            for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
                char in[128];
                size_t o = 0;
                in[o++] = '"';
                for (size_t i = 0; i < len; i++)
                    in[o++] = (char)('a' + i % 26);
                memmove(in + 1 + pos + strlen(specials[k].bytes), in + 1 + pos, len - pos);
                memcpy(in + 1 + pos, specials[k].bytes, strlen(specials[k].bytes));
                o += strlen(specials[k].bytes);
                in[o++] = '"';
                json_t *fast = NULL;
                int r = kos_json_fast_parse(in, o, &fast);
                if ((r == 0) != specials[k].fast)
                    fail_msg("len %zu pos %zu special %zu: %d", len, pos, k, r);
                json_t *slow = json_loadb(in, o, JSON_DECODE_ANY, NULL);
                if (r == 0) {
                    assert_non_null(slow);
                    assert_true(json_equal(fast, slow));
                }
                json_decref(fast);
                json_decref(slow);
            }
}

/* The last member found is left unread: its start and the rest of the input; reading its
 * members stops at its end, and kos_json_skip_value finds that end. */
static void test_members_open(void **state)
{
    (void)state;
    static const char *const keys[] = {"metadata", "spec"};
    const char *vals[2];
    size_t lens[2];
    const char *doc =
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"a\":[1,{\"b\":\"}\"}],"
        "\"nodeName\":\"n1\"},\"status\":{\"x\":1}}";
    const char *end = doc + strlen(doc);
    assert_int_equal(kos_json_members_open(doc, strlen(doc), keys, 2, vals, lens), 2);
    assert_int_equal(lens[0], strlen("{\"name\":\"p\"}"));
    assert_memory_equal(vals[0], "{\"name\":\"p\"}", lens[0]);
    assert_ptr_equal(vals[1] + lens[1], end);
    assert_memory_equal(vals[1], "{\"a\":", 5);
    const char *v;
    size_t n;
    assert_int_equal(kos_json_member(vals[1], lens[1], "nodeName", &v, &n), 1);
    assert_memory_equal(v, "\"n1\"", n);
    assert_int_equal(kos_json_member(vals[1], lens[1], "status", &v, &n), 0); /* not spec's */
    const char *spec_end = kos_json_skip_value(vals[1], end);
    assert_non_null(spec_end);
    assert_int_equal(spec_end - vals[1], strlen("{\"a\":[1,{\"b\":\"}\"}],\"nodeName\":\"n1\"}"));
    /* the other order, a key missing (read to the end), nothing found */
    const char *rev = "{\"spec\":{\"x\":1},\"metadata\":{\"name\":\"q\"},\"status\":{}}";
    assert_int_equal(kos_json_members_open(rev, strlen(rev), keys, 2, vals, lens), 2);
    assert_memory_equal(vals[1], "{\"x\":1}", lens[1]);
    assert_ptr_equal(vals[0] + lens[0], rev + strlen(rev));
    const char *only = "{\"metadata\":{},\"status\":{}}";
    assert_int_equal(kos_json_members_open(only, strlen(only), keys, 2, vals, lens), 1);
    assert_int_equal(lens[0], 2);
    assert_null(vals[1]);
    assert_int_equal(kos_json_members_open("{}", 2, keys, 2, vals, lens), 0);
    assert_int_equal(kos_json_members_open("[1]", 3, keys, 2, vals, lens), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_string_escapes),
        cmocka_unit_test(test_encode_splice),
        cmocka_unit_test(test_fast_parse_string_bytes),
        cmocka_unit_test(test_members_open),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_fast_path_matches_jansson),
        cmocka_unit_test(test_nul_byte_in_body),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_of),
        cmocka_unit_test(test_encode_built),
        cmocka_unit_test(test_encode_sorted),
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_duplicates_allowed_last_wins),
        cmocka_unit_test(test_member),
        cmocka_unit_test(test_fast_parse_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

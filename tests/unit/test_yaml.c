/* YAML request bodies to JSON trees, resolved as sigs.k8s.io/yaml (go-yaml v2) does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "codec/json.h"
#include "codec/yaml.h"

static json_t *yaml_ok(const char *s)
{
    json_t *v = NULL;
    struct kos_error *err = NULL;
    int r = kos_yaml_decode(s, strlen(s), &v, &err);
    if (r < 0)
        fail_msg("decoding %s: %d %s", s, r, err && err->message ? err->message : "");
    assert_null(err);
    assert_non_null(v);
    return v;
}

/* Decodes yaml and compares it with the JSON text want (parsed by jansson). */
static void assert_yaml_is(const char *yaml, const char *want)
{
    json_t *v = yaml_ok(yaml);
    json_error_t jerr;
    json_t *w = json_loads(want, JSON_DECODE_ANY, &jerr);
    if (!w)
        fail_msg("bad expectation %s: %s", want, jerr.text);
    if (!json_equal(v, w)) {
        char *got = kos_json_encode(v, NULL);
        fail_msg("yaml %s\n  got  %s\n  want %s", yaml, got, want);
    }
    json_decref(v);
    json_decref(w);
}

static void yaml_fails(const char *s, const char *want)
{
    json_t *sentinel = json_null();
    json_t *v = sentinel;
    struct kos_error *err = NULL;

    int r = kos_yaml_decode(s, strlen(s), &v, &err);
    if (r >= 0)
        fail_msg("yaml %s decoded, wanted an error with \"%s\"", s, want);
    assert_int_equal(r, -EINVAL);
    assert_ptr_equal(v, sentinel);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->reason, "BadRequest");
    if (!strstr(err->message, want))
        fail_msg("yaml %.60s: message \"%s\" lacks \"%s\"", s, err->message, want);
    json_t *m = json_string(err->message); /* must fit into a Status */
    assert_non_null(m);
    json_decref(m);
    kos_error_free(err);
}

/* Every plain-scalar rule, as `v: <scalar>`. */
static void test_resolve_plain(void **state)
{
    static const struct {
        const char *scalar, *json;
    } cases[] = {
        {"y", "true"},
        {"Y", "true"},
        {"yes", "true"},
        {"Yes", "true"},
        {"YES", "true"},
        {"true", "true"},
        {"True", "true"},
        {"TRUE", "true"},
        {"on", "true"},
        {"On", "true"},
        {"ON", "true"},
        {"n", "false"},
        {"N", "false"},
        {"no", "false"},
        {"No", "false"},
        {"NO", "false"},
        {"false", "false"},
        {"False", "false"},
        {"FALSE", "false"},
        {"off", "false"},
        {"Off", "false"},
        {"OFF", "false"},
        {"yEs", "\"yEs\""},
        {"tRUE", "\"tRUE\""},
        {"oN", "\"oN\""},
        {"~", "null"},
        {"null", "null"},
        {"Null", "null"},
        {"NULL", "null"},
        {"", "null"},
        {"nULL", "\"nULL\""},
        {"0", "0"},
        {"42", "42"},
        {"+42", "42"},
        {"-42", "-42"},
        {"1_000_000", "1000000"},
        {"0x1F", "31"},
        {"0X1f", "31"},
        {"-0x10", "-16"},
        {"0o17", "15"},
        {"017", "15"},
        {"-017", "-15"},
        {"0b101", "5"},
        {"-0b101", "-5"},
        {"0b1_0", "2"},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9223372036854775808", "9223372036854775808.0"},   /* uint64: kept as a float */
        {"0xFFFFFFFFFFFFFFFF", "18446744073709551615.0"},   /* likewise */
        {"18446744073709551616", "18446744073709551616.0"}, /* float rule */
        {"0x1FFFFFFFFFFFFFFFF", "\"0x1FFFFFFFFFFFFFFFF\""},
        {"09", "9"}, /* not octal, but a float 9 that Go prints as 9 */
        {"0o9", "\"0o9\""},
        {"0b2", "\"0b2\""},
        {"0x", "\"0x\""},
        {"1.5", "1.5"},
        {"-1.5", "-1.5"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"+.5", "0.5"},
        {"1.", "1"},
        {"1.0", "1"},
        {"1e3", "1000"},
        {"1E-3", "0.001"},
        {"1_0.5", "10.5"},
        {"0.1", "0.1"},
        {"1e400", "\"1e400\""}, /* Go's ParseFloat fails on overflow */
        {"1e-400", "0"},
        {"._5", "\"._5\""},
        {".", "\".\""},
        {"+", "\"+\""},
        {"1.2.3", "\"1.2.3\""},
        {"1e", "\"1e\""},
        {"12abc", "\"12abc\""},
        {"2001-12-14", "\"2001-12-14\""}, /* timestamps stay strings */
        {"2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\""},
        {"1:20", "\"1:20\""},
        {"hello world", "\"hello world\""},
        {"<<", "\"<<\""},
        {"=", "\"=\""},
        {"0.0.0.0/0", "\"0.0.0.0/0\""},
        {"100m", "\"100m\""},
        {"1Gi", "\"1Gi\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[128], json[128];
        snprintf(yaml, sizeof(yaml), "v: %s\n", cases[i].scalar);
        snprintf(json, sizeof(json), "{\"v\":%s}", cases[i].json);
        assert_yaml_is(yaml, json);
    }
}

static void test_quoted_and_blocks(void **state)
{
    assert_yaml_is("a: \"true\"\nb: 'yes'\nc: \"12\"\nd: '~'\ne: \"\"\nf: 'it''s'\n",
                   "{\"a\":\"true\",\"b\":\"yes\",\"c\":\"12\",\"d\":\"~\",\"e\":\"\","
                   "\"f\":\"it's\"}");
    assert_yaml_is("a: \"t\\u00e9\\n\\t\"\n", "{\"a\":\"t\\u00e9\\n\\t\"}");
    assert_yaml_is("a: |\n  12\n  x\nb: >\n  folded\n  text\nc: |-\n  true\n",
                   "{\"a\":\"12\\nx\\n\",\"b\":\"folded text\\n\",\"c\":\"true\"}");
}

static void test_tags(void **state)
{
    assert_yaml_is("a: !!str 12\nb: !!str true\nc: !!str ~\nd: !!str\n",
                   "{\"a\":\"12\",\"b\":\"true\",\"c\":\"~\",\"d\":\"\"}");
    assert_yaml_is("a: !!int \"12\"\nb: !!int 0x10\nc: !!float 1.5\nd: !!float \"2\"\n",
                   "{\"a\":12,\"b\":16,\"c\":1.5,\"d\":2}");
    assert_yaml_is("a: !!bool \"yes\"\nb: !!null ~\nc: !!null\n",
                   "{\"a\":true,\"b\":null,\"c\":null}");
    assert_yaml_is("a: ! 12\nb: !custom 12\nc: !!binary aGk=\nd: !!seq [1]\ne: !!map {x: 1}\n",
                   "{\"a\":\"12\",\"b\":\"12\",\"c\":\"aGk=\",\"d\":[1],\"e\":{\"x\":1}}");
    yaml_fails("a: !!int abc\n", "line 1: cannot decode !!str `abc` as a !!int");
    yaml_fails("a: !!int 1.5\n", "cannot decode !!float `1.5` as a !!int");
    yaml_fails("a: !!bool 1\n", "cannot decode !!int `1` as a !!bool");
    yaml_fails("a: !!float x\n", "cannot decode !!str `x` as a !!float");
    yaml_fails("a: !!null 0\n", "cannot decode !!int `0` as a !!null");
}

static void test_keys(void **state)
{
    /* As in go-yaml v2 (the `on:` of GitHub workflows): a plain key y/on/no is a bool. */
    assert_yaml_is("y: 1\n\"no\": 3\n", "{\"true\":1,\"no\":3}");
    assert_yaml_is("on: [push]\n", "{\"true\":[\"push\"]}");
    assert_yaml_is("true: 1\n1: 2\n0x10: 3\n1.5: 4\nno: 5\n\"7\": 6\n",
                   "{\"true\":1,\"1\":2,\"16\":3,\"1.5\":4,\"false\":5,\"7\":6}");
    yaml_fails("~: 1\n", "unsupported map key: null");
    yaml_fails("? [a]\n: 1\n", "invalid map key");
    yaml_fails("? {a: 1}\n: 1\n", "invalid map key");
    yaml_fails("a: &k [1]\n*k : 2\n", "invalid map key");
}

static void test_anchors_and_merge(void **state)
{
    assert_yaml_is("a: &x {b: 1, c: [1, 2]}\nd: *x\ns: &s str\nt: *s\n",
                   "{\"a\":{\"b\":1,\"c\":[1,2]},\"d\":{\"b\":1,\"c\":[1,2]},"
                   "\"s\":\"str\",\"t\":\"str\"}");
    /* Merge: explicit keys win wherever they stand; earlier merge sources win. */
    assert_yaml_is("base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  z: 3\n",
                   "{\"base\":{\"x\":1,\"z\":2},\"m\":{\"x\":1,\"z\":3}}");
    assert_yaml_is("m:\n  z: 3\n  <<: {x: 1, z: 2}\n", "{\"m\":{\"z\":3,\"x\":1}}");
    assert_yaml_is("<<: [{a: 1}, {a: 2, b: 3}]\nc: 4\n", "{\"a\":1,\"b\":3,\"c\":4}");
    assert_yaml_is("<<: {a: 1}\n<<: {a: 2, b: 2}\n", "{\"a\":1,\"b\":2}");
    assert_yaml_is("\"<<\": {a: 1}\n", "{\"<<\":{\"a\":1}}"); /* quoted: an ordinary key */
    assert_yaml_is("!!merge <<: {a: 1}\n", "{\"a\":1}");
    yaml_fails("<<: 1\n", "map merge requires map or sequence of maps");
    yaml_fails("<<: [{a: 1}, 2]\n", "map merge requires map or sequence of maps");
    yaml_fails("a: *nope\n", "unknown anchor referenced: \"nope\"");
    /* Redefinition: aliases see the latest. */
    assert_yaml_is("- &a 1\n- *a\n- &a 2\n- *a\n", "[1,1,2,2]");
    /* Alias of a quoted scalar keeps it a string. */
    assert_yaml_is("- &q \"12\"\n- *q\n", "[\"12\",\"12\"]");
}

static void test_alias_copies_are_independent(void **state)
{
    json_t *v = yaml_ok("a: &x {b: [1]}\nc: *x\n");
    json_t *a = json_object_get(v, "a"), *c = json_object_get(v, "c");
    assert_ptr_not_equal(a, c);
    assert_ptr_not_equal(json_object_get(a, "b"), json_object_get(c, "b"));
    json_array_append_new(json_object_get(c, "b"), json_integer(2));
    assert_int_equal(json_array_size(json_object_get(a, "b")), 1);
    json_decref(v);
}

static void test_billion_laughs(void **state)
{
    static const char lol[] = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                              "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                              "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                              "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                              "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                              "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                              "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                              "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                              "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    yaml_fails(lol, "document too large after alias expansion");

    /* A moderate amount of aliasing is fine: 9^4 lols. */
    json_t *v = yaml_ok("a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
                        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                        "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
    assert_int_equal(json_array_size(json_object_get(v, "d")), 9);
    json_decref(v);
}

static char *flow_nested(size_t n)
{
    char *s = malloc(2 * n + 8);
    assert_non_null(s);
    size_t o = 0;
    s[o++] = 'v';
    s[o++] = ':';
    s[o++] = ' ';
    for (size_t i = 0; i < n; i++)
        s[o++] = '[';
    for (size_t i = 0; i < n; i++)
        s[o++] = ']';
    s[o] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    /* The mapping is depth 1, so n brackets inside make a tree of depth n + 2. */
    char *s = flow_nested(KOS_YAML_MAX_DEPTH - 2);
    json_t *v = yaml_ok(s);
    assert_int_equal(kos_json_depth(v), KOS_YAML_MAX_DEPTH);
    json_decref(v);
    free(s);

    s = flow_nested(KOS_YAML_MAX_DEPTH - 1);
    yaml_fails(s, "too deeply nested");
    free(s);

    s = flow_nested(50000);
    yaml_fails(s, "too deeply nested");
    free(s);

    /* Depth after alias expansion: an anchor of depth 59 (at depth 2) used k levels further
     * down makes a tree of depth 60 + k. */
    char *deep = flow_nested(58);
    for (int k = 40; k <= 41; k++) {
        char *t = NULL;
        assert_true(
            asprintf(&t, "a: &x %s\nb: %.*s*x%.*s\n", deep + 3, k, deep + 3, k, deep + 3 + 58) > 0);
        if (k == 40) {
            v = yaml_ok(t);
            assert_int_equal(kos_json_depth(v), KOS_YAML_MAX_DEPTH);
            json_decref(v);
        } else {
            yaml_fails(t, "too deeply nested");
        }
        free(t);
    }
    free(deep);
}

static void test_documents(void **state)
{
    assert_yaml_is("---\na: 1\n", "{\"a\":1}");
    assert_yaml_is("---\na: 1\n...\n", "{\"a\":1}");
    assert_yaml_is("# comment\na: 1 # trailing\n", "{\"a\":1}");
    assert_yaml_is("- 1\n- two\n", "[1,\"two\"]");
    assert_yaml_is("~\n", "null");
    assert_yaml_is("\"\"\n", "\"\"");
    yaml_fails("a: 1\n---\nb: 2\n", "multiple documents");
    yaml_fails("a: 1\n---\n", "multiple documents");
    yaml_fails("", "empty body");
    yaml_fails("\n\n", "empty body");
    yaml_fails("# only a comment\n", "empty body");
    yaml_fails("---\n", "empty body");
}

static void test_errors(void **state)
{
    yaml_fails("a: 1\na: 2\n", "yaml: unmarshal errors:\n  line 2: key \"a\" already set in map");
    yaml_fails("m:\n  x: 1\n  y: 2\n  x: 3\n", "line 4: key \"x\" already set in map");
    yaml_fails("true: 1\nyes: 2\n", "key \"true\" already set in map");
    yaml_fails("1: a\n\"1\": b\n", "key \"1\" already set in map");
    yaml_fails("a: b: c\n", "yaml: line 1: mapping values are not allowed in this context");
    yaml_fails("a:\n  - 1\n b: 2\n", "yaml: line 3: ");
    yaml_fails("x: [1, 2\n", "did not find expected ',' or ']'");
    yaml_fails("a: \"unterminated\n", "found unexpected end of stream");
    yaml_fails("a: \t\n\tb: 1\n", "found character that cannot start any token");
    yaml_fails("a: \"\xff\"\n", "invalid leading UTF-8 octet");
    yaml_fails("a: \xc3\x28\n", "invalid trailing UTF-8 octet");
    yaml_fails("a: \"x\\0y\"\n", "strings containing \\0 are not supported");
    yaml_fails("a: .inf\n", "json: unsupported value: +Inf");
    yaml_fails("a: -.INF\n", "json: unsupported value: -Inf");
    yaml_fails("a: .NaN\n", "json: unsupported value: NaN");
    yaml_fails("a: !!float .nan\n", "unsupported value: NaN");
    yaml_fails("a: 1\n]\n", "yaml: line 2: ");
}

static void test_pod_manifest(void **state)
{
    static const char pod[] = "apiVersion: v1\n"
                              "kind: Pod\n"
                              "metadata:\n"
                              "  name: web-0\n"
                              "  namespace: default\n"
                              "  labels:\n"
                              "    app: web\n"
                              "    tier: \"1\"\n"
                              "  annotations:\n"
                              "    enabled: \"true\"\n"
                              "spec:\n"
                              "  restartPolicy: Always\n"
                              "  terminationGracePeriodSeconds: 30\n"
                              "  hostNetwork: no\n"
                              "  containers:\n"
                              "  - name: nginx\n"
                              "    image: nginx:1.25\n"
                              "    args: [\"--port\", \"8080\", --verbose]\n"
                              "    ports:\n"
                              "    - containerPort: 8080\n"
                              "      protocol: TCP\n"
                              "    env:\n"
                              "    - name: RATIO\n"
                              "      value: \"0.5\"\n"
                              "    - name: EMPTY\n"
                              "    resources:\n"
                              "      requests: {cpu: 100m, memory: 64Mi}\n"
                              "      limits:\n"
                              "        cpu: 1\n"
                              "        memory: 128Mi\n"
                              "    command:\n"
                              "    - sh\n"
                              "    - -c\n"
                              "    - |\n"
                              "      echo start\n"
                              "      exec nginx\n"
                              "  tolerations:\n"
                              "  - key: node.kubernetes.io/not-ready\n"
                              "    operator: Exists\n"
                              "    effect: NoExecute\n"
                              "    tolerationSeconds: 300\n"
                              "  nodeSelector: {}\n"
                              "  volumes: []\n";
    static const char want[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\","
        "\"namespace\":\"default\",\"labels\":{\"app\":\"web\",\"tier\":\"1\"},"
        "\"annotations\":{\"enabled\":\"true\"}},\"spec\":{\"restartPolicy\":\"Always\","
        "\"terminationGracePeriodSeconds\":30,\"hostNetwork\":false,\"containers\":[{\"name\":"
        "\"nginx\",\"image\":\"nginx:1.25\",\"args\":[\"--port\",\"8080\",\"--verbose\"],"
        "\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],\"env\":[{\"name\":"
        "\"RATIO\",\"value\":\"0.5\"},{\"name\":\"EMPTY\"}],\"resources\":{\"requests\":{"
        "\"cpu\":\"100m\",\"memory\":\"64Mi\"},\"limits\":{\"cpu\":1,\"memory\":\"128Mi\"}},"
        "\"command\":[\"sh\",\"-c\",\"echo start\\nexec nginx\\n\"]}],\"tolerations\":[{"
        "\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":"
        "\"NoExecute\",\"tolerationSeconds\":300}],\"nodeSelector\":{},\"volumes\":[]}}";
    assert_yaml_is(pod, want);

    /* Document order is kept, so the compact encoding is exactly the JSON literal. */
    json_t *v = yaml_ok(pod);
    char *s = kos_json_encode(v, NULL);
    assert_string_equal(s, want);
    free(s);
    json_decref(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_plain),
        cmocka_unit_test(test_quoted_and_blocks),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_anchors_and_merge),
        cmocka_unit_test(test_alias_copies_are_independent),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_pod_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

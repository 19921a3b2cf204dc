/* Unit tests for src/api/selector.c: labels.Parse / fields.ParseSelector grammar, matching
 * and kube's error texts. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/selector.h"
#include "util/json_cleanup.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        print_error("bad test JSON: %s\n", e.text);
    assert_non_null(j);
    return j;
}

/* Does selector `s` match the labels object given as JSON text? */
static bool lmatch(const char *s, const char *labels)
{
    struct label_selector *sel = NULL;
    struct kos_error *err = NULL;
    int r = label_selector_parse(s, &sel, &err);
    if (r != 0)
        print_error("parse \"%s\": %s\n", s, err && err->message ? err->message : "?");
    assert_int_equal(r, 0);
    assert_null(err);
    json_t *l = labels ? J(labels) : NULL;
    bool m = label_selector_matches(sel, l);
    json_decref(l);
    label_selector_free(sel);
    return m;
}

static void lerr(const char *s, const char *want)
{
    struct label_selector *sel = (struct label_selector *)0x1;
    struct kos_error *err = NULL;
    int r = label_selector_parse(s, &sel, &err);
    assert_int_equal(r, -EINVAL);
    assert_ptr_equal(sel, (struct label_selector *)0x1);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->reason, "BadRequest");
    assert_non_null(err->message);
    if (want && strcmp(err->message, want) != 0)
        print_error("\"%s\":\n got: %s\nwant: %s\n", s, err->message, want);
    if (want)
        assert_string_equal(err->message, want);
    kos_error_free(err);
}

static void test_label_operators(void **state)
{
    assert_true(lmatch("", "{}"));
    assert_true(lmatch("", NULL));
    assert_true(lmatch("x=a", "{\"x\":\"a\"}"));
    assert_false(lmatch("x=a", "{\"x\":\"b\"}"));
    assert_false(lmatch("x=a", "{}"));
    assert_false(lmatch("x=a", NULL));
    assert_true(lmatch("x==a", "{\"x\":\"a\"}"));
    assert_true(lmatch("x!=a", "{}")); /* != matches a missing label */
    assert_true(lmatch("x!=a", "{\"x\":\"b\"}"));
    assert_false(lmatch("x!=a", "{\"x\":\"a\"}"));
    assert_true(lmatch("x in (a,b)", "{\"x\":\"b\"}"));
    assert_false(lmatch("x in (a,b)", "{\"x\":\"c\"}"));
    assert_false(lmatch("x in (a,b)", "{}"));
    assert_true(lmatch("x notin (a,b)", "{}"));
    assert_true(lmatch("x notin (a,b)", "{\"x\":\"c\"}"));
    assert_false(lmatch("x notin (a,b)", "{\"x\":\"a\"}"));
    assert_true(lmatch("x", "{\"x\":\"\"}"));
    assert_false(lmatch("x", "{\"y\":\"\"}"));
    assert_true(lmatch("!x", "{\"y\":\"\"}"));
    assert_false(lmatch("!x", "{\"x\":\"1\"}"));
    assert_true(lmatch("x>1", "{\"x\":\"5\"}"));
    assert_false(lmatch("x>5", "{\"x\":\"5\"}"));
    assert_true(lmatch("x<10", "{\"x\":\"5\"}"));
    assert_false(lmatch("x<10", "{\"x\":\"five\"}"));
    assert_false(lmatch("x<10", "{}"));
    assert_true(lmatch("x=", "{\"x\":\"\"}"));
    assert_false(lmatch("x=", "{\"x\":\"a\"}"));
    assert_true(lmatch("x in ()", "{\"x\":\"\"}"));
    assert_false(lmatch("x=1", "{\"x\":1}")); /* a non-string label is no label */
    /* kube's documented example, whitespace everywhere, and keywords as values/keys */
    assert_true(lmatch("x in (foo,,baz),y,z notin ()", "{\"x\":\"\",\"y\":\"1\"}"));
    assert_true(lmatch("  x  in  ( a , b ) ,\ty ,  !z  ", "{\"x\":\"a\",\"y\":\"\"}"));
    assert_true(lmatch("in in (in,notin)", "{\"in\":\"notin\"}"));
    assert_true(lmatch("example.com/app=web,app.kubernetes.io/name==db",
                       "{\"example.com/app\":\"web\",\"app.kubernetes.io/name\":\"db\"}"));
    assert_true(lmatch("a=b,a!=c", "{\"a\":\"b\"}"));
    assert_false(lmatch("a=b,a=c", "{\"a\":\"b\"}"));
}

static void test_label_empty(void **state)
{
    struct label_selector *sel = NULL;
    assert_int_equal(label_selector_parse("", &sel, NULL), 0);
    assert_true(label_selector_empty(sel));
    label_selector_free(sel);
    assert_int_equal(label_selector_parse("  ", &sel, NULL), 0);
    assert_true(label_selector_empty(sel));
    label_selector_free(sel);
    assert_int_equal(label_selector_parse("a", &sel, NULL), 0);
    assert_false(label_selector_empty(sel));
    label_selector_free(sel);
    assert_true(label_selector_empty(NULL));
    assert_true(label_selector_matches(NULL, NULL));
}

#define QNAME_RE                                                                                   \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_RE                                                                                   \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static void test_label_errors(void **state)
{
    lerr("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    lerr("x=a b", "found 'b', expected: ',' or 'end of string'");
    lerr("x in a", "unable to parse requirement: found 'a' expected: '('");
    lerr(",", "found ',', expected: !, identifier, or 'end of string'");
    lerr("=a", "found '=', expected: !, identifier, or 'end of string'");
    lerr("x,", "found '', expected: identifier after ','");
    lerr("x,,y", "found ',', expected: identifier after ','");
    lerr("x in (a", "unable to parse requirement: found '', expected: ',' or ')'");
    lerr("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'");
    lerr("x in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier");
    lerr("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier");
    lerr("x = =", "unable to parse requirement: found '=', expected: identifier");
    lerr("!x=a", "found '=', expected: ',' or 'end of string'");
    lerr("!", "unable to parse requirement: found '', expected: identifier");
    lerr("x>a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' "
                "operators, the value must be an integer");
    lerr("x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " VALUE_RE);
    lerr("x_=a", "unable to parse requirement: <nil>: Invalid value: \"x_\": name part " QNAME_RE);
    lerr("x=a_", "unable to parse requirement: values[0][x]: Invalid value: \"a_\": " VALUE_RE);
    lerr("x in (a_,b_)",
         "unable to parse requirement: [values[0][x]: Invalid value: \"a_\": " VALUE_RE
         ", values[1][x]: Invalid value: \"b_\": " VALUE_RE "]");
    lerr("/x", "unable to parse requirement: <nil>: Invalid value: \"/x\": prefix part must be "
               "non-empty");
    lerr("a/b/c", NULL);
    lerr("Example.com/x", NULL);
    lerr("x=\"q\"",
         "unable to parse requirement: values[0][x]: Invalid value: \"\\\"q\\\"\": " VALUE_RE);
    lerr("x=\xff", NULL); /* message must stay ASCII */

    char v[80];
    memset(v, 'a', 64);
    v[64] = '\0';
    char sel[200];
    snprintf(sel, sizeof(sel), "x=%s", v);
    lerr(sel, "unable to parse requirement: values[0][x]: Invalid value: \"aaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": must be no more than 63 characters");
    snprintf(sel, sizeof(sel), "%s", v);
    lerr(sel, NULL);
    v[63] = '\0';
    snprintf(sel, sizeof(sel), "%s=%s", v, v);
    assert_true(lmatch(sel, "{}") == false);

    /* the error message is valid JSON text even for binary input */
    struct label_selector *ls = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(label_selector_parse("x=\x01\xc3(", &ls, &err), -EINVAL);
    json_t *st = json_string(err->message);
    assert_non_null(st);
    json_decref(st);
    kos_error_free(err);
}

static void test_label_limits(void **state)
{
    size_t n = KOS_SELECTOR_MAX_LEN + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    lerr(big, NULL);

    /* 1001 requirements */
    size_t pos = 0;
    for (int i = 0; i <= KOS_SELECTOR_MAX_REQUIREMENTS; i++) {
        big[pos++] = 'a';
        big[pos++] = ',';
    }
    big[pos - 1] = '\0';
    lerr(big, "too many requirements in selector: at most 1000");
    /* exactly 1000 is fine */
    big[pos - 3] = '\0';
    assert_true(lmatch(big, "{\"a\":\"1\"}"));

    /* 1001 values in one set */
    pos = 0;
    memcpy(big, "x in (", 6);
    pos = 6;
    for (int i = 0; i <= KOS_SELECTOR_MAX_VALUES; i++) {
        big[pos++] = 'v';
        big[pos++] = ',';
    }
    big[pos - 1] = ')';
    big[pos] = '\0';
    lerr(big, "unable to parse requirement: too many values in a set: at most 1000");
    free(big);
}

static int from_json(const char *text, struct label_selector **ret, struct kos_error **err)
{
    _cleanup_json_ json_t *j = text ? J(text) : NULL;
    return label_selector_from_json(j, ret, err);
}

static void test_label_from_json(void **state)
{
    struct label_selector *sel = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(from_json(NULL, &sel, &err), 0);
    assert_true(label_selector_empty(sel));
    label_selector_free(sel);
    assert_int_equal(from_json("{}", &sel, &err), 0);
    assert_true(label_selector_matches(sel, NULL));
    label_selector_free(sel);

    assert_int_equal(
        from_json("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                  "{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"fe\",\"be\",\"fe\"]},"
                  "{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]},"
                  "{\"key\":\"x\",\"operator\":\"DoesNotExist\"},"
                  "{\"key\":\"y\",\"operator\":\"Exists\",\"values\":[]}]}",
                  &sel, &err),
        0);
    _cleanup_json_ json_t *l1 = J("{\"app\":\"web\",\"tier\":\"be\",\"y\":\"\"}");
    _cleanup_json_ json_t *l2 = J("{\"app\":\"web\",\"tier\":\"be\",\"y\":\"\",\"x\":\"1\"}");
    _cleanup_json_ json_t *l3 = J("{\"app\":\"web\",\"tier\":\"be\",\"y\":\"\",\"env\":\"prod\"}");
    _cleanup_json_ json_t *l4 = J("{\"app\":\"web\",\"tier\":\"be\"}");
    assert_true(label_selector_matches(sel, l1));
    assert_false(label_selector_matches(sel, l2));
    assert_false(label_selector_matches(sel, l3));
    assert_false(label_selector_matches(sel, l4));
    label_selector_free(sel);

    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\"}]}",
         "\"Foo\" is not a valid label selector operator"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}",
         "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be "
         "empty"},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"b\"]}]}",
         "values: Invalid value: []string{\"b\"}: values set must be empty for exists and does "
         "not exist"},
        {"{\"matchLabels\":{\"a_\":\"b\"}}", "key: Invalid value: \"a_\": name part " QNAME_RE},
        {"{\"matchLabels\":{\"a\":\"b_\"}}", "values[0][a]: Invalid value: \"b_\": " VALUE_RE},
        {"{\"matchLabels\":{\"a\":1}}", NULL},
        {"{\"matchLabels\":[]}", NULL},
        {"{\"matchExpressions\":{}}", NULL},
        {"{\"matchExpressions\":[1]}", NULL},
        {"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[1]}]}", NULL},
        {"[]", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sel = (struct label_selector *)0x1;
        err = NULL;
        assert_int_equal(from_json(bad[i].json, &sel, &err), -EINVAL);
        assert_ptr_equal(sel, (struct label_selector *)0x1);
        assert_non_null(err);
        assert_int_equal(err->code, 400);
        if (bad[i].msg && strcmp(err->message, bad[i].msg) != 0)
            print_error("got: %s\nwant: %s\n", err->message, bad[i].msg);
        if (bad[i].msg)
            assert_string_equal(err->message, bad[i].msg);
        kos_error_free(err);
    }
}

static const char *pod_json =
    "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns\"},"
    "\"spec\":{\"nodeName\":\"n1\",\"restartPolicy\":\"Always\"},"
    "\"status\":{\"phase\":\"Running\",\"podIPs\":[{\"ip\":\"10.0.0.1\"}]}}";

static bool fmatch(const char *s, const char *obj)
{
    struct field_selector *sel = NULL;
    struct kos_error *err = NULL;
    int r = field_selector_parse(s, &sel, &err);
    if (r != 0)
        print_error("parse \"%s\": %s\n", s, err && err->message ? err->message : "?");
    assert_int_equal(r, 0);
    _cleanup_json_ json_t *o = J(obj);
    bool m = field_selector_matches(sel, o);
    field_selector_free(sel);
    return m;
}

static void ferr(const char *s, const char *want)
{
    struct field_selector *sel = (struct field_selector *)0x1;
    struct kos_error *err = NULL;
    assert_int_equal(field_selector_parse(s, &sel, &err), -EINVAL);
    assert_ptr_equal(sel, (struct field_selector *)0x1);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    if (want && strcmp(err->message, want) != 0)
        print_error("\"%s\":\n got: %s\nwant: %s\n", s, err->message, want);
    if (want)
        assert_string_equal(err->message, want);
    kos_error_free(err);
}

static void test_field_match(void **state)
{
    assert_true(fmatch("", pod_json));
    assert_true(fmatch(",", pod_json));
    assert_true(fmatch("metadata.name=p1", pod_json));
    assert_true(fmatch("metadata.name==p1", pod_json));
    assert_false(fmatch("metadata.name!=p1", pod_json));
    assert_true(fmatch("metadata.name=p1,metadata.namespace=ns", pod_json));
    assert_false(fmatch("metadata.name=p1,metadata.namespace=other", pod_json));
    assert_true(fmatch("spec.nodeName=n1,status.phase!=Failed", pod_json));
    assert_true(fmatch("spec.schedulerName=", pod_json)); /* missing compares as "" */
    assert_false(fmatch("spec.nodeName=", pod_json));
    assert_true(fmatch("spec.host=n1", pod_json));
    assert_true(fmatch("spec.hostNetwork=false", pod_json)); /* kube's default */
    assert_true(fmatch("spec.hostNetwork=true", "{\"spec\":{\"hostNetwork\":true}}"));
    assert_true(fmatch("status.podIP=10.0.0.1", pod_json));
    assert_true(fmatch("status.replicas=3", "{\"status\":{\"replicas\":3}}"));
    assert_true(fmatch("status.replicas=0", "{\"status\":{}}"));
    assert_true(fmatch("spec.unschedulable=false", "{\"spec\":{}}"));
    assert_true(fmatch("source=kubelet", "{\"source\":{\"component\":\"kubelet\"}}"));
    assert_true(fmatch("source=ctrl", "{\"reportingComponent\":\"ctrl\"}"));
    assert_true(fmatch("metadata=", pod_json)); /* an object is not a value */
    assert_true(fmatch("metadata.name=a\\,b", "{\"metadata\":{\"name\":\"a,b\"}}"));
    assert_true(fmatch("metadata.name=a\\=b\\\\", "{\"metadata\":{\"name\":\"a=b\\\\\"}}"));
    assert_true(fmatch("a.b.c=x", "{\"a\":{\"b\":{\"c\":\"x\"}}}"));
    assert_true(fmatch("a b=x y", "{\"a b\":\"x y\"}")); /* no trimming, like kube */
    assert_true(fmatch("a=b!c", "{\"a\":\"b!c\"}"));
    assert_true(fmatch("a==!c", "{\"a\":\"!c\"}")); /* "==" wins over "=" */
}

static void test_field_errors(void **state)
{
    ferr("foo", "invalid selector: 'foo'; can't understand 'foo'");
    ferr("a=b,foo", "invalid selector: 'a=b,foo'; can't understand 'foo'");
    ferr("a=b\\x", "invalid field selector: invalid escape sequence: \\x");
    ferr("a=b\\", "invalid field selector: invalid escape sequence: \\");
    ferr("a=b=c", "invalid field selector: unescaped character in value: =");
    ferr("a=b!=c", "invalid field selector: unescaped character in value: =");
    ferr("a!=b=c", "invalid field selector: unescaped character in value: =");

    size_t n = KOS_SELECTOR_MAX_LEN + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    ferr(big, NULL);
    size_t pos = 0;
    for (int i = 0; i <= KOS_SELECTOR_MAX_REQUIREMENTS; i++) {
        memcpy(big + pos, "a=b,", 4);
        pos += 4;
    }
    big[pos - 1] = '\0';
    ferr(big, "too many requirements in selector: at most 1000");
    free(big);
}

static void test_field_required_value(void **state)
{
    struct field_selector *sel = NULL;
    assert_int_equal(
        field_selector_parse("metadata.name=x,metadata.namespace!=y,spec.host=n", &sel, NULL), 0);
    assert_false(field_selector_empty(sel));
    assert_string_equal(field_selector_required_value(sel, "metadata.name"), "x");
    assert_null(field_selector_required_value(sel, "metadata.namespace"));
    assert_string_equal(field_selector_required_value(sel, "spec.nodeName"), "n");
    assert_null(field_selector_required_value(sel, "status.phase"));
    field_selector_free(sel);
    assert_int_equal(field_selector_parse("", &sel, NULL), 0);
    assert_true(field_selector_empty(sel));
    field_selector_free(sel);
    assert_true(field_selector_empty(NULL));
}

static void supported(const char *s, const char *kind, const char *want)
{
    struct field_selector *sel = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(field_selector_parse(s, &sel, NULL), 0);
    int r = field_selector_check_supported(sel, kind, &err);
    if (!want) {
        assert_int_equal(r, 0);
        assert_null(err);
    } else {
        assert_int_equal(r, -EINVAL);
        assert_non_null(err);
        assert_int_equal(err->code, 400);
        assert_string_equal(err->message, want);
    }
    kos_error_free(err);
    field_selector_free(sel);
}

static void test_field_supported(void **state)
{
    supported("metadata.name=a,metadata.namespace=b,spec.nodeName=n,status.phase=Running,"
              "spec.restartPolicy=Always,spec.schedulerName=s,spec.serviceAccountName=x,"
              "spec.hostNetwork=true,status.podIP=1,status.nominatedNodeName=n",
              "Pod", NULL);
    supported("spec.foo=1", "Pod", "field label not supported: spec.foo");
    supported("spec.unschedulable=true,metadata.name=n", "Node", NULL);
    supported("metadata.namespace=x", "Node", "field label not supported: metadata.namespace");
    supported("involvedObject.kind=Pod,involvedObject.uid=u,reason=r,source=s,type=Normal,"
              "reportingComponent=c,involvedObject.fieldPath=f",
              "Event", NULL);
    supported("type=Opaque", "Secret", NULL);
    supported("status.phase=Active", "Namespace", NULL);
    supported("status.replicas=1", "ReplicaSet", NULL);
    supported("status.replicas=1", "ReplicationController", NULL);
    supported("spec.clusterIP=None,spec.type=ClusterIP", "Service", NULL);
    supported("status.successful=1", "Job", NULL);
    supported("metadata.name=a,metadata.namespace=b", "ConfigMap", NULL);
    supported("data.x=1", "ConfigMap",
              "\"data.x\" is not a known field selector: only \"metadata.name\", "
              "\"metadata.namespace\"");
    supported("", "Pod", NULL);
    assert_int_equal(field_selector_check_supported(NULL, "Pod", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_operators), cmocka_unit_test(test_label_empty),
        cmocka_unit_test(test_label_errors),    cmocka_unit_test(test_label_limits),
        cmocka_unit_test(test_label_from_json), cmocka_unit_test(test_field_match),
        cmocka_unit_test(test_field_errors),    cmocka_unit_test(test_field_required_value),
        cmocka_unit_test(test_field_supported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* PATCH semantics: RFC 6902, RFC 7386 and strategic merge patch (and the dispatch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/patch.h"
#include "json_test_helpers.h"
#include "util/json_cleanup.h"

static const struct kos_kind pod_kind = {
    .group = "", .version = "v1", .kind = "Pod", .plural = "pods", .namespaced = true};
static const struct kos_kind svc_kind = {
    .group = "", .version = "v1", .kind = "Service", .plural = "services", .namespaced = true};
static const struct kos_kind deploy_kind = {.group = "apps",
                                            .version = "v1",
                                            .kind = "Deployment",
                                            .plural = "deployments",
                                            .namespaced = true};
static const struct kos_kind cronjob_kind = {
    .group = "batch", .version = "v1", .kind = "CronJob", .plural = "cronjobs", .namespaced = true};

/* Runs fn-style patch through the dispatcher, checks the result and that the inputs were
 * left alone. */
static void check(enum patch_type type, const struct kos_kind *kind, const char *orig_s,
                  const char *patch_s, const char *want_s)
{
    _cleanup_json_ json_t *orig = parse(orig_s);
    _cleanup_json_ json_t *patch = parse(patch_s);
    _cleanup_json_ json_t *orig_before = json_deep_copy(orig);
    _cleanup_json_ json_t *patch_before = json_deep_copy(patch);
    _cleanup_json_ json_t *res = NULL;
    _cleanup_error_ struct kos_error *err = NULL;
    int rc = kos_patch_apply(type, kind, orig, patch, &res, &err);
    if (rc < 0)
        fail_msg("patch failed: %d %s", err ? err->code : 0, err ? err->message : "");
    expect_json(res, want_s);
    assert_true(json_equal(orig, orig_before));
    assert_true(json_equal(patch, patch_before));
}

static void check_err(enum patch_type type, const struct kos_kind *kind, const char *orig_s,
                      const char *patch_s, int code, const char *msg_part)
{
    _cleanup_json_ json_t *orig = parse(orig_s);
    _cleanup_json_ json_t *patch = parse(patch_s);
    json_t *res = NULL;
    _cleanup_error_ struct kos_error *err = NULL;
    int rc = kos_patch_apply(type, kind, orig, patch, &res, &err);
    assert_true(rc < 0);
    assert_null(res);
    assert_non_null(err);
    if (err->code != code)
        fail_msg("code %d (%s), want %d", err->code, err->message, code);
    if (msg_part && !strstr(err->message, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err->message, msg_part);
}

/* ---- RFC 6902 ------------------------------------------------------------------------- */

static void test_rfc6902_appendix_a(void **state)
{
    check(PATCH_JSON, NULL, "{\"foo\":\"bar\"}",
          "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
          "{\"baz\":\"qux\",\"foo\":\"bar\"}"); /* A.1 */
    check(PATCH_JSON, NULL, "{\"foo\":[\"bar\",\"baz\"]}",
          "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
          "{\"foo\":[\"bar\",\"qux\",\"baz\"]}"); /* A.2 */
    check(PATCH_JSON, NULL, "{\"baz\":\"qux\",\"foo\":\"bar\"}",
          "[{\"op\":\"remove\",\"path\":\"/baz\"}]", "{\"foo\":\"bar\"}"); /* A.3 */
    check(PATCH_JSON, NULL, "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
          "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}"); /* A.4 */
    check(PATCH_JSON, NULL, "{\"baz\":\"qux\",\"foo\":\"bar\"}",
          "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
          "{\"baz\":\"boo\",\"foo\":\"bar\"}"); /* A.5 */
    check(PATCH_JSON, NULL,
          "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
          "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
          "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}"); /* A.6 */
    check(PATCH_JSON, NULL, "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
          "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
          "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}"); /* A.7 */
    check(PATCH_JSON, NULL, "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
          "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
          "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
          "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}"); /* A.8 */
    check_err(PATCH_JSON, NULL, "{\"baz\":\"qux\"}",
              "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]", 422,
              "testing value /baz failed"); /* A.9 */
    check(PATCH_JSON, NULL, "{\"foo\":\"bar\"}",
          "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
          "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}"); /* A.10 */
    check(PATCH_JSON, NULL, "{\"foo\":\"bar\"}",
          "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
          "{\"foo\":\"bar\",\"baz\":\"qux\"}"); /* A.11 */
    check_err(PATCH_JSON, NULL, "{\"foo\":\"bar\"}",
              "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]", 422,
              "add operation does not apply: doc is missing path: \"/baz/bat\""); /* A.12 */
    check(PATCH_JSON, NULL, "{\"/\":9,\"~1\":10}",
          "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]", "{\"/\":9,\"~1\":10}"); /* A.14 */
    check_err(PATCH_JSON, NULL, "{\"/\":9,\"~1\":10}",
              "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]", 422, NULL); /* A.15 */
    check(PATCH_JSON, NULL, "{\"foo\":[\"bar\"]}",
          "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
          "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}"); /* A.16 */
}

static void test_json_patch_more(void **state)
{
    /* ~1 is "/" and ~0 is "~" */
    check(PATCH_JSON, NULL, "{\"metadata\":{\"labels\":{\"a/b\":\"1\",\"c~d\":\"2\"}}}",
          "[{\"op\":\"remove\",\"path\":\"/metadata/labels/a~1b\"},"
          "{\"op\":\"replace\",\"path\":\"/metadata/labels/c~0d\",\"value\":\"3\"}]",
          "{\"metadata\":{\"labels\":{\"c~d\":\"3\"}}}");
    /* copy deep-copies, add at index == size appends, add replaces an existing member */
    check(PATCH_JSON, NULL, "{\"a\":{\"x\":[1]},\"l\":[1,2]}",
          "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
          "{\"op\":\"add\",\"path\":\"/b/x/-\",\"value\":2},"
          "{\"op\":\"add\",\"path\":\"/l/2\",\"value\":3},"
          "{\"op\":\"add\",\"path\":\"/a\",\"value\":0}]",
          "{\"a\":0,\"b\":{\"x\":[1,2]},\"l\":[1,2,3]}");
    /* kubectl patch --type json label add */
    check(PATCH_JSON, &pod_kind, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"}}}",
          "[{\"op\":\"add\",\"path\":\"/metadata/labels/c\",\"value\":\"d\"}]",
          "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\",\"c\":\"d\"}}}");
    /* the whole document */
    check(PATCH_JSON, NULL, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]",
          "{\"b\":2}");
    check(PATCH_JSON, NULL, "{\"a\":1}", "[]", "{\"a\":1}");

    /* operations that do not apply: 422 */
    check_err(PATCH_JSON, NULL, "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", 422,
              "Unable to remove nonexistent key: b");
    check_err(PATCH_JSON, NULL, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]",
              422, "replace operation does not apply: doc is missing key: /b");
    check_err(PATCH_JSON, NULL, "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/2\",\"value\":1}]",
              422, "invalid index");
    check_err(PATCH_JSON, NULL, "{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/01\",\"value\":1}]",
              422, NULL);
    check_err(PATCH_JSON, NULL, "{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/1\"}]", 422,
              NULL);
    check_err(PATCH_JSON, NULL, "{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/-1\"}]", 422,
              NULL);
    check_err(PATCH_JSON, NULL, "{\"a\":{\"b\":1}}",
              "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b/c\"}]", 422, NULL);
    check_err(PATCH_JSON, NULL, "{\"a\":1}", "[{\"op\":\"copy\",\"from\":\"/x\",\"path\":\"/y\"}]",
              422, "copy operation does not apply: doc is missing from path: /x");
    /* atomic: a later failure leaves nothing applied (the input is untouched) */
    check_err(PATCH_JSON, NULL, "{\"a\":1}",
              "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"test\",\"path\":\"/a\","
              "\"value\":2}]",
              422, NULL);
    /* the result of a patch of a kind's object must be an object */
    check_err(PATCH_JSON, &pod_kind, "{\"a\":1}",
              "[{\"op\":\"replace\",\"path\":\"\",\"value\":[1]}]", 422, NULL);

    /* malformed patch documents: 400 */
    check_err(PATCH_JSON, NULL, "{}", "{\"op\":\"add\"}", 400, "cannot unmarshal object");
    check_err(PATCH_JSON, NULL, "{}", "[{\"path\":\"/a\",\"value\":1}]", 400, "\"op\"");
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", 400,
              "Unexpected kind: frob");
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"add\",\"value\":1}]", 400, "\"path\"");
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"add\",\"path\":\"/a\"}]", 400, "\"value\"");
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"move\",\"path\":\"/a\"}]", 400, "\"from\"");
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]", 400, NULL);
    check_err(PATCH_JSON, NULL, "{}", "[{\"op\":\"add\",\"path\":\"/a~2\",\"value\":1}]", 400,
              NULL);
    check_err(PATCH_JSON, NULL, "{}", "[1]", 400, NULL);
}

static void test_json_patch_limits(void **state)
{
    /* more than 10000 operations: 413 */
    _cleanup_json_ json_t *ops = json_array();
    for (int i = 0; i <= KOS_JSON_PATCH_MAX_OPS; i++)
        json_array_append_new(ops,
                              json_pack("{s:s,s:s,s:i}", "op", "add", "path", "/a", "value", i));
    _cleanup_json_ json_t *doc = json_object();
    json_t *res = NULL;
    _cleanup_error_ struct kos_error *err = NULL;
    assert_true(kos_patch_apply(PATCH_JSON, NULL, doc, ops, &res, &err) < 0);
    assert_int_equal(err->code, 413);

    /* copy amplification and nesting are bounded */
    _cleanup_json_ json_t *copies = json_array();
    json_array_append_new(
        copies, json_pack("{s:s,s:s,s:[i,i,i,i]}", "op", "add", "path", "/a", "value", 1, 2, 3, 4));
    for (int i = 0; i < 40; i++)
        json_array_append_new(
            copies, json_pack("{s:s,s:s,s:s}", "op", "copy", "from", "/a", "path", "/a/-"));
    kos_error_free(err);
    err = NULL;
    assert_true(kos_patch_apply(PATCH_JSON, NULL, doc, copies, &res, &err) < 0);
    assert_int_equal(err->code, 422);
    assert_null(res);
}

/* ---- RFC 7386 ------------------------------------------------------------------------- */

static void merge_case(const char *target_s, const char *patch_s, const char *want_s)
{
    _cleanup_json_ json_t *target = parse(target_s);
    _cleanup_json_ json_t *patch = parse(patch_s);
    _cleanup_json_ json_t *res = NULL;
    assert_int_equal(kos_json_merge_patch(target, patch, &res, NULL), 0);
    expect_json(res, want_s);
}

static void test_rfc7386_appendix(void **state)
{
    merge_case("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    merge_case("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    merge_case("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    merge_case("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    merge_case("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    merge_case("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    merge_case("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
               "{\"a\":{\"b\":\"d\"}}");
    merge_case("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    merge_case("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    merge_case("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    merge_case("{\"a\":\"foo\"}", "null", "null");
    merge_case("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    merge_case("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    merge_case("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    merge_case("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

static void test_merge_patch_dispatch(void **state)
{
    /* kubectl label / annotate */
    check(
        PATCH_MERGE, &pod_kind, "{\"metadata\":{\"labels\":{\"app\":\"web\",\"env\":\"dev\"}}}",
        "{\"metadata\":{\"labels\":{\"env\":null,\"tier\":\"fe\"},\"annotations\":{\"n\":\"hi\"}}}",
        "{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":\"fe\"},\"annotations\":{\"n\":\"hi\"}"
        "}}");
    /* merge patch replaces lists: containers lose unspecified fields */
    check(PATCH_MERGE, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\",\"ports\":[{"
          "\"containerPort\":80}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"y\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"y\"}]}}");
    check_err(PATCH_MERGE, &pod_kind, "{}", "null", 400, "Invalid JSON Patch");
    check_err(PATCH_MERGE, &pod_kind, "{}", "\"x\"", 400, NULL);
    check_err(PATCH_MERGE, &pod_kind, "{}", "[1]", 422, NULL);
}

/* ---- strategic merge patch -------------------------------------------------------------- */

#define POD                                                                                        \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":"  \
    "\"web\",\"tier\":\"fe\"},\"finalizers\":[\"a\",\"b\"]},\"spec\":{\"containers\":["            \
    "{\"name\":\"nginx\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80,\"name\":"      \
    "\"http\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},"     \
    "{\"name\":\"side\",\"image\":\"busybox\"}],\"tolerations\":[{\"key\":\"k1\"}]}}"

static void test_smp_containers_by_name(void **state)
{
    check(
        PATCH_STRATEGIC, &pod_kind, POD,
        "{\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.26\"}]}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{"
        "\"app\":\"web\",\"tier\":\"fe\"},\"finalizers\":[\"a\",\"b\"]},\"spec\":{\"containers\":["
        "{\"name\":\"nginx\",\"image\":\"nginx:1.26\",\"ports\":[{\"containerPort\":80,\"name\":"
        "\"http\"}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]},"
        "{\"name\":\"side\",\"image\":\"busybox\"}],\"tolerations\":[{\"key\":\"k1\"}]}}");
    /* env merges by name inside the container; a new item goes first, as in kube */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
          "{\"name\":\"B\",\"value\":\"2\"}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"B\",\"value\":\"3\"},"
          "{\"name\":\"C\",\"value\":\"4\"}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},"
          "{\"name\":\"B\",\"value\":\"3\"},{\"name\":\"C\",\"value\":\"4\"}]}]}}");
    /* a new container is added (before the live ones) */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"y\"},{\"name\":\"a\",\"image\":"
          "\"x\"}]}}");
}

static void test_smp_kubectl_apply_second_patch(void **state)
{
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"metadata\":{\"name\":\"web\",\"annotations\":{\"kubectl.kubernetes.io/"
          "last-applied-configuration\":\"old\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
          "\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}],\"resources\":{}}]},"
          "\"status\":{\"phase\":\"Running\"}}",
          "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
          "\"new\"}},\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"nginx\"}],"
          "\"containers\":[{\"image\":\"nginx:1.26\",\"name\":\"nginx\"}]}}",
          "{\"metadata\":{\"name\":\"web\",\"annotations\":{\"kubectl.kubernetes.io/"
          "last-applied-configuration\":\"new\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
          "\"image\":\"nginx:1.26\",\"ports\":[{\"containerPort\":80}],\"resources\":{}}]},"
          "\"status\":{\"phase\":\"Running\"}}");
}

static void test_smp_set_element_order(void **state)
{
    const char *orig = "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":"
                       "\"c\",\"image\":\"i\"}]}}";
    /* order only */
    check(PATCH_STRATEGIC, &pod_kind, orig,
          "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
          "{\"name\":\"b\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"},{\"name\":\"a\"},{\"name\":"
          "\"b\"}]}}");
    /* order + change + deletion (kubectl edit) */
    check(PATCH_STRATEGIC, &pod_kind, orig,
          "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"}],"
          "\"containers\":[{\"name\":\"c\",\"image\":\"j\"},{\"name\":\"b\",\"$patch\":"
          "\"delete\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"j\"},{\"name\":\"a\"}]}}");
    /* primitive list order */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"finalizers\":[\"x\",\"y\",\"z\"]}}",
          "{\"metadata\":{\"$setElementOrder/finalizers\":[\"z\",\"x\",\"y\"]}}",
          "{\"metadata\":{\"finalizers\":[\"z\",\"x\",\"y\"]}}");
    /* inconsistent with the patch list: 400 */
    check_err(PATCH_STRATEGIC, &pod_kind, orig,
              "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"a\"},{\"name\":\"c\"}],"
              "\"containers\":[{\"name\":\"c\"},{\"name\":\"a\"}]}}",
              400, NULL);
}

static void test_smp_patch_directives(void **state)
{
    /* $patch: delete of a list item */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"$patch\":\"delete\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}");
    /* $patch: replace on a map */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
          "{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
          "{\"metadata\":{\"labels\":{\"c\":\"3\"}}}");
    /* $patch: replace on a list */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\"}]}}",
          "{\"spec\":{\"containers\":[{\"$patch\":\"replace\"},{\"name\":\"c\"}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    /* $patch: delete on a map empties it */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"labels\":{\"a\":\"1\"}}}",
          "{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}", "{\"metadata\":{\"labels\":{}}}");
    /* $patch: merge is the default */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"labels\":{\"a\":\"1\"}}}",
          "{\"metadata\":{\"labels\":{\"$patch\":\"merge\",\"b\":\"2\"}}}",
          "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}");
    /* directives inside values the live object lacks are applied, never stored */
    check(PATCH_STRATEGIC, &pod_kind, "{\"spec\":{}}",
          "{\"spec\":{\"initContainers\":[{\"name\":\"x\",\"$patch\":\"delete\"},{\"name\":\"i\","
          "\"env\":[{\"$patch\":\"replace\"}],\"$retainKeys\":[\"name\",\"env\"]}],"
          "\"$setElementOrder/volumes\":[{\"name\":\"v\"}]}}",
          "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"env\":[]}]}}");
    check_err(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{}}",
              "{\"metadata\":{\"$patch\":\"frob\"}}", 400, "unknown patch type");
    check_err(PATCH_STRATEGIC, &pod_kind, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
              "{\"spec\":{\"containers\":[{\"$patch\":\"delete\"}]}}", 422,
              "does not contain declared merge key: name");
    check_err(PATCH_STRATEGIC, &pod_kind, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
              "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", 422, "merge key");
}

static void test_smp_primitive_lists(void **state)
{
    /* finalizers are a set: union, patch order, live-only items by live position */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
          "{\"metadata\":{\"finalizers\":[\"b\",\"c\"]}}",
          "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}");
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
          "{\"metadata\":{\"finalizers\":[\"c\"]}}",
          "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}");
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
          "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\",\"zz\"]}}",
          "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
    /* deleting from an absent list does nothing */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{}}",
          "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}", "{\"metadata\":{}}");
    /* a list of primitives without merge strategy is replaced (container args) */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"1\",\"2\"]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"a\",\"args\":[\"3\"]}]}}");
}

static void test_smp_retain_keys(void **state)
{
    check(
        PATCH_STRATEGIC, &deploy_kind,
        "{\"spec\":{\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":1}}}}",
        "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
        "{\"spec\":{\"strategy\":{\"type\":\"Recreate\"}}}");
    /* volumes: merge by name with retainKeys switching the volume source */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}},{\"name\":\"w\",\"emptyDir\":"
          "{}}]}}",
          "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"$retainKeys\":[\"hostPath\",\"name\"],"
          "\"hostPath\":{\"path\":\"/x\"}}]}}",
          "{\"spec\":{\"volumes\":[{\"name\":\"v\",\"hostPath\":{\"path\":\"/x\"}},{\"name\":\"w\","
          "\"emptyDir\":{}}]}}");
    check_err(PATCH_STRATEGIC, &deploy_kind, "{\"spec\":{\"strategy\":{}}}",
              "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":{}}}}", 400,
              "retainKeys");
    check_err(PATCH_STRATEGIC, &deploy_kind, "{\"spec\":{\"strategy\":{}}}",
              "{\"spec\":{\"strategy\":{\"$retainKeys\":\"type\"}}}", 400, "retainKeys");
}

static void test_smp_nulls_and_maps(void **state)
{
    /* label removal with null, other labels kept; nulls in new maps are dropped */
    check(PATCH_STRATEGIC, &pod_kind, "{\"metadata\":{\"labels\":{\"app\":\"web\",\"x\":\"y\"}}}",
          "{\"metadata\":{\"labels\":{\"app\":null,\"gone\":null},\"annotations\":{\"a\":\"1\","
          "\"b\":null}}}",
          "{\"metadata\":{\"labels\":{\"x\":\"y\"},\"annotations\":{\"a\":\"1\"}}}");
    /* a value of another type replaces; kubectl rollout restart */
    check(
        PATCH_STRATEGIC, &deploy_kind,
        "{\"spec\":{\"replicas\":1,\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}}}}}",
        "{\"spec\":{\"replicas\":{\"x\":1},\"template\":{\"metadata\":{\"annotations\":{"
        "\"kubectl.kubernetes.io/restartedAt\":\"now\"}}}}}",
        "{\"spec\":{\"replicas\":{\"x\":1},\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"},"
        "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"now\"}}}}}");
    /* lists without a merge key are replaced (tolerations) */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"tolerations\":[{\"key\":\"a\"},{\"key\":\"b\"}]}}",
          "{\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}",
          "{\"spec\":{\"tolerations\":[{\"key\":\"c\"}]}}");
    /* $patch: replace of a whole object */
    check(PATCH_STRATEGIC, &pod_kind, "{\"a\":1,\"b\":2}", "{\"$patch\":\"replace\",\"c\":3}",
          "{\"c\":3}");
    check_err(PATCH_STRATEGIC, &pod_kind, "{}", "[1]", 400, NULL);
}

static void test_smp_ports(void **state)
{
    /* Service ports merge by port */
    check(PATCH_STRATEGIC, &svc_kind,
          "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080,\"name\":\"http\"},{\"port\":443,"
          "\"name\":\"https\"}]}}",
          "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}",
          "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090,\"name\":\"http\"},{\"port\":443,"
          "\"name\":\"https\"}]}}");
    /* container ports merge by containerPort */
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"name\":"
          "\"http\"}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,"
          "\"protocol\":\"TCP\"},{\"containerPort\":8080}]}]}}",
          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"name\":"
          "\"http\",\"protocol\":\"TCP\"},{\"containerPort\":8080}]}]}}");
}

static void test_smp_workload_templates(void **state)
{
    check(
        PATCH_STRATEGIC, &deploy_kind,
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\","
        "\"ports\":[{\"containerPort\":1}]},{\"name\":\"b\",\"image\":\"y\"}]}}}}",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"z\"}]}}}}",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"z\","
        "\"ports\":[{\"containerPort\":1}]},{\"name\":\"b\",\"image\":\"y\"}]}}}}");
    check(PATCH_STRATEGIC, &cronjob_kind,
          "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
          "\"a\",\"image\":\"x\",\"args\":[\"1\"]}]}}}}}}",
          "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
          "\"a\",\"image\":\"z\"}]}}}}}}",
          "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
          "\"a\",\"image\":\"z\",\"args\":[\"1\"]}]}}}}}}");
}

static void test_smp_meta_and_status(void **state)
{
    check(PATCH_STRATEGIC, &pod_kind,
          "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"},{\"uid\":\"2\","
          "\"name\":\"b\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},"
          "{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}",
          "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"2\",\"name\":\"bb\"}]},\"status\":{"
          "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
          "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"1\",\"name\":\"a\"},{\"uid\":\"2\","
          "\"name\":\"bb\"}]},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"},"
          "{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}");
}

static void test_apply_minimal(void **state)
{
    /* the applied configuration merges onto the live object; server-set fields stay */
    check(PATCH_APPLY, &pod_kind,
          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"uid\":\"u\"},"
          "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\","
          "\"imagePullPolicy\":\"IfNotPresent\"}]},\"status\":{\"phase\":\"Running\"}}",
          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"labels\":{"
          "\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.26\""
          "}]}}",
          "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"uid\":\"u\","
          "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
          "\"nginx:1.26\",\"imagePullPolicy\":\"IfNotPresent\"}]},\"status\":{\"phase\":"
          "\"Running\"}}");
    check(PATCH_APPLY, &pod_kind, "{}", "{\"metadata\":{\"name\":\"n\"}}",
          "{\"metadata\":{\"name\":\"n\"}}");
    check_err(PATCH_APPLY, &pod_kind, "{}", "[]", 400, NULL);
}

static void test_meta_lookup(void **state)
{
    struct kos_patch_meta m;
    kos_patch_meta_lookup(&pod_kind, "spec.containers", &m);
    assert_string_equal(m.merge_key, "name");
    kos_patch_meta_lookup(&deploy_kind, "spec.template.spec.initContainers.env", &m);
    assert_string_equal(m.merge_key, "name");
    kos_patch_meta_lookup(&pod_kind, "spec.ephemeralContainers.volumeMounts", &m);
    assert_string_equal(m.merge_key, "mountPath");
    kos_patch_meta_lookup(&svc_kind, "spec.ports", &m);
    assert_string_equal(m.merge_key, "port");
    kos_patch_meta_lookup(&pod_kind, "spec.ports", &m);
    assert_int_equal(m.strategy, 0);
    kos_patch_meta_lookup(&deploy_kind, "spec.template.metadata.finalizers", &m);
    assert_int_equal(m.strategy, KOS_PATCH_STRATEGY_MERGE);
    assert_null(m.merge_key);
    kos_patch_meta_lookup(&pod_kind, "spec.volumes", &m);
    assert_int_equal(m.strategy, KOS_PATCH_STRATEGY_MERGE | KOS_PATCH_STRATEGY_RETAIN_KEYS);
    kos_patch_meta_lookup(&pod_kind, "spec.tolerations", &m);
    assert_int_equal(m.strategy, 0);
    kos_patch_meta_lookup(NULL, "spec.taints", &m);
    assert_int_equal(m.strategy, 0);
    kos_patch_meta_lookup(NULL, "spec.finalizers", &m); /* Namespace: replaced */
    assert_int_equal(m.strategy, 0);
}

static void test_content_type(void **state)
{
    enum patch_type t;
    assert_int_equal(kos_patch_type_from_content_type("application/json-patch+json", &t), 0);
    assert_int_equal(t, PATCH_JSON);
    assert_int_equal(
        kos_patch_type_from_content_type("application/merge-patch+json; charset=utf-8", &t), 0);
    assert_int_equal(t, PATCH_MERGE);
    assert_int_equal(kos_patch_type_from_content_type("application/strategic-merge-patch+json", &t),
                     0);
    assert_int_equal(t, PATCH_STRATEGIC);
    assert_int_equal(kos_patch_type_from_content_type("application/apply-patch+yaml", &t), 0);
    assert_int_equal(t, PATCH_APPLY);
    assert_true(kos_patch_type_from_content_type("application/json", &t) < 0);
    assert_true(kos_patch_type_from_content_type(NULL, &t) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6902_appendix_a),
        cmocka_unit_test(test_json_patch_more),
        cmocka_unit_test(test_json_patch_limits),
        cmocka_unit_test(test_rfc7386_appendix),
        cmocka_unit_test(test_merge_patch_dispatch),
        cmocka_unit_test(test_smp_containers_by_name),
        cmocka_unit_test(test_smp_kubectl_apply_second_patch),
        cmocka_unit_test(test_smp_set_element_order),
        cmocka_unit_test(test_smp_patch_directives),
        cmocka_unit_test(test_smp_primitive_lists),
        cmocka_unit_test(test_smp_retain_keys),
        cmocka_unit_test(test_smp_nulls_and_maps),
        cmocka_unit_test(test_smp_ports),
        cmocka_unit_test(test_smp_workload_templates),
        cmocka_unit_test(test_smp_meta_and_status),
        cmocka_unit_test(test_apply_minimal),
        cmocka_unit_test(test_meta_lookup),
        cmocka_unit_test(test_content_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Server-side apply and managedFields: field sets of objects, set algebra, apply (create,
 * update, pruning, conflicts, force, shared ownership, keyed and atomic lists), Update entries
 * and the client-side apply upgrade, against kube-apiserver's behaviour. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/apply.h"
#include "api/apply_internal.h"
#include "api/managed_fields.h"
#include "codec/json.h"
#include "json_test_helpers.h"
#include "util/buf.h"
#include "util/json_cleanup.h"

#define T0   1700000000 /* 2023-11-14T22:13:20Z */
#define T0_S "2023-11-14T22:13:20Z"
#define T1   1700000100
#define T1_S "2023-11-14T22:15:00Z"

static const struct kos_kind *pod(void)
{
    const struct kos_kind *k = kos_kind_by_kind("", "Pod");
    assert_non_null(k);
    return k;
}

/* The fieldsV1 of the entry of (manager, operation), or NULL. */
static const json_t *fields_of(const json_t *obj, const char *manager, const char *op)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "managedFields"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "manager")), manager) == 0 &&
            strcmp(json_string_value(json_object_get(e, "operation")), op) == 0)
            return json_object_get(e, "fieldsV1");
    }
    return NULL;
}

static size_t entries(const json_t *obj)
{
    return json_array_size(json_object_get(json_object_get(obj, "metadata"), "managedFields"));
}

/* kos_apply that must succeed; returns the new object (which the caller frees). */
static json_t *apply_ok(const json_t *live, const char *manager, const char *config_s, bool force,
                        time_t now)
{
    struct kos_field_manager fm = {.kind = pod(), .manager = manager, .now = now};
    _cleanup_json_ json_t *config = parse(config_s);
    struct kos_error *err = NULL;
    json_t *out = NULL;
    int r = kos_apply(&fm, live, config, force, "web", "default", &out, &err);
    if (r < 0)
        fail_msg("apply failed: %d %s", r, err ? err->message : "");
    assert_null(err);
    return out;
}

static struct kos_error *apply_err(const json_t *live, const char *manager, const char *config_s,
                                   const char *name)
{
    struct kos_field_manager fm = {.kind = pod(), .manager = manager, .now = T1};
    _cleanup_json_ json_t *config = parse(config_s);
    struct kos_error *err = NULL;
    json_t *out = NULL;
    assert_true(kos_apply(&fm, live, config, false, name, "default", &out, &err) < 0);
    assert_null(out);
    assert_non_null(err);
    return err;
}

/* An Update write of next over live (NULL: a create) by manager. */
static json_t *update(const json_t *live, const char *manager, const char *next_s, time_t now)
{
    struct kos_field_manager fm = {.kind = pod(), .manager = manager, .now = now};
    json_t *next = parse(next_s);
    assert_int_equal(kos_managed_fields_update(&fm, live, next), 0);
    return next;
}

#define POD(labels, containers)                                                                    \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":"        \
    "\"default\",\"labels\":{" labels "}},\"spec\":{\"containers\":[" containers "]}}"
#define PODC(containers)                                                                           \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},\"spec\":{"           \
    "\"containers\":[" containers "]}}"
#define NGINX(image) "{\"name\":\"nginx\",\"image\":\"" image "\"}"

/* ---- field sets -------------------------------------------------------------------------- */

static void test_fieldset_of_pod(void **state)
{
    (void)state;
    _cleanup_json_ json_t *obj =
        parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
              "\"labels\":{\"app\":\"web\"},\"finalizers\":[\"x\"]},"
              "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\","
              "\"command\":[\"a\",\"b\"],\"ports\":[{\"containerPort\":80}],"
              "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"resources\":{}}],"
              "\"nodeSelector\":{\"disk\":\"ssd\"},\"securityContext\":{\"runAsUser\":1}}}");
    json_t *set = NULL;
    assert_int_equal(kos_fieldset_from_object(pod(), obj, 0, &set, NULL), 0);
    expect_json(set, "{\"f:apiVersion\":{},\"f:kind\":{},"
                     "\"f:metadata\":{\"f:name\":{},\"f:labels\":{\"f:app\":{}},"
                     "  \"f:finalizers\":{\"v:\\\"x\\\"\":{}}},"
                     "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{"
                     "  \".\":{},\"f:name\":{},\"f:image\":{},\"f:command\":{},\"f:resources\":{},"
                     "  \"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
                     "    {\".\":{},\"f:containerPort\":{}}},"
                     "  \"f:env\":{\"k:{\\\"name\\\":\\\"A\\\"}\":{\".\":{},\"f:name\":{},"
                     "    \"f:value\":{}}}}},"
                     " \"f:nodeSelector\":{\"f:disk\":{}},"
                     " \"f:securityContext\":{\"f:runAsUser\":{}}}}");
    /* sorted as fieldsV1 is written: "." first, field names before keys */
    _cleanup_json_ json_t *sorted = kos_fieldset_sorted(set);
    char *text = json_dumps(json_object_get(json_object_get(sorted, "f:spec"), "f:containers"),
                            JSON_COMPACT);
    assert_string_equal(text,
                        "{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:command\":{},"
                        "\"f:env\":{\"k:{\\\"name\\\":\\\"A\\\"}\":{\".\":{},\"f:name\":{},"
                        "\"f:value\":{}}},\"f:image\":{},\"f:name\":{},\"f:ports\":{"
                        "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":"
                        "{},\"f:containerPort\":{}}},\"f:resources\":{}}}");
    free(text);
    json_decref(set);

    /* an item without its key is refused when strict, skipped otherwise */
    _cleanup_json_ json_t *bad =
        parse("{\"spec\":{\"containers\":[{\"image\":\"x\"},{\"name\":\"b\"}]}}");
    struct kos_error *err = NULL;
    assert_true(kos_fieldset_from_object(pod(), bad, KOS_FIELDSET_STRICT, &set, &err) < 0);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->message,
                        ".spec.containers: element 0: associative list with keys has an element "
                        "that omits all key fields [\"name\"] (and doesn't have default values "
                        "for any key fields)");
    kos_error_free(err);
    assert_int_equal(kos_fieldset_from_object(pod(), bad, 0, &set, NULL), 0);
    expect_json(set, "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"b\\\"}\":{\".\":{},"
                     "\"f:name\":{}}}}}");
    json_decref(set);
}

static void test_fieldset_algebra(void **state)
{
    (void)state;
    _cleanup_json_ json_t *a = parse("{\"f:a\":{\".\":{},\"f:b\":{}},\"f:c\":{}}");
    _cleanup_json_ json_t *b = parse("{\"f:a\":{\"f:b\":{},\"f:d\":{}},\"f:e\":{}}");
    json_t *s;
    s = kos_fieldset_union(a, b);
    expect_json(s, "{\"f:a\":{\".\":{},\"f:b\":{},\"f:d\":{}},\"f:c\":{},\"f:e\":{}}");
    json_decref(s);
    s = kos_fieldset_intersection(a, b);
    expect_json(s, "{\"f:a\":{\"f:b\":{}}}");
    json_decref(s);
    s = kos_fieldset_difference(a, b); /* parent - child = parent */
    expect_json(s, "{\"f:a\":{},\"f:c\":{}}");
    json_decref(s);
    _cleanup_json_ json_t *member_a = parse("{\"f:a\":{}}");
    s = kos_fieldset_difference(a, member_a); /* the member goes, its children stay */
    expect_json(s, "{\"f:a\":{\"f:b\":{}},\"f:c\":{}}");
    json_decref(s);
    s = kos_fieldset_recursive_difference(a, member_a);
    expect_json(s, "{\"f:c\":{}}");
    json_decref(s);
    s = kos_fieldset_difference(a, a);
    assert_true(kos_fieldset_empty(s));
    json_decref(s);

    json_t *set = json_object();
    const char *p1[] = {"f:spec", "f:x"}, *p2[] = {"f:spec"};
    assert_int_equal(kos_fieldset_insert(set, p1, 2), 0);
    assert_true(kos_fieldset_has(set, p1, 2));
    assert_false(kos_fieldset_has(set, p2, 1));
    assert_int_equal(kos_fieldset_insert(set, p2, 1), 0);
    assert_true(kos_fieldset_has(set, p2, 1));
    expect_json(set, "{\"f:spec\":{\".\":{},\"f:x\":{}}}");
    json_decref(set);

    _cleanup_json_ json_t *raw = parse("{\"f:a\":{\".\":{}},\"f:b\":{\"f:c\":{\".\":{}}}}");
    assert_int_equal(kos_fieldset_validate(raw), 0);
    s = kos_fieldset_normalize(raw);
    expect_json(s, "{\"f:a\":{},\"f:b\":{\"f:c\":{}}}");
    json_decref(s);
    _cleanup_json_ json_t *bad1 = parse("{\"x:a\":{}}");
    _cleanup_json_ json_t *bad2 = parse("{\"k:[1]\":{}}");
    _cleanup_json_ json_t *bad3 = parse("{\"f:a\":1}");
    assert_int_equal(kos_fieldset_validate(bad1), -EINVAL);
    assert_int_equal(kos_fieldset_validate(bad2), -EINVAL);
    assert_int_equal(kos_fieldset_validate(bad3), -EINVAL);

    const char *path[] = {"f:spec",
                          "f:containers",
                          "k:{\"name\":\"nginx\"}",
                          "f:ports",
                          "k:{\"containerPort\":80,\"protocol\":\"TCP\"}",
                          "f:name"};
    char *str = kos_fieldset_path_string(path, 6);
    assert_string_equal(str, ".spec.containers[name=\"nginx\"].ports[containerPort=80,"
                             "protocol=\"TCP\"].name");
    free(str);
    const char *set_path[] = {"f:metadata", "f:finalizers", "v:\"a\\\"b\""};
    str = kos_fieldset_path_string(set_path, 3);
    assert_string_equal(str, ".metadata.finalizers[=\"a\\\"b\"]");
    free(str);
}

static void test_compare(void **state)
{
    (void)state;
    _cleanup_json_ json_t *l = parse(POD("\"app\":\"web\",\"old\":\"x\"", NGINX("a")));
    _cleanup_json_ json_t *r = parse(POD("\"app\":\"web2\",\"new\":\"y\"", NGINX("a")));
    struct kos_fieldset_diff d;
    assert_int_equal(kos_fieldset_compare(pod(), l, r, &d), 0);
    expect_json(d.modified, "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}}");
    expect_json(d.added, "{\"f:metadata\":{\"f:labels\":{\"f:new\":{}}}}");
    expect_json(d.removed, "{\"f:metadata\":{\"f:labels\":{\"f:old\":{}}}}");
    kos_fieldset_diff_clear(&d);
}

/* ---- apply --------------------------------------------------------------------------------- */

static void test_apply_create(void **state)
{
    (void)state;
    _cleanup_json_ json_t *obj =
        apply_ok(NULL, "kubectl", POD("\"app\":\"web\"", NGINX("nginx:1.25")), false, T0);
    expect_json(json_object_get(obj, "spec"),
                "{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.25\"}]}");
    expect_json(json_object_get(json_object_get(obj, "metadata"), "managedFields"),
                "[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"v1\","
                "\"time\":\"" T0_S "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
                "\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}}]");

    /* applying the same again changes nothing, not even the time */
    _cleanup_json_ json_t *again =
        apply_ok(obj, "kubectl", POD("\"app\":\"web\"", NGINX("nginx:1.25")), false, T1);
    assert_true(json_equal(obj, again));
}

static void test_apply_removes_dropped_fields(void **state)
{
    (void)state;
    _cleanup_json_ json_t *v1 =
        apply_ok(NULL, "kubectl",
                 POD("\"app\":\"web\",\"tier\":\"front\",\"team\":\"a\"", NGINX("n")), false, T0);
    /* someone else owns team too, by applying the same value: shared */
    _cleanup_json_ json_t *v2 =
        apply_ok(v1, "other",
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                 "\"labels\":{\"team\":\"a\"}}}",
                 false, T1);
    expect_json(fields_of(v2, "other", "Apply"), "{\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");
    /* and an Update adds a label of its own */
    _cleanup_json_ json_t *v3 = update(
        v2, "kubectl-label",
        POD("\"app\":\"web\",\"tier\":\"front\",\"team\":\"a\",\"x\":\"1\"", NGINX("n")), T1);
    /* the applier drops tier (gone), team (kept: shared) and does not know x (kept) */
    _cleanup_json_ json_t *v4 =
        apply_ok(v3, "kubectl", POD("\"app\":\"web\"", NGINX("n")), false, T1);
    expect_json(json_object_get(json_object_get(v4, "metadata"), "labels"),
                "{\"app\":\"web\",\"team\":\"a\",\"x\":\"1\"}");
    expect_json(fields_of(v4, "kubectl", "Apply"),
                "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}");
    /* entries: appliers first, then updates */
    json_t *mf = json_object_get(json_object_get(v4, "metadata"), "managedFields");
    assert_int_equal(json_array_size(mf), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(mf, 2), "operation")),
                        "Update");
}

static void test_apply_conflicts(void **state)
{
    (void)state;
    /* created by client-side apply: an Update by kubectl-client-side-apply */
    _cleanup_json_ json_t *live =
        update(NULL, "kubectl-client-side-apply", POD("\"app\":\"web\"", NGINX("nginx:1.25")), T0);
    expect_json(fields_of(live, "kubectl-client-side-apply", "Update"),
                "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}");
    struct kos_error *err =
        apply_err(live, "kubectl", POD("\"app\":\"web\"", NGINX("nginx:1.26")), "web");
    assert_int_equal(err->code, 409);
    assert_string_equal(err->reason, "Conflict");
    assert_string_equal(err->message, "Apply failed with 1 conflict: conflict with "
                                      "\"kubectl-client-side-apply\" using v1: "
                                      ".spec.containers[name=\"nginx\"].image");
    expect_json(err->details,
                "{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with "
                "\\\"kubectl-client-side-apply\\\" using v1\",\"field\":"
                "\".spec.containers[name=\\\"nginx\\\"].image\"}]}");
    kos_error_free(err);

    /* two managers: grouped by manager, in identifier order */
    _cleanup_json_ json_t *labelled = update(
        live, "kubectl-label", POD("\"app\":\"web\",\"team\":\"a\"", NGINX("nginx:1.25")), T1);
    err = apply_err(labelled, "kubectl", POD("\"app\":\"x\",\"team\":\"b\"", NGINX("nginx:1.26")),
                    "web");
    assert_string_equal(err->message, "Apply failed with 3 conflicts: conflicts with "
                                      "\"kubectl-client-side-apply\" using v1:\n"
                                      "- .metadata.labels.app\n"
                                      "- .spec.containers[name=\"nginx\"].image\n"
                                      "conflicts with \"kubectl-label\" using v1:\n"
                                      "- .metadata.labels.team");
    assert_int_equal(json_array_size(json_object_get(err->details, "causes")), 3);
    kos_error_free(err);

    /* force takes the fields */
    _cleanup_json_ json_t *forced = apply_ok(
        labelled, "kubectl", POD("\"app\":\"x\",\"team\":\"b\"", NGINX("nginx:1.26")), true, T1);
    expect_json(fields_of(forced, "kubectl-client-side-apply", "Update"),
                "{\"f:metadata\":{\"f:labels\":{}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:name\":{}}}}}");
    assert_null(fields_of(forced, "kubectl-label", "Update"));
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(forced, "spec"), "containers"), 0),
            "image")),
        "nginx:1.26");

    /* the same value is no conflict: ownership is shared */
    _cleanup_json_ json_t *shared = apply_ok(
        labelled, "kubectl", POD("\"app\":\"web\",\"team\":\"a\"", NGINX("nginx:1.25")), false, T1);
    expect_json(fields_of(shared, "kubectl-label", "Update"),
                "{\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");
    assert_non_null(fields_of(shared, "kubectl", "Apply"));
    /* nothing changed in the object: the applier's entry has no time */
    json_t *mf = json_object_get(json_object_get(shared, "metadata"), "managedFields");
    assert_null(json_object_get(json_array_get(mf, 0), "time"));
}

static void test_apply_keyed_and_atomic_lists(void **state)
{
    (void)state;
    _cleanup_json_ json_t *a = apply_ok(
        NULL, "m1", PODC("{\"name\":\"a\",\"image\":\"i\",\"command\":[\"x\",\"y\"]}"), false, T0);
    /* another manager adds its own container: granular ownership */
    _cleanup_json_ json_t *b =
        apply_ok(a, "m2", PODC("{\"name\":\"b\",\"image\":\"j\"}"), false, T1);
    json_t *cs = json_object_get(json_object_get(b, "spec"), "containers");
    assert_int_equal(json_array_size(cs), 2);
    expect_json(fields_of(b, "m2", "Apply"),
                "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"b\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}");
    /* m2 drops its container: only that one goes */
    _cleanup_json_ json_t *c = apply_ok(b, "m2",
                                        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
                                        "\"name\":\"web\",\"labels\":{\"m2\":\"1\"}}}",
                                        false, T1);
    cs = json_object_get(json_object_get(c, "spec"), "containers");
    assert_int_equal(json_array_size(cs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cs, 0), "name")), "a");
    /* command is atomic: another value conflicts as one field, force replaces it whole */
    const char *cmd = PODC("{\"name\":\"a\",\"command\":[\"z\"]}");
    struct kos_error *err = apply_err(c, "m3", cmd, "web");
    assert_string_equal(err->message, "Apply failed with 1 conflict: conflict with \"m1\": "
                                      ".spec.containers[name=\"a\"].command");
    kos_error_free(err);
    _cleanup_json_ json_t *d = apply_ok(c, "m3", cmd, true, T1);
    expect_json(json_object_get(
                    json_array_get(json_object_get(json_object_get(d, "spec"), "containers"), 0),
                    "command"),
                "[\"z\"]");
    expect_json(fields_of(d, "m1", "Apply"),
                "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"a\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}");
}

static void test_apply_errors(void **state)
{
    (void)state;
    struct kos_error *err = apply_err(
        NULL, "m", "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"web\"}}",
        "web");
    assert_int_equal(err->code, 400);
    assert_string_equal(err->message, "invalid object type: /v1, Kind=Service");
    kos_error_free(err);
    err = apply_err(NULL, "m",
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"}}",
                    "web");
    assert_string_equal(err->message, "invalid object type: apps/v1, Kind=Pod");
    kos_error_free(err);
    err = apply_err(NULL, "m", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{}}", "web");
    assert_string_equal(err->message,
                        "the name of the object () does not match the name on the URL (web)");
    kos_error_free(err);
    err = apply_err(NULL, "m",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                    "\"managedFields\":[]}}",
                    "web");
    assert_string_equal(err->message, "metadata.managedFields must be nil");
    kos_error_free(err);
    err = apply_err(NULL, "m", PODC("{\"name\":\"a\"},{\"name\":\"a\"}"), "web");
    assert_string_equal(err->message, ".spec.containers: element 1: duplicate entries for key "
                                      "[name=\"a\"]");
    kos_error_free(err);
}

/* An object nobody tracked: what it holds is "before-first-apply"'s. */
static void test_apply_before_first_apply(void **state)
{
    (void)state;
    _cleanup_json_ json_t *live = parse(POD("\"app\":\"web\"", NGINX("a")));
    struct kos_error *err = apply_err(live, "m", POD("\"app\":\"x\"", NGINX("a")), "web");
    assert_string_equal(err->message, "Apply failed with 1 conflict: conflict with "
                                      "\"before-first-apply\" using v1: .metadata.labels.app");
    kos_error_free(err);
}

/* kubectl apply --server-side over client-side apply: conflicts over the fields the
 * last-applied annotation still matches are forgiven, and the annotation follows. */
static void test_apply_upgrades_client_side_apply(void **state)
{
    (void)state;
    _cleanup_json_ json_t *live = update(
        NULL, "kubectl-client-side-apply",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"annotations\":{"
        "\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\","
        "\\\"kind\\\":\\\"Pod\\\",\\\"metadata\\\":{\\\"name\\\":\\\"web\\\"},\\\"spec\\\":{"
        "\\\"containers\\\":[{\\\"image\\\":\\\"a\\\",\\\"name\\\":\\\"c\\\"}]}}\\n\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"a\"}]}}",
        T0);
    const char *ssa = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\"},"
                      "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"b\"}]}}";
    struct kos_error *err = apply_err(live, "someone", ssa, "web");
    assert_int_equal(err->code, 409);
    kos_error_free(err);
    _cleanup_json_ json_t *out = apply_ok(live, "kubectl", ssa, false, T1);
    const char *ann = json_string_value(
        json_object_get(json_object_get(json_object_get(out, "metadata"), "annotations"),
                        KOS_LAST_APPLIED_ANNOTATION));
    assert_string_equal(ann, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                             "\"web\"},\"spec\":{\"containers\":[{\"image\":\"b\",\"name\":\"c\"}"
                             "]}}\n");
}

/* ---- Update entries ----------------------------------------------------------------------- */

static void test_update_entries(void **state)
{
    (void)state;
    _cleanup_json_ json_t *created =
        update(NULL, "kubectl-create", POD("\"app\":\"web\"", NGINX("a")), T0);
    expect_json(json_object_get(json_object_get(created, "metadata"), "managedFields"),
                "[{\"manager\":\"kubectl-create\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                "\"time\":\"" T0_S "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
                "\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}}]");
    /* a change moves the field to the writer */
    _cleanup_json_ json_t *labelled =
        update(created, "kubectl-label", POD("\"app\":\"v2\"", NGINX("a")), T1);
    expect_json(fields_of(labelled, "kubectl-label", "Update"),
                "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}}");
    expect_json(fields_of(labelled, "kubectl-create", "Update"),
                "{\"f:metadata\":{\"f:labels\":{}},"
                "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},"
                "\"f:image\":{},\"f:name\":{}}}}}");
    /* a write that changes nothing leaves the entries alone */
    _cleanup_json_ json_t *same =
        update(labelled, "kubectl-edit", POD("\"app\":\"v2\"", NGINX("a")), T1);
    assert_int_equal(entries(same), 2);
    /* a status write is an entry of its own */
    struct kos_field_manager fm = {
        .kind = pod(), .manager = "kubelet", .subresource = "status", .now = T1};
    _cleanup_json_ json_t *st = json_deep_copy(labelled);
    json_object_set_new(st, "status", parse("{\"phase\":\"Running\"}"));
    assert_int_equal(kos_managed_fields_update(&fm, labelled, st), 0);
    json_t *mf = json_object_get(json_object_get(st, "metadata"), "managedFields");
    json_t *last = json_array_get(mf, json_array_size(mf) - 1);
    expect_json(last, "{\"manager\":\"kubelet\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                      "\"time\":\"" T1_S "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
                      "\"f:status\":{\"f:phase\":{}}},\"subresource\":\"status\"}");
    /* entries a client sends are the base (times normalized); invalid ones are ignored */
    _cleanup_json_ json_t *edited = json_deep_copy(labelled);
    json_object_set_new(json_object_get(edited, "metadata"), "managedFields",
                        parse("[{\"manager\":\"mine\",\"operation\":\"Update\","
                              "\"apiVersion\":\"v1\",\"time\":\"2023-11-14T23:13:20+01:00\","
                              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{"
                              "\"f:containers\":{\".\":{}}}}}]"));
    fm = (struct kos_field_manager){.kind = pod(), .manager = "x", .now = T1};
    assert_int_equal(kos_managed_fields_update(&fm, labelled, edited), 0);
    expect_json(json_object_get(json_object_get(edited, "metadata"), "managedFields"),
                "[{\"manager\":\"mine\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                "\"time\":\"" T0_S "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
                "\"f:spec\":{\"f:containers\":{}}}}]");
    _cleanup_json_ json_t *invalid = json_deep_copy(labelled);
    json_object_set_new(json_object_get(invalid, "metadata"), "managedFields",
                        parse("[{\"manager\":\"mine\",\"operation\":\"Delete\"}]"));
    assert_int_equal(kos_managed_fields_update(&fm, labelled, invalid), 0);
    assert_true(
        json_equal(json_object_get(json_object_get(invalid, "metadata"), "managedFields"),
                   json_object_get(json_object_get(labelled, "metadata"), "managedFields")));
    /* [{}] resets; an object left without entries stays untracked */
    _cleanup_json_ json_t *reset = json_deep_copy(labelled);
    json_object_set_new(json_object_get(reset, "metadata"), "managedFields", parse("[{}]"));
    fm = (struct kos_field_manager){.kind = pod(), .manager = "x", .now = T1};
    assert_int_equal(kos_managed_fields_update(&fm, labelled, reset), 0);
    assert_null(json_object_get(json_object_get(reset, "metadata"), "managedFields"));
}

static void test_update_managers_capped(void **state)
{
    (void)state;
    json_t *obj = update(NULL, "creator", PODC(NGINX("a")), T0);
    for (int i = 0; i < 12; i++) {
        char manager[16], labels[512] = "", next[1024];
        size_t off = 0;
        for (int j = 0; j <= i; j++)
            off += (size_t)snprintf(labels + off, sizeof(labels) - off, "%s\"l%d\":\"v\"",
                                    j ? "," : "", j);
        snprintf(manager, sizeof(manager), "m%02d", i);
        snprintf(next, sizeof(next),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                 "\"namespace\":\"default\",\"labels\":{%s}},\"spec\":{\"containers\":["
                 "{\"name\":\"nginx\",\"image\":\"a\"}]}}",
                 labels);
        json_t *n = update(obj, manager, next, T0 + 1 + i);
        json_decref(obj);
        obj = n;
    }
    assert_int_equal(entries(obj), 10);
    assert_non_null(fields_of(obj, "ancient-changes", "Update"));
    assert_non_null(fields_of(obj, "m11", "Update"));
    json_decref(obj);
}

/* ---- creates of one shape share the computed entry (managed_fields_memo.c) ---------------- */

#define MEMO_POD(name, labels, cname)                                                              \
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name                       \
    "\",\"labels\":{" labels "}},\"spec\":{\"containers\":[{\"name\":\"" cname                     \
    "\",\"image\":\"i\"}]}}"

static const char *time_of(const json_t *obj)
{
    const json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
    return json_string_value(json_object_get(json_array_get(mf, 0), "time"));
}

/* A second create of the same shape (other name, label values, time) gets the entry the
 * full computation gives it; a create of another shape (a label key, a list item key, the
 * manager) never takes a remembered one. */
static void test_create_entry_memo(void **state)
{
    (void)state;
    _cleanup_json_ json_t *a = update(NULL, "memo", MEMO_POD("a", "\"app\":\"1\"", "c"), T0);
    _cleanup_json_ json_t *b = update(NULL, "memo", MEMO_POD("b", "\"app\":\"2\"", "c"), T1);
    _cleanup_json_ json_t *full = update(NULL, "memo-2", MEMO_POD("b", "\"app\":\"2\"", "c"), T1);
    assert_int_equal(entries(b), 1);
    assert_true(json_equal(fields_of(a, "memo", "Update"), fields_of(b, "memo", "Update")));
    assert_true(json_equal(fields_of(full, "memo-2", "Update"), fields_of(b, "memo", "Update")));
    assert_string_equal(time_of(a), T0_S);
    assert_string_equal(time_of(b), T1_S);

    _cleanup_json_ json_t *c =
        update(NULL, "memo", MEMO_POD("c", "\"app\":\"1\",\"tier\":\"x\"", "c"), T1);
    assert_non_null(json_object_get(
        json_object_get(json_object_get(fields_of(c, "memo", "Update"), "f:metadata"), "f:labels"),
        "f:tier"));
    _cleanup_json_ json_t *d = update(NULL, "memo", MEMO_POD("d", "\"app\":\"1\"", "web"), T1);
    assert_non_null(json_object_get(
        json_object_get(json_object_get(fields_of(d, "memo", "Update"), "f:spec"), "f:containers"),
        "k:{\"name\":\"web\"}"));
    _cleanup_json_ json_t *e = update(NULL, "memo-3", MEMO_POD("e", "\"app\":\"1\"", "c"), T1);
    assert_non_null(fields_of(e, "memo-3", "Update"));
    assert_null(fields_of(e, "memo", "Update"));
}

/* A workload that creates pods of a few dozen shapes in turn (a benchmark's 8 cpu by 5 memory
 * requests, each a list item value) keeps every shape remembered: the memo is larger than that
 * and spares the entries it hits. */
static void test_create_entry_memo_keeps_shapes_used_in_turn(void **state)
{
    (void)state;
    enum { SHAPES = 40 };
    struct kos_field_manager fm = {.kind = pod(), .manager = "turns", .now = T0};
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < SHAPES; i++) {
            char body[256];
            snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
                     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":"
                     "{\"requests\":{\"cpu\":\"%dm\"}}}]}}",
                     100 + i);
            _cleanup_json_ json_t *obj = parse(body);
            struct kos_buf shape;
            assert_int_equal(mf_memo_shape(obj, &shape), 0);
            int hit = mf_memo_get(&fm, &shape, obj);
            if (round > 0)
                assert_int_equal(hit, 0);
            kos_buf_free(&shape);
            if (hit != 0)
                assert_int_equal(kos_managed_fields_update(&fm, NULL, obj), 0);
        }
}

/* Objects whose field sets may differ never share a shape: each pair differs in a key (also
 * where the bytes of two keys run together alike), a value's type, a list item's value or the
 * list's length, or nests differently, and keys and strings of 255 bytes and more (the long
 * form of a length) are told apart from their shorter neighbours. The memo hit of the first
 * never serves the second. Scalars of map fields (names, labels) do share one. */
static void test_create_entry_memo_shapes_never_shared(void **state)
{
    (void)state;
    char long_a[600], long_b[600];
    memset(long_a, 'k', 300);
    long_a[300] = '\0';
    memset(long_b, 'k', 299);
    long_b[299] = '\0';
    char la[700], lb[700], va[700], vb[700];
    snprintf(la, sizeof(la), "{\"metadata\":{\"labels\":{\"%s\":\"1\"}}}", long_a);
    snprintf(lb, sizeof(lb), "{\"metadata\":{\"labels\":{\"%s\":\"1\"}}}", long_b);
    snprintf(va, sizeof(va), "{\"spec\":{\"containers\":[{\"name\":\"%s\"}]}}", long_a);
    snprintf(vb, sizeof(vb), "{\"spec\":{\"containers\":[{\"name\":\"%s\"}]}}", long_b);
    const char *pairs[][2] = {
        {"{\"metadata\":{\"labels\":{\"a\":\"1\"}}}", "{\"metadata\":{\"labels\":{\"b\":\"1\"}}}"},
        {"{\"metadata\":{\"labels\":{\"ab\":\"1\"}}}",
         "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"1\"}}}"},
        {"{\"metadata\":{\"labels\":{\"ab\":{\"c\":1}}}}",
         "{\"metadata\":{\"labels\":{\"a\":{\"bc\":1}}}}"},
        {"{\"spec\":{\"priority\":1}}", "{\"spec\":{\"priority\":\"1\"}}"},
        {"{\"spec\":{\"priority\":1}}", "{\"spec\":{\"priority\":1.5}}"},
        {"{\"spec\":{\"hostNetwork\":true}}", "{\"spec\":{\"hostNetwork\":null}}"},
        {"{\"spec\":{\"nodeSelector\":{}}}", "{\"spec\":{\"nodeSelector\":[]}}"},
        {"{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}"},
        {"{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}"},
        {"{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":1}]}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{\"containerPort\":2}]}]}}"},
        {"{\"spec\":{\"containers\":[{\"name\":\"a\",\"tty\":true}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"tty\":false}]}}"},
        {"{\"spec\":{\"containers\":[{\"name\":\"ab\",\"image\":\"c\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"bc\"}]}}"},
        {la, lb},
        {va, vb},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        _cleanup_json_ json_t *a = parse(pairs[i][0]), *b = parse(pairs[i][1]);
        struct kos_buf sa, sb;
        assert_int_equal(mf_memo_shape(a, &sa), 0);
        assert_int_equal(mf_memo_shape(b, &sb), 0);
        assert_false(sa.len == sb.len && memcmp(sa.data, sb.data, sa.len) == 0);
        /* b after a, with the memo holding a's entry: computed, never a's */
        char manager[32];
        snprintf(manager, sizeof(manager), "shapes-%zu", i);
        struct kos_field_manager fm = {.kind = pod(), .manager = manager, .now = T0};
        assert_int_equal(mf_memo_get(&fm, &sa, a), -ENOENT);
        assert_int_equal(kos_managed_fields_update(&fm, NULL, a), 0);
        assert_int_equal(mf_memo_get(&fm, &sb, b), -ENOENT);
        kos_buf_free(&sa);
        kos_buf_free(&sb);
    }
    /* the other side: only scalars of map fields differ, so the second is a hit */
    _cleanup_json_ json_t *a = parse("{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}");
    _cleanup_json_ json_t *b = parse("{\"metadata\":{\"name\":\"yy\",\"labels\":{\"a\":\"22\"}}}");
    struct kos_field_manager fm = {.kind = pod(), .manager = "shapes-same", .now = T0};
    assert_int_equal(kos_managed_fields_update(&fm, NULL, a), 0);
    struct kos_buf sb;
    assert_int_equal(mf_memo_shape(b, &sb), 0);
    assert_int_equal(mf_memo_get(&fm, &sb, b), 0);
    kos_buf_free(&sb);
    assert_true(
        json_equal(fields_of(a, "shapes-same", "Update"), fields_of(b, "shapes-same", "Update")));
}

/* The fieldsV1 a memo hit hands out is the memo's own (shared) tree, whose encoding the memo
 * gives for the stored bytes; an equal tree of another origin gets none. */
static void test_create_entry_memo_json(void **state)
{
    (void)state;
    struct kos_field_manager fm = {.kind = pod(), .manager = "memo-json", .now = T0};
    _cleanup_json_ json_t *a = parse("{\"metadata\":{\"name\":\"a\",\"labels\":{\"x\":\"1\"}},"
                                     "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    _cleanup_json_ json_t *b = parse("{\"metadata\":{\"name\":\"b\",\"labels\":{\"x\":\"2\"}},"
                                     "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    assert_int_equal(kos_managed_fields_update(&fm, NULL, a), 0); /* computed, remembered */
    assert_int_equal(kos_managed_fields_update(&fm, NULL, b), 0); /* a hit */
    const json_t *fb = fields_of(b, "memo-json", "Update");
    assert_non_null(fb);
    char *bytes = NULL;
    size_t len = 0;
    assert_int_equal(kos_managed_fields_memo_json(fb, &bytes, &len), 0);
    char *want = kos_json_encode(fb, NULL);
    assert_string_equal(bytes, want);
    assert_int_equal(len, strlen(want));
    free(bytes);
    free(want);
    /* an equal tree that is not the memo's */
    _cleanup_json_ json_t *copy = json_deep_copy(fb);
    assert_int_equal(kos_managed_fields_memo_json(copy, &bytes, &len), -ENOENT);
    assert_int_equal(kos_managed_fields_memo_json(NULL, &bytes, &len), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_entry_memo),
        cmocka_unit_test(test_create_entry_memo_keeps_shapes_used_in_turn),
        cmocka_unit_test(test_create_entry_memo_shapes_never_shared),
        cmocka_unit_test(test_create_entry_memo_json),
        cmocka_unit_test(test_fieldset_of_pod),
        cmocka_unit_test(test_fieldset_algebra),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_apply_create),
        cmocka_unit_test(test_apply_removes_dropped_fields),
        cmocka_unit_test(test_apply_conflicts),
        cmocka_unit_test(test_apply_keyed_and_atomic_lists),
        cmocka_unit_test(test_apply_errors),
        cmocka_unit_test(test_apply_before_first_apply),
        cmocka_unit_test(test_apply_upgrades_client_side_apply),
        cmocka_unit_test(test_update_entries),
        cmocka_unit_test(test_update_managers_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

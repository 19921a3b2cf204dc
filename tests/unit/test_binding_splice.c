/* pods/binding on the stored bytes (apiserver/binding_splice.h): the spliced pod must be what
 * the tree edit gives (the same members, in the same order), the refusals must come in kube's
 * order, and every shape the splice does not handle must say so instead of guessing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apiserver/binding_splice.h"

#define NOW "2026-11-27T18:00:00Z"

/* The tree path (binding_tree_bind) on the same pod, its resourceVersion set to rv. */
static json_t *tree_bind(const char *pod_text, const char *node, const char *rv)
{
    json_error_t e;
    json_t *pod = json_loads(pod_text, 0, &e);
    assert_non_null(pod);
    json_object_set_new(json_object_get(pod, "metadata"), "resourceVersion", json_string(rv));
    const struct binding_splice_in in = {.node = node, .now = NOW};
    struct binding_splice found = {0};
    assert_int_equal(binding_tree_bind(pod, &in, &found), 0);
    return pod;
}

static int splice(const char *pod, const char *node, const char *uid, struct binding_splice *sp)
{
    const struct binding_splice_in in = {.node = node, .uid = uid, .now = NOW};
    return binding_splice(pod, strlen(pod), &in, sp);
}

/* Splices, puts the revision in, and compares with the tree edit, member order included. */
static void assert_same_as_tree(const char *pod, const char *node, const char *uid)
{
    struct binding_splice sp = {0};
    assert_int_equal(splice(pod, node, uid, &sp), 0);
    char text[16384];
    int n = snprintf(text, sizeof(text), "%.*s4242%s", (int)sp.rv_at, sp.out.data,
                     sp.out.data + sp.rv_at);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    json_error_t e;
    json_t *got = json_loads(text, 0, &e);
    if (!got)
        fail_msg("spliced pod is not JSON (%s): %s", e.text, text);
    json_t *want = tree_bind(pod, node, "4242");
    char *a = json_dumps(got, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(got);
    json_decref(want);
    kos_buf_free(&sp.out);
}

static void test_same_as_tree(void **state)
{
    /* no status at all */
    assert_same_as_tree("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\","
                        "\"uid\":\"u1\",\"resourceVersion\":\"5\"},\"spec\":{\"containers\":[]}}",
                        "n1", "u1");
    /* an empty spec and metadata members after resourceVersion */
    assert_same_as_tree("{\"metadata\":{\"resourceVersion\":\"5\",\"labels\":{\"a\":\"b\"}},"
                        "\"spec\":{}}",
                        "n1", NULL);
    /* the scheduler's PodScheduled=False is replaced, the other conditions stay in order;
     * an empty nodeName is set where it is */
    assert_same_as_tree(
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u1\",\"resourceVersion\":\"77\"},\"spec\":{"
        "\"nodeName\":\"\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}],\"priority\":0},"
        "\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
        "\"False\"},{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":"
        "\"Unschedulable\",\"message\":\"0/3 nodes are available: 3 Insufficient cpu.\"},"
        "{\"type\":\"X\"}],\"qosClass\":\"Burstable\"}}",
        "node-7", "u1");
    /* conditions that are not objects, and a type written as another value */
    assert_same_as_tree("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"a\":1},\"status\":{"
                        "\"conditions\":[1,\"PodScheduled\",{\"type\":1},{\"type\":"
                        "\"PodScheduled\"},[]]}}",
                        "n", NULL);
    /* status and conditions of the wrong type are replaced, as the tree path does */
    assert_same_as_tree("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"status\":null}",
                        "n", NULL);
    assert_same_as_tree("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"status\":{"
                        "\"conditions\":\"x\",\"phase\":\"Pending\"}}",
                        "n", NULL);
    /* a nodeName that is not a string is no binding: replaced */
    assert_same_as_tree(
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"nodeName\":null,\"b\":2}}", "n",
        NULL);
    /* a node name that needs escapes; strings with escapes elsewhere are copied as they are */
    assert_same_as_tree("{\"metadata\":{\"resourceVersion\":\"1\",\"annotations\":{\"q\":"
                        "\"a\\\"b\\\\c\\u00e9\"}},\"spec\":{\"x\":\"}{][\"}}",
                        "we\"ird\\node", NULL);
    /* whitespace (a value the encoder did not write) still gives the same members */
    assert_same_as_tree("{ \"metadata\" : { \"resourceVersion\" : \"1\" } ,\n \"spec\" : { "
                        "\"containers\" : [ ] } , \"status\" : { \"conditions\" : [ { \"type\" "
                        ": \"PodScheduled\" } , { \"type\" : \"Ready\" } ] } }",
                        "n", NULL);
    /* a deletionTimestamp that is null is no deletion */
    assert_same_as_tree(
        "{\"metadata\":{\"deletionTimestamp\":null,\"resourceVersion\":\"1\"},\"spec\":{}}", "n",
        NULL);
}

static void expect(const char *pod, const char *node, const char *uid, int want)
{
    struct binding_splice sp = {0};
    assert_int_equal(splice(pod, node, uid, &sp), want);
    kos_buf_free(&sp.out);
}

static void test_refusals_in_kube_order(void **state)
{
    const char *bound = "{\"metadata\":{\"uid\":\"u1\",\"resourceVersion\":\"1\"},\"spec\":{"
                        "\"nodeName\":\"other\"}}";
    struct binding_splice sp = {0};
    assert_int_equal(splice(bound, "n", "u1", &sp), -EEXIST);
    assert_string_equal(sp.bound_node, "other");
    kos_buf_free(&sp.out);

    /* being deleted wins over bound; the uid precondition over both */
    const char *deleting = "{\"metadata\":{\"uid\":\"u1\",\"resourceVersion\":\"1\","
                           "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},\"spec\":{"
                           "\"nodeName\":\"other\"}}";
    expect(deleting, "n", "u1", -EBUSY);
    expect(deleting, "n", NULL, -EBUSY);
    sp = (struct binding_splice){0};
    assert_int_equal(splice(deleting, "n", "u2", &sp), -ESTALE);
    assert_string_equal(sp.pod_uid, "u1");
    kos_buf_free(&sp.out);
    /* metadata after spec: the same order of refusals */
    expect("{\"spec\":{\"nodeName\":\"other\"},\"metadata\":{\"uid\":\"u1\","
           "\"resourceVersion\":\"1\"}}",
           "n", "u2", -ESTALE);
    /* a pod without a uid fails a uid precondition (kube compares with "") */
    sp = (struct binding_splice){0};
    assert_int_equal(
        splice("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{}}", "n", "u1", &sp), -ESTALE);
    assert_string_equal(sp.pod_uid, "");
    kos_buf_free(&sp.out);
    /* an empty precondition is none */
    expect("{\"metadata\":{\"uid\":\"u1\",\"resourceVersion\":\"1\"},\"spec\":{}}", "n", "", 0);
}

static void test_unexpected_shapes_take_the_tree_path(void **state)
{
    static const char *const shapes[] = {
        "",
        "[]",
        "{\"metadata\":{\"resourceVersion\":\"1\"}}",                         /* no spec */
        "{\"metadata\":{},\"spec\":{}}",                                      /* no rv */
        "{\"metadata\":{\"resourceVersion\":1},\"spec\":{}}",                 /* rv a number */
        "{\"spec\":{}}",                                                      /* no metadata */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":[]}",             /* spec array */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"spec\":{}}", /* repeated */
        "{\"metadata\":{\"resourceVersion\":\"1\",\"resourceVersion\":\"2\"},\"spec\":{}}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"nodeName\":\"a\\\"b\"}}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"nodeName\":\"a\"", /* cut */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{}} x",               /* trailing */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"a\":1 \"b\":2}}",  /* no comma */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"status\":{\"conditions\":[1 2]}}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"status\":{\"conditions\":[1,",
        /* keys and conditions written with escapes could spell what the splice looks for */
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{\"node\\u004eame\":\"x\"}}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"\\u0073pec\":{},\"spec\":{}}",
        "{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{},\"status\":{\"conditions\":[{"
        "\"type\":\"Pod\\u0053cheduled\"}]}}",
    };
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct binding_splice sp = {0};
        int r = splice(shapes[i], "n", NULL, &sp);
        if (r != -ENOTSUP)
            fail_msg("shape %zu (%s): %d, want -ENOTSUP", i, shapes[i], r);
        kos_buf_free(&sp.out);
    }
}

/* A pod as the API server stores it, managedFields and all: the splice on every prefix of its
 * bytes is refused or well-formed, never a read past the end (ASan watches). */
static void test_every_prefix(void **state)
{
    const char *pod =
        "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\",\"namespace\":"
        "\"default\",\"uid\":\"0b7c\",\"resourceVersion\":\"12\",\"creationTimestamp\":"
        "\"2026-11-27T17:00:00Z\",\"managedFields\":[{\"manager\":\"m\",\"operation\":"
        "\"Update\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:containers\":{"
        "\"k:{\\\"name\\\":\\\"c\\\"}\":{}}}}}]},\"spec\":{\"containers\":[{\"name\":\"c\","
        "\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}],\"schedulerName\":"
        "\"default-scheduler\"},\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}";
    assert_same_as_tree(pod, "bench-node-00001", "0b7c");
    size_t len = strlen(pod);
    for (size_t n = 0; n < len; n++) {
        char *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, pod, n);
        const struct binding_splice_in in = {.node = "n", .uid = NULL, .now = NOW};
        struct binding_splice sp = {0};
        int r = binding_splice(cut, n, &in, &sp);
        assert_int_equal(r, -ENOTSUP);
        kos_buf_free(&sp.out);
        free(cut);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_tree),
        cmocka_unit_test(test_refusals_in_kube_order),
        cmocka_unit_test(test_unexpected_shapes_take_the_tree_path),
        cmocka_unit_test(test_every_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

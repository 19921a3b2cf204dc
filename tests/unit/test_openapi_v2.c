/* The protobuf writer (codec/protobuf_write.c) and the OpenAPI v2 document
 * (apiserver/openapi_v2.c): the encoding is read back with the repo's own reader
 * (codec/protobuf.h) and checked against gnostic's field numbers and what kubectl 1.27 reads
 * (definitions, GVK and patch extensions as YAML, patch operations with fieldValidation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "apiserver/openapi_v2.h"
#include "codec/protobuf.h"
#include "codec/protobuf_write.h"

/* ---- reading helpers --------------------------------------------------------------------- */

struct msg {
    const uint8_t *d;
    size_t n;
};

/* The nth (0-based) field numbered num in m; false if there are fewer. */
static bool field_nth(struct msg m, uint32_t num, size_t nth, struct pb_field *out)
{
    struct pb_budget b = {0};
    struct pb_reader r;
    struct pb_field f;
    struct kos_error *err = NULL;
    int rc;
    pb_reader_init(&r, &b, m.d, m.n, 0);
    while ((rc = pb_next(&r, &f, &err)) > 0) {
        if (f.number == num && nth-- == 0) {
            *out = f;
            return true;
        }
    }
    assert_int_equal(rc, 0);
    assert_null(err);
    return false;
}

static struct msg sub(struct msg m, uint32_t num)
{
    struct pb_field f;
    assert_true(field_nth(m, num, 0, &f));
    assert_int_equal(f.wire, PB_WIRE_LEN);
    return (struct msg){f.data, f.len};
}

static bool has(struct msg m, uint32_t num)
{
    struct pb_field f;
    return field_nth(m, num, 0, &f);
}

static bool str_eq(struct msg m, uint32_t num, const char *want)
{
    struct pb_field f;
    if (!field_nth(m, num, 0, &f) || f.wire != PB_WIRE_LEN)
        return false;
    return f.len == strlen(want) && memcmp(f.data, want, f.len) == 0;
}

/* In the repeated Named* field num of m (name 1, value 2), the value called name. */
static bool named(struct msg m, uint32_t num, const char *name, struct msg *value)
{
    struct pb_field f;
    for (size_t i = 0; field_nth(m, num, i, &f); i++) {
        struct msg entry = {f.data, f.len};
        if (str_eq(entry, 1, name)) {
            *value = sub(entry, 2);
            return true;
        }
    }
    return false;
}

/* The YAML of vendor extension `name` (NamedAny in field num), or false. */
static bool ext_yaml(struct msg m, uint32_t num, const char *name, const char *want)
{
    struct msg any;
    return named(m, num, name, &any) && str_eq(any, 2, want);
}

/* ---- the writer -------------------------------------------------------------------------- */

static void test_writer_fields(void **state)
{
    (void)state;
    struct pb_writer w;
    pbw_init(&w, 1024);
    pbw_varint(&w, 1, 300);
    pbw_string(&w, 2, "hi");
    pbw_string(&w, 3, NULL); /* absent */
    pbw_begin(&w, 4);
    pbw_bool(&w, 1, true);
    pbw_begin(&w, 2); /* empty, but present */
    pbw_end(&w);
    pbw_end(&w);
    pbw_varint(&w, 536870911, 1);
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(pbw_finish(&w, &out, &len), 0);
    static const uint8_t want[] = {0x08, 0xac, 0x02, 0x12, 0x02, 'h',  'i',  0x22, 0x04, 0x08,
                                   0x01, 0x12, 0x00, 0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01};
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    struct msg m = {out, len};
    struct msg inner = sub(m, 4);
    assert_true(has(inner, 2));
    assert_int_equal(sub(inner, 2).n, 0);
    free(out);
}

/* A nested message whose length needs a two-byte varint: the payload moves up intact. */
static void test_writer_long_nested(void **state)
{
    (void)state;
    char big[300];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct pb_writer w;
    pbw_init(&w, 4096);
    pbw_begin(&w, 1);
    pbw_begin(&w, 2);
    pbw_string(&w, 3, big);
    pbw_end(&w);
    pbw_end(&w);
    uint8_t *out = NULL;
    size_t len = 0;
    assert_int_equal(pbw_finish(&w, &out, &len), 0);
    struct msg m = {out, len};
    assert_true(str_eq(sub(sub(m, 1), 2), 3, big));
    free(out);
}

static void test_writer_errors(void **state)
{
    (void)state;
    struct pb_writer w;
    uint8_t *out = (uint8_t *)"untouched";
    size_t len = 7;

    pbw_init(&w, 8); /* past the limit: sticky -E2BIG */
    pbw_string(&w, 1, "0123456789");
    pbw_varint(&w, 2, 1);
    assert_int_equal(pbw_finish(&w, &out, &len), -E2BIG);
    assert_int_equal(len, 7);

    pbw_init(&w, 64); /* field number 0 */
    pbw_varint(&w, 0, 1);
    assert_int_equal(pbw_finish(&w, &out, &len), -EINVAL);

    pbw_init(&w, 64); /* an end without a begin, and a begin without an end */
    pbw_end(&w);
    assert_int_equal(pbw_finish(&w, &out, &len), -EINVAL);
    pbw_init(&w, 64);
    pbw_begin(&w, 1);
    assert_int_equal(pbw_finish(&w, &out, &len), -EINVAL);

    pbw_init(&w, 4096); /* nesting past the limit */
    for (int i = 0; i <= PBW_MAX_DEPTH; i++)
        pbw_begin(&w, 1);
    assert_int_equal(pbw_finish(&w, &out, &len), -ELOOP);

    pbw_init(&w, 64); /* an empty document is valid */
    assert_int_equal(pbw_finish(&w, &out, &len), 0);
    assert_int_equal(len, 0);
    free(out);
}

/* ---- the document ------------------------------------------------------------------------ */

static uint8_t *doc_pb;
static size_t doc_len;

static int setup_doc(void **state)
{
    (void)state;
    json_t *doc = openapi_v2_document();
    if (!doc)
        return -1;
    int r = openapi_v2_encode(doc, &doc_pb, &doc_len);
    json_decref(doc);
    return r;
}

static int teardown_doc(void **state)
{
    (void)state;
    free(doc_pb);
    return 0;
}

static struct msg definition(const char *name)
{
    struct msg doc = {doc_pb, doc_len}, def;
    if (!named(sub(doc, 9), 1, name, &def))
        fail_msg("no definition %s", name);
    return def;
}

/* Schema field numbers, as in gnostic's OpenAPIv2.proto */
#define S_REF   1
#define S_FMT   2
#define S_DESC  4
#define S_ADD   21
#define S_TYPE  22
#define S_ITEMS 23
#define S_PROPS 25
#define S_EXT   31

static struct msg property(struct msg schema, const char *name)
{
    struct msg p;
    if (!named(sub(schema, S_PROPS), 1, name, &p))
        fail_msg("no property %s", name);
    return p;
}

static void test_doc_header(void **state)
{
    (void)state;
    struct msg doc = {doc_pb, doc_len};
    assert_true(str_eq(doc, 1, "2.0"));
    assert_true(str_eq(sub(doc, 2), 1, "Kubernetes"));
}

static void test_doc_kinds(void **state)
{
    (void)state;
    struct msg pod = definition("io.k8s.api.core.v1.Pod");
    assert_true(str_eq(sub(pod, S_TYPE), 1, "object"));
    assert_true(ext_yaml(pod, S_EXT, "x-kubernetes-group-version-kind",
                         "- group: \"\"\n  kind: Pod\n  version: v1\n"));
    assert_true(str_eq(property(pod, "spec"), S_REF, "#/definitions/io.k8s.api.core.v1.PodSpec"));
    /* a reference carries no type of its own (kubectl rejects one) */
    assert_false(has(property(pod, "spec"), S_TYPE));

    struct msg deploy = definition("io.k8s.api.apps.v1.Deployment");
    assert_true(ext_yaml(deploy, S_EXT, "x-kubernetes-group-version-kind",
                         "- group: apps\n  kind: Deployment\n  version: v1\n"));
    struct msg crb = definition("io.k8s.api.rbac.v1.ClusterRoleBinding");
    assert_true(ext_yaml(crb, S_EXT, "x-kubernetes-group-version-kind",
                         "- group: rbac.authorization.k8s.io\n  kind: ClusterRoleBinding\n"
                         "  version: v1\n"));
    /* nested structs carry no GVK: kubectl would take them for kinds */
    struct msg any;
    assert_false(named(definition("io.k8s.api.core.v1.PodSpec"), S_EXT,
                       "x-kubernetes-group-version-kind", &any));
}

static void test_doc_fields(void **state)
{
    (void)state;
    struct msg spec = definition("io.k8s.api.core.v1.PodSpec");
    struct msg containers = property(spec, "containers");
    assert_true(str_eq(sub(containers, S_TYPE), 1, "array"));
    assert_true(str_eq(sub(sub(containers, S_ITEMS), 1), S_REF,
                       "#/definitions/io.k8s.api.core.v1.Container"));
    assert_true(ext_yaml(containers, S_EXT, "x-kubernetes-patch-merge-key", "name\n"));
    assert_true(ext_yaml(containers, S_EXT, "x-kubernetes-patch-strategy", "merge\n"));

    struct msg ports = property(definition("io.k8s.api.core.v1.Container"), "ports");
    assert_true(ext_yaml(ports, S_EXT, "x-kubernetes-patch-merge-key", "containerPort\n"));

    /* map[string]string: an object whose additionalProperties is a string schema */
    struct msg labels =
        property(definition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), "labels");
    assert_true(str_eq(sub(labels, S_TYPE), 1, "object"));
    assert_false(has(labels, S_PROPS));
    assert_true(str_eq(sub(sub(sub(labels, S_ADD), 1), S_TYPE), 1, "string"));

    struct msg replicas = property(definition("io.k8s.api.apps.v1.DeploymentSpec"), "replicas");
    assert_true(str_eq(sub(replicas, S_TYPE), 1, "integer"));
    assert_true(str_eq(replicas, S_FMT, "int32"));

    /* the named scalars */
    assert_true(str_eq(sub(definition("io.k8s.apimachinery.pkg.api.resource.Quantity"), S_TYPE), 1,
                       "string"));
    struct msg ios = definition("io.k8s.apimachinery.pkg.util.intstr.IntOrString");
    assert_true(str_eq(ios, S_FMT, "int-or-string"));
    assert_true(
        str_eq(definition("io.k8s.apimachinery.pkg.apis.meta.v1.Time"), S_FMT, "date-time"));
}

/* Every $ref names a definition: kubectl's parser fails the whole document otherwise. */
static size_t check_refs(struct msg schema, int depth)
{
    struct pb_field f;
    size_t n = 0;
    assert_true(depth < 40);
    if (field_nth(schema, S_REF, 0, &f)) {
        char name[512];
        assert_true(f.len > 14 && f.len - 14 < sizeof(name));
        assert_memory_equal(f.data, "#/definitions/", 14);
        memcpy(name, f.data + 14, f.len - 14);
        name[f.len - 14] = '\0';
        definition(name);
        n++;
    }
    if (has(schema, S_ADD) && has(sub(schema, S_ADD), 1))
        n += check_refs(sub(sub(schema, S_ADD), 1), depth + 1);
    if (has(schema, S_ITEMS))
        for (size_t i = 0; field_nth(sub(schema, S_ITEMS), 1, i, &f); i++)
            n += check_refs((struct msg){f.data, f.len}, depth + 1);
    if (has(schema, S_PROPS))
        for (size_t i = 0; field_nth(sub(schema, S_PROPS), 1, i, &f); i++)
            n += check_refs(sub((struct msg){f.data, f.len}, 2), depth + 1);
    return n;
}

static void test_doc_refs_resolve(void **state)
{
    (void)state;
    struct msg doc = {doc_pb, doc_len};
    struct msg defs = sub(doc, 9);
    struct pb_field f;
    size_t ndefs = 0, nrefs = 0;
    for (; field_nth(defs, 1, ndefs, &f); ndefs++)
        nrefs += check_refs(sub((struct msg){f.data, f.len}, 2), 0);
    assert_true(ndefs > 50);
    assert_true(nrefs > 100);
}

/* kubectl's v2 check for fieldValidation: a patch operation with the kind's GVK (a map, not a
 * list) and a query parameter of that name. */
static void test_doc_paths(void **state)
{
    (void)state;
    struct msg doc = {doc_pb, doc_len}, item;
    struct pb_field f;
    assert_true(named(sub(doc, 8), 2, "/api/v1/namespaces/{namespace}/pods/{name}", &item));
    struct msg patch = sub(item, 8);
    assert_true(str_eq(patch, 5, "patchCoreV1NamespacedPod"));
    assert_true(ext_yaml(patch, 13, "x-kubernetes-group-version-kind",
                         "group: \"\"\nkind: Pod\nversion: v1\n"));
    bool found = false;
    for (size_t i = 0; field_nth(patch, 8, i, &f); i++) {
        struct msg query = sub(sub(sub((struct msg){f.data, f.len}, 1), 2), 3);
        if (str_eq(query, 4, "fieldValidation")) {
            assert_true(str_eq(query, 2, "query"));
            found = true;
        }
    }
    assert_true(found);
    struct msg ok;
    assert_true(named(sub(patch, 9), 1, "200", &ok));
    assert_true(str_eq(sub(sub(sub(ok, 1), 2), 1), S_REF, "#/definitions/io.k8s.api.core.v1.Pod"));

    assert_true(
        named(sub(doc, 8), 2, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", &item));
    assert_true(ext_yaml(sub(item, 8), 13, "x-kubernetes-group-version-kind",
                         "group: apps\nkind: Deployment\nversion: v1\n"));
    assert_true(named(sub(doc, 8), 2, "/api/v1/nodes/{name}", &item));
    assert_true(str_eq(sub(item, 2), 5, "readCoreV1Node"));
}

int main(void)
{
    const struct CMUnitTest writer[] = {
        cmocka_unit_test(test_writer_fields),
        cmocka_unit_test(test_writer_long_nested),
        cmocka_unit_test(test_writer_errors),
    };
    const struct CMUnitTest doc[] = {
        cmocka_unit_test(test_doc_header), cmocka_unit_test(test_doc_kinds),
        cmocka_unit_test(test_doc_fields), cmocka_unit_test(test_doc_refs_resolve),
        cmocka_unit_test(test_doc_paths),
    };
    int failed = cmocka_run_group_tests(writer, NULL, NULL);
    return failed + cmocka_run_group_tests(doc, setup_doc, teardown_doc);
}

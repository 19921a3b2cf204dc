/* Kubernetes protobuf request bodies: the wire reader (codec/protobuf.c), the k8s\0 envelope
 * (api/proto_envelope.c), golden decodes of bodies captured from kubectl 1.32
 * (tests/unit/fixtures/protobuf, made by capture.py there) and the field tables. The decoding
 * of each type is in test_proto_decode.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "api/proto_decode.h"
#include "api/schema.h"
#include "codec/json.h"
#include "codec/protobuf.h"
#include "protobuf_helpers.h"

/* ---- the wire reader --------------------------------------------------------------------- */

static void test_varints(void **state)
{
    uint64_t v = 0;
    static const uint8_t one[] = {0x01}, big[] = {0xac, 0x02};
    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t over64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t trunc[] = {0x80, 0x80};

    assert_int_equal(pb_varint(one, 1, &v), 1);
    assert_int_equal(v, 1);
    assert_int_equal(pb_varint(big, 2, &v), 2);
    assert_int_equal(v, 300);
    assert_int_equal(pb_varint(max, sizeof(max), &v), 10);
    assert_true(v == UINT64_MAX);
    assert_int_equal(pb_varint(over64, sizeof(over64), &v), -EOVERFLOW);
    assert_int_equal(pb_varint(eleven, sizeof(eleven), &v), -EOVERFLOW);
    assert_int_equal(pb_varint(trunc, sizeof(trunc), &v), 0);
    assert_int_equal(pb_varint(trunc, 0, &v), 0);
}

/* Reads every field of w into f[], returning the count or the error. */
static int read_all(const struct pbw *w, struct pb_field *f, size_t max, struct kos_error **err)
{
    struct pb_budget b = {0};
    struct pb_reader r;
    size_t n = 0;
    int rc = 0;
    pb_reader_init(&r, &b, w->buf, w->len, 0);
    while (n < max && (rc = pb_next(&r, &f[n], err)) > 0)
        n++;
    return rc < 0 ? rc : (int)n;
}

static void test_wire_types(void **state)
{
    struct pbw w = {0};
    struct pb_field f[8];
    struct kos_error *err = NULL;

    w_uint(&w, 1, 150);
    w_fixed(&w, 2, 0x0102030405060708ull, 8);
    w_str(&w, 3, "hi");
    w_fixed(&w, 4, 0xdeadbeef, 4);
    w_uint(&w, 536870911, 7); /* the largest field number */
    assert_int_equal(read_all(&w, f, 8, &err), 5);
    assert_null(err);
    assert_int_equal(f[0].number, 1);
    assert_int_equal(f[0].wire, PB_WIRE_VARINT);
    assert_int_equal(f[0].value, 150);
    assert_int_equal(f[0].offset, 0);
    assert_int_equal(f[1].wire, PB_WIRE_FIXED64);
    assert_true(f[1].value == 0x0102030405060708ull);
    assert_int_equal(f[2].wire, PB_WIRE_LEN);
    assert_int_equal(f[2].len, 2);
    assert_memory_equal(f[2].data, "hi", 2);
    assert_int_equal(f[3].wire, PB_WIRE_FIXED32);
    assert_int_equal(f[3].value, 0xdeadbeef);
    assert_int_equal(f[4].number, 536870911);
}

static void wire_fails(const struct pbw *w, const char *want)
{
    struct pb_field f[16];
    struct kos_error *err = NULL;
    assert_true(read_all(w, f, 16, &err) < 0);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->reason, "BadRequest");
    if (strcmp(err->message, want) != 0)
        fail_msg("message \"%s\", expected \"%s\"", err->message, want);
    kos_error_free(err);
}

static void test_wire_errors(void **state)
{
    struct pbw w = {0};

    w_uint(&w, 1, 5);
    w_raw(&w, "\x10\xff\xff", 3); /* field 2 varint, cut */
    wire_fails(&w, "protobuf: field 2 varint is truncated at offset 3");

    w.len = 0;
    w_raw(&w, "\x80", 1); /* a key, cut */
    wire_fails(&w, "protobuf: field key is truncated at offset 0");

    w.len = 0;
    w_raw(&w, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12); /* 11-byte varint */
    wire_fails(&w, "protobuf: field 1 varint at offset 1 overflows 64 bits");

    w.len = 0;
    w_raw(&w, "\x12", 1); /* field 2 length, missing */
    wire_fails(&w, "protobuf: field 2 length is truncated at offset 1");

    w.len = 0;
    w_uint(&w, 1, 1);
    w_key(&w, 2, 2);
    w_varint(&w, 300);
    w_raw(&w, "twelve bytes", 12);
    wire_fails(&w, "protobuf: field 2 length 300 exceeds the 12 bytes left at offset 5");

    w.len = 0;
    w_key(&w, 2, 2);
    w_varint(&w, UINT64_MAX); /* a length that overflows any size arithmetic */
    wire_fails(&w, "protobuf: field 2 length 18446744073709551615 exceeds the 0 bytes left at "
                   "offset 11");

    w.len = 0;
    w_key(&w, 5, 3);
    wire_fails(&w, "protobuf: field 5 at offset 0 uses wire type 3 (start group), which is not "
                   "supported");
    w.len = 0;
    w_key(&w, 5, 4);
    wire_fails(&w, "protobuf: field 5 at offset 0 uses wire type 4 (end group), which is not "
                   "supported");
    w.len = 0;
    w_key(&w, 5, 6);
    wire_fails(&w, "protobuf: field 5 at offset 0 has the invalid wire type 6");

    w.len = 0;
    w_raw(&w, "\x00\x01", 2);
    wire_fails(&w, "protobuf: invalid field number 0 at offset 0");
    w.len = 0;
    w_key(&w, 1u << 29, 0);
    w_varint(&w, 1);
    wire_fails(&w, "protobuf: invalid field number 536870912 at offset 0");

    w.len = 0;
    w_raw(&w, "\x09\x01\x02\x03", 4); /* fixed64, 3 bytes */
    wire_fails(&w, "protobuf: field 1 needs 8 bytes, 3 left at offset 1");
    w.len = 0;
    w_raw(&w, "\x0d\x01", 2); /* fixed32, 1 byte */
    wire_fails(&w, "protobuf: field 1 needs 4 bytes, 1 left at offset 1");
}

static void test_depth_and_field_limits(void **state)
{
    struct pb_budget b = {0};
    struct pb_reader r[PB_MAX_DEPTH + 2];
    struct pb_field f;
    struct kos_error *err = NULL;

    /* levels[k] holds k nested messages, each the only field 1 of the one around it. */
    struct pbw *levels = calloc(PB_MAX_DEPTH + 2, sizeof(*levels));
    assert_non_null(levels);
    for (size_t i = 1; i < PB_MAX_DEPTH + 1; i++)
        w_msg(&levels[i], 1, &levels[i - 1]);
    /* levels[k] is k + 1 messages deep, the empty innermost one included: PB_MAX_DEPTH is
     * fine, one more is refused. */
    pb_reader_init(&r[0], &b, levels[PB_MAX_DEPTH - 1].buf, levels[PB_MAX_DEPTH - 1].len, 0);
    size_t d = 0;
    while (pb_next(&r[d], &f, &err) > 0) {
        int rc = pb_reader_sub(&r[d], &f, &r[d + 1], &err);
        if (rc < 0)
            break;
        d++;
    }
    assert_int_equal(d, PB_MAX_DEPTH - 1);
    assert_null(err);
    pb_reader_init(&r[0], &b, levels[PB_MAX_DEPTH].buf, levels[PB_MAX_DEPTH].len, 0);
    d = 0;
    int rc = 0;
    while (pb_next(&r[d], &f, &err) > 0) {
        rc = pb_reader_sub(&r[d], &f, &r[d + 1], &err);
        if (rc < 0)
            break;
        d++;
    }
    assert_true(rc < 0);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    assert_non_null(strstr(err->message, "protobuf: messages nested deeper than 100"));
    kos_error_free(err);
    err = NULL;
    free(levels);

    /* The field budget counts across nested readers and packed elements. */
    struct pbw w = {0};
    for (int i = 0; i < 10; i++)
        w_uint(&w, 1, 1);
    struct pb_budget small = {.max_fields = 9};
    pb_reader_init(&r[0], &small, w.buf, w.len, 0);
    int n = 0;
    while ((rc = pb_next(&r[0], &f, &err)) > 0)
        n++;
    assert_int_equal(n, 9);
    assert_true(rc < 0);
    assert_string_equal(err->message, "protobuf: more than 9 fields in the body at offset 18");
    kos_error_free(err);
}

static void test_packed(void **state)
{
    struct pbw w = {0}, p = {0};
    struct pb_budget b = {0};
    struct pb_reader r, sub;
    struct pb_field f;
    struct kos_error *err = NULL;
    uint64_t v;

    w_varint(&p, 1);
    w_varint(&p, 300);
    w_varint(&p, UINT64_MAX);
    w_msg(&w, 3, &p);
    pb_reader_init(&r, &b, w.buf, w.len, 0);
    assert_int_equal(pb_next(&r, &f, &err), 1);
    assert_int_equal(pb_reader_sub(&r, &f, &sub, &err), 0);
    assert_int_equal(sub.base, 2);
    assert_int_equal(pb_next_packed(&sub, PB_WIRE_VARINT, &v, &err), 1);
    assert_int_equal(v, 1);
    assert_int_equal(pb_next_packed(&sub, PB_WIRE_VARINT, &v, &err), 1);
    assert_int_equal(v, 300);
    assert_int_equal(pb_next_packed(&sub, PB_WIRE_VARINT, &v, &err), 1);
    assert_true(v == UINT64_MAX);
    assert_int_equal(pb_next_packed(&sub, PB_WIRE_VARINT, &v, &err), 0);
    assert_int_equal(pb_next(&r, &f, &err), 0);
    assert_true(pb_at_end(&r));
    assert_null(err);

    /* A packed fixed64 run cut short. */
    w.len = p.len = 0;
    w_raw(&p, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
    w_msg(&w, 3, &p);
    pb_reader_init(&r, &b, w.buf, w.len, 0);
    assert_int_equal(pb_next(&r, &f, &err), 1);
    assert_int_equal(pb_reader_sub(&r, &f, &sub, &err), 0);
    assert_int_equal(pb_next_packed(&sub, PB_WIRE_FIXED64, &v, &err), 1);
    assert_true(pb_next_packed(&sub, PB_WIRE_FIXED64, &v, &err) < 0);
    assert_string_equal(err->message,
                        "protobuf: packed element needs 8 bytes, 1 left at offset 10");
    kos_error_free(err);

    /* A non-message field cannot be opened. */
    err = NULL;
    w.len = 0;
    w_uint(&w, 4, 1);
    pb_reader_init(&r, &b, w.buf, w.len, 0);
    assert_int_equal(pb_next(&r, &f, &err), 1);
    assert_true(pb_reader_sub(&r, &f, &sub, &err) < 0);
    assert_string_equal(err->message, "protobuf: field 4 at offset 0 is a varint, not a message");
    kos_error_free(err);
}

/* ---- the envelope ------------------------------------------------------------------------ */

static void test_envelope(void **state)
{
    struct pbw w = {0}, raw = {0}, meta = {0};
    json_t *obj = NULL;
    struct kos_error *err = NULL;

    w_str(&meta, 1, "cm");
    w_msg(&raw, 1, &meta);
    w_entry(&raw, 2, "k", "v");
    w_envelope(&w, "v1", "ConfigMap", &raw);
    assert_int_equal(proto_decode_body(w.buf, w.len, &obj, &err), 0);
    assert_json(obj, "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm\"},"
                     "\"data\":{\"k\":\"v\"}}");
    /* kind and apiVersion come first, as kubectl writes them. */
    void *it = json_object_iter(obj);
    assert_string_equal(json_object_iter_key(it), "kind");
    json_decref(obj);

    /* No raw object at all: an empty object of the kind. */
    w.len = 0;
    w_envelope(&w, "apps/v1", "Deployment", NULL);
    assert_int_equal(proto_decode_body(w.buf, w.len, &obj, &err), 0);
    assert_json(obj, "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\"}");
    json_decref(obj);

    /* contentType may name protobuf itself. */
    w.len = 0;
    w_envelope(&w, "v1", "Namespace", &raw);
    w_str(&w, 4, PROTO_MEDIA_TYPE);
    assert_int_equal(proto_decode_body(w.buf, w.len, &obj, &err), 0);
    json_decref(obj);
    assert_null(err);

    body_fails("{\"kind\":\"Pod\"}", 14, 400,
               "error decoding body: protobuf: the body does not start with the magic");
    body_fails("k8s", 3, 400, "does not start with the magic");
    body_fails("k8s\0", 4, 400, "Object 'Kind' or 'apiVersion' is missing");
    w.len = 0;
    w_envelope(&w, "v1", NULL, &raw);
    body_fails(w.buf, w.len, 400, "Object 'Kind' or 'apiVersion' is missing");
    w.len = 0;
    w_envelope(&w, "networking.k8s.io/v1", "Ingress", &raw);
    body_fails(w.buf, w.len, 415,
               "the body of the request was in an unknown format - kos does not decode "
               "networking.k8s.io/v1, Kind=Ingress from protobuf");
    w.len = 0;
    w_envelope(&w, "apps/v1beta1", "Deployment", &raw);
    body_fails(w.buf, w.len, 415, "apps/v1beta1, Kind=Deployment");
    w.len = 0;
    w_envelope(&w, "v1", "ConfigMap", &raw);
    w_str(&w, 3, "gzip");
    body_fails(w.buf, w.len, 415, "contentEncoding is set");
    w.len = 0;
    w_envelope(&w, "v1", "ConfigMap", &raw);
    w_str(&w, 4, "application/json");
    body_fails(w.buf, w.len, 415, "holds content of another type");
    w.len = 0;
    w_raw(&w, "k8s\0", 4);
    w_uint(&w, 1, 1);
    body_fails(w.buf, w.len, 400,
               "error decoding body: protobuf: field 1 of the envelope (runtime.Unknown) at "
               "offset 4 is a varint, expected a length-delimited");
    w.len = meta.len = 0;
    w_raw(&w, "k8s\0", 4);
    w_bytes(&meta, 2, "Config\xffMap", 10);
    w_msg(&w, 1, &meta);
    body_fails(w.buf, w.len, 400, "the envelope's kind at offset 6 is not valid UTF-8");

    /* A very long kind is not echoed in full. */
    static char longkind[2000];
    memset(longkind, 'K', sizeof(longkind) - 1);
    w.len = 0;
    w_envelope(&w, "v1", longkind, NULL);
    struct kos_error *e = NULL;
    assert_true(proto_decode_body(w.buf, w.len, &obj, &e) < 0);
    assert_int_equal(e->code, 415);
    assert_true(strlen(e->message) < 400);
    kos_error_free(e);
}

/* ---- fixtures captured from kubectl 1.32 ------------------------------------------------- */

/* Reads tests/unit/fixtures/protobuf/<name><ext> (found through __FILE__, so the test runs from
 * the repository root, as make does) into a malloc'd, NUL-terminated buffer. */
static uint8_t *read_fixture_file(const char *name, const char *ext, size_t *ret_len)
{
    char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
    snprintf(path, sizeof(path), "%.*sfixtures/protobuf/%s%s", dir, __FILE__, name, ext);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    static uint8_t buf[65536];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    uint8_t *copy = malloc(n + 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    copy[n] = 0;
    *ret_len = n;
    return copy;
}

static uint8_t *read_fixture(const char *name, size_t *ret_len)
{
    return read_fixture_file(name, ".pb", ret_len);
}

/* Bodies kubectl 1.32 sent and the JSON each must decode to: <name>.json is what
 * `kubectl create ... --dry-run=client -o json` prints (the JSON kubectl <= 1.31 sent), or for
 * commands without one, the wire fields written out by hand. */
static const char *const fixtures[] = {
    "namespace",
    "configmap",
    "secret_generic",
    "secret_docker",
    "serviceaccount",
    "deployment",
    "deployment_zero", /* --replicas=0: a pointer zero, kept */
    "job",
    "cronjob",
    "role",
    "rolebinding",
    "clusterrole",
    "clusterrolebinding",
    "priorityclass",
    "pdb",
    "pdb_zero", /* --max-unavailable=0 */
    "service_clusterip",
    "quota",
    "selfsubjectaccessreview",     /* auth can-i get pods -n kube-system */
    "selfsubjectaccessreview_sub", /* auth can-i create deployments/scale --subresource= */
    "selfsubjectrulesreview",      /* auth can-i --list */
    "selfsubjectreview",           /* auth whoami */
    "token",                       /* create token sa1 */
    "deleteoptions_drain",         /* drain --force --grace-period=0: DELETE of the pod */
};

static void test_kubectl_fixtures(void **state)
{
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        size_t len, jlen;
        uint8_t *data = read_fixture(fixtures[i], &len);
        uint8_t *want = read_fixture_file(fixtures[i], ".json", &jlen);
        json_t *obj = NULL;
        struct kos_error *err = NULL;
        if (proto_decode_body(data, len, &obj, &err) < 0)
            fail_msg("%s: %s", fixtures[i], err ? err->message : "");
        assert_json(obj, (const char *)want);
        json_decref(obj);
        free(data);
        free(want);
    }
    /* create ingress: a kind kos has no table for. */
    size_t len;
    uint8_t *data = read_fixture("ingress", &len);
    body_fails(data, len, 415, "networking.k8s.io/v1, Kind=Ingress");
    free(data);
}

/* Every prefix and every single-byte corruption of real bodies is decoded or refused with a
 * 400/415, never anything else (ASan watches the reads). */
static void test_truncated_and_corrupted(void **state)
{
    static const char *const names[] = {"deployment", "secret_docker", "service_clusterip",
                                        "namespace"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t len;
        uint8_t *data = read_fixture(names[k], &len);
        for (size_t cut = 0; cut <= len; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1); /* exact size: overreads are caught */
            assert_non_null(copy);
            memcpy(copy, data, cut);
            json_t *obj = NULL;
            struct kos_error *err = NULL;
            int r = proto_decode_body(copy, cut, &obj, &err);
            if (r < 0) {
                assert_non_null(err);
                assert_true(err->code == 400 || err->code == 415);
                kos_error_free(err);
            } else {
                json_decref(obj);
            }
            for (size_t at = 0; at < cut; at += 3) {
                uint8_t saved = copy[at];
                copy[at] ^= 0x5a;
                obj = NULL;
                err = NULL;
                r = proto_decode_body(copy, cut, &obj, &err);
                assert_true(r >= 0 || (err && (err->code == 400 || err->code == 415)));
                json_decref(obj);
                kos_error_free(err);
                copy[at] = saved;
            }
            free(copy);
        }
        free(data);
    }
    /* The example the issue gives: a raw length past the end of the body. */
    size_t len;
    uint8_t *data = read_fixture("namespace", &len);
    assert_true(len > 40);
    body_fails(data, 40, 400,
               "error decoding body: protobuf: field 2 length 29 exceeds the 17 bytes left at "
               "offset 23");
    free(data);
}

/* ---- tables ------------------------------------------------------------------------------ */

static bool is_scalar(const struct schema_node *n)
{
    return n->type == SCHEMA_STRING || n->type == SCHEMA_INTEGER || n->type == SCHEMA_NUMBER ||
           n->type == SCHEMA_BOOLEAN;
}

static void test_field_table(void **state)
{
    size_t n;
    const struct proto_field_info *t = proto_field_table(&n);

    assert_true(n > 300);
    for (size_t i = 0; i < n; i++) {
        const struct schema_struct *s = schema_struct_by_name(t[i].owner);
        const struct schema_field *f = schema_struct_field(s, t[i].field);
        if (!f)
            fail_msg("%s.%s is not in the tables", t[i].owner, t[i].field);
        if (i > 0) {
            int c = strcmp(t[i - 1].owner, t[i].owner);
            if (c > 0 || (c == 0 && strcmp(t[i - 1].field, t[i].field) >= 0))
                fail_msg("not sorted at %s.%s", t[i].owner, t[i].field);
        }
        if (t[i].flags & (PROTO_FIELD_POINTER | PROTO_FIELD_NO_OMITEMPTY))
            assert_true(is_scalar(&f->node));
        if (t[i].flags & PROTO_FIELD_MICRO_TIME)
            assert_int_equal(f->node.type, SCHEMA_TIME);
        assert_int_equal(proto_field_flags(t[i].owner, t[i].field), t[i].flags);
    }
    assert_int_equal(proto_field_flags("io.k8s.api.apps.v1.DeploymentSpec", "replicas"),
                     PROTO_FIELD_POINTER);
    assert_int_equal(proto_field_flags("io.k8s.api.apps.v1.DeploymentSpec", "paused"), 0);
    assert_int_equal(proto_field_flags("io.k8s.api.core.v1.ServicePort", "port"),
                     PROTO_FIELD_NO_OMITEMPTY);
    assert_int_equal(proto_field_flags("io.k8s.api.core.v1.Event", "eventTime"),
                     PROTO_FIELD_MICRO_TIME);
    assert_int_equal(proto_field_flags(NULL, "x"), 0);
}

static void test_schema_for(void **state)
{
    assert_string_equal(proto_schema_for("v1", "Namespace")->name, "io.k8s.api.core.v1.Namespace");
    assert_string_equal(proto_schema_for("apps/v1", "Deployment")->name,
                        "io.k8s.api.apps.v1.Deployment");
    assert_string_equal(proto_schema_for("v1", "ResourceQuota")->name,
                        "io.k8s.api.core.v1.ResourceQuota");
    assert_string_equal(proto_schema_for("batch/v1", "CronJob")->name,
                        "io.k8s.api.batch.v1.CronJob");
    assert_string_equal(proto_schema_for("authorization.k8s.io/v1", "SelfSubjectRulesReview")->name,
                        "io.k8s.api.authorization.v1.SelfSubjectRulesReview");
    assert_string_equal(proto_schema_for("apps/v1", "DeleteOptions")->name,
                        "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
    assert_null(proto_schema_for("apps/v1beta2", "Deployment"));
    assert_null(proto_schema_for("v1", "Deployment"));
    assert_null(proto_schema_for("/v1", "Namespace"));
    assert_null(proto_schema_for("batch/v1", "ResourceQuota"));
    assert_null(proto_schema_for(NULL, "Namespace"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varints),          cmocka_unit_test(test_wire_types),
        cmocka_unit_test(test_wire_errors),      cmocka_unit_test(test_depth_and_field_limits),
        cmocka_unit_test(test_packed),           cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_kubectl_fixtures), cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_field_table),      cmocka_unit_test(test_schema_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

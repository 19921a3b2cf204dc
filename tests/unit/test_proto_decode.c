/* Schema-driven decoding of protobuf messages into JSON (api/proto_decode.c): every wire
 * type and schema type, inline structs, packed and unpacked repeated fields, maps, the
 * special messages (Quantity, IntOrString, Time, RawExtension), which zero values are kept,
 * and the errors. */
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
#include "api/schema_tables.h"
#include "codec/json.h"
#include "codec/protobuf.h"
#include "protobuf_helpers.h"

/* ---- schema-driven decoding -------------------------------------------------------------- */

/* A table with every type, under names the pointer/omitempty table does not know (so every
 * zero scalar is dropped). */
static const struct schema_struct t_inner;
static const struct schema_field t_inner_fields[] = {
    /* clang-format off */
    F_STR("s", 1),
    F_I32("n", 2),
    /* clang-format on */
};
static const struct schema_struct t_inner = S("test.Inner", t_inner_fields, NULL);

static const struct schema_field t_all_fields[] = {
    /* clang-format off */
    F_STR("kind", 0),
    F_STR("str", 1),
    F_BYTES("bytes", 2),
    F_I32("i32", 3),
    F_I64("i64", 4),
    F_BOOL("b", 5),
    F_NUM("num", 6),
    F_OBJ("obj", 7, &t_inner),
    F_ARR_STR("strs", 8),
    F_ARR_I32("ints", 9),
    F_MAP_STR("m", 10),
    F_MAP_BYTES("mb", 11),
    F_MAP_QTY("mq", 12),
    F_QTY("q", 13),
    F_IOS("ios", 14),
    F_TIME("t", 15),
    F_ANY("raw", 16),
    F_ARR_OBJ("objs", 17, &t_inner),
    F_NODE("extra", 18, N_MAP(N_ARR(N_STR))),
    F_INLINE("in1", 19, 1, NULL, NULL, N_STR),
    F_INLINE("in2", 19, 2, NULL, NULL, N_OBJ(&t_inner)),
    F_MAP_OBJ("mo", 20, &t_inner),
    F_NODE("nums", 21, N_ARR(N_NUM)),
    F_NODE("bools", 22, N_ARR(N_BOOL)),
    /* clang-format on */
};
static const struct schema_struct t_all = S("test.All", t_all_fields, NULL);

static void all_ok(const struct pbw *w, const char *want)
{
    json_t *obj = NULL;
    struct kos_error *err = NULL;
    int r = proto_decode_message(&t_all, w->buf, w->len, &obj, &err);
    if (r < 0)
        fail_msg("decoding: %d %s", r, err ? err->message : "");
    assert_json(obj, want);
    json_decref(obj);
}

static uint64_t double_bits(double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    return v;
}

static void test_scalars(void **state)
{
    struct pbw w = {0};

    w_str(&w, 1, "héllo");
    w_bytes(&w, 2, "\x00\xff", 2);
    w_uint(&w, 3, (uint64_t)(int64_t)-1); /* a negative int32 is a 10-byte varint */
    w_uint(&w, 4, (uint64_t)INT64_MIN);
    w_uint(&w, 5, 1);
    w_fixed(&w, 6, double_bits(2.5), 8);
    w_uint(&w, 99, 7); /* unknown numbers and wire types are skipped */
    w_fixed(&w, 98, 1, 4);
    w_fixed(&w, 97, 1, 8);
    w_str(&w, 96, "ignored");
    all_ok(&w, "{\"str\":\"héllo\",\"bytes\":\"AP8=\",\"i32\":-1,\"i64\":-9223372036854775808,"
               "\"b\":true,\"num\":2.5}");

    /* Go's decoder keeps the low 32 bits of an int32; bool is any non-zero varint. */
    w.len = 0;
    w_uint(&w, 3, 0x100000005ull);
    w_uint(&w, 5, 2);
    all_ok(&w, "{\"i32\":5,\"b\":true}");

    /* Zero values of omitempty fields are what Go writes for unset fields: dropped, even
     * when a non-zero value came first (the last occurrence wins). */
    w.len = 0;
    w_str(&w, 1, "first");
    w_str(&w, 1, "");
    w_bytes(&w, 2, "", 0);
    w_uint(&w, 3, 0);
    w_uint(&w, 4, 0);
    w_uint(&w, 5, 0);
    w_fixed(&w, 6, double_bits(0.0), 8);
    all_ok(&w, "{}");
}

static void test_messages_and_inline(void **state)
{
    struct pbw w = {0}, a = {0}, b = {0}, in = {0}, empty = {0};

    w_str(&a, 1, "x");
    w_uint(&b, 2, 7);
    w_msg(&w, 7, &a);
    w_msg(&w, 7, &b); /* a message seen twice merges */
    w_msg(&w, 17, &a);
    w_msg(&w, 17, &empty); /* empty messages are kept: Go writes {} for a struct */
    w_str(&in, 1, "inline");
    w_msg(&in, 2, &b);
    w_uint(&in, 3, 1); /* unknown in the inline message */
    w_msg(&w, 19, &in);
    all_ok(&w, "{\"obj\":{\"s\":\"x\",\"n\":7},\"objs\":[{\"s\":\"x\"},{}],"
               "\"in1\":\"inline\",\"in2\":{\"n\":7}}");

    /* Real tables: Volume embeds VolumeSource as message 2; SecretKeySelector embeds
     * LocalObjectReference as message 1. */
    struct pbw vol = {0}, src = {0}, hp = {0};
    w_str(&hp, 1, "/data");
    w_msg(&src, 1, &hp);
    w_str(&vol, 1, "v");
    w_msg(&vol, 2, &src);
    message_ok("io.k8s.api.core.v1.Volume", &vol,
               "{\"name\":\"v\",\"hostPath\":{\"path\":\"/data\"}}");
    struct pbw sel = {0}, ref = {0};
    w_str(&ref, 1, "creds");
    w_msg(&sel, 1, &ref);
    w_str(&sel, 2, "password");
    message_ok("io.k8s.api.core.v1.SecretKeySelector", &sel,
               "{\"name\":\"creds\",\"key\":\"password\"}");
}

static void test_repeated(void **state)
{
    struct pbw w = {0}, packed = {0}, nums = {0}, bools = {0};

    w_str(&w, 8, "a");
    w_str(&w, 8, ""); /* elements are kept, empty or not: apiGroups: [""] */
    w_str(&w, 8, "b");
    w_varint(&packed, 1);
    w_varint(&packed, (uint64_t)(int64_t)-2);
    w_msg(&w, 9, &packed);
    w_uint(&w, 9, 3);                        /* unpacked elements append to the packed ones */
    w_raw(&nums, "\0\0\0\0\0\0\xf8\x3f", 8); /* 1.5 */
    w_msg(&w, 21, &nums);
    w_fixed(&w, 21, double_bits(-0.25), 8);
    w_varint(&bools, 1);
    w_varint(&bools, 0);
    w_msg(&w, 22, &bools);
    all_ok(&w, "{\"strs\":[\"a\",\"\",\"b\"],\"ints\":[1,-2,3],\"nums\":[1.5,-0.25],"
               "\"bools\":[true,false]}");
}

static void test_maps(void **state)
{
    struct pbw w = {0}, e = {0}, items = {0}, q = {0};

    w_entry(&w, 10, "a", "1");
    w_entry(&w, 10, "b", "2");
    w_entry(&w, 10, "a", "3"); /* the last entry of a key wins */
    w_entry(&w, 10, NULL, "nokey");
    w_entry(&w, 10, "novalue", NULL);
    w_bytes(&e, 1, "k", 1);
    w_bytes(&e, 2, "\x01\x02\x03", 3);
    w_msg(&w, 11, &e);
    w_entry(&w, 11, "empty", NULL);
    w_str(&q, 1, "1500m");
    e.len = 0;
    w_str(&e, 1, "cpu");
    w_msg(&e, 2, &q);
    w_msg(&w, 12, &e);
    w_entry(&w, 12, "zero", NULL); /* the zero Quantity */
    w_entry(&w, 20, "o", NULL);
    w_str(&items, 1, "x");
    w_str(&items, 1, "y");
    e.len = 0;
    w_str(&e, 1, "scopes");
    w_msg(&e, 2, &items);
    w_msg(&w, 18, &e);
    all_ok(&w, "{\"m\":{\"a\":\"3\",\"b\":\"2\",\"\":\"nokey\",\"novalue\":\"\"},"
               "\"mb\":{\"k\":\"AQID\",\"empty\":\"\"},\"mq\":{\"cpu\":\"1500m\",\"zero\":\"0\"},"
               "\"mo\":{\"o\":{}},\"extra\":{\"scopes\":[\"x\",\"y\"]}}");
}

static void test_quantity_intorstring_time_raw(void **state)
{
    struct pbw w = {0}, m = {0};

    w_str(&m, 1, "100Mi");
    w_msg(&w, 13, &m);
    m.len = 0;
    w_uint(&m, 1, 0);
    w_uint(&m, 2, 8080);
    w_msg(&w, 14, &m);
    m.len = 0;
    w_uint(&m, 1, 1735689600);
    w_uint(&m, 2, 500); /* metav1.Time renders whole seconds */
    w_msg(&w, 15, &m);
    m.len = 0;
    w_str(&m, 1, "{\"f:metadata\":{\"f:labels\":{}}}");
    w_msg(&w, 16, &m);
    all_ok(&w, "{\"q\":\"100Mi\",\"ios\":8080,\"t\":\"2025-01-01T00:00:00Z\","
               "\"raw\":{\"f:metadata\":{\"f:labels\":{}}}}");

    /* The other forms: a string IntOrString, a negative int one, zero ones; the zero time
     * (an empty message, or year 1) is null; the zero Quantity is "0"; no raw is null. */
    struct pbw empty = {0};
    w.len = m.len = 0;
    w_uint(&m, 1, 1);
    w_str(&m, 3, "http");
    w_msg(&w, 14, &m);
    w_msg(&w, 13, &empty);
    w_msg(&w, 15, &empty);
    w_msg(&w, 16, &empty);
    all_ok(&w, "{\"ios\":\"http\",\"q\":\"0\",\"t\":null,\"raw\":null}");
    w.len = m.len = 0;
    w_uint(&m, 2, (uint64_t)(int64_t)-1);
    w_msg(&w, 14, &m);
    m.len = 0;
    w_uint(&m, 1, (uint64_t)(int64_t)-62135596800);
    w_msg(&w, 15, &m);
    all_ok(&w, "{\"ios\":-1,\"t\":null}");
    w.len = 0;
    w_msg(&w, 14, &empty);
    m.len = 0;
    w_uint(&m, 1, 0); /* the epoch is not the zero time */
    w_msg(&w, 15, &m);
    all_ok(&w, "{\"ios\":0,\"t\":\"1970-01-01T00:00:00Z\"}");
    w.len = m.len = 0;
    w_uint(&m, 1, (uint64_t)(int64_t)-62135596799); /* year 1, padded as Go does */
    w_msg(&w, 15, &m);
    all_ok(&w, "{\"t\":\"0001-01-01T00:00:01Z\"}");
}

static void test_real_tables(void **state)
{
    struct pbw w = {0}, m = {0};

    /* replicas is a pointer: an explicit 0 is kept; minReadySeconds and paused are not. */
    w_uint(&w, 1, 0);
    w_uint(&w, 5, 0);
    w_uint(&w, 7, 0);
    message_ok("io.k8s.api.apps.v1.DeploymentSpec", &w, "{\"replicas\":0}");

    /* value has no omitempty: Go's JSON writes it even when 0. */
    w.len = 0;
    w_uint(&w, 2, 0);
    w_str(&w, 4, "");
    message_ok("io.k8s.api.scheduling.v1.PriorityClass", &w, "{\"value\":0}");

    w.len = 0;
    w_uint(&w, 1, 0);
    w_uint(&w, 4, 0);
    message_ok("io.k8s.api.authorization.v1.SubjectAccessReviewStatus", &w, "{\"allowed\":false}");

    /* Lease times are MicroTime. */
    w.len = 0;
    w_uint(&m, 1, 1735689600);
    w_uint(&m, 2, 123456789);
    w_msg(&w, 4, &m);
    message_ok("io.k8s.api.coordination.v1.LeaseSpec", &w,
               "{\"renewTime\":\"2025-01-01T00:00:00.123456Z\"}");

    /* ObjectMeta: non-pointer strings and ints drop when zero, the time is null. */
    w.len = m.len = 0;
    w_str(&w, 1, "n");
    w_str(&w, 3, "");
    w_uint(&w, 7, 0);
    w_msg(&w, 8, &m);
    w_uint(&w, 10, 0); /* deletionGracePeriodSeconds is a pointer */
    w_entry(&w, 11, "app", "web");
    message_ok("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", &w,
               "{\"name\":\"n\",\"creationTimestamp\":null,\"deletionGracePeriodSeconds\":0,"
               "\"labels\":{\"app\":\"web\"}}");
}

static void test_decode_errors(void **state)
{
    struct pbw w = {0}, m = {0};

    w_uint(&w, 1, 5);
    message_fails(&t_all, &w, 400,
                  "protobuf: field 1 (str of test.All) at offset 0 is a varint, expected a "
                  "length-delimited");
    w.len = 0;
    w_str(&w, 3, "x");
    message_fails(&t_all, &w, 400,
                  "field 3 (i32 of test.All) at offset 0 is a length-delimited, "
                  "expected a varint");
    w.len = 0;
    w_uint(&w, 6, 1);
    message_fails(&t_all, &w, 400, "is a varint, expected a fixed64");
    w.len = 0;
    w_uint(&w, 7, 1);
    message_fails(&t_all, &w, 400, "field 7 (obj of test.All) at offset 0 is a varint");
    w.len = 0;
    w_uint(&w, 19, 1);
    message_fails(&t_all, &w, 400, "field 19 of test.All at offset 0 is a varint");
    w.len = 0;
    w_str(&w, 1, "bad \xc3\x28 utf-8");
    message_fails(&t_all, &w, 400, "the string is not valid UTF-8 or holds a NUL byte");
    w.len = 0;
    w_bytes(&w, 1, "nul\0byte", 8);
    message_fails(&t_all, &w, 400, "the string is not valid UTF-8 or holds a NUL byte");
    w.len = 0;
    w_raw(&m, "\x0a\x03\xed\xa0\x80", 5); /* map key: a UTF-16 surrogate (U+D800) */
    w_msg(&w, 10, &m);
    message_fails(&t_all, &w, 400, "the map key is not valid UTF-8");
    w.len = 0;
    w_fixed(&w, 6, 0x7ff8000000000000ull, 8);
    message_fails(&t_all, &w, 400, "the number is not finite");
    w.len = m.len = 0;
    w_uint(&m, 1, 253402300800); /* year 10000 */
    w_msg(&w, 15, &m);
    message_fails(&t_all, &w, 400,
                  "field 15 (t of test.All) at offset 0: the time is out of range");
    w.len = m.len = 0;
    w_str(&m, 1, "{bad json");
    w_msg(&w, 16, &m);
    message_fails(&t_all, &w, 400, "field 16 (raw of test.All) at offset 0: error decoding body:");

    /* A truncated length inside a nested message names the absolute offset. */
    w.len = m.len = 0;
    w_str(&w, 1, "abc");
    w_raw(&m, "\x0a\x09xy", 4);
    w_msg(&w, 7, &m);
    message_fails(&t_all, &w, 400,
                  "protobuf: field 1 length 9 exceeds the 2 bytes left at offset 9");

    /* The field budget holds for unknown fields too. */
    size_t n = PB_MAX_FIELDS + 1;
    uint8_t *many = malloc(2 * n);
    assert_non_null(many);
    for (size_t i = 0; i < n; i++) {
        many[2 * i] = 0x78; /* field 15, varint */
        many[2 * i + 1] = 0;
    }
    json_t *obj = NULL;
    struct kos_error *err = NULL;
    assert_true(proto_decode_message(schema_struct_by_name("io.k8s.api.core.v1.Pod"), many, 2 * n,
                                     &obj, &err) < 0);
    assert_null(obj);
    assert_int_equal(err->code, 400);
    assert_non_null(strstr(err->message, "protobuf: more than 262144 fields in the body"));
    kos_error_free(err);
    free(many);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_messages_and_inline),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_quantity_intorstring_time_raw),
        cmocka_unit_test(test_real_tables),
        cmocka_unit_test(test_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for store/value.c and value_share.c: shared values keep exactly the bytes they
 * were made from, equal large members are held once, and the last holder frees them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/value.h"
#include "util/buf.h"

/* A pod-like object: a spec and managedFields' fieldsV1 each of fill bytes of padding. */
static char *object(const char *name, const char *time, size_t fill, char c)
{
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    char pad[4096];
    assert_true(fill < sizeof(pad));
    memset(pad, c, fill);
    pad[fill] = '\0';
    assert_int_equal(
        kos_buf_printf(&b,
                       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                       "\"managedFields\":[{\"manager\":\"m\",\"time\":\"%s\","
                       "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{\"f:%s\":{}}}},"
                       "{\"manager\":\"k\",\"fieldsV1\":{\"f:status\":{\"f:%s\":{}}}}],"
                       "\"resourceVersion\":\"7\"},\"spec\":{\"x\":\"%s\"},"
                       "\"status\":{\"phase\":\"Pending\"}}",
                       name, time, pad, pad, pad),
        0);
    char *s = strndup(b.data, b.len);
    kos_buf_free(&b);
    assert_non_null(s);
    return s;
}

static void expect_bytes(const struct kos_value *v, const char *want)
{
    size_t n = strlen(want);
    assert_int_equal(v->len, n);
    char *tmp = NULL;
    const char *got = kos_value_bytes(v, &tmp);
    assert_non_null(got);
    assert_memory_equal(got, want, n);
    assert_int_equal(got[n], '\0');
    free(tmp);
    /* the pieces, one after another, are the same bytes */
    size_t cnt = kos_value_iovcnt(v);
    struct iovec *iov = calloc(cnt, sizeof(*iov));
    assert_non_null(iov);
    assert_int_equal(kos_value_iov(v, iov), cnt);
    size_t at = 0;
    for (size_t i = 0; i < cnt; i++) {
        assert_true(at + iov[i].iov_len <= n);
        assert_memory_equal(iov[i].iov_base, want + at, iov[i].iov_len);
        at += iov[i].iov_len;
    }
    assert_int_equal(at, n);
    free(iov);
    /* and read from any offset, in any size, across the pieces */
    const size_t sizes[] = {1, 5, 13, 512, n + 1};
    char *out = malloc(n + 2);
    assert_non_null(out);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (size_t off = 0; off <= n; off += off < 40 ? 1 : 37) {
            size_t got_n = kos_value_read(v, off, out, sizes[k]);
            size_t exp_n = n - off < sizes[k] ? n - off : sizes[k];
            assert_int_equal(got_n, exp_n);
            assert_memory_equal(out, want + off, got_n);
        }
    }
    assert_int_equal(kos_value_read(v, n + 5, out, 10), 0);
    free(out);
}

/* How many pieces of a and b are the same shared bytes. */
static size_t shared_pieces(const struct kos_value *a, const struct kos_value *b)
{
    struct iovec ia[16], ib[16];
    assert_true(kos_value_iovcnt(a) <= 16 && kos_value_iovcnt(b) <= 16);
    size_t na = kos_value_iov(a, ia), nb = kos_value_iov(b, ib);
    size_t same = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            same += ia[i].iov_base == ib[j].iov_base;
    return same;
}

static void test_shared_bytes_and_pieces(void **state)
{
    (void)state;
    char *a = object("a", "2024-01-01T00:00:00Z", 600, 'p');
    char *b = object("bb", "2024-01-01T00:00:09Z", 600, 'p');
    char *c = object("c", "2024-01-01T00:00:00Z", 600, 'q');
    struct kos_value *va = kos_value_new_shared(a, strlen(a));
    struct kos_value *vb = kos_value_new_shared(b, strlen(b));
    struct kos_value *vc = kos_value_new_shared(c, strlen(c));
    assert_non_null(va);
    assert_non_null(vb);
    assert_non_null(vc);
    expect_bytes(va, a);
    expect_bytes(vb, b);
    expect_bytes(vc, c);
    assert_false(kos_value_is_flat(va));
    /* three large members each; a and b share theirs, c has its own */
    assert_int_equal(shared_pieces(va, vb), 3);
    /* a value outliving the others keeps its shared bytes */
    kos_value_unref(va);
    kos_value_unref(vc);
    expect_bytes(vb, b);
    struct kos_value *ref = kos_value_ref(vb);
    kos_value_unref(vb);
    expect_bytes(ref, b);
    kos_value_unref(ref);
    free(a);
    free(b);
    free(c);
}

/* Escaped quotes and backslashes inside a shared member: the scanner finds its true end. */
static void test_escapes(void **state)
{
    (void)state;
    char pad[400];
    memset(pad, 'e', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    char o[1024];
    int n = snprintf(o, sizeof(o),
                     "{\"metadata\":{\"name\":\"q\\\"}\"},\"spec\":{\"a\":\"x\\\\\","
                     "\"b\":\"\\\"}]\\\\\\\"%s\"},\"status\":{}}",
                     pad);
    assert_true(n > 0 && (size_t)n < sizeof(o));
    for (int round = 0; round < 2; round++) { /* the second one through the hint */
        struct kos_value *v = kos_value_new_shared(o, (size_t)n);
        assert_non_null(v);
        assert_false(kos_value_is_flat(v));
        assert_int_equal(kos_value_iovcnt(v), 3);
        struct iovec iov[3];
        kos_value_iov(v, iov);
        assert_true(iov[1].iov_len > sizeof(pad));
        assert_memory_equal(iov[1].iov_base, "{\"a\":\"x\\\\\"", 9);
        expect_bytes(v, o);
        kos_value_unref(v);
    }
}

static void test_flat_when_nothing_to_share(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "",
        "v1@1",
        "{\"spec\":{\"small\":1}}",
        "[1,2,3]",
        "{\"spec\":", /* cut */
        "{\"metadata\":{\"managedFields\":[1,{\"fieldsV1\":2}]},\"spec\":null}",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct kos_value *v = kos_value_new_shared(inputs[i], strlen(inputs[i]));
        assert_non_null(v);
        assert_true(kos_value_is_flat(v));
        assert_string_equal(v->data, inputs[i]);
        expect_bytes(v, inputs[i]);
        kos_value_unref(v);
    }
    /* malformed after a shareable member: left flat, bytes kept */
    char *o = object("x", "t", 400, 'z');
    size_t n = strlen(o);
    o[n - 1] = ']';
    struct kos_value *v = kos_value_new_shared(o, n);
    assert_non_null(v);
    expect_bytes(v, o);
    kos_value_unref(v);
    free(o);
}

/* A pod spec with kube's kube-api-access-<5 random> volume (in the volumes and a container's
 * volumeMounts): the parts around the random names are shared between pods, the bytes stay
 * exact, and a spec made of pieces is not mistaken for a whole one by the next value. */
static char *sa_pod(const char *name, const char *suffix, char c)
{
    char pad[600];
    memset(pad, c, sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(
        kos_buf_printf(&b,
                       "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                       "\"args\":[\"%s\"],\"volumeMounts\":[{\"name\":\"kube-api-access-%s\","
                       "\"mountPath\":\"/var/run/secrets/kubernetes.io/serviceaccount\"}],"
                       "\"env\":\"%s\"}],\"volumes\":[{\"name\":\"kube-api-access-%s\","
                       "\"projected\":{\"x\":\"%s\"}}]},\"status\":{}}",
                       name, pad, suffix, pad, suffix, pad),
        0);
    char *s = strndup(b.data, b.len);
    kos_buf_free(&b);
    assert_non_null(s);
    return s;
}

static void test_spec_shared_around_sa_volume_names(void **state)
{
    (void)state;
    char *a = sa_pod("a", "x7k2m", 'p');
    char *b = sa_pod("b", "q9z4t", 'p');
    char *c = sa_pod("c", "b5n8w", 'p');
    struct kos_value *va = kos_value_new_shared(a, strlen(a));
    struct kos_value *vb = kos_value_new_shared(b, strlen(b));
    struct kos_value *vc = kos_value_new_shared(c, strlen(c));
    assert_non_null(va);
    assert_non_null(vb);
    assert_non_null(vc);
    expect_bytes(va, a);
    expect_bytes(vb, b);
    expect_bytes(vc, c);
    /* the three stretches of 600 bytes between and after the names are shared */
    assert_int_equal(shared_pieces(va, vc), 3);
    kos_value_unref(va);
    kos_value_unref(vb);
    kos_value_unref(vc);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_bytes_and_pieces),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_flat_when_nothing_to_share),
        cmocka_unit_test(test_spec_shared_around_sa_volume_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/util/strutil.c: the key<sep>value list walker the kubelet-style flags
 * (--kube-reserved, --eviction-hard, --eviction-soft-grace-period...) share. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/cleanup.h"
#include "util/strutil.h"

/* Walks list and writes "key:value;" per item ("key:-;" where the item has no sep). */
static int walk(const char *list, char sep, size_t max, char *out, size_t size)
{
    _cleanup_(kos_kv_iter_done) struct kos_kv_iter it = {0};
    int r = kos_kv_iter_init(&it, list, sep, max);
    if (r < 0)
        return r;
    size_t used = 0;
    out[0] = '\0';
    char *k, *v;
    int n = 0;
    while (kos_kv_iter_next(&it, &k, &v)) {
        int w = snprintf(out + used, size - used, "%s:%s;", k, v ? v : "-");
        assert_true(w > 0 && (size_t)w < size - used);
        used += (size_t)w;
        n++;
    }
    return n;
}

static void test_pairs(void **state)
{
    char out[256];
    assert_int_equal(walk("cpu=100m,memory=1Gi", '=', 100, out, sizeof(out)), 2);
    assert_string_equal(out, "cpu:100m;memory:1Gi;");
    /* cut at the first sep only; the value keeps the rest */
    assert_int_equal(walk("a=b=c", '=', 100, out, sizeof(out)), 1);
    assert_string_equal(out, "a:b=c;");
    assert_int_equal(
        walk("memory.available<100Mi,nodefs.available<10%", '<', 100, out, sizeof(out)), 2);
    assert_string_equal(out, "memory.available:100Mi;nodefs.available:10%;");
    /* empty keys and values are the caller's to judge */
    assert_int_equal(walk("=x,y=", '=', 100, out, sizeof(out)), 2);
    assert_string_equal(out, ":x;y:;");
}

static void test_empty_items_and_lists(void **state)
{
    char out[256];
    assert_int_equal(walk(",,cpu=1,,memory=2,", '=', 100, out, sizeof(out)), 2);
    assert_string_equal(out, "cpu:1;memory:2;");
    assert_int_equal(walk("", '=', 100, out, sizeof(out)), 0);
    assert_int_equal(walk(NULL, '=', 100, out, sizeof(out)), 0);
    assert_int_equal(walk(",,,", '=', 100, out, sizeof(out)), 0);
}

static void test_item_without_sep(void **state)
{
    char out[256];
    assert_int_equal(walk("cpu=1,memory,pid=5", '=', 100, out, sizeof(out)), 3);
    assert_string_equal(out, "cpu:1;memory:-;pid:5;");
    /* the other separator does not count */
    assert_int_equal(walk("memory.available=1Gi", '<', 100, out, sizeof(out)), 1);
    assert_string_equal(out, "memory.available=1Gi:-;");
}

static void test_bounds(void **state)
{
    char out[256];
    assert_int_equal(walk("cpu=1", '=', 5, out, sizeof(out)), 1);
    assert_int_equal(walk("cpu=10", '=', 5, out, sizeof(out)), -E2BIG);
    /* done accepts a failed init, twice, and NULL */
    struct kos_kv_iter it;
    assert_int_equal(kos_kv_iter_init(&it, "cpu=10", '=', 1), -E2BIG);
    char *k, *v;
    assert_false(kos_kv_iter_next(&it, &k, &v));
    kos_kv_iter_done(&it);
    kos_kv_iter_done(&it);
    kos_kv_iter_done(NULL);
    /* after the last item the walker stays at its end */
    assert_int_equal(kos_kv_iter_init(&it, "a=1", '=', 100), 0);
    assert_true(kos_kv_iter_next(&it, &k, &v));
    assert_false(kos_kv_iter_next(&it, &k, &v));
    assert_false(kos_kv_iter_next(&it, &k, &v));
    kos_kv_iter_done(&it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_empty_items_and_lists),
        cmocka_unit_test(test_item_without_sep),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

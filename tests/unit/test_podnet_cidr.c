/* Unit tests for src/util/cidr.c and src/controllers/cidr_set.c: CIDR parsing, splitting a
 * cluster CIDR into per-node subnets, and the node IPAM controller's subnet allocation
 * (rotation, occupy/release, exhaustion, kube's size limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "controllers/cidr_set.h"
#include "util/cidr.h"

static void fmt_eq(const struct kos_cidr *c, const char *want)
{
    char s[24];
    kos_cidr_format(c, s, sizeof(s));
    assert_string_equal(s, want);
}

static void test_parse(void **state)
{
    struct kos_cidr c;
    assert_int_equal(kos_cidr_parse("10.42.0.0/16", true, &c), 0);
    assert_int_equal(c.addr, 0x0a2a0000u);
    assert_int_equal(c.prefix, 16);
    fmt_eq(&c, "10.42.0.0/16");
    /* host bits: refused when strict, cleared otherwise */
    assert_int_equal(kos_cidr_parse("10.42.0.1/16", true, &c), -EINVAL);
    assert_int_equal(kos_cidr_parse("10.42.3.1/16", false, &c), 0);
    fmt_eq(&c, "10.42.0.0/16");
    assert_int_equal(kos_cidr_parse("0.0.0.0/0", true, &c), 0);
    assert_int_equal(kos_cidr_parse("1.2.3.4/32", true, &c), 0);
    const char *bad[] = {"",
                         "10.42.0.0",
                         "10.42.0.0/",
                         "10.42.0.0/33",
                         "10.42.0.0/-1",
                         "10.42.0.0/+8",
                         "10.42.0/16",
                         "10.42.0.256/24",
                         "/16",
                         "10.42.0.0/1 6",
                         "fe80::/64",
                         "10.42.0.0/016",
                         "a.b.c.d/8",
                         "10.42.0.0/16/2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kos_cidr_parse(bad[i], false, &c), -EINVAL);
    assert_int_equal(kos_cidr_parse(NULL, false, &c), -EINVAL);
}

static void test_contains_overlaps(void **state)
{
    struct kos_cidr a, b, c;
    kos_cidr_parse("10.42.0.0/16", true, &a);
    kos_cidr_parse("10.42.7.0/24", true, &b);
    kos_cidr_parse("10.43.0.0/16", true, &c);
    uint32_t ip;
    assert_int_equal(kos_ipv4_parse("10.42.255.255", &ip), 0);
    assert_true(kos_cidr_contains(&a, ip));
    assert_false(kos_cidr_contains(&c, ip));
    assert_true(kos_cidr_overlaps(&a, &b));
    assert_true(kos_cidr_overlaps(&b, &a));
    assert_false(kos_cidr_overlaps(&a, &c));
    assert_int_equal(kos_cidr_mask(24), 0xffffff00u);
    assert_int_equal(kos_cidr_mask(0), 0);
    assert_int_equal(kos_cidr_mask(32), 0xffffffffu);
}

static void test_split(void **state)
{
    struct kos_cidr cluster, sub;
    kos_cidr_parse("10.42.0.0/16", true, &cluster);
    assert_int_equal(kos_cidr_subnet_count(&cluster, 24), 256);
    assert_int_equal(kos_cidr_subnet_count(&cluster, 16), 1);
    assert_int_equal(kos_cidr_subnet_count(&cluster, 15), 0);
    assert_int_equal(kos_cidr_subnet(&cluster, 24, 0, &sub), 0);
    fmt_eq(&sub, "10.42.0.0/24");
    assert_int_equal(kos_cidr_subnet(&cluster, 24, 255, &sub), 0);
    fmt_eq(&sub, "10.42.255.0/24");
    assert_int_equal(kos_cidr_subnet(&cluster, 24, 256, &sub), -ERANGE);
    assert_int_equal(kos_cidr_subnet(&cluster, 26, 5, &sub), 0);
    fmt_eq(&sub, "10.42.1.64/26");
    assert_int_equal(kos_cidr_subnet(&cluster, 8, 0, &sub), -EINVAL);
    uint64_t idx;
    assert_int_equal(kos_cidr_subnet_index(&cluster, &sub, &idx), 0);
    assert_int_equal(idx, 5);
    struct kos_cidr other;
    kos_cidr_parse("10.43.1.0/24", true, &other);
    assert_int_equal(kos_cidr_subnet_index(&cluster, &other, &idx), -ERANGE);
}

static void test_set_allocates_in_turn_and_exhausts(void **state)
{
    struct kos_cidr cluster, c;
    kos_cidr_parse("10.42.0.0/22", true, &cluster);
    struct kos_cidr_set *s = NULL;
    assert_int_equal(kos_cidr_set_new(&cluster, 24, &s), 0);
    assert_int_equal(kos_cidr_set_free_count(s), 4);
    /* a subnet a node already carries is never handed out */
    struct kos_cidr taken;
    kos_cidr_parse("10.42.1.0/24", true, &taken);
    assert_int_equal(kos_cidr_set_occupy(s, &taken), 0);
    assert_int_equal(kos_cidr_set_allocate(s, &c), 0);
    fmt_eq(&c, "10.42.0.0/24");
    assert_int_equal(kos_cidr_set_allocate(s, &c), 0);
    fmt_eq(&c, "10.42.2.0/24");
    assert_int_equal(kos_cidr_set_allocate(s, &c), 0);
    fmt_eq(&c, "10.42.3.0/24");
    assert_int_equal(kos_cidr_set_allocate(s, &c), -ENOSPC);
    /* a released subnet comes back */
    struct kos_cidr freed;
    kos_cidr_parse("10.42.0.0/24", true, &freed);
    assert_int_equal(kos_cidr_set_release(s, &freed), 0);
    assert_false(kos_cidr_set_taken(s, &freed));
    assert_int_equal(kos_cidr_set_allocate(s, &c), 0);
    fmt_eq(&c, "10.42.0.0/24");
    /* not one of the set's subnets */
    struct kos_cidr wrong;
    kos_cidr_parse("10.42.0.0/25", true, &wrong);
    assert_int_equal(kos_cidr_set_occupy(s, &wrong), -ERANGE);
    kos_cidr_parse("192.168.0.0/24", true, &wrong);
    assert_int_equal(kos_cidr_set_release(s, &wrong), -ERANGE);
    kos_cidr_set_free(s);
}

static void test_set_limits(void **state)
{
    struct kos_cidr cluster;
    struct kos_cidr_set *s = NULL;
    kos_cidr_parse("10.0.0.0/8", true, &cluster);
    assert_int_equal(kos_cidr_set_new(&cluster, 24, &s), 0); /* 2^16: the most kube allows */
    kos_cidr_set_free(s);
    assert_int_equal(kos_cidr_set_new(&cluster, 25, &s), -E2BIG);
    assert_int_equal(kos_cidr_set_new(&cluster, 7, &s), -EINVAL);
    assert_int_equal(kos_cidr_set_new(&cluster, 31, &s), -EINVAL);
    kos_cidr_set_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_contains_overlaps),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_set_allocates_in_turn_and_exhausts),
        cmocka_unit_test(test_set_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

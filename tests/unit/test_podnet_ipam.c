/* Unit tests for src/agent/network/ipam.c: the node's pod address allocator (reserved
 * addresses, one address per owner, round-robin, release, exhaustion, persistence across a
 * reopen as after an agent restart, junk files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/network/ipam.h"
#include "tmpdir_helpers.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/kos-ipam-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    tmpdir_remove(dir);
    return 0;
}

static void ip_eq(uint32_t ip, const char *want)
{
    char s[16];
    kos_ipv4_format(ip, s, sizeof(s));
    assert_string_equal(s, want);
}

static void test_allocate_release_exhaust(void **state)
{
    struct kos_cidr c;
    kos_cidr_parse("10.42.0.0/29", true, &c); /* .2 .. .6 usable */
    struct kos_ipam *p = NULL;
    assert_int_equal(kos_ipam_open(dir, &c, &p), 0);
    assert_int_equal(kos_ipam_capacity(p), 5);
    ip_eq(kos_ipam_gateway(&c), "10.42.0.1");
    uint32_t ip, again;
    assert_int_equal(kos_ipam_allocate(p, "pod-a", &ip), 0);
    ip_eq(ip, "10.42.0.2");
    assert_int_equal(kos_ipam_allocate(p, "pod-a", &again), 0); /* idempotent */
    assert_int_equal(again, ip);
    const char *owners[] = {"pod-b", "pod-c", "pod-d", "pod-e"};
    const char *want[] = {"10.42.0.3", "10.42.0.4", "10.42.0.5", "10.42.0.6"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(kos_ipam_allocate(p, owners[i], &ip), 0);
        ip_eq(ip, want[i]);
    }
    assert_int_equal(kos_ipam_used(p), 5);
    assert_int_equal(kos_ipam_allocate(p, "pod-f", &ip), -ENOSPC);
    /* a freed address is given again, and only to one owner */
    assert_int_equal(kos_ipam_release(p, "pod-c"), 0);
    assert_int_equal(kos_ipam_release(p, "pod-c"), 0);
    assert_int_equal(kos_ipam_lookup(p, "pod-c", &ip), -ENOENT);
    assert_int_equal(kos_ipam_allocate(p, "pod-f", &ip), 0);
    ip_eq(ip, "10.42.0.4");
    assert_int_equal(kos_ipam_allocate(p, "pod-g", &ip), -ENOSPC);
    assert_int_equal(kos_ipam_allocate(p, "../etc", &ip), -EINVAL);
    assert_int_equal(kos_ipam_allocate(p, "", &ip), -EINVAL);
    kos_ipam_free(p);
}

static void test_round_robin(void **state)
{
    struct kos_cidr c;
    kos_cidr_parse("10.42.0.0/24", true, &c);
    struct kos_ipam *p = NULL;
    assert_int_equal(kos_ipam_open(dir, &c, &p), 0);
    uint32_t a, b;
    assert_int_equal(kos_ipam_allocate(p, "one", &a), 0);
    assert_int_equal(kos_ipam_release(p, "one"), 0);
    /* the address just freed is not reused at once */
    assert_int_equal(kos_ipam_allocate(p, "two", &b), 0);
    assert_int_not_equal(a, b);
    ip_eq(b, "10.42.0.3");
    kos_ipam_free(p);
}

static void test_persistence(void **state)
{
    struct kos_cidr c;
    kos_cidr_parse("10.42.5.0/24", true, &c);
    struct kos_ipam *p = NULL;
    uint32_t a, b, ip;
    assert_int_equal(kos_ipam_open(dir, &c, &p), 0);
    assert_int_equal(kos_ipam_allocate(p, "uid-1", &a), 0);
    assert_int_equal(kos_ipam_allocate(p, "uid-2", &b), 0);
    kos_ipam_free(p);
    /* junk in the directory: an empty file (a crash mid-write), a reserved address, an
     * address of another CIDR (left alone) */
    char path[512];
    snprintf(path, sizeof(path), "%s/10.42.5.9", dir);
    fclose(fopen(path, "w"));
    snprintf(path, sizeof(path), "%s/10.42.5.255", dir);
    FILE *f = fopen(path, "w");
    fputs("uid-x", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/10.42.6.7", dir);
    f = fopen(path, "w");
    fputs("uid-other", f);
    fclose(f);

    assert_int_equal(kos_ipam_open(dir, &c, &p), 0);
    assert_int_equal(kos_ipam_used(p), 2);
    assert_int_equal(kos_ipam_lookup(p, "uid-1", &ip), 0);
    assert_int_equal(ip, a);
    assert_int_equal(kos_ipam_lookup(p, "uid-2", &ip), 0);
    assert_int_equal(ip, b);
    assert_int_equal(kos_ipam_lookup(p, "uid-x", &ip), -ENOENT);
    /* allocation continues after the last one given before the restart */
    assert_int_equal(kos_ipam_allocate(p, "uid-3", &ip), 0);
    ip_eq(ip, "10.42.5.4");
    snprintf(path, sizeof(path), "%s/10.42.5.9", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/10.42.6.7", dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(kos_ipam_release(p, "uid-1"), 0);
    kos_ipam_free(p);
    assert_int_equal(kos_ipam_open(dir, &c, &p), 0);
    assert_int_equal(kos_ipam_lookup(p, "uid-1", &ip), -ENOENT);
    assert_int_equal(kos_ipam_used(p), 2);
    kos_ipam_free(p);
}

static void test_bad_subnets(void **state)
{
    struct kos_cidr c;
    struct kos_ipam *p = NULL;
    kos_cidr_parse("10.42.0.0/31", true, &c);
    assert_int_equal(kos_ipam_open(dir, &c, &p), -EINVAL);
    kos_cidr_parse("10.0.0.0/8", true, &c);
    assert_int_equal(kos_ipam_open(dir, &c, &p), -EINVAL);
    kos_ipam_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_allocate_release_exhaust, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_subnets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

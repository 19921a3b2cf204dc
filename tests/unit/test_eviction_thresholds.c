/* Unit tests for src/agent/eviction/thresholds.c (and the shared "signal<value" parser of
 * src/agent/node/allocatable.c it uses): --eviction-hard/-soft with percentages and
 * quantities, --eviction-soft-grace-period, --eviction-minimum-reclaim, the periods, the
 * ranking, the allocatableMemory.available copy, and bad input with the kubelet's words. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/eviction/thresholds.h"
#include "util/timeutil.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

static struct evict_config *parse_ok(const struct evict_flags *f)
{
    struct evict_config *c = calloc(1, sizeof(*c));
    struct kos_error *err = NULL;
    int r = evict_config_parse(f, c, &err);
    if (r < 0)
        print_error("unexpected error: %s\n", err ? err->message : "?");
    assert_int_equal(r, 0);
    return c;
}

static const struct evict_threshold *find(const struct evict_config *c, enum evict_signal s,
                                          bool soft)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->t[i].signal == s && (c->t[i].grace_ms > 0) == soft)
            return &c->t[i];
    return NULL;
}

static void test_defaults(void **state)
{
    struct evict_flags f = {0};
    struct evict_config *c = parse_ok(&f);
    /* the kubelet's four hard defaults plus allocatableMemory.available */
    assert_int_equal(c->n, 5);
    const struct evict_threshold *t = find(c, EVICT_SIG_MEMORY, false);
    assert_non_null(t);
    assert_int_equal(t->value.quantity, 100 * MI);
    assert_true(t->value.binary);
    t = find(c, EVICT_SIG_ALLOCATABLE_MEMORY, false);
    assert_non_null(t);
    assert_int_equal(t->value.quantity, 100 * MI);
    t = find(c, EVICT_SIG_NODEFS, false);
    assert_true(t->value.is_percent);
    assert_int_equal(agent_threshold_quantity(&t->value, 1000), 100);
    assert_non_null(find(c, EVICT_SIG_NODEFS_INODES, false));
    assert_non_null(find(c, EVICT_SIG_IMAGEFS, false));
    assert_int_equal(c->transition_ms, 5 * 60 * 1000);
    assert_int_equal(c->housekeeping_ms, 10 * 1000);
    assert_int_equal(c->max_pod_grace_s, 0);
    assert_int_equal(c->ranking, EVICT_RANK_DEFAULT);
    free(c);
}

static void test_soft_grace_reclaim_periods(void **state)
{
    struct evict_flags f = {
        .hard = "memory.available<500Mi,pid.available<5%",
        .soft = "memory.available<1.5Gi,nodefs.available<20%",
        .soft_grace = "memory.available=1m30s,nodefs.available=2m",
        .min_reclaim = "memory.available=0Mi,nodefs.available=500Mi,pid.available=1%",
        .max_pod_grace = "60",
        .transition = "30s",
        .housekeeping = "1s",
        .ranking = "legacy",
    };
    struct evict_config *c = parse_ok(&f);
    assert_int_equal(c->n, 5); /* 2 hard, 2 soft, 1 allocatable copy of the hard memory */
    const struct evict_threshold *t = find(c, EVICT_SIG_MEMORY, true);
    assert_non_null(t);
    assert_int_equal(t->grace_ms, 90000);
    assert_int_equal(t->value.quantity, 1536 * MI);
    assert_true(t->has_min_reclaim);
    assert_int_equal(t->min_reclaim.quantity, 0); /* 0 is a valid minimum reclaim */
    t = find(c, EVICT_SIG_MEMORY, false);
    assert_int_equal(t->value.quantity, 500 * MI);
    assert_true(t->has_min_reclaim);
    t = find(c, EVICT_SIG_NODEFS, true);
    assert_int_equal(t->grace_ms, 120000);
    assert_int_equal(t->min_reclaim.quantity, 500 * MI);
    t = find(c, EVICT_SIG_PID, false);
    assert_true(t->value.is_percent);
    assert_true(t->min_reclaim.is_percent);
    /* float32(1)/100 is 0.0099999998: 999, as the kubelet truncates */
    assert_int_equal(agent_threshold_quantity(&t->min_reclaim, 100000), 999);
    /* soft thresholds are never copied onto allocatable */
    t = find(c, EVICT_SIG_ALLOCATABLE_MEMORY, false);
    assert_int_equal(t->value.quantity, 500 * MI);
    assert_null(find(c, EVICT_SIG_ALLOCATABLE_MEMORY, true));
    assert_int_equal(c->max_pod_grace_s, 60);
    assert_int_equal(c->transition_ms, 30000);
    assert_int_equal(c->housekeeping_ms, 1000);
    assert_int_equal(c->ranking, EVICT_RANK_LEGACY);
    free(c);

    /* no hard thresholds at all; decimal quantities keep their format */
    struct evict_flags g = {.hard = "memory.available<1G", .ranking = "default"};
    c = parse_ok(&g);
    assert_false(c->t[0].value.binary);
    assert_int_equal(c->t[0].value.quantity, 1000000000);
    free(c);
    /* containerfs.* is derived from nodefs, never taken from the user */
    struct evict_flags h = {.hard = "containerfs.available<10%,nodefs.available<5%"};
    c = parse_ok(&h);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->t[0].signal, EVICT_SIG_NODEFS);
    free(c);
}

static void expect_error(const struct evict_flags *f, const char *text)
{
    struct evict_config *c = calloc(1, sizeof(*c));
    struct kos_error *err = NULL;
    int r = evict_config_parse(f, c, &err);
    if (r != -EINVAL)
        print_error("accepted; wanted an error containing \"%s\"\n", text);
    assert_int_equal(r, -EINVAL);
    assert_non_null(err);
    if (!strstr(err->message, text))
        print_error("message \"%s\" lacks \"%s\"\n", err->message, text);
    assert_non_null(strstr(err->message, text));
    kos_error_free(err);
    free(c);
}

static void test_bad_input(void **state)
{
    expect_error(&(struct evict_flags){.soft = "memory.available<1Gi"},
                 "grace period must be specified for the soft eviction threshold "
                 "memory.available");
    expect_error(
        &(struct evict_flags){.soft = "memory.available<1Gi", .soft_grace = "memory.available=-1s"},
        "invalid eviction grace period specified: -1s, must be a positive value");
    expect_error(&(struct evict_flags){.soft_grace = "memory.available=soon"}, "invalid duration");
    expect_error(&(struct evict_flags){.soft_grace = "memory.available"},
                 "malformed pair, expect string=string");
    expect_error(&(struct evict_flags){.soft_grace = "cpu.available=1m"},
                 "unsupported eviction signal cpu.available");
    expect_error(&(struct evict_flags){.hard = "memory.available<0"},
                 "eviction threshold memory.available must be positive: 0");
    expect_error(&(struct evict_flags){.hard = "memory.available<-1Mi"}, "must be positive");
    expect_error(&(struct evict_flags){.hard = "nodefs.available<101%"}, "must be <= 100%");
    expect_error(&(struct evict_flags){.hard = "nodefs.available<-1%"}, "must be >= 0%");
    expect_error(&(struct evict_flags){.hard = "nodefs.available<ten%"}, "invalid percentage");
    expect_error(&(struct evict_flags){.hard = "memory.available<1Qi"}, "failed to parse quantity");
    expect_error(&(struct evict_flags){.hard = "memory.available=1Gi"},
                 "malformed pair, expect string<string");
    expect_error(&(struct evict_flags){.min_reclaim = "memory.available=0%"},
                 "eviction percentage minimum reclaim memory.available must be positive");
    expect_error(&(struct evict_flags){.min_reclaim = "memory.available=-1Mi"},
                 "negative eviction minimum reclaim specified for memory.available");
    expect_error(&(struct evict_flags){.min_reclaim = "bogus=1Mi"},
                 "unsupported eviction signal bogus");
    expect_error(&(struct evict_flags){.max_pod_grace = "ten"}, "--eviction-max-pod-grace-period");
    expect_error(&(struct evict_flags){.transition = "5 minutes"}, "invalid duration");
    expect_error(&(struct evict_flags){.transition = "-5m"}, "must be non-negative");
    expect_error(&(struct evict_flags){.housekeeping = "0s"}, "must be positive");
    expect_error(&(struct evict_flags){.ranking = "qos"}, "--eviction-ranking");
}

static void test_percent_edges(void **state)
{
    /* 0% and 100% are ignored; 100.0% is a real threshold; float32 percentages */
    struct evict_flags f = {.hard = "memory.available<0%,nodefs.available<100%,"
                                    "nodefs.inodesFree<100.0%,imagefs.available<7.5%"};
    struct evict_config *c = parse_ok(&f);
    assert_int_equal(c->n, 2);
    const struct evict_threshold *t = find(c, EVICT_SIG_NODEFS_INODES, false);
    assert_int_equal(agent_threshold_quantity(&t->value, 1000), 1000);
    t = find(c, EVICT_SIG_IMAGEFS, false);
    assert_int_equal(agent_threshold_quantity(&t->value, 1000000), 75000);
    free(c);
}

static void test_durations(void **state)
{
    int64_t ms;
    assert_int_equal(kos_parse_duration_ms("1m30s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(kos_parse_duration_ms("1.5h", &ms), 0);
    assert_int_equal(ms, 5400000);
    assert_int_equal(kos_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(kos_parse_duration_ms("0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(kos_parse_duration_ms("-2m", &ms), 0);
    assert_int_equal(ms, -120000);
    assert_int_equal(kos_parse_duration_ms("1500us", &ms), 0);
    assert_int_equal(ms, 1);
    static const char *const bad[] = {"", "5", "m", "1x", ".s", ".", "1e3s", "0x10s", "1m-5s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (kos_parse_duration_ms(bad[i], &ms) == 0)
            print_error("accepted \"%s\"\n", bad[i]);
        assert_int_not_equal(kos_parse_duration_ms(bad[i], &ms), 0);
    }
    assert_int_equal(kos_parse_duration_ms("1000000h", &ms), -ERANGE);
}

static void test_signal_tables(void **state)
{
    enum evict_signal s;
    assert_int_equal(evict_signal_from_name("pid.available", &s), 0);
    assert_int_equal(s, EVICT_SIG_PID);
    assert_int_equal(evict_signal_from_name("cpu", &s), -EINVAL);
    assert_int_equal(evict_signal_resource(EVICT_SIG_NODEFS_INODES), EVICT_RES_INODES);
    assert_int_equal(evict_signal_resource(EVICT_SIG_IMAGEFS), EVICT_RES_EPHEMERAL_STORAGE);
    assert_int_equal(evict_signal_condition(EVICT_SIG_ALLOCATABLE_MEMORY), EVICT_COND_MEMORY);
    assert_int_equal(evict_signal_condition(EVICT_SIG_IMAGEFS_INODES), EVICT_COND_DISK);
    assert_int_equal(evict_signal_condition(EVICT_SIG_PID), EVICT_COND_PID);
    assert_string_equal(evict_resource_name(EVICT_RES_EPHEMERAL_STORAGE), "ephemeral-storage");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_soft_grace_reclaim_periods),
        cmocka_unit_test(test_bad_input), cmocka_unit_test(test_percent_edges),
        cmocka_unit_test(test_durations), cmocka_unit_test(test_signal_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/agent/node/allocatable.c: --kube-reserved / --system-reserved /
 * --eviction-hard parsing and allocatable = capacity − reservations − hard eviction
 * (spec/resource-semantics.md §3). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/node/allocatable.h"

#define GI (1024LL * 1024 * 1024)
#define MI (1024LL * 1024)

static void test_reserved(void **state)
{
    struct node_resources r;
    struct kos_error *err = NULL;
    assert_int_equal(agent_parse_reserved("--kube-reserved",
                                          "cpu=100m,memory=100Mi,ephemeral-storage=1Gi,pid=1000",
                                          &r, &err),
                     0);
    assert_int_equal(r.milli_cpu, 100);
    assert_int_equal(r.memory, 100 * MI);
    assert_int_equal(r.ephemeral_storage, GI);
    assert_int_equal(r.pid, 1000);
    assert_int_equal(agent_parse_reserved("--kube-reserved", "", &r, &err), 0);
    assert_int_equal(r.milli_cpu, 0);
    assert_int_equal(agent_parse_reserved("--kube-reserved", "cpu=1.5", &r, &err), 0);
    assert_int_equal(r.milli_cpu, 1500);

    assert_int_equal(agent_parse_reserved("--kube-reserved", "gpu=1", &r, &err), -EINVAL);
    assert_string_equal(err->message, "--kube-reserved: cannot reserve \"gpu\" resource");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(agent_parse_reserved("--system-reserved", "cpu", &r, &err), -EINVAL);
    assert_string_equal(
        err->message,
        "invalid argument \"cpu\" for \"--system-reserved\" flag: missing value in cpu");
    kos_error_free(err);
    err = NULL;
    /* empty items are skipped; an item without '=' is named even after good ones */
    assert_int_equal(agent_parse_reserved("--kube-reserved", ",cpu=1,,memory=1Mi,", &r, &err), 0);
    assert_int_equal(r.milli_cpu, 1000);
    assert_int_equal(r.memory, MI);
    assert_int_equal(agent_parse_reserved("--kube-reserved", "cpu=1,pid", &r, &err), -EINVAL);
    assert_string_equal(
        err->message,
        "invalid argument \"cpu=1,pid\" for \"--kube-reserved\" flag: missing value in pid");
    kos_error_free(err);
    err = NULL;
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(agent_parse_reserved("--kube-reserved", big, &r, &err), -EINVAL);
    assert_string_equal(err->message, "--kube-reserved: value too long");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(
        agent_parse_eviction("--eviction-hard", big, &(struct eviction_thresholds){0}, &err),
        -EINVAL);
    assert_string_equal(err->message, "--eviction-hard: value too long");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(agent_parse_eviction("--eviction-hard", "memory.available=1Gi",
                                          &(struct eviction_thresholds){0}, &err),
                     -EINVAL);
    assert_string_equal(err->message, "invalid argument \"memory.available=1Gi\" for "
                                      "\"--eviction-hard\" flag: malformed pair, expect "
                                      "string<string");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(agent_parse_reserved("--system-reserved", "memory=lots", &r, &err), -EINVAL);
    assert_non_null(strstr(err->message, "failed to parse quantity \"lots\""));
    kos_error_free(err);
    err = NULL;
    assert_int_equal(agent_parse_reserved("--system-reserved", "memory=-1Mi", &r, &err), -EINVAL);
    assert_non_null(strstr(err->message, "cannot be negative"));
    kos_error_free(err);
}

static void test_eviction(void **state)
{
    struct eviction_thresholds th;
    struct kos_error *err = NULL;
    assert_int_equal(
        agent_parse_eviction("--eviction-hard", AGENT_EVICTION_HARD_DEFAULT, &th, &err), 0);
    assert_int_equal(th.n, 4);
    const struct eviction_threshold *t = agent_eviction_find(&th, "memory.available");
    assert_non_null(t);
    assert_false(t->is_percent);
    assert_int_equal(t->quantity, 100 * MI);
    t = agent_eviction_find(&th, "nodefs.available");
    assert_true(t->is_percent);
    /* float32 0.1 is 0.100000001490116...: 160 bytes more than 10Gi, as the kubelet gets */
    assert_int_equal(agent_threshold_quantity(t, 100 * GI), 10 * GI + 160);
    /* truncated as int64(float64(capacity) * float32 percentage) */
    assert_int_equal(agent_threshold_quantity(t, 1001), 100);
    t = agent_eviction_find(&th, "imagefs.available");
    assert_int_equal(agent_threshold_quantity(t, 1000000), 150000);
    assert_null(agent_eviction_find(&th, "pid.available"));

    /* 0% and 100% drop the threshold (parseThresholdStatement) */
    assert_int_equal(agent_parse_eviction("--eviction-hard",
                                          "memory.available<0%,nodefs.available<100%", &th, &err),
                     0);
    assert_int_equal(th.n, 0);

    static const char *const bad[] = {
        "memory.available",      "bogus.signal<1Gi",
        "memory.available<-1Mi", "nodefs.available<101%",
        "nodefs.available<-5%",  "nodefs.available<x%",
        "nodefs.available<%",    "memory.available<1Gi,memory.available<2Gi",
        "memory.available<1Qi",  "nodefs.available<0",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (agent_parse_eviction("--eviction-hard", bad[i], &th, &err) != -EINVAL)
            print_error("accepted %s\n", bad[i]);
        assert_non_null(err);
        kos_error_free(err);
    }
    err = NULL;
    assert_int_equal(agent_parse_eviction("--eviction-hard", "bogus<1", &th, &err), -EINVAL);
    assert_string_equal(err->message, "--eviction-hard: unsupported eviction signal bogus");
    kos_error_free(err);
}

static void test_allocatable_docs_example(void **state)
{
    /* website reserve-compute-resources.md: 14.5 CPU, 28.5Gi memory, 88Gi storage */
    struct kos_error *err = NULL;
    struct node_resources cap = {
        .milli_cpu = 16000, .memory = 32 * GI, .ephemeral_storage = 100 * GI, .pods = 110};
    struct node_resources kube, sys, out;
    struct eviction_thresholds th;
    assert_int_equal(agent_parse_reserved("--kube-reserved",
                                          "cpu=1,memory=2Gi,ephemeral-storage=1Gi", &kube, &err),
                     0);
    assert_int_equal(agent_parse_reserved("--system-reserved",
                                          "cpu=500m,memory=1Gi,ephemeral-storage=1Gi", &sys, &err),
                     0);
    assert_int_equal(agent_parse_eviction("--eviction-hard",
                                          "memory.available<500Mi,nodefs.available<10%", &th, &err),
                     0);
    assert_int_equal(agent_allocatable(&cap, &kube, &sys, &th, &out, &err), 0);
    assert_int_equal(out.milli_cpu, 14500);
    assert_int_equal(out.memory, 29 * GI - 500 * MI);       /* the docs round to "28.5Gi" */
    assert_int_equal(out.ephemeral_storage, 88 * GI - 160); /* "88Gi" in the docs, rounded */
    assert_int_equal(out.pods, 110);

    char s[48];
    agent_format_milli_cpu(out.milli_cpu, s, sizeof(s));
    assert_string_equal(s, "14500m");
    agent_format_milli_cpu(16000, s, sizeof(s));
    assert_string_equal(s, "16");
    agent_format_bytes(out.memory, s, sizeof(s));
    assert_string_equal(s, "29196Mi");
    agent_format_bytes(24684084LL * 1024, s, sizeof(s));
    assert_string_equal(s, "24684084Ki");
    agent_format_bytes(1500, s, sizeof(s));
    assert_string_equal(s, "1500");
    agent_format_bytes(0, s, sizeof(s));
    assert_string_equal(s, "0");
}

static void test_allocatable_defaults_and_errors(void **state)
{
    struct kos_error *err = NULL;
    struct node_resources cap = {
        .milli_cpu = 2000, .memory = 8 * GI, .ephemeral_storage = 1000000000, .pods = 110};
    struct eviction_thresholds th;
    struct node_resources out;
    assert_int_equal(
        agent_parse_eviction("--eviction-hard", AGENT_EVICTION_HARD_DEFAULT, &th, &err), 0);
    assert_int_equal(agent_allocatable(&cap, NULL, NULL, &th, &out, &err), 0);
    assert_int_equal(out.milli_cpu, 2000);
    assert_int_equal(out.memory, 8 * GI - 100 * MI);
    assert_int_equal(out.ephemeral_storage, 899999999);

    struct node_resources kube = {.milli_cpu = 3000};
    assert_int_equal(agent_allocatable(&cap, &kube, NULL, &th, &out, &err), -EINVAL);
    assert_non_null(
        strstr(err->message, "Resource \"cpu\" has a reservation of 3 but capacity of 2"));
    kos_error_free(err);
    err = NULL;
    struct node_resources sys = {.memory = 8 * GI};
    assert_int_equal(agent_allocatable(&cap, NULL, &sys, &th, &out, &err), -EINVAL);
    assert_non_null(strstr(err->message, "\"memory\""));
    kos_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserved),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_allocatable_docs_example),
        cmocka_unit_test(test_allocatable_defaults_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

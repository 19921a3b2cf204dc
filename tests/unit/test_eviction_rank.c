/* Unit tests for src/agent/eviction/rank.c: every ranking rule of the kubelet's eviction
 * manager (helpers.go rankMemoryPressure, rankPIDPressure, rankDiskPressureFunc) and the
 * pre-1.9 QoS ranking of --eviction-ranking=legacy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/eviction/rank.h"

#define MI (1024LL * 1024)

static struct evict_candidate pod(size_t index, enum agent_qos qos, int32_t prio, int64_t mem,
                                  int64_t mem_req)
{
    return (struct evict_candidate){.index = index,
                                    .qos = qos,
                                    .priority = prio,
                                    .has_stats = true,
                                    .memory = mem,
                                    .memory_request = mem_req};
}

static void order(struct evict_candidate *c, size_t n, enum evict_resource res,
                  enum evict_ranking rk, const size_t *want)
{
    evict_rank(c, n, res, rk);
    for (size_t i = 0; i < n; i++) {
        if (c[i].index != want[i])
            print_error("position %zu: got pod %zu, want %zu\n", i, c[i].index, want[i]);
        assert_int_equal(c[i].index, want[i]);
    }
}

/* exceedMemoryRequests first: a pod under its request goes after one above, whatever their
 * usage and priority */
static void test_memory_exceeds_requests_first(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_GUARANTEED, 0, 900 * MI, 1000 * MI), /* under its request */
        pod(1, AGENT_QOS_BURSTABLE, 1000, 20 * MI, 10 * MI),  /* above, high priority */
    };
    order(c, 2, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){1, 0});
}

/* then priority: lower first, even when it uses less */
static void test_memory_priority_before_usage(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BURSTABLE, 1000, 900 * MI, 10 * MI),
        pod(1, AGENT_QOS_BEST_EFFORT, 100, 50 * MI, 0),
        pod(2, AGENT_QOS_BURSTABLE, -5, 20 * MI, 10 * MI),
    };
    order(c, 3, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){2, 1, 0});
}

/* then usage above the request, larger first (not absolute usage) */
static void test_memory_usage_minus_request(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BURSTABLE, 0, 500 * MI, 450 * MI), /* 50 above */
        pod(1, AGENT_QOS_BEST_EFFORT, 0, 100 * MI, 0),      /* 100 above */
        pod(2, AGENT_QOS_BURSTABLE, 0, 300 * MI, 100 * MI), /* 200 above */
    };
    order(c, 3, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){2, 1, 0});
    /* under their requests: the one least under goes first */
    struct evict_candidate g[] = {
        pod(0, AGENT_QOS_GUARANTEED, 0, 100 * MI, 1000 * MI),
        pod(1, AGENT_QOS_GUARANTEED, 0, 900 * MI, 1000 * MI),
    };
    order(g, 2, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){1, 0});
}

/* a pod without stats goes first; equal pods keep their order */
static void test_no_stats_first_and_stable(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BEST_EFFORT, 0, 100 * MI, 0),
        pod(1, AGENT_QOS_BEST_EFFORT, 0, 100 * MI, 0),
        pod(2, AGENT_QOS_GUARANTEED, 0, 0, 100 * MI),
    };
    c[2].has_stats = false;
    order(c, 3, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){2, 0, 1});
    evict_rank(c, 0, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT); /* nothing to do */
}

/* PIDs: priority, then process count (no requests) */
static void test_pids(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BEST_EFFORT, 10, 0, 0),
        pod(1, AGENT_QOS_GUARANTEED, 0, 0, 0),
        pod(2, AGENT_QOS_BURSTABLE, 0, 0, 0),
    };
    c[0].processes = 500;
    c[1].processes = 3;
    c[2].processes = 40;
    order(c, 3, EVICT_RES_PIDS, EVICT_RANK_DEFAULT, (size_t[]){2, 1, 0});
}

/* disk: exceeds its ephemeral-storage request, priority, usage minus request */
static void test_disk(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(1, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(2, AGENT_QOS_BURSTABLE, 5, 0, 0),
        pod(3, AGENT_QOS_BURSTABLE, 0, 0, 0),
    };
    c[0].disk = 900 * MI, c[0].disk_request = 1000 * MI; /* under its request */
    c[1].disk = 200 * MI, c[1].disk_request = 100 * MI;  /* 100 over */
    c[2].disk = 900 * MI;                                /* 900 over, higher priority */
    c[3].disk = 350 * MI, c[3].disk_request = 100 * MI;  /* 250 over */
    order(c, 4, EVICT_RES_EPHEMERAL_STORAGE, EVICT_RANK_DEFAULT, (size_t[]){3, 1, 2, 0});
}

/* inodes: every pod using inodes exceeds (no pod can request inodes); then priority, then
 * inodes minus the ephemeral-storage request, as the kubelet computes it */
static void test_inodes(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(1, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(2, AGENT_QOS_BURSTABLE, 0, 0, 0),
    };
    c[0].inodes = 0;
    c[1].inodes = 1000, c[1].disk_request = 990;
    c[2].inodes = 100;
    order(c, 3, EVICT_RES_INODES, EVICT_RANK_DEFAULT, (size_t[]){2, 1, 0});
}

/* legacy: BestEffort, Burstable, Guaranteed; within a class usage above request */
static void test_legacy_qos(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_GUARANTEED, -100, 2000 * MI, 100 * MI),
        pod(1, AGENT_QOS_BURSTABLE, 0, 900 * MI, 10 * MI),
        pod(2, AGENT_QOS_BEST_EFFORT, 1000, 10 * MI, 0),
        pod(3, AGENT_QOS_BURSTABLE, 0, 950 * MI, 10 * MI),
        pod(4, AGENT_QOS_BEST_EFFORT, 1000, 20 * MI, 0),
    };
    order(c, 5, EVICT_RES_MEMORY, EVICT_RANK_LEGACY, (size_t[]){4, 2, 3, 1, 0});
    /* the same pods by the default ranking: priority decides among those above requests */
    struct evict_candidate d[] = {
        pod(0, AGENT_QOS_GUARANTEED, -100, 2000 * MI, 100 * MI),
        pod(1, AGENT_QOS_BURSTABLE, 0, 900 * MI, 10 * MI),
        pod(2, AGENT_QOS_BEST_EFFORT, 1000, 10 * MI, 0),
        pod(3, AGENT_QOS_BURSTABLE, 0, 950 * MI, 10 * MI),
        pod(4, AGENT_QOS_BEST_EFFORT, 1000, 20 * MI, 0),
    };
    order(d, 5, EVICT_RES_MEMORY, EVICT_RANK_DEFAULT, (size_t[]){0, 3, 1, 4, 2});
}

/* legacy disk: QoS, then absolute usage (no requests); legacy PIDs: QoS, processes */
static void test_legacy_disk_and_pids(void **state)
{
    struct evict_candidate c[] = {
        pod(0, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(1, AGENT_QOS_BURSTABLE, 0, 0, 0),
        pod(2, AGENT_QOS_GUARANTEED, 0, 0, 0),
    };
    c[0].disk = 100 * MI, c[0].disk_request = 0;
    c[1].disk = 300 * MI, c[1].disk_request = 290 * MI;
    c[2].disk = 5000 * MI;
    order(c, 3, EVICT_RES_EPHEMERAL_STORAGE, EVICT_RANK_LEGACY, (size_t[]){1, 0, 2});
    struct evict_candidate p[] = {
        pod(0, AGENT_QOS_GUARANTEED, 0, 0, 0),
        pod(1, AGENT_QOS_BEST_EFFORT, 0, 0, 0),
        pod(2, AGENT_QOS_BEST_EFFORT, 0, 0, 0),
    };
    p[0].processes = 900, p[1].processes = 2, p[2].processes = 20;
    order(p, 3, EVICT_RES_PIDS, EVICT_RANK_LEGACY, (size_t[]){2, 1, 0});
    struct evict_candidate i[] = {
        pod(0, AGENT_QOS_BEST_EFFORT, 0, 0, 0),
        pod(1, AGENT_QOS_BEST_EFFORT, 0, 0, 0),
    };
    i[0].inodes = 5, i[1].inodes = 50;
    order(i, 2, EVICT_RES_INODES, EVICT_RANK_LEGACY, (size_t[]){1, 0});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_exceeds_requests_first),
        cmocka_unit_test(test_memory_priority_before_usage),
        cmocka_unit_test(test_memory_usage_minus_request),
        cmocka_unit_test(test_no_stats_first_and_stable),
        cmocka_unit_test(test_pids),
        cmocka_unit_test(test_disk),
        cmocka_unit_test(test_inodes),
        cmocka_unit_test(test_legacy_qos),
        cmocka_unit_test(test_legacy_disk_and_pids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

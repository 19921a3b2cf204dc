/* Unit tests for preemption.c (DefaultPreemption, spec/resource-semantics.md §5.2):
 * eligibility, which nodes are candidates, the minimal victim set with reprieve order and
 * PodDisruptionBudgets, each node-choice criterion, and the messages. */
#include "test_sched_helpers.h"

#include <limits.h>

#include "scheduler/preemption.h"

static struct sched_cache *new_cache(void)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    return c;
}

/* A pod on node: cpu request, priority, labels ("" none) and start time ("" none). */
static void put(struct sched_cache *c, const char *node, const char *name, const char *cpu,
                int prio, const char *labels, const char *start)
{
    char meta[256] = "", status[128] = "{}";
    if (*labels)
        snprintf(meta, sizeof(meta), "\"labels\":%s", labels);
    if (*start)
        snprintf(status, sizeof(status), "{\"startTime\":\"%s\"}", start);
    struct sched_pod *p = mkpod_s(
        name, meta, status,
        "{\"priority\":%d,\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]}", prio,
        cpu);
    bind_pod(c, p, node);
    sched_pod_unref(p);
}

static void preempt(struct sched_cache *c, struct sched_pod *pod, uint32_t offset,
                    struct sched_result *res)
{
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.rand = fixed_rand;
    cfg.rand_ctx = &offset;
    assert_int_equal(sched_schedule_one(c, &cfg, pod, res), 0);
    assert_int_equal(res->outcome, SCHED_UNSCHEDULABLE);
}

static void expect_victims(const struct sched_result *res, const char *node, const char *names)
{
    if (!res->nominated_node_name)
        print_error("no nomination: %s\n", res->message);
    assert_non_null(res->nominated_node_name);
    assert_string_equal(res->nominated_node_name, node);
    char got[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < res->n_victims; i++)
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? "," : "",
                                res->victims[i].name);
    if (strcmp(got, names) != 0)
        print_error("victims %s, want %s\n", got, names);
    assert_string_equal(got, names);
}

static void test_minimal_victims_reprieve_order(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "low1", "300m", 1, "", "");
    put(c, "n1", "low2", "300m", 2, "", "");
    put(c, "n1", "high", "300m", 100, "", "");
    /* 400m needed, 100m free. Without both low pods 700m is free; low2, the more
     * important, is reprieved first and fits back; low1 then cannot. */
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "400m", "", 50);
    struct sched_result res;
    preempt(c, p, 0, &res);
    expect_victims(&res, "n1", "low1");
    assert_false(res.victims[0].deleting);
    assert_int_equal(res.num_pdb_violations, 0);
    /* Success leaves no PostFilter message. */
    assert_string_equal(res.message, "0/1 nodes are available: 1 Insufficient cpu.");
    assert_false(res.clear_nominated_node);
    sched_result_clear(&res);

    /* The preemptor is now nominated to n1: a lower-priority pod cannot take the room,
     * the preemptor itself can once low1 is gone. */
    assert_int_equal(sched_cache_remove_pod(c, "uid-low1"), 0);
    _cleanup_sched_pod_ struct sched_pod *sneaky = simple_pod("sneaky", "200m", "", 10);
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.disable_preemption = true;
    assert_null(chosen(c, &cfg, sneaky));
    expect_node(c, &cfg, p, "n1");
    sched_cache_free(c);
}

static void test_victims_ordered_most_important_first(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "a", "250m", 3, "", "2024-01-01T00:00:10Z");
    put(c, "n1", "b", "250m", 7, "", "");
    put(c, "n1", "c", "250m", 3, "", "2024-01-01T00:00:05Z");
    put(c, "n1", "d", "250m", 5, "", "");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "", 10);
    struct sched_result res;
    preempt(c, p, 0, &res);
    /* Priority first, then the longer-running (earlier start) pod. */
    expect_victims(&res, "n1", "b,d,c,a");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_preemption_policy_never(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "low", "1", 0, "", "");
    _cleanup_sched_pod_ struct sched_pod *p =
        mkpod("p", "",
              "{\"priority\":1000,\"preemptionPolicy\":\"Never\","
              "\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"500m\"}}}]}");
    struct sched_result res;
    preempt(c, p, 0, &res);
    assert_null(res.nominated_node_name);
    assert_int_equal(res.n_victims, 0);
    assert_string_equal(res.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: "
                                     "not eligible due to preemptionPolicy=Never.");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_unresolvable_nodes_not_candidates(void **state)
{
    struct sched_cache *c = new_cache();
    add_node_full(c, "tainted", "1", "4Gi", "110", "{}",
                  "\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]");
    add_node(c, "peers", "1", "4Gi");
    put(c, "tainted", "cheap", "1", 0, "", "");
    put(c, "peers", "peer", "1", 10, "", "");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "", 10);
    struct sched_result res;
    preempt(c, p, 0, &res);
    /* Evicting "cheap" would not help: the taint stays. Equal priority is never a victim. */
    assert_null(res.nominated_node_name);
    assert_true(res.clear_nominated_node);
    assert_string_equal(res.message,
                        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated "
                        "taint {k: }. preemption: 0/2 nodes are available: 1 No preemption victims "
                        "found for incoming pod, 1 Preemption is not helpful for scheduling.");
    sched_result_clear(&res);

    /* A lower-priority pod on the untainted node makes it the candidate. */
    put(c, "peers", "cheap2", "0", 1, "", "");
    _cleanup_sched_pod_ struct sched_pod *q = simple_pod("q", "500m", "", 20);
    preempt(c, q, 0, &res);
    expect_victims(&res, "peers", "peer");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_not_enough_even_without_victims(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "vip", "600m", 100, "", "");
    put(c, "n1", "low", "300m", 1, "", "");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "", 50);
    struct sched_result res;
    preempt(c, p, 0, &res);
    assert_null(res.nominated_node_name);
    assert_string_equal(res.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
                                     "nodes are available: 1 Insufficient cpu.");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void add_pdb(struct sched_cache *c, const char *ns, const char *name, const char *selector,
                    int allowed, const char *disrupted)
{
    _cleanup_json_ json_t *j =
        jf("{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\"},\"spec\":{\"selector\":%s},"
           "\"status\":{\"disruptionsAllowed\":%d,\"disruptedPods\":%s}}",
           ns, name, selector, allowed, disrupted);
    assert_int_equal(sched_cache_upsert_pdb(c, j), 0);
}

static void test_pdb_violations_reprieved_first(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "db1", "300m", 1, "{\"app\":\"db\"}", "2024-01-01T00:00:01Z");
    put(c, "n1", "db2", "300m", 1, "{\"app\":\"db\"}", "2024-01-01T00:00:02Z");
    put(c, "n1", "db3", "300m", 1, "{\"app\":\"db\"}", "2024-01-01T00:00:03Z");
    add_pdb(c, "default", "db", "{\"matchLabels\":{\"app\":\"db\"}}", 1, "{}");
    /* Two of three must go. In importance order db1 uses the one allowed disruption; db2
     * and db3 would violate, so they are reprieved first: db2 fits back, db3 cannot. */
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "", 10);
    struct sched_result res;
    preempt(c, p, 0, &res);
    expect_victims(&res, "n1", "db1,db3");
    assert_int_equal(res.num_pdb_violations, 1);
    sched_result_clear(&res);

    /* A PDB elsewhere, one with an empty selector, or a pod already in disruptedPods
     * count nothing. */
    add_pdb(c, "default", "db", "{\"matchLabels\":{\"app\":\"db\"}}", 0,
            "{\"db1\":\"2024-01-01T00:00:00Z\",\"db2\":\"2024-01-01T00:00:00Z\","
            "\"db3\":\"2024-01-01T00:00:00Z\"}");
    add_pdb(c, "other", "db", "{\"matchLabels\":{\"app\":\"db\"}}", 0, "{}");
    add_pdb(c, "default", "all", "{}", 0, "{}");
    preempt(c, p, 0, &res);
    expect_victims(&res, "n1", "db2,db3");
    assert_int_equal(res.num_pdb_violations, 0);
    sched_result_clear(&res);
    assert_int_equal(sched_cache_remove_pdb(c, "default", "db"), 0);
    assert_int_equal(sched_cache_remove_pdb(c, "default", "db"), -ENOENT);
    sched_cache_free(c);
}

/* Two nodes of 1 cpu; the preemptor needs all of it. */
static struct sched_cache *two_nodes(void)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    add_node(c, "n2", "1", "4Gi");
    return c;
}

static void expect_pick(struct sched_cache *c, int prio, const char *node, const char *victims)
{
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "", prio);
    struct sched_result res;
    preempt(c, p, 0, &res);
    expect_victims(&res, node, victims);
    sched_result_clear(&res);
}

static void test_pick_fewest_pdb_violations(void **state)
{
    struct sched_cache *c = two_nodes();
    put(c, "n1", "guarded", "1", 1, "{\"app\":\"x\"}", "");
    put(c, "n2", "pricier", "1", 50, "", "");
    add_pdb(c, "default", "x", "{\"matchLabels\":{\"app\":\"x\"}}", 0, "{}");
    expect_pick(c, 100, "n2", "pricier");
    sched_cache_free(c);
}

static void test_pick_lowest_highest_priority(void **state)
{
    struct sched_cache *c = two_nodes();
    put(c, "n1", "a", "500m", 10, "", "");
    put(c, "n1", "b", "500m", 1, "", "");
    put(c, "n2", "c", "1", 5, "", "");
    expect_pick(c, 100, "n2", "c");
    sched_cache_free(c);
}

static void test_pick_smallest_priority_sum(void **state)
{
    struct sched_cache *c = two_nodes();
    put(c, "n1", "a", "500m", 5, "", "");
    put(c, "n1", "b", "500m", 3, "", "");
    put(c, "n2", "c", "500m", 5, "", "");
    put(c, "n2", "d", "500m", 1, "", "");
    expect_pick(c, 100, "n2", "c,d");
    sched_cache_free(c);
}

static void test_pick_fewest_victims(void **state)
{
    /* Σ(priority + 2^31) ties: {5} against {5, INT32_MIN}; then fewer victims win. */
    struct sched_cache *c = two_nodes();
    put(c, "n1", "a", "500m", 5, "", "");
    put(c, "n1", "b", "500m", INT_MIN, "", "");
    put(c, "n2", "c", "1", 5, "", "");
    expect_pick(c, 100, "n2", "c");
    sched_cache_free(c);
}

static void test_pick_latest_start(void **state)
{
    struct sched_cache *c = two_nodes();
    put(c, "n1", "old", "1", 5, "", "2024-01-01T00:00:00Z");
    put(c, "n2", "young", "1", 5, "", "2024-06-01T00:00:00Z");
    expect_pick(c, 100, "n2", "young");
    sched_cache_free(c);
}

static void test_pick_first_and_offset(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    add_node(c, "n2", "1", "4Gi");
    add_node(c, "n3", "1", "4Gi");
    put(c, "n1", "a", "1", 5, "", "2024-01-01T00:00:00Z");
    put(c, "n2", "b", "1", 5, "", "2024-01-01T00:00:00Z");
    put(c, "n3", "c", "1", 5, "", "2024-01-01T00:00:00Z");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "", 100);
    struct sched_result res;
    /* All equal: the first candidate found wins; the scan starts at the random offset. */
    preempt(c, p, 0, &res);
    expect_victims(&res, "n1", "a");
    sched_result_clear(&res);
    preempt(c, p, 1, &res);
    expect_victims(&res, "n2", "b");
    sched_result_clear(&res);
    preempt(c, p, 2, &res);
    expect_victims(&res, "n3", "c");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_pick_direct(void **state)
{
    _cleanup_sched_pod_ struct sched_pod *p5 = simple_pod("p5", "", "", 5);
    _cleanup_sched_pod_ struct sched_pod *p3 = simple_pod("p3", "", "", 3);
    struct sched_pod *v1[] = {p5, p3};
    struct sched_pod *v2[] = {p5};
    struct sched_candidate cands[] = {
        {.victims = v1, .n_victims = 2, .num_pdb_violations = 0},
        {.victims = v2, .n_victims = 1, .num_pdb_violations = 1},
        {.victims = v2, .n_victims = 1, .num_pdb_violations = 0},
    };
    assert_int_equal(sched_pick_preemption_candidate(cands, 3), 2);
    assert_int_equal(sched_pick_preemption_candidate(cands, 2), 0);
    assert_int_equal(sched_pick_preemption_candidate(cands, 1), 0);
}

static void test_terminating_victim_on_nominated_node(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    struct sched_pod *dying =
        mkpod_s("dying", "\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"",
                "{\"conditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\","
                "\"reason\":\"PreemptionByScheduler\"}]}",
                "{\"priority\":1,\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}");
    assert_true(dying->preemption_victim);
    bind_pod(c, dying, "n1");
    sched_pod_unref(dying);
    _cleanup_sched_pod_ struct sched_pod *p = mkpod_s(
        "p", "", "{\"nominatedNodeName\":\"n1\"}",
        "{\"priority\":10,\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}");
    struct sched_result res;
    preempt(c, p, 0, &res);
    assert_null(res.nominated_node_name);
    assert_string_equal(res.message, "0/1 nodes are available: 1 Insufficient cpu. preemption: "
                                     "not eligible due to a terminating pod on the nominated "
                                     "node.");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_lower_nominated_cleared(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "n1", "1", "4Gi");
    put(c, "n1", "low", "1", 1, "", "");
    _cleanup_sched_pod_ struct sched_pod *waiting = simple_pod("waiting", "100m", "", 5);
    assert_int_equal(sched_cache_nominate(c, waiting, "n1"), 0);
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "", 50);
    struct sched_result res;
    preempt(c, p, 0, &res);
    expect_victims(&res, "n1", "low");
    assert_int_equal(res.n_lower_nominated, 1);
    assert_string_equal(res.lower_nominated[0].name, "waiting");
    sched_result_clear(&res);
    assert_int_equal(sched_cache_clear_nomination(c, "uid-waiting"), -ENOENT);
    assert_int_equal(sched_cache_clear_nomination(c, "uid-p"), 0);
    sched_cache_free(c);
}

static void test_nominated_node_first(void **state)
{
    struct sched_cache *c = new_cache();
    add_node(c, "roomy", "8", "8Gi");
    add_node(c, "n2", "1", "1Gi");
    /* A nominated pod is tried on its node alone, before any scoring. */
    _cleanup_sched_pod_ struct sched_pod *p =
        mkpod_s("p", "", "{\"nominatedNodeName\":\"n2\"}",
                "{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"500m\"}}}]}");
    struct sched_result res;
    run(c, NULL, p, &res);
    assert_int_equal(res.outcome, SCHED_SCHEDULED);
    assert_string_equal(res.node_name, "n2");
    assert_int_equal(res.evaluated_nodes, 1);
    sched_result_clear(&res);
    _cleanup_sched_pod_ struct sched_pod *q = simple_pod("q", "500m", "", 0);
    expect_node(c, NULL, q, "roomy");
    sched_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_victims_reprieve_order),
        cmocka_unit_test(test_victims_ordered_most_important_first),
        cmocka_unit_test(test_preemption_policy_never),
        cmocka_unit_test(test_unresolvable_nodes_not_candidates),
        cmocka_unit_test(test_not_enough_even_without_victims),
        cmocka_unit_test(test_pdb_violations_reprieved_first),
        cmocka_unit_test(test_pick_fewest_pdb_violations),
        cmocka_unit_test(test_pick_lowest_highest_priority),
        cmocka_unit_test(test_pick_smallest_priority_sum),
        cmocka_unit_test(test_pick_fewest_victims),
        cmocka_unit_test(test_pick_latest_start),
        cmocka_unit_test(test_pick_first_and_offset),
        cmocka_unit_test(test_pick_direct),
        cmocka_unit_test(test_terminating_victim_on_nominated_node),
        cmocka_unit_test(test_lower_nominated_cleared),
        cmocka_unit_test(test_nominated_node_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

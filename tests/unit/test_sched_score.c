/* Unit tests for scores.c and host selection in schedule.c: LeastAllocated and
 * BalancedAllocation on hand-computed values from spec/resource-semantics.md §6.3,
 * TaintToleration and NodeAffinity normalization, plugin weights, random tie-breaking. */
#include "test_sched_helpers.h"

#include "scheduler/scores.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

/* A node model built by hand: allocatable and what is already requested on it. */
static struct sched_node mknode(int64_t cpu, int64_t mem, int64_t req_cpu, int64_t req_mem)
{
    struct sched_node n = {0};
    n.name = (char *)"n";
    n.labels = json_object();
    n.exists = true;
    n.allocatable.milli_cpu = cpu;
    n.allocatable.memory = mem;
    n.allocatable.pods = 110;
    n.requested.milli_cpu = req_cpu;
    n.requested.memory = req_mem;
    n.nonzero_milli_cpu = req_cpu;
    n.nonzero_memory = req_mem;
    return n;
}

static void test_least_allocated(void **state)
{
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "1Gi", 0);
    /* cpu (4000−1500)·100/4000 = 62, memory (8−3)·100/8 = 62 → (62+62)/2 */
    struct sched_node a = mknode(4000, 8 * GI, 1000, 2 * GI);
    assert_int_equal(sched_score_least_allocated(p, &a), 62);
    /* cpu (2000−500)·100/2000 = 75, memory (8−1)·100/8 = 87 → 81 */
    struct sched_node b = mknode(2000, 8 * GI, 0, 0);
    assert_int_equal(sched_score_least_allocated(p, &b), 81);
    /* Over capacity scores 0 for that resource; a resource without allocatable drops out. */
    struct sched_node c = mknode(1000, 0, 900, 0);
    assert_int_equal(sched_score_least_allocated(p, &c), 0);
    struct sched_node d = mknode(1000, 0, 0, 0);
    assert_int_equal(sched_score_least_allocated(p, &d), 50);
    assert_int_equal(sched_least_requested_score(1, 3), 66);
    assert_int_equal(sched_least_requested_score(4, 3), 0);
    assert_int_equal(sched_least_requested_score(0, 0), 0);
    json_decref(a.labels);
    json_decref(b.labels);
    json_decref(c.labels);
    json_decref(d.labels);
}

static void test_least_allocated_nonzero(void **state)
{
    /* No requests: scored as 100m / 200Mi. cpu (1000−100)·100/1000 = 90,
     * memory (1024−200)·100/1024 = 80 → 85. */
    _cleanup_sched_pod_ struct sched_pod *be = simple_pod("be", "", "", 0);
    struct sched_node n = mknode(1000, 1024 * MI, 0, 0);
    assert_int_equal(sched_score_least_allocated(be, &n), 85);
    /* A cpu-only pod gets the memory default: (1000−500)·100/1000 = 50 and 80 → 65. */
    _cleanup_sched_pod_ struct sched_pod *cpu = simple_pod("cpu", "500m", "", 0);
    assert_int_equal(sched_score_least_allocated(cpu, &n), 65);
    json_decref(n.labels);
}

static void test_balanced(void **state)
{
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "1Gi", 0);
    struct sched_node a = mknode(4000, 8 * GI, 1000, 2 * GI);
    assert_int_equal(sched_score_balanced(p, &a), 100); /* 0.375 and 0.375 */
    struct sched_node b = mknode(2000, 8 * GI, 0, 0);
    assert_int_equal(sched_score_balanced(p, &b), 93); /* |0.25 − 0.125|/2 → 93.75 */
    /* Fractions cap at 1: cpu 1600/1000 → 1, memory 0.5 → 75. */
    _cleanup_sched_pod_ struct sched_pod *q = simple_pod("q", "100m", "512Mi", 0);
    struct sched_node c = mknode(1000, 1024 * MI, 1500, 0);
    assert_int_equal(sched_score_balanced(q, &c), 75);
    assert_int_equal(sched_score_least_allocated(q, &c), 25); /* cpu 0, memory 50 */
    /* One resource only: no deviation. */
    struct sched_node d = mknode(1000, 0, 0, 0);
    assert_int_equal(sched_score_balanced(q, &d), 100);
    /* Actual requests, not the non-zero defaults: a cpu-only pod is maximally unbalanced on
     * an empty node with half its cpu: 0.5 vs 0 → 75. */
    _cleanup_sched_pod_ struct sched_pod *cpu = simple_pod("cpu", "500m", "", 0);
    struct sched_node e = mknode(1000, GI, 0, 0);
    assert_int_equal(sched_score_balanced(cpu, &e), 75);
    _cleanup_sched_pod_ struct sched_pod *be = simple_pod("be", "", "", 0);
    assert_false(sched_balanced_applies(be));
    assert_true(sched_balanced_applies(cpu));
    json_decref(a.labels);
    json_decref(b.labels);
    json_decref(c.labels);
    json_decref(d.labels);
    json_decref(e.labels);
}

static void test_normalize(void **state)
{
    int64_t s[3] = {0, 1, 2};
    sched_normalize_scores(s, 3, 1, true);
    assert_int_equal(s[0], 100);
    assert_int_equal(s[1], 50);
    assert_int_equal(s[2], 0);
    int64_t z[2] = {0, 0};
    sched_normalize_scores(z, 2, 1, true);
    assert_int_equal(z[0], 100);
    assert_int_equal(z[1], 100);
    int64_t y[2] = {0, 0};
    sched_normalize_scores(y, 2, 1, false);
    assert_int_equal(y[0], 0);
    int64_t w[3] = {15, 10, 0};
    sched_normalize_scores(w, 3, 1, false);
    assert_int_equal(w[0], 100);
    assert_int_equal(w[1], 66);
    assert_int_equal(w[2], 0);
    /* Strided (the cycle keeps four scores per node). */
    int64_t st[6] = {7, 3, 7, 0, 7, 6};
    sched_normalize_scores(st + 1, 3, 2, false);
    assert_int_equal(st[1], 50);
    assert_int_equal(st[3], 0);
    assert_int_equal(st[5], 100);
    assert_int_equal(st[0], 7);
}

static void test_taint_and_affinity_raw(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    _cleanup_sched_pod_ struct sched_pod *none = mkpod("none", "", "{}");
    _cleanup_sched_pod_ struct sched_pod *tol = mkpod(
        "tol", "",
        "{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\",\"effect\":\"PreferNoSchedule\"},"
        "{\"key\":\"b\",\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}");
    struct sched_taint taints[3] = {
        {.key = (char *)"a", .value = (char *)"", .effect = SCHED_EFFECT_PREFER_NO_SCHEDULE},
        {.key = (char *)"b", .value = (char *)"", .effect = SCHED_EFFECT_PREFER_NO_SCHEDULE},
        {.key = (char *)"c", .value = (char *)"", .effect = SCHED_EFFECT_NO_SCHEDULE},
    };
    struct sched_node n = mknode(1000, GI, 0, 0);
    n.taints = taints;
    n.n_taints = 3;
    n.has_prefer_taints = true;
    assert_int_equal(sched_score_taint_raw(none, &n), 2);
    /* The NoSchedule toleration for b does not apply to PreferNoSchedule. */
    assert_int_equal(sched_score_taint_raw(tol, &n), 1);

    _cleanup_sched_pod_ struct sched_pod *pref = mkpod(
        "pref", "",
        "{\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
        "{\"weight\":10,\"preference\":{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":"
        "\"In\","
        "\"values\":[\"ssd\"]}]}},"
        "{\"weight\":5,\"preference\":{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\","
        "\"values\":[\"a\"]}]}},"
        "{\"weight\":0,\"preference\":{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\","
        "\"values\":[\"a\"]}]}},"
        "{\"weight\":50,\"preference\":{}}]}}}");
    json_object_set_new(n.labels, "disk", json_string("ssd"));
    assert_int_equal(sched_score_affinity_raw(pref, &n), 10);
    json_object_set_new(n.labels, "zone", json_string("a"));
    assert_int_equal(sched_score_affinity_raw(pref, &n), 15);
    assert_int_equal(sched_score_affinity_raw(none, &n), 0);
    json_decref(n.labels);
    sched_cache_free(c);
}

/* ---- whole cycles: weights and selection ---------------------------------------------- */

static void add_pod_on(struct sched_cache *c, const char *name, const char *cpu, const char *mem,
                       const char *node)
{
    struct sched_pod *p = simple_pod(name, cpu, mem, 0);
    bind_pod(c, p, node);
    sched_pod_unref(p);
}

static void test_weighted_sum(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "x", "10", "10Gi");
    add_node(c, "y", "10", "10Gi");
    add_node(c, "z", "10", "10Gi");
    add_pod_on(c, "on-x", "0", "5Gi", "x");
    add_pod_on(c, "on-y", "5", "0", "y");
    add_pod_on(c, "on-z", "3", "3Gi", "z");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "1Gi", 0);
    /* x: least (90+40)/2 = 65, balanced |0.1−0.6|/2 → 75: 140 (+300 taint, 0 affinity)
     * y: least (40+90)/2 = 65, balanced 75: 140
     * z: least (60+60)/2 = 60, balanced 100: 160 → z, though it is the fullest. */
    expect_node(c, NULL, p, "z");

    struct sched_config cfg;
    sched_config_init(&cfg);
    uint32_t zero = 0, one = 1;
    cfg.rand = fixed_rand;
    cfg.weights.balanced = 0; /* LeastAllocated alone: x and y tie at 65 */
    cfg.rand_ctx = &zero;
    expect_node(c, &cfg, p, "y"); /* 0 replaces the pick at the tie */
    cfg.rand_ctx = &one;
    expect_node(c, &cfg, p, "x");
    sched_cache_free(c);
}

static void test_taint_and_affinity_weights(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "plain", "4", "4Gi");
    add_node_full(c, "tainted", "4", "4Gi", "110", "{\"disk\":\"ssd\"}",
                  "\"taints\":[{\"key\":\"spot\",\"effect\":\"PreferNoSchedule\"}]");
    const char *aff =
        "\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":["
        "{\"weight\":1,\"preference\":{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":"
        "\"In\",\"values\":[\"ssd\"]}]}}]}}";
    /* plain: taint 100·3 + affinity 0 = 300; tainted: 0·3 + 100·2 = 200 → plain. */
    _cleanup_sched_pod_ struct sched_pod *p = mkpod("p", "", "{%s}", aff);
    expect_node(c, NULL, p, "plain");
    /* Tolerating the taint: tainted gets 300 + 200. */
    _cleanup_sched_pod_ struct sched_pod *t =
        mkpod("t", "", "{\"tolerations\":[{\"key\":\"spot\",\"operator\":\"Exists\"}],%s}", aff);
    expect_node(c, NULL, t, "tainted");
    /* Without any preference the PreferNoSchedule taint alone decides. */
    _cleanup_sched_pod_ struct sched_pod *q = mkpod("q", "", "{}");
    expect_node(c, NULL, q, "plain");
    sched_cache_free(c);
}

static void test_least_allocated_spreads(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "big", "8", "8Gi");
    add_node(c, "small", "2", "2Gi");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "512Mi", 0);
    expect_node(c, NULL, p, "big");
    /* big: least 18, balanced 100; small: least 75, balanced 100. */
    add_pod_on(c, "fill", "6", "6Gi", "big");
    expect_node(c, NULL, p, "small");
    sched_cache_free(c);
}

/* Scripted random source: returns values from a list in turn. */
struct script {
    const uint32_t *v;
    size_t n, i;
};

static uint32_t scripted(void *ctx, uint32_t n)
{
    struct script *s = ctx;
    uint32_t r = s->v[s->i % s->n];
    s->i++;
    return r % n;
}

static void test_ties_uniform(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "a", "4", "4Gi");
    add_node(c, "b", "4", "4Gi");
    add_node(c, "c", "4", "4Gi");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "100m", "", 0);
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.rand = scripted;
    /* Three-way tie: draws rand(2) at b, rand(3) at c. Each of the 6 equally likely
     * (r2, r3) pairs picks: r3 == 0 → c; else r2 == 0 → b; else a. */
    const struct {
        uint32_t r2, r3;
        const char *want;
    } cases[] = {
        {0, 0, "c"}, {1, 0, "c"}, {0, 1, "b"}, {0, 2, "b"}, {1, 1, "a"}, {1, 2, "a"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t v[2] = {cases[i].r2, cases[i].r3};
        struct script s = {.v = v, .n = 2};
        cfg.rand_ctx = &s;
        expect_node(c, &cfg, p, cases[i].want);
        assert_int_equal(s.i, 2);
    }
    sched_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_least_allocated),
        cmocka_unit_test(test_least_allocated_nonzero),
        cmocka_unit_test(test_balanced),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_taint_and_affinity_raw),
        cmocka_unit_test(test_weighted_sum),
        cmocka_unit_test(test_taint_and_affinity_weights),
        cmocka_unit_test(test_least_allocated_spreads),
        cmocka_unit_test(test_ties_uniform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

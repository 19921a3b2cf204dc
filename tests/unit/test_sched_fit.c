/* Unit tests for the scheduler's resource model (resources.c), Filter plugins (filters.c,
 * taints.c, affinity.c) and the FailedScheduling message built by schedule.c. */
#include "test_sched_helpers.h"

#include <errno.h>

#include "scheduler/resources.h"

#define MI (1024LL * 1024)

static void spec_resources(const char *spec, struct sched_pod_resources *out)
{
    _cleanup_json_ json_t *j = jf("%s", spec);
    assert_int_equal(sched_pod_resources_from_spec(j, out), 0);
}

/* ---- effective requests -------------------------------------------------------------- */

static void test_requests_sum_init_max_overhead(void **state)
{
    struct sched_pod_resources r;
    spec_resources(
        "{\"containers\":["
        "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}}},"
        "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}}}],"
        "\"initContainers\":["
        "{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"500m\",\"memory\":\"32Mi\"}}}],"
        "\"overhead\":{\"cpu\":\"10m\",\"memory\":\"1Mi\"}}",
        &r);
    /* max(100m+250m, 500m) + 10m; max(192Mi, 32Mi) + 1Mi */
    assert_int_equal(r.req.milli_cpu, 510);
    assert_int_equal(r.req.memory, 193 * MI);
    assert_int_equal(r.nonzero_milli_cpu, 510);
    assert_int_equal(r.nonzero_memory, 193 * MI);
    assert_int_equal(r.req.n_scalar, 0);
    sched_pod_resources_clear(&r);
}

static void test_requests_sidecars(void **state)
{
    struct sched_pod_resources r;
    /* s1 and s2 are sidecars (restartPolicy Always): they add to the steady state and run
     * under every later init container. */
    spec_resources(
        "{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"50m\"}}}],"
        "\"initContainers\":["
        "{\"name\":\"s1\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":"
        "\"100m\"}}},"
        "{\"name\":\"i2\",\"resources\":{\"requests\":{\"cpu\":\"300m\"}}},"
        "{\"name\":\"s2\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":"
        "\"200m\"}}}]}",
        &r);
    /* steady: 50+100+200 = 350; init steps: 100, 300+100 = 400, 100+200 = 300 → 400 */
    assert_int_equal(r.req.milli_cpu, 400);
    assert_int_equal(r.req.memory, 0);
    /* Non-zero memory: 200Mi for each of c, s1, s2 in the steady state (600Mi) vs at most
     * 400Mi (i2 + s1) during init. */
    assert_int_equal(r.nonzero_memory, 600 * MI);
    sched_pod_resources_clear(&r);
}

static void test_requests_nonzero_defaults(void **state)
{
    struct sched_pod_resources r;
    spec_resources("{\"containers\":[{\"name\":\"c\"}]}", &r);
    assert_int_equal(r.req.milli_cpu, 0);
    assert_int_equal(r.req.memory, 0);
    assert_int_equal(r.nonzero_milli_cpu, SCHED_DEFAULT_MILLI_CPU_REQUEST);
    assert_int_equal(r.nonzero_memory, SCHED_DEFAULT_MEMORY_REQUEST);
    sched_pod_resources_clear(&r);

    /* An explicit 0 stays 0; only an absent key gets the default. */
    spec_resources("{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{\"cpu\":\"0\"}}},"
                   "{\"name\":\"d\",\"resources\":{\"requests\":{\"memory\":\"1Gi\"}}}]}",
                   &r);
    assert_int_equal(r.nonzero_milli_cpu, 0 + 100);
    assert_int_equal(r.nonzero_memory, 200 * MI + 1024 * MI);
    assert_int_equal(r.req.memory, 1024 * MI);
    sched_pod_resources_clear(&r);
}

static void test_requests_extended_and_pod_level(void **state)
{
    struct sched_pod_resources r;
    spec_resources("{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"
                   "\"cpu\":\"1\",\"nvidia.com/gpu\":\"2\",\"hugepages-2Mi\":\"4Mi\","
                   "\"foo\":\"1\",\"example.com/zero\":\"0\"}}},"
                   "{\"name\":\"d\",\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"1\"}}}],"
                   "\"resources\":{\"requests\":{\"cpu\":\"2500m\"}}}",
                   &r);
    assert_int_equal(r.req.milli_cpu, 2500); /* pod-level cpu replaces the sum */
    assert_int_equal(r.nonzero_milli_cpu, 2500);
    assert_int_equal(r.req.n_scalar, 2); /* "foo" is not a resource, zero is dropped */
    assert_int_equal(sched_resources_scalar(&r.req, "nvidia.com/gpu"), 3);
    assert_int_equal(sched_resources_scalar(&r.req, "hugepages-2Mi"), 4 * MI);
    assert_int_equal(sched_resources_scalar(&r.req, "example.com/zero"), 0);
    sched_pod_resources_clear(&r);

    assert_true(sched_resource_is_scalar("example.com/foo"));
    assert_true(sched_resource_is_scalar("kubernetes.io/batch"));
    assert_true(sched_resource_is_scalar("hugepages-1Gi"));
    assert_true(sched_resource_is_scalar("attachable-volumes-csi-x"));
    assert_false(sched_resource_is_scalar("requests.example.com/foo"));
    assert_false(sched_resource_is_scalar("cpu"));
    assert_false(sched_resource_is_scalar("pods"));

    _cleanup_json_ json_t *bad =
        jf("{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"lots\"}}}]}");
    assert_int_equal(sched_pod_resources_from_spec(bad, &r), -EINVAL);
}

static void test_node_allocatable(void **state)
{
    _cleanup_json_ json_t *n = jf("{\"metadata\":{\"name\":\"n\"},\"status\":{\"allocatable\":{"
                                  "\"cpu\":\"3500m\",\"memory\":\"1Gi\",\"pods\":\"110\","
                                  "\"ephemeral-storage\":\"10Gi\",\"nvidia.com/gpu\":\"4\"}}}");
    struct sched_resources a;
    assert_int_equal(sched_node_allocatable(n, &a), 0);
    assert_int_equal(a.milli_cpu, 3500);
    assert_int_equal(a.memory, 1024 * MI);
    assert_int_equal(a.pods, 110);
    assert_int_equal(a.ephemeral_storage, 10240 * MI);
    assert_int_equal(sched_resources_scalar(&a, "nvidia.com/gpu"), 4);
    sched_resources_clear(&a);

    _cleanup_json_ json_t *none = jf("{\"metadata\":{\"name\":\"n\"}}");
    assert_int_equal(sched_node_allocatable(none, &a), 0);
    assert_int_equal(a.pods, 0);
}

static void test_resources_arith(void **state)
{
    struct sched_resources a = {.milli_cpu = 1}, b = {0};
    _cleanup_json_ json_t *l = jf("{\"cpu\":\"2\",\"x.io/y\":\"3\"}");
    assert_int_equal(sched_resources_from_list(l, &b), 0);
    assert_int_equal(sched_resources_add(&a, &b), 0);
    assert_int_equal(sched_resources_add(&a, &b), 0);
    assert_int_equal(a.milli_cpu, 4001);
    assert_int_equal(sched_resources_scalar(&a, "x.io/y"), 6);
    sched_resources_sub(&a, &b);
    assert_int_equal(sched_resources_scalar(&a, "x.io/y"), 3);
    struct sched_resources c;
    assert_int_equal(sched_resources_copy(&c, &a), 0);
    assert_int_equal(sched_resources_scalar(&c, "x.io/y"), 3);
    sched_resources_clear(&a);
    sched_resources_clear(&b);
    sched_resources_clear(&c);
}

/* ---- NodeResourcesFit ---------------------------------------------------------------- */

static void test_fit_exact_and_insufficient(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "1", "1Gi");

    _cleanup_sched_pod_ struct sched_pod *whole = simple_pod("whole", "1", "1Gi", 0);
    expect_node(c, NULL, whole, "n1"); /* strict >: filling allocatable exactly fits */

    _cleanup_sched_pod_ struct sched_pod *used = simple_pod("used", "100m", "", 0);
    bind_pod(c, used, "n1");
    expect_message(c, whole,
                   "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                   "available: 1 No preemption victims found for incoming pod.");

    /* Both resources short: every reason of the node counts. */
    _cleanup_sched_pod_ struct sched_pod *big = simple_pod("big", "950m", "2Gi", 0);
    expect_message(c, big,
                   "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. "
                   "preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                   "scheduling.");

    /* A pod without requests only needs a pod slot. */
    _cleanup_sched_pod_ struct sched_pod *be = simple_pod("be", "", "", 0);
    _cleanup_sched_pod_ struct sched_pod *filler = simple_pod("filler", "900m", "", 0);
    bind_pod(c, filler, "n1");
    expect_node(c, NULL, be, "n1");
    sched_cache_free(c);
}

static void test_fit_too_many_pods(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "n1", "4", "4Gi", "1", "{}", "");
    struct sched_pod *p1 = simple_pod("p1", "", "", 0);
    bind_pod(c, p1, "n1");
    sched_pod_unref(p1);
    _cleanup_sched_pod_ struct sched_pod *p2 = simple_pod("p2", "1", "", 0);
    expect_message(c, p2,
                   "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are "
                   "available: 1 No preemption victims found for incoming pod.");
    sched_cache_free(c);
}

static void test_fit_ephemeral_and_extended(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    _cleanup_json_ json_t *n = jf("{\"metadata\":{\"name\":\"gpu\"},\"status\":{\"allocatable\":{"
                                  "\"cpu\":\"8\",\"memory\":\"8Gi\",\"pods\":\"10\","
                                  "\"ephemeral-storage\":\"1Gi\",\"nvidia.com/gpu\":\"2\"}}}");
    assert_int_equal(sched_cache_upsert_node(c, n), 0);

    _cleanup_sched_pod_ struct sched_pod *g2 = mkpod(
        "g2", "", "{\"containers\":[{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"2\"}}}]}");
    expect_node(c, NULL, g2, "gpu");
    bind_pod(c, g2, "gpu");
    _cleanup_sched_pod_ struct sched_pod *g1 = mkpod(
        "g1", "", "{\"containers\":[{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"1\"}}}]}");
    expect_message(c, g1,
                   "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 "
                   "nodes are available: 1 No preemption victims found for incoming pod.");
    /* More than the node has at all: preemption cannot help. */
    _cleanup_sched_pod_ struct sched_pod *g3 = mkpod(
        "g3", "", "{\"containers\":[{\"resources\":{\"requests\":{\"nvidia.com/gpu\":\"3\"}}}]}");
    expect_message(c, g3,
                   "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 "
                   "nodes are available: 1 Preemption is not helpful for scheduling.");
    /* A resource the node does not offer at all. */
    _cleanup_sched_pod_ struct sched_pod *fpga =
        mkpod("fpga", "",
              "{\"containers\":[{\"resources\":{\"requests\":{\"xilinx.com/fpga\":\"1\"}}}]}");
    expect_message(c, fpga,
                   "0/1 nodes are available: 1 Insufficient xilinx.com/fpga. preemption: 0/1 "
                   "nodes are available: 1 Preemption is not helpful for scheduling.");
    _cleanup_sched_pod_ struct sched_pod *eph =
        mkpod("eph", "",
              "{\"containers\":[{\"resources\":{\"requests\":{\"ephemeral-storage\":\"2Gi\"}}}]}");
    expect_message(c, eph,
                   "0/1 nodes are available: 1 Insufficient ephemeral-storage. preemption: 0/1 "
                   "nodes are available: 1 Preemption is not helpful for scheduling.");
    sched_cache_free(c);
}

static void test_fit_init_containers_and_overhead(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "1", "1Gi");
    /* 200m steady, but the 1500m init container must fit first. */
    _cleanup_sched_pod_ struct sched_pod *init =
        mkpod("init", "",
              "{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"200m\"}}}],"
              "\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"1500m\"}}}]}");
    expect_message(c, init,
                   "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                   "available: 1 Preemption is not helpful for scheduling.");
    _cleanup_sched_pod_ struct sched_pod *small_init =
        mkpod("small-init", "",
              "{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"900m\"}}}],"
              "\"initContainers\":[{\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}");
    expect_node(c, NULL, small_init, "n1");
    _cleanup_sched_pod_ struct sched_pod *oh =
        mkpod("oh", "",
              "{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"900m\"}}}],"
              "\"overhead\":{\"cpu\":\"200m\"}}");
    expect_message(c, oh,
                   "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are "
                   "available: 1 Preemption is not helpful for scheduling.");
    sched_cache_free(c);
}

static void test_fit_direct(void **state)
{
    struct sched_pod_resources pr = {.req = {.milli_cpu = 500, .memory = 100}};
    struct sched_resources alloc = {.milli_cpu = 1000, .memory = 1000, .pods = 2};
    struct sched_resources used = {.milli_cpu = 500, .memory = 950};
    struct sched_status st;
    assert_false(sched_filter_resources(&pr, &alloc, &used, 2, &st));
    assert_int_equal(st.plugin, SCHED_PLUGIN_NODE_RESOURCES_FIT);
    assert_int_equal(st.code, SCHED_CODE_UNSCHEDULABLE);
    assert_int_equal(st.n, 2);
    assert_int_equal(st.reasons[0].kind, SCHED_R_TOO_MANY_PODS);
    assert_int_equal(st.reasons[1].kind, SCHED_R_MEMORY);
    used.memory = 900;
    assert_true(sched_filter_resources(&pr, &alloc, &used, 1, &st));
    pr.req.milli_cpu = 1001;
    assert_false(sched_filter_resources(&pr, &alloc, &used, 1, &st));
    assert_int_equal(st.code, SCHED_CODE_UNRESOLVABLE);
}

/* ---- taints, cordon, node name --------------------------------------------------------- */

static bool fits_taints(const char *taints, const char *tolerations)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    char spec[2048];
    snprintf(spec, sizeof(spec), "\"taints\":%s", taints);
    add_node_full(c, "n1", "4", "4Gi", "110", "{}", spec);
    _cleanup_sched_pod_ struct sched_pod *p =
        mkpod("p", "", "{\"tolerations\":%s,\"containers\":[{}]}", tolerations);
    char *n = chosen(c, NULL, p);
    bool ok = n != NULL;
    free(n);
    sched_cache_free(c);
    return ok;
}

static void test_taints(void **state)
{
    const char *cp =
        "[{\"key\":\"node-role.kubernetes.io/control-plane\",\"effect\":\"NoSchedule\"}]";
    assert_false(fits_taints(cp, "[]"));
    assert_true(fits_taints(cp, "[{\"operator\":\"Exists\"}]")); /* empty key + Exists: all */
    assert_true(fits_taints(cp, "[{\"key\":\"node-role.kubernetes.io/control-plane\","
                                "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]"));
    assert_false(fits_taints(cp, "[{\"key\":\"node-role.kubernetes.io/control-plane\","
                                 "\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]"));
    assert_false(fits_taints(cp, "[{\"key\":\"other\",\"operator\":\"Exists\"}]"));

    const char *kv = "[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]";
    assert_true(fits_taints(kv, "[{\"key\":\"dedicated\",\"value\":\"gpu\"}]")); /* Equal */
    assert_true(fits_taints(kv, "[{\"key\":\"dedicated\",\"operator\":\"Equal\","
                                "\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]"));
    assert_false(fits_taints(kv, "[{\"key\":\"dedicated\",\"operator\":\"Equal\","
                                 "\"value\":\"cpu\"}]"));
    assert_false(fits_taints(kv, "[{\"key\":\"dedicated\",\"operator\":\"Bogus\"}]"));

    /* PreferNoSchedule only scores; NoExecute filters like NoSchedule. */
    assert_true(fits_taints("[{\"key\":\"k\",\"effect\":\"PreferNoSchedule\"}]", "[]"));
    assert_false(fits_taints("[{\"key\":\"k\",\"effect\":\"NoExecute\"}]", "[]"));
    assert_true(fits_taints("[{\"key\":\"k\",\"effect\":\"NoExecute\"}]",
                            "[{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]"));

    /* The first untolerated taint, in node order, names the reason. */
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "n1", "4", "4Gi", "110", "{}",
                  "\"taints\":[{\"key\":\"a\",\"value\":\"1\",\"effect\":\"NoSchedule\"},"
                  "{\"key\":\"b\",\"value\":\"2\",\"effect\":\"NoExecute\"}]");
    _cleanup_sched_pod_ struct sched_pod *p =
        mkpod("p", "", "{\"tolerations\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}");
    expect_message(c, p,
                   "0/1 nodes are available: 1 node(s) had untolerated taint {b: 2}. preemption: "
                   "0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
    sched_cache_free(c);
}

static void test_unschedulable_and_node_name(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "n1", "4", "4Gi", "110", "{}", "\"unschedulable\":true");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "100m", "", 0);
    expect_message(c, p,
                   "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes "
                   "are available: 1 Preemption is not helpful for scheduling.");
    _cleanup_sched_pod_ struct sched_pod *tol =
        mkpod("tol", "",
              "{\"tolerations\":[{\"key\":\"node.kubernetes.io/unschedulable\","
              "\"operator\":\"Exists\",\"effect\":\"NoSchedule\"}]}");
    expect_node(c, NULL, tol, "n1");

    /* Uncordon. */
    add_node(c, "n1", "4", "4Gi");
    expect_node(c, NULL, p, "n1");

    _cleanup_sched_pod_ struct sched_pod *named = mkpod("named", "", "{\"nodeName\":\"n9\"}");
    struct sched_result res;
    run(c, NULL, named, &res);
    assert_int_equal(res.outcome, SCHED_UNSCHEDULABLE);
    assert_non_null(strstr(res.message, "1 node(s) didn't match the requested node name"));
    assert_int_equal(res.unschedulable_plugins, SCHED_PLUGIN_NODE_NAME);
    sched_result_clear(&res);
    sched_cache_free(c);
}

/* ---- node affinity ------------------------------------------------------------------- */

static bool fits_affinity(const char *labels, const char *spec_members)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "n1", "4", "4Gi", "110", labels, "");
    _cleanup_sched_pod_ struct sched_pod *p = mkpod("p", "", "{%s}", spec_members);
    char *n = chosen(c, NULL, p);
    bool ok = n != NULL;
    free(n);
    sched_cache_free(c);
    return ok;
}

#define REQ(terms)                                                                                 \
    "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"          \
    "{\"nodeSelectorTerms\":" terms "}}}"
#define EXPR(k, op, vals) "{\"key\":\"" k "\",\"operator\":\"" op "\"" vals "}"

static void test_affinity_operators(void **state)
{
    assert_true(fits_affinity("{\"disk\":\"ssd\"}", "\"nodeSelector\":{\"disk\":\"ssd\"}"));
    assert_false(fits_affinity("{\"disk\":\"hdd\"}", "\"nodeSelector\":{\"disk\":\"ssd\"}"));
    assert_false(fits_affinity("{}", "\"nodeSelector\":{\"disk\":\"ssd\"}"));

    const char *lz = "{\"zone\":\"b\",\"cores\":\"8\",\"disk\":\"ssd\"}";
    assert_true(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "In", ",\"values\":[\"a\",\"b\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "In", ",\"values\":[\"c\"]") "]}]")));
    assert_false(fits_affinity(
        "{}", REQ("[{\"matchExpressions\":[" EXPR("zone", "In", ",\"values\":[\"b\"]") "]}]")));
    assert_true(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "NotIn", ",\"values\":[\"a\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "NotIn", ",\"values\":[\"b\"]") "]}]")));
    assert_true(fits_affinity(
        "{}", REQ("[{\"matchExpressions\":[" EXPR("zone", "NotIn", ",\"values\":[\"b\"]") "]}]")));
    assert_true(
        fits_affinity(lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "Exists", "") "]}]")));
    assert_false(
        fits_affinity("{}", REQ("[{\"matchExpressions\":[" EXPR("zone", "Exists", "") "]}]")));
    assert_true(fits_affinity(
        "{}", REQ("[{\"matchExpressions\":[" EXPR("zone", "DoesNotExist", "") "]}]")));
    assert_false(
        fits_affinity(lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "DoesNotExist", "") "]}]")));
    assert_true(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("cores", "Gt", ",\"values\":[\"4\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("cores", "Gt", ",\"values\":[\"8\"]") "]}]")));
    assert_true(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("cores", "Lt", ",\"values\":[\"16\"]") "]}]")));
    assert_false(fits_affinity(
        "{\"cores\":\"many\"}",
        REQ("[{\"matchExpressions\":[" EXPR("cores", "Lt", ",\"values\":[\"16\"]") "]}]")));
    assert_false(fits_affinity(
        "{}", REQ("[{\"matchExpressions\":[" EXPR("cores", "Lt", ",\"values\":[\"16\"]") "]}]")));

    /* matchFields on metadata.name. */
    assert_true(fits_affinity("{}", REQ("[{\"matchFields\":[" EXPR("metadata.name", "In",
                                                                   ",\"values\":[\"n1\"]") "]}]")));
    assert_false(fits_affinity("{}", REQ("[{\"matchFields\":[" EXPR(
                                         "metadata.name", "NotIn", ",\"values\":[\"n1\"]") "]}]")));
    assert_true(fits_affinity("{}", REQ("[{\"matchFields\":[" EXPR("metadata.name", "NotIn",
                                                                   ",\"values\":[\"n2\"]") "]}]")));

    /* Terms are ORed, requirements in a term ANDed. */
    assert_true(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR(
                "zone", "In", ",\"values\":[\"x\"]") "]},"
                                                     "{\"matchExpressions\":[" EXPR(
                                                         "disk", "In",
                                                         ",\"values\":[\"ssd\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "In", ",\"values\":[\"b\"]") "," EXPR(
                "disk", "In", ",\"values\":[\"hdd\"]") "]}]")));
    /* nodeSelector and affinity must both hold. */
    assert_false(
        fits_affinity(lz, "\"nodeSelector\":{\"disk\":\"hdd\"}," REQ(
                              "[{\"matchExpressions\":[" EXPR("zone", "Exists", "") "]}]")));

    /* Invalid or empty terms match nothing. */
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "In", ",\"values\":[]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "Exists", ",\"values\":[\"b\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("cores", "Gt", ",\"values\":[\"x\"]") "]}]")));
    assert_false(fits_affinity(
        lz, REQ("[{\"matchExpressions\":[" EXPR("zone", "Near", ",\"values\":[\"b\"]") "]}]")));
    assert_false(fits_affinity(lz, REQ("[{}]")));
    assert_false(fits_affinity(lz, REQ("[]")));
    assert_true(
        fits_affinity(lz, REQ("[{},{\"matchExpressions\":[" EXPR("zone", "Exists", "") "]}]")));
}

static void test_affinity_message_and_prefilter(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "n1", "1", "1Gi", "110", "{\"disk\":\"hdd\"}", "");
    _cleanup_sched_pod_ struct sched_pod *p =
        mkpod("p", "", "{\"nodeSelector\":{\"disk\":\"ssd\"}}");
    expect_message(c, p,
                   "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. "
                   "preemption: 0/1 nodes are available: 1 Preemption is not helpful for "
                   "scheduling.");
    add_node(c, "n2", "1", "1Gi");
    add_node(c, "n3", "1", "1Gi");
    struct sched_pod *hog = simple_pod("hog", "1", "", 0);
    bind_pod(c, hog, "n2");
    sched_pod_unref(hog);

    /* A DaemonSet pod pinned to n2: only n2 is evaluated, the others fail PreFilter. */
    _cleanup_sched_pod_ struct sched_pod *ds = mkpod(
        "ds", "",
        "{\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]," REQ(
            "[{\"matchFields\":[" EXPR("metadata.name", "In", ",\"values\":[\"n2\"]") "]}]") "}");
    struct sched_result res;
    run(c, NULL, ds, &res);
    assert_int_equal(res.evaluated_nodes, 1);
    assert_string_equal(res.message,
                        "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy "
                        "plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 1 No "
                        "preemption victims found for incoming pod, 2 Preemption is not helpful "
                        "for scheduling.");
    assert_int_equal(res.unschedulable_plugins,
                     SCHED_PLUGIN_NODE_RESOURCES_FIT | SCHED_PLUGIN_NODE_AFFINITY);
    sched_result_clear(&res);

    _cleanup_sched_pod_ struct sched_pod *ds3 =
        mkpod("ds3", "",
              "{" REQ("[{\"matchFields\":[" EXPR("metadata.name", "In",
                                                 ",\"values\":[\"n3\"]") "]}]") "}");
    expect_node(c, NULL, ds3, "n3");

    /* Each term pins two different names at once: nothing can match. */
    _cleanup_sched_pod_ struct sched_pod *conflict = mkpod(
        "conflict", "",
        "{" REQ("[{\"matchFields\":[" EXPR("metadata.name", "In", ",\"values\":[\"n1\"]") "," EXPR(
            "metadata.name", "In", ",\"values\":[\"n2\"]") "]}]") "}");
    expect_message(c, conflict,
                   "0/3 nodes are available: pod affinity terms conflict. preemption: 0/3 nodes "
                   "are available: 3 Preemption is not helpful for scheduling.");
    sched_cache_free(c);
}

/* ---- the FailedScheduling message ---------------------------------------------------- */

static void test_message_example(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node_full(c, "cp", "8", "8Gi", "110", "{}",
                  "\"taints\":[{\"key\":\"node-role.kubernetes.io/control-plane\","
                  "\"effect\":\"NoSchedule\"}]");
    add_node(c, "w1", "1", "4Gi");
    add_node(c, "w2", "1", "4Gi");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "2", "", 0);
    expect_message(c, p,
                   "0/3 nodes are available: 1 node(s) had untolerated taint "
                   "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: "
                   "0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    sched_cache_free(c);
}

static void test_message_sorting(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    char name[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "cordoned-%d", i);
        add_node_full(c, name, "4", "4Gi", "110", "{}", "\"unschedulable\":true");
    }
    for (int i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "small-%d", i);
        add_node(c, name, "1", "4Gi");
    }
    /* Go's sort.Strings on "<count> <reason>": "10 …" sorts before "9 …". */
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "2", "", 0);
    expect_message(c, p,
                   "0/19 nodes are available: 10 node(s) were unschedulable, 9 Insufficient cpu. "
                   "preemption: 0/19 nodes are available: 19 Preemption is not helpful for "
                   "scheduling.");

    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.disable_preemption = true;
    struct sched_result res;
    run(c, &cfg, p, &res);
    assert_string_equal(res.message, "0/19 nodes are available: 10 node(s) were unschedulable, 9 "
                                     "Insufficient cpu.");
    sched_result_clear(&res);
    sched_cache_free(c);
}

static void test_no_nodes(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "", 0);
    struct sched_result res;
    run(c, NULL, p, &res);
    assert_int_equal(res.outcome, SCHED_ERROR);
    assert_string_equal(res.message, "no nodes available to schedule pods");
    sched_result_clear(&res);
    sched_cache_free(c);
}

/* ---- nominated pods and the node scan -------------------------------------------------- */

static void test_nominated_pods_count(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "1", "1Gi");
    _cleanup_sched_pod_ struct sched_pod *a = simple_pod("a", "600m", "", 10);
    assert_int_equal(sched_cache_nominate(c, a, "n1"), 0);

    _cleanup_sched_pod_ struct sched_pod *lower = simple_pod("lower", "600m", "", 5);
    _cleanup_sched_pod_ struct sched_pod *equal = simple_pod("equal", "600m", "", 10);
    _cleanup_sched_pod_ struct sched_pod *higher = simple_pod("higher", "600m", "", 20);
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.disable_preemption = true;
    assert_null(chosen(c, &cfg, lower));
    assert_null(chosen(c, &cfg, equal));
    expect_node(c, &cfg, higher, "n1");
    expect_node(c, &cfg, a, "n1"); /* its own nomination does not count against it */

    assert_int_equal(sched_cache_clear_nomination(c, "uid-a"), 0);
    expect_node(c, &cfg, lower, "n1");
    sched_cache_free(c);
}

static void test_nodes_to_score(void **state)
{
    assert_int_equal(sched_num_feasible_nodes_to_find(0, 50), 50);
    assert_int_equal(sched_num_feasible_nodes_to_find(0, 200), 100);
    assert_int_equal(sched_num_feasible_nodes_to_find(0, 1000), 420);
    assert_int_equal(sched_num_feasible_nodes_to_find(0, 5000), 500);
    assert_int_equal(sched_num_feasible_nodes_to_find(0, 10000), 500);
    assert_int_equal(sched_num_feasible_nodes_to_find(30, 1000), 300);
    assert_int_equal(sched_num_feasible_nodes_to_find(1, 1000), 100);
    assert_int_equal(sched_num_feasible_nodes_to_find(100, 1000), 1000);

    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    char name[32];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "n%03d", i);
        add_node(c, name, "4", "4Gi");
    }
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "100m", "", 0);
    struct sched_result res;
    run(c, NULL, p, &res);
    assert_int_equal(res.outcome, SCHED_SCHEDULED);
    assert_int_equal(res.evaluated_nodes, 100);
    assert_int_equal(res.feasible_nodes, 100);
    /* All 100 tie; a source that always answers 0 replaces the pick at every tie (reservoir
     * sampling), so the last one evaluated wins. */
    assert_string_equal(res.node_name, "n099");
    sched_result_clear(&res);
    /* The next cycle starts where this one stopped: n100..n199. */
    run(c, NULL, p, &res);
    assert_string_equal(res.node_name, "n199");
    sched_result_clear(&res);
    sched_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_sum_init_max_overhead),
        cmocka_unit_test(test_requests_sidecars),
        cmocka_unit_test(test_requests_nonzero_defaults),
        cmocka_unit_test(test_requests_extended_and_pod_level),
        cmocka_unit_test(test_node_allocatable),
        cmocka_unit_test(test_resources_arith),
        cmocka_unit_test(test_fit_exact_and_insufficient),
        cmocka_unit_test(test_fit_too_many_pods),
        cmocka_unit_test(test_fit_ephemeral_and_extended),
        cmocka_unit_test(test_fit_init_containers_and_overhead),
        cmocka_unit_test(test_fit_direct),
        cmocka_unit_test(test_taints),
        cmocka_unit_test(test_unschedulable_and_node_name),
        cmocka_unit_test(test_affinity_operators),
        cmocka_unit_test(test_affinity_message_and_prefilter),
        cmocka_unit_test(test_message_example),
        cmocka_unit_test(test_message_sorting),
        cmocka_unit_test(test_no_nodes),
        cmocka_unit_test(test_nominated_pods_count),
        cmocka_unit_test(test_nodes_to_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

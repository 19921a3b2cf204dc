/* Unit tests for cache.c (nodes, bound / assumed pods, placeholders, nominations, PDBs),
 * map.c, and pod parsing (pod.c). */
#include "test_sched_helpers.h"

#include <errno.h>
#include <pthread.h>

#include "scheduler/intern.h"
#include "util/strmap.h"

static void test_map(void **state)
{
    struct kos_strmap m = {0};
    static char keys[2000][16];
    for (int i = 0; i < 2000; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        assert_int_equal(kos_strmap_put(&m, keys[i], &keys[i]), 0);
    }
    assert_int_equal(m.len, 2000);
    for (int i = 0; i < 2000; i += 2)
        assert_ptr_equal(kos_strmap_remove(&m, keys[i]), &keys[i]);
    assert_null(kos_strmap_remove(&m, "k0"));
    for (int i = 0; i < 2000; i++)
        assert_ptr_equal(kos_strmap_get(&m, keys[i]), i % 2 ? &keys[i] : NULL);
    assert_int_equal(kos_strmap_put(&m, keys[1], NULL), 0); /* replace */
    assert_int_equal(m.len, 1000);
    size_t it = 0, n = 0;
    const char *k;
    void *v;
    while (kos_strmap_next(&m, &it, &k, &v))
        n++;
    assert_int_equal(n, 1000);
    assert_null(kos_strmap_get(&m, "missing"));
    kos_strmap_free(&m);
    assert_null(kos_strmap_get(&m, "k1"));
}

static void expect_usage(struct sched_cache *c, const char *node, int64_t cpu, size_t pods)
{
    struct sched_resources r;
    size_t n = 99;
    assert_int_equal(sched_cache_node_usage(c, node, &r, &n), 0);
    assert_int_equal(r.milli_cpu, cpu);
    assert_int_equal(n, pods);
    sched_resources_clear(&r);
}

static void upsert(struct sched_cache *c, const char *name, const char *node, const char *cpu,
                   const char *phase)
{
    char spec[256];
    snprintf(spec, sizeof(spec),
             "{%s%s%s\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"%s\"}}}]}",
             *node ? "\"nodeName\":\"" : "", node, *node ? "\"," : "", cpu);
    char status[64];
    snprintf(status, sizeof(status), "{\"phase\":\"%s\"}", phase);
    struct sched_pod *p = mkpod_s(name, "", status, "%s", spec);
    assert_int_equal(sched_cache_upsert_pod(c, p), 0);
    sched_pod_unref(p);
}

static void test_bound_pods(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "4", "4Gi");
    add_node(c, "n2", "4", "4Gi");
    upsert(c, "p", "n1", "500m", "Running");
    expect_usage(c, "n1", 500, 1);
    upsert(c, "p", "n1", "700m", "Running"); /* resized */
    expect_usage(c, "n1", 700, 1);
    upsert(c, "p", "n2", "700m", "Running"); /* rebound elsewhere */
    expect_usage(c, "n1", 0, 0);
    expect_usage(c, "n2", 700, 1);
    upsert(c, "p", "n2", "700m", "Succeeded"); /* terminal pods hold nothing */
    expect_usage(c, "n2", 0, 0);
    assert_int_equal(sched_cache_pod_count(c), 0);
    assert_int_equal(sched_cache_remove_pod(c, "uid-p"), -ENOENT);
    upsert(c, "q", "n2", "1", "Pending");
    assert_int_equal(sched_cache_remove_pod(c, "uid-q"), 0);
    expect_usage(c, "n2", 0, 0);
    sched_cache_free(c);
}

static void test_assume_confirm_forget(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "4", "4Gi");
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "1", "", 0);
    assert_int_equal(sched_cache_assume_pod(c, p, "nope"), -ENOENT);
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), 0);
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), -EEXIST);
    char node[32];
    bool assumed = false;
    assert_int_equal(sched_cache_pod_node(c, "uid-p", node, sizeof(node), &assumed), 0);
    assert_string_equal(node, "n1");
    assert_true(assumed);
    expect_usage(c, "n1", 1000, 1);
    assert_int_equal(sched_cache_finish_binding(c, "uid-p"), 0);

    /* The informer sees the binding: confirmed, no longer forgettable. */
    upsert(c, "p", "n1", "1", "Pending");
    assert_int_equal(sched_cache_pod_node(c, "uid-p", node, sizeof(node), &assumed), 0);
    assert_false(assumed);
    assert_int_equal(sched_cache_forget_pod(c, "uid-p"), -ENOENT);
    expect_usage(c, "n1", 1000, 1);

    /* A failed binding is forgotten. */
    _cleanup_sched_pod_ struct sched_pod *q = simple_pod("q", "500m", "", 0);
    assert_int_equal(sched_cache_assume_pod(c, q, "n1"), 0);
    expect_usage(c, "n1", 1500, 2);
    assert_int_equal(sched_cache_forget_pod(c, "uid-q"), 0);
    expect_usage(c, "n1", 1000, 1);
    assert_int_equal(sched_cache_finish_binding(c, "uid-q"), -ENOENT);
    sched_cache_free(c);
}

static void test_node_lifecycle_and_placeholders(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    /* A pod bound to a node the cache has not seen yet. */
    upsert(c, "early", "n1", "1", "Running");
    assert_int_equal(sched_cache_node_count(c), 0);
    expect_usage(c, "n1", 1000, 1);
    add_node(c, "n1", "1", "4Gi");
    assert_int_equal(sched_cache_node_count(c), 1);
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "100m", "", 0);
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.disable_preemption = true;
    assert_null(chosen(c, &cfg, p)); /* the early pod's cpu counts */

    /* Deleting the node keeps its pods' accounting until they go. */
    assert_int_equal(sched_cache_remove_node(c, "n1"), 0);
    assert_int_equal(sched_cache_remove_node(c, "n1"), -ENOENT);
    assert_int_equal(sched_cache_node_count(c), 0);
    expect_usage(c, "n1", 1000, 1);
    assert_int_equal(sched_cache_remove_pod(c, "uid-early"), 0);
    struct sched_resources r;
    assert_int_equal(sched_cache_node_usage(c, "n1", &r, NULL), -ENOENT);

    /* Updates keep pods; bad updates change nothing. */
    add_node(c, "n2", "2", "4Gi");
    upsert(c, "x", "n2", "1", "Running");
    add_node(c, "n2", "3", "8Gi");
    expect_usage(c, "n2", 1000, 1);
    _cleanup_json_ json_t *bad =
        jf("{\"metadata\":{\"name\":\"n2\"},\"spec\":{\"taints\":{\"not\":\"a list\"}}}");
    assert_int_equal(sched_cache_upsert_node(c, bad), -EINVAL);
    _cleanup_json_ json_t *noname = jf("{\"metadata\":{}}");
    assert_int_equal(sched_cache_upsert_node(c, noname), -EINVAL);
    _cleanup_sched_pod_ struct sched_pod *two = simple_pod("two", "2", "", 0);
    expect_node(c, &cfg, two, "n2");
    sched_cache_free(c);
}

static void test_nominations(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "1", "4Gi");
    /* A pending pod carrying status.nominatedNodeName is recorded from its object. */
    struct sched_pod *w = mkpod_s(
        "w", "", "{\"nominatedNodeName\":\"n1\"}",
        "{\"priority\":100,\"containers\":[{\"resources\":{\"requests\":{\"cpu\":\"800m\"}}}]}");
    assert_int_equal(sched_cache_upsert_pod(c, w), 0);
    sched_pod_unref(w);
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "500m", "", 0);
    struct sched_config cfg;
    sched_config_init(&cfg);
    cfg.disable_preemption = true;
    assert_null(chosen(c, &cfg, p));
    /* Nominated to a node that does not exist (yet): kept aside, harmless. */
    assert_int_equal(sched_cache_nominate(c, p, "ghost"), 0);
    assert_int_equal(sched_cache_clear_nomination(c, "uid-p"), 0);
    /* Its nomination cleared by a later update. */
    upsert(c, "w", "", "800m", "Pending");
    expect_node(c, &cfg, p, "n1");
    assert_int_equal(sched_cache_clear_nomination(c, "uid-w"), -ENOENT);
    /* Binding (assume) ends a nomination. */
    assert_int_equal(sched_cache_nominate(c, p, "n1"), 0);
    assert_int_equal(sched_cache_assume_pod(c, p, "n1"), 0);
    assert_int_equal(sched_cache_clear_nomination(c, "uid-p"), -ENOENT);
    sched_cache_free(c);
}

static void test_scalar_accounting(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    _cleanup_json_ json_t *n = jf("{\"metadata\":{\"name\":\"g\"},\"status\":{\"allocatable\":{"
                                  "\"cpu\":\"8\",\"memory\":\"8Gi\",\"pods\":\"10\","
                                  "\"example.com/dev\":\"3\"}}}");
    assert_int_equal(sched_cache_upsert_node(c, n), 0);
    _cleanup_sched_pod_ struct sched_pod *a = mkpod(
        "a", "", "{\"containers\":[{\"resources\":{\"requests\":{\"example.com/dev\":\"2\"}}}]}");
    assert_int_equal(sched_cache_assume_pod(c, a, "g"), 0);
    struct sched_resources r;
    assert_int_equal(sched_cache_node_usage(c, "g", &r, NULL), 0);
    assert_int_equal(sched_resources_scalar(&r, "example.com/dev"), 2);
    sched_resources_clear(&r);
    assert_int_equal(sched_cache_forget_pod(c, "uid-a"), 0);
    assert_int_equal(sched_cache_node_usage(c, "g", &r, NULL), 0);
    assert_int_equal(sched_resources_scalar(&r, "example.com/dev"), 0);
    sched_resources_clear(&r);
    sched_cache_free(c);
}

/* Pods with equal labels (in any key order) and nodeSelector share one copy of each, which
 * goes away with its last pod. */
static void test_pod_labels_shared(void **state)
{
    size_t base = sched_intern_count();
    struct sched_pod *a = mkpod("a", "\"labels\":{\"app\":\"x\",\"tier\":\"web\"}",
                                "{\"nodeSelector\":{\"os\":\"linux\"}}");
    struct sched_pod *b = mkpod("b", "\"labels\":{\"tier\":\"web\",\"app\":\"x\"}",
                                "{\"nodeSelector\":{\"os\":\"linux\"}}");
    struct sched_pod *c = mkpod("c", "\"labels\":{\"app\":\"y\"}", "{}");
    assert_ptr_equal(a->labels, b->labels);
    assert_ptr_equal(a->affinity.node_selector, b->affinity.node_selector);
    assert_ptr_not_equal(a->labels, c->labels);
    assert_string_equal(json_string_value(json_object_get(b->labels, "tier")), "web");
    assert_null(c->affinity.node_selector);
    assert_int_equal(sched_intern_count(), base + 3);
    sched_pod_unref(a);
    assert_int_equal(sched_intern_count(), base + 3);
    assert_string_equal(json_string_value(json_object_get(b->labels, "app")), "x");
    sched_pod_unref(b);
    assert_int_equal(sched_intern_count(), base + 1);
    sched_pod_unref(c);
    assert_int_equal(sched_intern_count(), base);
    assert_null(sched_intern_object(NULL));
    sched_intern_release(NULL);
}

static void test_pod_parse(void **state)
{
    struct sched_pod *p = NULL;
    _cleanup_json_ json_t *nouid = jf("{\"metadata\":{\"name\":\"x\"},\"spec\":{}}");
    assert_int_equal(sched_pod_from_json(nouid, &p), -EINVAL);
    _cleanup_json_ json_t *badprio =
        jf("{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"priority\":\"high\"}}");
    assert_int_equal(sched_pod_from_json(badprio, &p), -EINVAL);
    _cleanup_json_ json_t *badtol =
        jf("{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},\"spec\":{\"tolerations\":{}}}");
    assert_int_equal(sched_pod_from_json(badtol, &p), -EINVAL);
    assert_null(p);

    _cleanup_json_ json_t *ok =
        jf("{\"metadata\":{\"name\":\"x\",\"uid\":\"u\",\"creationTimestamp\":"
           "\"2024-01-01T00:00:01Z\",\"labels\":{\"a\":\"b\"}},"
           "\"spec\":{\"priority\":7,\"schedulerName\":\"other\"},"
           "\"status\":{\"startTime\":\"2024-01-01T00:00:02Z\",\"phase\":\"Running\"}}");
    assert_int_equal(sched_pod_from_json(ok, &p), 0);
    assert_string_equal(p->namespace, "default");
    assert_string_equal(p->scheduler_name, "other");
    assert_int_equal(p->priority, 7);
    assert_int_equal(p->creation_ms, 1704067201000LL);
    assert_int_equal(p->start_ms, 1704067202000LL);
    assert_false(p->terminal);
    assert_false(p->gated);
    assert_string_equal(json_string_value(json_object_get(p->labels, "a")), "b");
    struct sched_pod *ref = sched_pod_ref(p);
    sched_pod_unref(p);
    assert_int_equal(ref->priority, 7);
    sched_pod_unref(ref);
}

/* Informer threads mutate while a scheduler thread decides: a smoke test for the lock. */
struct churn {
    struct sched_cache *c;
    int id;
};

static void *churn_pods(void *arg)
{
    struct churn *ch = arg;
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "c%d-%d", ch->id, i % 20);
        upsert(ch->c, name, i % 2 ? "n1" : "n2", "10m", "Running");
        if (i % 3 == 0) {
            char uid[48];
            snprintf(uid, sizeof(uid), "uid-%s", name);
            sched_cache_remove_pod(ch->c, uid);
        }
    }
    return NULL;
}

static void test_concurrent_smoke(void **state)
{
    struct sched_cache *c;
    assert_int_equal(sched_cache_new(&c), 0);
    add_node(c, "n1", "64", "64Gi");
    add_node(c, "n2", "64", "64Gi");
    pthread_t t[2];
    struct churn ch[2] = {{c, 0}, {c, 1}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn_pods, &ch[i]), 0);
    _cleanup_sched_pod_ struct sched_pod *p = simple_pod("p", "10m", "", 0);
    for (int i = 0; i < 200; i++) {
        struct sched_result res;
        run(c, NULL, p, &res);
        assert_int_equal(res.outcome, SCHED_SCHEDULED);
        sched_result_clear(&res);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    sched_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_bound_pods),
        cmocka_unit_test(test_assume_confirm_forget),
        cmocka_unit_test(test_node_lifecycle_and_placeholders),
        cmocka_unit_test(test_nominations),
        cmocka_unit_test(test_scalar_accounting),
        cmocka_unit_test(test_pod_parse),
        cmocka_unit_test(test_pod_labels_shared),
        cmocka_unit_test(test_concurrent_smoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

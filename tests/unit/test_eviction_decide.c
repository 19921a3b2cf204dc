/* Unit tests for the eviction manager's pure parts: the per-round bookkeeping
 * (src/agent/eviction/decide.c: thresholds met, minimum reclaim, soft grace periods, the
 * pressure transition period, memory first), the messages (message.c), the evicted pod's
 * status (status.c) and the pressure taints (taints.c). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agent/eviction/decide.h"
#include "agent/eviction/message.h"
#include "agent/eviction/status.h"
#include "agent/eviction/taints.h"

#define MI (1024LL * 1024)
#define GI (1024LL * MI)

static struct evict_config *config(const struct evict_flags *f)
{
    struct evict_config *c = calloc(1, sizeof(*c));
    struct kos_error *err = NULL;
    assert_int_equal(evict_config_parse(f, c, &err), 0);
    return c;
}

static void observe(struct evict_observations *o, int64_t mem_avail, int64_t nodefs_avail)
{
    memset(o, 0, sizeof(*o));
    o->o[EVICT_SIG_MEMORY] = (struct evict_observation){true, mem_avail, 16 * GI};
    o->o[EVICT_SIG_NODEFS] = (struct evict_observation){true, nodefs_avail, 100 * GI};
}

static void test_hard_threshold_and_transition(void **state)
{
    struct evict_config *c = config(&(struct evict_flags){
        .hard = "memory.available<1Gi,nodefs.available<10%", .transition = "30s"});
    struct evict_state st = {0};
    struct evict_observations o;
    observe(&o, 2 * GI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 1000), -1);
    assert_int_equal(st.conditions, 0);
    /* strictly below: met at once (hard), condition on */
    observe(&o, GI - 1, 50 * GI);
    int i = evict_decide(&st, c, &o, 2000);
    assert_true(i >= 0);
    assert_int_equal(c->t[i].signal, EVICT_SIG_MEMORY);
    assert_int_equal(st.conditions, EVICT_COND_MEMORY);
    /* exactly at the threshold is not met */
    observe(&o, GI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 3000), -1);
    /* the condition stays for the transition period after it was last seen */
    assert_int_equal(st.conditions, EVICT_COND_MEMORY);
    assert_int_equal(evict_decide(&st, c, &o, 2000 + 29999), -1);
    assert_int_equal(st.conditions, EVICT_COND_MEMORY);
    evict_decide(&st, c, &o, 2000 + 30000);
    assert_int_equal(st.conditions, 0);
    free(c);
}

static void test_memory_before_disk(void **state)
{
    struct evict_config *c =
        config(&(struct evict_flags){.hard = "nodefs.available<10%,memory.available<1Gi"});
    struct evict_state st = {0};
    struct evict_observations o;
    observe(&o, GI / 2, GI);
    int i = evict_decide(&st, c, &o, 1000);
    assert_int_equal(c->t[i].signal, EVICT_SIG_MEMORY);
    assert_int_equal(st.conditions, EVICT_COND_MEMORY | EVICT_COND_DISK);
    observe(&o, 2 * GI, GI);
    i = evict_decide(&st, c, &o, 2000);
    assert_int_equal(c->t[i].signal, EVICT_SIG_NODEFS);
    free(c);
}

static void test_soft_grace_period(void **state)
{
    struct evict_config *c = config(&(struct evict_flags){
        .hard = "memory.available<100Mi",
        .soft = "memory.available<1Gi",
        .soft_grace = "memory.available=10s",
    });
    struct evict_state st = {0};
    struct evict_observations o;
    observe(&o, 500 * MI, 50 * GI);
    /* the condition is on at once, eviction waits for the grace period */
    assert_int_equal(evict_decide(&st, c, &o, 0), -1);
    assert_int_equal(st.conditions, EVICT_COND_MEMORY);
    assert_int_equal(evict_decide(&st, c, &o, 9999), -1);
    int i = evict_decide(&st, c, &o, 10000);
    assert_true(i >= 0);
    assert_true(c->t[i].grace_ms == 10000);
    /* recovering resets the first observation */
    observe(&o, 2 * GI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 11000), -1);
    observe(&o, 500 * MI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 12000), -1);
    free(c);
}

static void test_minimum_reclaim(void **state)
{
    struct evict_config *c = config(&(struct evict_flags){.hard = "memory.available<1Gi",
                                                          .min_reclaim = "memory.available=500Mi"});
    struct evict_state st = {0};
    struct evict_observations o;
    observe(&o, GI - MI, 50 * GI);
    assert_true(evict_decide(&st, c, &o, 0) >= 0);
    /* above the threshold but not past threshold + min reclaim: still met */
    observe(&o, GI + 100 * MI, 50 * GI);
    assert_true(evict_decide(&st, c, &o, 1000) >= 0);
    observe(&o, GI + 500 * MI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 2000), -1);
    /* and then not sticky any more */
    observe(&o, GI + 100 * MI, 50 * GI);
    assert_int_equal(evict_decide(&st, c, &o, 3000), -1);
    /* no observation: never met */
    struct evict_observations none = {0};
    assert_false(evict_threshold_met(&c->t[0], &none.o[EVICT_SIG_MEMORY], false));
    free(c);
}

static void test_quantity_text(void **state)
{
    char s[48];
    evict_format_quantity(93224960, true, s, sizeof(s));
    assert_string_equal(s, "91040Ki");
    evict_format_quantity(100 * MI, true, s, sizeof(s));
    assert_string_equal(s, "100Mi");
    evict_format_quantity(1000, true, s, sizeof(s)); /* BinarySI below 1024 prints decimal */
    assert_string_equal(s, "1k");
    evict_format_quantity(1000000000, false, s, sizeof(s));
    assert_string_equal(s, "1G");
    evict_format_quantity(1500, false, s, sizeof(s));
    assert_string_equal(s, "1500");
    evict_format_quantity(0, true, s, sizeof(s));
    assert_string_equal(s, "0");
}

static void test_messages(void **state)
{
    struct evict_config *c = config(&(struct evict_flags){.hard = "memory.available<100Mi"});
    json_error_t je;
    json_t *pod =
        json_loads("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
                   "{\"name\":\"app\",\"resources\":{\"requests\":{\"memory\":\"200Mi\"}}},"
                   "{\"name\":\"side\"},{\"name\":\"small\",\"resources\":{\"requests\":{"
                   "\"memory\":\"1G\"}}}],"
                   "\"initContainers\":[{\"name\":\"init\"}]}}",
                   0, &je);
    assert_non_null(pod);
    struct evict_observation obs = {true, 93224960, 16 * GI};
    struct evict_pod_stats st = {.found = true, .n_containers = 3};
    snprintf(st.containers[0].name, sizeof(st.containers[0].name), "%s", "app");
    st.containers[0].memory = 1500 * MI;
    snprintf(st.containers[1].name, sizeof(st.containers[1].name), "%s",
             "small"); /* under its request: not named */
    st.containers[1].memory = 10 * MI;
    snprintf(st.containers[2].name, sizeof(st.containers[2].name), "%s", "side");
    st.containers[2].memory = 5000;
    char *m = evict_message(EVICT_RES_MEMORY, &c->t[0], &obs, pod, &st);
    assert_string_equal(m, "The node was low on resource: memory. Threshold quantity: 100Mi, "
                           "available: 91040Ki. Container app was using 1500Mi, request is "
                           "200Mi, has larger consumption of memory. Container side was using "
                           "5000, request is 0, has larger consumption of memory. ");
    free(m);
    /* the Evicted event's annotations name the same containers and usages */
    json_t *ann = NULL;
    m = evict_message_annotated(EVICT_RES_MEMORY, &c->t[0], &obs, pod, &st, &ann);
    assert_non_null(m);
    assert_non_null(ann);
    assert_int_equal(json_object_size(ann), 3);
    assert_string_equal(json_string_value(json_object_get(ann, "offending_containers")),
                        "app,side");
    assert_string_equal(json_string_value(json_object_get(ann, "offending_containers_usage")),
                        "1500Mi,5000");
    assert_string_equal(json_string_value(json_object_get(ann, "starved_resource")), "memory");
    json_decref(ann);
    free(m);
    /* no stats: no annotations at all; disk: empty lists, the starved resource */
    ann = NULL;
    m = evict_message_annotated(EVICT_RES_MEMORY, &c->t[0], &obs, pod, NULL, &ann);
    assert_int_equal(json_object_size(ann), 0);
    json_decref(ann);
    free(m);
    ann = NULL;
    m = evict_message_annotated(EVICT_RES_EPHEMERAL_STORAGE, NULL, NULL, pod, &st, &ann);
    assert_string_equal(json_string_value(json_object_get(ann, "offending_containers")), "");
    assert_string_equal(json_string_value(json_object_get(ann, "offending_containers_usage")), "");
    assert_string_equal(json_string_value(json_object_get(ann, "starved_resource")),
                        "ephemeral-storage");
    json_decref(ann);
    free(m);
    /* percentages print the computed quantity; disk has no per-container part */
    struct evict_config *d = config(&(struct evict_flags){.hard = "nodefs.available<10%"});
    struct evict_observation fs = {true, 5 * GI, 100 * GI};
    m = evict_message(EVICT_RES_EPHEMERAL_STORAGE, &d->t[0], &fs, pod, &st);
    assert_string_equal(m, "The node was low on resource: ephemeral-storage. Threshold "
                           "quantity: 10737418400, available: 5Gi. ");
    free(m);
    m = evict_message(EVICT_RES_PIDS, NULL, NULL, pod, NULL);
    assert_string_equal(m, "The node was low on resource: pids. ");
    free(m);
    char names[64];
    evict_conditions_text(EVICT_COND_MEMORY, names, sizeof(names));
    assert_string_equal(names, "[MemoryPressure]");
    evict_conditions_text(EVICT_COND_DISK | EVICT_COND_PID, names, sizeof(names));
    assert_string_equal(names, "[DiskPressure PIDPressure]");
    json_decref(pod);
    free(c);
    free(d);
}

static void test_evicted_status(void **state)
{
    json_error_t je;
    json_t *pod = json_loads(
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"app\"}]},"
        "\"status\":{\"phase\":\"Running\",\"conditions\":["
        "{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"},"
        "{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
        "\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"started\":true,"
        "\"containerID\":\"runc://"
        "x\",\"state\":{\"running\":{\"startedAt\":\"2020-01-01T00:00:00Z\"}}}]}}",
        0, &je);
    assert_non_null(pod);
    json_t *st = evict_pod_status(pod, "The node was low on resource: memory. ", 86400);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "phase")), "Failed");
    assert_string_equal(json_string_value(json_object_get(st, "reason")), "Evicted");
    json_t *conds = json_object_get(st, "conditions");
    assert_int_equal(json_array_size(conds), 4);
    size_t i;
    json_t *cd;
    int seen = 0;
    json_array_foreach(conds, i, cd)
    {
        const char *t = json_string_value(json_object_get(cd, "type"));
        const char *s = json_string_value(json_object_get(cd, "status"));
        if (!strcmp(t, "DisruptionTarget")) {
            assert_string_equal(s, "True");
            assert_string_equal(json_string_value(json_object_get(cd, "reason")),
                                "TerminationByKubelet");
            assert_string_equal(json_string_value(json_object_get(cd, "message")),
                                "The node was low on resource: memory. ");
            seen++;
        } else if (!strcmp(t, "Ready")) {
            assert_string_equal(s, "False");
            assert_string_equal(json_string_value(json_object_get(cd, "lastTransitionTime")),
                                "1970-01-02T00:00:00Z");
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
    json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
    assert_int_equal(json_integer_value(json_object_get(term, "exitCode")), 137);
    assert_string_equal(json_string_value(json_object_get(term, "startedAt")),
                        "2020-01-01T00:00:00Z");
    assert_true(json_is_false(json_object_get(cs, "ready")));
    json_decref(st);

    /* critical pods */
    assert_false(evict_pod_is_critical(pod));
    json_object_set_new(json_object_get(pod, "spec"), "priority", json_integer(2000000000));
    assert_true(evict_pod_is_critical(pod));
    json_object_set_new(json_object_get(pod, "spec"), "priority", json_integer(1999999999));
    assert_false(evict_pod_is_critical(pod));
    json_object_set_new(json_object_get(pod, "metadata"), "annotations",
                        json_pack("{s:s}", "kubernetes.io/config.source", "file"));
    assert_true(evict_pod_is_critical(pod));
    json_decref(pod);
}

static void test_taints(void **state)
{
    json_error_t je;
    json_t *node = json_loads("{\"metadata\":{\"name\":\"n\"},\"spec\":{\"taints\":["
                              "{\"key\":\"mine\",\"effect\":\"NoExecute\"}]}}",
                              0, &je);
    assert_int_equal(evict_node_taints(node, EVICT_COND_MEMORY | EVICT_COND_PID), 1);
    json_t *t = json_object_get(json_object_get(node, "spec"), "taints");
    assert_int_equal(json_array_size(t), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "key")),
                        "node.kubernetes.io/memory-pressure");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "effect")),
                        "NoSchedule");
    assert_int_equal(evict_node_taints(node, EVICT_COND_MEMORY | EVICT_COND_PID), 0);
    assert_int_equal(evict_node_taints(node, EVICT_COND_DISK), 1);
    t = json_object_get(json_object_get(node, "spec"), "taints");
    assert_int_equal(json_array_size(t), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 0), "key")), "mine");
    assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "key")),
                        "node.kubernetes.io/disk-pressure");
    json_decref(node);
    /* a node without spec or taints; nothing on, nothing off */
    node = json_loads("{\"metadata\":{\"name\":\"n\"}}", 0, &je);
    assert_int_equal(evict_node_taints(node, 0), 0);
    assert_int_equal(evict_node_taints(node, EVICT_COND_MEMORY), 1);
    assert_int_equal(evict_node_taints(node, 0), 1);
    assert_null(json_object_get(json_object_get(node, "spec"), "taints"));
    json_decref(node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hard_threshold_and_transition),
        cmocka_unit_test(test_memory_before_disk),
        cmocka_unit_test(test_soft_grace_period),
        cmocka_unit_test(test_minimum_reclaim),
        cmocka_unit_test(test_quantity_text),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_evicted_status),
        cmocka_unit_test(test_taints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

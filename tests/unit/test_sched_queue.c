/* Unit tests for queue.c: PrioritySort order, per-pod exponential backoff, unschedulable
 * pods and the events that move them, the 5-minute flush, gates, in-flight updates, and
 * blocking pop — all on an injected clock. */
#include "test_sched_helpers.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "scheduler/queue.h"

static int64_t fake_now;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static struct sched_queue *new_queue(void)
{
    struct sched_queue_options o;
    sched_queue_options_init(&o);
    o.now_ms = fake_clock;
    fake_now = 1000000;
    struct sched_queue *q;
    assert_int_equal(sched_queue_new(&o, &q), 0);
    return q;
}

static void add(struct sched_queue *q, const char *name, int prio)
{
    struct sched_pod *p = simple_pod(name, "", "", prio);
    assert_int_equal(sched_queue_add(q, p, true), 0);
    sched_pod_unref(p);
}

/* Pops without waiting; returns the name (static buffer) or NULL. */
static const char *pop(struct sched_queue *q)
{
    static char name[64];
    struct sched_pod *p = NULL;
    int r = sched_queue_pop(q, 0, &p);
    if (r == -ETIMEDOUT)
        return NULL;
    assert_int_equal(r, 0);
    snprintf(name, sizeof(name), "%s", p->name);
    sched_pod_unref(p);
    return name;
}

static void expect_pop(struct sched_queue *q, const char *want)
{
    const char *got = pop(q);
    if (!want) {
        if (got)
            print_error("popped %s, want nothing\n", got);
        assert_null(got);
        return;
    }
    if (!got)
        print_error("nothing popped, want %s\n", want);
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void test_priority_order(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "p", 0);
    fake_now += 1;
    add(q, "q", 10);
    fake_now += 1;
    add(q, "r", 10);
    add(q, "s", 0);
    add(q, "t", -5);
    add(q, "u", 2000000000);
    expect_pop(q, "u");
    expect_pop(q, "q"); /* equal priority: earlier first */
    expect_pop(q, "r");
    expect_pop(q, "p");
    expect_pop(q, "s");
    expect_pop(q, "t");
    expect_pop(q, NULL);
    struct sched_queue_stats st;
    sched_queue_stats(q, &st);
    assert_int_equal(st.in_flight, 6);
    assert_int_equal(st.active, 0);
    sched_queue_free(q);
}

static void test_many_pods_heap(void **state)
{
    struct sched_queue *q = new_queue();
    uint32_t x = 12345;
    char name[32];
    for (int i = 0; i < 500; i++) {
        x = x * 1103515245 + 12345;
        snprintf(name, sizeof(name), "p%03d-%u", i, (x >> 16) % 7);
        add(q, name, (int)((x >> 16) % 7));
    }
    int last_prio = INT32_MAX;
    int last_idx = -1;
    for (int i = 0; i < 500; i++) {
        struct sched_pod *p;
        assert_int_equal(sched_queue_pop(q, 0, &p), 0);
        if (p->priority == last_prio) {
            int cur = (int)strtol(p->name + 1, NULL, 10);
            assert_true(cur > last_idx); /* FIFO among equals */
            last_idx = cur;
        } else {
            assert_true(p->priority < last_prio);
            last_prio = p->priority;
            last_idx = (int)strtol(p->name + 1, NULL, 10);
        }
        sched_pod_unref(p);
    }
    expect_pop(q, NULL);
    sched_queue_free(q);
}

static void test_backoff_durations(void **state)
{
    struct sched_queue_options o;
    sched_queue_options_init(&o);
    assert_int_equal(sched_queue_backoff_ms(&o, 0), 0);
    assert_int_equal(sched_queue_backoff_ms(&o, 1), 1000);
    assert_int_equal(sched_queue_backoff_ms(&o, 2), 2000);
    assert_int_equal(sched_queue_backoff_ms(&o, 3), 4000);
    assert_int_equal(sched_queue_backoff_ms(&o, 4), 8000);
    assert_int_equal(sched_queue_backoff_ms(&o, 5), 10000);
    assert_int_equal(sched_queue_backoff_ms(&o, 1000), 10000);
    assert_int_equal(o.max_unschedulable_ms, 300000);
}

static void test_unschedulable_then_event_then_backoff(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "p", 0);
    expect_pop(q, "p");
    assert_int_equal(sched_queue_requeue(q, "uid-p", SCHED_REQUEUE_UNSCHEDULABLE,
                                         SCHED_PLUGIN_NODE_RESOURCES_FIT),
                     0);
    struct sched_queue_stats st;
    sched_queue_stats(q, &st);
    assert_int_equal(st.unschedulable, 1);
    fake_now += 60000;
    expect_pop(q, NULL); /* waits for an event, however long */

    /* A deleted pod frees cpu: p may fit now. */
    sched_queue_move_all(q, SCHED_EVENT_ASSIGNED_POD_DELETE);
    expect_pop(q, "p"); /* backoff (1 s) long over: straight to active */

    /* Second failure: 2 s of backoff, starting now. */
    assert_int_equal(sched_queue_requeue(q, "uid-p", SCHED_REQUEUE_UNSCHEDULABLE,
                                         SCHED_PLUGIN_NODE_RESOURCES_FIT),
                     0);
    sched_queue_move_all(q, SCHED_EVENT_NODE_ADD);
    sched_queue_stats(q, &st);
    assert_int_equal(st.backoff, 1);
    fake_now += 1999;
    expect_pop(q, NULL);
    fake_now += 1;
    expect_pop(q, "p");
    sched_queue_free(q);
}

static void test_event_relevance(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "tainted", 0);
    expect_pop(q, "tainted");
    assert_int_equal(sched_queue_requeue(q, "uid-tainted", SCHED_REQUEUE_UNSCHEDULABLE,
                                         SCHED_PLUGIN_TAINT_TOLERATION),
                     0);
    fake_now += 5000;
    /* A pod going away frees resources, not taints. */
    sched_queue_move_all(q, SCHED_EVENT_ASSIGNED_POD_DELETE | SCHED_EVENT_ASSIGNED_POD_UPDATE);
    expect_pop(q, NULL);
    sched_queue_move_all(q, SCHED_EVENT_NODE_UPDATE);
    expect_pop(q, "tainted");
    sched_queue_free(q);
}

static void test_flush_after_five_minutes(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "p", 0);
    expect_pop(q, "p");
    assert_int_equal(
        sched_queue_requeue(q, "uid-p", SCHED_REQUEUE_UNSCHEDULABLE, SCHED_PLUGIN_NODE_AFFINITY),
        0);
    fake_now += 299999;
    sched_queue_flush(q);
    expect_pop(q, NULL);
    /* The leftover scan runs every 30 s (kube's flushUnschedulablePodsLeftover period). */
    fake_now += 29999;
    expect_pop(q, NULL);
    fake_now += 1;
    sched_queue_flush(q);
    expect_pop(q, "p");
    sched_queue_free(q);
}

static void test_event_during_cycle(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "p", 0);
    expect_pop(q, "p");
    /* A node arrives while p is being scheduled against the old snapshot. */
    sched_queue_move_all(q, SCHED_EVENT_NODE_ADD);
    assert_int_equal(sched_queue_requeue(q, "uid-p", SCHED_REQUEUE_UNSCHEDULABLE,
                                         SCHED_PLUGIN_NODE_RESOURCES_FIT),
                     0);
    struct sched_queue_stats st;
    sched_queue_stats(q, &st);
    assert_int_equal(st.backoff, 1);
    assert_int_equal(st.unschedulable, 0);
    fake_now += 1000;
    expect_pop(q, "p");

    /* Errors always retry after the backoff (2 s now). */
    assert_int_equal(sched_queue_requeue(q, "uid-p", SCHED_REQUEUE_ERROR, 0), 0);
    fake_now += 1999;
    expect_pop(q, NULL);
    fake_now += 1;
    expect_pop(q, "p");
    assert_int_equal(sched_queue_done(q, "uid-p"), 0);
    sched_queue_stats(q, &st);
    assert_int_equal(st.in_flight, 0);
    sched_queue_free(q);
}

static void test_updates_and_deletes(void **state)
{
    struct sched_queue *q = new_queue();
    add(q, "a", 0);
    add(q, "b", 0);
    add(q, "c", 0);
    /* A priority change in activeQ re-sorts. */
    add(q, "c", 5);
    expect_pop(q, "c");
    /* Updated while in flight: the failure retries after the backoff. */
    add(q, "c", 7);
    assert_int_equal(sched_queue_requeue(q, "uid-c", SCHED_REQUEUE_UNSCHEDULABLE,
                                         SCHED_PLUGIN_NODE_RESOURCES_FIT),
                     0);
    struct sched_queue_stats st;
    sched_queue_stats(q, &st);
    assert_int_equal(st.backoff, 1);
    /* Deleted while in flight: nothing to requeue. */
    expect_pop(q, "a");
    assert_int_equal(sched_queue_delete(q, "uid-a"), 0);
    assert_int_equal(sched_queue_requeue(q, "uid-a", SCHED_REQUEUE_UNSCHEDULABLE, 1), -ENOENT);
    /* Bound by someone else: leaves the queue. */
    _cleanup_sched_pod_ struct sched_pod *bound = mkpod("b", "", "{\"nodeName\":\"n1\"}");
    assert_int_equal(sched_queue_add(q, bound, true), 0);
    expect_pop(q, NULL);
    assert_int_equal(sched_queue_delete(q, "uid-b"), -ENOENT);

    /* An unschedulable pod that changes tries again. */
    fake_now += 1000;
    expect_pop(q, "c");
    assert_int_equal(
        sched_queue_requeue(q, "uid-c", SCHED_REQUEUE_UNSCHEDULABLE, SCHED_PLUGIN_NODE_AFFINITY),
        0);
    expect_pop(q, NULL);
    fake_now += 2000;
    /* Our own status writes (FailedScheduling condition, nominatedNodeName) change nothing
     * that matters (sched_pod_changed false: test_pod_changed)… */
    struct sched_pod *st_only = mkpod_s(
        "c", "\"resourceVersion\":\"42\"",
        "{\"nominatedNodeName\":\"n1\",\"conditions\":[{\"type\":\"PodScheduled\","
        "\"status\":\"False\",\"reason\":\"Unschedulable\"}]}",
        "{\"priority\":7,\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{}}}]}");
    assert_int_equal(sched_queue_add(q, st_only, false), 0);
    sched_pod_unref(st_only);
    expect_pop(q, NULL);
    /* …a change to the pod itself does. */
    add(q, "c", 6);
    expect_pop(q, "c");
    sched_queue_free(q);
}

/* kube's isPodUpdated: status, resourceVersion, generation, managedFields and finalizers
 * are not a change; anything else is. */
static void test_pod_changed(void **state)
{
    static const char *const base =
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"resourceVersion\":\"1\","
        "\"labels\":{\"a\":\"b\"}},\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\"}]},"
        "\"status\":{\"phase\":\"Pending\"}}";
    static const char *const same[] = {
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"resourceVersion\":\"9\","
        "\"generation\":3,\"finalizers\":[\"x\"],\"managedFields\":[{\"manager\":\"m\"}],"
        "\"labels\":{\"a\":\"b\"}},\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\"}]},"
        "\"status\":{\"phase\":\"Pending\",\"nominatedNodeName\":\"n1\",\"conditions\":[]}}",
        /* the order of members is no change */
        "{\"spec\":{\"containers\":[{\"name\":\"c\"}],\"priority\":1},\"metadata\":{"
        "\"labels\":{\"a\":\"b\"},\"uid\":\"u\",\"name\":\"p\"}}",
    };
    static const char *const changed[] = {
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"c\"}},"
        "\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\"}]}}",
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"b\"},"
        "\"annotations\":{\"k\":\"v\"}},\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\"}]}"
        "}",
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"b\"}},"
        "\"spec\":{\"priority\":2,\"containers\":[{\"name\":\"c\"}]}}",
        "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\",\"labels\":{\"a\":\"b\"}},"
        "\"spec\":{\"priority\":1,\"containers\":[{\"name\":\"c\"},{\"name\":\"d\"}]}}",
    };
    _cleanup_json_ json_t *old = jf("%s", base);
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        _cleanup_json_ json_t *now = jf("%s", same[i]);
        assert_false(sched_pod_changed(old, now));
    }
    for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
        _cleanup_json_ json_t *now = jf("%s", changed[i]);
        assert_true(sched_pod_changed(old, now));
    }
}

static void test_gated(void **state)
{
    struct sched_queue *q = new_queue();
    _cleanup_sched_pod_ struct sched_pod *g =
        mkpod("g", "", "{\"schedulingGates\":[{\"name\":\"example.com/wait\"}]}");
    assert_int_equal(sched_queue_add(q, g, true), 0);
    struct sched_queue_stats st;
    sched_queue_stats(q, &st);
    assert_int_equal(st.gated, 1);
    expect_pop(q, NULL);
    sched_queue_move_all(q, SCHED_EVENT_ALL);
    expect_pop(q, NULL);
    _cleanup_sched_pod_ struct sched_pod *ungated = mkpod("g", "", "{\"schedulingGates\":[]}");
    assert_int_equal(sched_queue_add(q, ungated, true), 0);
    expect_pop(q, "g");
    sched_queue_free(q);
}

struct waiter {
    struct sched_queue *q;
    int64_t timeout;
    int result;
    char name[32];
};

static void *wait_pop(void *arg)
{
    struct waiter *w = arg;
    struct sched_pod *p = NULL;
    w->result = sched_queue_pop(w->q, w->timeout, &p);
    if (p) {
        snprintf(w->name, sizeof(w->name), "%s", p->name);
        sched_pod_unref(p);
    }
    return NULL;
}

static void test_blocking_pop(void **state)
{
    struct sched_queue *q = new_queue();
    struct sched_pod *p = NULL;
    assert_int_equal(sched_queue_pop(q, 20, &p), -ETIMEDOUT);

    /* A waiting pop wakes when a pod arrives… */
    struct waiter w = {.q = q, .timeout = 10000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_pop, &w), 0);
    usleep(20000);
    add(q, "late", 0);
    pthread_join(t, NULL);
    assert_int_equal(w.result, 0);
    assert_string_equal(w.name, "late");

    /* …and when the queue closes. */
    struct waiter w2 = {.q = q, .timeout = -1};
    assert_int_equal(pthread_create(&t, NULL, wait_pop, &w2), 0);
    usleep(20000);
    sched_queue_close(q);
    pthread_join(t, NULL);
    assert_int_equal(w2.result, -ESHUTDOWN);
    sched_queue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_order),
        cmocka_unit_test(test_many_pods_heap),
        cmocka_unit_test(test_backoff_durations),
        cmocka_unit_test(test_unschedulable_then_event_then_backoff),
        cmocka_unit_test(test_event_relevance),
        cmocka_unit_test(test_flush_after_five_minutes),
        cmocka_unit_test(test_event_during_cycle),
        cmocka_unit_test(test_updates_and_deletes),
        cmocka_unit_test(test_pod_changed),
        cmocka_unit_test(test_gated),
        cmocka_unit_test(test_blocking_pop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

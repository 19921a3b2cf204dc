/* The scheduler loop (scheduler.c, scheduler_api.c) and priority admission
 * (admission_priority.c) against a real API server in this process: store + HTTP server on a
 * free loopback port, data in a temp dir. Polls with deadlines; never asserts on timings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "inproc_server.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define DEADLINE_MS 20000

struct fixture {
    struct inproc_server srv;
    struct kos_client *client;
    struct kos_scheduler *sched;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    inproc_server_start(&f->srv, "sched", 1024);
    struct kos_client_config cc = {
        .server = f->srv.url, .bearer_token = UNIT_ADMIN_TOKEN, .timeout_ms = DEADLINE_MS};
    assert_int_equal(kos_client_new(&cc, &f->client), 0);
    /* as in kos server: the scheduler's informers read the store in-process */
    struct kos_client_config sc = cc;
    sc.local_store = f->srv.store;
    assert_int_equal(kos_scheduler_start(&sc, &f->sched), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    kos_scheduler_stop(f->sched);
    kos_client_free(f->client);
    inproc_server_stop(&f->srv);
    free(f);
    return 0;
}

static const struct kos_kind *kind(const char *group, const char *k)
{
    const struct kos_kind *d = kos_kind_by_kind(group, k);
    assert_non_null(d);
    return d;
}

static void make_node(struct fixture *f, const char *name, const char *cpu)
{
    _cleanup_json_ json_t *n = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Node",
                                         "metadata", "name", name);
    struct kos_ref ref = {kind("", "Node"), NULL, name, NULL};
    assert_int_equal(kos_client_create(f->client, &ref, n, NULL, NULL), 0);
    _cleanup_json_ json_t *st = json_pack("{s:{s:{s:s,s:s,s:s}}}", "status", "allocatable", "cpu",
                                          cpu, "memory", "8Gi", "pods", "110");
    ref.sub = "status";
    assert_int_equal(
        kos_client_patch(f->client, &ref, KOS_PATCH_MERGE, st, NULL, false, NULL, NULL), 0);
}

static int make_pod(struct fixture *f, const char *name, const char *cpu, const char *pc,
                    json_t **ret, struct kos_error **err)
{
    _cleanup_json_ json_t *p =
        json_pack("{s:s,s:s,s:{s:s},s:{s:[{s:s,s:s,s:{s:{s:s}}}]}}", "apiVersion", "v1", "kind",
                  "Pod", "metadata", "name", name, "spec", "containers", "name", "c", "image",
                  "busybox", "resources", "requests", "cpu", cpu);
    assert_non_null(p);
    if (pc)
        json_object_set_new(json_object_get(p, "spec"), "priorityClassName", json_string(pc));
    struct kos_ref ref = {kind("", "Pod"), "default", NULL, NULL};
    return kos_client_create(f->client, &ref, p, ret, err);
}

static void make_class(struct fixture *f, const char *name, int value)
{
    _cleanup_json_ json_t *pc =
        json_pack("{s:s,s:s,s:{s:s},s:i}", "apiVersion", "scheduling.k8s.io/v1", "kind",
                  "PriorityClass", "metadata", "name", name, "value", value);
    struct kos_ref ref = {kind("scheduling.k8s.io", "PriorityClass"), NULL, NULL, NULL};
    assert_int_equal(kos_client_create(f->client, &ref, pc, NULL, NULL), 0);
}

static json_t *get_pod(struct fixture *f, const char *name)
{
    struct kos_ref ref = {kind("", "Pod"), "default", name, NULL};
    json_t *p = NULL;
    return kos_client_get(f->client, &ref, &p, NULL) == 0 ? p : NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until the pod's string at spec/status `field` (dotted, one level) equals want. */
static void wait_field(struct fixture *f, const char *name, const char *obj, const char *field,
                       const char *want)
{
    for (int waited = 0; waited < DEADLINE_MS; waited += 20) {
        _cleanup_json_ json_t *p = get_pod(f, name);
        const char *v = json_string_value(json_object_get(json_object_get(p, obj), field));
        if (v && strcmp(v, want) == 0)
            return;
        sleep_ms(20);
    }
    fail_msg("pod %s: %s.%s never became %s", name, obj, field, want);
}

static const json_t *condition(const json_t *pod, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
            return c;
    }
    return NULL;
}

static void test_admission(void **state)
{
    struct fixture *f = *state;
    make_class(f, "high", 1000);
    _cleanup_json_ json_t *a = NULL;
    assert_int_equal(make_pod(f, "a", "100m", "high", &a, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "spec"), "priority")),
                     1000);
    _cleanup_json_ json_t *b = NULL;
    assert_int_equal(make_pod(f, "b", "100m", "system-node-critical", &b, NULL), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "spec"), "priority")),
                     2000001000);
    struct kos_error *err = NULL;
    assert_int_equal(make_pod(f, "c", "100m", "nope", NULL, &err), -EACCES);
    assert_non_null(err);
    assert_int_equal(err->code, 403);
    assert_string_equal(err->message,
                        "pods \"c\" is forbidden: no PriorityClass with name nope was found");
    kos_error_free(err);
}

static void test_bind_and_fail(void **state)
{
    struct fixture *f = *state;
    make_node(f, "n1", "2");
    assert_int_equal(make_pod(f, "fits", "1", NULL, NULL, NULL), 0);
    wait_field(f, "fits", "spec", "nodeName", "n1");
    assert_int_equal(make_pod(f, "huge", "4", NULL, NULL, NULL), 0);
    for (int waited = 0;; waited += 20) {
        _cleanup_json_ json_t *p = get_pod(f, "huge");
        const json_t *c = condition(p, "PodScheduled");
        if (c) {
            assert_string_equal(json_string_value(json_object_get(c, "reason")), "Unschedulable");
            assert_string_equal(json_string_value(json_object_get(c, "message")),
                                "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
                                "nodes are available: 1 Preemption is not helpful for "
                                "scheduling.");
            break;
        }
        if (waited > DEADLINE_MS)
            fail_msg("no PodScheduled condition on huge");
        sleep_ms(20);
    }
}

static void test_preempt(void **state)
{
    struct fixture *f = *state;
    make_class(f, "low", 1);
    make_class(f, "top", 100);
    make_node(f, "n1", "1");
    assert_int_equal(make_pod(f, "victim", "1", "low", NULL, NULL), 0);
    wait_field(f, "victim", "spec", "nodeName", "n1");
    assert_int_equal(make_pod(f, "boss", "1", "top", NULL, NULL), 0);
    wait_field(f, "boss", "status", "nominatedNodeName", "n1");
    for (int waited = 0;; waited += 20) {
        _cleanup_json_ json_t *v = get_pod(f, "victim");
        if (json_object_get(json_object_get(v, "metadata"), "deletionTimestamp")) {
            const json_t *c = condition(v, "DisruptionTarget");
            assert_non_null(c);
            assert_string_equal(json_string_value(json_object_get(c, "reason")),
                                "PreemptionByScheduler");
            break;
        }
        if (waited > DEADLINE_MS)
            fail_msg("victim never deleted");
        sleep_ms(20);
    }
    struct kos_ref ref = {kind("", "Pod"), "default", "victim", NULL};
    struct kos_delete_options o = {.has_grace_period = true, .grace_period_seconds = 0};
    assert_int_equal(kos_client_delete(f->client, &ref, &o, NULL, NULL), 0);
    wait_field(f, "boss", "spec", "nodeName", "n1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_and_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preempt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

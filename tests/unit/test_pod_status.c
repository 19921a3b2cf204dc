/* Unit tests for src/agent/pods/pod_status.c: the kubelet's getPhase, container states
 * (running, terminated, waiting with lastState), and the pod conditions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "agent/pods/pod_status.h"
#include "util/json_cleanup.h"

static struct kos_ctr_view running(const char *name)
{
    struct kos_ctr_view v = {.name = name, .image = "img", .image_id = "img@sha256:1"};
    v.has_cur = true;
    v.cur.status = KOS_CONTAINER_RUNNING;
    v.cur.started_ns = 1795770302000000000LL;
    snprintf(v.container_id, sizeof(v.container_id), "runc://%s", name);
    return v;
}

static struct kos_ctr_view exited(const char *name, int code, const char *reason)
{
    struct kos_ctr_view v = running(name);
    v.cur.status = KOS_CONTAINER_EXITED;
    v.cur.exit_code = code;
    v.cur.finished_ns = v.cur.started_ns + 2000000000LL;
    snprintf(v.cur.reason, sizeof(v.cur.reason), "%s", reason);
    return v;
}

static void test_phase(void **state)
{
    struct kos_ctr_view a[2];
    a[0] = running("a");
    a[1] = running("b");
    assert_string_equal(kos_pod_phase("Always", a, 2, true, false), "Running");
    assert_string_equal(kos_pod_phase("Always", a, 2, false, false), "Pending");
    assert_string_equal(kos_pod_phase("Always", a, 2, false, true), "Failed");
    a[1] = (struct kos_ctr_view){.name = "b"}; /* not created yet */
    assert_string_equal(kos_pod_phase("Always", a, 2, true, false), "Pending");
    a[0] = exited("a", 0, "Completed");
    a[1] = exited("b", 0, "Completed");
    assert_string_equal(kos_pod_phase("Never", a, 2, true, false), "Succeeded");
    assert_string_equal(kos_pod_phase("OnFailure", a, 2, true, false), "Succeeded");
    assert_string_equal(kos_pod_phase("Always", a, 2, true, false), "Running");
    a[1] = exited("b", 2, "Error");
    assert_string_equal(kos_pod_phase("Never", a, 2, true, false), "Failed");
    a[1].restarting = true;
    assert_string_equal(kos_pod_phase("OnFailure", a, 2, true, false), "Running");
    /* a waiting container with a previous termination counts as stopped, not pending */
    a[1].waiting_reason = "CrashLoopBackOff";
    assert_string_equal(kos_pod_phase("OnFailure", a, 2, true, false), "Running");
}

static const json_t *cond(const json_t *st, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(st, "conditions"), i,
                       c) if (strcmp(json_string_value(json_object_get(c, "type")), type) ==
                              0) return c;
    return NULL;
}

static const char *path_str(const json_t *o, const char *a, const char *b, const char *c)
{
    return json_string_value(json_object_get(json_object_get(json_object_get(o, a), b), c));
}

static void test_status_object(void **state)
{
    _cleanup_json_ json_t *pod = json_loads(
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"restartPolicy\":\"Always\"}}", 0, NULL);
    struct kos_ctr_view init[1] = {exited("init", 0, "Completed")};
    struct kos_ctr_view c[2] = {running("web"), exited("crash", 1, "Error")};
    c[1].restarting = true;
    c[1].restart_count = 3;
    c[1].waiting_reason = "CrashLoopBackOff";
    c[1].waiting_message = "back-off 40s restarting failed container=crash pod=p_ns(u)";
    _cleanup_json_ json_t *st = kos_pod_status_build(
        pod, NULL, init, 1, true, false, c, 2, "10.0.0.1", "2026-11-27T09:05:02Z", 1795770310);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
    assert_string_equal(json_string_value(json_object_get(st, "podIP")), "10.0.0.1");
    assert_string_equal(json_string_value(json_object_get(st, "startTime")),
                        "2026-11-27T09:05:02Z");
    json_t *web = json_array_get(json_object_get(st, "containerStatuses"), 0);
    json_t *crash = json_array_get(json_object_get(st, "containerStatuses"), 1);
    assert_string_equal(path_str(web, "state", "running", "startedAt"), "2026-11-27T09:05:02Z");
    assert_true(json_is_true(json_object_get(web, "ready")));
    assert_true(json_is_true(json_object_get(web, "started")));
    assert_int_equal(json_object_size(json_object_get(web, "lastState")), 0);
    assert_string_equal(path_str(crash, "state", "waiting", "reason"), "CrashLoopBackOff");
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(crash, "lastState"), "terminated"), "exitCode")),
        1);
    assert_int_equal(json_integer_value(json_object_get(crash, "restartCount")), 3);
    assert_false(json_is_true(json_object_get(crash, "ready")));
    json_t *ic = json_array_get(json_object_get(st, "initContainerStatuses"), 0);
    assert_string_equal(path_str(ic, "state", "terminated", "reason"), "Completed");

    assert_string_equal(json_string_value(json_object_get(cond(st, "Initialized"), "status")),
                        "True");
    const json_t *ready = cond(st, "Ready");
    assert_string_equal(json_string_value(json_object_get(ready, "status")), "False");
    assert_string_equal(json_string_value(json_object_get(ready, "reason")), "ContainersNotReady");
    assert_string_equal(json_string_value(json_object_get(ready, "message")),
                        "containers with unready status: [crash]");
    assert_true(json_is_null(json_object_get(ready, "lastProbeTime")));

    /* an unchanged condition keeps its lastTransitionTime */
    _cleanup_json_ json_t *old = json_loads(
        "{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":"
        "\"2020-01-01T00:00:00Z\"},{\"type\":\"Initialized\",\"status\":\"False\","
        "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"}]}",
        0, NULL);
    _cleanup_json_ json_t *st2 =
        kos_pod_status_build(pod, old, init, 1, true, false, c, 2, "10.0.0.1", "x", 1795770310);
    assert_string_equal(
        json_string_value(json_object_get(cond(st2, "Ready"), "lastTransitionTime")),
        "2020-01-01T00:00:00Z");
    assert_string_equal(
        json_string_value(json_object_get(cond(st2, "Initialized"), "lastTransitionTime")),
        "2026-11-27T09:05:10Z");
}

static void test_pending_init(void **state)
{
    _cleanup_json_ json_t *pod = json_loads("{\"spec\":{\"restartPolicy\":\"Never\"}}", 0, NULL);
    struct kos_ctr_view init[2] = {exited("one", 0, "Completed"), running("two")};
    struct kos_ctr_view c[1] = {
        {.name = "app", .image = "i", .image_id = "", .waiting_reason = "PodInitializing"}};
    _cleanup_json_ json_t *st =
        kos_pod_status_build(pod, NULL, init, 2, false, false, c, 1, "", "", 0);
    assert_string_equal(json_string_value(json_object_get(st, "phase")), "Pending");
    const json_t *ini = cond(st, "Initialized");
    assert_string_equal(json_string_value(json_object_get(ini, "reason")),
                        "ContainersNotInitialized");
    assert_string_equal(json_string_value(json_object_get(ini, "message")),
                        "containers with incomplete status: [two]");
    json_t *app = json_array_get(json_object_get(st, "containerStatuses"), 0);
    assert_string_equal(path_str(app, "state", "waiting", "reason"), "PodInitializing");
    assert_null(json_object_get(app, "containerID"));
    assert_null(json_object_get(st, "podIP"));
}

/* Probe results: a running container whose readiness probe has not passed is not ready (and
 * the pod not Ready); one whose startup probe has not passed is neither started nor ready. */
static void test_probe_results(void **state)
{
    _cleanup_json_ json_t *pod = json_loads(
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"restartPolicy\":\"Always\"}}", 0, NULL);
    struct kos_ctr_view c[3] = {running("web"), running("slow"), running("ok")};
    c[0].not_ready = true;
    c[1].not_started = true;
    c[1].not_ready = true;
    _cleanup_json_ json_t *st =
        kos_pod_status_build(pod, NULL, NULL, 0, true, false, c, 3, "10.0.0.1", "", 1795770310);
    assert_non_null(st);
    assert_string_equal(json_string_value(json_object_get(st, "phase")), "Running");
    json_t *cs = json_object_get(st, "containerStatuses");
    assert_true(json_is_false(json_object_get(json_array_get(cs, 0), "ready")));
    assert_true(json_is_true(json_object_get(json_array_get(cs, 0), "started")));
    assert_true(json_is_false(json_object_get(json_array_get(cs, 1), "ready")));
    assert_true(json_is_false(json_object_get(json_array_get(cs, 1), "started")));
    assert_true(json_is_true(json_object_get(json_array_get(cs, 2), "ready")));
    assert_true(json_is_true(json_object_get(json_array_get(cs, 2), "started")));
    static const char *const types[] = {"Ready", "ContainersReady"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *r = cond(st, types[i]);
        assert_string_equal(json_string_value(json_object_get(r, "status")), "False");
        assert_string_equal(json_string_value(json_object_get(r, "message")),
                            "containers with unready status: [web slow]");
    }
    c[0].not_ready = c[1].not_started = c[1].not_ready = false;
    _cleanup_json_ json_t *st2 =
        kos_pod_status_build(pod, st, NULL, 0, true, false, c, 3, "10.0.0.1", "", 1795770320);
    assert_string_equal(json_string_value(json_object_get(cond(st2, "Ready"), "status")), "True");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phase),
        cmocka_unit_test(test_status_object),
        cmocka_unit_test(test_pending_init),
        cmocka_unit_test(test_probe_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

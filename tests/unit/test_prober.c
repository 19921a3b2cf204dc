/* Unit tests for src/agent/prober: the worker's result/threshold state machine (worker.go's
 * doProbe cases), the httpGet and tcpSocket probes against a small HTTP server on loopback
 * (status codes, headers, same-host and other-host redirects, refused connections) and the
 * exec probe's texts over a fake runner (the real runc exec is shown by
 * tests/e2e/test_probes.py). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/prober/probe.h"
#include "agent/prober/probe_state.h"
#include "util/json_cleanup.h"

/* ---- the state machine ---- */

static struct kos_probe_container_info running_ctr(const char *id, int64_t started_ms)
{
    return (struct kos_probe_container_info){
        .container_id = id, .running = true, .started_at_ms = started_ms, .started = true};
}

static void test_initial_results(void **state)
{
    static const enum kos_probe_type types[] = {KOS_PROBE_LIVENESS, KOS_PROBE_READINESS,
                                                KOS_PROBE_STARTUP};
    static const enum kos_probe_result want[] = {KOS_PROBE_RESULT_SUCCESS, KOS_PROBE_RESULT_FAILURE,
                                                 KOS_PROBE_RESULT_UNKNOWN};
    for (size_t i = 0; i < 3; i++) {
        struct kos_probe_state st = {0};
        struct kos_probe_container_info c = running_ctr("runc://a", 0);
        c.started = types[i] != KOS_PROBE_STARTUP;
        bool changed;
        enum kos_probe_result r;
        assert_false(kos_probe_state_get(&st, "runc://a", &r));
        /* no container yet: nothing to do, no result */
        struct kos_probe_container_info none = {0};
        assert_int_equal(kos_probe_state_tick(&st, types[i], &none, 0, 1000, &changed),
                         KOS_PROBE_WAIT);
        assert_false(changed);
        assert_int_equal(kos_probe_state_tick(&st, types[i], &c, 0, 1000, &changed), KOS_PROBE_RUN);
        assert_true(changed);
        assert_true(kos_probe_state_get(&st, "runc://a", &r));
        assert_int_equal(r, want[i]);
        assert_false(kos_probe_state_get(&st, "runc://b", &r)); /* another container */
    }
}

static void test_thresholds(void **state)
{
    struct kos_probe_state st = {0};
    struct kos_probe_container_info c = running_ctr("runc://a", 0);
    bool changed;
    enum kos_probe_result r;
    kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 0, &changed);
    /* successThreshold 2: one success is not enough */
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_SUCCESS, 2, 3));
    assert_true(kos_probe_state_get(&st, "runc://a", &r) && r == KOS_PROBE_RESULT_FAILURE);
    assert_true(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_SUCCESS, 2, 3));
    assert_true(kos_probe_state_get(&st, "runc://a", &r) && r == KOS_PROBE_RESULT_SUCCESS);
    /* failureThreshold 3: two failures, a success between resets the run */
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_SUCCESS, 2, 3));
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
    assert_true(kos_probe_state_get(&st, "runc://a", &r) && r == KOS_PROBE_RESULT_SUCCESS);
    assert_true(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
    assert_true(kos_probe_state_get(&st, "runc://a", &r) && r == KOS_PROBE_RESULT_FAILURE);
    /* a failed readiness probe keeps probing */
    assert_false(st.on_hold);
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 0, &changed),
                     KOS_PROBE_RUN);
    /* the same result again is no change */
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_FAILURE, 2, 3));
}

static void test_liveness_hold_until_new_container(void **state)
{
    struct kos_probe_state st = {0};
    struct kos_probe_container_info c = running_ctr("runc://a_0", 0);
    bool changed;
    enum kos_probe_result r;
    kos_probe_state_tick(&st, KOS_PROBE_LIVENESS, &c, 0, 0, &changed);
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_LIVENESS, KOS_PROBE_RESULT_FAILURE, 1, 2));
    assert_true(kos_probe_state_observe(&st, KOS_PROBE_LIVENESS, KOS_PROBE_RESULT_FAILURE, 1, 2));
    assert_true(kos_probe_state_get(&st, "runc://a_0", &r) && r == KOS_PROBE_RESULT_FAILURE);
    assert_true(st.on_hold);
    /* on hold: the same container is not probed again (it is being restarted) */
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_LIVENESS, &c, 0, 0, &changed),
                     KOS_PROBE_WAIT);
    /* the restarted container starts alive and is probed; the run starts over */
    c.container_id = "runc://a_1";
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_LIVENESS, &c, 0, 0, &changed),
                     KOS_PROBE_RUN);
    assert_true(changed);
    assert_true(kos_probe_state_get(&st, "runc://a_1", &r) && r == KOS_PROBE_RESULT_SUCCESS);
    assert_false(kos_probe_state_observe(&st, KOS_PROBE_LIVENESS, KOS_PROBE_RESULT_FAILURE, 1, 2));
}

static void test_tick_cases(void **state)
{
    struct kos_probe_state st = {0};
    struct kos_probe_container_info c = running_ctr("runc://a", 10000);
    bool changed;
    enum kos_probe_result r;
    /* initialDelaySeconds 2 counts whole seconds since the start */
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 2, 11999, &changed),
                     KOS_PROBE_WAIT_DELAY);
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 2, 12000, &changed),
                     KOS_PROBE_RUN);
    /* not started yet: only the startup probe runs */
    c.started = false;
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 12000, &changed),
                     KOS_PROBE_WAIT);
    struct kos_probe_state su = {0};
    assert_int_equal(kos_probe_state_tick(&su, KOS_PROBE_STARTUP, &c, 0, 12000, &changed),
                     KOS_PROBE_RUN);
    c.started = true;
    assert_int_equal(kos_probe_state_tick(&su, KOS_PROBE_STARTUP, &c, 0, 12000, &changed),
                     KOS_PROBE_WAIT);
    /* a pod being deleted passes liveness and stops it; readiness goes on */
    c.deleting = true;
    struct kos_probe_state lv = {0};
    assert_int_equal(kos_probe_state_tick(&lv, KOS_PROBE_LIVENESS, &c, 0, 12000, &changed),
                     KOS_PROBE_STOP);
    assert_true(kos_probe_state_get(&lv, "runc://a", &r) && r == KOS_PROBE_RESULT_SUCCESS);
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 12000, &changed),
                     KOS_PROBE_RUN);
    /* an exited container fails; with restartPolicy Never nothing comes back */
    c.deleting = false;
    c.running = false;
    c.terminated = true;
    kos_probe_state_observe(&st, KOS_PROBE_READINESS, KOS_PROBE_RESULT_SUCCESS, 1, 3);
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 12000, &changed),
                     KOS_PROBE_WAIT);
    assert_true(changed);
    assert_true(kos_probe_state_get(&st, "runc://a", &r) && r == KOS_PROBE_RESULT_FAILURE);
    c.restart_never = true;
    assert_int_equal(kos_probe_state_tick(&st, KOS_PROBE_READINESS, &c, 0, 12000, &changed),
                     KOS_PROBE_STOP);
    assert_false(changed);
}

/* ---- a loopback HTTP server ---- */

struct server {
    int fd;
    int port;
    pthread_t thread;
    volatile bool stop;
    char last_request[4096];
};

static void respond(int c, const char *status, const char *extra, const char *body)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n%s", status,
                     strlen(body), extra, body);
    /* the probe may have given up and closed (timeouts): no SIGPIPE for the test */
    if (send(c, buf, (size_t)n, MSG_NOSIGNAL) < 0)
        return;
}

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t len = 0;
        while (len + 1 < sizeof(req)) {
            ssize_t k = read(c, req + len, sizeof(req) - 1 - len);
            if (k <= 0)
                break;
            len += (size_t)k;
            req[len] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[len] = '\0';
        snprintf(s->last_request, sizeof(s->last_request), "%s", req);
        char loc[256];
        if (strncmp(req, "GET /ok ", 8) == 0) {
            respond(c, "200 OK", "", "fine");
        } else if (strncmp(req, "GET /fail ", 10) == 0) {
            respond(c, "500 Internal Server Error", "", "secret details");
        } else if (strncmp(req, "GET /same ", 10) == 0) {
            snprintf(loc, sizeof(loc), "Location: http://127.0.0.1:%d/ok\r\n", s->port);
            respond(c, "302 Found", loc, "");
        } else if (strncmp(req, "GET /other ", 11) == 0) {
            respond(c, "302 Found", "Location: http://other.invalid/x\r\n", "moved");
        } else if (strncmp(req, "GET /loop ", 10) == 0) {
            respond(c, "301 Moved Permanently", "Location: /loop\r\n", "");
        } else {
            respond(c, "404 Not Found", "", "");
        }
        close(c);
    }
    return NULL;
}

static int server_start(struct server *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &l) < 0)
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(struct server *s)
{
    s->stop = true;
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* A port nothing listens on (bound, never listened, then closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

static int http(const char *action_json, char *out, size_t size)
{
    _cleanup_json_ json_t *a = json_loads(action_json, 0, NULL);
    _cleanup_json_ json_t *c =
        json_loads("{\"name\":\"c\",\"ports\":[{\"name\":\"web\",\"containerPort\":1}]}", 0, NULL);
    assert_non_null(a);
    return kos_probe_http(a, c, "127.0.0.1", 10000, out, size);
}

static void test_http_probe(void **state)
{
    struct server s;
    assert_int_equal(server_start(&s), 0);
    char act[512], out[KOS_PROBE_OUTPUT_MAX + 1024];

    snprintf(act, sizeof(act),
             "{\"path\":\"/ok\",\"port\":%d,\"httpHeaders\":[{\"name\":\"x-custom\","
             "\"value\":\"v1\"}]}",
             s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_SUCCESS);
    assert_string_equal(out, "fine");
    assert_non_null(strstr(s.last_request, "GET /ok HTTP/1.1\r\n"));
    assert_non_null(strstr(s.last_request, "\r\nUser-Agent: kube-probe/1.33\r\n"));
    assert_non_null(strstr(s.last_request, "\r\nAccept: */*\r\n"));
    assert_non_null(strstr(s.last_request, "\r\nX-Custom: v1\r\n"));

    /* the action's own User-Agent and an emptied Accept */
    snprintf(act, sizeof(act),
             "{\"path\":\"/ok\",\"port\":%d,\"httpHeaders\":[{\"name\":\"User-Agent\","
             "\"value\":\"mine\"},{\"name\":\"Accept\",\"value\":\"\"}]}",
             s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_SUCCESS);
    assert_non_null(strstr(s.last_request, "\r\nUser-Agent: mine\r\n"));
    assert_null(strstr(s.last_request, "kube-probe"));
    assert_null(strstr(s.last_request, "Accept:"));

    /* failures say the code, never the body */
    snprintf(act, sizeof(act), "{\"path\":\"/fail\",\"port\":%d}", s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_FAILURE);
    assert_string_equal(out, "HTTP probe failed with statuscode: 500");

    /* a redirect to the same host is followed */
    snprintf(act, sizeof(act), "{\"path\":\"/same\",\"port\":%d}", s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_SUCCESS);
    assert_string_equal(out, "fine");

    /* to another host it is not: a warning that still passes */
    snprintf(act, sizeof(act), "{\"path\":\"/other\",\"port\":%d}", s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_WARNING);
    assert_string_equal(out, "Probe terminated redirects, Response body: moved");

    /* endless redirects stop after 10 */
    snprintf(act, sizeof(act), "{\"path\":\"/loop\",\"port\":%d}", s.port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_FAILURE);
    char want[256];
    snprintf(want, sizeof(want), "Get \"http://127.0.0.1:%d/loop\": stopped after 10 redirects",
             s.port);
    assert_string_equal(out, want);

    /* a named port that the container does not have is an error (thrown away) */
    assert_int_equal(http("{\"path\":\"/ok\",\"port\":\"nope\"}", out, sizeof(out)), -EINVAL);
    assert_string_equal(out, "strconv.Atoi: parsing \"nope\": invalid syntax");
    assert_int_equal(http("{\"path\":\"/ok\",\"port\":0}", out, sizeof(out)), -EINVAL);
    assert_string_equal(out, "invalid port number: 0");
    server_stop(&s);

    int port = dead_port();
    snprintf(act, sizeof(act), "{\"path\":\"/ok\",\"port\":%d}", port);
    assert_int_equal(http(act, out, sizeof(out)), KOS_PROBE_OUT_FAILURE);
    snprintf(want, sizeof(want),
             "Get \"http://127.0.0.1:%d/ok\": dial tcp 127.0.0.1:%d: connect: connection refused",
             port, port);
    assert_string_equal(out, want);
}

static void test_tcp_probe(void **state)
{
    struct server s;
    assert_int_equal(server_start(&s), 0);
    char act[128], out[512], want[256];
    _cleanup_json_ json_t *c =
        json_loads("{\"name\":\"c\",\"ports\":[{\"name\":\"web\",\"containerPort\":1}]}", 0, NULL);
    snprintf(act, sizeof(act), "{\"port\":%d}", s.port);
    _cleanup_json_ json_t *a = json_loads(act, 0, NULL);
    assert_int_equal(kos_probe_tcp(a, c, "127.0.0.1", 10000, out, sizeof(out)),
                     KOS_PROBE_OUT_SUCCESS);
    /* the host field wins over the pod's IP */
    snprintf(act, sizeof(act), "{\"port\":%d,\"host\":\"127.0.0.1\"}", s.port);
    _cleanup_json_ json_t *h = json_loads(act, 0, NULL);
    assert_int_equal(kos_probe_tcp(h, c, "192.0.2.1", 10000, out, sizeof(out)),
                     KOS_PROBE_OUT_SUCCESS);
    server_stop(&s);
    int port = dead_port();
    snprintf(act, sizeof(act), "{\"port\":%d}", port);
    _cleanup_json_ json_t *d = json_loads(act, 0, NULL);
    assert_int_equal(kos_probe_tcp(d, c, "127.0.0.1", 10000, out, sizeof(out)),
                     KOS_PROBE_OUT_FAILURE);
    snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
    assert_string_equal(out, want);
    _cleanup_json_ json_t *named = json_loads("{\"port\":\"web\"}", 0, NULL);
    /* port 1 by name: resolved, refused */
    assert_int_equal(kos_probe_tcp(named, c, "127.0.0.1", 10000, out, sizeof(out)),
                     KOS_PROBE_OUT_FAILURE);
    assert_string_equal(out, "dial tcp 127.0.0.1:1: connect: connection refused");
}

/* The framed HealthCheckResponse a grpc probe reads back. */
static void test_grpc_answer(void **state)
{
    static const unsigned char serving[] = {0, 0, 0, 0, 2, 0x08, 0x01};
    static const unsigned char not_serving[] = {0, 0, 0, 0, 2, 0x08, 0x02};
    static const unsigned char empty[] = {0, 0, 0, 0, 0}; /* status absent: UNKNOWN */
    /* an unknown string field and a fixed32 around the status are skipped */
    static const unsigned char extra[] = {0,   0,    0,    0,    11, 0x12, 0x02, 'h',
                                          'i', 0x08, 0x01, 0x25, 1,  2,    3,    4};
    static const unsigned char short_frame[] = {0, 0, 0, 0, 9, 0x08, 0x01};
    static const unsigned char compressed[] = {1, 0, 0, 0, 2, 0x08, 0x01};
    static const unsigned char bad_len[] = {0, 0, 0, 0, 3, 0x12, 0x7f, 'x'};
    assert_int_equal(kos_probe_grpc_answer_status(serving, sizeof(serving)), 1);
    assert_int_equal(kos_probe_grpc_answer_status(not_serving, sizeof(not_serving)), 2);
    assert_int_equal(kos_probe_grpc_answer_status(empty, sizeof(empty)), 0);
    assert_int_equal(kos_probe_grpc_answer_status(extra, sizeof(extra)), 1);
    assert_int_equal(kos_probe_grpc_answer_status(short_frame, sizeof(short_frame)), -1);
    assert_int_equal(kos_probe_grpc_answer_status(compressed, sizeof(compressed)), -1);
    assert_int_equal(kos_probe_grpc_answer_status(bad_len, sizeof(bad_len)), -1);
    assert_int_equal(kos_probe_grpc_answer_status(serving, 3), -1);
    /* a status beyond int32 (found by fuzz_grpc_health) is no status */
    static const unsigned char huge[] = {0,    0,    0,    0,    11,   0x08, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(kos_probe_grpc_answer_status(huge, sizeof(huge)), -1);
}

/* ---- exec, over a fake runner ---- */

struct fake_exec {
    int ret;
    int code;
    const char *output;
    char argv[8][64];
    size_t argc;
};

static int fake_exec(void *ctx, const char *runtime_id, const char *const *argv, size_t argc,
                     int64_t timeout_ms, char *out, size_t size, int *exit_code)
{
    struct fake_exec *f = ctx;
    f->argc = argc;
    for (size_t i = 0; i < argc && i < 8; i++)
        snprintf(f->argv[i], sizeof(f->argv[i]), "%s", argv[i]);
    snprintf(out, size, "%s", f->output);
    if (f->ret == 0)
        *exit_code = f->code;
    return f->ret;
}

static void test_exec_probe(void **state)
{
    _cleanup_json_ json_t *c = json_loads(
        "{\"name\":\"c\",\"env\":[{\"name\":\"FILE\",\"value\":\"/tmp/ok\"},{\"name\":\"S\","
        "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}]}",
        0, NULL);
    _cleanup_json_ json_t *a =
        json_loads("{\"command\":[\"sh\",\"-c\",\"cat $(FILE) $(S) $(NOPE) $$(FILE)\"]}", 0, NULL);
    char out[256];
    struct fake_exec f = {.ret = 0, .code = 0, .output = "ok\n"};
    assert_int_equal(kos_probe_exec(a, c, "id", 1000, fake_exec, &f, out, sizeof(out)),
                     KOS_PROBE_OUT_SUCCESS);
    /* only static values expand: valueFrom ones are empty, unknown ones stay */
    assert_int_equal(f.argc, 3);
    assert_string_equal(f.argv[2], "cat /tmp/ok  $(NOPE) $(FILE)");
    f.code = 1;
    f.output = "no\n";
    assert_int_equal(kos_probe_exec(a, c, "id", 1000, fake_exec, &f, out, sizeof(out)),
                     KOS_PROBE_OUT_FAILURE);
    assert_string_equal(out, "no\n");
    f.ret = -ETIMEDOUT;
    f.output = "";
    assert_int_equal(kos_probe_exec(a, c, "id", 1000, fake_exec, &f, out, sizeof(out)),
                     KOS_PROBE_OUT_FAILURE);
    assert_string_equal(out, "command \"sh -c cat /tmp/ok  $(NOPE) $(FILE)\" timed out");
    f.ret = -ENOENT;
    assert_true(kos_probe_exec(a, c, "id", 1000, fake_exec, &f, out, sizeof(out)) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_results),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_liveness_hold_until_new_container),
        cmocka_unit_test(test_tick_cases),
        cmocka_unit_test(test_http_probe),
        cmocka_unit_test(test_tcp_probe),
        cmocka_unit_test(test_grpc_answer),
        cmocka_unit_test(test_exec_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

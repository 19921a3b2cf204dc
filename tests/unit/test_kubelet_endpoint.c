/* The parseable parts of the kubelet endpoint and its proxy: the kubelet's paths, the log
 * options both ends read and the query the API server forwards, a kubelet's response head
 * and chunked bodies. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/streaming/kubelet_paths.h"
#include "agent/streaming/log_serve.h"
#include "apiserver/kubelet_proxy.h"
#include "util/cleanup.h"

static void test_paths(void **state)
{
    struct kubelet_path p;
    assert_int_equal(kubelet_path_parse("/healthz", &p), 0);
    assert_int_equal(p.route, KUBELET_HEALTHZ);
    assert_int_equal(kubelet_path_parse("/containerLogs/ns1/pod-a/main", &p), 0);
    assert_int_equal(p.route, KUBELET_CONTAINER_LOGS);
    assert_string_equal(p.ns, "ns1");
    assert_string_equal(p.pod, "pod-a");
    assert_string_equal(p.container, "main");
    assert_string_equal(p.uid, "");
    assert_int_equal(kubelet_path_parse("/exec/ns/pod/c", &p), 0);
    assert_int_equal(p.route, KUBELET_EXEC);
    assert_string_equal(p.container, "c");
    assert_int_equal(kubelet_path_parse("/exec/ns/pod/uid-1/c", &p), 0);
    assert_string_equal(p.uid, "uid-1");
    assert_string_equal(p.container, "c");
    assert_int_equal(kubelet_path_parse("/attach/ns/pod/c", &p), 0);
    assert_int_equal(p.route, KUBELET_ATTACH);
    assert_int_equal(kubelet_path_parse("/portForward/ns/pod", &p), 0);
    assert_int_equal(p.route, KUBELET_PORT_FORWARD);
    assert_string_equal(p.container, "");
    assert_int_equal(kubelet_path_parse("/portForward/ns/pod/uid", &p), 0);
    assert_string_equal(p.uid, "uid");

    /* not the kubelet's */
    const char *unknown[] = {"",
                             "/",
                             "healthz",
                             "/healthz/x",
                             "/exec",
                             "/exec/ns",
                             "/exec/ns/pod",
                             "/exec/a/b/c/d/e",
                             "/logs/a/b/c",
                             "/containerLogs/ns/pod",
                             "/containerLogs/a/b/c/d",
                             "/portForward/ns",
                             "/portForward/a/b/c/d",
                             "/EXEC/a/b/c"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_int_equal(kubelet_path_parse(unknown[i], &p), -ENOENT);
    assert_int_equal(kubelet_path_parse(NULL, &p), -ENOENT);
    /* empty, dot and overlong segments */
    assert_int_equal(kubelet_path_parse("/exec//pod/c", &p), -EINVAL);
    assert_int_equal(kubelet_path_parse("/exec/ns/pod/", &p), -EINVAL);
    assert_int_equal(kubelet_path_parse("/containerLogs/ns/../c", &p), -EINVAL);
    assert_int_equal(kubelet_path_parse("/containerLogs/./p/c", &p), -EINVAL);
    char long_path[600] = "/exec/ns/";
    memset(long_path + 9, 'a', 300);
    memcpy(long_path + 309, "/c", 3);
    assert_int_equal(kubelet_path_parse(long_path, &p), -EINVAL);

    assert_true(kubelet_route_method_ok(KUBELET_EXEC, "POST"));
    assert_true(kubelet_route_method_ok(KUBELET_EXEC, "GET"));
    assert_false(kubelet_route_method_ok(KUBELET_EXEC, "DELETE"));
    assert_true(kubelet_route_method_ok(KUBELET_CONTAINER_LOGS, "GET"));
    assert_false(kubelet_route_method_ok(KUBELET_CONTAINER_LOGS, "POST"));
    assert_true(kubelet_route_method_ok(KUBELET_HEALTHZ, "HEAD"));
    assert_false(kubelet_route_method_ok(KUBELET_HEALTHZ, NULL));
}

/* a query as key=value pairs */
static const char *pairs_get(void *ctx, const char *key)
{
    const char *const *kv = ctx;
    for (size_t i = 0; kv[i]; i += 2)
        if (strcmp(kv[i], key) == 0)
            return kv[i + 1];
    return NULL;
}

static int parse(const char *const *kv, struct kos_log_query *q, int *code)
{
    struct kos_error *err = NULL;
    int r = kos_log_query_parse(pairs_get, (void *)kv, q, &err);
    *code = err ? err->code : 0;
    kos_error_free(err);
    return r;
}

static char *format(const struct kos_log_query *q)
{
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    assert_int_equal(kos_log_query_format(q, &b), 0);
    char *s = kos_buf_steal(&b, NULL);
    return s ? s : strdup("");
}

static void test_log_query(void **state)
{
    struct kos_log_query q;
    int code;
    const char *none[] = {NULL};
    assert_int_equal(parse(none, &q, &code), 0);
    assert_false(q.follow);
    assert_int_equal(q.tail_lines, -1);
    _cleanup_free_ char *empty = format(&q);
    assert_string_equal(empty, "");

    const char *all[] = {"follow",       "true",      "previous", "1",          "timestamps",
                         "True",         "tailLines", "0",        "limitBytes", "500",
                         "sinceSeconds", "30",        NULL};
    assert_int_equal(parse(all, &q, &code), 0);
    assert_true(q.follow && q.previous && q.timestamps);
    assert_int_equal(q.tail_lines, 0);
    assert_int_equal(q.limit_bytes, 500);
    _cleanup_free_ char *s = format(&q);
    assert_string_equal(s, "follow=true&previous=true&timestamps=true&sinceSeconds=30&"
                           "tailLines=0&limitBytes=500");
    struct kos_log_options o;
    kos_log_query_options(&q, 1000, &o);
    assert_int_equal(o.since_ns, 970LL * 1000000000LL);
    assert_int_equal(o.tail_lines, 0);
    assert_true(o.timestamps);

    const char *since[] = {"sinceTime", "2026-01-02T03:04:05Z", NULL};
    assert_int_equal(parse(since, &q, &code), 0);
    _cleanup_free_ char *t = format(&q);
    assert_string_equal(t, "sinceTime=2026-01-02T03:04:05Z");

    /* kube-apiserver's 400s and 422s */
    const char *bad_bool[] = {"follow", "maybe", NULL};
    assert_true(parse(bad_bool, &q, &code) < 0);
    assert_int_equal(code, 400);
    const char *bad_int[] = {"tailLines", "ten", NULL};
    assert_true(parse(bad_int, &q, &code) < 0);
    assert_int_equal(code, 400);
    const char *neg[] = {"tailLines", "-1", NULL};
    assert_true(parse(neg, &q, &code) < 0);
    assert_int_equal(code, 422);
    const char *zero_limit[] = {"limitBytes", "0", NULL};
    assert_true(parse(zero_limit, &q, &code) < 0);
    assert_int_equal(code, 422);
    const char *both[] = {"sinceSeconds", "5", "sinceTime", "2026-01-02T03:04:05Z", NULL};
    assert_true(parse(both, &q, &code) < 0);
    assert_int_equal(code, 422);
    const char *bad_time[] = {"sinceTime", "yesterday", NULL};
    assert_true(parse(bad_time, &q, &code) < 0);
    assert_int_equal(code, 400);
}

static void test_response_head(void **state)
{
    struct kubelet_head *h = malloc(sizeof(*h));
    assert_non_null(h);
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection:Upgrade\r\nSec-WebSocket-Protocol:  v5.channel.k8s.io  \r\n"
                       "\r\nEXTRA";
    ssize_t n = kubelet_head_parse(resp, strlen(resp), h);
    assert_int_equal(n, strlen(resp) - 5);
    assert_int_equal(h->status, 101);
    assert_int_equal(h->nheaders, 3);
    assert_string_equal(kubelet_head_get(h, "upgrade"), "websocket");
    assert_string_equal(kubelet_head_get(h, "Connection"), "Upgrade");
    assert_string_equal(kubelet_head_get(h, "Sec-WebSocket-Protocol"), "v5.channel.k8s.io");
    assert_null(kubelet_head_get(h, "Content-Length"));

    /* incomplete, then malformed */
    assert_int_equal(kubelet_head_parse("HTTP/1.1 200 OK\r\nA: b\r\n", 23, h), 0);
    const char *bad[] = {"HTTP/2 200 OK\r\n\r\n",
                         "HTTP/1.1 20 OK\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nno-colon\r\n\r\n",
                         "HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
                         "garbage\r\n\r\n",
                         "HTTP/1.1 099 Low\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nA b: c\r\n\r\n",
                         "HTTP/1.1 200 OK\r\nA: b\nSet-Cookie: x\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kubelet_head_parse(bad[i], strlen(bad[i]), h), -EPROTO);
    assert_int_equal(kubelet_head_parse("HTTP/1.1 404\r\n\r\n", 16, h), 16);
    assert_int_equal(h->status, 404);

    /* bounded: too many headers, too long a head */
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    kos_buf_append_str(&b, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < KUBELET_MAX_HEADERS + 1; i++)
        kos_buf_printf(&b, "H%d: v\r\n", i);
    kos_buf_append_str(&b, "\r\n");
    assert_int_equal(kubelet_head_parse(b.data, b.len, h), -E2BIG);
    kos_buf_reset(&b);
    kos_buf_append_str(&b, "HTTP/1.1 200 OK\r\nX: ");
    while (b.len <= KUBELET_MAX_HEAD)
        kos_buf_append_str(&b, "xxxxxxxxxxxxxxxx");
    assert_int_equal(kubelet_head_parse(b.data, b.len, h), -E2BIG);
    kos_buf_free(&b);
    free(h);
}

/* Decodes in, fed in pieces of step bytes, into out; returns the decoder's last result. */
static int decode_all(const char *in, size_t len, size_t step, char *out, size_t out_max,
                      size_t *out_len)
{
    struct kubelet_chunked c = {0};
    size_t pos = 0, o = 0;
    int r = 0;
    while (pos < len && r == 0) {
        size_t piece = len - pos < step ? len - pos : step;
        size_t off = 0;
        while (off < piece && r == 0) {
            size_t used = 0, made = 0;
            r = kubelet_chunked_decode(&c, in + pos + off, piece - off, &used, out + o,
                                       out_max - o > 3 ? 3 : out_max - o, &made);
            off += used;
            o += made;
            if (used == 0 && made == 0 && r == 0)
                break;
        }
        pos += piece;
    }
    *out_len = o;
    return r;
}

static void test_chunked(void **state)
{
    const char *body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
    for (size_t step = 1; step <= strlen(body); step++) {
        char out[64];
        size_t n = 0;
        assert_int_equal(decode_all(body, strlen(body), step, out, sizeof(out), &n), 1);
        assert_int_equal(n, 16);
        assert_memory_equal(out, "hello 0123456789", 16);
    }
    const char *bad[] = {"x\r\n", "5\nhello\r\n", "2\r\nabXY", "\r\n", "1234567890abcdef0\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[64];
        size_t n = 0;
        assert_int_equal(decode_all(bad[i], strlen(bad[i]), 64, out, sizeof(out), &n), -EPROTO);
    }
    /* unfinished: no error, not done */
    char out[64];
    size_t n = 0;
    assert_int_equal(decode_all("5\r\nhel", 6, 64, out, sizeof(out), &n), 0);
    assert_int_equal(n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_log_query),
        cmocka_unit_test(test_response_head),
        cmocka_unit_test(test_chunked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

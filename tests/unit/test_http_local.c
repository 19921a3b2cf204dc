/* In-process requests (apiserver/http_local.h): what a handler sees of them, and every form
 * of reply coming back as one body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/http_local.h"
#include "util/buf.h"

struct seen {
    char path[256];
    char method[16];
    const char *reply; /* "body", "iov", "stream" */
    char dump[1024];
};

static bool dump_header(void *ctx, const char *name, const char *value)
{
    struct kos_buf *b = ctx;
    kos_buf_printf(b, "[%s=%s]", name, value);
    return true;
}

struct stream_state {
    int left;
};

static ssize_t stream_read(void *ctx, char *buf, size_t max)
{
    struct stream_state *s = ctx;
    if (s->left == 0 || max < 3)
        return -1;
    s->left--;
    memcpy(buf, "ab,", 3);
    return 3;
}

static void handler(void *ctx, struct http_request *req, struct http_reply *rep)
{
    struct seen *s = ctx;
    snprintf(s->path, sizeof(s->path), "%s", req->path);
    snprintf(s->method, sizeof(s->method), "%s", req->method);
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    const char *all[4];
    size_t n = http_query_all(req, "x", all, 4);
    kos_buf_printf(&b, "q=%s sel=%s flag=%s none=%s xs=%zu", http_query(req, "q"),
                   http_query(req, "labelSelector"), http_query(req, "flag") ? "value" : "(null)",
                   http_query(req, "none") ? "set" : "unset", n);
    for (size_t i = 0; i < n; i++)
        kos_buf_printf(&b, ",%s", all[i]);
    kos_buf_printf(&b, " ua=%s body=%.*s peer=%s", http_header(req, "user-agent"),
                   (int)req->body.len, req->body.data ? req->body.data : "",
                   req->peer && req->peer->identity.user ? req->peer->identity.user : "-");
    http_headers_with_prefix(req, "Impersonate-", dump_header, &b);
    snprintf(s->dump, sizeof(s->dump), "%s", b.data);
    kos_buf_free(&b);

    if (strcmp(s->reply, "body") == 0) {
        http_reply_set_body(rep, 201, "application/json", strdup("{\"ok\":true}"), 11);
    } else if (strcmp(s->reply, "iov") == 0) {
        static char a[] = "[1,", bb[] = "2]";
        struct iovec *iov = calloc(2, sizeof(*iov));
        iov[0] = (struct iovec){a, 3};
        iov[1] = (struct iovec){bb, 2};
        rep->status = 200;
        rep->iov = iov;
        rep->iovcnt = 2;
    } else {
        struct stream_state *st = calloc(1, sizeof(*st));
        st->left = 4;
        rep->status = 200;
        rep->streaming = true;
        rep->stream = (struct http_stream){.read = stream_read, .free = free, .ctx = st};
    }
}

static int call(struct seen *s, const char *method, const char *pq, const char *body, size_t limit,
                int *status, char *out, size_t out_size)
{
    static char user[] = "system:kube-scheduler";
    struct pki_peer peer = {.status = PKI_PEER_VERIFIED, .identity = {.user = user}};
    const struct http_param headers[] = {{"User-Agent", "kos-scheduler"},
                                         {"Impersonate-User", "bob"},
                                         {"Accept", "application/json"},
                                         {"impersonate-group", "g1"}};
    const struct http_local_call c = {.handler = handler,
                                      .handler_ctx = s,
                                      .peer = &peer,
                                      .method = method,
                                      .path_query = pq,
                                      .headers = headers,
                                      .nheaders = 4,
                                      .body = body,
                                      .len = body ? strlen(body) : 0};
    struct kos_buf b;
    kos_buf_init(&b, limit);
    int r = http_local_request(&c, status, &b);
    if (r == 0)
        snprintf(out, out_size, "%.*s", (int)b.len, b.data ? b.data : "");
    kos_buf_free(&b);
    return r;
}

static void test_request_as_handlers_see_it(void **state)
{
    struct seen s = {.reply = "body"};
    int status = 0;
    char out[256];
    assert_int_equal(call(&s, "POST",
                          "/api/v1/namespaces/a%2Fb/pods?q=x+y%26z&labelSelector=app%3Dweb%2Ctier"
                          "&&flag&x=1&x=2&bad=%00",
                          "{\"kind\":\"Pod\"}", 1024, &status, out, sizeof(out)),
                     0);
    assert_int_equal(status, 201);
    assert_string_equal(out, "{\"ok\":true}");
    assert_string_equal(s.method, "POST");
    assert_string_equal(s.path, "/api/v1/namespaces/a/b/pods");
    assert_string_equal(s.dump,
                        "q=x y&z sel=app=web,tier flag=(null) none=unset xs=2,1,2 "
                        "ua=kos-scheduler body={\"kind\":\"Pod\"} peer=system:kube-scheduler"
                        "[Impersonate-User=bob][impersonate-group=g1]");
}

static void test_reply_forms(void **state)
{
    int status = 0;
    char out[256];
    struct seen s = {.reply = "iov"};
    assert_int_equal(call(&s, "GET", "/api/v1/pods", NULL, 1024, &status, out, sizeof(out)), 0);
    assert_int_equal(status, 200);
    assert_string_equal(out, "[1,2]");
    s.reply = "stream";
    assert_int_equal(call(&s, "GET", "/x", NULL, 1024, &status, out, sizeof(out)), 0);
    assert_string_equal(out, "ab,ab,ab,ab,");
    /* a reply over the caller's limit is an error, not a cut body */
    assert_int_equal(call(&s, "GET", "/x", NULL, 5, &status, out, sizeof(out)), -E2BIG);
    s.reply = "body";
    assert_int_equal(call(&s, "GET", "no-slash", NULL, 1024, &status, out, sizeof(out)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_as_handlers_see_it),
        cmocka_unit_test(test_reply_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

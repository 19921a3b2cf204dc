/* Unit tests for apiserver/list_body.c: a list body read in pieces of any size is the flat
 * encoding byte for byte, shared value pieces included; over a real HTTP/1.1 connection a
 * large body is written directly, chunk-framed, and the connection stays usable; HTTP/1.0
 * gets the same bytes with a Content-Length; a client leaving mid-body harms nothing. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <cmocka.h>

#include "apiserver/list_body.h"
#include "util/buf.h"

#define HEAD                                                                                       \
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9\"},"        \
    "\"items\":["

/* A pod-like object whose spec and fieldsV1 (fill bytes each) become shared pieces. */
static char *pod(size_t i, size_t fill)
{
    char *pad = malloc(fill + 1);
    assert_non_null(pad);
    memset(pad, 'a' + (int)(i % 3), fill);
    pad[fill] = '\0';
    struct kos_buf b;
    kos_buf_init(&b, 1 << 24);
    assert_int_equal(
        kos_buf_printf(&b,
                       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p-%zu\","
                       "\"managedFields\":[{\"manager\":\"m\",\"fieldsType\":\"FieldsV1\","
                       "\"fieldsV1\":{\"f:spec\":{\"f:%s\":{}}}}],\"resourceVersion\":\"%zu\"},"
                       "\"spec\":{\"x\":\"%s\"},\"status\":{\"phase\":\"Pending\"}}",
                       i, pad, i + 1, pad),
        0);
    free(pad);
    size_t len = 0;
    return kos_buf_steal(&b, &len);
}

/* count values (every third one flat, the rest with shared pieces) and the flat body. */
static struct list_body *make_body(size_t count, size_t fill, char **ret_flat, size_t *ret_len)
{
    struct kos_value **vals = calloc(count ? count : 1, sizeof(*vals));
    assert_non_null(vals);
    struct kos_buf flat;
    kos_buf_init(&flat, 1u << 30);
    assert_int_equal(kos_buf_append_str(&flat, HEAD), 0);
    for (size_t i = 0; i < count; i++) {
        char *s = pod(i, fill);
        vals[i] = i % 3 == 2 ? kos_value_new(s, strlen(s)) : kos_value_new_shared(s, strlen(s));
        assert_non_null(vals[i]);
        if (i)
            assert_int_equal(kos_buf_append(&flat, ",", 1), 0);
        assert_int_equal(kos_buf_append_str(&flat, s), 0);
        free(s);
    }
    assert_int_equal(kos_buf_append_str(&flat, "]}"), 0);
    if (count > 1 && fill >= 600)
        assert_false(kos_value_is_flat(vals[0]));
    struct list_body *b = NULL;
    char *head = strdup(HEAD);
    assert_non_null(head);
    assert_int_equal(list_body_new(head, strlen(head), vals, count, "]}", &b), 0);
    *ret_flat = kos_buf_steal(&flat, ret_len);
    return b;
}

static void test_read_in_any_piece_size(void **state)
{
    (void)state;
    const size_t sizes[] = {1, 2, 3, 7, 64, 1000, 4096, 65528, 1 << 22};
    for (size_t count = 0; count < 5; count++) {
        for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
            char *flat = NULL;
            size_t len = 0;
            struct list_body *b = make_body(count, 700, &flat, &len);
            assert_int_equal(list_body_len(b), len);
            char *out = malloc(len + sizes[k]);
            assert_non_null(out);
            size_t at = 0, n;
            while ((n = list_body_read(b, out + at, sizes[k])) > 0) {
                assert_true(n <= sizes[k]);
                at += n;
                assert_true(at <= len);
            }
            assert_int_equal(at, len);
            assert_memory_equal(out, flat, len);
            assert_int_equal(list_body_read(b, out, 10), 0);
            free(out);
            free(flat);
            list_body_free(b);
        }
    }
    list_body_free(NULL);
}

/* ---- over HTTP ------------------------------------------------------------------------- */

struct served {
    size_t count, fill;
};

static void handler(void *ctx, struct http_request *req, struct http_reply *rep)
{
    const struct served *sv = ctx;
    char *flat = NULL;
    size_t len = 0;
    struct list_body *b = make_body(sv->count, sv->fill, &flat, &len);
    free(flat);
    list_body_reply(rep, req, b);
}

static int connect_to(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(send(fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* A buffered reader over the socket. */
struct rd {
    int fd;
    char buf[8192];
    size_t pos, len;
};

static int rd_byte(struct rd *r)
{
    if (r->pos == r->len) {
        ssize_t n = recv(r->fd, r->buf, sizeof(r->buf), 0);
        if (n <= 0)
            return -1;
        r->pos = 0;
        r->len = (size_t)n;
    }
    return (unsigned char)r->buf[r->pos++];
}

/* One line without its CRLF into out (NUL-terminated). */
static void rd_line(struct rd *r, char *out, size_t size)
{
    size_t n = 0;
    for (;;) {
        int c = rd_byte(r);
        assert_true(c >= 0);
        if (c == '\n')
            break;
        if (c != '\r' && n + 1 < size)
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

static void rd_exact(struct rd *r, char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int c = rd_byte(r);
        assert_true(c >= 0);
        out[i] = (char)c;
    }
}

/* Reads one response: its body (malloc'd) and whether it came chunked. */
static char *read_response(struct rd *r, size_t *ret_len, bool *ret_chunked)
{
    char line[512];
    rd_line(r, line, sizeof(line));
    assert_non_null(strstr(line, " 200 "));
    long long clen = -1;
    bool chunked = false;
    for (;;) {
        rd_line(r, line, sizeof(line));
        if (!line[0])
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtoll(line + 15, NULL, 10);
        if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked"))
            chunked = true;
    }
    struct kos_buf body;
    kos_buf_init(&body, 1u << 30);
    if (chunked) {
        for (;;) {
            rd_line(r, line, sizeof(line));
            char *end = NULL;
            unsigned long long n = strtoull(line, &end, 16);
            assert_true(end != line);
            if (n == 0) {
                rd_line(r, line, sizeof(line)); /* no trailers */
                assert_string_equal(line, "");
                break;
            }
            char *p = malloc(n);
            assert_non_null(p);
            rd_exact(r, p, n);
            assert_int_equal(kos_buf_append(&body, p, n), 0);
            free(p);
            rd_line(r, line, sizeof(line));
            assert_string_equal(line, "");
        }
    } else {
        assert_true(clen >= 0);
        char *p = malloc((size_t)clen + 1);
        assert_non_null(p);
        rd_exact(r, p, (size_t)clen);
        assert_int_equal(kos_buf_append(&body, p, (size_t)clen), 0);
        free(p);
    }
    *ret_chunked = chunked;
    return kos_buf_steal(&body, ret_len);
}

static void test_over_http(void **state)
{
    (void)state;
    struct served sv = {.count = 400, .fill = 700}; /* about 700 KB: written directly */
    struct http_server_options o = {
        .bind_address = "127.0.0.1", .handler = handler, .handler_ctx = &sv};
    struct http_server *srv = NULL;
    assert_int_equal(http_server_start(&o, &srv), 0);
    uint16_t port = http_server_port(srv);
    char *want = NULL;
    size_t want_len = 0;
    list_body_free(make_body(sv.count, sv.fill, &want, &want_len));
    assert_true(want_len > LIST_BODY_DIRECT_MIN);

    /* HTTP/1.1: chunked, twice on one keep-alive connection (the body ended cleanly) */
    int fd = connect_to(port);
    struct rd r = {.fd = fd};
    for (int i = 0; i < 2; i++) {
        send_str(fd, "GET /list HTTP/1.1\r\nHost: x\r\n\r\n");
        size_t len = 0;
        bool chunked = false;
        char *got = read_response(&r, &len, &chunked);
        assert_true(chunked);
        assert_int_equal(len, want_len);
        assert_memory_equal(got, want, len);
        free(got);
    }
    close(fd);

    /* HTTP/1.0: the same bytes with a Content-Length */
    fd = connect_to(port);
    struct rd r10 = {.fd = fd};
    send_str(fd, "GET /list HTTP/1.0\r\n\r\n");
    size_t len = 0;
    bool chunked = true;
    char *got = read_response(&r10, &len, &chunked);
    assert_false(chunked);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    free(got);
    close(fd);

    /* a small list goes out with a Content-Length */
    sv.count = 2;
    fd = connect_to(port);
    struct rd rs = {.fd = fd};
    send_str(fd, "GET /list HTTP/1.1\r\nHost: x\r\n\r\n");
    got = read_response(&rs, &len, &chunked);
    assert_false(chunked);
    free(got);
    close(fd);
    sv.count = 400;

    /* clients that leave after the first bytes, with the body still being written */
    for (int i = 0; i < 5; i++) {
        fd = connect_to(port);
        send_str(fd, "GET /list HTTP/1.1\r\nHost: x\r\n\r\n");
        char some[4096];
        assert_true(recv(fd, some, sizeof(some), 0) > 0);
        close(fd);
    }
    /* the server still answers in full */
    fd = connect_to(port);
    struct rd r2 = {.fd = fd};
    send_str(fd, "GET /list HTTP/1.1\r\nHost: x\r\n\r\n");
    got = read_response(&r2, &len, &chunked);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    free(got);
    close(fd);

    free(want);
    http_server_stop(srv);
}

int main(void)
{
    /* as kos server does: a peer that left is an error return, never a signal */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_in_any_piece_size),
        cmocka_unit_test(test_over_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The watch fan-out (apiserver/watch_fanout.c): streams served from its threads over real
 * sockets (a socketpair, plain HTTP; a loopback TCP connection with TLS), read back as chunked
 * watch events: every event once and in order to every stream, prefixes, bookmarks, the
 * deadline, 410 on falling out of the window, a client that leaves, a slow reader (also over
 * TLS, where a backlog goes out as several records in one write), and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apiserver/watch_fanout.h"
#include "store/value.h"
#include "store/watch.h"
#include "util/buf.h"
#include "util/timeutil.h"

struct client {
    int fds[2]; /* [0]: the server's end, [1]: the client's */
    struct http_io io;
    struct watch_fanout_stream st;
    struct watch_fanout *f;
    pthread_t thread;
    int result;
    struct kos_buf in;    /* what the client read and has not parsed yet */
    gnutls_session_t tls; /* the client's TLS session (NULL: plain) */
};

static void *serve_main(void *arg)
{
    struct client *c = arg;
    c->result = watch_fanout_serve(c->f, &c->st);
    return NULL;
}

static void client_start(struct client *c, struct watch_fanout *f, struct watch_window *w,
                         const char *prefix, int64_t from)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, c->fds), 0);
    c->io = (struct http_io){.fd = c->fds[0]};
    assert_int_equal(watch_window_subscribe(w, prefix, from, &c->st.sub), 0);
    c->st.io = &c->io;
    c->st.kind = "Pod";
    c->st.api_version = "v1";
    c->f = f;
    c->result = 1;
    kos_buf_init(&c->in, 1u << 20);
}

static void client_run(struct client *c)
{
    assert_int_equal(pthread_create(&c->thread, NULL, serve_main, c), 0);
}

static int client_join(struct client *c)
{
    pthread_join(c->thread, NULL);
    watch_sub_close(c->st.sub);
    close(c->fds[0]);
    if (c->fds[1] >= 0)
        close(c->fds[1]);
    kos_buf_free(&c->in);
    return c->result;
}

/* Reads one chunk's payload (a watch event line) within timeout_ms; NULL at EOF/timeout. */
static char *read_chunk(struct client *c, int timeout_ms)
{
    struct kos_buf *b = &c->in;
    int64_t end = kos_now_ms_monotonic() + timeout_ms;
    for (;;) {
        char *crlf = b->len ? strstr(b->data, "\r\n") : NULL;
        if (crlf) {
            size_t want = strtoul(b->data, NULL, 16);
            size_t head = (size_t)(crlf - b->data) + 2;
            if (b->len >= head + want + 2) {
                char *out = strndup(b->data + head, want);
                size_t used = head + want + 2;
                memmove(b->data, b->data + used, b->len - used + 1);
                b->len -= used;
                return out;
            }
        }
        int left = (int)(end - kos_now_ms_monotonic());
        struct pollfd p = {.fd = c->fds[1], .events = POLLIN};
        bool pending = c->tls && gnutls_record_check_pending(c->tls) > 0;
        if (!pending && (left <= 0 || poll(&p, 1, left) != 1))
            return NULL;
        char tmp[4096];
        ssize_t n;
        if (c->tls) {
            do
                n = gnutls_record_recv(c->tls, tmp, sizeof(tmp));
            while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
        } else {
            n = read(c->fds[1], tmp, sizeof(tmp));
        }
        if (n <= 0)
            return NULL;
        assert_int_equal(kos_buf_append(b, tmp, (size_t)n), 0);
    }
}

static void append(struct watch_window *w, int64_t rev, enum watch_event_type t, const char *key,
                   const char *obj)
{
    struct kos_value *v = kos_value_new(obj, strlen(obj));
    assert_int_equal(watch_window_append(w, rev, t, key, v, NULL), 0);
    kos_value_unref(v);
}

static void expect(struct client *c, const char *line)
{
    char *got = read_chunk(c, 30000);
    assert_non_null(got);
    assert_string_equal(got, line);
    free(got);
}

static void test_events_in_order_to_every_stream(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(100, 0, &w), 0);
    struct watch_fanout *f;
    assert_int_equal(watch_fanout_new(w, 2, &f), 0);
    enum { N = 5 };
    struct client c[N];
    for (int i = 0; i < N; i++) {
        client_start(&c[i], f, w, i == N - 1 ? "/b/" : "/a/", 0);
        client_run(&c[i]);
    }
    append(w, 1, WATCH_ADDED, "/a/x", "{\"n\":1}");
    append(w, 2, WATCH_ADDED, "/b/y", "{\"n\":2}");
    append(w, 3, WATCH_MODIFIED, "/a/x", "{\"n\":3}");
    append(w, 4, WATCH_DELETED, "/a/x", "{\"n\":4}");
    for (int i = 0; i < N - 1; i++) {
        expect(&c[i], "{\"type\":\"ADDED\",\"object\":{\"n\":1}}\n");
        expect(&c[i], "{\"type\":\"MODIFIED\",\"object\":{\"n\":3}}\n");
        expect(&c[i], "{\"type\":\"DELETED\",\"object\":{\"n\":4}}\n");
    }
    expect(&c[N - 1], "{\"type\":\"ADDED\",\"object\":{\"n\":2}}\n");
    /* a client that leaves ends its stream, and only its own */
    close(c[0].fds[1]);
    c[0].fds[1] = -1;
    assert_int_equal(client_join(&c[0]), -EPIPE);
    append(w, 5, WATCH_ADDED, "/a/z", "{\"n\":5}");
    expect(&c[1], "{\"type\":\"ADDED\",\"object\":{\"n\":5}}\n");
    /* shutdown ends the others cleanly */
    watch_window_shutdown(w);
    for (int i = 1; i < N; i++)
        assert_int_equal(client_join(&c[i]), 0);
    watch_fanout_free(f);
    watch_window_free(w);
}

static void test_deadline_and_bookmark(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(100, 0, &w), 0);
    struct watch_fanout *f;
    assert_int_equal(watch_fanout_new(w, 1, &f), 0);
    append(w, 7, WATCH_ADDED, "/c/other", "{}");
    struct client c;
    client_start(&c, f, w, "/a/", 0);
    c.st.bookmarks = true;
    /* the bookmark is due at once and the deadline well after: a stream thread that a loaded
     * machine runs late must still find the deadline ahead of it (at the deadline the stream
     * ends without the bookmark) */
    c.st.next_bookmark_ms = kos_now_ms_monotonic();
    c.st.bookmark_interval_ms = 60000;
    c.st.deadline_ms = kos_now_ms_monotonic() + 3000;
    client_run(&c);
    /* the bookmark reports the revision seen, skipped events included */
    expect(&c, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
               "\"metadata\":{\"resourceVersion\":\"7\"}}}\n");
    assert_int_equal(client_join(&c), 0); /* ended at its deadline */
    watch_fanout_free(f);                 /* before the window: streams end, threads stop */
    watch_window_free(w);
}

static void test_expired_when_out_of_window(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(4, 0, &w), 0);
    struct watch_fanout *f;
    assert_int_equal(watch_fanout_new(w, 1, &f), 0);
    struct client c;
    client_start(&c, f, w, "/a/", 0);
    /* a reader that does not read: the socket fills, the window moves on without it */
    int small = 4096;
    setsockopt(c.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(c.fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    client_run(&c);
    char big[8192];
    memset(big, 'x', sizeof(big));
    big[0] = '"';
    big[sizeof(big) - 1] = '\0';
    big[sizeof(big) - 2] = '"';
    for (int rev = 1; rev <= 40; rev++) {
        char key[32];
        snprintf(key, sizeof(key), "/a/%d", rev);
        append(w, rev, WATCH_ADDED, key, big);
        usleep(2000);
    }
    /* now read: whatever came through is in order, and then 410 ends the stream */
    int64_t last = 0;
    bool expired = false;
    for (int i = 0; i < 100 && !expired; i++) {
        char *line = read_chunk(&c, 30000);
        assert_non_null(line);
        if (strstr(line, "\"ERROR\"")) {
            assert_non_null(strstr(line, "\"code\":410"));
            assert_non_null(strstr(line, "too old resource version"));
            expired = true;
        } else {
            assert_non_null(strstr(line, "\"ADDED\""));
            last++;
        }
        free(line);
    }
    assert_true(expired);
    assert_true(last < 40);
    assert_int_equal(client_join(&c), 0);
    watch_fanout_free(f);
    watch_window_free(w);
}

/* Many events to a slow reader: nothing lost, nothing repeated, in order (the queue fills,
 * the socket blocks, frames are joined). */
static void test_slow_reader_gets_everything(void **state)
{
    enum { EVENTS = 500 };
    struct watch_window *w;
    assert_int_equal(watch_window_new(EVENTS + 10, 0, &w), 0);
    struct watch_fanout *f;
    assert_int_equal(watch_fanout_new(w, 1, &f), 0);
    struct client c;
    client_start(&c, f, w, "/a/", 0);
    client_run(&c);
    for (int rev = 1; rev <= EVENTS; rev++) {
        char obj[512];
        snprintf(obj, sizeof(obj), "{\"n\":%d,\"pad\":\"%0400d\"}", rev, 0);
        append(w, rev, WATCH_MODIFIED, "/a/k", obj);
    }
    for (int rev = 1; rev <= EVENTS; rev++) {
        char *line = read_chunk(&c, 30000);
        assert_non_null(line);
        char want[32];
        snprintf(want, sizeof(want), "{\"n\":%d,", rev);
        assert_non_null(strstr(line, want));
        free(line);
        if (rev % 100 == 0)
            usleep(20000);
    }
    watch_window_shutdown(w);
    assert_int_equal(client_join(&c), 0);
    watch_fanout_free(f);
    watch_window_free(w);
}

/* ---- over TLS ---------------------------------------------------------------------------- */

#define TLS_PRIO "NORMAL:-VERS-ALL:+VERS-TLS1.2:+ANON-ECDH"

struct tls_end {
    int fd;
    bool server;
    gnutls_anon_server_credentials_t scred;
    gnutls_anon_client_credentials_t ccred;
    gnutls_session_t s;
    int r;
};

static void *handshake_main(void *arg)
{
    struct tls_end *e = arg;
    e->r = gnutls_init(&e->s, e->server ? GNUTLS_SERVER : GNUTLS_CLIENT);
    if (e->r == 0)
        e->r = gnutls_priority_set_direct(e->s, TLS_PRIO, NULL);
    if (e->r == 0)
        e->r = e->server ? gnutls_credentials_set(e->s, GNUTLS_CRD_ANON, e->scred)
                         : gnutls_credentials_set(e->s, GNUTLS_CRD_ANON, e->ccred);
    if (e->r == 0) {
        gnutls_transport_set_int(e->s, e->fd);
        gnutls_handshake_set_timeout(e->s, 10000);
        do
            e->r = gnutls_handshake(e->s);
        while (e->r < 0 && !gnutls_error_is_fatal(e->r));
    }
    return NULL;
}

/* A loopback TCP connection (so that TCP_CORK applies) with a TLS session on each end. */
static void tls_pair(struct tls_end *srv, struct tls_end *cli)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 1), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    cli->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(cli->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    srv->fd = accept(l, NULL, NULL);
    assert_true(srv->fd >= 0);
    close(l);
    srv->server = true;
    cli->server = false;
    assert_int_equal(gnutls_anon_allocate_server_credentials(&srv->scred), 0);
    assert_int_equal(gnutls_anon_allocate_client_credentials(&cli->ccred), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, handshake_main, srv), 0);
    handshake_main(cli);
    pthread_join(t, NULL);
    assert_int_equal(srv->r, 0);
    assert_int_equal(cli->r, 0);
}

static void tls_end_free(struct tls_end *e)
{
    gnutls_deinit(e->s);
    if (e->scred)
        gnutls_anon_free_server_credentials(e->scred);
    if (e->ccred)
        gnutls_anon_free_client_credentials(e->ccred);
}

/* Events of a kube-sized pod (~6 KB) to a TLS client that stops reading now and then: the
 * backlog goes out joined, as several records per write with the socket corked, and when the
 * socket is full mid-record the same bytes are offered again, as GnuTLS requires. Every event
 * arrives once, whole, in order. */
static void test_tls_backlog_gets_everything(void **state)
{
    enum { EVENTS = 300 };
    struct watch_window *w;
    assert_int_equal(watch_window_new(EVENTS + 10, 0, &w), 0);
    struct watch_fanout *f;
    assert_int_equal(watch_fanout_new(w, 1, &f), 0);
    struct tls_end srv = {0}, cli = {0};
    tls_pair(&srv, &cli);
    int small = 16384;
    setsockopt(srv.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(cli.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_int_equal(fcntl(srv.fd, F_SETFL, fcntl(srv.fd, F_GETFL) | O_NONBLOCK), 0);
    struct client c;
    memset(&c, 0, sizeof(c));
    c.fds[0] = srv.fd;
    c.fds[1] = cli.fd;
    c.io = (struct http_io){.fd = srv.fd, .tls = srv.s};
    assert_int_equal(watch_window_subscribe(w, "/a/", 0, &c.st.sub), 0);
    c.st.io = &c.io;
    c.st.kind = "Pod";
    c.st.api_version = "v1";
    c.f = f;
    c.result = 1;
    c.tls = cli.s;
    kos_buf_init(&c.in, 1u << 20);
    client_run(&c);
    for (int rev = 1; rev <= EVENTS; rev++) {
        char obj[6200];
        snprintf(obj, sizeof(obj), "{\"n\":%d,\"pad\":\"%06000d\"}", rev, rev);
        append(w, rev, WATCH_MODIFIED, "/a/k", obj);
    }
    for (int rev = 1; rev <= EVENTS; rev++) {
        char *line = read_chunk(&c, 30000);
        assert_non_null(line);
        char want[48];
        snprintf(want, sizeof(want), "{\"type\":\"MODIFIED\",\"object\":{\"n\":%d,", rev);
        assert_memory_equal(line, want, strlen(want));
        assert_int_equal(strlen(line), strlen(want) + 6000 + 11);
        free(line);
        if (rev % 50 == 0)
            usleep(20000); /* the socket fills meanwhile */
    }
    watch_window_shutdown(w);
    pthread_join(c.thread, NULL);
    assert_int_equal(c.result, 0);
    watch_sub_close(c.st.sub);
    kos_buf_free(&c.in);
    tls_end_free(&cli);
    tls_end_free(&srv);
    close(srv.fd);
    close(cli.fd);
    watch_fanout_free(f);
    watch_window_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_in_order_to_every_stream),
        cmocka_unit_test(test_deadline_and_bookmark),
        cmocka_unit_test(test_expired_when_out_of_window),
        cmocka_unit_test(test_slow_reader_gets_everything),
        cmocka_unit_test(test_tls_backlog_gets_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

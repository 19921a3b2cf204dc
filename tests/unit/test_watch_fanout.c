/* The watch fan-out (apiserver/watch_fanout.c): streams served from its threads over real
 * sockets (a socketpair, plain HTTP), read back as chunked watch events: every event once and
 * in order to every stream, prefixes, bookmarks, the deadline, 410 on falling out of the
 * window, a client that leaves, a slow reader, and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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
    struct kos_buf in; /* what the client read and has not parsed yet */
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
        if (left <= 0 || poll(&p, 1, left) != 1)
            return NULL;
        char tmp[4096];
        ssize_t n = read(c->fds[1], tmp, sizeof(tmp));
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
    char *got = read_chunk(c, 5000);
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
    c.st.next_bookmark_ms = kos_now_ms_monotonic() + 50;
    c.st.bookmark_interval_ms = 60000;
    c.st.deadline_ms = kos_now_ms_monotonic() + 400;
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
        char *line = read_chunk(&c, 5000);
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
        char *line = read_chunk(&c, 5000);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_in_order_to_every_stream),
        cmocka_unit_test(test_deadline_and_bookmark),
        cmocka_unit_test(test_expired_when_out_of_window),
        cmocka_unit_test(test_slow_reader_gets_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

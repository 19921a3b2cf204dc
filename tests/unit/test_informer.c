/* The informer's list/watch protocol against a scripted fake API server: a watch that ends is
 * resumed from the last resourceVersion, a 410 leads to a re-list whose difference with the
 * cache is reported as adds, updates and deletes, and stop is prompt on an idle watch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/client.h"
#include "client/informer.h"
#include "util/timeutil.h"

#define DEADLINE_MS 10000
#define MAX_PATHS   32

/* ---- the fake server: one request per connection, answers from a script ---------------- */

struct fake {
    int listen_fd;
    uint16_t port;
    pthread_t thread;
    atomic_bool quit;
    pthread_mutex_t lock;
    char *paths[MAX_PATHS]; /* request targets, in order */
    size_t npaths;
    int lists, watches;
};

#define CM(name, rv)                                                                               \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\",\"resourceVersion\":\"" rv          \
    "\",\"uid\":\"uid-" name "\"},\"data\":{\"k\":\"v\"}}"

static const char *const list_bodies[] = {
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"10\"},"
    "\"items\":[" CM("a", "5") "," CM("b", "6") "]}",
    "{\"kind\":\"ConfigMapList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"20\"},"
    "\"items\":[" CM("a", "11") "," CM("c", "15") "," CM("d", "16") "]}",
};

static const char *const watch_bodies[] = {
    /* 1: two changes, then the stream ends */
    "{\"type\":\"MODIFIED\",\"object\":" CM("a", "11") "}\n"
                                                       "{\"type\":\"ADDED\",\"object\":" CM(
                                                           "c", "12") "}\n",
    /* 2: expired */
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
    "\"Failure\",\"message\":\"too old resource version: 12 (19)\",\"reason\":\"Expired\","
    "\"code\":410}}\n",
};

static void send_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void answer(int fd, const char *body, bool hold_open, struct fake *f)
{
    char head[256];
    int n = hold_open || !body ? snprintf(head, sizeof(head),
                                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                          "Connection: close\r\n\r\n")
                               : snprintf(head, sizeof(head),
                                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                          strlen(body));
    send_all(fd, head, (size_t)n);
    if (body)
        send_all(fd, body, strlen(body));
    while (hold_open && !atomic_load(&f->quit)) {
        /* an idle watch: nothing to send until the client goes away */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 50) > 0) {
            char b[64];
            if (recv(fd, b, sizeof(b), 0) <= 0)
                break;
        }
    }
}

static void serve_one(struct fake *f, int fd)
{
    char req[4096];
    size_t len = 0;
    while (len < sizeof(req) - 1) {
        ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
        if (n <= 0)
            return;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char *sp1 = strchr(req, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2)
        return;
    *sp2 = '\0';
    bool watch = strstr(sp1 + 1, "watch=1") != NULL;
    int index;
    pthread_mutex_lock(&f->lock);
    if (f->npaths < MAX_PATHS)
        f->paths[f->npaths++] = strdup(sp1 + 1);
    index = watch ? f->watches++ : f->lists++;
    pthread_mutex_unlock(&f->lock);
    if (watch)
        answer(fd, index < 2 ? watch_bodies[index] : NULL, index >= 2, f);
    else
        answer(fd, list_bodies[index < 2 ? index : 1], false, f);
}

static void *fake_run(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->quit)) {
        struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(f, fd);
        close(fd);
    }
    return NULL;
}

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    pthread_mutex_init(&f->lock, NULL);
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    assert_int_equal(listen(f->listen_fd, 16), 0);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;
    atomic_store(&f->quit, true);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    for (size_t i = 0; i < f->npaths; i++)
        free(f->paths[i]);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* ---- what the handlers saw ---------------------------------------------------------------- */

struct seen {
    pthread_mutex_t lock;
    char log[64][48];
    size_t n;
};

static void push(struct seen *s, const char *what, const json_t *obj)
{
    const json_t *m = json_object_get(obj, "metadata");
    pthread_mutex_lock(&s->lock);
    if (s->n < 64)
        snprintf(s->log[s->n++], sizeof(s->log[0]), "%s %s@%s", what,
                 json_string_value(json_object_get(m, "name")),
                 json_string_value(json_object_get(m, "resourceVersion")));
    pthread_mutex_unlock(&s->lock);
}

static void on_add(void *ctx, const json_t *obj)
{
    push(ctx, "add", obj);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    push(ctx, "update", obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    push(ctx, "delete", obj);
}

static bool seen_has(struct seen *s, const char *entry)
{
    bool found = false;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++)
        found = found || strcmp(s->log[i], entry) == 0;
    pthread_mutex_unlock(&s->lock);
    return found;
}

static size_t seen_count(struct seen *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int fake_watches(struct fake *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->watches;
    pthread_mutex_unlock(&f->lock);
    return n;
}

static bool path_has(struct fake *f, size_t i, const char *part)
{
    pthread_mutex_lock(&f->lock);
    bool r = i < f->npaths && strstr(f->paths[i], part) != NULL;
    pthread_mutex_unlock(&f->lock);
    return r;
}

static void test_relist_and_rewatch(void **state)
{
    struct fake *f = *state;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", f->port);
    struct kos_client_config cc = {.server = url, .timeout_ms = DEADLINE_MS};
    struct kos_client *c = NULL;
    assert_int_equal(kos_client_new(&cc, &c), 0);
    struct seen s = {.n = 0};
    pthread_mutex_init(&s.lock, NULL);
    struct kos_informer_options o = {.kind = kos_kind_by_kind("", "ConfigMap"), .ns = "ns"};
    struct kos_informer *inf = NULL;
    assert_int_equal(kos_informer_new(c, &o, &inf), 0);
    struct kos_informer_handlers h = {on_add, on_update, on_delete, &s};
    assert_int_equal(kos_informer_add_handlers(inf, &h), 0);
    assert_int_equal(kos_informer_start(inf), 0);

    /* list 1, watch 1 (ends), watch 2 (410), list 2, watch 3 (stays open) */
    int64_t deadline = kos_now_ms_monotonic() + DEADLINE_MS;
    while ((fake_watches(f) < 3 || seen_count(&s) < 7) && kos_now_ms_monotonic() < deadline)
        usleep(5000);
    assert_true(fake_watches(f) >= 3);
    assert_int_equal(seen_count(&s), 7);
    assert_true(seen_has(&s, "add a@5"));
    assert_true(seen_has(&s, "add b@6"));
    assert_true(seen_has(&s, "update a@11"));
    assert_true(seen_has(&s, "add c@12"));
    /* the re-list: c changed, d is new, b is gone, a is unchanged (no event) */
    assert_true(seen_has(&s, "update c@15"));
    assert_true(seen_has(&s, "add d@16"));
    assert_true(seen_has(&s, "delete b@6"));

    assert_true(path_has(f, 0, "/api/v1/namespaces/ns/configmaps?limit=500"));
    assert_true(path_has(f, 1, "resourceVersion=10"));
    assert_true(path_has(f, 1, "allowWatchBookmarks=true"));
    assert_true(path_has(f, 2, "resourceVersion=12")); /* resumed, not re-listed */
    assert_false(path_has(f, 3, "watch=1"));           /* the 410 made it list */
    assert_true(path_has(f, 4, "resourceVersion=20"));

    json_t *a = kos_informer_get(inf, "ns", "a");
    assert_non_null(a);
    assert_non_null(json_object_get(a, "data")); /* full objects unless metadata_only */
    assert_string_equal(json_string_value(json_object_get(a, "kind")), "ConfigMap");
    json_decref(a);
    assert_null(kos_informer_get(inf, "ns", "b"));

    int64_t t0 = kos_now_ms_monotonic();
    kos_informer_free(inf); /* stops the idle watch 3 */
    assert_true(kos_now_ms_monotonic() - t0 < DEADLINE_MS);
    kos_client_free(c);
    pthread_mutex_destroy(&s.lock);
}

static void test_unreachable_server_stops(void **state)
{
    struct kos_client_config cc = {.server = "http://127.0.0.1:1", .timeout_ms = 1000};
    struct kos_client *c = NULL;
    assert_int_equal(kos_client_new(&cc, &c), 0);
    struct kos_informer_options o = {.kind = kos_kind_by_kind("", "Pod")};
    struct kos_informer *inf = NULL;
    assert_int_equal(kos_informer_new(c, &o, &inf), 0);
    assert_int_equal(kos_informer_start(inf), 0);
    assert_int_equal(kos_informer_wait_synced(inf, 100), -ETIMEDOUT);
    assert_false(kos_informer_has_synced(inf));
    kos_informer_stop(inf);
    assert_int_equal(kos_informer_wait_synced(inf, 100), -ECANCELED);
    kos_informer_free(inf);
    kos_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relist_and_rewatch, setup, teardown),
        cmocka_unit_test(test_unreachable_server_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

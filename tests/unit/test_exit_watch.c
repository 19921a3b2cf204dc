/* Unit tests for src/agent/pods/exit_watch.c: a watched pipe's EOF (its shim exited) calls back
 * with the pod's namespace and name and forgets the container; bad input is refused and the
 * descriptor closed; freeing with descriptors still watched closes them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/pods/exit_watch.h"

struct seen {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    char ns[64], name[64];
};

static void on_exit_cb(void *ctx, const char *ns, const char *name)
{
    struct seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    snprintf(s->ns, sizeof(s->ns), "%s", ns);
    snprintf(s->name, sizeof(s->name), "%s", name);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static int wait_calls(struct seen *s, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&s->lock);
    while (s->calls < n && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
        ;
    int c = s->calls;
    pthread_mutex_unlock(&s->lock);
    return c;
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static void test_eof_calls_back(void **state)
{
    (void)state;
    struct seen s = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct exit_watch *w = NULL;
    assert_int_equal(exit_watch_new(on_exit_cb, &s, &w), 0);
    int a[2], b[2];
    assert_int_equal(pipe2(a, O_CLOEXEC), 0);
    assert_int_equal(pipe2(b, O_CLOEXEC), 0);
    assert_int_equal(exit_watch_add(w, a[0], "uid1_c_0", "ns1", "pod1"), 0);
    assert_int_equal(exit_watch_add(w, b[0], "uid2_c_0", "ns2", "pod2"), 0);
    assert_true(exit_watch_has(w, "uid1_c_0"));
    assert_true(exit_watch_has(w, "uid2_c_0"));
    assert_false(exit_watch_has(w, "uid3_c_0"));
    close(a[1]); /* the first shim exits */
    assert_int_equal(wait_calls(&s, 1), 1);
    assert_string_equal(s.ns, "ns1");
    assert_string_equal(s.name, "pod1");
    assert_false(exit_watch_has(w, "uid1_c_0"));
    assert_true(exit_watch_has(w, "uid2_c_0"));
    assert_false(fd_open(a[0]));
    /* freed while b is still watched: its descriptor is closed, no callback */
    exit_watch_free(w);
    assert_false(fd_open(b[0]));
    close(b[1]);
    assert_int_equal(s.calls, 1);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct seen s = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    struct exit_watch *w = NULL;
    assert_int_equal(exit_watch_new(NULL, &s, &w), -EINVAL);
    assert_int_equal(exit_watch_new(on_exit_cb, &s, &w), 0);
    assert_int_equal(exit_watch_add(w, -1, "x", "ns", "n"), -EINVAL);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char long_id[300];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    assert_int_equal(exit_watch_add(w, p[0], long_id, "ns", "n"), -EINVAL);
    assert_false(fd_open(p[0])); /* taken over even when refused */
    close(p[1]);
    assert_false(exit_watch_has(w, NULL));
    assert_false(exit_watch_has(NULL, "x"));
    exit_watch_free(w);
    exit_watch_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eof_calls_back),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

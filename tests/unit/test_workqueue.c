/* The controllers' work queue: de-duplication, re-queueing of keys added while processed,
 * delayed keys, and shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "controllers/workqueue.h"
#include "util/timeutil.h"

static char *get_now(struct kos_workqueue *q)
{
    char *k = NULL;
    assert_int_equal(kos_workqueue_get(q, 0, &k), 1);
    return k;
}

static void test_fifo_and_dedupe(void **state)
{
    struct kos_workqueue *q = NULL;
    assert_int_equal(kos_workqueue_new(&q), 0);
    assert_int_equal(kos_workqueue_add(q, "a"), 0);
    assert_int_equal(kos_workqueue_add(q, "b"), 0);
    assert_int_equal(kos_workqueue_add(q, "a"), 0); /* already waiting */
    assert_int_equal(kos_workqueue_len(q), 2);
    char *k = get_now(q);
    assert_string_equal(k, "a");
    /* added while being processed: comes back only after done */
    assert_int_equal(kos_workqueue_add(q, "a"), 0);
    char *k2 = get_now(q);
    assert_string_equal(k2, "b");
    char *none = NULL;
    assert_int_equal(kos_workqueue_get(q, 0, &none), 0);
    kos_workqueue_done(q, k);
    free(k);
    char *k3 = get_now(q);
    assert_string_equal(k3, "a");
    kos_workqueue_done(q, k3);
    kos_workqueue_done(q, k2);
    free(k3);
    free(k2);
    assert_int_equal(kos_workqueue_len(q), 0);
    /* many keys: the FIFO grows and keeps its order */
    char key[16];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(kos_workqueue_add(q, key), 0);
    }
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        char *g = get_now(q);
        assert_string_equal(g, key);
        kos_workqueue_done(q, g);
        free(g);
    }
    kos_workqueue_free(q);
}

static void test_delayed(void **state)
{
    struct kos_workqueue *q = NULL;
    assert_int_equal(kos_workqueue_new(&q), 0);
    assert_int_equal(kos_workqueue_add_after(q, "later", 60000), 0);
    assert_int_equal(kos_workqueue_add_after(q, "soon", 30), 0);
    assert_int_equal(kos_workqueue_add_after(q, "later", 20), 0); /* the earlier time wins */
    assert_int_equal(kos_workqueue_len(q), 2);
    char *none = NULL;
    assert_int_equal(kos_workqueue_get(q, 0, &none), 0);
    /* both become ready within a generous deadline */
    int got = 0;
    int64_t deadline = kos_now_ms_monotonic() + 10000;
    while (got < 2 && kos_now_ms_monotonic() < deadline) {
        char *k = NULL;
        int r = kos_workqueue_get(q, 100, &k);
        if (r == 1) {
            assert_true(strcmp(k, "soon") == 0 || strcmp(k, "later") == 0);
            kos_workqueue_done(q, k);
            free(k);
            got++;
        }
    }
    assert_int_equal(got, 2);
    assert_int_equal(kos_workqueue_add_after(q, "now", 0), 0);
    char *k = get_now(q);
    assert_string_equal(k, "now");
    kos_workqueue_done(q, k);
    free(k);
    kos_workqueue_free(q);
}

static void *shut_later(void *arg)
{
    usleep(50 * 1000);
    kos_workqueue_shutdown(arg);
    return NULL;
}

static void test_shutdown_wakes(void **state)
{
    struct kos_workqueue *q = NULL;
    assert_int_equal(kos_workqueue_new(&q), 0);
    assert_int_equal(kos_workqueue_add_after(q, "x", 60000), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, shut_later, q), 0);
    char *k = NULL;
    assert_int_equal(kos_workqueue_get(q, -1, &k), -ECANCELED);
    pthread_join(t, NULL);
    assert_int_equal(kos_workqueue_add(q, "y"), 0); /* ignored */
    assert_int_equal(kos_workqueue_get(q, 0, &k), -ECANCELED);
    kos_workqueue_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_and_dedupe),
        cmocka_unit_test(test_delayed),
        cmocka_unit_test(test_shutdown_wakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

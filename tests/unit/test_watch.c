/* The in-memory watch window: ordering, prefix filtering, expiry, shutdown, fan-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/value.h"
#include "store/watch.h"

static struct kos_value *val(const char *s)
{
    struct kos_value *v = kos_value_new(s, strlen(s));
    assert_non_null(v);
    return v;
}

/* Appends an event whose value is the key itself. */
static void append(struct watch_window *w, int64_t rev, enum watch_event_type t, const char *key)
{
    struct kos_value *v = val(key);
    assert_int_equal(watch_window_append(w, rev, t, key, v, NULL), 0);
    kos_value_unref(v);
}

static void expect_event(struct watch_sub *s, int64_t rev, const char *key)
{
    struct watch_event e;
    assert_int_equal(watch_sub_next(s, 1000, &e), 1);
    assert_int_equal(e.rev, rev);
    assert_string_equal(e.key, key);
    assert_string_equal(e.value->data, key);
    watch_event_clear(&e);
}

static void test_value_refs(void **state)
{
    struct kos_value *v = kos_value_new("abc", 3);
    assert_non_null(v);
    assert_int_equal(v->len, 3);
    assert_string_equal(v->data, "abc");
    assert_ptr_equal(kos_value_ref(v), v);
    kos_value_unref(v);
    kos_value_unref(v);
    kos_value_unref(NULL);
    char *m = strdup("xyz");
    v = kos_value_from_malloc(m, 3);
    assert_string_equal(v->data, "xyz");
    kos_value_unref(v);
    v = kos_value_new(NULL, 0);
    assert_non_null(v);
    assert_int_equal(v->data[0], '\0');
    kos_value_unref(v);
}

static void test_order_and_types(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(10, 0, &w), 0);
    struct watch_sub *s;
    assert_int_equal(watch_window_subscribe(w, "", 0, &s), 0);

    struct kos_value *v1 = val("one"), *v2 = val("two");
    assert_int_equal(watch_window_append(w, 1, WATCH_ADDED, "/k", v1, NULL), 0);
    assert_int_equal(watch_window_append(w, 2, WATCH_MODIFIED, "/k", v2, v1), 0);
    assert_int_equal(watch_window_append(w, 3, WATCH_DELETED, "/k", v2, v2), 0);
    assert_int_equal(watch_window_append(w, 3, WATCH_ADDED, "/k", v2, NULL), -EINVAL);
    kos_value_unref(v1);
    kos_value_unref(v2);
    assert_int_equal(watch_window_current_rev(w), 3);

    struct watch_event e;
    assert_int_equal(watch_sub_next(s, 0, &e), 1);
    assert_int_equal(e.rev, 1);
    assert_int_equal(e.type, WATCH_ADDED);
    assert_null(e.prev_value);
    watch_event_clear(&e);
    assert_int_equal(watch_sub_next(s, 0, &e), 1);
    assert_int_equal(e.type, WATCH_MODIFIED);
    assert_string_equal(e.value->data, "two");
    assert_string_equal(e.prev_value->data, "one");
    watch_event_clear(&e);
    assert_int_equal(watch_sub_next(s, 0, &e), 1);
    assert_int_equal(e.type, WATCH_DELETED);
    assert_int_equal(e.rev, 3);
    watch_event_clear(&e);

    assert_int_equal(watch_sub_next(s, 0, &e), 0);
    assert_int_equal(watch_sub_next(s, 30, &e), 0);
    assert_int_equal(watch_sub_rev(s), 3);
    watch_sub_close(s);
    watch_window_free(w);
}

static void test_prefix_filter(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(10, 5, &w), 0);
    struct watch_sub *s;
    assert_int_equal(watch_window_subscribe(w, "/a/", 5, &s), 0);
    append(w, 6, WATCH_ADDED, "/a/1");
    append(w, 7, WATCH_ADDED, "/b/1");
    append(w, 8, WATCH_ADDED, "/a");
    append(w, 9, WATCH_ADDED, "/a/2");
    append(w, 10, WATCH_ADDED, "/c");
    expect_event(s, 6, "/a/1");
    expect_event(s, 9, "/a/2");
    struct watch_event e;
    assert_int_equal(watch_sub_next(s, 0, &e), 0);
    /* skipped events advance the position, for bookmarks */
    assert_int_equal(watch_sub_rev(s), 10);
    watch_sub_close(s);
    watch_window_free(w);
}

static void test_subscribe_future_and_middle(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(10, 0, &w), 0);
    append(w, 1, WATCH_ADDED, "/1");
    append(w, 2, WATCH_ADDED, "/2");
    append(w, 3, WATCH_ADDED, "/3");

    struct watch_sub *mid, *future;
    assert_int_equal(watch_window_subscribe(w, "", 2, &mid), 0);
    assert_int_equal(watch_window_subscribe(w, "", 5, &future), 0);
    expect_event(mid, 3, "/3");

    struct watch_event e;
    assert_int_equal(watch_sub_next(future, 0, &e), 0);
    append(w, 4, WATCH_ADDED, "/4");
    append(w, 5, WATCH_ADDED, "/5");
    append(w, 6, WATCH_ADDED, "/6");
    expect_event(future, 6, "/6");
    expect_event(mid, 4, "/4");
    watch_sub_close(mid);
    watch_sub_close(future);
    watch_window_free(w);
}

static void test_stale(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(3, 10, &w), 0);
    struct watch_sub *s, *slow;
    assert_int_equal(watch_window_subscribe(w, "", 9, &s), -ESTALE);
    assert_int_equal(watch_window_subscribe(w, "", 10, &slow), 0);
    for (int64_t r = 11; r <= 15; r++)
        append(w, r, WATCH_ADDED, "/x");
    /* holds 13..15: a watch may start at 12 but not before */
    assert_int_equal(watch_window_oldest_rev(w), 12);
    assert_int_equal(watch_window_subscribe(w, "", 11, &s), -ESTALE);
    assert_int_equal(watch_window_subscribe(w, "", 12, &s), 0);
    expect_event(s, 13, "/x");

    /* the slow subscriber was overrun */
    struct watch_event e;
    assert_int_equal(watch_sub_next(slow, 0, &e), -ESTALE);
    watch_sub_close(slow);

    /* compaction expires watches from before it, even where events are still held */
    watch_window_compact(w, 14);
    assert_int_equal(watch_window_oldest_rev(w), 14);
    assert_int_equal(watch_sub_next(s, 0, &e), -ESTALE);
    watch_sub_close(s);
    assert_int_equal(watch_window_subscribe(w, "", 13, &s), -ESTALE);
    assert_int_equal(watch_window_subscribe(w, "", 14, &s), 0);
    expect_event(s, 15, "/x");
    watch_sub_close(s);
    watch_window_free(w);
}

struct waiter {
    struct watch_sub *sub;
    int rc;
};

static void *wait_forever(void *arg)
{
    struct waiter *wt = arg;
    struct watch_event e;
    wt->rc = watch_sub_next(wt->sub, -1, &e);
    if (wt->rc == 1)
        watch_event_clear(&e);
    return NULL;
}

static void test_shutdown(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(4, 0, &w), 0);
    struct waiter wt[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(watch_window_subscribe(w, "", 0, &wt[i].sub), 0);
        assert_int_equal(pthread_create(&th[i], NULL, wait_forever, &wt[i]), 0);
    }
    watch_window_shutdown(w);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wt[i].rc, -ECANCELED);
    }
    /* a subscription may outlive the window's owner */
    watch_window_free(w);
    struct watch_event e;
    assert_int_equal(watch_sub_next(wt[0].sub, 0, &e), -ECANCELED);
    for (int i = 0; i < 4; i++)
        watch_sub_close(wt[i].sub);
}

static void test_batch(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(16, 0, &w), 0);
    struct watch_sub *s, *all;
    assert_int_equal(watch_window_subscribe(w, "/a/", 0, &s), 0);
    assert_int_equal(watch_window_subscribe(w, "", 0, &all), 0);
    struct watch_event ev[4];
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 4), 0);
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 0), -EINVAL);
    for (int64_t r = 1; r <= 7; r++)
        append(w, r, WATCH_ADDED, r % 2 ? "/a/x" : "/b/x"); /* /a/ at 1 3 5 7 */

    /* max bounds the batch, and the position stays at the last event handed out */
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 3), 3);
    assert_int_equal(ev[0].rev, 1);
    assert_int_equal(ev[1].rev, 3);
    assert_int_equal(ev[2].rev, 5);
    assert_string_equal(ev[2].key, "/a/x");
    assert_int_equal(watch_sub_rev(s), 5);
    for (int i = 0; i < 3; i++)
        watch_event_clear(&ev[i]);
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 4), 1);
    assert_int_equal(ev[0].rev, 7);
    watch_event_clear(&ev[0]);
    assert_int_equal(watch_sub_next_batch(s, 20, ev, 4), 0);

    /* events read before the subscriber is overrun are delivered; the expiry comes next */
    assert_int_equal(watch_sub_next_batch(all, 0, ev, 2), 2);
    watch_event_clear(&ev[0]);
    watch_event_clear(&ev[1]);
    for (int64_t r = 8; r <= 30; r++)
        append(w, r, WATCH_MODIFIED, "/b/y");
    assert_int_equal(watch_sub_next_batch(all, 0, ev, 4), -ESTALE);
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 4), -ESTALE);
    watch_sub_close(all);
    watch_sub_close(s);

    /* an event outlives its subscription and the window */
    assert_int_equal(watch_window_subscribe(w, "", 29, &s), 0);
    assert_int_equal(watch_sub_next_batch(s, 0, ev, 4), 1);
    watch_sub_close(s);
    watch_window_free(w);
    assert_int_equal(ev[0].rev, 30);
    assert_string_equal(ev[0].key, "/b/y");
    assert_string_equal(ev[0].value->data, "/b/y");
    watch_event_clear(&ev[0]);
}

/* A subscriber waiting for a revision ahead of the window loses its place in the ring when
 * the events in between are evicted; it must carry on, not expire or stall. */
static void test_future_subscriber_outlives_eviction(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(2, 0, &w), 0);
    struct watch_sub *s, *t;
    assert_int_equal(watch_window_subscribe(w, "", 5, &s), 0);
    assert_int_equal(watch_window_subscribe(w, "", 4, &t), 0);
    append(w, 1, WATCH_ADDED, "/1");
    append(w, 2, WATCH_ADDED, "/2");
    append(w, 3, WATCH_ADDED, "/3"); /* overwrites the slot of revision 1 */
    struct watch_event e;
    assert_int_equal(watch_sub_next(s, 0, &e), 0);
    watch_window_compact(w, 3); /* empties the ring */
    assert_int_equal(watch_sub_next(t, 0, &e), 0);
    append(w, 4, WATCH_ADDED, "/4");
    append(w, 5, WATCH_ADDED, "/5");
    append(w, 6, WATCH_ADDED, "/6");
    expect_event(s, 6, "/6");
    expect_event(t, 5, "/5");
    expect_event(t, 6, "/6");
    assert_int_equal(watch_sub_rev(s), 6);
    watch_sub_close(s);
    watch_sub_close(t);
    watch_window_free(w);
}

static void test_quiet_append_and_notify(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(8, 0, &w), 0);
    struct watch_sub *s;
    assert_int_equal(watch_window_subscribe(w, "", 0, &s), 0);
    struct kos_value *v = val("/q");
    assert_int_equal(watch_window_append_quiet(w, 1, WATCH_ADDED, "/q", v, NULL), 0);
    assert_int_equal(watch_window_append_quiet(w, 1, WATCH_ADDED, "/q", v, NULL), -EINVAL);
    kos_value_unref(v);
    /* visible at once to a subscriber that looks; the notify is only for sleepers */
    expect_event(s, 1, "/q");
    watch_window_notify(w);
    watch_sub_close(s);
    watch_window_free(w);
}

/* Every sleeper must wake for every event: subscribers wait without a timeout, and the
 * writer only appends the next event once all of them have the previous one, so a lost
 * wake-up shows up as a stall. */
#define PING_SUBS   64
#define PING_EVENTS 300

struct pinger {
    struct watch_window *w;
    int idx;
    atomic_long *acks;
    int errors;
};

static void *ping_reader(void *arg)
{
    struct pinger *p = arg;
    struct watch_sub *s;
    if (watch_window_subscribe(p->w, "", 0, &s) < 0) {
        p->errors++;
        atomic_fetch_add(p->acks, PING_EVENTS);
        return NULL;
    }
    int64_t last = 0;
    while (last < PING_EVENTS) {
        struct watch_event ev[4];
        int n = p->idx % 2 ? watch_sub_next_batch(s, -1, ev, 4) : watch_sub_next(s, -1, ev);
        if (n <= 0) {
            p->errors++;
            break;
        }
        for (int i = 0; i < n; i++) {
            if (ev[i].rev != last + 1)
                p->errors++;
            last = ev[i].rev;
            watch_event_clear(&ev[i]);
            atomic_fetch_add(p->acks, 1);
        }
    }
    watch_sub_close(s);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_no_lost_wakeups(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(16, 0, &w), 0);
    atomic_long acks = 0;
    struct pinger p[PING_SUBS];
    pthread_t th[PING_SUBS];
    for (int i = 0; i < PING_SUBS; i++) {
        p[i] = (struct pinger){.w = w, .idx = i, .acks = &acks};
        assert_int_equal(pthread_create(&th[i], NULL, ping_reader, &p[i]), 0);
    }
    struct kos_value *v = val("/p");
    bool stalled = false;
    for (int64_t r = 1; r <= PING_EVENTS && !stalled; r++) {
        /* alternate the two ways of publishing */
        if (r % 2) {
            assert_int_equal(watch_window_append(w, r, WATCH_MODIFIED, "/p", v, NULL), 0);
        } else {
            assert_int_equal(watch_window_append_quiet(w, r, WATCH_MODIFIED, "/p", v, NULL), 0);
            watch_window_notify(w);
        }
        int64_t give_up = mono_ms() + 20000;
        while (atomic_load(&acks) < r * PING_SUBS && !stalled) {
            stalled = mono_ms() > give_up;
            usleep(50);
        }
    }
    kos_value_unref(v);
    if (stalled)
        watch_window_shutdown(w); /* let the threads go so the failure is reported cleanly */
    int errors = 0;
    for (int i = 0; i < PING_SUBS; i++) {
        pthread_join(th[i], NULL);
        errors += p[i].errors;
    }
    assert_false(stalled);
    assert_int_equal(errors, 0);
    watch_window_free(w);
}

/* A writer that overruns a small window and compacts it while subscribers read: records are
 * recycled under the readers' feet. Each subscriber must see consecutive revisions until it
 * is told it expired (then it re-subscribes from the newest revision), never a gap, a
 * repeat or a torn event. */
#define CHURN_SUBS   8
#define CHURN_EVENTS 100000

struct churner {
    struct watch_window *w;
    atomic_bool *stop;
    long delivered;
    long expired;
    int errors;
};

static void *churn_reader(void *arg)
{
    struct churner *c = arg;
    struct watch_sub *s = NULL;
    int64_t last = -1;
    while (!atomic_load(c->stop)) {
        if (!s) {
            last = watch_window_current_rev(c->w);
            int r = watch_window_subscribe(c->w, "", last, &s);
            if (r == -ESTALE)
                continue; /* compacted past it between the two calls */
            if (r < 0) {
                c->errors++;
                break;
            }
        }
        struct watch_event ev[8];
        int n = watch_sub_next_batch(s, 10, ev, 8);
        if (n == -ESTALE) {
            c->expired++;
            watch_sub_close(s);
            s = NULL;
            continue;
        }
        if (n < 0) {
            c->errors++;
            break;
        }
        for (int i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof(want), "/k/%lld", (long long)ev[i].rev);
            if (ev[i].rev != last + 1 || strcmp(ev[i].key, want) != 0 ||
                strcmp(ev[i].value->data, want) != 0)
                c->errors++;
            last = ev[i].rev;
            watch_event_clear(&ev[i]);
            c->delivered++;
        }
    }
    watch_sub_close(s);
    return NULL;
}

static void test_overrun_and_compaction_race(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(4, 0, &w), 0);
    atomic_bool stop = false;
    struct churner c[CHURN_SUBS];
    pthread_t th[CHURN_SUBS];
    for (int i = 0; i < CHURN_SUBS; i++) {
        c[i] = (struct churner){.w = w, .stop = &stop};
        assert_int_equal(pthread_create(&th[i], NULL, churn_reader, &c[i]), 0);
    }
    char key[32];
    for (int64_t r = 1; r <= CHURN_EVENTS; r++) {
        snprintf(key, sizeof(key), "/k/%lld", (long long)r);
        append(w, r, WATCH_MODIFIED, key);
        if (r % 97 == 0)
            watch_window_compact(w, r - 3);
        if (r % 16 == 0)
            sched_yield();
    }
    atomic_store(&stop, true);
    long delivered = 0;
    int errors = 0;
    for (int i = 0; i < CHURN_SUBS; i++) {
        pthread_join(th[i], NULL);
        errors += c[i].errors;
        delivered += c[i].delivered;
    }
    assert_int_equal(errors, 0);
    assert_true(delivered > 0);
    watch_window_free(w);
}

#define FANOUT_SUBS   1000
#define FANOUT_EVENTS 200

struct fan {
    struct watch_window *w;
    int idx;
    int got;
    int errors;
};

static void *fan_reader(void *arg)
{
    struct fan *f = arg;
    /* half watch everything, half one of two prefixes */
    const char *prefix = f->idx % 2 ? "" : (f->idx % 4 ? "/odd/" : "/even/");
    struct watch_sub *s;
    if (watch_window_subscribe(f->w, prefix, 0, &s) < 0) {
        f->errors++;
        return NULL;
    }
    int want = f->idx % 2 ? FANOUT_EVENTS : FANOUT_EVENTS / 2;
    int64_t last = 0;
    int timeouts = 0;
    while (f->got < want) {
        struct watch_event e;
        int r = watch_sub_next(s, 5000, &e);
        /* Starting 1,000 threads takes more than 5 s under ThreadSanitizer, and the events
         * only come once all have started. */
        if (r == 0 && ++timeouts < 12)
            continue;
        if (r != 1) {
            fprintf(stderr, "subscriber %d: %d after %d events\n", f->idx, r, f->got);
            f->errors++;
            break;
        }
        bool odd = e.rev % 2;
        if (e.rev <= last || (prefix[0] && odd != (strcmp(prefix, "/odd/") == 0)))
            f->errors++;
        if (!prefix[0] && e.rev != last + 1)
            f->errors++;
        last = e.rev;
        f->got++;
        watch_event_clear(&e);
    }
    watch_sub_close(s);
    return NULL;
}

static void test_many_subscribers(void **state)
{
    struct watch_window *w;
    assert_int_equal(watch_window_new(FANOUT_EVENTS + 16, 0, &w), 0);
    static struct fan fans[FANOUT_SUBS];
    static pthread_t th[FANOUT_SUBS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int started = 0;
    for (int i = 0; i < FANOUT_SUBS; i++) {
        fans[i] = (struct fan){.w = w, .idx = i};
        if (pthread_create(&th[i], &attr, fan_reader, &fans[i]) != 0)
            break;
        started++;
    }
    pthread_attr_destroy(&attr);
    assert_true(started >= 100);

    char key[32];
    for (int64_t r = 1; r <= FANOUT_EVENTS; r++) {
        snprintf(key, sizeof(key), "/%s/%lld", r % 2 ? "odd" : "even", (long long)r);
        append(w, r, WATCH_MODIFIED, key);
    }
    int errors = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        errors += fans[i].errors;
        assert_int_equal(fans[i].got, i % 2 ? FANOUT_EVENTS : FANOUT_EVENTS / 2);
    }
    assert_int_equal(errors, 0);
    watch_window_free(w);
}

/* Subscribers of different resources sleep on different channels: each, blocked without a
 * timeout, still gets every event of its prefix, and one with the empty prefix gets all. */
#define CHAN_EVENTS 400

struct chan_reader {
    struct watch_sub *sub;
    long want; /* events to take before stopping */
    long got;
    int64_t last;
    int errors;
};

static void *chan_read(void *arg)
{
    struct chan_reader *c = arg;
    while (c->got < c->want) {
        struct watch_event ev[4];
        int n = watch_sub_next_batch(c->sub, -1, ev, 4);
        if (n < 0)
            break;
        for (int i = 0; i < n; i++) {
            if (ev[i].rev <= c->last)
                c->errors++;
            c->last = ev[i].rev;
            c->got++;
            watch_event_clear(&ev[i]);
        }
    }
    return NULL;
}

static void test_channels(void **state)
{
    static const char *const keys[] = {"/registry/pods/ns/a", "/registry/services/ns/b",
                                       "/registry/apps/deployments/ns/c", "/other/d"};
    static const char *const prefixes[] = {"/registry/pods/", "/registry/services/ns/",
                                           "/registry/apps/", "/other/", ""};
    enum { NP = 5 };
    struct watch_window *w;
    assert_int_equal(watch_window_new(64, 0, &w), 0);
    struct chan_reader c[NP];
    pthread_t th[NP];
    for (int i = 0; i < NP; i++) {
        c[i] = (struct chan_reader){.want = i == NP - 1 ? CHAN_EVENTS : CHAN_EVENTS / 4};
        assert_int_equal(watch_window_subscribe(w, prefixes[i], 0, &c[i].sub), 0);
        assert_int_equal(pthread_create(&th[i], NULL, chan_read, &c[i]), 0);
    }
    for (int64_t r = 1; r <= CHAN_EVENTS; r++) {
        const char *key = keys[r % 4];
        struct kos_value *v = val(key);
        assert_int_equal(watch_window_append_quiet(w, r, WATCH_MODIFIED, key, v, NULL), 0);
        kos_value_unref(v);
        if (r % 3 == 0 || r == CHAN_EVENTS)
            watch_window_notify(w);
        /* keep within the window: wait (boundedly) for every reader to be near */
        int64_t give_up = mono_ms() + 20000;
        for (int i = 0; i < NP; i++)
            while (watch_sub_rev(c[i].sub) < r - 32 && mono_ms() < give_up)
                usleep(100);
    }
    int64_t give_up = mono_ms() + 20000;
    bool done = false;
    while (!done && mono_ms() < give_up) {
        done = true;
        for (int i = 0; i < NP; i++)
            done = done && __atomic_load_n(&c[i].got, __ATOMIC_SEQ_CST) == c[i].want;
        if (!done)
            usleep(1000);
    }
    if (!done)
        watch_window_shutdown(w);
    for (int i = 0; i < NP; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(c[i].got, c[i].want);
        assert_int_equal(c[i].errors, 0);
        watch_sub_close(c[i].sub);
    }
    watch_window_free(w);
}

/* A subscriber of a resource nobody writes is not expired by a window turning over with
 * another resource's events many times: it is woken now and then to move past them. */
static void test_quiet_channel_keeps_up(void **state)
{
    enum { CAP = 8, EVENTS = 200 };
    struct watch_window *w;
    assert_int_equal(watch_window_new(CAP, 0, &w), 0);
    struct chan_reader c = {.want = 1};
    assert_int_equal(watch_window_subscribe(w, "/registry/services/", 0, &c.sub), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, chan_read, &c), 0);
    bool behind = false;
    for (int64_t r = 1; r <= EVENTS && !behind; r++) {
        struct kos_value *v = val("/registry/pods/ns/p");
        assert_int_equal(watch_window_append(w, r, WATCH_MODIFIED, "/registry/pods/ns/p", v, NULL),
                         0);
        kos_value_unref(v);
        int64_t give_up = mono_ms() + 20000;
        while (watch_sub_rev(c.sub) < r - CAP / 2 && !behind) {
            behind = mono_ms() > give_up;
            usleep(100);
        }
    }
    if (!behind)
        append(w, EVENTS + 1, WATCH_ADDED, "/registry/services/ns/s");
    else
        watch_window_shutdown(w);
    pthread_join(th, NULL);
    assert_false(behind);
    assert_int_equal(c.got, 1);
    assert_int_equal(c.last, EVENTS + 1);
    watch_sub_close(c.sub);
    watch_window_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_refs),
        cmocka_unit_test(test_order_and_types),
        cmocka_unit_test(test_prefix_filter),
        cmocka_unit_test(test_subscribe_future_and_middle),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_future_subscriber_outlives_eviction),
        cmocka_unit_test(test_quiet_append_and_notify),
        cmocka_unit_test(test_no_lost_wakeups),
        cmocka_unit_test(test_overrun_and_compaction_race),
        cmocka_unit_test(test_many_subscribers),
        cmocka_unit_test(test_channels),
        cmocka_unit_test(test_quiet_channel_keeps_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

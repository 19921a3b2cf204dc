/* The work queue: a FIFO of ready keys, sets (jansson objects used as hash sets) for what is
 * queued, being processed and re-added meanwhile, and a small list of delayed keys. */
#include "controllers/workqueue.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timeutil.h"

struct delayed {
    char *key;
    int64_t when_ms;
};

struct kos_workqueue {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    char **ready;
    size_t head, count, cap; /* ready[head .. head+count) */
    struct delayed *delayed;
    size_t ndelayed, delayed_cap;
    json_t *queued;
    json_t *processing;
    json_t *dirty;
    bool shut;
};

int kos_workqueue_new(struct kos_workqueue **ret)
{
    struct kos_workqueue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&q->lock, NULL);
    q->queued = json_object();
    q->processing = json_object();
    q->dirty = json_object();
    if (!q->queued || !q->processing || !q->dirty) {
        kos_workqueue_free(q);
        return -ENOMEM;
    }
    *ret = q;
    return 0;
}

void kos_workqueue_free(struct kos_workqueue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->count; i++)
        free(q->ready[q->head + i]);
    free(q->ready);
    for (size_t i = 0; i < q->ndelayed; i++)
        free(q->delayed[i].key);
    free(q->delayed);
    json_decref(q->queued);
    json_decref(q->processing);
    json_decref(q->dirty);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

/* Under the lock. */
static int push_ready(struct kos_workqueue *q, const char *key)
{
    if (json_object_get(q->processing, key))
        return json_object_set_new(q->dirty, key, json_true()) < 0 ? -ENOMEM : 0;
    if (json_object_get(q->queued, key))
        return 0;
    if (q->head + q->count == q->cap) {
        if (q->head > 0) {
            memmove(q->ready, q->ready + q->head, q->count * sizeof(*q->ready));
            q->head = 0;
        } else {
            size_t cap = q->cap ? q->cap * 2 : 64;
            char **n = realloc(q->ready, cap * sizeof(*n));
            if (!n)
                return -ENOMEM;
            q->ready = n;
            q->cap = cap;
        }
    }
    char *copy = strdup(key);
    if (!copy || json_object_set_new(q->queued, key, json_true()) < 0) {
        free(copy);
        return -ENOMEM;
    }
    q->ready[q->head + q->count++] = copy;
    pthread_cond_signal(&q->cond);
    return 0;
}

int kos_workqueue_add(struct kos_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    int r = q->shut ? 0 : push_ready(q, key);
    pthread_mutex_unlock(&q->lock);
    return r;
}

int kos_workqueue_add_after(struct kos_workqueue *q, const char *key, int delay_ms)
{
    if (delay_ms <= 0)
        return kos_workqueue_add(q, key);
    int64_t when = kos_now_ms_monotonic() + delay_ms;
    int r = 0;
    pthread_mutex_lock(&q->lock);
    if (q->shut)
        goto out;
    for (size_t i = 0; i < q->ndelayed; i++) {
        if (strcmp(q->delayed[i].key, key) == 0) {
            if (when < q->delayed[i].when_ms)
                q->delayed[i].when_ms = when;
            goto wake;
        }
    }
    if (q->ndelayed == q->delayed_cap) {
        size_t cap = q->delayed_cap ? q->delayed_cap * 2 : 16;
        struct delayed *n = realloc(q->delayed, cap * sizeof(*n));
        if (!n) {
            r = -ENOMEM;
            goto out;
        }
        q->delayed = n;
        q->delayed_cap = cap;
    }
    q->delayed[q->ndelayed].key = strdup(key);
    if (!q->delayed[q->ndelayed].key) {
        r = -ENOMEM;
        goto out;
    }
    q->delayed[q->ndelayed++].when_ms = when;
wake:
    /* a waiting get may have to wake earlier than it planned */
    pthread_cond_broadcast(&q->cond);
out:
    pthread_mutex_unlock(&q->lock);
    return r;
}

/* Under the lock: moves due delayed keys to the ready FIFO; returns the earliest time still
 * pending, or -1. */
static int64_t promote_due(struct kos_workqueue *q, int64_t now)
{
    int64_t next = -1;
    for (size_t i = 0; i < q->ndelayed;) {
        if (q->delayed[i].when_ms <= now) {
            push_ready(q, q->delayed[i].key);
            free(q->delayed[i].key);
            q->delayed[i] = q->delayed[--q->ndelayed];
            continue;
        }
        if (next < 0 || q->delayed[i].when_ms < next)
            next = q->delayed[i].when_ms;
        i++;
    }
    return next;
}

static void ms_to_timespec(int64_t ms, struct timespec *ts)
{
    ts->tv_sec = ms / 1000;
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

int kos_workqueue_get(struct kos_workqueue *q, int timeout_ms, char **ret)
{
    int64_t deadline = timeout_ms >= 0 ? kos_now_ms_monotonic() + timeout_ms : -1;
    int r = 0;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        if (q->shut) {
            r = -ECANCELED;
            break;
        }
        int64_t now = kos_now_ms_monotonic();
        int64_t next = promote_due(q, now);
        if (q->count > 0) {
            char *key = q->ready[q->head++];
            q->count--;
            if (q->count == 0)
                q->head = 0;
            json_object_del(q->queued, key);
            if (json_object_set_new(q->processing, key, json_true()) < 0) {
                free(key);
                r = -ENOMEM;
                break;
            }
            *ret = key;
            r = 1;
            break;
        }
        if (deadline >= 0 && now >= deadline)
            break;
        int64_t wake = deadline;
        if (next >= 0 && (wake < 0 || next < wake))
            wake = next;
        if (wake < 0) {
            pthread_cond_wait(&q->cond, &q->lock);
        } else {
            /* the monotonic clock of kos_now_ms_monotonic is the condition's clock */
            struct timespec ts;
            ms_to_timespec(wake, &ts);
            pthread_cond_timedwait(&q->cond, &q->lock, &ts);
        }
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

void kos_workqueue_done(struct kos_workqueue *q, const char *key)
{
    pthread_mutex_lock(&q->lock);
    json_object_del(q->processing, key);
    if (json_object_get(q->dirty, key)) {
        json_object_del(q->dirty, key);
        if (!q->shut)
            push_ready(q, key);
    }
    pthread_mutex_unlock(&q->lock);
}

void kos_workqueue_shutdown(struct kos_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    q->shut = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

size_t kos_workqueue_len(struct kos_workqueue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->count + q->ndelayed;
    pthread_mutex_unlock(&q->lock);
    return n;
}

#include "store/watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"

struct watch_window {
    pthread_mutex_t lock;
    /* Broadcast on every append, compaction and shutdown. With one condvar every subscriber
     * wakes for every event; that is simple and correct, and cheap at the rates we serve. */
    pthread_cond_t cond;
    struct watch_event *ring;
    size_t capacity;
    size_t head;  /* index of the oldest held event */
    size_t count; /* events held */
    /* Every event with rev > oldest_rev is held (or none was ever appended after it). */
    int64_t oldest_rev;
    int64_t current_rev;
    bool shutdown;
    /* The creator holds one reference and every open subscription one, so a subscription
     * closed after the store is gone still finds its window. */
    atomic_int refs;
};

struct watch_sub {
    struct watch_window *w;
    int64_t pos; /* guarded by w->lock */
    size_t prefix_len;
    char prefix[];
};

int watch_window_new(size_t capacity, int64_t start_rev, struct watch_window **ret)
{
    if (capacity == 0 || start_rev < 0)
        return -EINVAL;
    _cleanup_free_ struct watch_window *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    _cleanup_free_ struct watch_event *ring = calloc(capacity, sizeof(*ring));
    if (!ring)
        return -ENOMEM;

    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (r != 0)
        return -r;
    r = pthread_mutex_init(&w->lock, NULL);
    if (r != 0) {
        pthread_cond_destroy(&w->cond);
        return -r;
    }
    w->capacity = capacity;
    w->oldest_rev = start_rev;
    w->current_rev = start_rev;
    atomic_init(&w->refs, 1);
    w->ring = TAKE_PTR(ring);
    *ret = TAKE_PTR(w);
    return 0;
}

static struct watch_event *event_at(struct watch_window *w, size_t i)
{
    return &w->ring[(w->head + i) % w->capacity];
}

/* Drops the oldest event; the caller holds the lock. */
static void evict_oldest(struct watch_window *w)
{
    struct watch_event *e = &w->ring[w->head];
    w->oldest_rev = e->rev;
    watch_event_clear(e);
    w->head = (w->head + 1) % w->capacity;
    w->count--;
}

static void drop_all(struct watch_window *w)
{
    while (w->count > 0)
        evict_oldest(w);
}

static void window_unref(struct watch_window *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    drop_all(w);
    free(w->ring);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void watch_window_shutdown(struct watch_window *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->shutdown = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void watch_window_free(struct watch_window *w)
{
    if (!w)
        return;
    watch_window_shutdown(w);
    window_unref(w);
}

int watch_window_append(struct watch_window *w, int64_t rev, enum watch_event_type type,
                        const char *key, struct kos_value *value, struct kos_value *prev_value)
{
    pthread_mutex_lock(&w->lock);
    if (rev <= w->current_rev) {
        pthread_mutex_unlock(&w->lock);
        return -EINVAL;
    }
    char *k = strdup(key);
    if (!k) {
        /* Losing one event silently would corrupt every watcher's view; expiring them all
         * makes them re-list, which is always correct. */
        drop_all(w);
        w->oldest_rev = rev;
        w->current_rev = rev;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return -ENOMEM;
    }
    if (w->count == w->capacity)
        evict_oldest(w);
    struct watch_event *e = event_at(w, w->count);
    *e = (struct watch_event){
        .rev = rev,
        .type = type,
        .key = k,
        .value = kos_value_ref(value),
        .prev_value = kos_value_ref(prev_value),
    };
    w->count++;
    w->current_rev = rev;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

void watch_window_compact(struct watch_window *w, int64_t rev)
{
    pthread_mutex_lock(&w->lock);
    if (rev > w->current_rev)
        rev = w->current_rev;
    while (w->count > 0 && event_at(w, 0)->rev <= rev)
        evict_oldest(w);
    if (rev > w->oldest_rev)
        w->oldest_rev = rev;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int64_t watch_window_oldest_rev(struct watch_window *w)
{
    pthread_mutex_lock(&w->lock);
    int64_t r = w->oldest_rev;
    pthread_mutex_unlock(&w->lock);
    return r;
}

int64_t watch_window_current_rev(struct watch_window *w)
{
    pthread_mutex_lock(&w->lock);
    int64_t r = w->current_rev;
    pthread_mutex_unlock(&w->lock);
    return r;
}

int watch_window_subscribe(struct watch_window *w, const char *prefix, int64_t after_rev,
                           struct watch_sub **ret)
{
    if (!prefix)
        prefix = "";
    size_t len = strlen(prefix);
    struct watch_sub *s = malloc(sizeof(*s) + len + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s->prefix, prefix, len + 1);
    s->prefix_len = len;
    s->w = w;
    s->pos = after_rev;

    pthread_mutex_lock(&w->lock);
    int r = 0;
    if (w->shutdown)
        r = -ECANCELED;
    else if (after_rev < w->oldest_rev)
        r = -ESTALE;
    else
        atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&w->lock);
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

/* First held event with rev > pos (count if none); revisions in the ring are increasing. */
static size_t first_after(struct watch_window *w, int64_t pos)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (event_at(w, mid)->rev <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int copy_event(const struct watch_event *e, struct watch_event *ret)
{
    char *k = strdup(e->key);
    if (!k)
        return -ENOMEM;
    *ret = (struct watch_event){
        .rev = e->rev,
        .type = e->type,
        .key = k,
        .value = kos_value_ref(e->value),
        .prev_value = kos_value_ref(e->prev_value),
    };
    return 0;
}

static struct timespec deadline_after_ms(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int watch_sub_next(struct watch_sub *s, int timeout_ms, struct watch_event *ret)
{
    struct watch_window *w = s->w;
    struct timespec deadline = {0};
    if (timeout_ms > 0)
        deadline = deadline_after_ms(timeout_ms);
    bool timed_out = timeout_ms == 0;
    int r;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        if (w->shutdown) {
            r = -ECANCELED;
            break;
        }
        if (s->pos < w->oldest_rev) {
            r = -ESTALE;
            break;
        }
        bool found = false;
        for (size_t i = first_after(w, s->pos); i < w->count; i++) {
            const struct watch_event *e = event_at(w, i);
            if (strncmp(e->key, s->prefix, s->prefix_len) != 0) {
                s->pos = e->rev; /* skipped for good: bookmarks may report it */
                continue;
            }
            r = copy_event(e, ret);
            if (r == 0) {
                s->pos = e->rev;
                r = 1;
            }
            found = true;
            break;
        }
        if (found)
            break;
        /* Nothing lies between the last held event and current_rev. */
        if (s->pos < w->current_rev)
            s->pos = w->current_rev;
        if (timed_out) {
            r = 0;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&w->cond, &w->lock);
        } else if (pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT) {
            timed_out = true; /* look once more: an event may have come with the timeout */
        }
    }
    pthread_mutex_unlock(&w->lock);
    return r;
}

int64_t watch_sub_rev(struct watch_sub *s)
{
    pthread_mutex_lock(&s->w->lock);
    int64_t r = s->pos;
    pthread_mutex_unlock(&s->w->lock);
    return r;
}

void watch_sub_close(struct watch_sub *s)
{
    if (!s)
        return;
    window_unref(s->w);
    free(s);
}

void watch_event_clear(struct watch_event *e)
{
    if (!e)
        return;
    free(e->key);
    kos_value_unref(e->value);
    kos_value_unref(e->prev_value);
    *e = (struct watch_event){0};
}

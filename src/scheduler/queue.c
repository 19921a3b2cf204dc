#include "scheduler/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler/filters.h"
#include "util/strmap.h"
#include "util/timeutil.h"

enum qstate {
    Q_ACTIVE,
    Q_BACKOFF,
    Q_UNSCHEDULABLE,
    Q_GATED,
    Q_IN_FLIGHT,
};

struct qentry {
    struct sched_pod *pod; /* ref; its uid is the map key */
    enum qstate state;
    size_t heap_idx;
    int64_t timestamp_ms; /* entered (or re-entered) the queue */
    uint64_t seq;
    int attempts;
    uint32_t plugins; /* rejected it last time */
    int64_t backoff_until_ms;
    uint64_t popped_cycle;
    bool updated_in_flight;
};

struct heap {
    struct qentry **v;
    size_t n;
    size_t cap;
    bool (*less)(const struct qentry *a, const struct qentry *b);
};

struct sched_queue {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct sched_queue_options o;
    struct kos_strmap entries; /* uid → qentry */
    struct heap active;
    struct heap backoff;
    size_t n_unschedulable;
    size_t n_gated;
    size_t n_in_flight;
    uint64_t seq;
    uint64_t cycle;
    uint64_t move_request_cycle;
    int64_t last_unschedulable_flush_ms;
    bool closed;
};

/* ---- heaps --------------------------------------------------------------------------- */

static bool active_less(const struct qentry *a, const struct qentry *b)
{
    if (a->pod->priority != b->pod->priority)
        return a->pod->priority > b->pod->priority;
    if (a->timestamp_ms != b->timestamp_ms)
        return a->timestamp_ms < b->timestamp_ms;
    return a->seq < b->seq;
}

static bool backoff_less(const struct qentry *a, const struct qentry *b)
{
    if (a->backoff_until_ms != b->backoff_until_ms)
        return a->backoff_until_ms < b->backoff_until_ms;
    return a->seq < b->seq;
}

static void heap_set(struct heap *h, size_t i, struct qentry *e)
{
    h->v[i] = e;
    e->heap_idx = i;
}

static void sift_up(struct heap *h, size_t i)
{
    struct qentry *e = h->v[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!h->less(e, h->v[p]))
            break;
        heap_set(h, i, h->v[p]);
        i = p;
    }
    heap_set(h, i, e);
}

static void sift_down(struct heap *h, size_t i)
{
    struct qentry *e = h->v[i];
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        struct qentry *best = e;
        if (l < h->n && h->less(h->v[l], best)) {
            m = l;
            best = h->v[l];
        }
        if (l + 1 < h->n && h->less(h->v[l + 1], best))
            m = l + 1;
        if (m == i)
            break;
        heap_set(h, i, h->v[m]);
        i = m;
    }
    heap_set(h, i, e);
}

static int heap_push(struct heap *h, struct qentry *e)
{
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        struct qentry **nv = realloc(h->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        h->v = nv;
        h->cap = ncap;
    }
    heap_set(h, h->n++, e);
    sift_up(h, h->n - 1);
    return 0;
}

static void heap_remove(struct heap *h, size_t i)
{
    struct qentry *last = h->v[--h->n];
    if (i == h->n)
        return;
    heap_set(h, i, last);
    sift_down(h, i);
    sift_up(h, last->heap_idx);
}

static void heap_fix(struct heap *h, size_t i)
{
    struct qentry *e = h->v[i];
    sift_down(h, i);
    sift_up(h, e->heap_idx);
}

/* ---- helpers ------------------------------------------------------------------------- */

static int64_t now_ms(const struct sched_queue *q)
{
    return q->o.now_ms ? q->o.now_ms(q->o.clock_ctx) : kos_now_ms_monotonic();
}

void sched_queue_options_init(struct sched_queue_options *o)
{
    memset(o, 0, sizeof(*o));
    o->initial_backoff_ms = 1000;
    o->max_backoff_ms = 10000;
    o->max_unschedulable_ms = 5 * 60 * 1000;
    o->unschedulable_flush_ms = 30 * 1000;
}

int64_t sched_queue_backoff_ms(const struct sched_queue_options *o, int attempts)
{
    if (attempts <= 0)
        return 0;
    int64_t d = o->initial_backoff_ms;
    for (int i = 1; i < attempts; i++) {
        if (d > o->max_backoff_ms - d)
            return o->max_backoff_ms;
        d += d;
    }
    return d > o->max_backoff_ms ? o->max_backoff_ms : d;
}

/* Takes e out of whatever structure its state puts it in. */
static void detach(struct sched_queue *q, struct qentry *e)
{
    switch (e->state) {
    case Q_ACTIVE:
        heap_remove(&q->active, e->heap_idx);
        break;
    case Q_BACKOFF:
        heap_remove(&q->backoff, e->heap_idx);
        break;
    case Q_UNSCHEDULABLE:
        q->n_unschedulable--;
        break;
    case Q_GATED:
        q->n_gated--;
        break;
    case Q_IN_FLIGHT:
        q->n_in_flight--;
        break;
    }
}

static int to_active(struct sched_queue *q, struct qentry *e)
{
    int r = heap_push(&q->active, e);
    if (r < 0)
        return r;
    e->state = Q_ACTIVE;
    pthread_cond_signal(&q->cond);
    return 0;
}

/* Back to activeQ, through backoffQ while the pod still serves its backoff. */
static int to_active_or_backoff(struct sched_queue *q, struct qentry *e, int64_t now)
{
    if (e->backoff_until_ms > now) {
        int r = heap_push(&q->backoff, e);
        if (r < 0)
            return r;
        e->state = Q_BACKOFF;
        pthread_cond_signal(&q->cond); /* a waiter may need to shorten its sleep */
        return 0;
    }
    return to_active(q, e);
}

/* A failed pod keeps its place in no structure until this succeeds; on -ENOMEM it is
 * parked as unschedulable, which the periodic flush will retry. */
static void place(struct sched_queue *q, struct qentry *e, int r)
{
    if (r < 0) {
        e->state = Q_UNSCHEDULABLE;
        q->n_unschedulable++;
    }
}

static void entry_free(struct qentry *e)
{
    sched_pod_unref(e->pod);
    free(e);
}

static void flush_locked(struct sched_queue *q, int64_t now)
{
    while (q->backoff.n && q->backoff.v[0]->backoff_until_ms <= now) {
        struct qentry *e = q->backoff.v[0];
        heap_remove(&q->backoff, 0);
        place(q, e, to_active(q, e));
    }
    if (q->n_unschedulable == 0 ||
        now - q->last_unschedulable_flush_ms < q->o.unschedulable_flush_ms)
        return;
    q->last_unschedulable_flush_ms = now;
    size_t it = 0;
    void *v;
    while (kos_strmap_next(&q->entries, &it, NULL, &v)) {
        struct qentry *e = v;
        if (e->state != Q_UNSCHEDULABLE || now - e->timestamp_ms < q->o.max_unschedulable_ms)
            continue;
        q->n_unschedulable--;
        place(q, e, to_active_or_backoff(q, e, now));
    }
}

/* ---- API ----------------------------------------------------------------------------- */

int sched_queue_new(const struct sched_queue_options *o, struct sched_queue **ret)
{
    struct sched_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    if (o)
        q->o = *o;
    else
        sched_queue_options_init(&q->o);
    q->active.less = active_less;
    q->backoff.less = backoff_less;
    pthread_condattr_t ca;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return -ENOMEM;
    }
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (r != 0) {
        pthread_mutex_destroy(&q->lock);
        free(q);
        return -ENOMEM;
    }
    q->last_unschedulable_flush_ms = now_ms(q);
    *ret = q;
    return 0;
}

void sched_queue_free(struct sched_queue *q)
{
    if (!q)
        return;
    size_t it = 0;
    void *v;
    while (kos_strmap_next(&q->entries, &it, NULL, &v))
        entry_free(v);
    kos_strmap_free(&q->entries);
    free(q->active.v);
    free(q->backoff.v);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static int remove_locked(struct sched_queue *q, const char *uid)
{
    struct qentry *e = kos_strmap_get(&q->entries, uid);
    if (!e)
        return -ENOENT;
    detach(q, e);
    kos_strmap_remove(&q->entries, e->pod->uid);
    entry_free(e);
    return 0;
}

bool sched_queue_has(struct sched_queue *q, const char *uid)
{
    pthread_mutex_lock(&q->lock);
    bool has = kos_strmap_get(&q->entries, uid) != NULL;
    pthread_mutex_unlock(&q->lock);
    return has;
}

int sched_queue_add(struct sched_queue *q, struct sched_pod *pod, bool changed)
{
    pthread_mutex_lock(&q->lock);
    int r = 0;
    int64_t now = now_ms(q);
    struct qentry *e = kos_strmap_get(&q->entries, pod->uid);
    if (pod->node_name || pod->terminal) {
        if (e)
            remove_locked(q, pod->uid);
        goto out;
    }
    if (!e) {
        if (q->entries.len >= SCHED_QUEUE_MAX_PODS) {
            r = -E2BIG;
            goto out;
        }
        e = calloc(1, sizeof(*e));
        if (!e) {
            r = -ENOMEM;
            goto out;
        }
        e->pod = sched_pod_ref(pod);
        e->timestamp_ms = now;
        e->seq = q->seq++;
        if ((r = kos_strmap_put(&q->entries, e->pod->uid, e)) < 0) {
            entry_free(e);
            goto out;
        }
        if (pod->gated) {
            e->state = Q_GATED;
            q->n_gated++;
        } else if ((r = to_active(q, e)) < 0) {
            kos_strmap_remove(&q->entries, e->pod->uid);
            entry_free(e);
        }
        goto out;
    }

    /* An update: swap the object in (the map key follows the new uid string). Status-only
     * changes — our own FailedScheduling condition, nominatedNodeName — are no reason to
     * retry. */
    struct sched_pod *old = e->pod;
    e->pod = sched_pod_ref(pod);
    kos_strmap_put(&q->entries, e->pod->uid, e);
    sched_pod_unref(old);
    switch (e->state) {
    case Q_ACTIVE:
        heap_fix(&q->active, e->heap_idx);
        break;
    case Q_BACKOFF:
        break;
    case Q_IN_FLIGHT:
        e->updated_in_flight |= changed;
        break;
    case Q_GATED:
        if (!pod->gated) {
            q->n_gated--;
            e->timestamp_ms = now;
            place(q, e, r = to_active(q, e));
        }
        break;
    case Q_UNSCHEDULABLE:
        if (!changed)
            break;
        /* The pod itself changed: maybe it fits now. */
        q->n_unschedulable--;
        place(q, e, r = to_active_or_backoff(q, e, now));
        break;
    }
out:
    pthread_mutex_unlock(&q->lock);
    return r;
}

int sched_queue_delete(struct sched_queue *q, const char *uid)
{
    pthread_mutex_lock(&q->lock);
    int r = remove_locked(q, uid);
    pthread_mutex_unlock(&q->lock);
    return r;
}

int sched_queue_pop(struct sched_queue *q, int64_t timeout_ms, struct sched_pod **ret)
{
    int64_t start = kos_now_ms_monotonic();
    pthread_mutex_lock(&q->lock);
    int r;
    for (;;) {
        int64_t now = now_ms(q);
        flush_locked(q, now);
        if (q->closed) {
            r = -ESHUTDOWN;
            break;
        }
        if (q->active.n) {
            struct qentry *e = q->active.v[0];
            heap_remove(&q->active, 0);
            e->state = Q_IN_FLIGHT;
            e->attempts++;
            e->popped_cycle = ++q->cycle;
            e->updated_in_flight = false;
            q->n_in_flight++;
            *ret = sched_pod_ref(e->pod);
            r = 0;
            break;
        }
        int64_t left = timeout_ms < 0 ? INT64_MAX : timeout_ms - (kos_now_ms_monotonic() - start);
        if (left <= 0) {
            r = -ETIMEDOUT;
            break;
        }
        /* Sleep until the first backoff ends at the latest (and never past ~1 s, so an
         * injected clock that jumps is noticed). */
        int64_t wait = left < 1000 ? left : 1000;
        if (q->backoff.n && q->backoff.v[0]->backoff_until_ms - now < wait)
            wait = q->backoff.v[0]->backoff_until_ms - now;
        if (wait < 1)
            wait = 1;
        struct timespec ts = kos_deadline_after_ms(CLOCK_MONOTONIC, wait);
        pthread_cond_timedwait(&q->cond, &q->lock, &ts);
    }
    pthread_mutex_unlock(&q->lock);
    return r;
}

int sched_queue_done(struct sched_queue *q, const char *uid)
{
    return sched_queue_delete(q, uid);
}

int sched_queue_requeue(struct sched_queue *q, const char *uid, enum sched_requeue kind,
                        uint32_t plugins)
{
    pthread_mutex_lock(&q->lock);
    int r = 0;
    struct qentry *e = kos_strmap_get(&q->entries, uid);
    if (!e || e->state != Q_IN_FLIGHT) {
        r = -ENOENT;
        goto out;
    }
    int64_t now = now_ms(q);
    q->n_in_flight--;
    e->plugins = plugins;
    e->timestamp_ms = now;
    e->backoff_until_ms = now + sched_queue_backoff_ms(&q->o, e->attempts);
    /* Retry after the backoff when the failure was not a rejection, when nothing in
     * particular rejected it, or when an event arrived while it was being scheduled. */
    if (kind == SCHED_REQUEUE_ERROR || plugins == 0 || e->updated_in_flight ||
        q->move_request_cycle >= e->popped_cycle) {
        place(q, e, r = to_active_or_backoff(q, e, now));
    } else {
        e->state = Q_UNSCHEDULABLE;
        q->n_unschedulable++;
    }
out:
    pthread_mutex_unlock(&q->lock);
    return r;
}

/* Which plugins' rejections an event can undo (their EventsToRegister). */
static uint32_t plugins_helped_by(uint32_t events)
{
    uint32_t p = 0;
    if (events & (SCHED_EVENT_NODE_ADD | SCHED_EVENT_NODE_UPDATE))
        p |= SCHED_PLUGIN_NODE_UNSCHEDULABLE | SCHED_PLUGIN_NODE_NAME |
             SCHED_PLUGIN_TAINT_TOLERATION | SCHED_PLUGIN_NODE_AFFINITY |
             SCHED_PLUGIN_NODE_RESOURCES_FIT;
    if (events & (SCHED_EVENT_ASSIGNED_POD_DELETE | SCHED_EVENT_ASSIGNED_POD_UPDATE))
        p |= SCHED_PLUGIN_NODE_RESOURCES_FIT;
    if (events & SCHED_EVENT_ASSIGNED_POD_DELETE)
        p |= SCHED_PLUGIN_DEFAULT_PREEMPTION;
    return p;
}

void sched_queue_move_all(struct sched_queue *q, uint32_t events)
{
    uint32_t helped = plugins_helped_by(events);
    pthread_mutex_lock(&q->lock);
    int64_t now = now_ms(q);
    q->move_request_cycle = q->cycle;
    if (q->n_unschedulable) {
        size_t it = 0;
        void *v;
        while (kos_strmap_next(&q->entries, &it, NULL, &v)) {
            struct qentry *e = v;
            if (e->state != Q_UNSCHEDULABLE || (e->plugins && !(e->plugins & helped)))
                continue;
            q->n_unschedulable--;
            place(q, e, to_active_or_backoff(q, e, now));
        }
    }
    pthread_mutex_unlock(&q->lock);
}

void sched_queue_flush(struct sched_queue *q)
{
    pthread_mutex_lock(&q->lock);
    flush_locked(q, now_ms(q));
    pthread_mutex_unlock(&q->lock);
}

void sched_queue_close(struct sched_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void sched_queue_stats(struct sched_queue *q, struct sched_queue_stats *ret)
{
    pthread_mutex_lock(&q->lock);
    ret->active = q->active.n;
    ret->backoff = q->backoff.n;
    ret->unschedulable = q->n_unschedulable;
    ret->gated = q->n_gated;
    ret->in_flight = q->n_in_flight;
    pthread_mutex_unlock(&q->lock);
}

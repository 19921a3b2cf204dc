/* The watch window: a ring of the newest events that subscribers read without locks.
 *
 * Why no lock on the read side: with one thread per watch, a thousand subscribers wake for
 * every event. Under one mutex they queued behind each other and behind the writer (a lock
 * convoy: p99 delivery 90-330 ms at 1,000 watchers). A reader-writer lock would still let a
 * reader that is preempted while holding it stall the writer, and with a thousand runnable
 * threads on two cores that happens. So:
 *
 * - Each event is a record (struct rec) with a reference count. The ring holds one reference
 *   while the event is in the window; a subscriber takes one only while it copies the event
 *   out, and only if the count is not zero (rec_tryget). Records are never returned to malloc
 *   while the window lives: the writer recycles a record only once its count is zero and it
 *   is out of the ring, so a subscriber holding a stale pointer at worst gets a reference to
 *   a recycled record, sees that its sequence number is not the one it wanted, and lets go.
 * - Events are numbered by a sequence (seq, 0, 1, 2, ...) that is independent of revisions
 *   (which may have holes after a restart); event seq lives in ring[seq % capacity]. The
 *   writer publishes with release stores of `tail` (events appended) and `head` (the first
 *   still held); a subscriber remembers the seq it reads next.
 * - Sleeping is on a futex word (an eventcount, see "waking" below), woken in rounds; there is
 *   one per group of resources (see "channels").
 *
 * Only the writer side (append, compact, shutdown, subscribe) takes `wlock`, to serialize
 * itself; subscribers never wait for it. */
#include "store/watch.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/hash.h"
#include "util/timeutil.h"

struct rec {
    /* The ring's reference plus one per subscriber copying the event; 0 = free/recycling. */
    atomic_int refs;
    /* Written only while refs == 0 and the record is unreachable from the ring; read only
     * with a reference held. */
    uint64_t seq;
    int64_t rev;
    enum watch_event_type type;
    struct kos_value *key;
    struct kos_value *value;
    struct kos_value *prev_value;
    struct rec *next; /* writer only: free list or zombie list */
};

/* ---- channels --------------------------------------------------------------------------
 *
 * A server's in-process informers (some fifty: the garbage collector follows every resource)
 * each sleep in a subscription; when all slept on one word, every pod create woke all of them
 * to find nothing for most (3.5 of a create's 5 context switches). Subscribers sleep on the
 * channel of their resource instead: the first segment after /registry/ picks one of
 * WAKE_CHANNELS - 1 by hash, and a notification wakes the channels that got events since the
 * last one. Channel 0 holds the subscriptions whose prefix names no one resource (the empty
 * prefix, "/registry/po"); it is woken by every notification.
 *
 * A subscriber on a quiet resource still has to see the window move past it, or it would
 * find itself expired by events it never wanted (its position only advances when it looks):
 * every capacity / 4 events, a notification wakes all channels, so a sleeper is woken well
 * before the events after its position leave the window. */
#define WAKE_CHANNELS 16
#define REGISTRY_ROOT "/registry/"

struct wake_channel {
    /* The eventcount (see "waking"): the low 32 bits are the futex word, bumped on every
     * change to the window; the high 32 count the subscribers asleep since the last bump. */
    _Alignas(64) _Atomic uint64_t wake;
    /* Sleepers of the round under way that have not run yet (see "waking"). */
    atomic_int owed;
    atomic_bool fire; /* a round is asked for */
};

struct watch_window {
    struct wake_channel ch[WAKE_CHANNELS];
    /* Channels (bit per channel) with events since the last notification. */
    _Alignas(64) _Atomic uint32_t pending;

    _Alignas(64) pthread_mutex_t wlock; /* serializes the writer side only */
    size_t capacity;
    _Atomic(struct rec *) *ring;
    _Atomic uint64_t head; /* seq of the oldest held event */
    _Atomic uint64_t tail; /* seq the next appended event gets */
    /* Every event with rev > oldest_rev is held (or none was ever appended after it). */
    _Atomic int64_t oldest_rev;
    _Atomic int64_t current_rev;
    atomic_bool shutdown;
    /* Writer only (under wlock). Zombies were evicted while a subscriber still held them;
     * they are recycled once their count drops to zero. */
    struct rec *free_recs;
    struct rec *zombies;
    size_t appended; /* events since all channels were last asked to wake */
    /* The creator holds one reference and every open subscription one, so a subscription
     * closed after the store is gone still finds its window. */
    atomic_int refs;
    /* eventfds written by every notification (watch_window_add_eventfd); under efd_lock */
    pthread_mutex_t efd_lock;
    int efds[WATCH_WINDOW_MAX_EVENTFDS];
    size_t nefds;
};

struct watch_sub {
    struct watch_window *w;
    uint64_t next;       /* seq of the next event to look at (subscriber thread only) */
    _Atomic int64_t pos; /* written by the subscriber thread only; read by anyone */
    atomic_bool cancelled;
    unsigned channel;
    size_t prefix_len;
    char prefix[];
};

/* ---- waking ----------------------------------------------------------------------------
 *
 * With one thread per watch, every event has a thousand threads to wake, on two cores. How
 * they are woken decided p99 delivery at 1,000 watchers (measured end to end):
 *   - one mutex and condvar (before): the woken queued on the mutex, and so did the writer;
 *   - all at once, per event: a thousand runnable threads, each woken once per event, and
 *     the request and writer threads behind them for a CPU: p99 worse than before;
 *   - a relay (each woken one wakes the next): better p50, p99 about as before;
 *   - in rounds, as here: all sleepers are woken at once, but a wake-up asked for while a
 *     round is under way waits until every thread of that round has run. Events that arrive
 *     meanwhile are taken by threads that are awake anyway, and the next round wakes the
 *     rest once for all of them, so the number of wake-ups adapts to the load.
 *
 * Accounting: the 64-bit `wake` holds the sequence (low half, the futex word) and the count
 * of subscribers asleep on the current sequence (high half). Starting a round bumps the
 * sequence and moves that count to `owed` in one atomic exchange, so each sleeper is counted
 * exactly once: one that wakes on the sequence it slept on takes itself off the count in
 * `wake`, one that finds it bumped takes itself off `owed`. The one that brings `owed` to
 * zero starts the round that was asked for meanwhile, if any. */

static uint32_t seq_of(uint64_t v)
{
    return (uint32_t)v;
}

static uint32_t *futex_word(struct wake_channel *w)
{
    /* The sequence is the low half of `wake`: the first word in memory on little-endian. */
    return (uint32_t *)&w->wake + (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
}

/* Sleeps while the sequence is `seq`, until woken or the absolute CLOCK_MONOTONIC deadline
 * (NULL: no limit). Spurious returns are fine: callers re-check. */
static void futex_wait_until(struct wake_channel *w, uint32_t seq, const struct timespec *deadline)
{
    syscall(SYS_futex, futex_word(w), FUTEX_WAIT_BITSET_PRIVATE, seq, deadline, NULL,
            FUTEX_BITSET_MATCH_ANY);
}

/* Starts the round asked for, unless one is under way (its last thread will). Loops because
 * a round with nobody asleep ends at once. seq_cst throughout: with the `fire` store in
 * watch_window_notify and the `owed` decrement in sleep_end, either the asker sees no round
 * under way or the round's last thread sees the request. */
static void start_round(struct wake_channel *w)
{
    while (atomic_load(&w->owed) <= 0 && atomic_exchange(&w->fire, false)) {
        uint64_t cur = atomic_load(&w->wake);
        while (!atomic_compare_exchange_weak(&w->wake, &cur, (uint64_t)(seq_of(cur) + 1)))
            ;
        int sleeping = (int)(cur >> 32);
        if (sleeping > 0) {
            atomic_fetch_add(&w->owed, sleeping);
            syscall(SYS_futex, futex_word(w), FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        }
    }
}

/* Registers a sleeper on sequence `seq`; false if the sequence has moved (do not sleep).
 * seq_cst, against start_round's exchange: a sleeper registered before it is counted, and
 * one that comes after sees the new sequence. */
static bool sleep_begin(struct wake_channel *w, uint32_t seq)
{
    uint64_t cur = atomic_load(&w->wake);
    while (seq_of(cur) == seq)
        if (atomic_compare_exchange_weak(&w->wake, &cur, cur + (UINT64_C(1) << 32)))
            return true;
    return false;
}

/* Unregisters a sleeper that slept on `seq`; the last of a round starts the next one. */
static void sleep_end(struct wake_channel *w, uint32_t seq)
{
    uint64_t cur = atomic_load(&w->wake);
    while (seq_of(cur) == seq)
        if (atomic_compare_exchange_weak(&w->wake, &cur, cur - (UINT64_C(1) << 32)))
            return;
    if (atomic_fetch_sub(&w->owed, 1) == 1)
        start_round(w);
}

/* The channel of a key, or of a subscription's prefix: by the segment after /registry/ when
 * the string holds all of it (a '/' follows), else 0. A key of channel 0 can only match
 * prefixes of channel 0, which every notification wakes. */
static unsigned channel_of(const char *s, size_t len)
{
    const size_t root = sizeof(REGISTRY_ROOT) - 1;
    if (len <= root || memcmp(s, REGISTRY_ROOT, root) != 0)
        return 0;
    const char *seg = s + root;
    const char *slash = memchr(seg, '/', len - root);
    if (!slash || slash == seg)
        return 0;
    return 1 + (uint32_t)(kos_hash_bytes(seg, (size_t)(slash - seg)) % (WAKE_CHANNELS - 1));
}

#define ALL_CHANNELS ((uint32_t)((UINT64_C(1) << WAKE_CHANNELS) - 1))

/* Wakes the channels in mask and those with pending events, and always channel 0. */
static void notify_channels(struct watch_window *w, uint32_t mask)
{
    mask |= atomic_exchange(&w->pending, 0) | 1u;
    for (unsigned c = 0; c < WAKE_CHANNELS; c++)
        if (mask & (1u << c)) {
            atomic_store(&w->ch[c].fire, true);
            start_round(&w->ch[c]);
        }
}

/* ---- records --------------------------------------------------------------------------- */

static bool rec_tryget(struct rec *r)
{
    /* Acquire also on failure: a subscriber that finds the record gone must then see the
     * oldest_rev the writer raised before retiring it. */
    int n = atomic_load_explicit(&r->refs, memory_order_acquire);
    while (n > 0)
        if (atomic_compare_exchange_weak_explicit(&r->refs, &n, n + 1, memory_order_acquire,
                                                  memory_order_acquire))
            return true;
    return false;
}

/* A subscriber's release. It never frees: the record is still in the ring (which holds a
 * reference) or a zombie, which the writer recycles. */
static void rec_put(struct rec *r)
{
    atomic_fetch_sub_explicit(&r->refs, 1, memory_order_release);
}

static void rec_clear(struct rec *r)
{
    kos_value_unref(r->key);
    kos_value_unref(r->value);
    kos_value_unref(r->prev_value);
    r->key = r->value = r->prev_value = NULL;
}

/* Writer: drops the ring's reference to an evicted record. */
static void rec_retire(struct watch_window *w, struct rec *r)
{
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) == 1) {
        rec_clear(r);
        r->next = w->free_recs;
        w->free_recs = r;
    } else {
        r->next = w->zombies;
        w->zombies = r;
    }
}

/* Writer: a record to fill; its count is zero and no subscriber can take it. */
static struct rec *rec_get(struct watch_window *w)
{
    if (!w->free_recs) {
        for (struct rec **pp = &w->zombies; *pp;) {
            struct rec *r = *pp;
            if (atomic_load_explicit(&r->refs, memory_order_acquire) == 0) {
                *pp = r->next;
                rec_clear(r);
                r->next = w->free_recs;
                w->free_recs = r;
            } else {
                pp = &r->next;
            }
        }
    }
    struct rec *r = w->free_recs;
    if (r) {
        w->free_recs = r->next;
        r->next = NULL;
        return r;
    }
    r = calloc(1, sizeof(*r));
    if (r)
        atomic_init(&r->refs, 0);
    return r;
}

static void free_rec_list(struct rec *r)
{
    while (r) {
        struct rec *next = r->next;
        rec_clear(r);
        free(r);
        r = next;
    }
}

static _Atomic(struct rec *) *slot(struct watch_window *w, uint64_t seq)
{
    return &w->ring[seq % w->capacity];
}

/* ---- window ---------------------------------------------------------------------------- */

int watch_window_new(size_t capacity, int64_t start_rev, struct watch_window **ret)
{
    if (capacity == 0 || start_rev < 0)
        return -EINVAL;
    /* aligned_alloc: the wake word has a cache line of its own. */
    size_t size = (sizeof(struct watch_window) + 63) & ~(size_t)63;
    _cleanup_free_ struct watch_window *w = aligned_alloc(64, size);
    if (!w)
        return -ENOMEM;
    memset(w, 0, sizeof(*w));
    _cleanup_free_ _Atomic(struct rec *) *ring = calloc(capacity, sizeof(*ring));
    if (!ring)
        return -ENOMEM;
    int r = pthread_mutex_init(&w->wlock, NULL);
    if (r != 0)
        return -r;
    r = pthread_mutex_init(&w->efd_lock, NULL);
    if (r != 0) {
        pthread_mutex_destroy(&w->wlock);
        return -r;
    }
    for (size_t c = 0; c < WAKE_CHANNELS; c++) {
        atomic_init(&w->ch[c].wake, 0);
        atomic_init(&w->ch[c].owed, 0);
        atomic_init(&w->ch[c].fire, false);
    }
    atomic_init(&w->pending, 0);
    for (size_t i = 0; i < capacity; i++)
        atomic_init(&ring[i], NULL);
    w->capacity = capacity;
    atomic_init(&w->head, 0);
    atomic_init(&w->tail, 0);
    atomic_init(&w->oldest_rev, start_rev);
    atomic_init(&w->current_rev, start_rev);
    atomic_init(&w->shutdown, false);
    atomic_init(&w->refs, 1);
    w->ring = TAKE_PTR(ring);
    *ret = TAKE_PTR(w);
    return 0;
}

/* Writer (wlock held): drops the oldest held event. oldest_rev goes up before the record
 * leaves the ring, so a subscriber that finds the record gone also finds itself expired. */
static void evict_oldest(struct watch_window *w)
{
    uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
    struct rec *r = atomic_load_explicit(slot(w, h), memory_order_relaxed);
    if (r->rev > atomic_load_explicit(&w->oldest_rev, memory_order_relaxed))
        atomic_store_explicit(&w->oldest_rev, r->rev, memory_order_release);
    atomic_store_explicit(&w->head, h + 1, memory_order_release);
    atomic_store_explicit(slot(w, h), NULL, memory_order_release);
    rec_retire(w, r);
}

static size_t held(struct watch_window *w)
{
    return (size_t)(atomic_load_explicit(&w->tail, memory_order_relaxed) -
                    atomic_load_explicit(&w->head, memory_order_relaxed));
}

static void window_unref(struct watch_window *w)
{
    if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
        return;
    uint64_t tail = atomic_load(&w->tail);
    for (uint64_t s = atomic_load(&w->head); s < tail; s++) {
        struct rec *r = atomic_load(slot(w, s));
        rec_clear(r);
        free(r);
    }
    free_rec_list(w->free_recs);
    free_rec_list(w->zombies);
    free(w->ring);
    pthread_mutex_destroy(&w->wlock);
    pthread_mutex_destroy(&w->efd_lock);
    free(w);
}

void watch_window_notify(struct watch_window *w)
{
    notify_channels(w, 0);
    pthread_mutex_lock(&w->efd_lock);
    for (size_t i = 0; i < w->nefds; i++) {
        uint64_t one = 1;
        ssize_t n = write(w->efds[i], &one, sizeof(one));
        (void)n; /* EAGAIN: the counter is full, i.e. a wake-up is pending anyway */
    }
    pthread_mutex_unlock(&w->efd_lock);
}

int watch_window_add_eventfd(struct watch_window *w, int fd)
{
    int r = 0;
    pthread_mutex_lock(&w->efd_lock);
    if (w->nefds == WATCH_WINDOW_MAX_EVENTFDS)
        r = -ENOSPC;
    else
        w->efds[w->nefds++] = fd;
    pthread_mutex_unlock(&w->efd_lock);
    return r;
}

void watch_window_remove_eventfd(struct watch_window *w, int fd)
{
    pthread_mutex_lock(&w->efd_lock);
    for (size_t i = 0; i < w->nefds; i++)
        if (w->efds[i] == fd) {
            w->efds[i] = w->efds[--w->nefds];
            break;
        }
    pthread_mutex_unlock(&w->efd_lock);
}

void watch_window_shutdown(struct watch_window *w)
{
    if (!w)
        return;
    atomic_store_explicit(&w->shutdown, true, memory_order_release);
    atomic_fetch_or(&w->pending, ALL_CHANNELS);
    watch_window_notify(w);
}

void watch_window_free(struct watch_window *w)
{
    if (!w)
        return;
    watch_window_shutdown(w);
    window_unref(w);
}

int watch_window_append_quiet(struct watch_window *w, int64_t rev, enum watch_event_type type,
                              const char *key, struct kos_value *value,
                              struct kos_value *prev_value)
{
    /* Allocate before taking the lock: nobody else waits for it, but keep it short. */
    struct kos_value *k = kos_value_new(key, strlen(key));
    pthread_mutex_lock(&w->wlock);
    if (rev <= atomic_load_explicit(&w->current_rev, memory_order_relaxed)) {
        pthread_mutex_unlock(&w->wlock);
        kos_value_unref(k);
        return -EINVAL;
    }
    struct rec *r = k ? rec_get(w) : NULL;
    if (!r) {
        /* Losing one event silently would corrupt every watcher's view; expiring them all
         * makes them re-list, which is always correct. */
        atomic_store_explicit(&w->oldest_rev, rev, memory_order_release);
        while (held(w) > 0)
            evict_oldest(w);
        atomic_store_explicit(&w->current_rev, rev, memory_order_release);
        atomic_fetch_or(&w->pending, ALL_CHANNELS);
        pthread_mutex_unlock(&w->wlock);
        kos_value_unref(k);
        return -ENOMEM;
    }
    if (held(w) == w->capacity)
        evict_oldest(w);
    uint64_t t = atomic_load_explicit(&w->tail, memory_order_relaxed);
    r->seq = t;
    r->rev = rev;
    r->type = type;
    r->key = k;
    r->value = kos_value_ref(value);
    r->prev_value = kos_value_ref(prev_value);
    atomic_store_explicit(&r->refs, 1, memory_order_release);
    atomic_store_explicit(slot(w, t), r, memory_order_release);
    atomic_store_explicit(&w->current_rev, rev, memory_order_release);
    atomic_store_explicit(&w->tail, t + 1, memory_order_release);
    /* after the event is visible: a subscriber that misses it sleeps on a sequence that the
     * notification of this channel moves */
    uint32_t wake = 1u << channel_of(key, k->len);
    if (++w->appended >= (w->capacity / 4 ? w->capacity / 4 : 1)) {
        w->appended = 0;
        wake = ALL_CHANNELS;
    }
    atomic_fetch_or(&w->pending, wake);
    pthread_mutex_unlock(&w->wlock);
    return 0;
}

int watch_window_append(struct watch_window *w, int64_t rev, enum watch_event_type type,
                        const char *key, struct kos_value *value, struct kos_value *prev_value)
{
    int r = watch_window_append_quiet(w, rev, type, key, value, prev_value);
    if (r != -EINVAL)
        watch_window_notify(w);
    return r;
}

void watch_window_compact(struct watch_window *w, int64_t rev)
{
    pthread_mutex_lock(&w->wlock);
    int64_t cur = atomic_load_explicit(&w->current_rev, memory_order_relaxed);
    if (rev > cur)
        rev = cur;
    if (rev > atomic_load_explicit(&w->oldest_rev, memory_order_relaxed))
        atomic_store_explicit(&w->oldest_rev, rev, memory_order_release);
    while (held(w) > 0) {
        uint64_t h = atomic_load_explicit(&w->head, memory_order_relaxed);
        if (atomic_load_explicit(slot(w, h), memory_order_relaxed)->rev > rev)
            break;
        evict_oldest(w);
    }
    pthread_mutex_unlock(&w->wlock);
    /* sleepers before the new oldest revision must learn it, on every channel */
    atomic_fetch_or(&w->pending, ALL_CHANNELS);
    watch_window_notify(w);
}

int64_t watch_window_oldest_rev(struct watch_window *w)
{
    return atomic_load_explicit(&w->oldest_rev, memory_order_acquire);
}

int64_t watch_window_current_rev(struct watch_window *w)
{
    return atomic_load_explicit(&w->current_rev, memory_order_acquire);
}

/* Writer side (wlock held): the seq of the first held event with rev > after. */
static uint64_t first_after(struct watch_window *w, int64_t after)
{
    uint64_t lo = atomic_load_explicit(&w->head, memory_order_relaxed);
    uint64_t hi = atomic_load_explicit(&w->tail, memory_order_relaxed);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (atomic_load_explicit(slot(w, mid), memory_order_relaxed)->rev <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
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
    s->channel = channel_of(prefix, len);
    s->w = w;
    atomic_init(&s->pos, after_rev);
    atomic_init(&s->cancelled, false);

    pthread_mutex_lock(&w->wlock);
    int r = 0;
    if (atomic_load_explicit(&w->shutdown, memory_order_relaxed))
        r = -ECANCELED;
    else if (after_rev < atomic_load_explicit(&w->oldest_rev, memory_order_relaxed))
        r = -ESTALE;
    else {
        s->next = first_after(w, after_rev);
        atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&w->wlock);
    if (r < 0) {
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

static void copy_out(const struct rec *r, struct watch_event *out)
{
    *out = (struct watch_event){
        .rev = r->rev,
        .type = r->type,
        .key = r->key->data,
        .key_owner = kos_value_ref(r->key),
        .value = kos_value_ref(r->value),
        .prev_value = kos_value_ref(r->prev_value),
    };
}

/* Copies up to max matching events after the subscriber's position, without blocking. */
static int collect(struct watch_sub *s, struct watch_event *out, size_t max)
{
    struct watch_window *w = s->w;
    if (atomic_load_explicit(&w->shutdown, memory_order_acquire) ||
        atomic_load_explicit(&s->cancelled, memory_order_acquire))
        return -ECANCELED;
    int64_t pos = atomic_load_explicit(&s->pos, memory_order_relaxed);
    if (pos < atomic_load_explicit(&w->oldest_rev, memory_order_acquire))
        return -ESTALE;

    size_t n = 0;
    uint64_t k = s->next;
    uint64_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);
    while (n < max && k < tail) {
        struct rec *r = atomic_load_explicit(slot(w, k), memory_order_acquire);
        bool have = r && rec_tryget(r);
        if (have && r->seq != k) { /* recycled for a later event */
            rec_put(r);
            have = false;
        }
        if (!have) {
            /* Event k left the window while we were not looking. If that expired us,
             * deliver what we have and report it next time; otherwise (we had been waiting
             * for a revision ahead of it) carry on from what is still held. */
            if (pos < atomic_load_explicit(&w->oldest_rev, memory_order_acquire))
                break;
            /* Whatever was evicted had rev <= oldest_rev <= pos: nothing we owe. Every way
             * of seeing k gone synchronizes with the eviction, which moved head first. */
            uint64_t h = atomic_load_explicit(&w->head, memory_order_acquire);
            k = h > k ? h : k + 1;
            tail = atomic_load_explicit(&w->tail, memory_order_acquire);
            continue;
        }
        /* Events at or below pos were asked to be skipped (a watch from a revision ahead of
         * the window's newest when it began). */
        if (r->rev > pos) {
            if (r->key->len >= s->prefix_len && memcmp(r->key->data, s->prefix, s->prefix_len) == 0)
                copy_out(r, &out[n++]);
            pos = r->rev; /* delivered, or skipped for good: bookmarks may report it */
        }
        rec_put(r);
        k++;
    }
    s->next = k;
    atomic_store_explicit(&s->pos, pos, memory_order_relaxed);
    if (n > 0)
        return (int)n;
    if (pos < atomic_load_explicit(&w->oldest_rev, memory_order_acquire))
        return -ESTALE;
    return 0;
}

static bool past(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

int watch_sub_next_batch(struct watch_sub *s, int timeout_ms, struct watch_event *out, size_t max)
{
    if (!s || !out || max == 0)
        return -EINVAL;
    if (max > INT_MAX)
        max = INT_MAX;
    struct wake_channel *w = &s->w->ch[s->channel];
    struct timespec deadline = {0};
    if (timeout_ms > 0)
        deadline = kos_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms);
    for (;;) {
        /* Read the word before looking, so a change made after the look wakes us. */
        uint32_t seen = seq_of(atomic_load(&w->wake));
        int r = collect(s, out, max);
        if (r != 0 || timeout_ms == 0)
            return r;
        if (timeout_ms > 0 && past(&deadline))
            return 0;
        if (sleep_begin(w, seen)) {
            futex_wait_until(w, seen, timeout_ms > 0 ? &deadline : NULL);
            sleep_end(w, seen);
        }
    }
}

int watch_sub_next(struct watch_sub *s, int timeout_ms, struct watch_event *ret)
{
    int r = watch_sub_next_batch(s, timeout_ms, ret, 1);
    return r > 0 ? 1 : r;
}

int64_t watch_sub_rev(struct watch_sub *s)
{
    return atomic_load_explicit(&s->pos, memory_order_relaxed);
}

void watch_sub_cancel(struct watch_sub *s)
{
    if (!s)
        return;
    atomic_store_explicit(&s->cancelled, true, memory_order_release);
    /* A round wakes every sleeper of the channel, which is plenty for something as rare as a
     * cancel. */
    atomic_fetch_or(&s->w->pending, 1u << s->channel);
    watch_window_notify(s->w);
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
    if (e->key_owner)
        kos_value_unref(e->key_owner);
    else
        free(e->key);
    kos_value_unref(e->value);
    kos_value_unref(e->prev_value);
    *e = (struct watch_event){0};
}

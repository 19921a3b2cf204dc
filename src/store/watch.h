/* The in-memory window of recent events from which every watch is served (push, no polling).
 *
 * The store appends each committed write, in revision order, after it is durable. A watcher
 * opens a subscription at a revision R and receives every event with revision > R whose key
 * starts with its prefix. If R is older than the oldest event the window still holds (and
 * older than the current revision), opening fails with -ESTALE: the client gets 410 Expired
 * and re-lists, as with kube-apiserver. A watcher that falls more than the window behind is
 * also expired (-ESTALE from watch_sub_next) rather than holding memory without bound.
 *
 * Threads: one thread appends (the store's writer; appends, compaction and shutdown are
 * serialized by an internal mutex). Subscribers read the window without any lock the writer
 * waits for, so a thousand watch threads never stall a commit, and they sleep on a futex,
 * so one event wakes them without a shared mutex to queue on afterwards. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/value.h"

enum watch_event_type { WATCH_ADDED, WATCH_MODIFIED, WATCH_DELETED };

struct watch_event {
    int64_t rev;
    enum watch_event_type type;
    char *key;
    struct kos_value *value;      /* the object after the write (for DELETED: its last state) */
    struct kos_value *prev_value; /* the object before the write, NULL for ADDED */
    /* When set, key points into this shared value instead of being malloc'd (events copied
     * out of the window share the key bytes, as they share the object bytes). */
    struct kos_value *key_owner;
};

struct watch_window;
struct watch_sub;

/* capacity = number of events kept; start_rev = the store's revision when the window starts. */
int watch_window_new(size_t capacity, int64_t start_rev, struct watch_window **ret);
/* Shuts the window down and drops the creator's reference. Open subscriptions keep the memory
 * alive (their next call returns -ECANCELED) until they are closed, so closing the store before
 * every watch handler has finished is safe. */
void watch_window_free(struct watch_window *w);

/* Called by the store after commit, in revision order. Takes new references to the values. */
int watch_window_append(struct watch_window *w, int64_t rev, enum watch_event_type type,
                        const char *key, struct kos_value *value, struct kos_value *prev_value);

/* As watch_window_append, but subscribers asleep in watch_sub_next stay asleep until
 * watch_window_notify (subscribers that are awake see the event at once). A writer that
 * appends a whole batch wakes everyone once for all of it, after it has answered its callers. */
int watch_window_append_quiet(struct watch_window *w, int64_t rev, enum watch_event_type type,
                              const char *key, struct kos_value *value,
                              struct kos_value *prev_value);
void watch_window_notify(struct watch_window *w);

/* Registers an eventfd that every notification writes to (at most WATCH_WINDOW_MAX_EVENTFDS),
 * so that a thread waiting in epoll learns of new events without being one of the window's
 * sleepers (and without waiting for a round of them, see watch.c). -ENOSPC when full. */
#define WATCH_WINDOW_MAX_EVENTFDS 64
int watch_window_add_eventfd(struct watch_window *w, int fd);
/* After this returns, the fd is not written any more (it may be closed). */
void watch_window_remove_eventfd(struct watch_window *w, int fd);

/* The oldest revision a watch may start at: events after it are all held. */
int64_t watch_window_oldest_rev(struct watch_window *w);
int64_t watch_window_current_rev(struct watch_window *w);

/* History at or below rev was compacted: drops those events and raises the oldest revision, so
 * watches from before it get -ESTALE as they would after a restart. */
void watch_window_compact(struct watch_window *w, int64_t rev);

/* Opens a subscription for keys under prefix, delivering events with rev > after_rev.
 * -ESTALE when after_rev is too old. */
int watch_window_subscribe(struct watch_window *w, const char *prefix, int64_t after_rev,
                           struct watch_sub **ret);

/* Waits up to timeout_ms (0: do not wait, negative: no limit) for the next matching event.
 * Returns 1 and fills *ret (a copy with its own references: release with watch_event_clear),
 * 0 on timeout, -ESTALE if the subscriber fell out of the window, -ECANCELED once the window
 * is shut down. A subscription is used by one thread at a time. */
int watch_sub_next(struct watch_sub *s, int timeout_ms, struct watch_event *ret);

/* As watch_sub_next, but takes up to max pending events at once (so a subscriber that wakes
 * behind several events drains them in one go). Returns how many it stored in out[0..n)
 * (each released with watch_event_clear), 0 on timeout, or the errors of watch_sub_next.
 * Events already read are returned before an error, which the next call then reports. */
int watch_sub_next_batch(struct watch_sub *s, int timeout_ms, struct watch_event *out, size_t max);

/* The revision the subscriber has seen up to (for bookmarks): the last delivered or skipped.
 * Any thread may ask. */
int64_t watch_sub_rev(struct watch_sub *s);

/* Makes a watch_sub_next(_batch) in another thread return -ECANCELED at once, and every later
 * one. The subscription must stay open until that thread is done with it. */
void watch_sub_cancel(struct watch_sub *s);

void watch_sub_close(struct watch_sub *s);
void watch_event_clear(struct watch_event *e);

/* Wakes every waiting subscriber with -ECANCELED (server shutdown). */
void watch_window_shutdown(struct watch_window *w);

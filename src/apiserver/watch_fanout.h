/* The watch fan-out: a few threads that write the events of many watch streams straight to
 * their connections, instead of one blocked thread per watch.
 *
 * With a thread per watch, every event woke a thousand threads on two cores, each of which
 * framed the same event again and wrote it in its own system call after its own wake-up (p99
 * delivery 1.2 s at 1,000 watchers, 100 writes/s). Here, as in kube-apiserver's cacher, an
 * event is encoded once per fan-out thread (as a ready HTTP chunk) and shared by every stream
 * that gets it; the threads wait in epoll for the window to change (it writes their eventfds)
 * and for slow clients' sockets to drain, and never block on one.
 *
 * Only plain streams come here: no label or field selector, no Table output, the initial
 * events (if any) already sent. The connection's own thread lends its socket (http_io_borrow)
 * and sleeps until the stream ends. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "apiserver/http.h"
#include "store/watch.h"

struct watch_fanout;

/* nthreads 0: one per CPU (at most 32). Shutting the window down ends every stream. */
int watch_fanout_new(struct watch_window *w, unsigned nthreads, struct watch_fanout **ret);
/* Ends every stream, stops the threads. Accepts NULL. */
void watch_fanout_free(struct watch_fanout *f);

struct watch_fanout_stream {
    struct watch_sub *sub; /* borrowed; positioned where the stream goes on */
    struct http_io *io;    /* borrowed, lent by the connection's thread */
    int64_t deadline_ms;   /* CLOCK_MONOTONIC ms at which the stream ends, 0 = never */
    bool bookmarks;
    int64_t next_bookmark_ms;
    int64_t bookmark_interval_ms;
    const char *kind;        /* for BOOKMARK objects */
    const char *api_version; /* for BOOKMARK objects */
};

/* Serves the stream from the fan-out's threads until it ends: its deadline, the client
 * leaving, falling out of the window (an ERROR event with 410 Expired is sent first, as
 * kube-apiserver does), or shutdown. Blocks the calling thread meanwhile. Returns 0 when the
 * connection is intact (the caller ends the chunked body), -EPIPE when it is lost. */
int watch_fanout_serve(struct watch_fanout *f, const struct watch_fanout_stream *st);

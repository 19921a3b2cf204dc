/* WATCH: a chunked stream of newline-delimited {"type","object"} events, pushed from the
 * store's in-memory event window (each object a one-row meta.k8s.io Table when the client
 * asked for Tables). The stream runs on the connection's own thread and blocks
 * between events; it ends at timeoutSeconds, when the client leaves, or at shutdown.
 * A plain stream (no selectors, no Tables) is handed to the watch fan-out once its initial
 * events are out (watch_fanout.h): the connection's thread then sleeps until it ends. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "apiserver/table.h"
#include "apiserver/watch_fanout.h"
#include "store/watch.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define WATCH_WAIT_MS              1000
#define WATCH_BOOKMARK_INTERVAL_MS (60 * 1000)
#define WATCH_BATCH_BYTES          (64 * 1024)
#define WATCH_MAX_EVENT_BYTES      (64u * 1024 * 1024)

struct watch_stream {
    int socket_fd;
    struct list_filter filter;
    struct watch_sub *sub;
    struct kos_buf out;
    size_t out_pos;
    struct store_list initial; /* synthetic ADDED events still to send */
    size_t initial_pos;
    bool initial_end_bookmark; /* sendInitialEvents: mark where the initial state ends */
    int64_t initial_rev;
    int64_t deadline_ms; /* 0 = none */
    bool bookmarks;
    int64_t next_bookmark_ms;
    int64_t next_peer_check_ms;
    bool done;
    char group[128];
    char kind[128];
    char api_version[160];
    /* Table output (kubectl get -w): each object becomes a one-row Table, the columns sent
     * in the first event only, as kube-apiserver does */
    struct table_opts table;
    bool table_columns_sent;
    struct http_request peer; /* only socket_fd is used, to notice a departed client */
    struct http_request *req; /* the request being answered (valid while it streams) */
    struct watch_fanout *fanout;
};

static void stream_free(void *ctx)
{
    struct watch_stream *s = ctx;
    if (!s)
        return;
    watch_sub_close(s->sub);
    list_filter_done(&s->filter);
    store_list_clear(&s->initial);
    kos_buf_free(&s->out);
    free(s);
}

static int emit(struct watch_stream *s, const char *type, const char *obj, size_t len)
{
    int r = kos_buf_printf(&s->out, "{\"type\":\"%s\",\"object\":", type);
    if (r == 0)
        r = kos_buf_append(&s->out, obj, len);
    if (r == 0)
        r = kos_buf_append(&s->out, "}\n", 2);
    return r;
}

/* An event about a stored object; decoded is its parsed form when the caller has one. */
static int emit_object(struct watch_stream *s, const char *type, const struct kos_value *v,
                       const json_t *decoded)
{
    if (s->table.version == TABLE_NONE) {
        _cleanup_free_ char *tmp = NULL;
        const char *data = kos_value_bytes(v, &tmp);
        return data ? emit(s, type, data, v->len) : -ENOMEM;
    }
    _cleanup_json_ json_t *own = decoded ? NULL : table_decode(v);
    const json_t *obj = decoded ? decoded : own;
    if (!obj)
        return -EIO;
    /* the printers only look at the group and kind; the request's descriptor may be gone */
    const struct kos_kind k = {.group = s->group, .kind = s->kind};
    s->table.now_ms = table_now_ms();
    int r = kos_buf_printf(&s->out, "{\"type\":\"%s\",\"object\":", type);
    if (r == 0)
        r = table_append_single(&s->out, &k, obj, v, &s->table, !s->table_columns_sent);
    if (r == 0)
        r = kos_buf_append(&s->out, "}\n", 2);
    if (r == 0)
        s->table_columns_sent = true;
    return r;
}

static int emit_bookmark(struct watch_stream *s, int64_t rev, bool initial_end)
{
    char obj[512];
    int n =
        snprintf(obj, sizeof(obj),
                 "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":"
                 "\"%" PRId64 "\"%s}}",
                 s->kind, s->api_version, rev,
                 initial_end ? ",\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}" : "");
    return emit(s, "BOOKMARK", obj, (size_t)n);
}

static int emit_expired(struct watch_stream *s, int64_t asked, int64_t current)
{
    char obj[512];
    int n = snprintf(obj, sizeof(obj),
                     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                     "\"Failure\",\"message\":\"too old resource version: %" PRId64 " (%" PRId64
                     ")\",\"reason\":\"Expired\",\"code\":410}",
                     asked, current);
    return emit(s, "ERROR", obj, (size_t)n);
}

/* Decides what a client with selectors sees of an event: an object that starts matching is
 * ADDED, one that stops matching is DELETED, as kube-apiserver's filtered watch does. The
 * decoded new state is handed back in *ret_now (when there is a filter) for reuse. */
static const char *filtered_type(struct watch_stream *s, const struct watch_event *e,
                                 json_t **ret_now)
{
    static const char *const names[] = {"ADDED", "MODIFIED", "DELETED"};
    if (!list_filter_active(&s->filter))
        return names[e->type];
    json_t *now = obj_decode_value(e->value, NULL);
    *ret_now = now;
    bool now_match = now && list_filter_matches(&s->filter, now);
    bool was_match = false;
    if (e->prev_value) {
        _cleanup_json_ json_t *before = obj_decode_value(e->prev_value, NULL);
        was_match = before && list_filter_matches(&s->filter, before);
    }
    switch (e->type) {
    case WATCH_ADDED:
        return now_match ? "ADDED" : NULL;
    case WATCH_DELETED:
        return now_match || was_match ? "DELETED" : NULL;
    case WATCH_MODIFIED:
        if (now_match && was_match)
            return "MODIFIED";
        if (now_match)
            return "ADDED";
        return was_match ? "DELETED" : NULL;
    }
    return NULL;
}

/* Fills s->out with at least one event, or sets done. */
static void produce(struct watch_stream *s)
{
    while (s->initial_pos < s->initial.count) {
        struct store_kv *kv = &s->initial.items[s->initial_pos++];
        _cleanup_json_ json_t *obj = NULL;
        if (list_filter_active(&s->filter)) {
            obj = obj_decode_value(kv->value, NULL);
            if (!obj || !list_filter_matches(&s->filter, obj))
                continue;
        }
        if (emit_object(s, "ADDED", kv->value, obj) < 0)
            s->done = true;
        return;
    }
    if (s->initial_end_bookmark) {
        s->initial_end_bookmark = false;
        if (emit_bookmark(s, s->initial_rev, true) < 0)
            s->done = true;
        return;
    }
    /* Pending events are drained into one chunk (up to WATCH_BATCH_BYTES) so a burst costs one
     * send, and the client's socket is looked at once a wait interval, not once an event. */
    bool emitted = false;
    for (;;) {
        int64_t now = kos_now_ms_monotonic();
        if (s->deadline_ms && now >= s->deadline_ms) {
            s->done = !emitted;
            return;
        }
        if (now >= s->next_peer_check_ms) {
            s->next_peer_check_ms = now + WATCH_WAIT_MS;
            if (http_peer_gone(&s->peer)) {
                s->done = true;
                return;
            }
        }
        int wait = emitted ? 0 : WATCH_WAIT_MS;
        if (s->deadline_ms && s->deadline_ms - now < wait)
            wait = (int)(s->deadline_ms - now);
        struct watch_event e = {0};
        int r = watch_sub_next(s->sub, wait, &e);
        if (r == 1) {
            _cleanup_json_ json_t *now_obj = NULL;
            const char *type = filtered_type(s, &e, &now_obj);
            int er = type ? emit_object(s, type, e.value, now_obj) : 0;
            watch_event_clear(&e);
            if (er < 0) {
                s->done = true;
                return;
            }
            if (type) {
                emitted = true;
                if (s->out.len >= WATCH_BATCH_BYTES)
                    return;
            }
            continue;
        }
        if (r == 0 && emitted)
            return;
        if (r == -ESTALE) {
            /* The client fell out of the window: tell it to re-list, as kube-apiserver does. */
            emit_expired(s, watch_sub_rev(s->sub), 0);
            s->done = true;
            return;
        }
        if (r < 0) {
            s->done = true;
            return;
        }
        if (s->bookmarks && kos_now_ms_monotonic() >= s->next_bookmark_ms) {
            s->next_bookmark_ms = kos_now_ms_monotonic() + WATCH_BOOKMARK_INTERVAL_MS;
            if (emit_bookmark(s, watch_sub_rev(s->sub), false) < 0)
                s->done = true;
            return;
        }
    }
}

/* Whether the fan-out can serve the rest: every stream of it gets the same bytes. */
static bool fanout_ready(const struct watch_stream *s)
{
    return s->fanout && s->req && s->sub && !s->done && s->initial_pos >= s->initial.count &&
           !s->initial_end_bookmark && !list_filter_active(&s->filter) &&
           s->table.version == TABLE_NONE;
}

/* Lends the connection to the fan-out until the stream ends; false when it could not. */
static bool serve_fanout(struct watch_stream *s)
{
    struct http_io io;
    if (http_io_borrow(s->req, &io) < 0)
        return false;
    store_list_clear(&s->initial); /* sent: no need to hold the objects any longer */
    s->initial_pos = 0;
    const struct watch_fanout_stream st = {
        .sub = s->sub,
        .io = &io,
        .deadline_ms = s->deadline_ms,
        .bookmarks = s->bookmarks,
        .next_bookmark_ms = s->next_bookmark_ms,
        .bookmark_interval_ms = WATCH_BOOKMARK_INTERVAL_MS,
        .kind = s->kind,
        .api_version = s->api_version,
    };
    (void)watch_fanout_serve(s->fanout, &st);
    http_io_return(&io);
    s->done = true;
    return true;
}

static ssize_t stream_read(void *ctx, char *buf, size_t max)
{
    struct watch_stream *s = ctx;
    while (s->out_pos >= s->out.len) {
        kos_buf_reset(&s->out);
        s->out_pos = 0;
        if (s->done)
            return -1;
        if (fanout_ready(s) && serve_fanout(s))
            return -1; /* the body ends here: the HTTP layer sends the last chunk */
        produce(s);
    }
    size_t n = s->out.len - s->out_pos;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->out_pos, n);
    s->out_pos += n;
    return (ssize_t)n;
}

void handle_watch(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct watch_stream *s = calloc(1, sizeof(*s));
    if (!s) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    kos_buf_init(&s->out, WATCH_MAX_EVENT_BYTES);
    s->peer.socket_fd = rr->http->socket_fd;
    s->req = rr->http;
    s->fanout = rr->srv->watch_fanout;
    snprintf(s->group, sizeof(s->group), "%s", rr->kind->group);
    snprintf(s->kind, sizeof(s->kind), "%s", rr->kind->kind);
    kos_kind_api_version(rr->kind, s->api_version, sizeof(s->api_version));
    const char *accept = http_header(rr->http, "Accept");
    if (accept_wants_table(accept) &&
        table_opts_init(&s->table, accept, http_query(rr->http, "includeObject"), &err) < 0) {
        stream_free(s);
        reply_error(rep, err);
        return;
    }
    if (list_filter_parse(rr, &s->filter, &err) < 0) {
        stream_free(s);
        reply_error(rep, err);
        return;
    }

    const char *ts = http_query(rr->http, "timeoutSeconds");
    int64_t timeout = 0;
    if (ts && (kos_parse_int64(ts, &timeout) < 0 || timeout < 0)) {
        stream_free(s);
        reply_errorf(rep, 400, "BadRequest", "invalid timeoutSeconds \"%s\"", ts);
        return;
    }
    if (timeout > 0)
        s->deadline_ms = kos_now_ms_monotonic() + timeout * 1000;
    s->bookmarks = query_bool(rr->http, "allowWatchBookmarks", NULL);
    s->next_bookmark_ms = kos_now_ms_monotonic() + WATCH_BOOKMARK_INTERVAL_MS;

    char prefix[1024];
    if (kos_kind_key_prefix(rr->kind, rr->ns, prefix, sizeof(prefix)) < 0) {
        stream_free(s);
        reply_errorf(rep, 400, "BadRequest", "invalid namespace");
        return;
    }

    const char *rv = http_query(rr->http, "resourceVersion");
    int64_t from = 0;
    bool send_initial = !rv || !rv[0] || strcmp(rv, "0") == 0;
    if (query_bool(rr->http, "sendInitialEvents", NULL))
        send_initial = s->initial_end_bookmark = true;
    if (!send_initial && (kos_parse_int64(rv, &from) < 0 || from < 0)) {
        stream_free(s);
        reply_errorf(rep, 400, "BadRequest", "invalid resourceVersion \"%s\"", rv);
        return;
    }
    struct watch_window *w = store_window(rr->srv->store);
    if (send_initial) {
        int r = store_list(rr->srv->store, prefix, NULL, 0, &s->initial);
        if (r < 0) {
            stream_free(s);
            reply_errorf(rep, 500, "InternalError", "listing failed");
            return;
        }
        from = s->initial.rev;
        s->initial_rev = from;
    }
    int r = watch_window_subscribe(w, prefix, from, &s->sub);
    if (r == -ESTALE) {
        emit_expired(s, from, watch_window_current_rev(w));
        s->done = true;
    } else if (r < 0) {
        stream_free(s);
        reply_errorf(rep, 500, "InternalError", "watch failed");
        return;
    }
    rep->status = 200;
    rep->content_type = CT_JSON;
    rep->streaming = true;
    rep->stream.read = stream_read;
    rep->stream.free = stream_free;
    rep->stream.ctx = s;
}

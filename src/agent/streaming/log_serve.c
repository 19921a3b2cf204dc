/* Container logs from the agent's CRI log files (see log_serve.h). */
#include "agent/streaming/log_serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pods/pod_logs.h"
#include "apiserver/respond.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define MAX_LOG_REPLY  (256u << 20)
#define FOLLOW_POLL_MS 100
#define STATUS_POLL_MS 1000
#define PEER_POLL_MS   1000

static int query_int(kos_query_get_fn get, void *ctx, const char *key, int64_t min, int64_t *ret,
                     bool *set, struct kos_error **err)
{
    const char *v = get(ctx, key);
    *set = false;
    if (!v)
        return 0;
    int64_t n;
    if (kos_parse_int64(v, &n) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid %s parameter \"%s\"", key, v);
    if (n < min)
        return kos_error_set(err, 422, "Invalid",
                             "PodLogOptions \"\" is invalid: %s: Invalid value: %lld: must be "
                             "greater than %s",
                             key, (long long)n, min == 0 ? "or equal to 0" : "0");
    *ret = n;
    *set = true;
    return 0;
}

static int query_flag(kos_query_get_fn get, void *ctx, const char *key, bool *ret,
                      struct kos_error **err)
{
    const char *v = get(ctx, key);
    *ret = false;
    if (v && kos_parse_bool(v, ret) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid %s parameter \"%s\"", key, v);
    return 0;
}

int kos_log_query_parse(kos_query_get_fn get, void *ctx, struct kos_log_query *ret,
                        struct kos_error **err)
{
    struct kos_log_query q = {.tail_lines = -1};
    bool set;
    int64_t v;
    int r;
    if ((r = query_flag(get, ctx, "follow", &q.follow, err)) < 0 ||
        (r = query_flag(get, ctx, "timestamps", &q.timestamps, err)) < 0 ||
        (r = query_flag(get, ctx, "previous", &q.previous, err)) < 0)
        return r;
    if ((r = query_int(get, ctx, "tailLines", 0, &v, &set, err)) < 0)
        return r;
    if (set)
        q.tail_lines = v;
    if ((r = query_int(get, ctx, "limitBytes", 1, &v, &set, err)) < 0)
        return r;
    if (set)
        q.limit_bytes = v;
    if ((r = query_int(get, ctx, "sinceSeconds", 1, &v, &set, err)) < 0)
        return r;
    if (set)
        q.since_seconds = v;
    const char *since_time = get(ctx, "sinceTime");
    if (since_time) {
        if (set)
            return kos_error_set(err, 422, "Invalid",
                                 "PodLogOptions \"\" is invalid: : Forbidden: at most one of "
                                 "`sinceTime` or `sinceSeconds` may be specified");
        if (kos_time_parse_rfc3339(since_time, &q.since_time) < 0)
            return kos_error_set(err, 400, "BadRequest", "invalid sinceTime parameter \"%s\"",
                                 since_time);
        q.since_time_set = true;
    }
    *ret = q;
    return 0;
}

static const char *request_get(void *ctx, const char *key)
{
    return http_query(ctx, key);
}

int kos_log_query_from_request(const struct http_request *req, struct kos_log_query *ret,
                               struct kos_error **err)
{
    return kos_log_query_parse(request_get, (void *)req, ret, err);
}

void kos_log_query_options(const struct kos_log_query *q, time_t now, struct kos_log_options *ret)
{
    *ret = (struct kos_log_options){
        .tail_lines = q->tail_lines, .limit_bytes = q->limit_bytes, .timestamps = q->timestamps};
    if (q->since_seconds > 0)
        ret->since_ns = ((int64_t)now - q->since_seconds) * 1000000000LL;
    else if (q->since_time_set)
        ret->since_ns = (int64_t)q->since_time * 1000000000LL;
}

int kos_log_query_format(const struct kos_log_query *q, struct kos_buf *out)
{
    size_t start = out->len;
#define SEP (out->len > start ? "&" : "")
    if (q->follow)
        kos_buf_printf(out, "%sfollow=true", SEP);
    if (q->previous)
        kos_buf_printf(out, "%sprevious=true", SEP);
    if (q->timestamps)
        kos_buf_printf(out, "%stimestamps=true", SEP);
    if (q->since_seconds > 0)
        kos_buf_printf(out, "%ssinceSeconds=%lld", SEP, (long long)q->since_seconds);
    if (q->since_time_set) {
        struct tm tm;
        char t[40];
        gmtime_r(&q->since_time, &tm);
        strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
        kos_buf_printf(out, "%ssinceTime=%s", SEP, t);
    }
    if (q->tail_lines >= 0)
        kos_buf_printf(out, "%stailLines=%lld", SEP, (long long)q->tail_lines);
    if (q->limit_bytes > 0)
        kos_buf_printf(out, "%slimitBytes=%lld", SEP, (long long)q->limit_bytes);
#undef SEP
    return out->data || out->len == 0 ? 0 : -ENOMEM;
}

struct follow {
    struct kos_pod_log_target target;
    struct kos_log_options opts;
    int64_t offset;
    bool line_start;
    int64_t sent, limit;
    struct kos_buf out;
    size_t out_pos;
    bool done;
    bool exited; /* the container has exited: drain what is left, then end */
    int64_t next_status_ms, next_peer_ms;
    struct http_request peer;
    kos_log_live_fn live;
    void *live_ctx;
    void (*live_free)(void *ctx);
};

static ssize_t follow_read(void *ctx, char *buf, size_t max)
{
    struct follow *f = ctx;
    while (f->out_pos >= f->out.len) {
        kos_buf_reset(&f->out);
        f->out_pos = 0;
        if (f->done)
            return -1;
        int n = kos_crilog_read_from(f->target.path, &f->opts, &f->offset, &f->line_start, &f->out);
        if (n > 0)
            break;
        if (n < 0 && n != -ENOENT) {
            f->done = true;
            continue;
        }
        if (f->exited) {
            f->done = true;
            continue;
        }
        int64_t now = kos_now_ms_monotonic();
        if (now >= f->next_peer_ms) {
            f->next_peer_ms = now + PEER_POLL_MS;
            if (http_peer_gone(&f->peer)) {
                f->done = true;
                continue;
            }
        }
        if (now >= f->next_status_ms) {
            f->next_status_ms = now + STATUS_POLL_MS;
            /* one more read after the exit picks up the last lines */
            if (!f->live(f->live_ctx, f->target.container, f->target.attempt))
                f->exited = true;
        }
        usleep(FOLLOW_POLL_MS * 1000);
    }
    size_t n = f->out.len - f->out_pos;
    if (f->limit > 0 && (int64_t)n > f->limit - f->sent)
        n = (size_t)(f->limit - f->sent);
    if (n > max)
        n = max;
    memcpy(buf, f->out.data + f->out_pos, n);
    f->out_pos += n;
    f->sent += (int64_t)n;
    if (f->limit > 0 && f->sent >= f->limit) {
        f->done = true;
        f->out_pos = f->out.len;
    }
    return (ssize_t)n;
}

static void follow_free(void *ctx)
{
    struct follow *f = ctx;
    if (!f)
        return;
    if (f->live_free)
        f->live_free(f->live_ctx);
    kos_buf_free(&f->out);
    free(f);
}

void kos_log_serve(const struct kos_log_source *src, const struct kos_log_query *q,
                   struct http_reply *rep)
{
    struct kos_error *err = NULL;
    struct kos_pod_log_target t;
    struct kos_log_options o;
    kos_log_query_options(q, time(NULL), &o);
    if (kos_pod_log_target(src->pod_log_dir, src->pod, src->container, q->previous, &t, &err) < 0) {
        reply_error(rep, err);
        kos_error_free(err);
        goto drop;
    }
    struct kos_buf b;
    kos_buf_init(&b, MAX_LOG_REPLY);
    int64_t offset = 0;
    int r = kos_crilog_read(t.path, &o, &b, &offset);
    if (r == -ENOENT && !q->follow) {
        /* started, nothing written yet */
        kos_buf_free(&b);
        http_reply_set_body(rep, 200, CT_TEXT, strdup(""), 0);
        goto drop;
    }
    if (r < 0 && r != -ENOENT) {
        kos_buf_free(&b);
        reply_errorf(rep, 500, "InternalError", "cannot read the log of container %s: %s",
                     t.container, strerror(-r));
        goto drop;
    }
    if (!q->follow || q->previous) {
        size_t len = b.len;
        char *data = kos_buf_steal(&b, NULL);
        http_reply_set_body(rep, 200, CT_TEXT, data ? data : strdup(""), data ? len : 0);
        goto drop;
    }
    struct follow *f = calloc(1, sizeof(*f));
    if (!f) {
        kos_buf_free(&b);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        goto drop;
    }
    f->target = t;
    f->opts = o;
    f->opts.tail_lines = -1;
    f->offset = r == -ENOENT ? 0 : offset;
    f->line_start = true;
    f->limit = o.limit_bytes;
    f->out = b; /* what was read so far goes first */
    f->peer.socket_fd = src->peer_fd;
    f->live = src->live;
    f->live_ctx = src->live_ctx;
    f->live_free = src->live_free;
    rep->status = 200;
    rep->content_type = CT_TEXT;
    rep->streaming = true;
    rep->stream.read = follow_read;
    rep->stream.free = follow_free;
    rep->stream.ctx = f;
    return;
drop:
    if (src->live_free)
        src->live_free(src->live_ctx);
}

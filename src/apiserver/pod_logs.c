/* GET /api/v1/namespaces/NS/pods/NAME/log (kubectl logs): follow, tailLines, timestamps,
 * previous, container, limitBytes, sinceSeconds, sinceTime.
 *
 * With the embedded node agent the API server reads the agent's CRI log files itself
 * (srv->pod_log_dir, agent/pods/pod_logs.h picks the file); a remote agent would answer the
 * same request on its own endpoint, proxied from here in place of the file reader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/pods/pod_logs.h"
#include "agent/runtime/crilog.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define DEFAULT_POD_LOG_DIR "/var/log/pods"
#define MAX_LOG_REPLY       (256u << 20)
#define FOLLOW_POLL_MS      100
#define STATUS_POLL_MS      1000
#define PEER_POLL_MS        1000

struct follow {
    struct apiserver *srv;
    char key[1024];
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
};

static int64_t mono_ms(void)
{
    return kos_now_ms_monotonic();
}

static bool attempt_live(struct follow *f)
{
    struct store_kv kv = {0};
    if (store_get(f->srv->store, f->key, &kv) < 0)
        return false; /* the pod is gone */
    json_t *pod = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    bool live = pod && kos_pod_log_attempt_live(pod, f->target.container, f->target.attempt);
    json_decref(pod);
    return live;
}

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
        int64_t now = mono_ms();
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
            if (!attempt_live(f))
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
    kos_buf_free(&f->out);
    free(f);
}

static int query_int(const struct http_request *req, const char *key, int64_t min, int64_t *ret,
                     bool *set, struct http_reply *rep)
{
    const char *v = http_query(req, key);
    *set = false;
    if (!v)
        return 0;
    int64_t n;
    if (kos_parse_int64(v, &n) < 0) {
        reply_errorf(rep, 400, "BadRequest", "invalid %s parameter \"%s\"", key, v);
        return -EINVAL;
    }
    if (n < min) {
        reply_errorf(rep, 422, "Invalid",
                     "PodLogOptions \"\" is invalid: %s: Invalid value: %lld: must be greater "
                     "than %s",
                     key, (long long)n, min == 0 ? "or equal to 0" : "0");
        return -EINVAL;
    }
    *ret = n;
    *set = true;
    return 0;
}

static int query_flag(const struct http_request *req, const char *key, bool *ret,
                      struct http_reply *rep)
{
    bool valid = true;
    *ret = query_bool(req, key, &valid);
    if (!valid) {
        reply_errorf(rep, 400, "BadRequest", "invalid %s parameter \"%s\"", key,
                     http_query(req, key));
        return -EINVAL;
    }
    return 0;
}

void handle_pod_log(struct resource_request *rr, struct http_reply *rep)
{
    const struct http_request *req = rr->http;
    bool follow, timestamps, previous, set;
    if (query_flag(req, "follow", &follow, rep) < 0 ||
        query_flag(req, "timestamps", &timestamps, rep) < 0 ||
        query_flag(req, "previous", &previous, rep) < 0)
        return;
    struct kos_log_options o = {.tail_lines = -1, .timestamps = timestamps};
    int64_t v;
    if (query_int(req, "tailLines", 0, &v, &set, rep) < 0)
        return;
    if (set)
        o.tail_lines = v;
    if (query_int(req, "limitBytes", 1, &v, &set, rep) < 0)
        return;
    if (set)
        o.limit_bytes = v;
    bool since_set = false;
    if (query_int(req, "sinceSeconds", 1, &v, &since_set, rep) < 0)
        return;
    if (since_set)
        o.since_ns = ((int64_t)time(NULL) - v) * 1000000000LL;
    const char *since_time = http_query(req, "sinceTime");
    if (since_time) {
        if (since_set) {
            reply_errorf(rep, 422, "Invalid",
                         "PodLogOptions \"\" is invalid: : Forbidden: at most one of `sinceTime` "
                         "or `sinceSeconds` may be specified");
            return;
        }
        time_t t;
        if (kos_time_parse_rfc3339(since_time, &t) < 0) {
            reply_errorf(rep, 400, "BadRequest", "invalid sinceTime parameter \"%s\"", since_time);
            return;
        }
        o.since_ns = (int64_t)t * 1000000000LL;
    }

    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *pod = NULL;
    int64_t rev;
    int r = rr_read_object(rr, &pod, &rev, &err);
    if (r < 0) {
        if (err)
            reply_error(rep, err);
        else
            reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
        return;
    }
    const char *dir = rr->srv->pod_log_dir ? rr->srv->pod_log_dir : DEFAULT_POD_LOG_DIR;
    struct kos_pod_log_target t;
    if (kos_pod_log_target(dir, pod, http_query(req, "container"), previous, &t, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    struct kos_buf b;
    kos_buf_init(&b, MAX_LOG_REPLY);
    int64_t offset = 0;
    r = kos_crilog_read(t.path, &o, &b, &offset);
    if (r == -ENOENT && !follow) {
        /* started, nothing written yet, or the pod is not on this node's agent */
        kos_buf_free(&b);
        http_reply_set_body(rep, 200, CT_TEXT, strdup(""), 0);
        return;
    }
    if (r < 0 && r != -ENOENT) {
        kos_buf_free(&b);
        reply_errorf(rep, 500, "InternalError", "cannot read the log of container %s: %s",
                     t.container, strerror(-r));
        return;
    }
    if (!follow || (previous)) {
        size_t len = b.len;
        char *data = kos_buf_steal(&b, NULL);
        http_reply_set_body(rep, 200, CT_TEXT, data ? data : strdup(""), data ? len : 0);
        return;
    }
    struct follow *f = calloc(1, sizeof(*f));
    if (!f) {
        kos_buf_free(&b);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    f->srv = rr->srv;
    if (rr_key(rr, rr->name, f->key, sizeof(f->key)) < 0) {
        kos_buf_free(&b);
        free(f);
        reply_errorf(rep, 400, "BadRequest", "invalid object name");
        return;
    }
    f->target = t;
    f->opts = o;
    f->opts.tail_lines = -1;
    f->offset = r == -ENOENT ? 0 : offset;
    f->line_start = true;
    f->limit = o.limit_bytes;
    f->out = b; /* what was read so far goes first */
    f->sent = 0;
    f->peer.socket_fd = rr->http->socket_fd;
    rep->status = 200;
    rep->content_type = CT_TEXT;
    rep->streaming = true;
    rep->stream.read = follow_read;
    rep->stream.free = follow_free;
    rep->stream.ctx = f;
}

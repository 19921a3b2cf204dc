/* The kubelet's streaming server for one session (see session.h): kube's
 * pkg/kubelet/cri/streaming and apimachinery's httpstream/wsstream handshakes. */
#include "stream/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/respond.h"
#include "stream/portforward.h"
#include "stream/remotecommand.h"
#include "stream/websocket.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define MAX_COMMAND_ARGS 1024
#define MAX_PORTS        16

struct stream_session {
    enum stream_kind kind;
    enum rc_protocol proto;
    bool spdy; /* exec/attach over raw SPDY (else WebSocket) */
    struct kos_exec_options opts;
    bool started;
    struct kos_exec_process proc;
    char **command;
    size_t ncommand;
    /* port-forward */
    enum pf_protocol pf_proto;
    uint16_t ports[MAX_PORTS];
    size_t nports;
    const struct kos_stream_backend *backend;
    json_t *pod;
};

int stream_kind_parse(const char *name, enum stream_kind *ret)
{
    if (!name)
        return -EINVAL;
    if (strcmp(name, "exec") == 0)
        *ret = STREAM_EXEC;
    else if (strcmp(name, "attach") == 0)
        *ret = STREAM_ATTACH;
    else if (strcmp(name, "portforward") == 0 || strcmp(name, "portForward") == 0)
        *ret = STREAM_PORTFORWARD;
    else
        return -EINVAL;
    return 0;
}

void stream_session_free(struct stream_session *s)
{
    if (!s)
        return;
    if (!s->started)
        kos_exec_process_close(&s->proc);
    for (size_t i = 0; i < s->ncommand; i++)
        free(s->command[i]);
    free(s->command);
    json_decref(s->pod);
    free(s);
}

static void session_free_cb(void *ctx)
{
    stream_session_free(ctx);
}

static int pf_dial(void *ctx, uint16_t port, int *ret_fd, char **ret_error)
{
    struct stream_session *s = ctx;
    _cleanup_error_ struct kos_error *err = NULL;
    int r = s->backend->port_connect(s->backend->ctx, s->pod, port, ret_fd, &err);
    if (r < 0 && ret_error)
        *ret_error = strdup(err && err->message ? err->message : strerror(-r));
    return r;
}

static void session_run(void *ctx, int fd, const char *extra, size_t extra_len)
{
    struct stream_session *s = ctx;
    s->started = true;
    if (s->kind == STREAM_PORTFORWARD) {
        pf_serve(fd, extra, extra_len, s->pf_proto, s->ports, s->nports, pf_dial, s);
        return;
    }
    if (s->spdy)
        rc_serve_spdy(fd, extra, extra_len, &s->opts, &s->proc, s->command, s->ncommand);
    else
        rc_serve_websocket(fd, extra, extra_len, s->proto, &s->proc, s->command, s->ncommand);
}

static int query_flag(const struct http_request *req, const char *key, bool *ret,
                      struct kos_error **err)
{
    const char *v = http_query(req, key);
    *ret = false;
    if (v && kos_parse_bool(v, ret) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid %s parameter \"%s\"", key, v);
    return 0;
}

/* The kubelet's own names (streamParams in kube-apiserver's pod REST: input, output, error,
 * tty, each "1" when set); the API server's names are read as well. */
static void kubelet_flag(const struct http_request *req, const char *key, bool *ret)
{
    const char *v = http_query(req, key);
    if (v && strcmp(v, "1") == 0)
        *ret = true;
}

static int parse_exec_options(const struct http_request *req, struct stream_session *s,
                              bool kubelet, struct kos_error **err)
{
    struct kos_exec_options *o = &s->opts;
    if (query_flag(req, "stdin", &o->stdin, err) < 0 ||
        query_flag(req, "stdout", &o->stdout, err) < 0 ||
        query_flag(req, "stderr", &o->stderr, err) < 0 || query_flag(req, "tty", &o->tty, err) < 0)
        return -EINVAL;
    if (kubelet) {
        kubelet_flag(req, "input", &o->stdin);
        kubelet_flag(req, "output", &o->stdout);
        kubelet_flag(req, "error", &o->stderr);
        kubelet_flag(req, "tty", &o->tty);
    }
    if (s->kind == STREAM_EXEC) {
        const char *probe[MAX_COMMAND_ARGS + 1];
        size_t n = http_query_all(req, "command", probe, ARRAY_SIZE(probe));
        if (n > MAX_COMMAND_ARGS)
            return kos_error_set(err, 400, "BadRequest", "more than %d command arguments",
                                 MAX_COMMAND_ARGS);
        if (n == 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "you must specify at least 1 command argument");
        s->command = calloc(n, sizeof(char *));
        if (!s->command)
            return kos_error_set(err, 500, "InternalError", "out of memory");
        for (size_t i = 0; i < n; i++)
            if (!(s->command[s->ncommand++] = strdup(probe[i])))
                return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    if (!o->stdin && !o->stdout && !o->stderr)
        return kos_error_set(err, 400, "BadRequest",
                             "you must specify at least 1 of stdin, stdout, stderr");
    if (o->tty)
        o->stderr = false; /* the kubelet: a terminal has one output stream */
    return 0;
}

static int parse_ports(const struct http_request *req, struct stream_session *s, bool kubelet,
                       struct kos_error **err)
{
    const char *vals[MAX_PORTS + 1];
    /* the kubelet's WebSocket port-forward reads ?port= (kube's portForwardParams) */
    size_t n = http_query_all(req, "ports", vals, ARRAY_SIZE(vals));
    if (kubelet && n == 0)
        n = http_query_all(req, "port", vals, ARRAY_SIZE(vals));
    if (n > MAX_PORTS)
        return kos_error_set(err, 400, "BadRequest", "more than %d ports", MAX_PORTS);
    for (size_t i = 0; i < n; i++) {
        /* each value may itself be a comma-separated list */
        const char *p = vals[i];
        while (*p) {
            const char *end = strchr(p, ',');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            char num[16];
            int64_t v;
            if (len == 0 || len >= sizeof(num))
                return kos_error_set(err, 400, "BadRequest", "invalid port \"%.*s\"", (int)len, p);
            memcpy(num, p, len);
            num[len] = '\0';
            if (kos_parse_int64(num, &v) < 0 || v < 1 || v > 65535)
                return kos_error_set(err, 400, "BadRequest",
                                     "port \"%s\" is not a valid port number", num);
            if (s->nports >= MAX_PORTS)
                return kos_error_set(err, 400, "BadRequest", "more than %d ports", MAX_PORTS);
            s->ports[s->nports++] = (uint16_t)v;
            p = end ? end + 1 : p + len;
        }
    }
    return 0;
}

int stream_session_new(enum stream_kind kind, const struct http_request *req, bool kubelet,
                       struct stream_session **ret, struct kos_error **err)
{
    struct stream_session *s = calloc(1, sizeof(*s));
    if (!s)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    s->kind = kind;
    kos_exec_process_init(&s->proc);
    int r = kind == STREAM_PORTFORWARD ? parse_ports(req, s, kubelet, err)
                                       : parse_exec_options(req, s, kubelet, err);
    if (r < 0) {
        stream_session_free(s);
        return r;
    }
    *ret = s;
    return 0;
}

static bool is_websocket(const struct http_request *req)
{
    return ws_header_has_token(http_header(req, "Upgrade"), "websocket");
}

/* The WebSocket handshake answer, or an error for a malformed handshake. */
static int websocket_accept(const struct http_request *req, const char *protocol,
                            struct http_reply *rep, struct kos_error **err)
{
    if (strcmp(req->method, "GET") != 0 ||
        !ws_header_has_token(http_header(req, "Connection"), "upgrade"))
        return kos_error_set(err, 400, "BadRequest",
                             "websocket: the client is not using the "
                             "websocket protocol");
    const char *version = http_header(req, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13") != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "websocket: unsupported version: 13 not found in "
                             "'Sec-Websocket-Version' header");
    char accept[WS_ACCEPT_KEY_SIZE];
    if (ws_accept_key(http_header(req, "Sec-WebSocket-Key"), accept, sizeof(accept)) < 0)
        return kos_error_set(err, 400, "BadRequest",
                             "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header "
                             "must be Base64 encoded value of 16-byte in length");
    if (http_reply_add_header(rep, "Upgrade", "websocket") < 0 ||
        http_reply_add_header(rep, "Connection", "Upgrade") < 0 ||
        http_reply_add_header(rep, "Sec-WebSocket-Accept", accept) < 0 ||
        http_reply_add_header(rep, "Sec-WebSocket-Protocol", protocol) < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return 0;
}

struct version_scan {
    const char *want;
    bool found;
    struct kos_buf offered;
};

static bool scan_version(void *ctx, const char *name, const char *value)
{
    struct version_scan *v = ctx;
    if (strcasecmp(name, "X-Stream-Protocol-Version") != 0)
        return true;
    kos_buf_printf(&v->offered, "%s%s", v->offered.len ? " " : "", value);
    if (ws_header_has_token(value, v->want))
        v->found = true;
    return true;
}

/* The SPDY/3.1 upgrade answer (httpstream.Handshake): the client lists its protocol versions
 * in X-Stream-Protocol-Version (repeated); the one served here must be among them. */
static int spdy_accept(const struct http_request *req, const char *protocol, struct http_reply *rep,
                       struct kos_error **err)
{
    struct version_scan v = {.want = protocol};
    kos_buf_init(&v.offered, 4096);
    http_headers_with_prefix(req, "X-Stream-Protocol-Version", scan_version, &v);
    int r = 0;
    if (!v.found)
        r = kos_error_set(err, 403, "Forbidden",
                          "unable to upgrade: unable to negotiate protocol: client supports [%s], "
                          "server supports [%s]",
                          v.offered.data ? v.offered.data : "", protocol);
    kos_buf_free(&v.offered);
    if (r < 0)
        return r;
    if (http_reply_add_header(rep, "Connection", "Upgrade") < 0 ||
        http_reply_add_header(rep, "Upgrade", "SPDY/3.1") < 0 ||
        http_reply_add_header(rep, "X-Stream-Protocol-Version", protocol) < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    return 0;
}

int stream_session_start(struct stream_session *s, const struct http_request *req,
                         const struct kos_stream_backend *b, const json_t *pod,
                         const char *container, struct http_reply *rep, struct kos_error **err)
{
    int r;
    bool pf = s->kind == STREAM_PORTFORWARD;
    if (is_websocket(req)) {
        const char *offered = http_header(req, "Sec-WebSocket-Protocol");
        const char *proto_name;
        if (pf) {
            s->pf_proto = pf_select_websocket_protocol(offered);
            proto_name = pf_protocol_name(s->pf_proto);
        } else {
            s->proto = rc_select_protocol(offered);
            proto_name = rc_protocol_name(s->proto);
        }
        if (!proto_name || !proto_name[0])
            return kos_error_set(err, 400, "BadRequest",
                                 "unable to upgrade: unable to negotiate protocol: client "
                                 "supports [%s], server supports [%s]",
                                 offered ? offered : "",
                                 pf ? "SPDY/3.1+portforward.k8s.io v4.channel.k8s.io"
                                    : "v5.channel.k8s.io v4.channel.k8s.io");
        if ((r = websocket_accept(req, proto_name, rep, err)) < 0)
            return r;
    } else if (ws_header_has_token(http_header(req, "Upgrade"), "SPDY/3.1")) {
        s->pf_proto = PF_PROTO_SPDY;
        s->spdy = true;
        r = spdy_accept(req, pf ? "portforward.k8s.io" : "v4.channel.k8s.io", rep, err);
        if (r < 0)
            return r;
    } else {
        return kos_error_set(err, 400, "BadRequest", "Upgrade request required");
    }

    s->backend = b;
    if (pf) {
        if (!b->port_connect)
            return kos_error_set(err, 500, "InternalError", "port-forward is not supported");
        s->pod = json_incref((json_t *)pod);
        return 0;
    }
    struct kos_exec_options o = s->opts;
    o.container = container;
    if (s->kind == STREAM_EXEC) {
        o.command = (const char *const *)s->command;
        o.ncommand = s->ncommand;
        if (!b->exec)
            return kos_error_set(err, 500, "InternalError", "exec is not supported");
        return b->exec(b->ctx, pod, &o, &s->proc, err);
    }
    if (!b->attach)
        return kos_error_set(err, 500, "InternalError", "attach is not supported");
    return b->attach(b->ctx, pod, &o, &s->proc, err);
}

void stream_session_reply(struct stream_session *s, struct http_reply *rep)
{
    struct http_upgrade up = {.run = session_run, .free = session_free_cb, .ctx = s};
    http_reply_upgrade(rep, &up);
}

void stream_reply_error(struct http_reply *rep, const struct kos_error *err)
{
    for (size_t i = 0; i < rep->nheaders; i++) {
        free(rep->headers[i][0]);
        free(rep->headers[i][1]);
    }
    rep->nheaders = 0;
    reply_error(rep, err);
}

static void query_escape(struct kos_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            kos_buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            kos_buf_append(b, e, 3);
        }
    }
}

int stream_session_kubelet_query(const struct stream_session *s, struct kos_buf *out)
{
    if (s->kind == STREAM_PORTFORWARD) {
        for (size_t i = 0; i < s->nports; i++)
            kos_buf_printf(out, "%sport=%u", i ? "&" : "", s->ports[i]);
    } else {
        const struct {
            bool on;
            const char *name;
        } flags[] = {{s->opts.stdin, "input"},
                     {s->opts.stdout, "output"},
                     {s->opts.stderr, "error"},
                     {s->opts.tty, "tty"}};
        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
            if (flags[i].on)
                kos_buf_printf(out, "%s%s=1", out->len ? "&" : "", flags[i].name);
        for (size_t i = 0; i < s->ncommand; i++) {
            kos_buf_append_str(out, out->len ? "&command=" : "command=");
            query_escape(out, s->command[i]);
        }
    }
    return out->data || !out->len ? 0 : -ENOMEM;
}

/* The connect subresources of pods: exec, attach and portforward (kube-apiserver's
 * pkg/registry/core/pod/rest/subresources.go and strategy.go's streamLocation, then the
 * kubelet's streaming server). The API server checks the request and the pod, asks the node
 * agent to start the stream (stream/backend.h), answers 101 and serves the upgraded
 * connection on a thread of its own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/authorization.h"
#include "apiserver/objects.h"
#include "apiserver/request_info.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "stream/backend.h"
#include "stream/portforward.h"
#include "stream/remotecommand.h"
#include "stream/websocket.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MAX_COMMAND_ARGS 1024
#define MAX_PORTS        16

enum connect_kind { CONNECT_EXEC, CONNECT_ATTACH, CONNECT_PORTFORWARD };

struct connect_session {
    enum connect_kind kind;
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

static void session_free(void *ctx)
{
    struct connect_session *s = ctx;
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

static int pf_dial(void *ctx, uint16_t port, int *ret_fd, char **ret_error)
{
    struct connect_session *s = ctx;
    _cleanup_error_ struct kos_error *err = NULL;
    int r = s->backend->port_connect(s->backend->ctx, s->pod, port, ret_fd, &err);
    if (r < 0 && ret_error)
        *ret_error = strdup(err && err->message ? err->message : strerror(-r));
    return r;
}

static void session_run(void *ctx, int fd, const char *extra, size_t extra_len)
{
    struct connect_session *s = ctx;
    s->started = true;
    if (s->kind == CONNECT_PORTFORWARD) {
        pf_serve(fd, extra, extra_len, s->pf_proto, s->ports, s->nports, pf_dial, s);
        return;
    }
    if (s->spdy)
        rc_serve_spdy(fd, extra, extra_len, &s->opts, &s->proc, s->command, s->ncommand);
    else
        rc_serve_websocket(fd, extra, extra_len, s->proto, &s->proc, s->command, s->ncommand);
}

static bool has_container(const json_t *pod, const char *name)
{
    const char *lists[] = {"containers", "initContainers", "ephemeralContainers"};
    const json_t *spec = json_object_get(pod, "spec");
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            if (kos_streq_null(json_string_value(json_object_get(c, "name")), name))
                return true;
        }
    }
    return false;
}

static void names_of(const json_t *arr, struct kos_buf *b)
{
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        kos_buf_printf(b, "%s%s", i ? " " : "", n ? n : "");
    }
}

/* streamLocation's container choice: the only container, or the named one. */
static int pick_container(const json_t *pod, const char *pod_name, const char *asked,
                          const char **ret, struct kos_error **err)
{
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *ctrs = json_object_get(spec, "containers");
    if (asked && asked[0]) {
        if (!has_container(pod, asked))
            return kos_error_set(err, 400, "BadRequest", "container %s is not valid for pod %s",
                                 asked, pod_name);
        *ret = asked;
        return 0;
    }
    if (json_array_size(ctrs) == 1) {
        *ret = json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
        return *ret ? 0 : kos_error_set(err, 500, "InternalError", "stored pod has no name");
    }
    if (json_array_size(ctrs) == 0)
        return kos_error_set(err, 400, "BadRequest",
                             "a container name must be specified for pod %s", pod_name);
    struct kos_buf b;
    kos_buf_init(&b, 64 * 1024);
    kos_buf_printf(&b, "a container name must be specified for pod %s, choose one of: [", pod_name);
    names_of(ctrs, &b);
    kos_buf_append_str(&b, "]");
    const json_t *inits = json_object_get(spec, "initContainers");
    if (json_array_size(inits) > 0) {
        kos_buf_append_str(&b, " or one of the init containers: [");
        names_of(inits, &b);
        kos_buf_append_str(&b, "]");
    }
    int r = kos_error_set(err, 400, "BadRequest", "%s", b.data ? b.data : "");
    kos_buf_free(&b);
    return r;
}

static int query_flag(const struct http_request *req, const char *key, bool *ret,
                      struct kos_error **err)
{
    bool valid = true;
    *ret = query_bool(req, key, &valid);
    if (!valid)
        return kos_error_set(err, 400, "BadRequest", "invalid %s parameter \"%s\"", key,
                             http_query(req, key));
    return 0;
}

/* KEP 4006: a connect request is authorized as its method's verb (get for the WebSocket
 * GET) and, as kube-apiserver 1.35's AuthorizePodWebsocketUpgradeCreatePermission does,
 * also as create, so that `get pods/exec` alone never opens a shell. */
static int authorize_create(struct resource_request *rr, struct kos_error **err)
{
    if (strcmp(rr->http->method, "POST") == 0)
        return 0; /* already authorized as create */
    struct request_info ri;
    request_info_init(&ri, rr->authz_user, "POST", rr->http->path, rr->route, NULL, NULL);
    return apiserver_authz_check(rr->srv, &ri.attrs, err);
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

static int parse_exec_options(struct resource_request *rr, enum connect_kind kind,
                              struct kos_exec_options *o, const char **cmd, size_t *ncmd,
                              struct kos_error **err)
{
    const struct http_request *req = rr->http;
    if (query_flag(req, "stdin", &o->stdin, err) < 0 ||
        query_flag(req, "stdout", &o->stdout, err) < 0 ||
        query_flag(req, "stderr", &o->stderr, err) < 0 || query_flag(req, "tty", &o->tty, err) < 0)
        return -EINVAL;
    if (kind == CONNECT_EXEC) {
        const char *probe[MAX_COMMAND_ARGS + 1];
        size_t n = http_query_all(req, "command", probe, ARRAY_SIZE(probe));
        if (n > MAX_COMMAND_ARGS)
            return kos_error_set(err, 400, "BadRequest", "more than %d command arguments",
                                 MAX_COMMAND_ARGS);
        if (n == 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "you must specify at least 1 command argument");
        memcpy(cmd, probe, n * sizeof(*cmd));
        *ncmd = n;
    }
    if (!o->stdin && !o->stdout && !o->stderr)
        return kos_error_set(err, 400, "BadRequest",
                             "you must specify at least 1 of stdin, stdout, stderr");
    if (o->tty)
        o->stderr = false; /* the kubelet: a terminal has one output stream */
    return 0;
}

static int parse_ports(const struct http_request *req, struct connect_session *s,
                       struct kos_error **err)
{
    const char *vals[MAX_PORTS + 1];
    size_t n = http_query_all(req, "ports", vals, ARRAY_SIZE(vals));
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

static int prepare(struct resource_request *rr, enum connect_kind kind, struct connect_session *s,
                   struct http_reply *rep, struct kos_error **err)
{
    struct http_request *req = rr->http;
    int r = authorize_create(rr, err);
    if (r < 0)
        return r;
    struct kos_exec_options o = {0};
    const char *cmd[MAX_COMMAND_ARGS];
    size_t ncmd = 0;
    if (kind != CONNECT_PORTFORWARD && (r = parse_exec_options(rr, kind, &o, cmd, &ncmd, err)) < 0)
        return r;
    if (kind == CONNECT_PORTFORWARD && (r = parse_ports(req, s, err)) < 0)
        return r;

    _cleanup_json_ json_t *pod = NULL;
    int64_t rev;
    r = rr_read_object(rr, &pod, &rev, err);
    if (r == -ENOENT && !*err) {
        r = kos_error_set(err, 404, "NotFound", "pods \"%s\" not found", rr->name);
        kos_error_set_details(*err, rr->name, "", "pods");
    }
    if (r < 0)
        return r;
    if (kind != CONNECT_PORTFORWARD &&
        (r = pick_container(pod, rr->name, http_query(req, "container"), &o.container, err)) < 0)
        return r;
    const char *node = obj_str(pod, "spec.nodeName");
    if (!node || !node[0])
        return kos_error_set(err, 400, "BadRequest", "pod %s does not have a host assigned",
                             rr->name);
    const struct kos_stream_backend *b = rr->srv->streaming;
    if (!b || !kos_streq_null(rr->srv->streaming_node, node))
        return kos_error_set(err, 503, "ServiceUnavailable",
                             "error dialing backend: the node agent of node %s does not serve "
                             "streams to this API server",
                             node);

    /* the protocol, before anything starts */
    const char *proto_name = NULL;
    if (is_websocket(req)) {
        const char *offered = http_header(req, "Sec-WebSocket-Protocol");
        if (kind == CONNECT_PORTFORWARD) {
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
                                 kind == CONNECT_PORTFORWARD
                                     ? "SPDY/3.1+portforward.k8s.io v4.channel.k8s.io"
                                     : "v5.channel.k8s.io v4.channel.k8s.io");
        if ((r = websocket_accept(req, proto_name, rep, err)) < 0)
            return r;
    } else if (ws_header_has_token(http_header(req, "Upgrade"), "SPDY/3.1")) {
        s->pf_proto = PF_PROTO_SPDY;
        s->spdy = true;
        r = spdy_accept(req,
                        kind == CONNECT_PORTFORWARD ? "portforward.k8s.io" : "v4.channel.k8s.io",
                        rep, err);
        if (r < 0)
            return r;
    } else {
        return kos_error_set(err, 400, "BadRequest", "Upgrade request required");
    }

    s->opts = o;
    s->opts.command = NULL;
    s->opts.container = NULL;
    if (kind == CONNECT_PORTFORWARD) {
        if (!b->port_connect)
            return kos_error_set(err, 500, "InternalError", "port-forward is not supported");
        s->backend = b;
        s->pod = json_incref(pod);
        return 0;
    }
    if (kind == CONNECT_EXEC) {
        s->command = calloc(ncmd, sizeof(char *));
        if (!s->command)
            return kos_error_set(err, 500, "InternalError", "out of memory");
        for (size_t i = 0; i < ncmd; i++)
            if (!(s->command[s->ncommand++] = strdup(cmd[i])))
                return kos_error_set(err, 500, "InternalError", "out of memory");
        o.command = cmd;
        o.ncommand = ncmd;
        if (!b->exec)
            return kos_error_set(err, 500, "InternalError", "exec is not supported");
        return b->exec(b->ctx, pod, &o, &s->proc, err);
    }
    if (!b->attach)
        return kos_error_set(err, 500, "InternalError", "attach is not supported");
    return b->attach(b->ctx, pod, &o, &s->proc, err);
}

void handle_pod_connect(struct resource_request *rr, struct http_reply *rep)
{
    enum connect_kind kind = strcmp(rr->sub, "exec") == 0     ? CONNECT_EXEC
                             : strcmp(rr->sub, "attach") == 0 ? CONNECT_ATTACH
                                                              : CONNECT_PORTFORWARD;
    struct connect_session *s = calloc(1, sizeof(*s));
    if (!s) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    s->kind = kind;
    kos_exec_process_init(&s->proc);
    _cleanup_error_ struct kos_error *err = NULL;
    if (prepare(rr, kind, s, rep, &err) < 0) {
        session_free(s);
        /* the handshake headers must not go out with an error */
        for (size_t i = 0; i < rep->nheaders; i++) {
            free(rep->headers[i][0]);
            free(rep->headers[i][1]);
        }
        rep->nheaders = 0;
        reply_error(rep, err);
        return;
    }
    struct http_upgrade up = {.run = session_run, .free = session_free, .ctx = s};
    http_reply_upgrade(rep, &up);
}

/* The kubelet endpoint of a standalone agent (see kubelet_server.h). */
#include "agent/streaming/kubelet_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pods/pod_logs.h"
#include "agent/streaming/kubelet_paths.h"
#include "agent/streaming/log_serve.h"
#include "agent/streaming/streaming.h"
#include "apiserver/http.h"
#include "apiserver/respond.h"
#include "pki/pki.h"
#include "stream/session.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

struct kos_kubelet_server {
    struct http_server *http;
    struct kos_client *client;
    struct kos_agent_streaming *streaming;
    struct kos_stream_backend backend;
    char node_name[254];
    char pod_log_dir[1024];
    struct pki_keypair serving;
};

static void reply_text_status(struct http_reply *rep, int status, const char *text)
{
    size_t len = strlen(text);
    char *body = malloc(len + 2);
    if (!body) {
        http_reply_set_body(rep, 500, CT_TEXT, NULL, 0);
        return;
    }
    memcpy(body, text, len);
    body[len] = '\n'; /* http.Error's newline */
    body[len + 1] = '\0';
    http_reply_set_body(rep, status, CT_TEXT, body, len + 1);
}

/* The kubelet's authorization attributes for a path: nodes/proxy for everything served
 * here (its auth.go maps only stats, metrics, logs, spec, checkpoint and pods elsewhere). */
static bool authorized(struct kos_kubelet_server *s, const struct http_request *req,
                       struct http_reply *rep)
{
    if (!req->peer || req->peer->status != PKI_PEER_VERIFIED) {
        reply_text_status(rep, 401, "Unauthorized");
        return false;
    }
    const char *user = req->peer->identity.user;
    if (!user || strcmp(user, PKI_KUBELET_CLIENT_USER) != 0) {
        char msg[PKI_MAX_NAME + 160];
        snprintf(msg, sizeof(msg),
                 "Forbidden (user=%s, verb=%s, resource=nodes, subresource=proxy)",
                 user ? user : "", strcmp(req->method, "POST") == 0 ? "create" : "get");
        reply_text_status(rep, 403, msg);
        return false;
    }
    return true;
}

static int get_pod(struct kos_kubelet_server *s, const struct kubelet_path *p, json_t **ret,
                   struct kos_error **err)
{
    struct kos_ref ref = {.kind = kos_client_kind_of("v1", "Pod"), .ns = p->ns, .name = p->pod};
    struct kos_error *cerr = NULL;
    _cleanup_json_ json_t *pod = NULL;
    int r = kos_client_get(s->client, &ref, &pod, &cerr);
    if (r == -ENOENT) {
        kos_error_free(cerr);
        return kos_error_set(err, 404, "NotFound", "pod \"%s\" does not exist", p->pod);
    }
    if (r < 0) {
        r = kos_error_set(err, 500, "InternalError", "cannot read pod %s/%s: %s", p->ns, p->pod,
                          cerr && cerr->message ? cerr->message : strerror(-r));
        kos_error_free(cerr);
        return r;
    }
    /* a pod of another node, or a uid that no longer matches, is not this kubelet's */
    const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    if (!kos_streq_null(node, s->node_name) || (p->uid[0] && !kos_streq_null(uid, p->uid)))
        return kos_error_set(err, 404, "NotFound", "pod \"%s\" does not exist", p->pod);
    *ret = TAKE_PTR(pod);
    return 0;
}

struct live_ctx {
    struct kos_kubelet_server *s;
    char ns[KUBELET_MAX_SEGMENT + 1];
    char pod[KUBELET_MAX_SEGMENT + 1];
};

static bool attempt_live(void *ctx, const char *container, int64_t attempt)
{
    struct live_ctx *l = ctx;
    struct kos_ref ref = {.kind = kos_client_kind_of("v1", "Pod"), .ns = l->ns, .name = l->pod};
    struct kos_error *err = NULL;
    _cleanup_json_ json_t *pod = NULL;
    int r = kos_client_get(l->s->client, &ref, &pod, &err);
    kos_error_free(err);
    if (r == -ENOENT)
        return false;
    if (r < 0)
        return true; /* the API is away for a moment: keep following */
    return kos_pod_log_attempt_live(pod, container, attempt);
}

static void serve_logs(struct kos_kubelet_server *s, const struct http_request *req,
                       const struct kubelet_path *p, const json_t *pod, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct kos_log_query q;
    if (kos_log_query_from_request(req, &q, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    struct live_ctx *l = calloc(1, sizeof(*l));
    if (!l) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    l->s = s;
    kos_strlcpy(l->ns, p->ns, sizeof(l->ns));
    kos_strlcpy(l->pod, p->pod, sizeof(l->pod));
    const struct kos_log_source src = {.pod_log_dir = s->pod_log_dir,
                                       .pod = pod,
                                       .container = p->container,
                                       .live = attempt_live,
                                       .live_ctx = l,
                                       .live_free = free,
                                       .peer_fd = req->socket_fd};
    kos_log_serve(&src, &q, rep);
}

static void serve_stream(struct kos_kubelet_server *s, const struct http_request *req,
                         const struct kubelet_path *p, const json_t *pod, struct http_reply *rep)
{
    enum stream_kind kind = p->route == KUBELET_EXEC     ? STREAM_EXEC
                            : p->route == KUBELET_ATTACH ? STREAM_ATTACH
                                                         : STREAM_PORTFORWARD;
    _cleanup_error_ struct kos_error *err = NULL;
    struct stream_session *ss = NULL;
    int r = stream_session_new(kind, req, true, &ss, &err);
    if (r == 0)
        r = stream_session_start(ss, req, &s->backend, pod,
                                 kind == STREAM_PORTFORWARD ? NULL : p->container, rep, &err);
    if (r < 0) {
        stream_session_free(ss);
        stream_reply_error(rep, err);
        return;
    }
    stream_session_reply(ss, rep);
}

static void handle(void *ctx, struct http_request *req, struct http_reply *rep)
{
    struct kos_kubelet_server *s = ctx;
    if (!authorized(s, req, rep))
        return;
    struct kubelet_path p;
    int r = kubelet_path_parse(req->path, &p);
    if (r == -ENOENT) {
        reply_text_status(rep, 404, "404 page not found");
        return;
    }
    if (r < 0) {
        reply_errorf(rep, 400, "BadRequest", "invalid path %s", req->path);
        return;
    }
    if (!kubelet_route_method_ok(p.route, req->method)) {
        reply_text_status(rep, 405, "405: Method Not Allowed");
        return;
    }
    if (p.route == KUBELET_HEALTHZ) {
        http_reply_set_body(rep, 200, CT_TEXT, strdup("ok"), 2);
        return;
    }
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *pod = NULL;
    if (get_pod(s, &p, &pod, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (p.route == KUBELET_CONTAINER_LOGS)
        serve_logs(s, req, &p, pod, rep);
    else
        serve_stream(s, req, &p, pod, rep);
}

static int load_pair(const struct kos_kubelet_server_config *cfg, struct pki_keypair *ret,
                     struct kos_error **err)
{
    if (cfg->tls_cert_file || cfg->tls_key_file) {
        if (!cfg->tls_cert_file || !cfg->tls_key_file)
            return kos_error_set(err, 400, "BadRequest",
                                 "--tls-cert-file and --tls-private-key-file go together");
        size_t cl = 0, kl = 0;
        int r = kos_read_file(cfg->tls_cert_file, PKI_MAX_FILE, &ret->cert_pem, &cl);
        if (r < 0)
            return kos_error_set(err, 400, "BadRequest", "cannot read --tls-cert-file %s: %s",
                                 cfg->tls_cert_file, strerror(-r));
        r = kos_read_file(cfg->tls_key_file, PKI_MAX_FILE, &ret->key_pem, &kl);
        if (r < 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "cannot read --tls-private-key-file %s: %s", cfg->tls_key_file,
                                 strerror(-r));
        return pki_check_keypair(ret->cert_pem, cl, ret->key_pem, kl, "--tls-cert-file", err);
    }
    char dir[1100];
    snprintf(dir, sizeof(dir), "%s/pki", cfg->agent->root_dir);
    int r = kos_mkdir_p(cfg->agent->root_dir, 0700);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "cannot create root dir %s: %s",
                             cfg->agent->root_dir, strerror(-r));
    char host[256] = "localhost";
    if (gethostname(host, sizeof(host)) < 0 || !host[0])
        kos_strlcpy(host, "localhost", sizeof(host));
    host[sizeof(host) - 1] = '\0';
    const char *sans[3];
    size_t n = 0;
    sans[n++] = cfg->agent->node_name;
    if (cfg->host_ip && cfg->host_ip[0])
        sans[n++] = cfg->host_ip;
    if (strcmp(host, cfg->agent->node_name) != 0)
        sans[n++] = host;
    return pki_ensure_self_signed(dir, "kubelet", host, sans, n, ret, err);
}

int kos_kubelet_server_start(const struct kos_kubelet_server_config *cfg,
                             struct kos_kubelet_server **ret, struct kos_error **err)
{
    if (!cfg->client_ca_pem)
        return kos_error_set(err, 400, "BadRequest",
                             "the kubelet endpoint needs a CA for client certificates "
                             "(--client-ca-file or the kubeconfig's certificate-authority)");
    struct kos_kubelet_server *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    kos_strlcpy(s->node_name, cfg->agent->node_name, sizeof(s->node_name));
    kos_strlcpy(s->pod_log_dir, cfg->agent->pod_log_dir, sizeof(s->pod_log_dir));
    int r = load_pair(cfg, &s->serving, err);
    if (r < 0)
        goto fail;
    if ((r = kos_client_new(cfg->cc, &s->client)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "kubelet endpoint: no API client: %s",
                          strerror(-r));
        goto fail;
    }
    if ((r = kos_agent_streaming_new(cfg->agent, &s->streaming)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "kubelet endpoint: streaming: %s",
                          strerror(-r));
        goto fail;
    }
    kos_agent_streaming_backend(s->streaming, &s->backend);
    const struct http_server_options ho = {.bind_address = cfg->address,
                                           .port = cfg->port,
                                           .connection_limit = 256,
                                           .handler = handle,
                                           .handler_ctx = s,
                                           .tls_cert_pem = s->serving.cert_pem,
                                           .tls_key_pem = s->serving.key_pem,
                                           .client_ca_pem = cfg->client_ca_pem};
    if ((r = http_server_start(&ho, &s->http)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "cannot listen on %s:%u: %s", cfg->address,
                          cfg->port, strerror(-r));
        goto fail;
    }
    *ret = s;
    return 0;
fail:
    kos_kubelet_server_stop(s);
    return r;
}

uint16_t kos_kubelet_server_port(const struct kos_kubelet_server *s)
{
    return s ? http_server_port(s->http) : 0;
}

void kos_kubelet_server_stop(struct kos_kubelet_server *s)
{
    if (!s)
        return;
    http_server_stop(s->http);
    kos_agent_streaming_free(s->streaming);
    kos_client_free(s->client);
    pki_keypair_clear(&s->serving);
    free(s);
}

/* The API server: routes each HTTP request to discovery, OpenAPI or the generic resource
 * handlers, all written once against kind descriptors (api/kinds.h) and the store. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "apiserver/authz/chain.h"
#include "apiserver/http.h"
#include "store/store.h"

struct kos_sa;
struct kos_stream_backend;
struct kos_svc_alloc;

#define KOS_KUBE_MAJOR       "1"
#define KOS_KUBE_MINOR       "33"
#define KOS_KUBE_GIT_VERSION "v1.33.0-kos"

struct kos_authn;
struct rbac_authorizer;
struct authz_node_authorizer;
struct authz_cache;
struct watch_fanout;

struct apiserver {
    struct store *store;
    /* Who is asking (auth/authn.h): set after apiserver_init, before serving; owned (freed by
     * apiserver_done). NULL: every request but /healthz, /livez, /readyz and /version is 401. */
    struct kos_authn *authn;
    /* The chain every request is asked (impersonation too): apiserver_authz_start points it at
     * authz below. authorize NULL: only members of system:masters are allowed. */
    struct authz_authorizer authorizer;
    /* --authorization-mode: built by apiserver_authz_start (authorization.c); until then the
     * chain is empty and only system:masters is allowed. */
    struct authz_chain authz;
    struct rbac_authorizer *rbac; /* always kept: escalation checks and rules reviews use it */
    struct authz_node_authorizer *node_authz; /* with mode Node only */
    struct authz_cache *authz_cache;
    atomic_bool ready;
    char server_address[128]; /* host:port advertised in legacy discovery */
    /* Discovery and OpenAPI documents never change while the server runs: built once. */
    char *doc_api_aggregated_v2;
    char *doc_api_aggregated_v2beta1;
    char *doc_apis_aggregated_v2;
    char *doc_apis_aggregated_v2beta1;
    char *doc_api_legacy;
    char *doc_apis_legacy;
    char *doc_openapi_v3_root;
    /* Service-account token issuer (serviceaccounts/token), owned by the caller; NULL: the
     * subresource answers 404. */
    struct kos_sa *sa;
    /* The embedded node agent's --pod-log-dir, where pods/log reads container logs (NULL:
     * the kubelet's default, /var/log/pods). */
    const char *pod_log_dir;
    /* pods/exec, attach, portforward: the embedded agent's streaming side (stream/backend.h)
     * and the node it runs; NULL: no agent is reachable from here. */
    const struct kos_stream_backend *streaming;
    const char *streaming_node;
    /* The client certificate for every other node's kubelet endpoint (kubelet_proxy.h; CN
     * PKI_KUBELET_CLIENT_USER, O system:masters); NULL: those pods' logs and streams
     * answer an error. */
    const char *kubelet_client_cert_pem;
    const char *kubelet_client_key_pem;
    /* Serves plain watch streams from a few threads (NULL: each on its connection's thread). */
    struct watch_fanout *watch_fanout;
    /* Cluster IPs and node ports of Services (services/service_registry.h); owned. NULL until
     * apiserver_services_setup: Services then get none. */
    struct kos_svc_alloc *svc_alloc;
};

int apiserver_init(struct apiserver *srv, struct store *store, const char *server_address);
void apiserver_done(struct apiserver *srv);
/* Creates the namespaces that exist from the start (default, kube-system, kube-public,
 * kube-node-lease) when they are missing. */
int apiserver_bootstrap(struct apiserver *srv);
/* kos_sa_lookup_fn over the store (ctx: the struct apiserver), for the service-account
 * token authenticator. */
int apiserver_sa_lookup(void *ctx, const char *resource, const char *ns, const char *name,
                        char **uid, time_t *deletion);
/* Asks srv->authorizer (or the system:masters-only default): an authz_decision or a negative
 * errno; *reason as struct authz_authorizer says. */
int apiserver_authorize(const struct apiserver *srv, const struct authz_attributes *attrs,
                        char **reason);
/* The http_handler_fn for the server. */
void apiserver_handle(void *ctx, struct http_request *req, struct http_reply *rep);

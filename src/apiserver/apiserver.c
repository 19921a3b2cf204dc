/* Request dispatch: non-resource endpoints, then the generic resource handlers by verb. */
#include "apiserver/apiserver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authorization.h"
#include "apiserver/discovery.h"
#include "apiserver/objects.h"
#include "apiserver/openapi.h"
#include "apiserver/openapi_v2.h"
#include "apiserver/request_info.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "apiserver/router.h"
#include "apiserver/watch_fanout.h"
#include "apiserver/services/service_alloc.h"
#include "auth/authn.h"
#include "auth/impersonate.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/random.h"

static char *encode_owned(json_t *doc)
{
    if (!doc)
        return NULL;
    char *s = kos_json_encode(doc, NULL);
    json_decref(doc);
    return s;
}

int apiserver_init(struct apiserver *srv, struct store *store, const char *server_address)
{
    memset(srv, 0, sizeof(*srv));
    srv->store = store;
    snprintf(srv->server_address, sizeof(srv->server_address), "%s", server_address);
    srv->doc_api_aggregated_v2 = encode_owned(discovery_aggregated(true, "v2"));
    srv->doc_api_aggregated_v2beta1 = encode_owned(discovery_aggregated(true, "v2beta1"));
    srv->doc_apis_aggregated_v2 = encode_owned(discovery_aggregated(false, "v2"));
    srv->doc_apis_aggregated_v2beta1 = encode_owned(discovery_aggregated(false, "v2beta1"));
    srv->doc_api_legacy = encode_owned(discovery_api_versions(server_address));
    srv->doc_apis_legacy = encode_owned(discovery_group_list());
    srv->doc_openapi_v3_root = encode_owned(openapi_v3_root());
    if (!srv->doc_api_aggregated_v2 || !srv->doc_api_aggregated_v2beta1 ||
        !srv->doc_apis_aggregated_v2 || !srv->doc_apis_aggregated_v2beta1 || !srv->doc_api_legacy ||
        !srv->doc_apis_legacy || !srv->doc_openapi_v3_root) {
        apiserver_done(srv);
        return -ENOMEM;
    }
    /* Without the fan-out (no window, or it could not start) every watch is served on its
     * connection's own thread, which is correct, only costlier. */
    struct watch_window *w = store_window(store);
    if (w && watch_fanout_new(w, 0, &srv->watch_fanout) < 0)
        srv->watch_fanout = NULL;
    return 0;
}

void apiserver_done(struct apiserver *srv)
{
    watch_fanout_free(srv->watch_fanout);
    apiserver_authz_stop(srv);
    free(srv->doc_api_aggregated_v2);
    free(srv->doc_api_aggregated_v2beta1);
    free(srv->doc_apis_aggregated_v2);
    free(srv->doc_apis_aggregated_v2beta1);
    free(srv->doc_api_legacy);
    free(srv->doc_apis_legacy);
    free(srv->doc_openapi_v3_root);
    kos_authn_free(srv->authn);
    kos_svc_alloc_free(srv->svc_alloc);
    memset(srv, 0, sizeof(*srv));
}

/* Stores obj at key unless something is there already (the server's own objects at start). */
static int create_if_absent(struct apiserver *srv, const char *key, json_t *obj)
{
    struct store_write w = {
        .type = STORE_CREATE, .key = key, .render = obj_render, .render_ctx = obj};
    struct store_write_result res = {0};
    int r = store_write(srv->store, &w, &res);
    if (r < 0 && r != -EEXIST)
        return r;
    kos_value_unref(res.value);
    return 0;
}

/* The "default" ServiceAccount of a namespace the server makes itself: the service-accounts
 * controller would make it a moment later, but pods created as soon as the API answers pass
 * ServiceAccount admission only once it exists. */
static int bootstrap_default_sa(struct apiserver *srv, const char *ns)
{
    char key[160], uid[40], now[32];
    snprintf(key, sizeof(key), "/registry/serviceaccounts/%s/default", ns);
    struct store_kv kv = {0};
    if (store_get(srv->store, key, &kv) == 0) {
        store_kv_clear(&kv);
        return 0;
    }
    int r = kos_uuid_v4(uid, sizeof(uid));
    if (r < 0)
        return r;
    obj_now_rfc3339(now, sizeof(now));
    _cleanup_json_ json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion", "v1",
                                           "kind", "ServiceAccount", "metadata", "name", "default",
                                           "namespace", ns, "uid", uid, "creationTimestamp", now);
    if (!obj)
        return -ENOMEM;
    return create_if_absent(srv, key, obj);
}

int apiserver_bootstrap(struct apiserver *srv)
{
    static const char *const names[] = {"default", "kube-system", "kube-public", "kube-node-lease"};
    const struct kos_kind *ns_kind = kos_kind_by_resource("", "v1", "namespaces");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char key[128], uid[40], now[32];
        snprintf(key, sizeof(key), "/registry/namespaces/%s", names[i]);
        struct store_kv kv = {0};
        int r = bootstrap_default_sa(srv, names[i]);
        if (r < 0)
            return r;
        if (store_get(srv->store, key, &kv) == 0) {
            store_kv_clear(&kv);
            continue;
        }
        r = kos_uuid_v4(uid, sizeof(uid));
        if (r < 0)
            return r;
        obj_now_rfc3339(now, sizeof(now));
        _cleanup_json_ json_t *obj =
            json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}", "apiVersion",
                      "v1", "kind", "Namespace", "metadata", "name", names[i], "uid", uid,
                      "creationTimestamp", now, "labels", "kubernetes.io/metadata.name", names[i],
                      "spec", "finalizers", "kubernetes", "status", "phase", "Active");
        if (!obj || !ns_kind)
            return -ENOMEM;
        if ((r = create_if_absent(srv, key, obj)) < 0)
            return r;
    }
    return 0;
}

static void reply_static(struct http_reply *rep, const char *doc, const char *content_type)
{
    char *copy = strdup(doc);
    if (!copy) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    http_reply_set_body(rep, 200, content_type, copy, strlen(copy));
}

static void reply_doc(struct http_reply *rep, json_t *doc)
{
    if (!doc) {
        reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    reply_json(rep, 200, doc);
    json_decref(doc);
}

static void handle_version(struct http_reply *rep)
{
    _cleanup_json_ json_t *v =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", KOS_KUBE_MAJOR, "minor",
                  KOS_KUBE_MINOR, "gitVersion", KOS_KUBE_GIT_VERSION, "gitCommit", "kos",
                  "gitTreeState", "clean", "buildDate", "2026-11-27T00:00:00Z", "goVersion",
                  "none (C)", "compiler", "gcc", "platform", "linux/amd64");
    reply_json(rep, 200, v);
}

static void handle_health(struct apiserver *srv, const struct route *rt, struct http_reply *rep)
{
    bool ready = atomic_load(&srv->ready);
    if (strcmp(rt->health_check, "readyz") == 0 && !ready) {
        reply_text(rep, 500, "[-]bootstrap failed: not finished\nreadyz check failed\n");
        return;
    }
    reply_text(rep, 200, "ok");
}

static void handle_discovery(struct apiserver *srv, struct http_request *req,
                             const struct route *rt, struct http_reply *rep)
{
    bool core = rt->type == ROUTE_API;
    switch (discovery_negotiate(http_header(req, "Accept"))) {
    case DISCOVERY_V2:
        reply_static(rep, core ? srv->doc_api_aggregated_v2 : srv->doc_apis_aggregated_v2,
                     CT_DISCOVERY_V2);
        return;
    case DISCOVERY_V2BETA1:
        reply_static(rep, core ? srv->doc_api_aggregated_v2beta1 : srv->doc_apis_aggregated_v2beta1,
                     CT_DISCOVERY_V2BETA1);
        return;
    case DISCOVERY_LEGACY:
        reply_static(rep, core ? srv->doc_api_legacy : srv->doc_apis_legacy, CT_JSON);
        return;
    }
}

static void method_not_allowed(struct http_reply *rep)
{
    reply_errorf(rep, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
}

static void dispatch_resource(struct apiserver *srv, struct http_request *req,
                              const struct route *rt, const struct kos_user_info *user,
                              const struct kos_user *authz_user, struct http_reply *rep)
{
    const struct kos_kind *kind = rt->kind;
    const char *m = req->method;
    if (!kind) {
        reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    struct resource_request rr = {
        .srv = srv,
        .http = req,
        .route = rt,
        .kind = kind,
        .ns = kind->namespaced && rt->has_namespace ? rt->namespace_ : NULL,
        .name = rt->has_name ? rt->name : NULL,
        .sub = rt->subresource,
        .user = user,
        .authz_user = authz_user,
    };
    /* A cluster-scoped kind addressed under a namespace does not exist there. */
    if (!kind->namespaced && rt->has_namespace) {
        reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    const char *dry = http_query(req, "dryRun");
    if (dry && strcmp(dry, "All") != 0) {
        reply_errorf(rep, 400, "BadRequest", "Invalid dryRun value: %s", dry);
        return;
    }
    rr.dry_run = dry != NULL;

    bool valid_watch = true;
    bool watch = query_bool(req, "watch", &valid_watch);
    if (!valid_watch) {
        reply_errorf(rep, 400, "BadRequest", "invalid watch parameter \"%s\"",
                     http_query(req, "watch"));
        return;
    }

    if (kind->ephemeral) {
        /* LocalSubjectAccessReview is posted under its namespace, the others never are. */
        if (strcmp(m, "POST") != 0 || rr.name || rr.sub[0] || rt->has_namespace != kind->namespaced)
            method_not_allowed(rep);
        else
            handle_review(&rr, rep);
        return;
    }

    if (rr.sub[0]) {
        bool status = strcmp(rr.sub, "status") == 0 && (kind->subresources & SUB_STATUS);
        bool scale = strcmp(rr.sub, "scale") == 0 && (kind->subresources & SUB_SCALE);
        bool binding = strcmp(rr.sub, "binding") == 0 && (kind->subresources & SUB_BINDING);
        bool token = strcmp(rr.sub, "token") == 0 && (kind->subresources & SUB_TOKEN);
        bool finalize = strcmp(rr.sub, "finalize") == 0 && (kind->subresources & SUB_FINALIZE);
        bool log = strcmp(rr.sub, "log") == 0 && (kind->subresources & SUB_LOG);
        bool connect =
            (strcmp(rr.sub, "exec") == 0 && (kind->subresources & SUB_EXEC)) ||
            (strcmp(rr.sub, "attach") == 0 && (kind->subresources & SUB_ATTACH)) ||
            (strcmp(rr.sub, "portforward") == 0 && (kind->subresources & SUB_PORTFORWARD));
        if (connect) {
            if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)
                method_not_allowed(rep);
            else
                handle_pod_connect(&rr, rep);
        } else if (token) {
            if (strcmp(m, "POST") != 0)
                method_not_allowed(rep);
            else
                handle_token_request(&rr, rep);
        } else if (log) {
            if (strcmp(m, "GET") != 0)
                method_not_allowed(rep);
            else
                handle_pod_log(&rr, rep);
        } else if (scale) {
            handle_scale(&rr, rep);
        } else if (binding) {
            if (strcmp(m, "POST") != 0) {
                method_not_allowed(rep);
                return;
            }
            handle_binding(&rr, rep);
        } else if (finalize) {
            if (strcmp(m, "PUT") == 0)
                handle_update(&rr, rep);
            else
                method_not_allowed(rep);
        } else if (status) {
            if (strcmp(m, "GET") == 0)
                handle_get(&rr, rep);
            else if (strcmp(m, "PUT") == 0)
                handle_update(&rr, rep);
            else if (strcmp(m, "PATCH") == 0)
                handle_patch(&rr, rep);
            else
                method_not_allowed(rep);
        } else {
            reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
        }
        return;
    }

    if (rr.name) {
        if (strcmp(m, "GET") == 0)
            handle_get(&rr, rep);
        else if (strcmp(m, "PUT") == 0)
            handle_update(&rr, rep);
        else if (strcmp(m, "PATCH") == 0)
            handle_patch(&rr, rep);
        else if (strcmp(m, "DELETE") == 0)
            handle_delete(&rr, rep);
        else
            method_not_allowed(rep);
        return;
    }
    if (strcmp(m, "GET") == 0) {
        if (watch)
            handle_watch(&rr, rep);
        else
            handle_list(&rr, rep);
    } else if (strcmp(m, "POST") == 0) {
        if (kind->namespaced && !rr.ns) {
            reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
            return;
        }
        handle_create(&rr, rep);
    } else if (strcmp(m, "DELETE") == 0) {
        if (!(kind->verbs & VERB_DELETECOLLECTION))
            method_not_allowed(rep);
        else
            handle_deletecollection(&rr, rep);
    } else {
        method_not_allowed(rep);
    }
}

int apiserver_authorize(const struct apiserver *srv, const struct authz_attributes *attrs,
                        char **reason)
{
    if (reason)
        *reason = NULL;
    if (srv->authorizer.authorize)
        return srv->authorizer.authorize(srv->authorizer.ctx, attrs, reason);
    return authz_user_in_group(attrs->user, AUTHZ_GROUP_MASTERS) ? AUTHZ_ALLOW : AUTHZ_NO_OPINION;
}

static int authorize_cb(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return apiserver_authorize(ctx, attrs, reason);
}

/* What kube's system:public-info-viewer shows everyone: health and version, sub-paths too. */
static bool public_path(const char *path)
{
    static const char *prefixes[] = {"/healthz", "/livez", "/readyz", "/version"};
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(path, prefixes[i], n) == 0 && (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return false;
}

struct header_list {
    struct kos_header h[KOS_IMPERSONATE_MAX_HEADERS + 1];
    size_t n;
};

static bool collect_header(void *ctx, const char *name, const char *value)
{
    struct header_list *l = ctx;
    if (l->n >= ARRAY_SIZE(l->h))
        return false;
    l->h[l->n++] = (struct kos_header){name, value};
    return true;
}

/* Authentication, then impersonation: 0 and *ret, or the reply (401, 400, 403) is set. */
static int request_user(struct apiserver *srv, struct http_request *req, struct kos_user_info *ret,
                        struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct kos_user_info user = {0};
    char why[256];
    int r = kos_authn_authenticate(srv->authn, req->peer, http_header(req, "Authorization"), &user,
                                   why, sizeof(why), &err);
    if (r < 0) {
        log_debug("authn", "%s %s: 401: %s", req->method, req->path, why);
        reply_error(rep, err);
        return r;
    }
    /* malloc, not calloc: zeroing the 4 KiB list on every request showed in profiles; only
     * the n entries collected are read */
    struct header_list *hl = malloc(sizeof(*hl));
    if (!hl) {
        kos_user_info_clear(&user);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return -ENOMEM;
    }
    hl->n = 0;
    http_headers_with_prefix(req, "Impersonate-", collect_header, hl);
    struct kos_user_info as = {0};
    const struct authz_authorizer az = {.authorize = authorize_cb, .ctx = srv};
    if (hl->n > KOS_IMPERSONATE_MAX_HEADERS)
        r = kos_error_set(&err, 400, "BadRequest", "more than %d impersonation headers",
                          KOS_IMPERSONATE_MAX_HEADERS);
    else
        r = kos_impersonate(&az, &user, hl->h, hl->n, &as, &err);
    free(hl);
    if (r < 0) {
        kos_user_info_clear(&user);
        reply_error(rep, err);
        return r;
    }
    if (r == 1) {
        log_debug("authn", "%s is impersonating %s", user.name, as.name);
        kos_user_info_clear(&user);
        user = as;
    }
    *ret = user;
    return 0;
}

/* The authorizers' borrowed view of the request's identity. */
static void user_view(const struct kos_user_info *u, struct kos_user *out)
{
    *out = (struct kos_user){.name = u->name,
                             .uid = u->uid,
                             .groups = (const char *const *)u->groups,
                             .ngroups = u->ngroups,
                             .extra = u->extra,
                             .nextra = u->nextra};
}

static void handle_authenticated(struct apiserver *srv, struct http_request *req,
                                 const struct route *rt, const struct kos_user_info *user,
                                 const struct kos_user *authz_user, struct http_reply *rep);

void apiserver_handle(void *ctx, struct http_request *req, struct http_reply *rep)
{
    struct apiserver *srv = ctx;
    struct route rt;
    route_parse(req->path, &rt);

    if (public_path(req->path)) {
        handle_authenticated(srv, req, &rt, NULL, NULL, rep);
        return;
    }
    struct kos_user_info user = {0};
    if (request_user(srv, req, &user, rep) < 0)
        return;
    /* Authorization: every authenticated request, as kube's WithAuthorization filter. */
    struct kos_user view;
    user_view(&user, &view);
    struct request_info ri;
    request_info_init(&ri, &view, req->method, req->path, &rt, http_query(req, "watch"),
                      http_query(req, "fieldSelector"));
    _cleanup_error_ struct kos_error *err = NULL;
    if (apiserver_authz_check(srv, &ri.attrs, &err) < 0)
        reply_error(rep, err);
    else
        handle_authenticated(srv, req, &rt, &user, &view, rep);
    kos_user_info_clear(&user);
}

static void handle_authenticated(struct apiserver *srv, struct http_request *req,
                                 const struct route *rt, const struct kos_user_info *user,
                                 const struct kos_user *authz_user, struct http_reply *rep)
{
    if (req->body_too_large) {
        reply_errorf(rep, 413, "RequestEntityTooLarge", "the request body is larger than %u bytes",
                     HTTP_MAX_BODY);
        return;
    }
    bool is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if (rt->type != ROUTE_RESOURCE && rt->type != ROUTE_NOT_FOUND && !is_get) {
        method_not_allowed(rep);
        return;
    }
    switch (rt->type) {
    case ROUTE_VERSION:
        handle_version(rep);
        return;
    case ROUTE_HEALTH:
        handle_health(srv, rt, rep);
        return;
    case ROUTE_API:
    case ROUTE_APIS:
        handle_discovery(srv, req, rt, rep);
        return;
    case ROUTE_API_GROUP:
        reply_doc(rep, discovery_group(rt->group));
        return;
    case ROUTE_API_RESOURCES:
        reply_doc(rep, discovery_resource_list(rt->group, rt->version));
        return;
    case ROUTE_OPENAPI_V3:
        reply_static(rep, srv->doc_openapi_v3_root, CT_JSON);
        return;
    case ROUTE_OPENAPI_V3_GV:
        reply_doc(rep, openapi_v3_group_version(rt->group, rt->version));
        return;
    case ROUTE_OPENAPI_V2:
        openapi_v2_handle(req, rep);
        return;
    case ROUTE_RESOURCE:
        if (!user) { /* only public paths come here without a user; they are not resources */
            reply_errorf(rep, 401, "Unauthorized", "Unauthorized");
            return;
        }
        dispatch_resource(srv, req, rt, user, authz_user, rep);
        apiserver_authz_sync_write(srv, rt, req->method);
        return;
    case ROUTE_NOT_FOUND:
        break;
    }
    reply_text(rep, 404, "404 page not found\n");
}

#include "apiserver/authorization.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/cache.h"
#include "apiserver/authz/messages.h"
#include "apiserver/authz/node.h"
#include "apiserver/authz/rbac.h"
#include "util/cleanup.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"
/* How long a write waits for the authorizers' cache to catch up with it. */
#define SYNC_WRITE_TIMEOUT_MS 5000

int apiserver_authz_start(struct apiserver *srv, const char *modes,
                          const struct authz_authorizer *webhook_authorizer, char *errbuf,
                          size_t errsize)
{
    struct authz_modes m;
    int r = authz_modes_parse(modes ? modes : APISERVER_DEFAULT_AUTHZ_MODES, &m, errbuf, errsize);
    if (r < 0)
        return r;
    bool webhook = authz_modes_has(&m, AUTHZ_MODE_WEBHOOK);
    if (webhook && !webhook_authorizer) {
        snprintf(errbuf, errsize,
                 "authorization-mode Webhook's authorization config file not passed");
        return -EINVAL;
    }
    if (!webhook && webhook_authorizer) {
        snprintf(errbuf, errsize,
                 "cannot specify --authorization-webhook-config-file without mode Webhook");
        return -EINVAL;
    }
    apiserver_authz_stop(srv);
    r = rbac_new(&srv->rbac);
    if (r == 0 && authz_modes_has(&m, AUTHZ_MODE_NODE))
        r = authz_node_new(true, &srv->node_authz);
    for (size_t i = 0; r == 0 && i < m.n; i++) {
        switch (m.v[i]) {
        case AUTHZ_MODE_ALWAYS_ALLOW:
        case AUTHZ_MODE_ALWAYS_DENY:
            r = authz_chain_add(&srv->authz, m.v[i], authz_always(m.v[i]));
            break;
        case AUTHZ_MODE_NODE:
            r = authz_chain_add(&srv->authz, m.v[i], authz_node_as_authorizer(srv->node_authz));
            break;
        case AUTHZ_MODE_RBAC:
            r = authz_chain_add(&srv->authz, m.v[i], rbac_as_authorizer(srv->rbac));
            break;
        case AUTHZ_MODE_WEBHOOK: /* the SubjectAccessReview client (authz/webhook.c) */
            r = authz_chain_add(&srv->authz, m.v[i], *webhook_authorizer);
            break;
        }
    }
    if (r == 0)
        r = authz_cache_start(srv->store, srv->rbac, srv->node_authz, &srv->authz_cache);
    if (r == 0) /* impersonation asks the same chain */
        srv->authorizer = authz_chain_as_authorizer(&srv->authz);
    if (r < 0) {
        snprintf(errbuf, errsize, "starting the authorizers failed: %s", strerror(-r));
        apiserver_authz_stop(srv);
    }
    return r;
}

void apiserver_authz_stop(struct apiserver *srv)
{
    authz_cache_stop(srv->authz_cache);
    srv->authz_cache = NULL;
    authz_node_free(srv->node_authz);
    srv->node_authz = NULL;
    rbac_free(srv->rbac);
    srv->rbac = NULL;
    memset(&srv->authorizer, 0, sizeof(srv->authorizer));
    memset(&srv->authz, 0, sizeof(srv->authz));
}

int apiserver_authz_check(struct apiserver *srv, const struct authz_attributes *attrs,
                          struct kos_error **err)
{
    _cleanup_free_ char *reason = NULL;
    if (authz_chain_authorize(&srv->authz, attrs, NULL) == AUTHZ_ALLOW)
        return 0;
    /* Refused: ask again for the reasons the 403 carries, so only refusals pay for building
     * texts. Should the policy have changed in between and now allow, the refusal stands,
     * without reasons. */
    if (authz_chain_authorize(&srv->authz, attrs, &reason) == AUTHZ_ALLOW) {
        free(reason);
        reason = NULL;
    }
    int r = authz_forbidden_error(attrs, reason, err);
    return r < 0 ? r : -EACCES;
}

void apiserver_authz_sync_write(struct apiserver *srv, const struct route *rt, const char *method)
{
    /* RBAC writes only: the Node authorizer's graph is eventually consistent in kube too (an
     * informer feeds it; kubelets retry), and pod writes must not queue behind the cache. */
    if (!srv->authz_cache || rt->type != ROUTE_RESOURCE || strcmp(method, "GET") == 0 ||
        strcmp(method, "HEAD") == 0 || strcmp(rt->group, RBAC_GROUP) != 0)
        return;
    /* Bounded: if the cache lags further, the next request is decided a little late rather
     * than this one hanging. */
    (void)authz_cache_wait(srv->authz_cache, store_current_rev(srv->store), SYNC_WRITE_TIMEOUT_MS);
}

int apiserver_authz_check_rbac_write(struct apiserver *srv, const struct kos_user *user,
                                     const char *resource, const char *group, const char *ns,
                                     const json_t *obj, const json_t *old, struct kos_error **err)
{
    if (!srv->rbac || strcmp(group, RBAC_GROUP) != 0)
        return 0;
    struct authz_authorizer chain = authz_chain_as_authorizer(&srv->authz);
    if (strcmp(resource, "roles") == 0 || strcmp(resource, "clusterroles") == 0)
        return rbac_check_role_write(srv->rbac, &chain, user, resource, ns, obj, old, err);
    if (strcmp(resource, "rolebindings") == 0 || strcmp(resource, "clusterrolebindings") == 0)
        return rbac_check_binding_write(srv->rbac, &chain, user, resource, ns, obj, old, err);
    return 0;
}

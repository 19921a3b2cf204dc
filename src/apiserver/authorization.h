/* Authorization in the request path: the --authorization-mode chain (Node, RBAC, Webhook,
 * AlwaysAllow, AlwaysDeny; system:masters always allowed), the watch-fed caches behind RBAC and
 * the Node authorizer, kube's bootstrap policy, and the escalation checks on RBAC writes. */
#pragma once

#include <jansson.h>

#include "apiserver/apiserver.h"
#include "apiserver/authz/authz.h"
#include "apiserver/request_info.h"
#include "util/error.h"

#define APISERVER_DEFAULT_AUTHZ_MODES "Node,RBAC"

/* Parses the modes, builds the authorizers and fills their caches from the store (so the
 * first request is already decided with everything stored). webhook_authorizer is the
 * SubjectAccessReview client built from --authorization-webhook-config-file (NULL when not
 * given); the caller keeps it alive until apiserver_authz_stop. On a bad configuration returns
 * -EINVAL with kube-apiserver's message in errbuf. */
int apiserver_authz_start(struct apiserver *srv, const char *modes,
                          const struct authz_authorizer *webhook_authorizer, char *errbuf,
                          size_t errsize);
/* Stops the cache thread and frees the authorizers. Idempotent; before closing the store. */
void apiserver_authz_stop(struct apiserver *srv);

/* 0 when the chain allows the request; otherwise -EACCES with kube's 403 in *err. */
int apiserver_authz_check(struct apiserver *srv, const struct authz_attributes *attrs,
                          struct kos_error **err);
/* After a write to rbac.authorization.k8s.io: waits (bounded) until the cache holds the
 * store's current revision, so the client's next request is decided with its own write. */
void apiserver_authz_sync_write(struct apiserver *srv, const struct route *rt, const char *method);

/* Escalation prevention for a create (old NULL) or update of a Role, ClusterRole, RoleBinding
 * or ClusterRoleBinding; 0 for every other kind. -EACCES/-ENOENT/... with kube's Status. */
int apiserver_authz_check_rbac_write(struct apiserver *srv, const struct kos_user *user,
                                     const char *resource, const char *group, const char *ns,
                                     const json_t *obj, const json_t *old, struct kos_error **err);

/* Creates the bootstrap ClusterRoles and ClusterRoleBindings that are missing and reconciles
 * the autoupdate ones (rbac_bootstrap.c). */
int apiserver_bootstrap_rbac(struct apiserver *srv);

/* The RBAC authorizer: an in-memory copy of the Roles, ClusterRoles, RoleBindings and
 * ClusterRoleBindings (rbac.authorization.k8s.io/v1 JSON), evaluated with kube's semantics
 * (plugin/pkg/auth/authorizer/rbac, pkg/registry/rbac/validation).
 *
 * A watch-fed cache drives it with rbac_apply()/rbac_delete(); ClusterRoles with an
 * aggregationRule get the union of the rules of the ClusterRoles their selectors match,
 * recomputed on every ClusterRole change (what kube's aggregation controller writes back).
 * All functions are thread-safe: many rbac_authorize() calls run in parallel under a read
 * lock; changes take the write lock. Bindings are indexed by namespace and subject, so a
 * request costs in proportion to the bindings that name its user or groups. */
#pragma once

#include <jansson.h>

#include "apiserver/authz/authz.h"
#include "util/error.h"

struct rbac_authorizer;

enum rbac_kind {
    RBAC_KIND_ROLE,
    RBAC_KIND_CLUSTER_ROLE,
    RBAC_KIND_ROLE_BINDING,
    RBAC_KIND_CLUSTER_ROLE_BINDING,
};

/* "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding" -> enum value; else -EINVAL. */
int rbac_kind_from_string(const char *kind);

int rbac_new(struct rbac_authorizer **ret);
void rbac_free(struct rbac_authorizer *r);

/* Adds or replaces (by namespace/name) one object of `kind`; kind < 0 takes the object's own
 * "kind" field. The object is copied, the caller keeps it. A malformed object (-EINVAL) or an
 * allocation failure (-ENOMEM) leaves the object absent, never its previous version: a revoked
 * permission must not survive a bad update. */
int rbac_apply(struct rbac_authorizer *r, int kind, const json_t *obj);
/* Applies every element of a JSON array (each by its "kind") with one aggregation pass.
 * Returns the number applied, or the first error after trying them all. */
int rbac_apply_all(struct rbac_authorizer *r, const json_t *objs);
/* Removes an object; namespace_ is ignored for cluster-scoped kinds. -ENOENT when absent. */
int rbac_delete(struct rbac_authorizer *r, enum rbac_kind kind, const char *namespace_,
                const char *name);

/* Returns AUTHZ_ALLOW or AUTHZ_NO_OPINION (never DENY: RBAC is purely additive), or a negative
 * errno. *reason (reason may be NULL) receives a malloc'd text or NULL: on ALLOW
 *   RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"
 * and on NO_OPINION kube's resolution errors, e.g.
 *   RBAC: clusterrole.rbac.authorization.k8s.io "y" not found */
int rbac_authorize(struct rbac_authorizer *r, const struct authz_attributes *attrs, char **reason);

/* The same authorizer behind the generic interface (for the escalation checks or a chain). */
struct authz_authorizer rbac_as_authorizer(struct rbac_authorizer *r);

/* The effective rules of a ClusterRole as a new JSON array: its own rules, or for an aggregated
 * one the aggregation result, in the order kube's controller writes them. -ENOENT if absent. */
int rbac_cluster_role_rules(struct rbac_authorizer *r, const char *name, json_t **ret);

/* Escalation prevention for writes to rbac.authorization.k8s.io (pkg/registry/rbac/.../
 * policybased). Call from create/update of the given resource ("roles", "clusterroles",
 * "rolebindings", "clusterrolebindings") with the request's namespace ("" or NULL for cluster
 * scope), the new object and the stored one (NULL on create). `authz` is the chain that answers
 * the escalate/bind checks; NULL asks this RBAC authorizer alone.
 * Returns 0 when the write may proceed; otherwise a negative errno with *err set to the Status
 * kube answers (403 Forbidden "... is attempting to grant RBAC permissions not currently
 * held:...", 404 when a binding names a missing role, 400 without a namespace). */
int rbac_check_role_write(struct rbac_authorizer *r, const struct authz_authorizer *authz,
                          const struct kos_user *user, const char *resource, const char *namespace_,
                          const json_t *obj, const json_t *old, struct kos_error **err);
int rbac_check_binding_write(struct rbac_authorizer *r, const struct authz_authorizer *authz,
                             const struct kos_user *user, const char *resource,
                             const char *namespace_, const json_t *obj, const json_t *old,
                             struct kos_error **err);

/* RulesFor (SelfSubjectRulesReview): the rules that apply to user in namespace ns (cluster-wide
 * bindings plus the namespace's), as two new JSON arrays of authorization.k8s.io/v1
 * ResourceRule and NonResourceRule objects. *eval_error receives kube's resolution errors
 * (malloc'd) or NULL. Returns 0 or a negative errno. */
int rbac_rules_for(struct rbac_authorizer *r, const struct kos_user *user, const char *ns,
                   json_t **resource_rules, json_t **non_resource_rules, char **eval_error);

/* The authorizers' view of the store: Roles, ClusterRoles, RoleBindings and
 * ClusterRoleBindings feed the RBAC authorizer; pods, PersistentVolumes and VolumeAttachments
 * feed the Node authorizer's graph. The RBAC objects are listed before authz_cache_start
 * returns; a thread then lists the Node authorizer's objects (while that authorizer holds back
 * the decisions that need them, see authz_node_set_synced) and follows the store's watch window
 * in revision order (re-listing if it ever falls out of the window).
 *
 * Consistency: the request path calls authz_cache_wait() after an RBAC write it served, with the
 * store's revision, so a binding created by one request is in effect for the next request of
 * the same client (kube gets the same from its watch cache "consistent reads"). */
#pragma once

#include <stdint.h>

#include "apiserver/authz/node.h"
#include "apiserver/authz/rbac.h"
#include "store/store.h"

struct authz_cache;

/* Lists the RBAC objects (returns once RBAC holds them) and starts the thread that fills the
 * Node authorizer's graph and follows the watch.
 * rbac and node may each be NULL (that authorizer is not in use). */
int authz_cache_start(struct store *store, struct rbac_authorizer *rbac,
                      struct authz_node_authorizer *node, struct authz_cache **ret);
/* Waits until every write up to rev is applied: 0, -ETIMEDOUT, or -ECANCELED once stopping. */
int authz_cache_wait(struct authz_cache *c, int64_t rev, int timeout_ms);
/* The revision applied so far. */
int64_t authz_cache_rev(struct authz_cache *c);
/* Stops the thread and frees. Accepts NULL. Call before closing the store. */
void authz_cache_stop(struct authz_cache *c);

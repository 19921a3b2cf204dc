/* The authorizers' view of the store: Roles, ClusterRoles, RoleBindings and
 * ClusterRoleBindings feed the RBAC authorizer; pods, PersistentVolumes and VolumeAttachments
 * feed the Node authorizer's graph. One thread lists them at start and then follows the
 * store's watch window in revision order (re-listing if it ever falls out of the window).
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

/* Lists what exists (returns once the authorizers hold it) and starts following the watch.
 * rbac and node may each be NULL (that authorizer is not in use). */
int authz_cache_start(struct store *store, struct rbac_authorizer *rbac,
                      struct authz_node_authorizer *node, struct authz_cache **ret);
/* Waits until every write up to rev is applied: 0, -ETIMEDOUT, or -ECANCELED once stopping. */
int authz_cache_wait(struct authz_cache *c, int64_t rev, int timeout_ms);
/* The revision applied so far. */
int64_t authz_cache_rev(struct authz_cache *c);
/* Stops the thread and frees. Accepts NULL. Call before closing the store. */
void authz_cache_stop(struct authz_cache *c);

/* The Node authorizer (plugin/pkg/auth/authorizer/node): kubelets, identified as user
 * "system:node:<name>" in group "system:nodes", may read the secrets, configmaps, PVCs, PVs and
 * service account tokens of the pods bound to their node, manage their own lease and CSINode,
 * and do what bootstrappolicy.NodeRules allows every node; for anyone else it has no opinion.
 *
 * The relationships come from a graph fed by pod, PersistentVolume and VolumeAttachment
 * add/update/delete (a watch-fed cache calls the _set and _delete functions). Thread-safe:
 * authorize runs under a read lock, graph updates under the write lock. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/authz/authz.h"

struct authz_node_authorizer;

/* with_selectors: kube's AuthorizeNodeWithSelectors (beta, on by default since 1.32): nodes and
 * pods are then subdivided too — a node reads only its own Node, lists/watches pods only with
 * fieldSelector spec.nodeName=<itself> and gets only pods bound to it. Off, both fall under
 * NodeRules (kube <= 1.31). */
int authz_node_new(bool with_selectors, struct authz_node_authorizer **ret);
void authz_node_free(struct authz_node_authorizer *n);

/* Pod add or update (a pod without spec.nodeName, or one that moved, drops its old edges). */
int authz_node_pod_set(struct authz_node_authorizer *n, const json_t *pod);
int authz_node_pod_delete(struct authz_node_authorizer *n, const char *namespace_,
                          const char *name);
/* PersistentVolume add or update: its claimRef and the secrets its source names. */
int authz_node_pv_set(struct authz_node_authorizer *n, const json_t *pv);
int authz_node_pv_delete(struct authz_node_authorizer *n, const char *name);
/* VolumeAttachment add or update: spec.nodeName. */
int authz_node_va_set(struct authz_node_authorizer *n, const json_t *va);
int authz_node_va_delete(struct authz_node_authorizer *n, const char *name);

/* Whether the graph holds every pod, PV and VolumeAttachment that was stored when it started
 * being filled. A new authorizer counts as synced (its graph is whatever _set put in); the
 * watch-fed cache clears the flag before /readyz and fills the graph in the background, so
 * that start-up does not wait for parsing every pod. A decision that reads the graph waits
 * for it (up to timeout_ms), so no request is ever decided on a partial graph. */
void authz_node_set_synced(struct authz_node_authorizer *n, bool synced);
/* 0 once synced, -ETIMEDOUT after timeout_ms. */
int authz_node_wait_synced(struct authz_node_authorizer *n, int timeout_ms);

/* NodeIdentity: true for a node user; *node_name points into user->name ("" when the name has
 * no node part). */
bool authz_node_identity(const struct kos_user *user, const char **node_name);

/* Returns AUTHZ_ALLOW or AUTHZ_NO_OPINION (or a negative errno); *reason (reason may be NULL)
 * receives kube's explanation of a refusal, e.g. "no relationship found between node 'n1' and
 * this object", or NULL. */
int authz_node_authorize(struct authz_node_authorizer *n, const struct authz_attributes *attrs,
                         char **reason);
struct authz_authorizer authz_node_as_authorizer(struct authz_node_authorizer *n);

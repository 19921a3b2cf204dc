/* kube-apiserver's start-up reconciliation of the bootstrap policy
 * (pkg/registry/rbac/reconciliation, in its "union" mode: nothing is ever removed). An existing
 * ClusterRole annotated rbac.authorization.kubernetes.io/autoupdate=true gets the expected
 * labels, annotations, missing rules (as BreakdownRule atoms, as kube appends them) and missing
 * aggregation selectors; a ClusterRoleBinding gets its missing subjects (and the expected
 * roleRef, which kube applies by recreating the binding). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

/* Whether the stored object may be reconciled (the annotation is "true"). */
bool authz_reconcile_wanted(const json_t *existing);
/* 1 and a new reconciled copy in *ret when existing must change, 0 when it already holds
 * everything expected, or a negative errno (-EINVAL for a malformed existing object). */
int authz_reconcile_cluster_role(const json_t *existing, const json_t *expected, json_t **ret);
int authz_reconcile_cluster_role_binding(const json_t *existing, const json_t *expected,
                                         json_t **ret);

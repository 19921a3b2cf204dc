/* The ClusterRoles and ClusterRoleBindings Kubernetes bootstraps
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy), as the JSON objects the server stores at
 * first start. */
#pragma once

#include <jansson.h>

/* A new JSON array of rbac.authorization.k8s.io/v1 ClusterRole and ClusterRoleBinding objects,
 * each labeled kubernetes.io/bootstrapping=rbac-defaults and annotated
 * rbac.authorization.kubernetes.io/autoupdate=true. The aggregated roles (admin, edit, view)
 * carry their aggregationRule and the rules kube's aggregation controller would write.
 * NULL on allocation failure. */
json_t *authz_bootstrap_objects(void);

/* The rules of system:node (bootstrappolicy.NodeRules), which the Node authorizer grants every
 * node for the resources it does not subdivide. New JSON array, NULL on allocation failure. */
json_t *authz_bootstrap_node_rules(void);

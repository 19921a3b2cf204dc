/* Keystone token -> Kubernetes user, exactly as k8s-keystone-auth's Authenticator maps it:
 * name = Keystone user name, uid = user id, groups = the user's Keystone group names then the
 * project id, extra = project id/name, roles, user domain id/name. */
#pragma once

#include <stddef.h>

#include "auth/user.h"
#include "openstack/keystone/token.h"
#include "util/error.h"

#define KEYSTONE_EXTRA_ROLES        "alpha.kubernetes.io/identity/roles"
#define KEYSTONE_EXTRA_PROJECT_ID   "alpha.kubernetes.io/identity/project/id"
#define KEYSTONE_EXTRA_PROJECT_NAME "alpha.kubernetes.io/identity/project/name"
#define KEYSTONE_EXTRA_DOMAIN_ID    "alpha.kubernetes.io/identity/user/domain/id"
#define KEYSTONE_EXTRA_DOMAIN_NAME  "alpha.kubernetes.io/identity/user/domain/name"

/* -EACCES with err 401 when the token carries no project (k8s-keystone-auth refuses unscoped
 * tokens: "failed to extract project information"). */
int keystone_map_user(const struct keystone_token *t, char *const *groups, size_t ngroups,
                      struct kos_user_info *ret, struct kos_error **err);

/* The values of one extra key, or NULL (and *n = 0). */
const struct kos_user_extra *keystone_user_extra(const struct kos_user_info *u, const char *key);

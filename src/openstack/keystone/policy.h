/* k8s-keystone-auth's authorization policy: a JSON array of entries in either format.
 *   v1: {"resource":{"verbs":[..],"resources":[..],"version":"<API group|*>","namespace":"<ns|*>"}
 *        | "nonresource":{"verbs":[..],"path":"/p|/p*|*"},
 * "match":[{"type":"user|group|project|role", "values":[..]}]}         all clauses must hold, any
 * value within one v2: {"users":{"roles":[..],"projects":[..]},
 * "resource_permissions":{"<ns>/<res>":[verbs]}, "nonresource_permissions":{"<path>":[verbs]}}
 * ns/res: name, *, !name, ['a','b'], !['a','b'] The first entry that allows wins; nothing matching
 * is a denial ("No policy matched."). Loading validates every type, so a malformed file is a
 * start-up error, never a silent allow. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "apiserver/authz/authz.h"
#include "auth/user.h"
#include "util/error.h"

#define KEYSTONE_POLICY_MAX_BYTES   (1u * 1024 * 1024)
#define KEYSTONE_POLICY_MAX_ENTRIES 10000

struct keystone_policy;

int keystone_policy_parse(const char *data, size_t len, struct keystone_policy **ret,
                          struct kos_error **err);
int keystone_policy_load(const char *path, struct keystone_policy **ret, struct kos_error **err);
void keystone_policy_free(struct keystone_policy *p);
size_t keystone_policy_count(const struct keystone_policy *p);

/* true when an entry allows. attrs->user is ignored: the subject (with its Keystone extra:
 * roles, project) is user. A user without extra is denied, as k8s-keystone-auth does. */
bool keystone_policy_allows(const struct keystone_policy *p, const struct kos_user_info *user,
                            const struct authz_attributes *attrs);

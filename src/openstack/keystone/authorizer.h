/* The Keystone policy as an in-process authorizer (`kos server --keystone-policy-file`): the
 * same matcher `kos keystone-auth` answers SubjectAccessReview with. A match allows; anything
 * else is no opinion, as kube-apiserver's webhook authorizer reads k8s-keystone-auth's
 * {"allowed": false} (not "denied"), so RBAC after it in the chain may still allow. */
#pragma once

#include "apiserver/authz/authz.h"
#include "openstack/keystone/policy.h"

/* ret->ctx borrows policy, which must outlive it. */
void keystone_authorizer(const struct keystone_policy *policy, struct authz_authorizer *ret);

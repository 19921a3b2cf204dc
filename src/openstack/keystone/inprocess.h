/* `kos server --keystone-url URL --keystone-policy-file FILE`: the code `kos keystone-auth`
 * runs, built for the API server's own chains, so no second process is needed. */
#pragma once

#include "apiserver/authz/authz.h"
#include "auth/user.h"
#include "openstack/keystone/policy.h"

struct keystone_inprocess_options {
    const char *url;         /* --keystone-url */
    const char *policy_file; /* --keystone-policy-file (NULL: no authorizer) */
    const char *ca_file;     /* --keystone-ca-file */
};

struct keystone_inprocess {
    struct kos_token_authenticator authenticator; /* owns the Keystone client and cache */
    bool has_authorizer;
    struct authz_authorizer authorizer; /* borrows policy */
    struct keystone_policy *policy;
};

/* Start-up errors (bad URL, unreadable or malformed policy) come back in err (400). */
int keystone_inprocess_new(const struct keystone_inprocess_options *o,
                           struct keystone_inprocess *ret, struct kos_error **err);
/* Frees the policy; the authenticator is freed by whoever took it (its free()). */
void keystone_inprocess_free_policy(struct keystone_inprocess *k);

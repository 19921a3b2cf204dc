/* The Keystone token authenticator shared by `kos keystone-auth` (webhook) and `kos server
 * --keystone-url` (in-process): cache -> GET /v3/auth/tokens with the user's own token ->
 * GET /v3/users/{id}/groups -> k8s-keystone-auth's mapping -> role mappings (sync config). */
#pragma once

#include <stdint.h>

#include "auth/user.h"
#include "openstack/keystone/cache.h"
#include "openstack/keystone/client.h"
#include "openstack/keystone/sync.h"

struct keystone_authenticator_options {
    struct keystone_client_options keystone;
    int64_t cache_ttl_ms;    /* 0: no cache; <0: default 2 minutes */
    size_t cache_size;       /* 0: default */
    const char *sync_config; /* optional: syncConfig file (role mappings, data sync) */
};

struct keystone_authenticator;

int keystone_authenticator_new(const struct keystone_authenticator_options *o,
                               struct keystone_authenticator **ret, struct kos_error **err);
void keystone_authenticator_free(struct keystone_authenticator *a);

/* 1 with *user filled (caller clears); -EACCES with err 401 when Keystone refuses the token;
 * another negative errno with err (503/504/500) when Keystone could not answer properly.
 * *cached (may be NULL) tells whether the answer came from the cache. */
int keystone_authenticate(struct keystone_authenticator *a, const char *token,
                          struct kos_user_info *user, bool *cached, struct kos_error **err);

const struct keystone_sync_config *
keystone_authenticator_sync(const struct keystone_authenticator *a);
struct keystone_cache *keystone_authenticator_cache(struct keystone_authenticator *a);

/* For the API server's chain (auth/user.h): a token Keystone refuses is "not recognized" (0)
 * so that the next authenticator may try it; Keystone down or slow fails closed (<0). The
 * returned struct owns a (free frees it). */
int keystone_token_authenticator(struct keystone_authenticator *a,
                                 struct kos_token_authenticator *ret);

#include "openstack/keystone/authenticator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/keystone/map.h"

struct keystone_authenticator {
    struct keystone_client *client;
    struct keystone_cache *cache;
    struct keystone_sync_config *sync;
};

void keystone_authenticator_free(struct keystone_authenticator *a)
{
    if (!a)
        return;
    keystone_client_free(a->client);
    keystone_cache_free(a->cache);
    keystone_sync_config_free(a->sync);
    free(a);
}

int keystone_authenticator_new(const struct keystone_authenticator_options *o,
                               struct keystone_authenticator **ret, struct kos_error **err)
{
    struct keystone_authenticator *a = calloc(1, sizeof(*a));
    if (!a)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    int r = keystone_client_new(&o->keystone, &a->client, err);
    if (r == 0 && o->sync_config)
        r = keystone_sync_config_load(o->sync_config, &a->sync, err);
    if (r == 0) {
        int64_t ttl = o->cache_ttl_ms < 0 ? KEYSTONE_CACHE_DEFAULT_TTL_MS : o->cache_ttl_ms;
        size_t size = ttl == 0 ? 0 : o->cache_size ? o->cache_size : KEYSTONE_CACHE_DEFAULT_SIZE;
        r = keystone_cache_new(size, ttl, &a->cache);
        if (r < 0)
            kos_error_set(err, 400, "BadRequest", "invalid token cache size or TTL");
    }
    if (r < 0) {
        keystone_authenticator_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

const struct keystone_sync_config *
keystone_authenticator_sync(const struct keystone_authenticator *a)
{
    return a->sync;
}

struct keystone_cache *keystone_authenticator_cache(struct keystone_authenticator *a)
{
    return a->cache;
}

int keystone_authenticate(struct keystone_authenticator *a, const char *token,
                          struct kos_user_info *user, bool *cached, struct kos_error **err)
{
    if (cached)
        *cached = false;
    int64_t now = keystone_cache_now_ms();
    int r = keystone_cache_get(a->cache, token, now, user);
    if (r == 1) {
        if (cached)
            *cached = true;
        return 1;
    }
    struct keystone_token t = {0};
    r = keystone_client_validate(a->client, token, &t, err);
    if (r < 0)
        return r;
    if ((int64_t)t.expires_at * 1000 <= now) {
        keystone_token_clear(&t);
        kos_error_set(err, 401, "Unauthorized", "the Keystone token has expired");
        return -EACCES;
    }
    char **groups = NULL;
    size_t ngroups = 0;
    r = keystone_client_user_groups(a->client, token, t.user_id, &groups, &ngroups, err);
    struct kos_user_info u = {0};
    if (r == 0)
        r = keystone_map_user(&t, groups, ngroups, &u, err);
    keystone_strv_free(groups, ngroups);
    if (r == 0) {
        r = keystone_sync_apply_role_maps(a->sync, &u);
        if (r < 0)
            kos_error_set(err, 500, "InternalError", "applying the role mappings failed: %s",
                          strerror(-r));
    }
    if (r == 0)
        (void)keystone_cache_put(a->cache, token, &u, t.expires_at, now); /* best effort */
    keystone_token_clear(&t);
    if (r < 0) {
        kos_user_info_clear(&u);
        return r;
    }
    *user = u;
    return 1;
}

static int chain_authenticate(void *ctx, const char *token, struct kos_user_info *user,
                              struct kos_error **err)
{
    struct kos_error *e = NULL;
    int r = keystone_authenticate(ctx, token, user, NULL, &e);
    if (r == -EACCES) {
        kos_error_free(e);
        return 0;
    }
    if (r < 0) {
        if (err && !*err)
            *err = e;
        else
            kos_error_free(e);
        return r;
    }
    return 1;
}

static void chain_free(void *ctx)
{
    keystone_authenticator_free(ctx);
}

int keystone_token_authenticator(struct keystone_authenticator *a,
                                 struct kos_token_authenticator *ret)
{
    *ret = (struct kos_token_authenticator){
        .name = "keystone", .authenticate = chain_authenticate, .free = chain_free, .ctx = a};
    return 0;
}

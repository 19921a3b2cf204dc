#include "openstack/keystone/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int add_extra(struct kos_user_info *u, const char *key, const char *value)
{
    return kos_user_info_add_extra(u, key, value ? value : "");
}

int keystone_map_user(const struct keystone_token *t, char *const *groups, size_t ngroups,
                      struct kos_user_info *ret, struct kos_error **err)
{
    if (!t->project_id) {
        kos_error_set(err, 401, "Unauthorized",
                      "failed to authenticate: failed to extract project information from "
                      "Keystone response (the token is not scoped to a project)");
        return -EACCES;
    }
    struct kos_user_info u = {0};
    int r = 0;
    if (!(u.name = strdup(t->user_name)) || !(u.uid = strdup(t->user_id)))
        r = -ENOMEM;
    for (size_t i = 0; r == 0 && i < ngroups; i++)
        r = kos_user_info_add_group(&u, groups[i]);
    if (r == 0)
        r = kos_user_info_add_group(&u, t->project_id);
    for (size_t i = 0; r == 0 && i < t->nroles; i++)
        r = add_extra(&u, KEYSTONE_EXTRA_ROLES, t->roles[i]);
    if (r == 0)
        r = add_extra(&u, KEYSTONE_EXTRA_PROJECT_ID, t->project_id);
    if (r == 0)
        r = add_extra(&u, KEYSTONE_EXTRA_PROJECT_NAME, t->project_name);
    if (r == 0)
        r = add_extra(&u, KEYSTONE_EXTRA_DOMAIN_ID, t->user_domain_id);
    if (r == 0)
        r = add_extra(&u, KEYSTONE_EXTRA_DOMAIN_NAME, t->user_domain_name);
    if (r < 0) {
        kos_user_info_clear(&u);
        return kos_error_set(err, 500, "InternalError", "mapping the Keystone user failed: %s",
                             strerror(-r));
    }
    *ret = u;
    return 0;
}

const struct kos_user_extra *keystone_user_extra(const struct kos_user_info *u, const char *key)
{
    for (size_t i = 0; i < u->nextra; i++)
        if (strcmp(u->extra[i].key, key) == 0)
            return &u->extra[i];
    return NULL;
}

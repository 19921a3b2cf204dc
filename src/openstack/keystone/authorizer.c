#include "openstack/keystone/authorizer.h"

#include <stdlib.h>
#include <string.h>

static int authorize(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    if (reason)
        *reason = NULL;
    const struct kos_user *ku = attrs->user;
    if (!ku)
        return AUTHZ_NO_OPINION;
    /* A read-only view: the matcher never writes through these pointers. */
    const struct kos_user_info view = {
        .name = (char *)ku->name,
        .uid = (char *)ku->uid,
        .groups = (char **)ku->groups,
        .ngroups = ku->ngroups,
        .extra = (struct kos_user_extra *)ku->extra,
        .nextra = ku->extra ? ku->nextra : 0,
    };
    if (keystone_policy_allows(ctx, &view, attrs))
        return AUTHZ_ALLOW;
    if (reason)
        *reason = strdup("No policy matched.");
    return AUTHZ_NO_OPINION;
}

void keystone_authorizer(const struct keystone_policy *policy, struct authz_authorizer *ret)
{
    *ret = (struct authz_authorizer){.authorize = authorize, .ctx = (void *)policy};
}

#include "openstack/keystone/inprocess.h"

#include <string.h>

#include "openstack/keystone/authenticator.h"
#include "openstack/keystone/authorizer.h"

int keystone_inprocess_new(const struct keystone_inprocess_options *o,
                           struct keystone_inprocess *ret, struct kos_error **err)
{
    struct keystone_inprocess k = {0};
    if (o->policy_file) {
        int r = keystone_policy_load(o->policy_file, &k.policy, err);
        if (r < 0)
            return r;
        keystone_authorizer(k.policy, &k.authorizer);
        k.has_authorizer = true;
    }
    struct keystone_authenticator_options ao = {
        .keystone = {.url = o->url, .ca_file = o->ca_file},
        .cache_ttl_ms = -1, /* kube-apiserver's webhook cache default: 2 minutes */
    };
    struct keystone_authenticator *a = NULL;
    int r = keystone_authenticator_new(&ao, &a, err);
    if (r < 0) {
        keystone_policy_free(k.policy);
        return r;
    }
    keystone_token_authenticator(a, &k.authenticator);
    *ret = k;
    return 0;
}

void keystone_inprocess_free_policy(struct keystone_inprocess *k)
{
    keystone_policy_free(k->policy);
    k->policy = NULL;
    k->has_authorizer = false;
}

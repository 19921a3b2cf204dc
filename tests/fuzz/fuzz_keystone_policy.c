/* libFuzzer target: k8s-keystone-auth policy files. Parsing must never crash, and a policy must
 * never allow a subject that carries no Keystone identity (no extra). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openstack/keystone/map.h"
#include "openstack/keystone/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keystone_policy *p = NULL;
    struct kos_error *err = NULL;
    if (keystone_policy_parse((const char *)data, size, &p, &err) < 0) {
        if (!err)
            abort();
        kos_error_free(err);
        return 0;
    }
    struct kos_user_info u = {0}, anon = {0};
    u.name = strdup("alice");
    u.uid = strdup("u1");
    kos_user_info_add_group(&u, "devs");
    kos_user_info_add_extra(&u, KEYSTONE_EXTRA_ROLES, "member");
    kos_user_info_add_extra(&u, KEYSTONE_EXTRA_PROJECT_ID, "p1");
    kos_user_info_add_extra(&u, KEYSTONE_EXTRA_PROJECT_NAME, "demo");
    anon.name = strdup("alice");
    static const struct authz_attributes attrs[] = {
        {.verb = "get", .resource_request = true, .namespace_ = "default", .resource = "pods"},
        {.verb = "list", .resource_request = true, .namespace_ = "", .resource = "nodes"},
        {.verb = "create",
         .resource_request = true,
         .namespace_ = "kube-system",
         .api_group = "apps",
         .resource = "deployments",
         .subresource = "scale"},
        {.verb = "get", .path = "/healthz"},
        {.verb = "get", .path = "/metrics/x"},
    };
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        (void)keystone_policy_allows(p, &u, &attrs[i]);
        if (keystone_policy_allows(p, &anon, &attrs[i]))
            abort();
    }
    kos_user_info_clear(&u);
    kos_user_info_clear(&anon);
    keystone_policy_free(p);
    return 0;
}

/* The k8s-keystone-auth webhook protocol, transport-free: one POSTed body in, the HTTP status
 * and body out. TokenReview (authentication.k8s.io v1 and v1beta1) and SubjectAccessReview
 * (authorization.k8s.io v1 and v1beta1); the answer is the request echoed with "status" (a
 * SubjectAccessReview loses its "spec", as k8s-keystone-auth answers it). */
#pragma once

#include <stddef.h>

#include "openstack/keystone/authenticator.h"
#include "openstack/keystone/policy.h"

#define KEYSTONE_WEBHOOK_MAX_BODY (1u * 1024 * 1024)

struct kos_client;

struct keystone_webhook {
    struct keystone_authenticator *authn;
    const struct keystone_policy *policy; /* NULL: every SubjectAccessReview is denied */
    struct kos_client *sync_client;       /* NULL: no data sync */
};

/* Always answers: *status and *out (malloc'd JSON or text) are set. *note (may be NULL) gets a
 * malloc'd line worth logging (why a token was refused, a sync failure) or NULL. Returns 0 or
 * -ENOMEM. */
int keystone_webhook_handle(struct keystone_webhook *w, const char *body, size_t len, int *status,
                            char **out, size_t *out_len, char **note);

/* Reads a SubjectAccessReview spec into attributes and the subject (exposed for tests).
 * The strings in *attrs point into spec. -EINVAL with err on a malformed spec. */
int keystone_webhook_parse_sar(const json_t *spec, bool v1, struct authz_attributes *attrs,
                               struct kos_user_info *user, struct kos_error **err);

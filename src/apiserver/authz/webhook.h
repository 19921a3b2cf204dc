/* The Webhook authorizer (--authorization-mode=...,Webhook): each request's attributes go to
 * the webhook as a SubjectAccessReview (authorization.k8s.io/v1 by default); status.allowed
 * is ALLOW, status.denied DENY, anything else NO_OPINION. As in kube, a webhook that cannot be
 * asked or answers nonsense is NO_OPINION with the error as the reason (never an allow), and
 * answers are cached: allowed ones for --authorization-webhook-cache-authorized-ttl (5m), the
 * others for --authorization-webhook-cache-unauthorized-ttl (30s), errors never. The cache
 * key is a keyed digest of the review's spec. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "apiserver/authz/authz.h"
#include "util/error.h"

#define AUTHZ_WEBHOOK_DEFAULT_AUTHORIZED_TTL_MS   (5 * 60 * 1000)
#define AUTHZ_WEBHOOK_DEFAULT_UNAUTHORIZED_TTL_MS (30 * 1000)
#define AUTHZ_WEBHOOK_CACHE_ENTRIES               8192

struct authz_webhook;

struct authz_webhook_options {
    const char *config_file;
    const char *version;         /* "v1" (default) or "v1beta1" */
    int64_t authorized_ttl_ms;   /* < 0: 5m; 0: not cached */
    int64_t unauthorized_ttl_ms; /* < 0: 30s; 0: not cached */
    long timeout_ms;             /* 0: KOS_WEBHOOK_TIMEOUT_MS */
    int64_t (*now_ms)(void);     /* NULL: the monotonic clock */
};

int authz_webhook_new(const struct authz_webhook_options *opts, struct authz_webhook **ret,
                      struct kos_error **err);
void authz_webhook_free(struct authz_webhook *w);

/* AUTHZ_ALLOW / AUTHZ_DENY / AUTHZ_NO_OPINION, or -ENOMEM; *reason as authz.h says. */
int authz_webhook_authorize(struct authz_webhook *w, const struct authz_attributes *attrs,
                            char **reason);
struct authz_authorizer authz_webhook_as_authorizer(struct authz_webhook *w);
/* SubjectAccessReviews sent (cache misses that reached the webhook). */
uint64_t authz_webhook_requests(const struct authz_webhook *w);

/* The review's spec for attrs (a new JSON object); the cache key and the request body.
 * v1beta1 names the groups field "group", as authorization.k8s.io/v1beta1 does. */
void *authz_webhook_spec(const struct authz_attributes *attrs, bool v1beta1);
/* Parses a SubjectAccessReview response: the decision, or a negative errno with *err. */
int authz_webhook_parse_response(const char *data, size_t len, char **reason,
                                 struct kos_error **err);

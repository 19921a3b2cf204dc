/* The TokenReview webhook token authenticator (--authentication-token-webhook-config-file):
 * a bearer token is POSTed as a TokenReview to the webhook; its status.user becomes the
 * request's user. Answers are cached as kube's cached token authenticator caches them:
 * authenticated and not-authenticated answers for --authentication-token-webhook-cache-ttl
 * (kube-apiserver gives the webhook the same TTL for both), errors never. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/user.h"
#include "util/error.h"

#define KOS_WEBHOOK_TOKEN_MAX            (64 * 1024) /* tokens longer than this are not sent */
#define KOS_WEBHOOK_CACHE_ENTRIES        4096
#define KOS_WEBHOOK_TOKEN_DEFAULT_TTL_MS (2 * 60 * 1000)

struct kos_webhook_token_options {
    const char *config_file;
    const char *version;          /* "v1" (default) or "v1beta1" */
    int64_t cache_ttl_ms;         /* < 0: the default 2m; 0: no caching */
    const char *const *audiences; /* --api-audiences, sent as spec.audiences */
    size_t naudiences;
    long timeout_ms;         /* 0: KOS_WEBHOOK_TIMEOUT_MS */
    int64_t (*now_ms)(void); /* NULL: the monotonic clock (tests pass their own) */
};

int kos_webhook_token_new(const struct kos_webhook_token_options *opts,
                          struct kos_token_authenticator *ret, struct kos_error **err);

/* How many TokenReviews were sent (cache misses that reached the webhook). */
uint64_t kos_webhook_token_requests(const struct kos_token_authenticator *a);

/* Builds the TokenReview request body (malloc'd JSON). */
int kos_tokenreview_request(const char *api_version, const char *token,
                            const char *const *audiences, size_t naudiences, char **ret,
                            size_t *ret_len);

/* Parses a TokenReview response. Returns 1 authenticated (*user filled), 0 not
 * authenticated, negative errno with *err (bad JSON, wrong kind, status.error set, fields of
 * the wrong type or beyond the kos_user_info bounds). audiences: when the response names
 * status.audiences, at least one must be among them, else not authenticated. */
int kos_tokenreview_parse_response(const char *data, size_t len, const char *const *audiences,
                                   size_t naudiences, struct kos_user_info *user,
                                   struct kos_error **err);

/* Parses the "user" object of a TokenReview status (also the shape of SubjectAccessReview's
 * spec user fields) into *user; shared with the fuzz target. */
int kos_tokenreview_parse_user(const void *user_json, struct kos_user_info *user,
                               struct kos_error **err);

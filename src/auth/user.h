/* Who is asking: an authenticated identity, as k8s.io/apiserver/pkg/authentication/user.Info
 * defines it, and the interface every bearer-token authenticator implements (token file,
 * service-account JWTs, the TokenReview webhook, Keystone in-process).
 *
 * The request path owns one kos_user_info per request; authorizers see it through the
 * borrowed view struct kos_user (apiserver/authz/authz.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Bounds on what an authenticator may hand back (a webhook or Keystone controls these). */
#define KOS_USER_MAX_GROUPS       256
#define KOS_USER_MAX_EXTRA        64
#define KOS_USER_MAX_EXTRA_VALUES 256
#define KOS_USER_MAX_STRING       1024

struct kos_user_extra {
    char *key;
    char **values;
    size_t nvalues;
};

struct kos_user_info {
    char *name;
    char *uid; /* may be NULL */
    char **groups;
    size_t ngroups;
    struct kos_user_extra *extra;
    size_t nextra;
};

/* Frees every member and zeroes *u; accepts a zeroed struct. */
void kos_user_info_clear(struct kos_user_info *u);
/* Deep copy into *dst (set only on success). -ENOMEM. */
int kos_user_info_copy(const struct kos_user_info *src, struct kos_user_info *dst);
/* Appends a group unless already present; -E2BIG past KOS_USER_MAX_GROUPS. */
int kos_user_info_add_group(struct kos_user_info *u, const char *group);
/* Appends one value under key (creating the key); -E2BIG past the bounds. */
int kos_user_info_add_extra(struct kos_user_info *u, const char *key, const char *value);
bool kos_user_info_in_group(const struct kos_user_info *u, const char *group);

/* A bearer-token authenticator. authenticate() returns
 *   1  the token is this authenticator's and valid: *user is filled (caller clears it);
 *   0  not recognized here: the chain tries the next authenticator;
 *  <0  a negative errno with *err set: the token was rejected (expired, revoked) or the
 *      authority could not be asked (webhook down, timeout). The request fails closed: 401.
 * Must be thread-safe: many requests authenticate at once. */
struct kos_token_authenticator {
    const char *name; /* for logs: "token-file", "serviceaccount", "webhook", "keystone" */
    int (*authenticate)(void *ctx, const char *token, struct kos_user_info *user,
                        struct kos_error **err);
    void (*free)(void *ctx); /* may be NULL */
    void *ctx;
};

/* User impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): the
 * Impersonate-User, Impersonate-Group (repeatable), Impersonate-Uid and
 * Impersonate-Extra-<key> headers make the request act as another user, once the authorizer
 * allows the requestor the verb "impersonate" on each of them: users/<name> or
 * serviceaccounts/<name> in its namespace, groups/<name>, uids/<uid> and
 * userextras/<key> named <value> (the last two in API group authentication.k8s.io). */
#pragma once

#include <stddef.h>

#include "apiserver/authz/authz.h"
#include "auth/user.h"
#include "util/error.h"

#define KOS_IMPERSONATE_MAX_HEADERS 256 /* Impersonate-* headers one request may carry */

struct kos_header {
    const char *name;
    const char *value;
};

/* Whether a header name is one of the Impersonate-* headers (case-insensitive). */
bool kos_impersonate_header(const char *name);

/* headers: the request's Impersonate-* headers in the order received (others are ignored).
 * Returns 0 when there are none (*ret untouched), 1 with *ret the impersonated user (caller
 * clears it), or a negative errno with *err: 400 for a group, uid or extra without a user or
 * too many headers, 403 with kube's message when the authorizer does not allow one of them. */
int kos_impersonate(const struct authz_authorizer *az, const struct kos_user_info *requestor,
                    const struct kos_header *headers, size_t n, struct kos_user_info *ret,
                    struct kos_error **err);

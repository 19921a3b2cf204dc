/* Authorization: the request attributes every authorizer sees and the decision it answers,
 * as k8s.io/apiserver/pkg/authorization/authorizer defines them.
 *
 * The request path chains authorizers (Node, RBAC, webhook): the first ALLOW or DENY wins; when
 * all answer NO_OPINION the request is forbidden with authz_forbidden_error(). Authorizers take
 * these attributes by pointer and never keep them past the call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "auth/user.h"
#include "util/buf.h"
#include "util/error.h"

struct kos_user {
    const char *name;
    const char *uid;
    const char *const *groups;
    size_t ngroups;
    /* The authenticator's extra (Keystone puts project and roles here); may be NULL. */
    const struct kos_user_extra *extra;
    size_t nextra;
};

struct authz_attributes {
    const struct kos_user *user;
    const char *verb;
    bool resource_request;
    const char *namespace_;
    const char *api_group;
    const char *api_version;
    const char *resource;
    const char *subresource;
    const char *name;
    const char *path;
    /* The raw ?fieldSelector= of a list/watch, or NULL. Only the Node authorizer reads it, and
     * only when built with selector authorization (kube's AuthorizeNodeWithSelectors). */
    const char *field_selector;
};

enum authz_decision {
    AUTHZ_NO_OPINION,
    AUTHZ_ALLOW,
    AUTHZ_DENY,
};

/* An authorizer behind a function pointer, so escalation checks can ask the same chain the
 * request path asks (kube passes its union authorizer there). Returns an authz_decision or a
 * negative errno; *reason (may be NULL) receives a malloc'd text or NULL. */
struct authz_authorizer {
    int (*authorize)(void *ctx, const struct authz_attributes *attrs, char **reason);
    void *ctx;
};

/* Well-known identities (k8s.io/apiserver/pkg/authentication/user). */
#define AUTHZ_GROUP_MASTERS         "system:masters"
#define AUTHZ_GROUP_NODES           "system:nodes"
#define AUTHZ_GROUP_AUTHENTICATED   "system:authenticated"
#define AUTHZ_GROUP_UNAUTHENTICATED "system:unauthenticated"
#define AUTHZ_NODE_USER_PREFIX      "system:node:"
#define AUTHZ_SA_USER_PREFIX        "system:serviceaccount:"

/* Bound on every reason/message text we build: a client controls the names in it. */
#define AUTHZ_MESSAGE_MAX (256 * 1024)

static inline const char *authz_str(const char *s)
{
    return s ? s : "";
}

bool authz_user_in_group(const struct kos_user *user, const char *group);

/* Appends s quoted as Go's %q (strconv.Quote) does, so messages match kube byte for byte. */
int authz_buf_go_quote(struct kos_buf *b, const char *s);
/* Appends a string slice as Go's %q prints one: ["a" "b"] ([] when empty). */
int authz_buf_go_quote_list(struct kos_buf *b, const char *const *v, size_t n);

/* The authorizer chain of --authorization-mode (k8s.io/apiserver union authorizer plus kube's
 * privileged-group authorizer): members of system:masters are always allowed; otherwise the
 * modes are asked in order and the first ALLOW or DENY wins; when every one has no opinion the
 * request is denied. An authorizer that fails (negative errno) counts as no opinion and its
 * failure joins the reason, as kube's union authorizer aggregates errors: never an allow. */
#pragma once

#include <stddef.h>

#include "apiserver/authz/authz.h"

enum authz_mode {
    AUTHZ_MODE_ALWAYS_ALLOW,
    AUTHZ_MODE_ALWAYS_DENY,
    AUTHZ_MODE_NODE,
    AUTHZ_MODE_RBAC,
    AUTHZ_MODE_WEBHOOK,
};

#define AUTHZ_MAX_MODES 5

struct authz_modes {
    enum authz_mode v[AUTHZ_MAX_MODES];
    size_t n;
};

/* Parses a --authorization-mode value ("Node,RBAC"). On a bad value returns -EINVAL and writes
 * kube-apiserver's message into errbuf, e.g.
 *   authorization-mode "Foo" is not a valid mode */
int authz_modes_parse(const char *spec, struct authz_modes *out, char *errbuf, size_t errsize);
bool authz_modes_has(const struct authz_modes *m, enum authz_mode mode);
/* "AlwaysAllow", "RBAC", ... */
const char *authz_mode_name(enum authz_mode mode);

struct authz_chain {
    struct {
        enum authz_mode mode;
        struct authz_authorizer authorizer;
    } v[AUTHZ_MAX_MODES];
    size_t n;
};

/* Appends one authorizer (for AlwaysAllow/AlwaysDeny pass authz_always(mode)). -E2BIG when
 * full. */
int authz_chain_add(struct authz_chain *c, enum authz_mode mode, struct authz_authorizer a);
struct authz_authorizer authz_always(enum authz_mode mode);

/* AUTHZ_ALLOW, AUTHZ_DENY (an authorizer denied) or AUTHZ_NO_OPINION (none allowed: the
 * request path forbids it too; SubjectAccessReview tells the two apart in status.denied).
 * Never a negative errno: a failing authorizer is no opinion. *reason (may be NULL) receives
 * the malloc'd reasons ("\n"-joined, as kube's union authorizer joins them), or NULL. */
int authz_chain_authorize(const struct authz_chain *c, const struct authz_attributes *attrs,
                          char **reason);
/* The chain behind the generic interface (escalation checks, reviews, impersonation). */
struct authz_authorizer authz_chain_as_authorizer(const struct authz_chain *c);

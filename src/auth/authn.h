/* The authenticator chain every API request passes, as kube-apiserver builds it
 * (k8s.io/apiserver/pkg/authentication/request/union, bearertoken, x509, anonymous):
 *
 *   1. the TLS client certificate, verified against the client CA (CN -> user, O -> groups);
 *   2. a bearer token (`Authorization: Bearer <token>`), offered to the registered token
 *      authenticators in order; the first that accepts it wins;
 *   3. when both are absent and --anonymous-auth is on: system:anonymous in
 *      system:unauthenticated.
 *
 * Every authenticated (non-anonymous) user also gets the group system:authenticated. Bad
 * credentials (a rejected certificate and no token that works, or a token nobody accepts) are
 * a 401 even when anonymous access is on, as kube's FailOnError union does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "auth/user.h"
#include "pki/identity.h"
#include "util/error.h"

#define KOS_AUTHN_ANONYMOUS_USER           "system:anonymous"
#define KOS_AUTHN_GROUP_AUTHENTICATED      "system:authenticated"
#define KOS_AUTHN_GROUP_UNAUTHENTICATED    "system:unauthenticated"
#define KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS 16

struct kos_authn;

struct kos_authn_options {
    bool anonymous; /* --anonymous-auth (kos default: false) */
};

int kos_authn_new(const struct kos_authn_options *opts, struct kos_authn **ret);
/* Frees the chain and every registered token authenticator. Accepts NULL. */
void kos_authn_free(struct kos_authn *a);

/* Appends a token authenticator (tried after those registered before it); the chain owns it
 * from now on, also when this fails (-E2BIG past KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS), and
 * calls its free(). Register everything before the server starts serving: registration is not
 * synchronised with requests in flight. */
int kos_authn_add_token_authenticator(struct kos_authn *a,
                                      const struct kos_token_authenticator *ta);

/* The user a verified client certificate names: 1 and *ret filled (CN -> name, O -> groups),
 * 0 when there is no usable certificate, -EACCES when one was presented and rejected. */
int kos_authn_x509_user(const struct pki_peer *peer, struct kos_user_info *ret);

/* Authenticates one request: peer is the TLS verdict (NULL: none), authorization the raw
 * Authorization header (NULL: none). Returns 0 and fills *ret, or -EACCES with *err a 401
 * Status (message "Unauthorized"); why (when not NULL, size why_len) says why for the server
 * log, never for the client. -ENOMEM with a 500. */
int kos_authn_authenticate(const struct kos_authn *a, const struct pki_peer *peer,
                           const char *authorization, struct kos_user_info *ret, char *why,
                           size_t why_len, struct kos_error **err);

/* A Keystone v3 client over libcurl: validate a token with itself (k8s-keystone-auth needs no
 * service account), list the user's groups with the same token, issue a token from a password
 * or another token. Bounded: connect and total timeouts, response size. Thread-safe (each call
 * uses its own curl handle). Errors carry a message a person can act on:
 *   -EACCES     Keystone refused the token or the credentials (401/403/404): err 401
 *   -EIO        Keystone unreachable or answered 5xx / garbage: err 503 / 500
 *   -ETIMEDOUT  no answer in time: err 504 */
#pragma once

#include "openstack/keystone/token.h"
#include "util/error.h"

struct keystone_client_options {
    const char *url;     /* the identity endpoint, "http://host:5000/v3" ("/v3" is added) */
    const char *ca_file; /* optional PEM bundle for https */
    int timeout_ms;      /* per request; default 10000 */
};

struct keystone_client;

int keystone_client_new(const struct keystone_client_options *o, struct keystone_client **ret,
                        struct kos_error **err);
void keystone_client_free(struct keystone_client *c);
const char *keystone_client_url(const struct keystone_client *c);

/* GET /v3/auth/tokens with X-Auth-Token and X-Subject-Token both `token`. */
int keystone_client_validate(struct keystone_client *c, const char *token,
                             struct keystone_token *ret, struct kos_error **err);
/* GET /v3/users/{user_id}/groups with X-Auth-Token `token`. */
int keystone_client_user_groups(struct keystone_client *c, const char *token, const char *user_id,
                                char ***ret, size_t *ret_n, struct kos_error **err);

struct keystone_credentials {
    /* password method: user_name + user_domain_name (or user_id) + password */
    const char *user_id;
    const char *user_name;
    const char *user_domain_name;
    const char *user_domain_id;
    const char *password;
    /* token method (re-scoping): used when password is NULL */
    const char *token;
    /* project scope: project_id, or project_name + project_domain_{name,id}; none = unscoped */
    const char *project_id;
    const char *project_name;
    const char *project_domain_name;
    const char *project_domain_id;
};

/* POST /v3/auth/tokens: *ret_token gets the X-Subject-Token, *ret the token body. */
int keystone_client_issue(struct keystone_client *c, const struct keystone_credentials *cred,
                          char **ret_token, struct keystone_token *ret, struct kos_error **err);

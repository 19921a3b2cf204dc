/* What Keystone v3 says about a token: the body of GET/POST /v3/auth/tokens and of
 * GET /v3/users/{id}/groups, parsed into plain C. Pure functions (no I/O) so that they can be
 * fuzzed: the bytes come from the network. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "util/error.h"

/* Bounds on what we accept from Keystone (its answers carry a catalog, hence the body size). */
#define KEYSTONE_MAX_BODY   (4u * 1024 * 1024)
#define KEYSTONE_MAX_ROLES  256
#define KEYSTONE_MAX_GROUPS 255 /* + the project id = KOS_USER_MAX_GROUPS */
#define KEYSTONE_MAX_STRING 1024

struct keystone_token {
    char *user_id;
    char *user_name;
    char *user_domain_id;
    char *user_domain_name;
    /* NULL when the token is unscoped or domain-scoped. */
    char *project_id;
    char *project_name;
    char *project_domain_id;
    char *project_domain_name;
    char **roles; /* role names, implied roles included (Keystone expands them) */
    size_t nroles;
    time_t expires_at;
};

void keystone_token_clear(struct keystone_token *t);

/* Parses {"token":{...}}. -EBADMSG (err 401-free: 502 "Keystone answered ...") on a body that
 * is not a token; *ret set only on success. */
int keystone_token_parse(const char *body, size_t len, struct keystone_token *ret,
                         struct kos_error **err);

/* Parses {"groups":[{"name":...},...]} into a malloc'd array of names. */
int keystone_groups_parse(const char *body, size_t len, char ***ret, size_t *ret_n,
                          struct kos_error **err);
void keystone_strv_free(char **v, size_t n);

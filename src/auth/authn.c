/* The authenticator chain: x509, then bearer tokens, then anonymous (see authn.h). */
#include "auth/authn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"

struct kos_authn {
    bool anonymous;
    struct kos_token_authenticator tokens[KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS];
    size_t ntokens;
};

int kos_authn_new(const struct kos_authn_options *opts, struct kos_authn **ret)
{
    struct kos_authn *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->anonymous = opts && opts->anonymous;
    *ret = a;
    return 0;
}

static void token_authenticator_free(const struct kos_token_authenticator *ta)
{
    if (ta->free)
        ta->free(ta->ctx);
}

void kos_authn_free(struct kos_authn *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ntokens; i++)
        token_authenticator_free(&a->tokens[i]);
    free(a);
}

int kos_authn_add_token_authenticator(struct kos_authn *a, const struct kos_token_authenticator *ta)
{
    if (!a || !ta->authenticate || a->ntokens >= KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS) {
        token_authenticator_free(ta);
        return a && ta->authenticate ? -E2BIG : -EINVAL;
    }
    a->tokens[a->ntokens++] = *ta;
    return 0;
}

/* kube's bearertoken authenticator: "Bearer <token>" (scheme case-insensitive, split at single
 * spaces, anything after the token ignored); an empty token counts as none. */
static bool bearer_token(const char *authorization, const char **tok, size_t *len)
{
    if (!authorization)
        return false;
    while (*authorization == ' ' || *authorization == '\t')
        authorization++;
    if (strncasecmp(authorization, "bearer ", 7) != 0)
        return false;
    const char *t = authorization + 7;
    size_t n = strcspn(t, " ");
    while (n > 0 && (t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
        n--; /* TrimSpace of the whole header */
    if (n == 0)
        return false;
    *tok = t;
    *len = n;
    return true;
}

static void note(char *why, size_t why_len, const char *fmt, const char *arg)
{
    if (why && why_len)
        snprintf(why, why_len, fmt, arg ? arg : "");
}

static int unauthorized(struct kos_error **err)
{
    kos_error_set(err, 401, "Unauthorized", "Unauthorized");
    return -EACCES;
}

static int out_of_memory(struct kos_error **err)
{
    kos_error_set(err, 500, "InternalError", "out of memory");
    return -ENOMEM;
}

/* Offers the token to each authenticator: 1 accepted (*ret filled), 0 nobody accepted. */
static int try_tokens(const struct kos_authn *a, const char *token, struct kos_user_info *ret,
                      char *why, size_t why_len)
{
    note(why, why_len, "invalid bearer token%s", NULL);
    for (size_t i = 0; i < a->ntokens; i++) {
        const struct kos_token_authenticator *ta = &a->tokens[i];
        struct kos_user_info u = {0};
        _cleanup_error_ struct kos_error *terr = NULL;
        int r = ta->authenticate(ta->ctx, token, &u, &terr);
        if (r == 1 && u.name && u.name[0]) {
            *ret = u;
            return 1;
        }
        kos_user_info_clear(&u);
        if (r == -ENOMEM)
            return r;
        if (r < 0 && why && why_len) /* kube's union goes on; the first error is kept */
            snprintf(why, why_len, "%s: %s", ta->name ? ta->name : "token",
                     terr && terr->message ? terr->message : strerror(-r));
    }
    return 0;
}

int kos_authn_authenticate(const struct kos_authn *a, const struct pki_peer *peer,
                           const char *authorization, struct kos_user_info *ret, char *why,
                           size_t why_len, struct kos_error **err)
{
    note(why, why_len, "%s", "");
    if (!a) {
        note(why, why_len, "%s", "no authenticator configured");
        return unauthorized(err);
    }
    struct kos_user_info u = {0};
    bool failed = false;
    int r = kos_authn_x509_user(peer, &u);
    if (r == -ENOMEM)
        return out_of_memory(err);
    if (r == -EACCES) {
        failed = true;
        note(why, why_len, "client certificate: %s",
             peer && peer->reason[0] ? peer->reason : "rejected");
    }
    if (r != 1) { /* a token no authenticator accepts is bad credentials, even with none */
        const char *t;
        size_t n;
        if (bearer_token(authorization, &t, &n)) {
            if (n > 64 * 1024) {
                note(why, why_len, "%s", "bearer token too long");
                return unauthorized(err);
            }
            _cleanup_free_ char *token = strndup(t, n);
            if (!token)
                return out_of_memory(err);
            char twhy[256];
            r = try_tokens(a, token, &u, twhy, sizeof(twhy));
            if (r == -ENOMEM)
                return out_of_memory(err);
            if (r != 1) {
                failed = true;
                note(why, why_len, "%s", twhy);
            }
        }
    }
    if (r == 1) {
        r = kos_user_info_add_group(&u, KOS_AUTHN_GROUP_AUTHENTICATED);
        if (r < 0 && r != -E2BIG) {
            kos_user_info_clear(&u);
            return out_of_memory(err);
        }
        if (r == -E2BIG) { /* no room for system:authenticated: refuse rather than mislabel */
            kos_user_info_clear(&u);
            note(why, why_len, "%s", "too many groups");
            return unauthorized(err);
        }
        *ret = u;
        return 0;
    }
    if (failed || !a->anonymous) {
        if (!failed)
            note(why, why_len, "%s", "no credentials and anonymous access is off");
        return unauthorized(err);
    }
    u.name = strdup(KOS_AUTHN_ANONYMOUS_USER);
    if (!u.name || kos_user_info_add_group(&u, KOS_AUTHN_GROUP_UNAUTHENTICATED) < 0) {
        kos_user_info_clear(&u);
        return out_of_memory(err);
    }
    *ret = u;
    return 0;
}

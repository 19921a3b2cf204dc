#include "cmd/server_webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth/authn.h"
#include "auth/webhook_token.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

void server_webhook_flags_init(struct server_webhook_flags *f)
{
    *f = (struct server_webhook_flags){
        .authn_ttl_ms = -1, .authz_ok_ttl_ms = -1, .authz_deny_ttl_ms = -1};
}

void server_webhook_flags_clear(struct server_webhook_flags *f)
{
    for (size_t i = 0; i < f->naudiences; i++)
        free(f->audiences[i]);
    f->naudiences = 0;
}

/* kos_parse_duration_ms, without negative durations (none of these flags takes one). */
static int parse_duration_ms(const char *s, int64_t *ret)
{
    int64_t v;
    int r = kos_parse_duration_ms(s, &v);
    if (r < 0)
        return r;
    if (v < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int push(const char **v, size_t *n, const char *flag, const char *arg)
{
    if (*n >= SERVER_WEBHOOK_MAX_LIST) {
        fprintf(stderr, "kos server: %s given more than %d times\n", flag, SERVER_WEBHOOK_MAX_LIST);
        return -EINVAL;
    }
    v[(*n)++] = arg;
    return 0;
}

static int duration(const char *flag, const char *arg, int64_t *ret)
{
    if (parse_duration_ms(arg, ret) < 0) {
        fprintf(stderr, "kos server: invalid value \"%s\" for --%s: want a duration such as 2m\n",
                arg, flag);
        return -EINVAL;
    }
    return 0;
}

static int version(const char *flag, const char *arg, const char **ret)
{
    if (strcmp(arg, "v1") != 0 && strcmp(arg, "v1beta1") != 0) {
        fprintf(stderr, "kos server: invalid value \"%s\" for --%s: want v1 or v1beta1\n", arg,
                flag);
        return -EINVAL;
    }
    *ret = arg;
    return 0;
}

int server_webhook_flag(struct server_webhook_flags *f, int opt, const char *arg)
{
    switch (opt) {
    case SW_AUTHN_CONFIG:
        f->authn_config = arg;
        return 0;
    case SW_AUTHN_VERSION:
        return version("authentication-token-webhook-version", arg, &f->authn_version);
    case SW_AUTHN_TTL:
        return duration("authentication-token-webhook-cache-ttl", arg, &f->authn_ttl_ms);
    case SW_AUTHZ_CONFIG:
        f->authz_config = arg;
        return 0;
    case SW_AUTHZ_VERSION:
        return version("authorization-webhook-version", arg, &f->authz_version);
    case SW_AUTHZ_OK_TTL:
        return duration("authorization-webhook-cache-authorized-ttl", arg, &f->authz_ok_ttl_ms);
    case SW_AUTHZ_DENY_TTL:
        return duration("authorization-webhook-cache-unauthorized-ttl", arg, &f->authz_deny_ttl_ms);
    case SW_SA_KEY:
        return push(f->sa_key_files, &f->nsa_key_files, "--service-account-key-file", arg);
    case SW_SA_SIGNING_KEY:
        f->sa_signing_key = arg;
        return 0;
    case SW_SA_ISSUER:
        return push(f->sa_issuers, &f->nsa_issuers, "--service-account-issuer", arg);
    case SW_API_AUDIENCES: {
        /* a comma-separated list, repeatable (kube's StringSlice) */
        const char *p = arg;
        for (;;) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len > 0) {
                if (f->naudiences >= SERVER_WEBHOOK_MAX_LIST) {
                    fprintf(stderr, "kos server: too many --api-audiences\n");
                    return -EINVAL;
                }
                if (!(f->audiences[f->naudiences] = kos_strndup(p, len)))
                    return -ENOMEM;
                f->naudiences++;
            }
            if (!comma)
                break;
            p = comma + 1;
        }
        return 0;
    }
    default:
        return -EINVAL;
    }
}

void server_webhook_usage(FILE *out)
{
    fputs("      --authentication-token-webhook-config-file FILE  kubeconfig-format file: "
          "TokenReview webhook\n"
          "      --authentication-token-webhook-version v1|v1beta1 (default v1)\n"
          "      --authentication-token-webhook-cache-ttl DURATION  (default 2m)\n"
          "      --authorization-webhook-config-file FILE  kubeconfig-format file: "
          "SubjectAccessReview webhook\n"
          "      --authorization-webhook-version v1|v1beta1 (default v1)\n"
          "      --authorization-webhook-cache-authorized-ttl DURATION  (default 5m)\n"
          "      --authorization-webhook-cache-unauthorized-ttl DURATION  (default 30s)\n"
          "      --service-account-signing-key-file FILE  signs service-account tokens "
          "(default DATA_DIR/tls/sa.key, created)\n"
          "      --service-account-key-file FILE  more keys that verify them (repeatable)\n"
          "      --service-account-issuer URL  (repeatable; the first signs; default "
          "https://kubernetes.default.svc.cluster.local)\n"
          "      --api-audiences A[,B...]  audiences of the API (default: the issuer)\n",
          out);
}

int server_webhook_setup(const struct server_webhook_flags *f, const char *tls_dir,
                         bool authz_mode_webhook, kos_sa_lookup_fn lookup, void *lookup_ctx,
                         struct server_webhook *ret)
{
    if (f->authz_config && !authz_mode_webhook) {
        fprintf(stderr, "kos server: cannot specify --authorization-webhook-config-file without "
                        "mode Webhook\n");
        return -EINVAL;
    }
    struct server_webhook w = {0};
    _cleanup_error_ struct kos_error *err = NULL;
    const struct kos_sa_options so = {.tls_dir = tls_dir,
                                      .signing_key_file = f->sa_signing_key,
                                      .key_files = f->sa_key_files,
                                      .nkey_files = f->nsa_key_files,
                                      .issuers = f->sa_issuers,
                                      .nissuers = f->nsa_issuers,
                                      .audiences = (const char *const *)f->audiences,
                                      .naudiences = f->naudiences,
                                      .lookup = lookup,
                                      .lookup_ctx = lookup_ctx};
    int r = kos_sa_new(&so, &w.sa, &err);
    if (r < 0) {
        fprintf(stderr, "kos server: service-account keys: %s\n",
                err && err->message ? err->message : strerror(-r));
        return r;
    }
    w.sa_authn = kos_sa_authenticator(w.sa);
    size_t naud = 0;
    const char *const *auds = kos_sa_audiences(w.sa, &naud);
    if (f->authn_config) {
        const struct kos_webhook_token_options to = {.config_file = f->authn_config,
                                                     .version = f->authn_version,
                                                     .cache_ttl_ms = f->authn_ttl_ms,
                                                     .audiences = auds,
                                                     .naudiences = naud};
        r = kos_webhook_token_new(&to, &w.token_webhook, &err);
        if (r < 0) {
            fprintf(stderr, "kos server: --authentication-token-webhook-config-file: %s\n",
                    err && err->message ? err->message : strerror(-r));
            server_webhook_done(&w);
            return r;
        }
    }
    if (f->authz_config && authz_mode_webhook) {
        const struct authz_webhook_options ao = {.config_file = f->authz_config,
                                                 .version = f->authz_version,
                                                 .authorized_ttl_ms = f->authz_ok_ttl_ms,
                                                 .unauthorized_ttl_ms = f->authz_deny_ttl_ms};
        r = authz_webhook_new(&ao, &w.authz, &err);
        if (r < 0) {
            fprintf(stderr, "kos server: --authorization-webhook-config-file: %s\n",
                    err && err->message ? err->message : strerror(-r));
            server_webhook_done(&w);
            return r;
        }
    }
    *ret = w;
    return 0;
}

int server_webhook_register(struct server_webhook *w, struct kos_authn *a)
{
    int r = kos_authn_add_token_authenticator(a, &w->sa_authn);
    if (r < 0 || !w->token_webhook.authenticate)
        return r;
    r = kos_authn_add_token_authenticator(a, &w->token_webhook);
    w->token_webhook = (struct kos_token_authenticator){0}; /* the chain's now, even on error */
    return r;
}

void server_webhook_done(struct server_webhook *w)
{
    if (w->token_webhook.free)
        w->token_webhook.free(w->token_webhook.ctx);
    authz_webhook_free(w->authz);
    kos_sa_free(w->sa);
    memset(w, 0, sizeof(*w));
}

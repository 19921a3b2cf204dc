/* The `kos server` flags for the webhook authenticator and authorizer and for
 * service-account tokens, kept out of server.c: server.c splices SERVER_WEBHOOK_OPTIONS into
 * its getopt table, hands every option code >= SERVER_WEBHOOK_OPT_BASE to
 * server_webhook_flag(), and calls server_webhook_setup() once the store is open. */
#pragma once

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "apiserver/authz/webhook.h"
#include "auth/serviceaccount.h"
#include "auth/user.h"

struct kos_authn;

#define SERVER_WEBHOOK_MAX_LIST 16

enum {
    SERVER_WEBHOOK_OPT_BASE = 0x1000,
    SW_AUTHN_CONFIG = SERVER_WEBHOOK_OPT_BASE,
    SW_AUTHN_VERSION,
    SW_AUTHN_TTL,
    SW_AUTHZ_CONFIG,
    SW_AUTHZ_VERSION,
    SW_AUTHZ_OK_TTL,
    SW_AUTHZ_DENY_TTL,
    SW_SA_KEY,
    SW_SA_SIGNING_KEY,
    SW_SA_ISSUER,
    SW_API_AUDIENCES,
};

#define SERVER_WEBHOOK_OPTIONS                                                                     \
    {"authentication-token-webhook-config-file", required_argument, NULL, SW_AUTHN_CONFIG},        \
        {"authentication-token-webhook-version", required_argument, NULL, SW_AUTHN_VERSION},       \
        {"authentication-token-webhook-cache-ttl", required_argument, NULL, SW_AUTHN_TTL},         \
        {"authorization-webhook-config-file", required_argument, NULL, SW_AUTHZ_CONFIG},           \
        {"authorization-webhook-version", required_argument, NULL, SW_AUTHZ_VERSION},              \
        {"authorization-webhook-cache-authorized-ttl", required_argument, NULL, SW_AUTHZ_OK_TTL},  \
        {"authorization-webhook-cache-unauthorized-ttl", required_argument, NULL,                  \
         SW_AUTHZ_DENY_TTL},                                                                       \
        {"service-account-key-file", required_argument, NULL, SW_SA_KEY},                          \
        {"service-account-signing-key-file", required_argument, NULL, SW_SA_SIGNING_KEY},          \
        {"service-account-issuer", required_argument, NULL, SW_SA_ISSUER},                         \
    {                                                                                              \
        "api-audiences", required_argument, NULL, SW_API_AUDIENCES                                 \
    }

struct server_webhook_flags {
    const char *authn_config;
    const char *authn_version;
    int64_t authn_ttl_ms; /* -1: default */
    const char *authz_config;
    const char *authz_version;
    int64_t authz_ok_ttl_ms;
    int64_t authz_deny_ttl_ms;
    const char *sa_signing_key;
    const char *sa_key_files[SERVER_WEBHOOK_MAX_LIST];
    size_t nsa_key_files;
    const char *sa_issuers[SERVER_WEBHOOK_MAX_LIST];
    size_t nsa_issuers;
    char *audiences[SERVER_WEBHOOK_MAX_LIST]; /* owned: split at commas */
    size_t naudiences;
};

void server_webhook_flags_init(struct server_webhook_flags *f);
void server_webhook_flags_clear(struct server_webhook_flags *f);
/* One option; prints the error and returns -EINVAL for a bad value. */
int server_webhook_flag(struct server_webhook_flags *f, int opt, const char *arg);
void server_webhook_usage(FILE *out);

/* What the flags built; server.c adds them to its authenticator chain / authorizer list. */
struct server_webhook {
    struct kos_sa *sa;                            /* always (service-account tokens) */
    struct kos_token_authenticator sa_authn;      /* the service-account token authenticator */
    struct kos_token_authenticator token_webhook; /* .authenticate NULL when not configured */
    struct authz_webhook *authz;                  /* NULL when not configured */
};

/* Builds the service-account issuer (DATA/tls/sa.key unless a signing key is given) and the
 * configured webhooks; lookup reads ServiceAccounts, Pods and Secrets. Prints the reason and
 * returns a negative errno on a bad configuration. */
int server_webhook_setup(const struct server_webhook_flags *f, const char *tls_dir,
                         kos_sa_lookup_fn lookup, void *lookup_ctx, struct server_webhook *ret);
/* Appends the service-account authenticator and the TokenReview webhook (when configured;
 * the chain takes it over) to the chain, in kube's order. */
int server_webhook_register(struct server_webhook *w, struct kos_authn *a);
void server_webhook_done(struct server_webhook *w);

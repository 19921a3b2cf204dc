/* Service-account tokens as kube-apiserver issues and checks them (pkg/serviceaccount):
 * JWTs signed with the service-account signing key, carrying the standard claims (iss, sub,
 * aud, exp, nbf, iat, jti) and the private "kubernetes.io" claim (namespace, serviceaccount
 * {name, uid}, pod or secret {name, uid} when bound, warnafter).
 *
 * The signing key is --service-account-signing-key-file, or DATA/tls/sa.key created 0600 on
 * first start (ECDSA P-256, ES256). Tokens verify against that key plus every key in the
 * --service-account-key-file bundles. The authenticator accepts a token whose issuer is one
 * of --service-account-issuer, signed by one of those keys, within exp/nbf (a minute of
 * leeway, as go-jose's default), for one of --api-audiences, whose ServiceAccount (and
 * bound Pod or Secret) still exists with the same uid. */
#pragma once

#include <stdint.h>
#include <time.h>

#include "auth/user.h"
#include "util/error.h"

#define KOS_SA_DEFAULT_ISSUER     "https://kubernetes.default.svc.cluster.local"
#define KOS_SA_USER_PREFIX        "system:serviceaccount:"
#define KOS_SA_GROUP_ALL          "system:serviceaccounts"
#define KOS_SA_EXTRA_POD_NAME     "authentication.kubernetes.io/pod-name"
#define KOS_SA_EXTRA_POD_UID      "authentication.kubernetes.io/pod-uid"
#define KOS_SA_EXTRA_CREDENTIAL   "authentication.kubernetes.io/credential-id"
#define KOS_SA_MIN_EXPIRATION     600 /* seconds: kube's minimum for a TokenRequest */
#define KOS_SA_MAX_EXPIRATION     (INT64_C(1) << 32)
#define KOS_SA_DEFAULT_EXPIRATION 3600
#define KOS_SA_MAX_AUDIENCES      64

/* Looks an object up for the validator: resource is "serviceaccounts", "pods" or "secrets".
 * Returns 0 with *uid (malloc'd) and *deletion (the metadata.deletionTimestamp, 0 if none),
 * -ENOENT when absent, another negative errno on failure. */
typedef int (*kos_sa_lookup_fn)(void *ctx, const char *resource, const char *ns, const char *name,
                                char **uid, time_t *deletion);

struct kos_sa_options {
    const char *tls_dir;          /* DATA/tls: sa.key lives here unless signing_key_file */
    const char *signing_key_file; /* --service-account-signing-key-file */
    const char *const *key_files; /* --service-account-key-file (repeatable) */
    size_t nkey_files;
    const char *const *issuers; /* --service-account-issuer; the first signs; none: default */
    size_t nissuers;
    const char *const *audiences; /* --api-audiences; none: the first issuer */
    size_t naudiences;
    kos_sa_lookup_fn lookup;
    void *lookup_ctx;
    time_t (*now)(void); /* NULL: time() */
};

struct kos_sa;

int kos_sa_new(const struct kos_sa_options *opts, struct kos_sa **ret, struct kos_error **err);
void kos_sa_free(struct kos_sa *sa);

/* The first issuer and the API audiences (what a TokenRequest without audiences gets). */
const char *kos_sa_issuer(const struct kos_sa *sa);
const char *const *kos_sa_audiences(const struct kos_sa *sa, size_t *n);

struct kos_sa_token_request {
    const char *namespace_;
    const char *name; /* the ServiceAccount */
    const char *uid;
    const char *const *audiences;
    size_t naudiences;
    int64_t expiration_seconds;
    const char *bound_kind; /* "Pod", "Secret" or NULL */
    const char *bound_name;
    const char *bound_uid;
};

/* Signs a token; *expires is its exp. */
int kos_sa_issue(struct kos_sa *sa, const struct kos_sa_token_request *req, char **token,
                 time_t *expires, struct kos_error **err);

/* The token authenticator (name "serviceaccount"); sa outlives it. A token that is no JWT or
 * names another issuer is not ours (0); one that is ours but fails a check is -EACCES with a
 * 401 whose message is kube's ("service account token has expired", ...). */
struct kos_token_authenticator kos_sa_authenticator(struct kos_sa *sa);

#include "auth/serviceaccount.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/jwt.h"
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/random.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define LEEWAY       60 /* seconds, go-jose's DefaultLeeway */
#define KEY_FILE_MAX (1u << 20)

struct kos_sa {
    struct kos_jwt_key *signer;
    struct kos_jwt_key **keys; /* verification keys (the signer's public half first) */
    size_t nkeys;
    char **issuers;
    size_t nissuers;
    char **audiences;
    size_t naudiences;
    kos_sa_lookup_fn lookup;
    void *lookup_ctx;
    time_t (*now)(void);
};

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strv_dup(const char *const *src, size_t n, char ***ret)
{
    char **v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = strdup(src[i]))) {
            strv_free(v, i);
            return -ENOMEM;
        }
    *ret = v;
    return 0;
}

void kos_sa_free(struct kos_sa *sa)
{
    if (!sa)
        return;
    /* the signer is keys[0]'s owner only through sa->signer */
    kos_jwt_key_free(sa->signer);
    for (size_t i = 0; i < sa->nkeys; i++)
        if (sa->keys[i] != sa->signer)
            kos_jwt_key_free(sa->keys[i]);
    free(sa->keys);
    strv_free(sa->issuers, sa->nissuers);
    strv_free(sa->audiences, sa->naudiences);
    free(sa);
}

static void sa_freep(struct kos_sa **sa)
{
    kos_sa_free(*sa);
}

static int read_file(const char *path, char **ret, size_t *ret_len, struct kos_error **err)
{
    int r = kos_read_file(path, KEY_FILE_MAX, ret, ret_len);
    if (r == -ENOENT || r == -ENOMEM)
        return r;
    if (r == -EFBIG)
        return kos_error_set(err, 500, "InternalError", "%s: larger than 1 MiB", path);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading %s: %s", path, strerror(-r));
    return 0;
}

/* Writes a new key file 0600 through a temporary file and a rename, so a crash never leaves
 * half a key behind. */
static int write_key_file(const char *path, const char *pem, struct kos_error **err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    unlink(tmp);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return kos_error_set(err, 500, "InternalError", "creating %s: %s", tmp, strerror(errno));
    size_t len = strlen(pem);
    if (write(fd, pem, len) != (ssize_t)len || fsync(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return kos_error_set(err, 500, "InternalError", "writing %s: %s", path, strerror(e));
    }
    return 0;
}

static int load_signer(const struct kos_sa_options *o, struct kos_jwt_key **ret,
                       struct kos_error **err)
{
    char path[4096];
    if (o->signing_key_file)
        snprintf(path, sizeof(path), "%s", o->signing_key_file);
    else
        snprintf(path, sizeof(path), "%s/sa.key", o->tls_dir ? o->tls_dir : ".");
    _cleanup_free_ char *pem = NULL;
    size_t len = 0;
    int r = read_file(path, &pem, &len, err);
    if (r == -ENOENT && !o->signing_key_file) {
        if (o->tls_dir && mkdir(o->tls_dir, 0700) < 0 && errno != EEXIST)
            return kos_error_set(err, 500, "InternalError", "creating %s: %s", o->tls_dir,
                                 strerror(errno));
        if ((r = kos_jwt_generate_key_pem(&pem)) < 0)
            return r;
        len = strlen(pem);
        if ((r = write_key_file(path, pem, err)) < 0)
            return r;
    } else if (r == -ENOENT) {
        return kos_error_set(err, 400, "BadRequest",
                             "--service-account-signing-key-file: %s does not exist", path);
    } else if (r < 0) {
        return r;
    }
    r = kos_jwt_signing_key_load(pem, len, ret, err);
    explicit_bzero(pem, len);
    if (r < 0 && err && *err && (*err)->message) {
        /* name the file in the message */
        _cleanup_free_ char *m = (*err)->message;
        (*err)->message = NULL;
        if (asprintf(&(*err)->message, "%s: %s", path, m) < 0)
            (*err)->message = NULL;
    }
    return r;
}

int kos_sa_new(const struct kos_sa_options *o, struct kos_sa **ret, struct kos_error **err)
{
    __attribute__((cleanup(sa_freep))) struct kos_sa *sa = calloc(1, sizeof(*sa));
    if (!sa)
        return -ENOMEM;
    static const char *const default_issuer[] = {KOS_SA_DEFAULT_ISSUER};
    const char *const *iss = o->nissuers ? o->issuers : default_issuer;
    size_t niss = o->nissuers ? o->nissuers : 1;
    int r = strv_dup(iss, niss, &sa->issuers);
    if (r < 0)
        return r;
    sa->nissuers = niss;
    r = strv_dup(o->naudiences ? o->audiences : iss, o->naudiences ? o->naudiences : 1,
                 &sa->audiences);
    if (r < 0)
        return r;
    sa->naudiences = o->naudiences ? o->naudiences : 1;
    sa->lookup = o->lookup;
    sa->lookup_ctx = o->lookup_ctx;
    sa->now = o->now;

    if ((r = load_signer(o, &sa->signer, err)) < 0)
        return r;
    sa->keys = calloc(1, sizeof(*sa->keys));
    if (!sa->keys)
        return -ENOMEM;
    sa->keys[sa->nkeys++] = sa->signer;
    for (size_t i = 0; i < o->nkey_files; i++) {
        _cleanup_free_ char *pem = NULL;
        size_t len = 0;
        r = read_file(o->key_files[i], &pem, &len, err);
        if (r == -ENOENT)
            return kos_error_set(err, 400, "BadRequest",
                                 "--service-account-key-file: %s does not exist", o->key_files[i]);
        if (r < 0)
            return r;
        r = kos_jwt_public_keys_load(pem, len, &sa->keys, &sa->nkeys, err);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(sa);
    return 0;
}

const char *kos_sa_issuer(const struct kos_sa *sa)
{
    return sa->issuers[0];
}

const char *const *kos_sa_audiences(const struct kos_sa *sa, size_t *n)
{
    *n = sa->naudiences;
    return (const char *const *)sa->audiences;
}

static time_t now_of(const struct kos_sa *sa)
{
    return sa->now ? sa->now() : time(NULL);
}

int kos_sa_issue(struct kos_sa *sa, const struct kos_sa_token_request *req, char **token,
                 time_t *expires, struct kos_error **err)
{
    if (req->expiration_seconds < KOS_SA_MIN_EXPIRATION ||
        req->expiration_seconds > KOS_SA_MAX_EXPIRATION)
        return kos_error_set(err, 422, "Invalid", "expirationSeconds out of range");
    time_t now = now_of(sa);
    time_t exp = now + (time_t)req->expiration_seconds;
    char jti[40];
    int r = kos_uuid_v4(jti, sizeof(jti));
    if (r < 0)
        return r;
    char sub[1024];
    snprintf(sub, sizeof(sub), KOS_SA_USER_PREFIX "%s:%s", req->namespace_, req->name);
    _cleanup_json_ json_t *aud = json_array();
    if (!aud)
        return -ENOMEM;
    for (size_t i = 0; i < req->naudiences; i++)
        json_array_append_new(aud, json_string(req->audiences[i]));
    _cleanup_json_ json_t *k8s = json_pack("{s:s, s:{s:s, s:s}}", "namespace", req->namespace_,
                                           "serviceaccount", "name", req->name, "uid", req->uid);
    if (!k8s)
        return -EINVAL;
    if (req->bound_kind) {
        const char *field = strcmp(req->bound_kind, "Pod") == 0 ? "pod" : "secret";
        json_t *b = json_pack("{s:s, s:s}", "name", req->bound_name, "uid", req->bound_uid);
        if (!b)
            return -EINVAL;
        json_object_set_new(k8s, field, b);
    }
    _cleanup_json_ json_t *claims =
        json_pack("{s:O, s:I, s:I, s:s, s:s, s:O, s:I, s:s}", "aud", aud, "exp", (json_int_t)exp,
                  "iat", (json_int_t)now, "iss", sa->issuers[0], "jti", jti, "kubernetes.io", k8s,
                  "nbf", (json_int_t)now, "sub", sub);
    if (!claims)
        return -ENOMEM;
    if ((r = kos_jwt_sign(sa->signer, claims, token)) < 0)
        return kos_error_set(err, 500, "InternalError", "signing the token failed");
    *expires = exp;
    return 0;
}

static int reject(struct kos_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int reject(struct kos_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kos_error_setv(err, 401, "Unauthorized", fmt, ap);
    va_end(ap);
    return -EACCES;
}

/* A string claim of at most KOS_USER_MAX_STRING bytes, or NULL. */
static const char *claim_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!s || !s[0] || json_string_length(v) > KOS_USER_MAX_STRING ||
        strlen(s) != json_string_length(v))
        return NULL;
    return s;
}

/* A bound object ({name, uid}) must still exist with the same uid and not have been deleted
 * more than LEEWAY seconds ago (kube's grace for tokens of terminating pods). */
static int check_ref(struct kos_sa *sa, const char *resource, const char *what, const char *ns,
                     const json_t *ref, time_t now, const char **name_out, const char **uid_out,
                     struct kos_error **err)
{
    const char *name = claim_str(ref, "name"), *uid = claim_str(ref, "uid");
    if (!name || !uid)
        return reject(err, "service account token has an invalid %s reference", what);
    _cleanup_free_ char *live_uid = NULL;
    time_t deletion = 0;
    int r =
        sa->lookup ? sa->lookup(sa->lookup_ctx, resource, ns, name, &live_uid, &deletion) : -ENOENT;
    if (r == -ENOENT)
        return reject(err, "%s \"%s/%s\" has been deleted", what, ns, name);
    if (r < 0)
        return reject(err, "cannot look up %s \"%s/%s\": %s", what, ns, name, strerror(-r));
    if (strcmp(live_uid, uid) != 0)
        return reject(err, "%s UID (%s) does not match claim (%s)", what, live_uid, uid);
    if (deletion && deletion < now - LEEWAY)
        return reject(err, "%s \"%s/%s\" is marked for deletion", what, ns, name);
    *name_out = name;
    *uid_out = uid;
    return 0;
}

static bool audience_ok(const struct kos_sa *sa, const json_t *aud)
{
    if (json_is_string(aud)) {
        for (size_t i = 0; i < sa->naudiences; i++)
            if (strcmp(json_string_value(aud), sa->audiences[i]) == 0)
                return true;
        return false;
    }
    size_t i;
    json_t *a;
    json_array_foreach(aud, i, a)
    {
        if (i >= KOS_SA_MAX_AUDIENCES)
            break;
        for (size_t j = 0; j < sa->naudiences && json_is_string(a); j++)
            if (strcmp(json_string_value(a), sa->audiences[j]) == 0)
                return true;
    }
    return false;
}

static int sa_authenticate(void *ctx, const char *token, struct kos_user_info *user,
                           struct kos_error **err)
{
    struct kos_sa *sa = ctx;
    _cleanup_(kos_jwt_clear) struct kos_jwt j = {0};
    if (kos_jwt_parse(token, &j) < 0)
        return 0;
    const char *iss = claim_str(j.claims, "iss");
    bool ours = false;
    for (size_t i = 0; iss && i < sa->nissuers; i++)
        ours |= strcmp(iss, sa->issuers[i]) == 0;
    if (!ours)
        return 0;
    if (kos_jwt_verify(&j, token, sa->keys, sa->nkeys) < 0)
        return reject(err, "service account token could not be verified: invalid signature");

    time_t now = now_of(sa);
    json_t *exp = json_object_get(j.claims, "exp"), *nbf = json_object_get(j.claims, "nbf");
    json_t *iat = json_object_get(j.claims, "iat");
    if ((exp && !json_is_integer(exp)) || (nbf && !json_is_integer(nbf)) ||
        (iat && !json_is_integer(iat)))
        return reject(err, "service account token has malformed time claims");
    if (!exp)
        return reject(err, "service account token has no expiration");
    if (json_integer_value(exp) < (json_int_t)now - LEEWAY)
        return reject(err, "service account token has expired");
    if (nbf && json_integer_value(nbf) > (json_int_t)now + LEEWAY)
        return reject(err, "service account token is not valid yet");
    if (iat && json_integer_value(iat) > (json_int_t)now + LEEWAY)
        return reject(err, "service account token is issued in the future");

    json_t *aud = json_object_get(j.claims, "aud");
    if (!audience_ok(sa, aud))
        return reject(err, "token audiences are invalid for the target audiences");

    json_t *k8s = json_object_get(j.claims, "kubernetes.io");
    if (!json_is_object(k8s))
        return reject(err, "service account token claims could not be validated due to unknown "
                           "private claim");
    const char *ns = claim_str(k8s, "namespace");
    json_t *saref = json_object_get(k8s, "serviceaccount");
    if (!ns || !json_is_object(saref))
        return reject(err, "service account token does not name a namespace and service "
                           "account");
    const char *sa_name = NULL, *sa_uid = NULL;
    int r =
        check_ref(sa, "serviceaccounts", "service account", ns, saref, now, &sa_name, &sa_uid, err);
    if (r < 0)
        return r;
    const char *sub = claim_str(j.claims, "sub");
    char want_sub[2200];
    snprintf(want_sub, sizeof(want_sub), KOS_SA_USER_PREFIX "%s:%s", ns, sa_name);
    if (!sub || strcmp(sub, want_sub) != 0)
        return reject(err, "service account token subject does not match its claims");

    const char *pod_name = NULL, *pod_uid = NULL, *unused_name, *unused_uid;
    json_t *podref = json_object_get(k8s, "pod"), *secref = json_object_get(k8s, "secret");
    if (podref && (r = check_ref(sa, "pods", "pod", ns, podref, now, &pod_name, &pod_uid, err)) < 0)
        return r;
    if (secref && (r = check_ref(sa, "secrets", "secret", ns, secref, now, &unused_name,
                                 &unused_uid, err)) < 0)
        return r;

    _cleanup_(kos_user_info_clear) struct kos_user_info u = {0};
    char group_ns[1100];
    snprintf(group_ns, sizeof(group_ns), KOS_SA_GROUP_ALL ":%s", ns);
    if (!(u.name = strdup(want_sub)) || !(u.uid = strdup(sa_uid)) ||
        kos_user_info_add_group(&u, KOS_SA_GROUP_ALL) < 0 ||
        kos_user_info_add_group(&u, group_ns) < 0)
        return -ENOMEM;
    if (pod_name && (kos_user_info_add_extra(&u, KOS_SA_EXTRA_POD_NAME, pod_name) < 0 ||
                     kos_user_info_add_extra(&u, KOS_SA_EXTRA_POD_UID, pod_uid) < 0))
        return -ENOMEM;
    const char *jti = claim_str(j.claims, "jti");
    if (jti) {
        char cred[1100];
        snprintf(cred, sizeof(cred), "JTI=%s", jti);
        if (kos_user_info_add_extra(&u, KOS_SA_EXTRA_CREDENTIAL, cred) < 0)
            return -ENOMEM;
    }
    *user = u;
    memset(&u, 0, sizeof(u));
    return 1;
}

struct kos_token_authenticator kos_sa_authenticator(struct kos_sa *sa)
{
    return (struct kos_token_authenticator){
        .name = "serviceaccount", .authenticate = sa_authenticate, .free = NULL, .ctx = sa};
}

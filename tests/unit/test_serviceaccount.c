/* Service-account tokens: base64url, JWT sign/verify (ES256 from the generated sa.key, RS256
 * from a user's key file), the claims kube writes, and every check of the authenticator:
 * signature, alg, exp/nbf/iat, issuer, audience, the ServiceAccount and bound Pod/Secret
 * still existing with the same uid, and malformed tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/jwt.h"
#include "auth/serviceaccount.h"
#include "util/cleanup.h"

static char tmpdir[] = "/tmp/kos-sa-test-XXXXXX";
static time_t fake_now = 1800000000;
static time_t clock_fn(void)
{
    return fake_now;
}

/* The objects the lookup sees. */
static const char *sa_uid = "sa-uid-1";
static const char *pod_uid = "pod-uid-1";
static time_t pod_deletion;

static int lookup(void *ctx, const char *resource, const char *ns, const char *name, char **uid,
                  time_t *deletion)
{
    const char *u = NULL;
    *deletion = 0;
    if (!strcmp(resource, "serviceaccounts") && !strcmp(ns, "default") && !strcmp(name, "robot"))
        u = sa_uid;
    if (!strcmp(resource, "pods") && !strcmp(name, "p1")) {
        u = pod_uid;
        *deletion = pod_deletion;
    }
    if (!u)
        return -ENOENT;
    *uid = strdup(u);
    return 0;
}

static struct kos_sa *new_sa(const char *signing_file, const char *const *key_files, size_t nk)
{
    static const char *const auds[] = {"api", "other"};
    struct kos_sa_options o = {.tls_dir = tmpdir,
                               .signing_key_file = signing_file,
                               .key_files = key_files,
                               .nkey_files = nk,
                               .audiences = auds,
                               .naudiences = 2,
                               .lookup = lookup,
                               .now = clock_fn};
    struct kos_sa *sa = NULL;
    struct kos_error *err = NULL;
    int r = kos_sa_new(&o, &sa, &err);
    if (r < 0)
        fail_msg("kos_sa_new: %d %s", r, err ? err->message : "");
    return sa;
}

static char *issue(struct kos_sa *sa, const char *bound)
{
    static const char *const auds[] = {"api"};
    struct kos_sa_token_request req = {.namespace_ = "default",
                                       .name = "robot",
                                       .uid = "sa-uid-1",
                                       .audiences = auds,
                                       .naudiences = 1,
                                       .expiration_seconds = 3600,
                                       .bound_kind = bound,
                                       .bound_name = "p1",
                                       .bound_uid = "pod-uid-1"};
    char *tok = NULL;
    time_t exp = 0;
    assert_int_equal(kos_sa_issue(sa, &req, &tok, &exp, NULL), 0);
    assert_int_equal(exp, fake_now + 3600);
    return tok;
}

static int authn(struct kos_sa *sa, const char *tok, struct kos_user_info *u, char *msg,
                 size_t msglen)
{
    struct kos_token_authenticator a = kos_sa_authenticator(sa);
    struct kos_error *err = NULL;
    int r = a.authenticate(a.ctx, tok, u, &err);
    if (msg)
        snprintf(msg, msglen, "%s", err && err->message ? err->message : "");
    if (r < 0)
        assert_int_equal(err->code, 401);
    kos_error_free(err);
    return r;
}

static void expect_reject(struct kos_sa *sa, const char *tok, const char *needle)
{
    struct kos_user_info u = {0};
    char msg[512];
    int r = authn(sa, tok, &u, msg, sizeof(msg));
    if (r != -EACCES || !strstr(msg, needle))
        fail_msg("want rejection \"%s\", got %d \"%s\"", needle, r, msg);
    assert_null(u.name);
}

static void test_base64url(void **state)
{
    _cleanup_free_ char *e = kos_base64url_encode("\xfb\xff\xfe", 3);
    assert_string_equal(e, "-__-");
    _cleanup_free_ char *e2 = kos_base64url_encode("ab", 2);
    assert_string_equal(e2, "YWI");
    char *d = NULL;
    size_t n = 0;
    assert_int_equal(kos_base64url_decode("YWI", 3, &d, &n), 0);
    assert_int_equal(n, 2);
    assert_memory_equal(d, "ab", 2);
    free(d);
    assert_true(kos_base64url_decode("YWI=", 4, &d, &n) < 0);
    assert_true(kos_base64url_decode("+/", 2, &d, &n) < 0);
    assert_true(kos_base64url_decode("Y", 1, &d, &n) < 0);
}

static void test_issue_and_verify(void **state)
{
    struct kos_sa *sa = new_sa(NULL, NULL, 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/sa.key", tmpdir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    _cleanup_free_ char *tok = issue(sa, NULL);
    struct kos_jwt j = {0};
    assert_int_equal(kos_jwt_parse(tok, &j), 0);
    assert_int_equal(j.alg, KOS_JWT_ES256);
    assert_string_equal(json_string_value(json_object_get(j.header, "alg")), "ES256");
    assert_non_null(json_string_value(json_object_get(j.header, "kid")));
    assert_string_equal(json_string_value(json_object_get(j.claims, "iss")), KOS_SA_DEFAULT_ISSUER);
    assert_string_equal(json_string_value(json_object_get(j.claims, "sub")),
                        "system:serviceaccount:default:robot");
    assert_int_equal(json_integer_value(json_object_get(j.claims, "exp")), fake_now + 3600);
    json_t *k8s = json_object_get(j.claims, "kubernetes.io");
    assert_string_equal(json_string_value(json_object_get(k8s, "namespace")), "default");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(k8s, "serviceaccount"), "uid")),
        "sa-uid-1");
    kos_jwt_clear(&j);

    struct kos_user_info u = {0};
    assert_int_equal(authn(sa, tok, &u, NULL, 0), 1);
    assert_string_equal(u.name, "system:serviceaccount:default:robot");
    assert_string_equal(u.uid, "sa-uid-1");
    assert_true(kos_user_info_in_group(&u, "system:serviceaccounts"));
    assert_true(kos_user_info_in_group(&u, "system:serviceaccounts:default"));
    assert_int_equal(u.nextra, 1); /* credential-id only: not bound */
    kos_user_info_clear(&u);

    /* bound to a pod: extras; pod gone or replaced -> rejected */
    _cleanup_free_ char *bound = issue(sa, "Pod");
    assert_int_equal(authn(sa, bound, &u, NULL, 0), 1);
    assert_int_equal(u.nextra, 3);
    assert_string_equal(u.extra[0].key, "authentication.kubernetes.io/pod-name");
    assert_string_equal(u.extra[0].values[0], "p1");
    kos_user_info_clear(&u);
    pod_uid = "pod-uid-2";
    expect_reject(sa, bound, "pod UID (pod-uid-2) does not match claim (pod-uid-1)");
    pod_uid = "pod-uid-1";
    pod_deletion = fake_now - 120;
    expect_reject(sa, bound, "is marked for deletion");
    pod_deletion = 0;
    _cleanup_free_ char *secret_bound = issue(sa, "Secret");
    expect_reject(sa, secret_bound, "secret \"default/p1\" has been deleted");

    /* the service account is deleted, or re-created with another uid */
    sa_uid = "sa-uid-2";
    expect_reject(sa, tok, "service account UID (sa-uid-2) does not match claim (sa-uid-1)");
    sa_uid = "sa-uid-1";

    /* time */
    fake_now += 3600 + 61;
    expect_reject(sa, tok, "service account token has expired");
    fake_now -= 3600 + 61;
    fake_now -= 120;
    expect_reject(sa, tok, "not valid yet");
    fake_now += 120;

    /* a restart reuses sa.key: old tokens still verify */
    struct kos_sa *sa2 = new_sa(NULL, NULL, 0);
    assert_int_equal(authn(sa2, tok, &u, NULL, 0), 1);
    kos_user_info_clear(&u);
    kos_sa_free(sa2);

    /* tampering */
    _cleanup_free_ char *t2 = strdup(tok);
    char *dot = strchr(t2, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A';
    assert_true(authn(sa, t2, &u, NULL, 0) <= 0);
    _cleanup_free_ char *t3 = strdup(tok);
    size_t l = strlen(t3);
    t3[l - 2] = t3[l - 2] == 'A' ? 'B' : 'A';
    expect_reject(sa, t3, "invalid signature");
    kos_sa_free(sa);
}

static char *forge(const char *header, const char *claims, const char *sig)
{
    _cleanup_free_ char *h = kos_base64url_encode(header, strlen(header));
    _cleanup_free_ char *c = kos_base64url_encode(claims, strlen(claims));
    char *out = NULL;
    if (asprintf(&out, "%s.%s.%s", h, c, sig) < 0)
        abort();
    return out;
}

static void test_malformed(void **state)
{
    struct kos_sa *sa = new_sa(NULL, NULL, 0);
    struct kos_user_info u = {0};
    static const char *const not_ours[] = {"",    "abc",      "a.b",        "a.b.c.d",
                                           "...", "!!.!!.!!", "e30.e30.e30"};
    for (size_t i = 0; i < sizeof(not_ours) / sizeof(not_ours[0]); i++)
        assert_int_equal(authn(sa, not_ours[i], &u, NULL, 0), 0);
    const char *claims = "{\"iss\":\"" KOS_SA_DEFAULT_ISSUER "\",\"sub\":\"x\"}";
    _cleanup_free_ char *none = forge("{\"alg\":\"none\"}", claims, "");
    assert_int_equal(authn(sa, none, &u, NULL, 0), 0);
    _cleanup_free_ char *hs = forge("{\"alg\":\"HS256\"}", claims, "AAAA");
    assert_int_equal(authn(sa, hs, &u, NULL, 0), 0);
    _cleanup_free_ char *short_sig = forge("{\"alg\":\"ES256\"}", claims, "AAAA");
    assert_int_equal(authn(sa, short_sig, &u, NULL, 0), 0);
    char sig64[100];
    memset(sig64, 'A', 86);
    sig64[86] = '\0';
    _cleanup_free_ char *unsigned_tok = forge("{\"alg\":\"ES256\"}", claims, sig64);
    expect_reject(sa, unsigned_tok, "invalid signature");
    _cleanup_free_ char *other_iss =
        forge("{\"alg\":\"ES256\"}", "{\"iss\":\"https://elsewhere\"}", sig64);
    assert_int_equal(authn(sa, other_iss, &u, NULL, 0), 0);
    char *huge = malloc(KOS_JWT_MAX + 10);
    memset(huge, 'a', KOS_JWT_MAX + 9);
    huge[KOS_JWT_MAX + 9] = '\0';
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(authn(sa, huge, &u, NULL, 0), 0);
    free(huge);
    kos_sa_free(sa);
}

/* A token signed with a key of the right issuer but for another audience. */
static void test_audience_and_rsa(void **state)
{
    /* an RSA signing key from a file; its public half in a key file for a second server */
    gnutls_x509_privkey_t key;
    gnutls_x509_privkey_init(&key);
    assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0), 0);
    gnutls_datum_t pem = {0};
    assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem), 0);
    gnutls_x509_privkey_deinit(key);
    char path[512];
    snprintf(path, sizeof(path), "%s/rsa.key", tmpdir);
    FILE *f = fopen(path, "w");
    fwrite(pem.data, 1, pem.size, f);
    fclose(f);
    gnutls_free(pem.data);

    struct kos_sa *rsa = new_sa(path, NULL, 0);
    _cleanup_free_ char *tok = issue(rsa, NULL);
    struct kos_jwt j = {0};
    assert_int_equal(kos_jwt_parse(tok, &j), 0);
    assert_int_equal(j.alg, KOS_JWT_RS256);
    kos_jwt_clear(&j);
    struct kos_user_info u = {0};
    assert_int_equal(authn(rsa, tok, &u, NULL, 0), 1);
    kos_user_info_clear(&u);

    /* the default server (own sa.key) does not trust it... */
    struct kos_sa *plain = new_sa(NULL, NULL, 0);
    expect_reject(plain, tok, "invalid signature");
    kos_sa_free(plain);
    /* ...until the key is listed in --service-account-key-file */
    const char *files[] = {path};
    struct kos_sa *trusting = new_sa(NULL, files, 1);
    assert_int_equal(authn(trusting, tok, &u, NULL, 0), 1);
    kos_user_info_clear(&u);
    kos_sa_free(trusting);

    /* a token for an audience the server does not serve */
    static const char *const auds[] = {"vault"};
    struct kos_sa_token_request req = {.namespace_ = "default",
                                       .name = "robot",
                                       .uid = "sa-uid-1",
                                       .audiences = auds,
                                       .naudiences = 1,
                                       .expiration_seconds = 600};
    char *vault = NULL;
    time_t exp;
    assert_int_equal(kos_sa_issue(rsa, &req, &vault, &exp, NULL), 0);
    expect_reject(rsa, vault, "token audiences are invalid");
    free(vault);
    req.expiration_seconds = 599;
    struct kos_error *err = NULL;
    assert_true(kos_sa_issue(rsa, &req, &vault, &exp, &err) < 0);
    kos_error_free(err);
    err = NULL;
    kos_sa_free(rsa);

    /* bad key files */
    snprintf(path, sizeof(path), "%s/junk.pem", tmpdir);
    f = fopen(path, "w");
    fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", f);
    fclose(f);
    struct kos_sa_options o = {.tls_dir = tmpdir, .key_files = files, .nkey_files = 1};
    files[0] = path;
    struct kos_sa *bad = NULL;
    assert_true(kos_sa_new(&o, &bad, &err) < 0);
    assert_non_null(err);
    kos_error_free(err);
    err = NULL;
    o.nkey_files = 0;
    o.signing_key_file = path;
    assert_true(kos_sa_new(&o, &bad, &err) < 0);
    kos_error_free(err);
    err = NULL;
    o.signing_key_file = "/nonexistent";
    assert_true(kos_sa_new(&o, &bad, &err) < 0);
    assert_non_null(strstr(err->message, "does not exist"));
    kos_error_free(err);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_issue_and_verify),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_audience_and_rsa),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

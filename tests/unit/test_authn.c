/* Authentication: the --token-auth-file parser, the client-certificate mapping, the order and
 * failure rules of the authenticator chain, and impersonation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver/authz/authz.h"
#include "auth/authn.h"
#include "auth/impersonate.h"
#include "auth/token_file.h"
#include "pki/pki.h"

/* ---- token file ------------------------------------------------------------------------- */

static struct kos_token_file *parse_ok(const char *csv)
{
    struct kos_token_file *tf = NULL;
    struct kos_error *err = NULL;
    int r = kos_token_file_parse(csv, strlen(csv), "t.csv", &tf, &err);
    if (r != 0)
        fail_msg("parse failed: %s", err ? err->message : "?");
    return tf;
}

static char *parse_err(const char *csv, size_t len)
{
    struct kos_token_file *tf = NULL;
    struct kos_error *err = NULL;
    assert_true(kos_token_file_parse(csv, len, "t.csv", &tf, &err) < 0);
    assert_null(tf);
    assert_non_null(err);
    assert_int_equal(err->code, 400);
    char *msg = strdup(err->message);
    kos_error_free(err);
    return msg;
}

static void assert_groups(const struct kos_user_info *u, const char *const *want, size_t n)
{
    assert_int_equal(u->ngroups, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(u->groups[i], want[i]);
}

static void test_token_file_records(void **state)
{
    (void)state;
    struct kos_token_file *tf =
        parse_ok("tok1,alice,uid-1,\"dev,ops\"\n"
                 "\n"
                 "tok2,bob,uid-2\r\n"
                 "\"tok,3\",\"carol \"\"c\"\"\",uid-3,\"g1\",extra,columns,ignored\n"
                 ",nobody,uid-x,g\n" /* an empty token is skipped */
                 "tok4,dave,uid-4,\"multi\nline\"\n"
                 "tok1,alice2,uid-1b,solo\n" /* a duplicate: the later record wins */
                 "tok5,eve,uid-5,\"a,,b,\"");
    assert_int_equal(kos_token_file_count(tf), 5);

    struct kos_user_info u = {0};
    assert_int_equal(kos_token_file_lookup(tf, "tok1", &u), 1);
    assert_string_equal(u.name, "alice2");
    assert_string_equal(u.uid, "uid-1b");
    assert_groups(&u, (const char *[]){"solo"}, 1);
    kos_user_info_clear(&u);

    assert_int_equal(kos_token_file_lookup(tf, "tok2", &u), 1);
    assert_string_equal(u.name, "bob");
    assert_string_equal(u.uid, "uid-2"); /* the CR of CRLF is not part of the field */
    assert_int_equal(u.ngroups, 0);
    kos_user_info_clear(&u);

    assert_int_equal(kos_token_file_lookup(tf, "tok,3", &u), 1);
    assert_string_equal(u.name, "carol \"c\"");
    assert_groups(&u, (const char *[]){"g1"}, 1);
    kos_user_info_clear(&u);

    assert_int_equal(kos_token_file_lookup(tf, "tok4", &u), 1);
    assert_groups(&u, (const char *[]){"multi\nline"}, 1);
    kos_user_info_clear(&u);

    assert_int_equal(kos_token_file_lookup(tf, "tok5", &u), 1);
    assert_groups(&u, (const char *[]){"a", "b"}, 2);
    kos_user_info_clear(&u);

    assert_int_equal(kos_token_file_lookup(tf, "", &u), 0);
    assert_int_equal(kos_token_file_lookup(tf, "tok", &u), 0);
    assert_int_equal(kos_token_file_lookup(tf, "tok1 ", &u), 0);
    kos_token_file_free(tf);

    tf = parse_ok(""); /* an empty file is valid: no tokens */
    assert_int_equal(kos_token_file_count(tf), 0);
    kos_token_file_free(tf);
}

static void test_token_file_errors(void **state)
{
    (void)state;
    struct {
        const char *csv;
        const char *want;
    } cases[] = {
        {"tok,user\n",
         "token file 't.csv' must have at least 3 columns (token, user name, user uid), found 2"},
        {"a,b,c\nonly-one\n", "found 1"},
        {"a,b,c\n   \n", "found 1"}, /* spaces are a field, not a blank line */
        {"a,b\"x,c\n", "token file 't.csv': parse error on line 1, column 4: bare \" in "
                       "non-quoted-field"},
        {"a,b,c\n\"a\"x,b,c\n", "parse error on line 2, column 4: extraneous or missing \" in "
                                "quoted-field"},
        {"a,b,\"c\nd\ne", "record on line 1; parse error on line 3, column"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *msg = parse_err(cases[i].csv, strlen(cases[i].csv));
        if (!strstr(msg, cases[i].want))
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, msg, cases[i].want);
        free(msg);
    }
    char *msg = parse_err("a,b,c\nx\0y,b,c\n", 14);
    assert_non_null(strstr(msg, "NUL byte on line 2"));
    free(msg);

    /* bounds: too many groups */
    size_t cap = 20 * (KOS_USER_MAX_GROUPS + 10);
    char *big = malloc(cap);
    assert_non_null(big);
    size_t n = (size_t)snprintf(big, cap, "t,u,i,\"");
    for (int g = 0; g < KOS_USER_MAX_GROUPS + 5; g++)
        n += (size_t)snprintf(big + n, cap - n, "g%d,", g);
    n += (size_t)snprintf(big + n, cap - n, "\"\n");
    msg = parse_err(big, n);
    assert_non_null(strstr(msg, "groups on line 1"));
    free(msg);
    free(big);
}

static void test_token_file_load(void **state)
{
    (void)state;
    char path[] = "/tmp/kos-authn-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char csv[] = "secret,alice,42,\"system:masters\"\n";
    assert_int_equal(write(fd, csv, sizeof(csv) - 1), (ssize_t)(sizeof(csv) - 1));
    close(fd);
    struct kos_token_file *tf = NULL;
    assert_int_equal(kos_token_file_load(path, &tf, NULL), 0);
    assert_int_equal(kos_token_file_count(tf), 1);
    kos_token_file_free(tf);
    unlink(path);
    struct kos_error *err = NULL;
    assert_true(kos_token_file_load(path, &tf, &err) < 0);
    assert_non_null(strstr(err->message, "No such file"));
    kos_error_free(err);
}

/* ---- client certificates ---------------------------------------------------------------- */

struct pki_fixture {
    struct pki_keypair ca, other_ca, alice;
    struct pki_trust *trust;
};

static int pki_setup(void **state)
{
    struct pki_fixture *f = calloc(1, sizeof(*f));
    const struct pki_cert_spec ca = {.kind = PKI_CERT_CA, .common_name = "test-ca"};
    assert_int_equal(pki_issue(&ca, NULL, &f->ca, NULL), 0);
    assert_int_equal(pki_issue(&ca, NULL, &f->other_ca, NULL), 0);
    const char *orgs[] = {"dev", "ops"};
    const struct pki_cert_spec alice = {.kind = PKI_CERT_CLIENT,
                                        .common_name = "alice",
                                        .organizations = orgs,
                                        .norganizations = 2};
    assert_int_equal(pki_issue(&alice, &f->ca, &f->alice, NULL), 0);
    assert_int_equal(pki_trust_new(f->ca.cert_pem, strlen(f->ca.cert_pem), &f->trust, NULL), 0);
    *state = f;
    return 0;
}

static int pki_teardown(void **state)
{
    struct pki_fixture *f = *state;
    pki_keypair_clear(&f->ca);
    pki_keypair_clear(&f->other_ca);
    pki_keypair_clear(&f->alice);
    pki_trust_free(f->trust);
    free(f);
    return 0;
}

/* The verdict the HTTP layer would reach for a peer presenting cert_pem. */
static void peer_for(const struct pki_trust *t, const char *cert_pem, struct pki_peer *peer)
{
    memset(peer, 0, sizeof(*peer));
    peer->checked = true;
    int r = pki_verify_client_cert(t, cert_pem, strlen(cert_pem), &peer->identity, NULL);
    peer->status = r == 0 ? PKI_PEER_VERIFIED : r == -ENOENT ? PKI_PEER_NONE : PKI_PEER_REJECTED;
}

static void test_x509_mapping(void **state)
{
    struct pki_fixture *f = *state;
    struct pki_peer peer;
    peer_for(f->trust, f->alice.cert_pem, &peer);
    assert_int_equal(peer.status, PKI_PEER_VERIFIED);
    struct kos_user_info u = {0};
    assert_int_equal(kos_authn_x509_user(&peer, &u), 1);
    assert_string_equal(u.name, "alice");
    assert_null(u.uid);
    assert_groups(&u, (const char *[]){"dev", "ops"}, 2);
    kos_user_info_clear(&u);
    pki_peer_clear(&peer);

    /* signed by another CA: rejected */
    const struct pki_cert_spec mallory = {.kind = PKI_CERT_CLIENT, .common_name = "mallory"};
    struct pki_keypair m = {0};
    assert_int_equal(pki_issue(&mallory, &f->other_ca, &m, NULL), 0);
    peer_for(f->trust, m.cert_pem, &peer);
    assert_int_equal(peer.status, PKI_PEER_REJECTED);
    assert_int_equal(kos_authn_x509_user(&peer, &u), -EACCES);
    pki_peer_clear(&peer);
    pki_keypair_clear(&m);

    /* none presented, or no peer at all */
    memset(&peer, 0, sizeof(peer));
    assert_int_equal(kos_authn_x509_user(&peer, &u), 0);
    assert_int_equal(kos_authn_x509_user(NULL, &u), 0);
}

/* ---- the chain -------------------------------------------------------------------------- */

struct fake_token {
    const char *name;
    const char *accept; /* the token it knows */
    int fail;           /* negative: answer this error for every other token */
    int calls;
    int freed;
};

static int fake_authenticate(void *ctx, const char *token, struct kos_user_info *user,
                             struct kos_error **err)
{
    struct fake_token *f = ctx;
    f->calls++;
    if (f->accept && strcmp(token, f->accept) == 0) {
        user->name = strdup(f->name);
        kos_user_info_add_group(user, f->name);
        return 1;
    }
    if (f->fail)
        return kos_error_set(err, 401, "Unauthorized", "%s: token expired", f->name);
    return 0;
}

static void fake_free(void *ctx)
{
    ((struct fake_token *)ctx)->freed++;
}

static struct kos_authn *chain(bool anonymous, struct fake_token *a, struct fake_token *b)
{
    const struct kos_authn_options o = {.anonymous = anonymous};
    struct kos_authn *c = NULL;
    assert_int_equal(kos_authn_new(&o, &c), 0);
    struct fake_token *v[] = {a, b};
    for (size_t i = 0; i < 2; i++) {
        if (!v[i])
            continue;
        const struct kos_token_authenticator ta = {
            .name = v[i]->name, .authenticate = fake_authenticate, .free = fake_free, .ctx = v[i]};
        assert_int_equal(kos_authn_add_token_authenticator(c, &ta), 0);
    }
    return c;
}

static int authn(struct kos_authn *c, const struct pki_peer *peer, const char *authz,
                 struct kos_user_info *u)
{
    struct kos_error *err = NULL;
    char why[256];
    int r = kos_authn_authenticate(c, peer, authz, u, why, sizeof(why), &err);
    if (r < 0) {
        assert_int_equal(r, -EACCES);
        assert_int_equal(err->code, 401);
        assert_string_equal(err->reason, "Unauthorized");
        assert_string_equal(err->message, "Unauthorized");
        assert_true(why[0] != '\0');
        kos_error_free(err);
    }
    return r;
}

static void test_chain_order(void **state)
{
    struct pki_fixture *f = *state;
    struct fake_token first = {.name = "first", .accept = "t1"};
    struct fake_token second = {.name = "second", .accept = "t2", .fail = -EACCES};
    struct kos_authn *c = chain(false, &first, &second);
    struct kos_user_info u = {0};

    /* first match wins; the second is not asked */
    assert_int_equal(authn(c, NULL, "Bearer t1", &u), 0);
    assert_string_equal(u.name, "first");
    assert_groups(&u, (const char *[]){"first", "system:authenticated"}, 2);
    assert_int_equal(second.calls, 0);
    kos_user_info_clear(&u);

    /* not the first's: the second is asked */
    assert_int_equal(authn(c, NULL, "bearer t2", &u), 0);
    assert_string_equal(u.name, "second");
    assert_int_equal(first.calls, 2);
    kos_user_info_clear(&u);

    /* nobody's: 401 */
    assert_int_equal(authn(c, NULL, "Bearer nope", &u), -EACCES);
    /* other schemes and empty tokens are no credentials at all: 401 as anonymous is off */
    int calls = first.calls;
    assert_int_equal(authn(c, NULL, "Basic dXNlcjpwYXNz", &u), -EACCES);
    assert_int_equal(authn(c, NULL, "Bearer ", &u), -EACCES);
    assert_int_equal(authn(c, NULL, NULL, &u), -EACCES);
    assert_int_equal(first.calls, calls);

    /* a verified certificate wins over a token; the tokens are not asked */
    struct pki_peer peer;
    peer_for(f->trust, f->alice.cert_pem, &peer);
    assert_int_equal(authn(c, &peer, "Bearer t2", &u), 0);
    assert_string_equal(u.name, "alice");
    assert_groups(&u, (const char *[]){"dev", "ops", "system:authenticated"}, 3);
    assert_int_equal(first.calls, calls);
    kos_user_info_clear(&u);
    pki_peer_clear(&peer);

    /* a rejected certificate: a working token still authenticates, none is a 401 */
    memset(&peer, 0, sizeof(peer));
    peer.status = PKI_PEER_REJECTED;
    assert_int_equal(authn(c, &peer, "Bearer t1", &u), 0);
    assert_string_equal(u.name, "first");
    kos_user_info_clear(&u);
    assert_int_equal(authn(c, &peer, NULL, &u), -EACCES);

    kos_authn_free(c);
    assert_int_equal(first.freed, 1);
    assert_int_equal(second.freed, 1);
}

static void test_chain_anonymous(void **state)
{
    struct fake_token tok = {.name = "tok", .accept = "good"};
    struct kos_authn *c = chain(true, &tok, NULL);
    struct kos_user_info u = {0};
    assert_int_equal(authn(c, NULL, NULL, &u), 0);
    assert_string_equal(u.name, "system:anonymous");
    assert_groups(&u, (const char *[]){"system:unauthenticated"}, 1);
    kos_user_info_clear(&u);
    /* bad credentials are never downgraded to anonymous */
    assert_int_equal(authn(c, NULL, "Bearer bad", &u), -EACCES);
    struct pki_peer peer = {.status = PKI_PEER_REJECTED, .checked = true};
    assert_int_equal(authn(c, &peer, NULL, &u), -EACCES);
    kos_authn_free(c);

    /* no chain at all fails closed */
    assert_int_equal(authn(NULL, NULL, "Bearer good", &u), -EACCES);
    (void)state;
}

static void test_chain_bounds(void **state)
{
    (void)state;
    struct kos_authn *c = chain(false, NULL, NULL);
    struct fake_token f = {.name = "f"};
    const struct kos_token_authenticator ta = {
        .name = "f", .authenticate = fake_authenticate, .free = fake_free, .ctx = &f};
    for (int i = 0; i < KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS; i++)
        assert_int_equal(kos_authn_add_token_authenticator(c, &ta), 0);
    assert_int_equal(kos_authn_add_token_authenticator(c, &ta), -E2BIG);
    assert_int_equal(f.freed, 1); /* owned even when refused */
    kos_authn_free(c);
    assert_int_equal(f.freed, 1 + KOS_AUTHN_MAX_TOKEN_AUTHENTICATORS);
}

/* ---- impersonation ---------------------------------------------------------------------- */

struct recorded {
    char what[16][160];
    int n;
};

/* system:masters may impersonate anything; "alice" may impersonate users only. */
static int test_authorizer(void *ctx, const struct authz_attributes *a, char **reason)
{
    struct recorded *rec = ctx;
    if (rec && rec->n < 16)
        snprintf(rec->what[rec->n++], 160, "%s %s/%s %s %s ns=%s", a->verb, a->api_group,
                 a->resource, a->subresource, a->name, a->namespace_);
    if (authz_user_in_group(a->user, "system:masters"))
        return AUTHZ_ALLOW;
    if (strcmp(a->user->name, "alice") == 0 && strcmp(a->resource, "users") == 0)
        return AUTHZ_ALLOW;
    *reason = NULL;
    return AUTHZ_NO_OPINION;
}

static void user_of(const char *name, const char *group, struct kos_user_info *u)
{
    memset(u, 0, sizeof(*u));
    u->name = strdup(name);
    kos_user_info_add_group(u, group);
    kos_user_info_add_group(u, "system:authenticated");
}

static void test_impersonate(void **state)
{
    (void)state;
    struct recorded rec = {0};
    const struct authz_authorizer az = {.authorize = test_authorizer, .ctx = &rec};
    struct kos_user_info admin, alice, out = {0};
    user_of("kubernetes-admin", "system:masters", &admin);
    user_of("alice", "dev", &alice);
    struct kos_error *err = NULL;

    /* no headers: nothing to do */
    assert_int_equal(kos_impersonate(&az, &admin, NULL, 0, &out, &err), 0);

    const struct kos_header h1[] = {{"Impersonate-User", "bob"},
                                    {"impersonate-group", "g1"},
                                    {"Impersonate-Group", "g2"},
                                    {"Impersonate-Uid", "u-1"},
                                    {"Impersonate-Extra-Scopes%2FA", "view"},
                                    {"Impersonate-Extra-scopes%2Fa", "edit"}};
    assert_int_equal(kos_impersonate(&az, &admin, h1, 6, &out, &err), 1);
    assert_string_equal(out.name, "bob");
    assert_string_equal(out.uid, "u-1");
    assert_groups(&out, (const char *[]){"g1", "g2", "system:authenticated"}, 3);
    assert_int_equal(out.nextra, 1);
    assert_string_equal(out.extra[0].key, "scopes/a");
    assert_int_equal(out.extra[0].nvalues, 2);
    assert_string_equal(out.extra[0].values[1], "edit");
    kos_user_info_clear(&out);
    assert_int_equal(rec.n, 6);
    assert_string_equal(rec.what[0], "impersonate /users  bob ns=");
    assert_string_equal(rec.what[1], "impersonate /groups  g1 ns=");
    assert_string_equal(rec.what[3],
                        "impersonate authentication.k8s.io/userextras scopes/a view ns=");
    assert_string_equal(rec.what[5], "impersonate authentication.k8s.io/uids  u-1 ns=");

    /* a service account gets its fixed groups; system:unauthenticated suppresses
     * system:authenticated; the anonymous user gets system:unauthenticated */
    rec.n = 0;
    const struct kos_header h2[] = {{"Impersonate-User", "system:serviceaccount:ns1:builder"}};
    assert_int_equal(kos_impersonate(&az, &admin, h2, 1, &out, &err), 1);
    assert_string_equal(out.name, "system:serviceaccount:ns1:builder");
    assert_groups(&out,
                  (const char *[]){"system:serviceaccounts", "system:serviceaccounts:ns1",
                                   "system:authenticated"},
                  3);
    assert_string_equal(rec.what[0], "impersonate /serviceaccounts  builder ns=ns1");
    kos_user_info_clear(&out);
    const struct kos_header h3[] = {{"Impersonate-User", "x"},
                                    {"Impersonate-Group", "system:unauthenticated"}};
    assert_int_equal(kos_impersonate(&az, &admin, h3, 2, &out, &err), 1);
    assert_groups(&out, (const char *[]){"system:unauthenticated"}, 1);
    kos_user_info_clear(&out);
    const struct kos_header h4[] = {{"Impersonate-User", "system:anonymous"}};
    assert_int_equal(kos_impersonate(&az, &admin, h4, 1, &out, &err), 1);
    assert_groups(&out, (const char *[]){"system:unauthenticated"}, 1);
    kos_user_info_clear(&out);
    /* not a valid service account name: an ordinary user */
    const struct kos_header h5[] = {{"Impersonate-User", "system:serviceaccount:Bad:x"}};
    rec.n = 0;
    assert_int_equal(kos_impersonate(&az, &admin, h5, 1, &out, &err), 1);
    assert_string_equal(rec.what[0], "impersonate /users  system:serviceaccount:Bad:x ns=");
    kos_user_info_clear(&out);

    /* alice may impersonate users but not groups: kube's 403 */
    assert_int_equal(kos_impersonate(&az, &alice, h1, 2, &out, &err), -EACCES);
    assert_int_equal(err->code, 403);
    assert_string_equal(err->reason, "Forbidden");
    assert_string_equal(err->message,
                        "groups \"g1\" is forbidden: User \"alice\" cannot impersonate resource "
                        "\"groups\" in API group \"\" at the cluster scope");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(kos_impersonate(&az, &alice, h2, 1, &out, &err), -EACCES);
    assert_string_equal(err->message,
                        "serviceaccounts \"builder\" is forbidden: User \"alice\" cannot "
                        "impersonate resource \"serviceaccounts\" in API group \"\" in the "
                        "namespace \"ns1\"");
    kos_error_free(err);
    err = NULL;
    const struct kos_header h6[] = {{"Impersonate-User", "bob"}, {"Impersonate-Extra-k", "v"}};
    assert_int_equal(kos_impersonate(&az, &alice, h6, 2, &out, &err), -EACCES);
    assert_string_equal(err->message,
                        "userextras.authentication.k8s.io \"v\" is forbidden: User \"alice\" "
                        "cannot impersonate resource \"userextras/k\" in API group "
                        "\"authentication.k8s.io\" at the cluster scope");
    kos_error_free(err);
    err = NULL;

    /* groups without a user: 400 */
    const struct kos_header h7[] = {{"Impersonate-Group", "g"}};
    assert_int_equal(kos_impersonate(&az, &admin, h7, 1, &out, &err), -EINVAL);
    assert_int_equal(err->code, 400);
    assert_string_equal(err->message, "requested [{Group  g    }] without impersonating a user");
    kos_error_free(err);

    kos_user_info_clear(&admin);
    kos_user_info_clear(&alice);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_file_records),
        cmocka_unit_test(test_token_file_errors),
        cmocka_unit_test(test_token_file_load),
        cmocka_unit_test_setup_teardown(test_x509_mapping, pki_setup, pki_teardown),
        cmocka_unit_test_setup_teardown(test_chain_order, pki_setup, pki_teardown),
        cmocka_unit_test(test_chain_anonymous),
        cmocka_unit_test(test_chain_bounds),
        cmocka_unit_test(test_impersonate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

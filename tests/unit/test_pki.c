/* The PKI: first-start generation (files, modes, extensions), reuse on restart, SAN coverage
 * and re-issue, user-provided files, client certificate identity and rejection (other CA,
 * expired, wrong purpose, malformed), the kubeconfig writer, and TLS serving through the HTTP
 * layer with real clients (a GnuTLS client written here, and curl). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/http.h"
#include "pki/pki.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "tmpdir_helpers.h"

struct fixture {
    char dir[64];
    char tls[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kos_strlcpy(f->dir, "/tmp/kos-pki-test-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->tls, sizeof(f->tls), "%s/tls", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        assert_int_equal(kos_buf_append(&b, chunk, n), 0);
    fclose(fp);
    if (!b.data)
        return strdup("");
    return kos_buf_steal(&b, NULL);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    fclose(fp);
}

static mode_t file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static int ensure(struct fixture *f, const char *const *sans, size_t n, struct pki_material *m,
                  struct kos_error **err)
{
    struct pki_options o = {.dir = f->tls, .extra_sans = sans, .nextra_sans = n};
    return pki_ensure(&o, m, err);
}

static struct pki_trust *trust_of(const char *pem)
{
    struct pki_trust *t = NULL;
    assert_int_equal(pki_trust_new(pem, strlen(pem), &t, NULL), 0);
    return t;
}

static void issue_client(const struct pki_keypair *ca, const char *cn, const char *const *orgs,
                         size_t norgs, time_t nb, time_t na, struct pki_keypair *ret)
{
    struct pki_cert_spec spec = {.kind = PKI_CERT_CLIENT,
                                 .common_name = cn,
                                 .organizations = orgs,
                                 .norganizations = norgs,
                                 .not_before = nb,
                                 .not_after = na};
    assert_int_equal(pki_issue(&spec, ca, ret, NULL), 0);
}

static void new_ca(const char *cn, struct pki_keypair *ret)
{
    struct pki_cert_spec spec = {.kind = PKI_CERT_CA, .common_name = cn};
    assert_int_equal(pki_issue(&spec, NULL, ret, NULL), 0);
}

static struct pki_keypair material_ca(const struct pki_material *m)
{
    return (struct pki_keypair){.cert_pem = m->ca_cert_pem, .key_pem = m->ca_key_pem};
}

static void test_first_start(void **state)
{
    struct fixture *f = *state;
    struct pki_material m = {0};
    assert_int_equal(ensure(f, NULL, 0, &m, NULL), 0);
    assert_true(m.ca_created && m.serving_issued && m.admin_issued && !m.serving_user_provided);

    assert_int_equal(file_mode(f->tls), 0700);
    const char *keys[] = {m.ca_key_path, m.serving_key_path, m.admin_key_path};
    const char *certs[] = {m.ca_cert_path, m.serving_cert_path, m.admin_cert_path};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(file_mode(keys[i]), 0600);
        assert_int_equal(file_mode(certs[i]), 0644);
    }
    char *ca_file = slurp(m.ca_cert_path);
    assert_string_equal(ca_file, m.ca_cert_pem);
    free(ca_file);
    char path[160];
    snprintf(path, sizeof(path), "%s/server.key", f->tls);
    assert_string_equal(path, m.serving_key_path);

    /* the CA: kos-ca, a CA, signing certificates */
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)m.ca_cert_pem, (unsigned)strlen(m.ca_cert_pem)};
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    char cn[64];
    size_t cnlen = sizeof(cn);
    assert_int_equal(
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cnlen), 0);
    assert_string_equal(cn, "kos-ca");
    unsigned critical = 0, ca = 0, usage = 0;
    int pathlen = 0;
    assert_true(gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca, &pathlen) >= 0 && ca);
    assert_true(gnutls_x509_crt_get_key_usage(crt, &usage, &critical) >= 0);
    assert_true(usage & GNUTLS_KEY_KEY_CERT_SIGN);
    assert_true(usage & GNUTLS_KEY_CRL_SIGN);
    time_t life = gnutls_x509_crt_get_expiration_time(crt) - time(NULL);
    assert_true(life > (time_t)3649 * 86400 && life < (time_t)3651 * 86400);
    gnutls_x509_crt_deinit(crt);

    /* the serving certificate: names and purpose */
    d = (gnutls_datum_t){(unsigned char *)m.serving_cert_pem, (unsigned)strlen(m.serving_cert_pem)};
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
    const unsigned char lo[4] = {127, 0, 0, 1};
    assert_true(gnutls_x509_crt_check_ip(crt, lo, 4, 0));
    char host[256] = "";
    if (gethostname(host, sizeof(host)) == 0 && host[0])
        assert_true(gnutls_x509_crt_check_hostname(crt, host));
    char oid[64];
    size_t oidlen = sizeof(oid);
    assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 0, oid, &oidlen, NULL), 0);
    assert_string_equal(oid, GNUTLS_KP_TLS_WWW_SERVER);
    gnutls_x509_crt_deinit(crt);

    /* the admin certificate maps to kubernetes-admin / system:masters */
    struct pki_trust *t = trust_of(m.client_ca_pem);
    struct pki_identity id = {0};
    assert_int_equal(
        pki_verify_client_cert(t, m.admin_cert_pem, strlen(m.admin_cert_pem), &id, NULL), 0);
    assert_string_equal(id.user, "kubernetes-admin");
    assert_int_equal(id.ngroups, 1);
    assert_string_equal(id.groups[0], "system:masters");
    pki_identity_clear(&id);
    /* the serving certificate is not a client certificate */
    struct kos_error *err = NULL;
    assert_int_equal(
        pki_verify_client_cert(t, m.serving_cert_pem, strlen(m.serving_cert_pem), &id, &err),
        -EACCES);
    assert_int_equal(err->code, 401);
    kos_error_free(err);
    pki_trust_free(t);
    pki_material_clear(&m);
}

static void test_restart_reuses(void **state)
{
    struct fixture *f = *state;
    struct pki_material a = {0}, b = {0};
    assert_int_equal(ensure(f, NULL, 0, &a, NULL), 0);
    assert_int_equal(ensure(f, NULL, 0, &b, NULL), 0);
    assert_false(b.ca_created || b.serving_issued || b.admin_issued);
    assert_string_equal(a.ca_cert_pem, b.ca_cert_pem);
    assert_string_equal(a.ca_key_pem, b.ca_key_pem);
    assert_string_equal(a.serving_cert_pem, b.serving_cert_pem);
    assert_string_equal(a.admin_key_pem, b.admin_key_pem);
    pki_material_clear(&b);

    /* a lost leaf key: the pair is re-issued, the CA kept */
    assert_int_equal(unlink(a.serving_key_path), 0);
    write_text(a.admin_cert_path, "garbage\n");
    assert_int_equal(ensure(f, NULL, 0, &b, NULL), 0);
    assert_true(b.serving_issued && b.admin_issued && !b.ca_created);
    assert_string_equal(a.ca_cert_pem, b.ca_cert_pem);
    assert_string_not_equal(a.serving_cert_pem, b.serving_cert_pem);
    pki_material_clear(&b);

    /* a lost CA key is never papered over with a new CA */
    assert_int_equal(unlink(a.ca_key_path), 0);
    struct kos_error *err = NULL;
    assert_int_equal(ensure(f, NULL, 0, &b, &err), -EINVAL);
    assert_non_null(strstr(err->message, "ca.key does not"));
    kos_error_free(err);
    err = NULL;
    write_text(a.ca_key_path,
               "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
    assert_int_equal(ensure(f, NULL, 0, &b, &err), -EINVAL);
    assert_non_null(strstr(err->message, "private key"));
    kos_error_free(err);
    assert_null(b.ca_cert_pem);
    pki_material_clear(&a);
}

static void test_san_coverage(void **state)
{
    struct fixture *f = *state;
    struct pki_material a = {0}, b = {0};
    assert_int_equal(ensure(f, NULL, 0, &a, NULL), 0);

    const char *more[] = {"10.0.0.5", "kos.example.com", "::1", "*.apps.example.com"};
    assert_int_equal(ensure(f, more, 4, &b, NULL), 0);
    assert_true(b.serving_issued && !b.admin_issued);
    assert_string_equal(a.ca_cert_pem, b.ca_cert_pem);
    bool covered = false;
    assert_int_equal(pki_cert_covers_sans(b.serving_cert_pem, strlen(b.serving_cert_pem), more, 4,
                                          &covered, NULL),
                     0);
    assert_true(covered);
    /* the same addresses spelt differently are the same SANs */
    const char *respelt[] = {"0:0::1", "KOS.example.COM", "127.0.0.1"};
    assert_int_equal(pki_cert_covers_sans(b.serving_cert_pem, strlen(b.serving_cert_pem), respelt,
                                          3, &covered, NULL),
                     0);
    assert_true(covered);
    assert_int_equal(pki_cert_covers_sans(a.serving_cert_pem, strlen(a.serving_cert_pem), more, 4,
                                          &covered, NULL),
                     0);
    assert_false(covered);
    pki_material_clear(&a);

    /* a subset is covered: no re-issue */
    const char *subset[] = {"kos.example.com"};
    assert_int_equal(ensure(f, subset, 1, &a, NULL), 0);
    assert_false(a.serving_issued);
    assert_string_equal(a.serving_cert_pem, b.serving_cert_pem);
    pki_material_clear(&a);
    pki_material_clear(&b);

    /* a SAN that is neither an IP nor a DNS name fails the start */
    const char *bad[] = {"not a name!"};
    struct kos_error *err = NULL;
    assert_int_equal(ensure(f, bad, 1, &a, &err), -EINVAL);
    assert_non_null(strstr(err->message, "not a name!"));
    kos_error_free(err);
}

static void test_identity_and_rejections(void **state)
{
    struct fixture *f = *state;
    struct pki_material m = {0};
    assert_int_equal(ensure(f, NULL, 0, &m, NULL), 0);
    struct pki_keypair ca = material_ca(&m);
    struct pki_trust *t = trust_of(m.client_ca_pem);

    struct pki_keypair alice = {0};
    const char *groups[] = {"dev", "ops", "system:authenticated"};
    issue_client(&ca, "alice", groups, 3, 0, 0, &alice);
    struct pki_identity id = {0};
    assert_int_equal(pki_verify_client_cert(t, alice.cert_pem, strlen(alice.cert_pem), &id, NULL),
                     0);
    assert_string_equal(id.user, "alice");
    assert_int_equal(id.ngroups, 3);
    assert_string_equal(id.groups[0], "dev");
    assert_string_equal(id.groups[1], "ops");
    assert_string_equal(id.groups[2], "system:authenticated");
    pki_identity_clear(&id);

    /* the same certificate in DER */
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)alice.cert_pem, (unsigned)strlen(alice.cert_pem)}, der;
    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
    assert_int_equal(pki_verify_client_cert(t, der.data, der.size, &id, NULL), 0);
    assert_string_equal(id.user, "alice");
    pki_identity_clear(&id);
    gnutls_free(der.data);
    gnutls_x509_crt_deinit(crt);

    /* no groups */
    struct pki_keypair bob = {0};
    issue_client(&ca, "bob", NULL, 0, 0, 0, &bob);
    assert_int_equal(pki_verify_client_cert(t, bob.cert_pem, strlen(bob.cert_pem), &id, NULL), 0);
    assert_string_equal(id.user, "bob");
    assert_int_equal(id.ngroups, 0);
    pki_identity_clear(&id);

    /* another CA */
    struct pki_keypair other = {0}, mallory = {0};
    new_ca("kos-ca", &other); /* same name, different key */
    issue_client(&other, "mallory", groups, 1, 0, 0, &mallory);
    struct kos_error *err = NULL;
    assert_int_equal(
        pki_verify_client_cert(t, mallory.cert_pem, strlen(mallory.cert_pem), &id, &err), -EACCES);
    assert_int_equal(err->code, 401);
    assert_non_null(strstr(err->message, "rejected"));
    assert_null(id.user);
    kos_error_free(err);
    err = NULL;

    /* expired */
    struct pki_keypair old = {0};
    time_t now = time(NULL);
    issue_client(&ca, "old", NULL, 0, now - 2 * 86400, now - 86400, &old);
    assert_int_equal(pki_verify_client_cert(t, old.cert_pem, strlen(old.cert_pem), &id, &err),
                     -EACCES);
    assert_non_null(strstr(err->message, "expired"));
    kos_error_free(err);
    err = NULL;

    /* not yet valid */
    struct pki_keypair future = {0};
    issue_client(&ca, "future", NULL, 0, now + 86400, now + 2 * 86400, &future);
    assert_int_equal(pki_verify_client_cert(t, future.cert_pem, strlen(future.cert_pem), &id, NULL),
                     -EACCES);

    /* malformed input: clean errors, no identity */
    const char *bad[] = {
        "",
        "hello",
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pki_verify_client_cert(t, bad[i], strlen(bad[i]), &id, &err), -EINVAL);
        assert_non_null(err);
        assert_null(strchr(err->message, '\n'));
        assert_null(id.user);
        kos_error_free(err);
        err = NULL;
        struct pki_trust *bt = NULL;
        assert_int_equal(pki_trust_new(bad[i], strlen(bad[i]), &bt, NULL), -EINVAL);
        assert_null(bt);
    }

    /* key/cert mismatch */
    assert_int_equal(pki_check_keypair(alice.cert_pem, strlen(alice.cert_pem), bob.key_pem,
                                       strlen(bob.key_pem), "alice", &err),
                     -EINVAL);
    assert_string_equal(err->message, "alice: the private key does not match the certificate");
    kos_error_free(err);
    assert_int_equal(pki_check_keypair(alice.cert_pem, strlen(alice.cert_pem), alice.key_pem,
                                       strlen(alice.key_pem), "alice", NULL),
                     0);

    /* issuing from a non-CA */
    struct pki_keypair sub = {0};
    struct pki_cert_spec spec = {.kind = PKI_CERT_CLIENT, .common_name = "x"};
    assert_int_equal(pki_issue(&spec, &alice, &sub, NULL), -EINVAL);

    struct pki_keypair *pairs[] = {&alice, &bob, &other, &mallory, &old, &future};
    for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
        pki_keypair_clear(pairs[i]);
    pki_trust_free(t);
    pki_material_clear(&m);
}

static void write_pair(const char *dir, const char *name, const struct pki_keypair *kp, char *crt,
                       char *key, size_t len)
{
    snprintf(crt, len, "%s/%s.crt", dir, name);
    snprintf(key, len, "%s/%s.key", dir, name);
    write_text(crt, kp->cert_pem);
    write_text(key, kp->key_pem);
}

static void test_user_provided(void **state)
{
    struct fixture *f = *state;
    struct pki_keypair uca = {0}, userv = {0}, uclient = {0};
    new_ca("corp-ca", &uca);
    const char *sans[] = {"api.corp.example"};
    struct pki_cert_spec spec = {
        .kind = PKI_CERT_SERVER, .common_name = "api", .sans = sans, .nsans = 1};
    assert_int_equal(pki_issue(&spec, &uca, &userv, NULL), 0);
    issue_client(&uca, "carol", NULL, 0, 0, 0, &uclient);

    char crt[160], key[160], cafile[160];
    write_pair(f->dir, "user", &userv, crt, key, sizeof(crt));
    snprintf(cafile, sizeof(cafile), "%s/corp-ca.crt", f->dir);
    write_text(cafile, uca.cert_pem);

    struct pki_options o = {
        .dir = f->tls, .tls_cert_file = crt, .tls_key_file = key, .client_ca_file = cafile};
    struct pki_material m = {0};
    assert_int_equal(pki_ensure(&o, &m, NULL), 0);
    assert_true(m.serving_user_provided && !m.serving_issued);
    assert_string_equal(m.serving_cert_pem, userv.cert_pem);
    assert_string_equal(m.serving_key_pem, userv.key_pem);
    /* both CAs are trusted for clients: the user's and ours (admin.kubeconfig) */
    struct pki_trust *t = trust_of(m.client_ca_pem);
    struct pki_identity id = {0};
    assert_int_equal(
        pki_verify_client_cert(t, uclient.cert_pem, strlen(uclient.cert_pem), &id, NULL), 0);
    assert_string_equal(id.user, "carol");
    pki_identity_clear(&id);
    assert_int_equal(
        pki_verify_client_cert(t, m.admin_cert_pem, strlen(m.admin_cert_pem), &id, NULL), 0);
    pki_identity_clear(&id);
    pki_trust_free(t);
    pki_material_clear(&m);

    /* errors are one line and name the flag or file */
    struct kos_error *err = NULL;
    o.tls_key_file = NULL;
    assert_int_equal(pki_ensure(&o, &m, &err), -EINVAL);
    assert_string_equal(err->message,
                        "--tls-cert-file and --tls-private-key-file must be given together");
    kos_error_free(err);
    err = NULL;

    char wrong_key[160];
    snprintf(wrong_key, sizeof(wrong_key), "%s/ca.key", f->tls);
    o.tls_key_file = wrong_key;
    assert_int_equal(pki_ensure(&o, &m, &err), -EINVAL);
    assert_non_null(strstr(err->message, "does not match"));
    kos_error_free(err);
    err = NULL;

    char missing[160];
    snprintf(missing, sizeof(missing), "%s/nope.crt", f->dir);
    o.tls_cert_file = missing;
    o.tls_key_file = key;
    assert_int_equal(pki_ensure(&o, &m, &err), -ENOENT);
    assert_non_null(strstr(err->message, "--tls-cert-file"));
    kos_error_free(err);
    err = NULL;

    o.tls_cert_file = crt;
    o.client_ca_file = key; /* a key is not a CA bundle */
    assert_int_equal(pki_ensure(&o, &m, &err), -EINVAL);
    assert_non_null(strstr(err->message, "--client-ca-file"));
    kos_error_free(err);
    err = NULL;

    write_text(key, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE "
                    "KEY-----\n");
    o.client_ca_file = NULL;
    assert_int_equal(pki_ensure(&o, &m, &err), -EINVAL);
    assert_non_null(strstr(err->message, "encrypted"));
    kos_error_free(err);

    pki_keypair_clear(&uca);
    pki_keypair_clear(&userv);
    pki_keypair_clear(&uclient);
}

static void test_kubeconfig(void **state)
{
    struct fixture *f = *state;
    struct pki_material m = {0};
    assert_int_equal(ensure(f, NULL, 0, &m, NULL), 0);
    char path[160];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", f->dir);
    assert_int_equal(pki_write_kubeconfig(path, "https://127.0.0.1:6443", m.ca_cert_pem,
                                          m.admin_cert_pem, m.admin_key_pem, NULL),
                     0);
    assert_int_equal(file_mode(path), 0600);
    char *text = slurp(path);
    assert_non_null(strstr(text, "    server: \"https://127.0.0.1:6443\"\n"));
    assert_non_null(strstr(text, "current-context: kos\n"));
    const char *fields[] = {
        "certificate-authority-data: ", "client-certificate-data: ", "client-key-data: "};
    const char *want[] = {m.ca_cert_pem, m.admin_cert_pem, m.admin_key_pem};
    for (size_t i = 0; i < 3; i++) {
        const char *p = strstr(text, fields[i]);
        assert_non_null(p);
        p += strlen(fields[i]);
        size_t len = strcspn(p, "\n");
        char *dec = NULL;
        size_t dlen = 0;
        assert_int_equal(kos_base64_decode(p, len, &dec, &dlen), 0);
        assert_int_equal(dlen, strlen(want[i]));
        assert_memory_equal(dec, want[i], dlen);
        free(dec);
    }
    free(text);

    /* no client credentials: an empty user */
    assert_int_equal(pki_write_kubeconfig(path, "https://h:1", m.ca_cert_pem, NULL, NULL, NULL), 0);
    text = slurp(path);
    assert_non_null(strstr(text, "  user: {}\n"));
    free(text);

    struct kos_error *err = NULL;
    assert_int_equal(pki_write_kubeconfig(path, "https://x\"\n", NULL, NULL, NULL, &err), -EINVAL);
    kos_error_free(err);
    assert_int_equal(pki_write_kubeconfig(path, "https://h:1", NULL, m.admin_cert_pem, NULL, NULL),
                     -EINVAL);
    pki_material_clear(&m);
}

/* ---- TLS serving ---- */

static void whoami(void *ctx, struct http_request *req, struct http_reply *rep)
{
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    const char *status = "plain";
    if (req->peer)
        status = req->peer->status == PKI_PEER_VERIFIED   ? "verified"
                 : req->peer->status == PKI_PEER_REJECTED ? "rejected"
                                                          : "none";
    kos_buf_printf(&b, "tls=%d %s", req->tls, status);
    if (req->peer && req->peer->status == PKI_PEER_VERIFIED) {
        kos_buf_printf(&b, " user=%s groups=", req->peer->identity.user);
        for (size_t i = 0; i < req->peer->identity.ngroups; i++)
            kos_buf_printf(&b, "%s%s", i ? "," : "", req->peer->identity.groups[i]);
    }
    size_t len = 0;
    char *body = kos_buf_steal(&b, &len);
    http_reply_set_body(rep, 200, "text/plain", body, len);
}

struct tls_result {
    int handshake;
    gnutls_protocol_t version;
    char alpn[16];
    char body[2][256];
};

/* Reads one HTTP/1.1 response with a Content-Length; copies its body out. */
static int read_response(gnutls_session_t s, char *body, size_t max)
{
    char buf[8192];
    size_t len = 0;
    for (;;) {
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(buf, "Content-Length:");
            if (!cl)
                return -EPROTO;
            size_t want = strtoul(cl + 15, NULL, 10);
            size_t have = len - (size_t)(end + 4 - buf);
            if (have >= want) {
                snprintf(body, max, "%.*s", (int)want, end + 4);
                return 0;
            }
        }
        if (len + 1 >= sizeof(buf))
            return -E2BIG;
        ssize_t n = gnutls_record_recv(s, buf + len, sizeof(buf) - 1 - len);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n <= 0)
            return -EIO;
        len += (size_t)n;
    }
}

/* A GnuTLS client that offers h2 and http/1.1, verifies the server as "127.0.0.1" against
 * ca_pem, optionally presents a client certificate, and sends two requests on one
 * connection (keep-alive reuses the connection's verdict). */
static void tls_get(uint16_t port, const char *priority, const char *ca_pem,
                    const struct pki_keypair *client, struct tls_result *res)
{
    memset(res, 0, sizeof(*res));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);

    gnutls_certificate_credentials_t cred;
    assert_int_equal(gnutls_certificate_allocate_credentials(&cred), 0);
    gnutls_datum_t ca = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
    assert_true(gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM) > 0);
    if (client) {
        gnutls_datum_t c = {(unsigned char *)client->cert_pem, (unsigned)strlen(client->cert_pem)};
        gnutls_datum_t k = {(unsigned char *)client->key_pem, (unsigned)strlen(client->key_pem)};
        assert_int_equal(gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM), 0);
    }
    gnutls_session_t s;
    assert_int_equal(gnutls_init(&s, GNUTLS_CLIENT), 0);
    assert_int_equal(gnutls_priority_set_direct(s, priority, NULL), 0);
    assert_int_equal(gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred), 0);
    gnutls_session_set_verify_cert(s, "127.0.0.1", 0);
    gnutls_datum_t protos[2] = {{(unsigned char *)"h2", 2}, {(unsigned char *)"http/1.1", 8}};
    assert_int_equal(gnutls_alpn_set_protocols(s, protos, 2, 0), 0);
    gnutls_transport_set_int(s, fd);
    gnutls_handshake_set_timeout(s, 10000);
    int r;
    do
        r = gnutls_handshake(s);
    while (r < 0 && !gnutls_error_is_fatal(r));
    res->handshake = r;
    if (r == 0) {
        res->version = gnutls_protocol_get_version(s);
        gnutls_datum_t sel = {0};
        if (gnutls_alpn_get_selected_protocol(s, &sel) == 0)
            snprintf(res->alpn, sizeof(res->alpn), "%.*s", (int)sel.size, sel.data);
        for (int i = 0; i < 2; i++) {
            char req[128];
            int n = snprintf(req, sizeof(req), "GET /whoami HTTP/1.1\r\nHost: localhost\r\n%s\r\n",
                             i == 1 ? "Connection: close\r\n" : "");
            assert_int_equal(gnutls_record_send(s, req, (size_t)n), n);
            assert_int_equal(read_response(s, res->body[i], sizeof(res->body[i])), 0);
        }
        gnutls_bye(s, GNUTLS_SHUT_WR);
    }
    gnutls_deinit(s);
    gnutls_certificate_free_credentials(cred);
    close(fd);
}

static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    static char out[1024];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void test_tls_server(void **state)
{
    struct fixture *f = *state;
    struct pki_material m = {0};
    assert_int_equal(ensure(f, NULL, 0, &m, NULL), 0);
    struct http_server_options ho = {.bind_address = "127.0.0.1",
                                     .handler = whoami,
                                     .tls_cert_pem = m.serving_cert_pem,
                                     .tls_key_pem = m.serving_key_pem,
                                     .client_ca_pem = m.client_ca_pem};
    struct http_server *srv = NULL;
    assert_int_equal(http_server_start(&ho, &srv), 0);
    uint16_t port = http_server_port(srv);
    const char *prio = "NORMAL";
    struct pki_keypair admin = {.cert_pem = m.admin_cert_pem, .key_pem = m.admin_key_pem};
    struct tls_result res;

    /* with the admin certificate: identity on both keep-alive requests; HTTP/1.1 via ALPN
     * although h2 was offered first; TLS 1.2 or later */
    tls_get(port, prio, m.ca_cert_pem, &admin, &res);
    assert_int_equal(res.handshake, 0);
    assert_true(res.version == GNUTLS_TLS1_2 || res.version == GNUTLS_TLS1_3);
    assert_string_equal(res.alpn, "http/1.1");
    for (int i = 0; i < 2; i++)
        assert_string_equal(res.body[i],
                            "tls=1 verified user=kubernetes-admin groups=system:masters");

    /* TLS 1.2 explicitly still works */
    tls_get(port, "NORMAL:-VERS-ALL:+VERS-TLS1.2", m.ca_cert_pem, &admin, &res);
    assert_int_equal(res.handshake, 0);
    assert_int_equal(res.version, GNUTLS_TLS1_2);
    assert_string_equal(res.body[0], "tls=1 verified user=kubernetes-admin groups=system:masters");

    /* without a certificate: served, no identity (tokens must keep working) */
    tls_get(port, prio, m.ca_cert_pem, NULL, &res);
    assert_int_equal(res.handshake, 0);
    assert_string_equal(res.body[0], "tls=1 none");
    assert_string_equal(res.body[1], "tls=1 none");

    /* a certificate from another CA, and an expired one: served, marked rejected */
    struct pki_keypair other = {0}, mallory = {0}, old = {0};
    new_ca("kos-ca", &other);
    issue_client(&other, "mallory", NULL, 0, 0, 0, &mallory);
    tls_get(port, prio, m.ca_cert_pem, &mallory, &res);
    assert_int_equal(res.handshake, 0);
    assert_string_equal(res.body[0], "tls=1 rejected");
    struct pki_keypair ca = material_ca(&m);
    time_t now = time(NULL);
    issue_client(&ca, "old", NULL, 0, now - 2 * 86400, now - 86400, &old);
    tls_get(port, prio, m.ca_cert_pem, &old, &res);
    assert_int_equal(res.handshake, 0);
    assert_string_equal(res.body[0], "tls=1 rejected");

    /* TLS 1.1 is refused */
    tls_get(port, "NORMAL:-VERS-ALL:+VERS-TLS1.1", m.ca_cert_pem, NULL, &res);
    assert_true(res.handshake < 0);

    /* curl (OpenSSL): verifies the server as 127.0.0.1 and as localhost, negotiates
     * HTTP/1.1 although it asks for h2, and presents the admin certificate */
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --http2 --cacert %s --cert %s --key %s "
             "-w ' http=%%{http_version}' https://127.0.0.1:%u/whoami 2>&1",
             m.ca_cert_path, m.admin_cert_path, m.admin_key_path, port);
    assert_string_equal(run(cmd),
                        "tls=1 verified user=kubernetes-admin groups=system:masters http=1.1");
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --cacert %s --resolve localhost:%u:127.0.0.1 "
             "-w ' http=%%{http_version}' https://localhost:%u/whoami 2>&1",
             m.ca_cert_path, port, port);
    assert_string_equal(run(cmd), "tls=1 none http=1.1");
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 --tls-max 1.1 --cacert %s https://127.0.0.1:%u/ "
             ">/dev/null 2>&1; echo $?",
             m.ca_cert_path, port);
    assert_string_not_equal(run(cmd), "0\n");
    /* plain HTTP on a TLS port gets no answer from the handler */
    snprintf(cmd, sizeof(cmd), "curl -s --max-time 10 http://127.0.0.1:%u/whoami 2>&1", port);
    assert_null(strstr(run(cmd), "tls="));

    http_server_stop(srv);
    pki_keypair_clear(&other);
    pki_keypair_clear(&mallory);
    pki_keypair_clear(&old);

    /* TLS without a client CA: no client authentication at all */
    ho.client_ca_pem = NULL;
    assert_int_equal(http_server_start(&ho, &srv), 0);
    tls_get(http_server_port(srv), prio, m.ca_cert_pem, &admin, &res);
    assert_int_equal(res.handshake, 0);
    assert_string_equal(res.body[0], "tls=1 none");
    http_server_stop(srv);

    /* a key that does not match, or a broken client CA: refused at start */
    ho.tls_key_pem = m.admin_key_pem;
    assert_int_equal(http_server_start(&ho, &srv), -EINVAL);
    ho.tls_key_pem = m.serving_key_pem;
    ho.client_ca_pem = "junk";
    assert_int_equal(http_server_start(&ho, &srv), -EINVAL);

    /* plain HTTP as before: no TLS, no peer */
    struct http_server_options plain = {.bind_address = "127.0.0.1", .handler = whoami};
    assert_int_equal(http_server_start(&plain, &srv), 0);
    snprintf(cmd, sizeof(cmd), "curl -sS --max-time 10 http://127.0.0.1:%u/whoami 2>&1",
             http_server_port(srv));
    assert_string_equal(run(cmd), "tls=0 plain");
    http_server_stop(srv);
    pki_material_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_reuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_san_coverage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_and_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_provided, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kubeconfig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_server, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

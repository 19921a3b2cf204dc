/* pki_ensure: the PKI a server start needs, created on first start and reused afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/pki_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define RENEW_BEFORE_S ((time_t)30 * 24 * 3600)

void pki_material_clear(struct pki_material *m)
{
    if (!m)
        return;
    char **fields[] = {&m->ca_cert_pem,       &m->ca_key_pem,       &m->serving_cert_pem,
                       &m->serving_key_pem,   &m->client_ca_pem,    &m->admin_cert_pem,
                       &m->admin_key_pem,     &m->ca_cert_path,     &m->ca_key_path,
                       &m->serving_cert_path, &m->serving_key_path, &m->admin_cert_path,
                       &m->admin_key_path};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        free(*fields[i]);
    memset(m, 0, sizeof(*m));
}

static void pki_material_clearp(struct pki_material *m)
{
    pki_material_clear(m);
}

static void pki_trust_freep(struct pki_trust **t)
{
    pki_trust_free(*t);
}

static char *join_path(const char *dir, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int make_dir(const char *dir, struct kos_error **err)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return pki_fail(err, -errno, "cannot create %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return pki_fail(err, -ENOTDIR, "%s is not a directory", dir);
    return 0;
}

/* Reads a cert/key pair. -ENOENT when both are absent; an error when only one is there
 * (the caller decides whether that may be repaired). */
static int read_pair(const char *cert_path, const char *key_path, struct pki_keypair *ret,
                     struct kos_error **err)
{
    _cleanup_keypair_ struct pki_keypair kp = {0};
    size_t clen = 0, klen = 0;
    int rc = pki_read_file(cert_path, &kp.cert_pem, &clen, err);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    int rk = pki_read_file(key_path, &kp.key_pem, &klen, err);
    if (rk < 0 && rk != -ENOENT)
        return rk;
    if (rc == -ENOENT && rk == -ENOENT)
        return -ENOENT;
    if (rc == -ENOENT || rk == -ENOENT)
        return pki_fail(err, -EINVAL, "%s exists but %s does not",
                        rc == -ENOENT ? key_path : cert_path, rc == -ENOENT ? cert_path : key_path);
    int r = pki_check_keypair(kp.cert_pem, clen, kp.key_pem, klen, cert_path, err);
    if (r < 0)
        return r;
    *ret = kp;
    memset(&kp, 0, sizeof(kp));
    return 0;
}

/* Key first: a crash between the two renames leaves a mismatched pair, which the next start
 * notices (read_pair) and re-issues, instead of a certificate whose key is lost. */
static int write_pair(const char *cert_path, const char *key_path, const struct pki_keypair *kp,
                      struct kos_error **err)
{
    int r = pki_write_file(key_path, kp->key_pem, strlen(kp->key_pem), 0600, err);
    if (r == 0)
        r = pki_write_file(cert_path, kp->cert_pem, strlen(kp->cert_pem), 0644, err);
    return r;
}

/* The CA is created once and never replaced behind the operator's back: every certificate
 * and kubeconfig handed out depends on it. */
static int ensure_ca(struct pki_material *m, struct pki_keypair *ca, struct kos_error **err)
{
    int r = read_pair(m->ca_cert_path, m->ca_key_path, ca, err);
    if (r == -ENOENT) {
        const struct pki_cert_spec spec = {.kind = PKI_CERT_CA, .common_name = "kos-ca"};
        r = pki_issue(&spec, NULL, ca, err);
        if (r == 0)
            r = write_pair(m->ca_cert_path, m->ca_key_path, ca, err);
        m->ca_created = r == 0;
    }
    return r;
}

/* Whether an existing leaf pair can be kept: ours (from the CA, for the purpose), not about
 * to expire. Any doubt means re-issue; only leaves are ever re-issued. */
static bool leaf_usable(const struct pki_trust *ca, const struct pki_keypair *kp,
                        const char *purpose)
{
    _cleanup_chain_ struct pki_chain chain = {0};
    if (pki_chain_import(kp->cert_pem, strlen(kp->cert_pem), "certificate", &chain, NULL) < 0)
        return false;
    char reason[192];
    if (pki_verify_chain(ca, &chain, purpose, reason, sizeof(reason)) < 0)
        return false;
    time_t end = gnutls_x509_crt_get_expiration_time(chain.crts[0]);
    return end != (time_t)-1 && end - time(NULL) > RENEW_BEFORE_S;
}

static bool admin_identity_ok(const struct pki_trust *ca, const struct pki_keypair *kp)
{
    struct pki_identity id = {0};
    if (pki_verify_client_cert(ca, kp->cert_pem, strlen(kp->cert_pem), &id, NULL) < 0)
        return false;
    bool ok = strcmp(id.user, PKI_ADMIN_USER) == 0 && id.ngroups == 1 &&
              strcmp(id.groups[0], PKI_ADMIN_GROUP) == 0;
    pki_identity_clear(&id);
    return ok;
}

/* 127.0.0.1, localhost, the host name (when it is a usable DNS name), then the extras,
 * which must each be an IP address or a DNS name: a typo fails the start rather than slip by
 * because an older certificate happens to be reused. The strings point into hostname or opts. */
static int wanted_sans(const struct pki_options *opts, char *hostname, size_t hlen,
                       const char **sans, size_t *n, struct kos_error **err)
{
    if (opts->nextra_sans > PKI_MAX_SANS - 3)
        return pki_fail(err, -EINVAL, "more than %d extra subject alternative names",
                        PKI_MAX_SANS - 3);
    size_t k = 0;
    sans[k++] = "127.0.0.1";
    sans[k++] = "localhost";
    if (gethostname(hostname, hlen) == 0 && memchr(hostname, '\0', hlen) &&
        strcmp(hostname, "localhost") != 0 && pki_san_valid(hostname))
        sans[k++] = hostname;
    for (size_t i = 0; i < opts->nextra_sans; i++) {
        if (!pki_san_valid(opts->extra_sans[i]))
            return pki_fail(err, -EINVAL,
                            "subject alternative name \"%s\" is neither an IP address nor a "
                            "DNS name",
                            opts->extra_sans[i]);
        sans[k++] = opts->extra_sans[i];
    }
    *n = k;
    return 0;
}

static int ensure_serving(struct pki_material *m, const struct pki_options *opts,
                          const struct pki_keypair *ca, const struct pki_trust *trust,
                          struct pki_keypair *ret, struct kos_error **err)
{
    char hostname[256] = "";
    const char *sans[PKI_MAX_SANS];
    size_t nsans = 0;
    int r = wanted_sans(opts, hostname, sizeof(hostname), sans, &nsans, err);
    if (r < 0)
        return r;
    _cleanup_keypair_ struct pki_keypair kp = {0};
    r = read_pair(m->serving_cert_path, m->serving_key_path, &kp, NULL);
    bool keep = r == 0 && leaf_usable(trust, &kp, GNUTLS_KP_TLS_WWW_SERVER);
    if (keep) {
        bool covered = false;
        keep = pki_cert_covers_sans(kp.cert_pem, strlen(kp.cert_pem), sans, nsans, &covered,
                                    NULL) == 0 &&
               covered;
    }
    if (!keep) {
        pki_keypair_clear(&kp);
        const struct pki_cert_spec spec = {
            .kind = PKI_CERT_SERVER, .common_name = "kos-apiserver", .sans = sans, .nsans = nsans};
        r = pki_issue(&spec, ca, &kp, err);
        if (r == 0)
            r = write_pair(m->serving_cert_path, m->serving_key_path, &kp, err);
        if (r < 0)
            return r;
        m->serving_issued = true;
    }
    *ret = kp;
    memset(&kp, 0, sizeof(kp));
    return 0;
}

static int ensure_admin(struct pki_material *m, const struct pki_keypair *ca,
                        const struct pki_trust *trust, struct pki_keypair *ret,
                        struct kos_error **err)
{
    _cleanup_keypair_ struct pki_keypair kp = {0};
    int r = read_pair(m->admin_cert_path, m->admin_key_path, &kp, NULL);
    if (r < 0 || !leaf_usable(trust, &kp, GNUTLS_KP_TLS_WWW_CLIENT) ||
        !admin_identity_ok(trust, &kp)) {
        pki_keypair_clear(&kp);
        const char *groups[] = {PKI_ADMIN_GROUP};
        const struct pki_cert_spec spec = {.kind = PKI_CERT_CLIENT,
                                           .common_name = PKI_ADMIN_USER,
                                           .organizations = groups,
                                           .norganizations = 1};
        r = pki_issue(&spec, ca, &kp, err);
        if (r == 0)
            r = write_pair(m->admin_cert_path, m->admin_key_path, &kp, err);
        if (r < 0)
            return r;
        m->admin_issued = true;
    }
    *ret = kp;
    memset(&kp, 0, sizeof(kp));
    return 0;
}

/* --tls-cert-file / --tls-private-key-file: used as given, only checked. */
static int load_user_serving(const struct pki_options *opts, struct pki_keypair *ret,
                             struct kos_error **err)
{
    _cleanup_keypair_ struct pki_keypair kp = {0};
    size_t clen = 0, klen = 0;
    int r = pki_read_file(opts->tls_cert_file, &kp.cert_pem, &clen, err);
    if (r == -ENOENT)
        return pki_fail(err, r, "--tls-cert-file %s: no such file", opts->tls_cert_file);
    if (r == 0) {
        r = pki_read_file(opts->tls_key_file, &kp.key_pem, &klen, err);
        if (r == -ENOENT)
            return pki_fail(err, r, "--tls-private-key-file %s: no such file", opts->tls_key_file);
    }
    if (r == 0)
        r = pki_check_keypair(kp.cert_pem, clen, kp.key_pem, klen, opts->tls_cert_file, err);
    if (r < 0)
        return r;
    *ret = kp;
    memset(&kp, 0, sizeof(kp));
    return 0;
}

/* The client CA bundle: --client-ca-file (checked) followed by the kos CA. */
static int client_ca_bundle(const struct pki_options *opts, const char *ca_pem, char **ret,
                            struct kos_error **err)
{
    if (!opts->client_ca_file) {
        char *s = strdup(ca_pem);
        if (!s)
            return -ENOMEM;
        *ret = s;
        return 0;
    }
    _cleanup_free_ char *user = NULL;
    size_t len = 0;
    int r = pki_read_file(opts->client_ca_file, &user, &len, err);
    if (r == -ENOENT)
        return pki_fail(err, r, "--client-ca-file %s: no such file", opts->client_ca_file);
    if (r < 0)
        return r;
    struct pki_trust *t = NULL;
    r = pki_trust_new(user, len, &t, NULL);
    pki_trust_free(t);
    if (r < 0)
        return pki_fail(err, r, "--client-ca-file %s: no PEM certificate could be parsed",
                        opts->client_ca_file);
    char *s = NULL;
    const char *sep = len > 0 && user[len - 1] == '\n' ? "" : "\n";
    if (asprintf(&s, "%s%s%s", user, sep, ca_pem) < 0)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int fill_paths(struct pki_material *m, const char *dir)
{
    m->ca_cert_path = join_path(dir, "ca.crt");
    m->ca_key_path = join_path(dir, "ca.key");
    m->serving_cert_path = join_path(dir, "server.crt");
    m->serving_key_path = join_path(dir, "server.key");
    m->admin_cert_path = join_path(dir, "admin.crt");
    m->admin_key_path = join_path(dir, "admin.key");
    return m->ca_cert_path && m->ca_key_path && m->serving_cert_path && m->serving_key_path &&
                   m->admin_cert_path && m->admin_key_path
               ? 0
               : -ENOMEM;
}

int pki_ensure(const struct pki_options *opts, struct pki_material *ret, struct kos_error **err)
{
    if (!opts->dir || !opts->dir[0])
        return pki_fail(err, -EINVAL, "no TLS directory");
    if (!opts->tls_cert_file != !opts->tls_key_file)
        return pki_fail(err, -EINVAL,
                        "--tls-cert-file and --tls-private-key-file must be given together");

    _cleanup_(pki_material_clearp) struct pki_material m = {0};
    int r = make_dir(opts->dir, err);
    if (r == 0 && fill_paths(&m, opts->dir) < 0)
        r = -ENOMEM;
    _cleanup_keypair_ struct pki_keypair ca = {0}, serving = {0}, admin = {0};
    if (r == 0)
        r = ensure_ca(&m, &ca, err);
    _cleanup_(pki_trust_freep) struct pki_trust *trust = NULL;
    if (r == 0)
        r = pki_trust_new(ca.cert_pem, strlen(ca.cert_pem), &trust, err);
    if (r == 0 && opts->tls_cert_file) {
        r = load_user_serving(opts, &serving, err);
        m.serving_user_provided = true;
    } else if (r == 0) {
        r = ensure_serving(&m, opts, &ca, trust, &serving, err);
    }
    if (r == 0)
        r = ensure_admin(&m, &ca, trust, &admin, err);
    if (r == 0)
        r = client_ca_bundle(opts, ca.cert_pem, &m.client_ca_pem, err);
    if (r < 0)
        return r == -ENOMEM ? pki_fail(err, r, "out of memory") : r;

    m.ca_cert_pem = TAKE_PTR(ca.cert_pem);
    m.ca_key_pem = TAKE_PTR(ca.key_pem);
    m.serving_cert_pem = TAKE_PTR(serving.cert_pem);
    m.serving_key_pem = TAKE_PTR(serving.key_pem);
    m.admin_cert_pem = TAKE_PTR(admin.cert_pem);
    m.admin_key_pem = TAKE_PTR(admin.key_pem);
    *ret = m;
    memset(&m, 0, sizeof(m));
    return 0;
}

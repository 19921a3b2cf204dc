/* Issuing and inspecting certificates with GnuTLS. */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pki/pki_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define BACKDATE_S      (5 * 60)
#define CA_LIFETIME_S   ((time_t)3650 * 24 * 3600)
#define LEAF_LIFETIME_S ((time_t)365 * 24 * 3600)
#define SAN_MAX_LEN     253 /* a DNS name's textual limit; also bounds the IP literal */

int pki_fail(struct kos_error **err, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kos_error_setv(err, 500, "InternalError", fmt, ap);
    va_end(ap);
    return rc;
}

void pki_keypair_clear(struct pki_keypair *kp)
{
    if (!kp)
        return;
    free(kp->cert_pem);
    free(kp->key_pem);
    kp->cert_pem = kp->key_pem = NULL;
}

void pki_chain_free(struct pki_chain *c)
{
    if (!c || !c->crts)
        return;
    for (unsigned i = 0; i < c->n; i++)
        gnutls_x509_crt_deinit(c->crts[i]);
    gnutls_free(c->crts);
    c->crts = NULL;
    c->n = 0;
}

int pki_chain_import(const void *data, size_t len, const char *what, struct pki_chain *ret,
                     struct kos_error **err)
{
    if (len == 0 || len > PKI_MAX_FILE)
        return pki_fail(err, -EINVAL, "%s: no certificate (empty or over %u bytes)", what,
                        PKI_MAX_FILE);
    bool pem = memmem(data, len, "-----BEGIN", 10) != NULL;
    gnutls_datum_t d = {.data = (unsigned char *)data, .size = (unsigned)len};
    struct pki_chain c = {0};
    int r = gnutls_x509_crt_list_import2(&c.crts, &c.n, &d,
                                         pem ? GNUTLS_X509_FMT_PEM : GNUTLS_X509_FMT_DER, 0);
    if (r < 0)
        return pki_fail(err, r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EINVAL,
                        "%s: cannot parse certificate: %s", what, gnutls_strerror(r));
    if (c.n == 0 || c.n > PKI_MAX_CHAIN) {
        pki_chain_free(&c);
        return pki_fail(err, -EINVAL, "%s: expected 1 to %d certificates", what, PKI_MAX_CHAIN);
    }
    *ret = c;
    return 0;
}

int pki_privkey_import(const char *pem, size_t len, const char *what, gnutls_x509_privkey_t *ret,
                       struct kos_error **err)
{
    if (len == 0 || len > PKI_MAX_FILE)
        return pki_fail(err, -EINVAL, "%s: no private key", what);
    /* GnuTLS would only say "decryption failed"; say what to do instead. */
    if (memmem(pem, len, "ENCRYPTED", 9))
        return pki_fail(err, -EINVAL, "%s: the private key is encrypted; kos needs it unencrypted",
                        what);
    _cleanup_privkey_ gnutls_x509_privkey_t key = NULL;
    if (gnutls_x509_privkey_init(&key) < 0)
        return -ENOMEM;
    gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
    int r = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (r < 0)
        return pki_fail(err, -EINVAL, "%s: cannot parse private key: %s", what, gnutls_strerror(r));
    *ret = TAKE_PTR(key);
    return 0;
}

/* The SHA-256 key ids of a certificate and a key agree exactly when they hold the same
 * public key, whatever the algorithm. */
static int key_matches(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, bool *ret)
{
    unsigned char a[64], b[64];
    size_t alen = sizeof(a), blen = sizeof(b);
    if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a, &alen) < 0 ||
        gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b, &blen) < 0)
        return -EINVAL;
    *ret = alen == blen && memcmp(a, b, alen) == 0;
    return 0;
}

int pki_check_keypair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                      const char *what, struct kos_error **err)
{
    _cleanup_chain_ struct pki_chain chain = {0};
    _cleanup_privkey_ gnutls_x509_privkey_t key = NULL;
    int r = pki_chain_import(cert_pem, cert_len, what, &chain, err);
    if (r == 0)
        r = pki_privkey_import(key_pem, key_len, what, &key, err);
    if (r < 0)
        return r;
    bool match = false;
    if (key_matches(chain.crts[0], key, &match) < 0)
        return pki_fail(err, -EINVAL, "%s: cannot compute the key id", what);
    if (!match)
        return pki_fail(err, -EINVAL, "%s: the private key does not match the certificate", what);
    return 0;
}

/* A SAN in certificate form: an address (4 or 16 bytes) or a DNS name. */
struct san {
    unsigned type; /* GNUTLS_SAN_IPADDRESS or GNUTLS_SAN_DNSNAME */
    unsigned char data[SAN_MAX_LEN + 1];
    size_t len;
};

static bool valid_dns_name(const char *s, size_t len)
{
    if (len == 0 || len > SAN_MAX_LEN)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        /* a wildcard only as the whole first label */
        if (c == '*' && !(i == 0 && len > 2 && s[1] == '.'))
            return false;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '*';
        if (!ok || ++label > 63)
            return false;
    }
    return label > 0;
}

static int parse_san(const char *s, struct san *ret)
{
    size_t len = strnlen(s, SAN_MAX_LEN + 1);
    if (len > SAN_MAX_LEN)
        return -EINVAL;
    struct san v = {0};
    if (inet_pton(AF_INET, s, v.data) == 1) {
        v.type = GNUTLS_SAN_IPADDRESS;
        v.len = 4;
    } else if (inet_pton(AF_INET6, s, v.data) == 1) {
        v.type = GNUTLS_SAN_IPADDRESS;
        v.len = 16;
    } else if (valid_dns_name(s, len)) {
        v.type = GNUTLS_SAN_DNSNAME;
        memcpy(v.data, s, len);
        v.len = len;
    } else {
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

bool pki_san_valid(const char *s)
{
    struct san v;
    return parse_san(s, &v) == 0;
}

static bool san_equal(const struct san *a, const struct san *b)
{
    if (a->type != b->type || a->len != b->len)
        return false;
    if (a->type == GNUTLS_SAN_DNSNAME)
        return strncasecmp((const char *)a->data, (const char *)b->data, a->len) == 0;
    return memcmp(a->data, b->data, a->len) == 0;
}

static bool crt_has_san(gnutls_x509_crt_t crt, const struct san *want)
{
    for (unsigned i = 0; i < 4 * PKI_MAX_SANS; i++) {
        struct san have = {0};
        size_t size = sizeof(have.data) - 1;
        unsigned critical = 0;
        int t = gnutls_x509_crt_get_subject_alt_name(crt, i, have.data, &size, &critical);
        if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            return false;
        if (t < 0)
            continue; /* too long or undecodable: not one of ours */
        have.type = (unsigned)t;
        have.len = size;
        if (san_equal(&have, want))
            return true;
    }
    return false;
}

int pki_cert_covers_sans(const char *cert_pem, size_t cert_len, const char *const *sans,
                         size_t nsans, bool *ret, struct kos_error **err)
{
    _cleanup_chain_ struct pki_chain chain = {0};
    int r = pki_chain_import(cert_pem, cert_len, "serving certificate", &chain, err);
    if (r < 0)
        return r;
    bool all = true;
    for (size_t i = 0; i < nsans; i++) {
        struct san want;
        if (parse_san(sans[i], &want) < 0)
            return pki_fail(err, -EINVAL, "\"%s\" is neither an IP address nor a DNS name",
                            sans[i]);
        if (!crt_has_san(chain.crts[0], &want))
            all = false;
    }
    *ret = all;
    return 0;
}

static int set_serial(gnutls_x509_crt_t crt)
{
    unsigned char serial[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
        return -EIO;
    /* positive, and no leading zero byte that DER would have to strip */
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    return gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ? -EIO : 0;
}

static int set_name(gnutls_x509_crt_t crt, const char *oid, const char *value, const char *what,
                    struct kos_error **err)
{
    size_t len = strnlen(value, PKI_MAX_NAME + 1);
    if (len == 0 || len > PKI_MAX_NAME)
        return pki_fail(err, -EINVAL, "certificate %s must have 1 to %d bytes", what, PKI_MAX_NAME);
    int r = gnutls_x509_crt_set_dn_by_oid(crt, oid, 0, value, (unsigned)len);
    if (r < 0)
        return pki_fail(err, -EINVAL, "certificate %s \"%s\": %s", what, value, gnutls_strerror(r));
    return 0;
}

static int set_sans(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec, struct kos_error **err)
{
    if (spec->nsans > PKI_MAX_SANS)
        return pki_fail(err, -EINVAL, "more than %d subject alternative names", PKI_MAX_SANS);
    for (size_t i = 0; i < spec->nsans; i++) {
        struct san s;
        if (parse_san(spec->sans[i], &s) < 0)
            return pki_fail(err, -EINVAL,
                            "subject alternative name \"%s\" is neither an IP address nor a "
                            "DNS name",
                            spec->sans[i]);
        if (gnutls_x509_crt_set_subject_alt_name(crt, (gnutls_x509_subject_alt_name_t)s.type,
                                                 s.data, (unsigned)s.len, GNUTLS_FSAN_APPEND) < 0)
            return pki_fail(err, -EIO, "cannot add subject alternative name \"%s\"", spec->sans[i]);
    }
    return 0;
}

/* Extensions by kind: a CA signs certificates only; leaves sign handshakes only (ECDSA has
 * no key encipherment) and are limited to their TLS role. */
static int set_extensions(gnutls_x509_crt_t crt, const struct pki_cert_spec *spec,
                          struct kos_error **err)
{
    bool ca = spec->kind == PKI_CERT_CA;
    unsigned usage = GNUTLS_KEY_DIGITAL_SIGNATURE;
    if (ca)
        usage |= GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN;
    if (gnutls_x509_crt_set_basic_constraints(crt, ca, -1) < 0 ||
        gnutls_x509_crt_set_key_usage(crt, usage) < 0)
        return pki_fail(err, -EIO, "cannot set certificate extensions");
    if (spec->kind == PKI_CERT_SERVER &&
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0)
        return pki_fail(err, -EIO, "cannot set extended key usage");
    if (spec->kind == PKI_CERT_CLIENT &&
        gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0)
        return pki_fail(err, -EIO, "cannot set extended key usage");
    if (spec->kind == PKI_CERT_SERVER)
        return set_sans(crt, spec, err);
    return 0;
}

static int set_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer)
{
    unsigned char id[64];
    size_t len = sizeof(id);
    if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &len) < 0 ||
        gnutls_x509_crt_set_subject_key_id(crt, id, len) < 0)
        return -EIO;
    if (!issuer)
        return 0;
    /* The authority key id lets clients pick the right CA when several share a name. */
    unsigned critical = 0;
    len = sizeof(id);
    if (gnutls_x509_crt_get_subject_key_id(issuer, id, &len, &critical) < 0) {
        len = sizeof(id);
        if (gnutls_x509_crt_get_key_id(issuer, GNUTLS_KEYID_USE_SHA1, id, &len) < 0)
            return -EIO;
    }
    return gnutls_x509_crt_set_authority_key_id(crt, id, len) < 0 ? -EIO : 0;
}

/* Copies a GnuTLS-allocated datum into a malloc'd C string and frees the datum. */
static char *datum_to_string(gnutls_datum_t *d)
{
    char *s = kos_strndup((const char *)d->data, d->size);
    gnutls_free(d->data);
    d->data = NULL;
    return s;
}

static int export_pair(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, struct pki_keypair *ret)
{
    gnutls_datum_t c = {0}, k = {0};
    if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c) < 0)
        return -ENOMEM;
    if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k) < 0) {
        gnutls_free(c.data);
        return -ENOMEM;
    }
    struct pki_keypair kp = {.cert_pem = datum_to_string(&c), .key_pem = datum_to_string(&k)};
    if (!kp.cert_pem || !kp.key_pem) {
        pki_keypair_clear(&kp);
        return -ENOMEM;
    }
    *ret = kp;
    return 0;
}

/* Loads the issuer pair and checks that it may sign: a CA whose key matches. */
static int load_issuer(const struct pki_keypair *issuer, struct pki_chain *crt,
                       gnutls_x509_privkey_t *key, struct kos_error **err)
{
    int r = pki_chain_import(issuer->cert_pem, strlen(issuer->cert_pem), "issuer", crt, err);
    if (r == 0)
        r = pki_privkey_import(issuer->key_pem, strlen(issuer->key_pem), "issuer", key, err);
    if (r < 0)
        return r;
    bool match = false;
    if (key_matches(crt->crts[0], *key, &match) < 0 || !match)
        return pki_fail(err, -EINVAL, "issuer: the private key does not match the certificate");
    unsigned critical = 0, ca = 0;
    int pathlen = 0;
    if (gnutls_x509_crt_get_basic_constraints(crt->crts[0], &critical, &ca, &pathlen) < 0 || !ca)
        return pki_fail(err, -EINVAL, "issuer: not a CA certificate");
    return 0;
}

int pki_issue(const struct pki_cert_spec *spec, const struct pki_keypair *issuer,
              struct pki_keypair *ret, struct kos_error **err)
{
    if (!spec->common_name || spec->norganizations > PKI_MAX_GROUPS ||
        (spec->kind == PKI_CERT_CA) != (issuer == NULL))
        return pki_fail(err, -EINVAL, "invalid certificate request");

    _cleanup_chain_ struct pki_chain issuer_crt = {0};
    _cleanup_privkey_ gnutls_x509_privkey_t issuer_key = NULL;
    if (issuer) {
        int r = load_issuer(issuer, &issuer_crt, &issuer_key, err);
        if (r < 0)
            return r;
    }

    _cleanup_privkey_ gnutls_x509_privkey_t key = NULL;
    _cleanup_crt_ gnutls_x509_crt_t crt = NULL;
    if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
        return -ENOMEM;
    int r = gnutls_x509_privkey_generate2(
        key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
    if (r < 0)
        return pki_fail(err, -EIO, "cannot generate a key: %s", gnutls_strerror(r));

    time_t now = time(NULL);
    time_t not_before = spec->not_before ? spec->not_before : now - BACKDATE_S;
    time_t not_after = spec->not_after
                           ? spec->not_after
                           : now + (spec->kind == PKI_CERT_CA ? CA_LIFETIME_S : LEAF_LIFETIME_S);
    if (not_after <= not_before)
        return pki_fail(err, -EINVAL, "certificate would expire before it starts");

    if (gnutls_x509_crt_set_version(crt, 3) < 0 || set_serial(crt) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, not_before) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, not_after) < 0 ||
        gnutls_x509_crt_set_key(crt, key) < 0)
        return pki_fail(err, -EIO, "cannot fill in the certificate");
    r = set_name(crt, GNUTLS_OID_X520_COMMON_NAME, spec->common_name, "common name", err);
    for (size_t i = 0; r == 0 && i < spec->norganizations; i++)
        r = set_name(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, spec->organizations[i], "organization",
                     err);
    if (r == 0)
        r = set_extensions(crt, spec, err);
    if (r == 0 && set_key_ids(crt, issuer ? issuer_crt.crts[0] : NULL) < 0)
        r = pki_fail(err, -EIO, "cannot set the key identifiers");
    if (r < 0)
        return r;

    r = gnutls_x509_crt_sign2(crt, issuer ? issuer_crt.crts[0] : crt, issuer ? issuer_key : key,
                              GNUTLS_DIG_SHA256, 0);
    if (r < 0)
        return pki_fail(err, -EIO, "cannot sign the certificate: %s", gnutls_strerror(r));
    r = export_pair(crt, key, ret);
    if (r < 0)
        return pki_fail(err, r, "cannot export the certificate");
    return 0;
}

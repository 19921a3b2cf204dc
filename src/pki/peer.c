/* Client certificate authentication: kube-apiserver's x509 authenticator on GnuTLS.
 *
 * MHD only *requests* a client certificate (GNUTLS_CERT_REQUEST) and GnuTLS does not verify
 * it during the handshake, so a client without one, or with a bad one, still gets to send
 * its request: tokens must keep working. The verdict is made here, against our own trust
 * list, and the request path turns REJECTED into 401 when nothing else authenticates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_internal.h"
#include "util/cleanup.h"
#include "util/strutil.h"

struct pki_trust {
    gnutls_x509_trust_list_t list;
};

void pki_identity_clear(struct pki_identity *id)
{
    if (!id)
        return;
    free(id->user);
    for (size_t i = 0; i < id->ngroups; i++)
        free(id->groups[i]);
    free(id->groups);
    memset(id, 0, sizeof(*id));
}

static void pki_identity_clearp(struct pki_identity *id)
{
    pki_identity_clear(id);
}

void pki_peer_clear(struct pki_peer *peer)
{
    if (!peer)
        return;
    pki_identity_clear(&peer->identity);
    memset(peer, 0, sizeof(*peer));
}

int pki_trust_new(const char *ca_pem, size_t len, struct pki_trust **ret, struct kos_error **err)
{
    if (!ca_pem || len == 0 || len > PKI_MAX_FILE)
        return pki_fail(err, -EINVAL, "client CA: no certificate");
    _cleanup_free_ struct pki_trust *t = calloc(1, sizeof(*t));
    if (!t || gnutls_x509_trust_list_init(&t->list, 0) < 0)
        return -ENOMEM;
    gnutls_datum_t d = {.data = (unsigned char *)ca_pem, .size = (unsigned)len};
    int n = gnutls_x509_trust_list_add_trust_mem(t->list, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
    if (n <= 0) {
        gnutls_x509_trust_list_deinit(t->list, 1);
        return pki_fail(err, -EINVAL, "client CA: no certificate could be parsed%s%s",
                        n < 0 ? ": " : "", n < 0 ? gnutls_strerror(n) : "");
    }
    *ret = TAKE_PTR(t);
    return 0;
}

void pki_trust_free(struct pki_trust *t)
{
    if (!t)
        return;
    gnutls_x509_trust_list_deinit(t->list, 1);
    free(t);
}

int pki_verify_chain(const struct pki_trust *t, const struct pki_chain *chain, const char *purpose,
                     char *reason, size_t len)
{
    gnutls_typed_vdata_st vdata = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                   .data = (unsigned char *)purpose};
    unsigned status = 0;
    int r = gnutls_x509_trust_list_verify_crt2(t->list, chain->crts, chain->n, &vdata, 1, 0,
                                               &status, NULL);
    if (r < 0) {
        snprintf(reason, len, "%s", gnutls_strerror(r));
        return r == GNUTLS_E_MEMORY_ERROR ? -ENOMEM : -EACCES;
    }
    if (status == 0)
        return 0;
    gnutls_datum_t out = {0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
        snprintf(reason, len, "%.*s", (int)out.size, (const char *)out.data);
        gnutls_free(out.data);
    } else {
        snprintf(reason, len, "verification status 0x%x", status);
    }
    return -EACCES;
}

/* One subject attribute value; an embedded NUL (a classic name-spoofing trick) is refused. */
static int dn_value(gnutls_x509_crt_t crt, const char *oid, unsigned idx, char **ret)
{
    char buf[PKI_MAX_NAME + 1];
    size_t size = sizeof(buf);
    int r = gnutls_x509_crt_get_dn_by_oid(crt, oid, idx, 0, buf, &size);
    if (r == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return -ENOENT;
    if (r < 0 || size >= sizeof(buf) || strnlen(buf, sizeof(buf)) != size)
        return -EINVAL;
    char *s = kos_strndup(buf, size);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int identity_from_crt(gnutls_x509_crt_t crt, struct pki_identity *ret, char *reason,
                             size_t len)
{
    _cleanup_(pki_identity_clearp) struct pki_identity id = {0};
    /* Go keeps the last CN of a subject; so does kube-apiserver, and so do we. */
    for (unsigned i = 0;; i++) {
        char *cn = NULL;
        int r = dn_value(crt, GNUTLS_OID_X520_COMMON_NAME, i, &cn);
        if (r == -ENOENT)
            break;
        if (r < 0) {
            snprintf(reason, len, "unreadable subject common name");
            return r == -ENOMEM ? r : -EACCES;
        }
        free(id.user);
        id.user = cn;
        if (i >= PKI_MAX_GROUPS) {
            snprintf(reason, len, "too many common names");
            return -EACCES;
        }
    }
    for (unsigned i = 0;; i++) {
        char *o = NULL;
        int r = dn_value(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, i, &o);
        if (r == -ENOENT)
            break;
        if (r < 0 || i >= PKI_MAX_GROUPS) {
            free(o);
            snprintf(reason, len, "unreadable or too many subject organizations");
            return r == -ENOMEM ? r : -EACCES;
        }
        char **g = realloc(id.groups, (id.ngroups + 1) * sizeof(*g));
        if (!g) {
            free(o);
            return -ENOMEM;
        }
        id.groups = g;
        id.groups[id.ngroups++] = o;
    }
    if (!id.user || !id.user[0]) {
        snprintf(reason, len, "certificate has no common name");
        return -ENOENT;
    }
    *ret = id;
    memset(&id, 0, sizeof(id));
    return 0;
}

/* Verifies and maps; reason (size len) is filled on any failure. */
static int verify_client(const struct pki_trust *t, const struct pki_chain *chain,
                         struct pki_identity *ret, time_t *not_after, char *reason, size_t len)
{
    int r = pki_verify_chain(t, chain, GNUTLS_KP_TLS_WWW_CLIENT, reason, len);
    if (r < 0)
        return r;
    r = identity_from_crt(chain->crts[0], ret, reason, len);
    if (r < 0)
        return r;
    time_t end = gnutls_x509_crt_get_expiration_time(chain->crts[0]);
    for (unsigned i = 1; i < chain->n; i++) {
        time_t e = gnutls_x509_crt_get_expiration_time(chain->crts[i]);
        if (e != (time_t)-1 && e < end)
            end = e;
    }
    *not_after = end;
    return 0;
}

static int verdict(int r, const char *reason, struct kos_error **err)
{
    if (r == -EACCES)
        kos_error_set(err, 401, "Unauthorized", "client certificate rejected: %s", reason);
    else if (r == -ENOENT)
        kos_error_set(err, 401, "Unauthorized", "%s", reason);
    else if (r < 0)
        pki_fail(err, r, "client certificate: %s", reason);
    return r;
}

int pki_verify_client_cert(const struct pki_trust *t, const void *data, size_t len,
                           struct pki_identity *ret, struct kos_error **err)
{
    _cleanup_chain_ struct pki_chain chain = {0};
    int r = pki_chain_import(data, len, "client certificate", &chain, err);
    if (r < 0)
        return r;
    char reason[192] = "";
    time_t not_after = 0;
    return verdict(verify_client(t, &chain, ret, &not_after, reason, sizeof(reason)), reason, err);
}

/* The DER certificates the peer sent, leaf first. */
static int session_chain(gnutls_session_t session, struct pki_chain *ret, char *reason, size_t len)
{
    if (gnutls_certificate_type_get2(session, GNUTLS_CTYPE_PEERS) != GNUTLS_CRT_X509) {
        snprintf(reason, len, "not an X.509 certificate");
        return -EACCES;
    }
    unsigned n = 0;
    const gnutls_datum_t *der = gnutls_certificate_get_peers(session, &n);
    if (!der || n == 0) {
        snprintf(reason, len, "no client certificate");
        return -ENOENT;
    }
    if (n > PKI_MAX_CHAIN) {
        snprintf(reason, len, "more than %d certificates", PKI_MAX_CHAIN);
        return -EACCES;
    }
    struct pki_chain c = {.crts = gnutls_calloc(n, sizeof(*c.crts))};
    if (!c.crts)
        return -ENOMEM;
    for (; c.n < n; c.n++) {
        if (gnutls_x509_crt_init(&c.crts[c.n]) < 0) {
            pki_chain_free(&c);
            return -ENOMEM;
        }
        int r = gnutls_x509_crt_import(c.crts[c.n], &der[c.n], GNUTLS_X509_FMT_DER);
        if (r < 0) {
            c.n++; /* so that the failed one is freed too */
            pki_chain_free(&c);
            snprintf(reason, len, "unparsable certificate: %s", gnutls_strerror(r));
            return -EACCES;
        }
    }
    *ret = c;
    return 0;
}

static int session_identity(gnutls_session_t session, const struct pki_trust *t,
                            struct pki_identity *ret, time_t *not_after, char *reason, size_t len)
{
    _cleanup_chain_ struct pki_chain chain = {0};
    int r = session_chain(session, &chain, reason, len);
    if (r < 0)
        return r;
    return verify_client(t, &chain, ret, not_after, reason, len);
}

int pki_peer_identity(gnutls_session_t session, const struct pki_trust *t, struct pki_identity *ret,
                      struct kos_error **err)
{
    char reason[192] = "";
    time_t not_after = 0;
    return verdict(session_identity(session, t, ret, &not_after, reason, sizeof(reason)), reason,
                   err);
}

void pki_peer_update(gnutls_session_t session, const struct pki_trust *t, struct pki_peer *peer,
                     time_t now)
{
    if (peer->checked && !(peer->status == PKI_PEER_VERIFIED && now > peer->not_after))
        return;
    pki_peer_clear(peer);
    peer->checked = true;
    if (!session || !t)
        return;
    int r = session_identity(session, t, &peer->identity, &peer->not_after, peer->reason,
                             sizeof(peer->reason));
    if (r == 0)
        peer->status = PKI_PEER_VERIFIED;
    else if (r == -ENOENT)
        peer->status = PKI_PEER_NONE;
    else
        peer->status = PKI_PEER_REJECTED;
    if (peer->status == PKI_PEER_REJECTED && !peer->reason[0])
        snprintf(peer->reason, sizeof(peer->reason), "%s", strerror(-r));
}

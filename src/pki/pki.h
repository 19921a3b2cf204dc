/* The cluster PKI: a kos CA, the API server's serving certificate and client certificates,
 * all ECDSA P-256 (accepted by kubectl/client-go, Python's ssl and curl), issued and checked
 * with GnuTLS, which is also MHD's TLS stack, so the server has a single TLS library.
 *
 * Layout under the TLS directory (DATA/tls): ca.crt ca.key server.crt server.key admin.crt
 * admin.key. Keys are written 0600, certificates 0644, each through a temporary file and an
 * atomic rename so that a crash never leaves half a key behind. */
#pragma once

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "pki/identity.h"
#include "util/error.h"

#define PKI_MAX_FILE   (1024u * 1024) /* a PEM file or bundle we are willing to read */
#define PKI_MAX_NAME   1024           /* CN / O value length */
#define PKI_MAX_GROUPS 64             /* O values per certificate */
#define PKI_MAX_SANS   64
#define PKI_MAX_CHAIN  16 /* certificates a peer may present */

#define PKI_ADMIN_USER  "kubernetes-admin"
#define PKI_ADMIN_GROUP "system:masters"
/* Who the API server is to a node's kubelet endpoint (kubeadm's name for kube-apiserver's
 * --kubelet-client-certificate); the agent lets in no one else. */
#define PKI_KUBELET_CLIENT_USER "kube-apiserver-kubelet-client"

/* The TLS versions kos speaks: 1.2 and 1.3 only. */
#define PKI_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum pki_cert_kind { PKI_CERT_CA, PKI_CERT_SERVER, PKI_CERT_CLIENT };

struct pki_cert_spec {
    enum pki_cert_kind kind;
    const char *common_name;
    const char *const *organizations; /* client certificates: the groups */
    size_t norganizations;
    const char *const *sans; /* server certificates: each an IPv4/IPv6 address or DNS name */
    size_t nsans;
    time_t not_before; /* 0: five minutes ago (tolerates clock skew) */
    time_t not_after;  /* 0: 10 years for a CA, 1 year otherwise */
};

/* A certificate and its private key, both PEM, both malloc'd. */
struct pki_keypair {
    char *cert_pem;
    char *key_pem;
};

void pki_keypair_clear(struct pki_keypair *kp);

/* Issues a certificate with a fresh key, signed by issuer (NULL: self-signed, for a CA). */
int pki_issue(const struct pki_cert_spec *spec, const struct pki_keypair *issuer,
              struct pki_keypair *ret, struct kos_error **err);

/* Checks that cert_pem (a leaf, optionally followed by its chain) and key_pem parse and that
 * the key belongs to the leaf. `what` names the pair in error messages. */
int pki_check_keypair(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                      const char *what, struct kos_error **err);

/* Sets *ret to whether the leaf in cert_pem lists every SAN in sans (IPs compared as
 * addresses, DNS names case-insensitively). -EINVAL if a SAN is neither an IP nor a DNS name. */
int pki_cert_covers_sans(const char *cert_pem, size_t cert_len, const char *const *sans,
                         size_t nsans, bool *ret, struct kos_error **err);

/* A set of trusted CA certificates for verifying client certificates. */
struct pki_trust;

int pki_trust_new(const char *ca_pem, size_t len, struct pki_trust **ret, struct kos_error **err);
void pki_trust_free(struct pki_trust *t);

/* Verifies a client certificate chain (PEM, or one DER certificate) against the trust set:
 * signature chain, validity period, extKeyUsage clientAuth (a certificate without the
 * extension is accepted for any purpose, as Go and kube-apiserver do). On success fills *ret
 * with CN -> user, O -> groups. -ENOENT: no certificate, or a valid one without a CN (kube
 * treats that as unauthenticated, not as a failure); -EACCES: rejected; -EINVAL: unparsable. */
int pki_verify_client_cert(const struct pki_trust *t, const void *data, size_t len,
                           struct pki_identity *ret, struct kos_error **err);

/* The same for the certificates a TLS peer presented on session. */
int pki_peer_identity(gnutls_session_t session, const struct pki_trust *t, struct pki_identity *ret,
                      struct kos_error **err);

/* Fills *peer on its first call for a connection, and again once a verified chain expires.
 * session or t NULL: PKI_PEER_NONE. */
void pki_peer_update(gnutls_session_t session, const struct pki_trust *t, struct pki_peer *peer,
                     time_t now);

struct pki_options {
    const char *dir; /* the TLS directory, e.g. DATA/tls; created 0700 when missing */
    const char *const *extra_sans;
    size_t nextra_sans;
    /* --tls-cert-file / --tls-private-key-file: serve this pair instead of server.crt/key
     * (the file may hold the leaf followed by intermediates). Both or neither. */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* --client-ca-file: trusted for client certificates, in addition to the kos CA so that
     * admin.kubeconfig keeps working. */
    const char *client_ca_file;
};

/* Everything the server and the kubeconfig writer need, all malloc'd. */
struct pki_material {
    char *ca_cert_pem; /* the kos CA: issues admin and other client certificates */
    char *ca_key_pem;
    char *serving_cert_pem; /* what MHD serves (MHD_OPTION_HTTPS_MEM_CERT) */
    char *serving_key_pem;
    char *client_ca_pem; /* trusted for client certificates (MHD_OPTION_HTTPS_MEM_TRUST) */
    char *admin_cert_pem;
    char *admin_key_pem;
    char *ca_cert_path;
    char *ca_key_path;
    char *serving_cert_path;
    char *serving_key_path;
    char *admin_cert_path;
    char *admin_key_path;
    bool ca_created;            /* first start: a new CA */
    bool serving_issued;        /* server.crt was (re-)issued on this call */
    bool admin_issued;          /* admin.crt was (re-)issued on this call */
    bool serving_user_provided; /* from tls_cert_file; then serving is not signed by our CA */
};

void pki_material_clear(struct pki_material *m);

/* Loads the PKI from opts->dir, creating what is missing: the CA on first start (never
 * replaced afterwards: every issued certificate depends on it), the serving certificate when
 * missing, unreadable, not from the CA, within 30 days of expiry or not covering the wanted
 * SANs (127.0.0.1, localhost, the host name, extra_sans), and the admin client certificate
 * (CN kubernetes-admin, O system:masters) on the same terms. */
int pki_ensure(const struct pki_options *opts, struct pki_material *ret, struct kos_error **err);

/* The kubelet's own serving pair when it is given none: <dir>/<name>.crt (leaf, then the
 * throwaway CA that signed it) and <dir>/<name>.key, loaded when they exist and match, else
 * made for sans (a CA "<host>-ca@<time>" and a leaf "<host>@<time>") and written. */
int pki_ensure_self_signed(const char *dir, const char *name, const char *host,
                           const char *const *sans, size_t nsans, struct pki_keypair *ret,
                           struct kos_error **err);

/* Writes a kubeconfig (mode 0600, atomically) with cluster "kos", user "admin" and context
 * "kos", the PEMs embedded base64. ca_pem NULL: no certificate-authority-data; client cert
 * and key NULL: a user without credentials (tokens come later). */
int pki_write_kubeconfig(const char *path, const char *server_url, const char *ca_pem,
                         const char *client_cert_pem, const char *client_key_pem,
                         struct kos_error **err);

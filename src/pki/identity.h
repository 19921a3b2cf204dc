/* Who a TLS peer is, as its verified client certificate says: kube-apiserver's x509
 * authenticator maps the subject CN to the user name and every O to a group. Kept apart from
 * pki.h so that the HTTP layer's header need not pull in GnuTLS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct pki_identity {
    char *user;    /* subject CN */
    char **groups; /* subject O values, in certificate order */
    size_t ngroups;
};

enum pki_peer_status {
    PKI_PEER_NONE,     /* plain HTTP, no certificate, or one without a CN: try other authn */
    PKI_PEER_VERIFIED, /* identity is set */
    PKI_PEER_REJECTED, /* a certificate was presented and failed: 401 unless a token works */
};

/* The verdict on one TLS connection, computed on its first request and reused by the next
 * ones on the same connection (a chain verification costs a signature check). */
struct pki_peer {
    enum pki_peer_status status;
    struct pki_identity identity;
    bool checked;
    time_t not_after; /* re-checked (and rejected) once the verified chain expires */
    char reason[192]; /* why REJECTED, for the server log */
};

void pki_identity_clear(struct pki_identity *id);
void pki_peer_clear(struct pki_peer *peer);

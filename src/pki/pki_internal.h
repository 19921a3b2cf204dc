/* Shared between the src/pki files only. */
#pragma once

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pki/pki.h"

/* A chain imported from PEM or DER, leaf first as given. */
struct pki_chain {
    gnutls_x509_crt_t *crts;
    unsigned n;
};

static inline void pki_crt_deinitp(gnutls_x509_crt_t *c)
{
    if (*c)
        gnutls_x509_crt_deinit(*c);
}

static inline void pki_privkey_deinitp(gnutls_x509_privkey_t *k)
{
    if (*k)
        gnutls_x509_privkey_deinit(*k);
}

void pki_chain_free(struct pki_chain *c);

static inline void pki_chain_freep(struct pki_chain *c)
{
    pki_chain_free(c);
}

static inline void pki_keypair_clearp(struct pki_keypair *kp)
{
    pki_keypair_clear(kp);
}

#define _cleanup_crt_     __attribute__((cleanup(pki_crt_deinitp)))
#define _cleanup_privkey_ __attribute__((cleanup(pki_privkey_deinitp)))
#define _cleanup_chain_   __attribute__((cleanup(pki_chain_freep)))
#define _cleanup_keypair_ __attribute__((cleanup(pki_keypair_clearp)))

/* Sets a 500 error with the message (when err wants one) and returns rc. */
int pki_fail(struct kos_error **err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Imports PEM (one or more certificates) or, when the data has no PEM header, one DER
 * certificate. At most PKI_MAX_CHAIN certificates; -EINVAL otherwise. */
int pki_chain_import(const void *data, size_t len, const char *what, struct pki_chain *ret,
                     struct kos_error **err);
int pki_privkey_import(const char *pem, size_t len, const char *what, gnutls_x509_privkey_t *ret,
                       struct kos_error **err);

/* Whether s is an IPv4/IPv6 address or a DNS name (wildcard first label allowed). */
bool pki_san_valid(const char *s);

/* Verifies chain against t for a key purpose OID; on failure *reason (size len) says why.
 * Returns 0, -EACCES (rejected) or -ENOMEM. */
int pki_verify_chain(const struct pki_trust *t, const struct pki_chain *chain, const char *purpose,
                     char *reason, size_t len);

/* Reads a whole file of at most PKI_MAX_FILE bytes, NUL-terminated. -ENOENT when absent. */
int pki_read_file(const char *path, char **ret, size_t *ret_len, struct kos_error **err);
/* Replaces path atomically with data: a new file created 0600 (O_EXCL), chmod'ed to mode,
 * fsync'ed, renamed over path, and the directory fsync'ed. */
int pki_write_file(const char *path, const void *data, size_t len, mode_t mode,
                   struct kos_error **err);

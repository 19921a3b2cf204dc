/* JSON Web Tokens as service-account tokens use them (RFC 7519 with a JWS compact
 * signature, RFC 7515): ES256 (ECDSA P-256, the key kos generates) or RS256 (RSA keys a user
 * brings with --service-account-key-file / --service-account-signing-key-file), over GnuTLS.
 *
 * Parsing takes untrusted bytes: bounded size, strict base64url, JSON objects for header and
 * claims, a known algorithm; nothing is trusted before kos_jwt_verify succeeds. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

#define KOS_JWT_MAX (16 * 1024) /* bytes in a token we look at */

struct kos_jwt_key;

enum kos_jwt_alg { KOS_JWT_ES256, KOS_JWT_RS256 };

/* A new ECDSA P-256 private key as PEM (malloc'd). */
int kos_jwt_generate_key_pem(char **ret);
/* One private key (PEM: EC, RSA or PKCS#8) for signing; it also verifies. */
int kos_jwt_signing_key_load(const char *pem, size_t len, struct kos_jwt_key **ret,
                             struct kos_error **err);
/* Every key in a PEM bundle, as kube's keyutil.PublicKeysFromFile reads one: PUBLIC KEY,
 * private keys (EC, RSA, PKCS#8), CERTIFICATE; other blocks are skipped. Appends to *keys (grown), at most
 * 64 in all. -EINVAL when the bundle holds no usable key. */
int kos_jwt_public_keys_load(const char *pem, size_t len, struct kos_jwt_key ***keys, size_t *n,
                             struct kos_error **err);
void kos_jwt_key_free(struct kos_jwt_key *k);
enum kos_jwt_alg kos_jwt_key_alg(const struct kos_jwt_key *k);
/* kube's key id: base64url(SHA-256(DER SubjectPublicKeyInfo)). */
const char *kos_jwt_key_id(const struct kos_jwt_key *k);

/* header.claims.signature (malloc'd). */
int kos_jwt_sign(const struct kos_jwt_key *k, const json_t *claims, char **ret);

struct kos_jwt {
    json_t *header;
    json_t *claims;
    enum kos_jwt_alg alg;
    size_t signed_len; /* the "header.payload" prefix of the token */
    unsigned char *sig;
    size_t sig_len;
};

/* Splits and decodes a token without verifying it. -EINVAL for anything that is not a
 * well-formed JWS compact JWT with alg ES256/RS256 (or too long). */
int kos_jwt_parse(const char *token, struct kos_jwt *ret);
void kos_jwt_clear(struct kos_jwt *j);
/* 0 when one of keys (of the token's algorithm) verifies the signature; -EACCES otherwise. */
int kos_jwt_verify(const struct kos_jwt *j, const char *token, struct kos_jwt_key *const *keys,
                   size_t n);

/* base64url without padding (RFC 7515 section 2). */
char *kos_base64url_encode(const void *data, size_t len);
int kos_base64url_decode(const char *s, size_t len, char **ret, size_t *ret_len);

#include "auth/jwt.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define MAX_KEYS   64
#define ES256_HALF 32

struct kos_jwt_key {
    gnutls_privkey_t priv; /* NULL for a verify-only key */
    gnutls_pubkey_t pub;
    enum kos_jwt_alg alg;
    char *kid;
};

char *kos_base64url_encode(const void *data, size_t len)
{
    char *s = kos_base64_encode(data, len);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        if (c == '=')
            break;
        s[o++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    s[o] = '\0';
    return s;
}

int kos_base64url_decode(const char *s, size_t len, char **ret, size_t *ret_len)
{
    if (len % 4 == 1 || len > KOS_JWT_MAX)
        return -EINVAL;
    _cleanup_free_ char *std = malloc(len + 4);
    if (!std)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -EINVAL;
        std[i] = c;
    }
    size_t n = len;
    while (n % 4)
        std[n++] = '=';
    return kos_base64_decode(std, n, ret, ret_len);
}

void kos_jwt_key_free(struct kos_jwt_key *k)
{
    if (!k)
        return;
    if (k->priv)
        gnutls_privkey_deinit(k->priv);
    if (k->pub)
        gnutls_pubkey_deinit(k->pub);
    free(k->kid);
    free(k);
}

static void keyp_free(struct kos_jwt_key **k)
{
    kos_jwt_key_free(*k);
}

enum kos_jwt_alg kos_jwt_key_alg(const struct kos_jwt_key *k)
{
    return k->alg;
}

const char *kos_jwt_key_id(const struct kos_jwt_key *k)
{
    return k->kid;
}

/* Sets alg (P-256 ECDSA or RSA only) and the key id from k->pub. */
static int finish_key(struct kos_jwt_key *k, struct kos_error **err)
{
    unsigned bits = 0;
    int pk = gnutls_pubkey_get_pk_algorithm(k->pub, &bits);
    if (pk == GNUTLS_PK_RSA) {
        if (bits < 2048)
            return kos_error_set(err, 400, "BadRequest",
                                 "service account key: RSA keys need at least 2048 bits");
        k->alg = KOS_JWT_RS256;
    } else if (pk == GNUTLS_PK_ECDSA) {
        gnutls_ecc_curve_t curve;
        if (gnutls_pubkey_export_ecc_raw(k->pub, &curve, NULL, NULL) < 0 ||
            curve != GNUTLS_ECC_CURVE_SECP256R1)
            return kos_error_set(err, 400, "BadRequest",
                                 "service account key: only the P-256 curve is supported");
        k->alg = KOS_JWT_ES256;
    } else {
        return kos_error_set(err, 400, "BadRequest",
                             "service account key: unsupported key type (want RSA or ECDSA "
                             "P-256)");
    }
    gnutls_datum_t der = {0};
    if (gnutls_pubkey_export2(k->pub, GNUTLS_X509_FMT_DER, &der) < 0)
        return -EIO;
    unsigned char digest[32];
    int r = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest);
    gnutls_free(der.data);
    if (r < 0)
        return -EIO;
    k->kid = kos_base64url_encode(digest, sizeof(digest));
    return k->kid ? 0 : -ENOMEM;
}

int kos_jwt_generate_key_pem(char **ret)
{
    gnutls_x509_privkey_t key;
    if (gnutls_x509_privkey_init(&key) < 0)
        return -ENOMEM;
    gnutls_datum_t out = {0};
    int r = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (r >= 0)
        r = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &out);
    gnutls_x509_privkey_deinit(key);
    if (r < 0)
        return -EIO;
    char *s = malloc(out.size + 1);
    if (s) {
        memcpy(s, out.data, out.size);
        s[out.size] = '\0';
    }
    gnutls_memset(out.data, 0, out.size);
    gnutls_free(out.data);
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int key_from_privkey_pem(const char *pem, size_t len, struct kos_jwt_key **ret,
                                struct kos_error **err)
{
    __attribute__((cleanup(keyp_free))) struct kos_jwt_key *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    if (gnutls_privkey_init(&k->priv) < 0 || gnutls_pubkey_init(&k->pub) < 0)
        return -ENOMEM;
    gnutls_datum_t d = {.data = (unsigned char *)pem, .size = (unsigned)len};
    if (gnutls_privkey_import_x509_raw(k->priv, &d, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
        return kos_error_set(err, 400, "BadRequest", "service account key: unreadable private key");
    if (gnutls_pubkey_import_privkey(k->pub, k->priv, 0, 0) < 0)
        return kos_error_set(err, 400, "BadRequest", "service account key: no public key");
    int r = finish_key(k, err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(k);
    return 0;
}

int kos_jwt_signing_key_load(const char *pem, size_t len, struct kos_jwt_key **ret,
                             struct kos_error **err)
{
    if (len > (1u << 20))
        return kos_error_set(err, 400, "BadRequest", "service account key: file too large");
    return key_from_privkey_pem(pem, len, ret, err);
}

/* One PEM block (BEGIN to END line, inclusive) as a verify-only key; 0 if it holds no key we
 * read (other block types are skipped, as keyutil skips them). */
static int key_from_block(const char *type, const char *block, size_t len, struct kos_jwt_key **ret,
                          struct kos_error **err)
{
    gnutls_datum_t d = {.data = (unsigned char *)block, .size = (unsigned)len};
    if (strstr(type, "PRIVATE KEY")) {
        struct kos_jwt_key *k = NULL;
        int r = key_from_privkey_pem(block, len, &k, err);
        if (r < 0)
            return r;
        /* verification needs the public half only */
        gnutls_privkey_deinit(k->priv);
        k->priv = NULL;
        *ret = k;
        return 1;
    }
    __attribute__((cleanup(keyp_free))) struct kos_jwt_key *k = calloc(1, sizeof(*k));
    if (!k || gnutls_pubkey_init(&k->pub) < 0)
        return -ENOMEM;
    int r;
    if (strcmp(type, "CERTIFICATE") == 0) {
        r = gnutls_pubkey_import_x509_raw(k->pub, &d, GNUTLS_X509_FMT_PEM, 0);
    } else if (strcmp(type, "PUBLIC KEY") == 0) {
        r = gnutls_pubkey_import(k->pub, &d, GNUTLS_X509_FMT_PEM);
    } else {
        return 0;
    }
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "service account key: unreadable %s block",
                             type);
    if ((r = finish_key(k, err)) < 0)
        return r;
    *ret = TAKE_PTR(k);
    return 1;
}

int kos_jwt_public_keys_load(const char *pem, size_t len, struct kos_jwt_key ***keys, size_t *n,
                             struct kos_error **err)
{
    if (len > (1u << 20))
        return kos_error_set(err, 400, "BadRequest", "service account key file too large");
    _cleanup_free_ char *text = strndup(pem, len);
    if (!text)
        return -ENOMEM;
    size_t found = 0;
    char *p = text;
    for (;;) {
        char *begin = strstr(p, "-----BEGIN ");
        if (!begin)
            break;
        char *tend = strstr(begin + 11, "-----");
        if (!tend || tend - (begin + 11) > 40)
            break;
        char type[48];
        snprintf(type, sizeof(type), "%.*s", (int)(tend - (begin + 11)), begin + 11);
        char endmark[64];
        snprintf(endmark, sizeof(endmark), "-----END %s-----", type);
        char *end = strstr(tend, endmark);
        if (!end)
            return kos_error_set(err, 400, "BadRequest",
                                 "service account key file: unterminated %s block", type);
        end += strlen(endmark);
        if (*n >= MAX_KEYS)
            return kos_error_set(err, 400, "BadRequest",
                                 "service account key files: more than %d keys", MAX_KEYS);
        struct kos_jwt_key *k = NULL;
        int r = key_from_block(type, begin, (size_t)(end - begin), &k, err);
        if (r < 0)
            return r;
        if (r > 0) {
            struct kos_jwt_key **grown = realloc(*keys, (*n + 1) * sizeof(**keys));
            if (!grown) {
                kos_jwt_key_free(k);
                return -ENOMEM;
            }
            grown[(*n)++] = k;
            *keys = grown;
            found++;
        }
        p = end;
    }
    if (found == 0)
        return kos_error_set(err, 400, "BadRequest",
                             "service account key file holds no public or private key");
    return 0;
}

static char *b64url_json(const json_t *v)
{
    size_t n = 0;
    _cleanup_free_ char *s = kos_json_encode(v, &n);
    return s ? kos_base64url_encode(s, n) : NULL;
}

/* Pads or strips a big-endian integer to exactly ES256_HALF bytes. */
static int fixed_width(const gnutls_datum_t *v, unsigned char *out)
{
    const unsigned char *d = v->data;
    size_t n = v->size;
    while (n > ES256_HALF && *d == 0)
        d++, n--;
    if (n > ES256_HALF)
        return -EINVAL;
    memset(out, 0, ES256_HALF - n);
    memcpy(out + ES256_HALF - n, d, n);
    return 0;
}

int kos_jwt_sign(const struct kos_jwt_key *k, const json_t *claims, char **ret)
{
    if (!k->priv)
        return -EINVAL;
    _cleanup_json_ json_t *header =
        json_pack("{s:s, s:s}", "alg", k->alg == KOS_JWT_ES256 ? "ES256" : "RS256", "kid", k->kid);
    if (!header)
        return -ENOMEM;
    _cleanup_free_ char *h = b64url_json(header);
    _cleanup_free_ char *c = b64url_json(claims);
    if (!h || !c)
        return -ENOMEM;
    size_t signed_len = strlen(h) + 1 + strlen(c);
    _cleanup_free_ char *input = malloc(signed_len + 1);
    if (!input)
        return -ENOMEM;
    snprintf(input, signed_len + 1, "%s.%s", h, c);
    gnutls_datum_t data = {.data = (unsigned char *)input, .size = (unsigned)signed_len};
    gnutls_datum_t sig = {0};
    int r = gnutls_privkey_sign_data2(
        k->priv, k->alg == KOS_JWT_ES256 ? GNUTLS_SIGN_ECDSA_SHA256 : GNUTLS_SIGN_RSA_SHA256, 0,
        &data, &sig);
    if (r < 0)
        return -EIO;
    _cleanup_free_ char *s = NULL;
    if (k->alg == KOS_JWT_ES256) {
        gnutls_datum_t rr = {0}, ss = {0};
        unsigned char raw[2 * ES256_HALF];
        r = gnutls_decode_rs_value(&sig, &rr, &ss);
        if (r >= 0)
            r = fixed_width(&rr, raw) < 0 || fixed_width(&ss, raw + ES256_HALF) < 0 ? -1 : 0;
        gnutls_free(rr.data);
        gnutls_free(ss.data);
        if (r >= 0)
            s = kos_base64url_encode(raw, sizeof(raw));
    } else {
        s = kos_base64url_encode(sig.data, sig.size);
    }
    gnutls_free(sig.data);
    if (r < 0)
        return -EIO;
    if (!s)
        return -ENOMEM;
    size_t total = signed_len + 1 + strlen(s) + 1;
    char *tok = malloc(total);
    if (!tok)
        return -ENOMEM;
    snprintf(tok, total, "%s.%s", input, s);
    *ret = tok;
    return 0;
}

void kos_jwt_clear(struct kos_jwt *j)
{
    if (!j)
        return;
    json_decref(j->header);
    json_decref(j->claims);
    free(j->sig);
    memset(j, 0, sizeof(*j));
}

static int decode_object(const char *s, size_t len, json_t **ret)
{
    _cleanup_free_ char *raw = NULL;
    size_t n = 0;
    if (kos_base64url_decode(s, len, &raw, &n) < 0)
        return -EINVAL;
    json_t *v = NULL;
    if (kos_json_decode(raw, n, &v, NULL) < 0)
        return -EINVAL;
    if (!json_is_object(v)) {
        json_decref(v);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

int kos_jwt_parse(const char *token, struct kos_jwt *ret)
{
    size_t len = strnlen(token, KOS_JWT_MAX + 1);
    if (len > KOS_JWT_MAX)
        return -EINVAL;
    const char *d1 = memchr(token, '.', len);
    if (!d1)
        return -EINVAL;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
    if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return -EINVAL;
    _cleanup_(kos_jwt_clear) struct kos_jwt j = {0};
    if (decode_object(token, (size_t)(d1 - token), &j.header) < 0 ||
        decode_object(d1 + 1, (size_t)(d2 - d1 - 1), &j.claims) < 0)
        return -EINVAL;
    const char *alg = json_string_value(json_object_get(j.header, "alg"));
    if (!alg)
        return -EINVAL;
    if (strcmp(alg, "ES256") == 0)
        j.alg = KOS_JWT_ES256;
    else if (strcmp(alg, "RS256") == 0)
        j.alg = KOS_JWT_RS256;
    else
        return -EINVAL; /* "none" and every other algorithm */
    json_t *typ = json_object_get(j.header, "typ");
    if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        return -EINVAL;
    char *sig = NULL;
    if (kos_base64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), &sig, &j.sig_len) < 0)
        return -EINVAL;
    j.sig = (unsigned char *)sig;
    if (j.sig_len == 0 || (j.alg == KOS_JWT_ES256 && j.sig_len != 2 * ES256_HALF))
        return -EINVAL;
    j.signed_len = (size_t)(d2 - token);
    *ret = j;
    memset(&j, 0, sizeof(j));
    return 0;
}

int kos_jwt_verify(const struct kos_jwt *j, const char *token, struct kos_jwt_key *const *keys,
                   size_t n)
{
    gnutls_datum_t data = {.data = (unsigned char *)token, .size = (unsigned)j->signed_len};
    gnutls_datum_t sig = {.data = j->sig, .size = (unsigned)j->sig_len};
    gnutls_datum_t der = {0};
    if (j->alg == KOS_JWT_ES256) {
        gnutls_datum_t r = {.data = j->sig, .size = ES256_HALF};
        gnutls_datum_t s = {.data = j->sig + ES256_HALF, .size = ES256_HALF};
        if (gnutls_encode_rs_value(&der, &r, &s) < 0)
            return -ENOMEM;
        sig = der;
    }
    int result = -EACCES;
    for (size_t i = 0; i < n; i++) {
        if (keys[i]->alg != j->alg)
            continue;
        if (gnutls_pubkey_verify_data2(keys[i]->pub,
                                       j->alg == KOS_JWT_ES256 ? GNUTLS_SIGN_ECDSA_SHA256
                                                               : GNUTLS_SIGN_RSA_SHA256,
                                       0, &data, &sig) >= 0) {
            result = 0;
            break;
        }
    }
    gnutls_free(der.data);
    return result;
}

#include "agent/image/digest.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

bool image_digest_valid(const char *digest)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
        return false;
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

const char *image_digest_hex(const char *digest)
{
    return digest + 7;
}

int image_hasher_init(struct image_hasher *hs)
{
    gnutls_hash_hd_t h;
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
        return -ENOMEM;
    hs->h = h;
    return 0;
}

int image_hasher_update(struct image_hasher *hs, const void *data, size_t len)
{
    return gnutls_hash((gnutls_hash_hd_t)hs->h, data, len) < 0 ? -EIO : 0;
}

void image_hasher_final(struct image_hasher *hs, char out[IMAGE_DIGEST_MAX])
{
    unsigned char md[32];
    static const char hex[] = "0123456789abcdef";
    gnutls_hash_deinit((gnutls_hash_hd_t)hs->h, md);
    hs->h = NULL;
    memcpy(out, "sha256:", 7);
    for (size_t i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 64] = '\0';
}

void image_hasher_abort(struct image_hasher *hs)
{
    if (hs && hs->h) {
        gnutls_hash_deinit((gnutls_hash_hd_t)hs->h, NULL);
        hs->h = NULL;
    }
}

int image_digest_of(const void *data, size_t len, char out[IMAGE_DIGEST_MAX])
{
    struct image_hasher hs = {0};
    int r = image_hasher_init(&hs);
    if (r < 0)
        return r;
    r = image_hasher_update(&hs, data, len);
    if (r < 0) {
        image_hasher_abort(&hs);
        return r;
    }
    image_hasher_final(&hs, out);
    return 0;
}

/* sha256 digests in the OCI form "sha256:<64 lowercase hex>", streamed through GnuTLS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "agent/image/image.h"

struct image_hasher {
    void *h; /* gnutls_hash_hd_t */
};

/* True for "sha256:" followed by exactly 64 lowercase hex digits. */
bool image_digest_valid(const char *digest);
/* The 64-hex part of a valid digest. */
const char *image_digest_hex(const char *digest);

int image_hasher_init(struct image_hasher *hs);
int image_hasher_update(struct image_hasher *hs, const void *data, size_t len);
/* Writes "sha256:<hex>" and releases the hasher. */
void image_hasher_final(struct image_hasher *hs, char out[IMAGE_DIGEST_MAX]);
/* Releases without a result; accepts a never-initialised (zeroed) hasher. */
void image_hasher_abort(struct image_hasher *hs);

int image_digest_of(const void *data, size_t len, char out[IMAGE_DIGEST_MAX]);

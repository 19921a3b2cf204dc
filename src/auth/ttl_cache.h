/* A bounded, thread-safe cache of answers with an expiry each, keyed by a 32-byte digest
 * (HMAC-SHA256 under a per-cache random key, as kube's cached token authenticator keys by
 * an HMAC: a raw token or review never sits in memory as a key). Used for the TokenReview and
 * SubjectAccessReview webhook answers.
 *
 * When full, a put first drops expired entries, then the entry that expires soonest. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KOS_TTL_CACHE_KEY 32

struct kos_ttl_cache;

/* free_value releases a stored value (may be NULL when values need no release). now_ms NULL:
 * the monotonic clock; tests pass their own. */
int kos_ttl_cache_new(size_t capacity, void (*free_value)(void *), int64_t (*now_ms)(void),
                      struct kos_ttl_cache **ret);
void kos_ttl_cache_free(struct kos_ttl_cache *c);

/* The digest of data under this cache's key. */
int kos_ttl_cache_key(const struct kos_ttl_cache *c, const void *data, size_t len,
                      uint8_t key[KOS_TTL_CACHE_KEY]);

/* Looks key up; on a live hit calls copy(value, out) under the lock and returns its result
 * (>= 0 means hit, return 1), 0 on a miss or an expired entry. */
int kos_ttl_cache_get(struct kos_ttl_cache *c, const uint8_t key[KOS_TTL_CACHE_KEY],
                      int (*copy)(const void *value, void *out), void *out);
/* Stores value (taken over, also on failure) for ttl_ms (<= 0: not stored, value freed). */
int kos_ttl_cache_put(struct kos_ttl_cache *c, const uint8_t key[KOS_TTL_CACHE_KEY], void *value,
                      int64_t ttl_ms);
size_t kos_ttl_cache_size(struct kos_ttl_cache *c);

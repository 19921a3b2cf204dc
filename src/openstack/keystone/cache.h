/* A bounded cache of Keystone validation results, as kube-apiserver's webhook token cache:
 * keyed by a SHA-256 of the token (the token itself is never kept), an entry lives for the TTL
 * (default 2 minutes) but never past the token's own expiry, and the least recently used entry
 * makes room when the cache is full. Only successful validations are cached. Thread-safe. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/user.h"

#define KEYSTONE_CACHE_DEFAULT_TTL_MS (2 * 60 * 1000)
#define KEYSTONE_CACHE_DEFAULT_SIZE   4096

struct keystone_cache;

/* max_entries 0: caching off (get always misses). */
int keystone_cache_new(size_t max_entries, int64_t ttl_ms, struct keystone_cache **ret);
void keystone_cache_free(struct keystone_cache *c);

/* now_ms: wall-clock milliseconds (token expiry is wall-clock). 1 and *ret filled on a hit,
 * 0 on a miss (expired entries are dropped), negative errno. */
int keystone_cache_get(struct keystone_cache *c, const char *token, int64_t now_ms,
                       struct kos_user_info *ret);
/* Stores a copy of u until min(now + ttl, expires_at). */
int keystone_cache_put(struct keystone_cache *c, const char *token, const struct kos_user_info *u,
                       time_t expires_at, int64_t now_ms);
size_t keystone_cache_size(struct keystone_cache *c);
int64_t keystone_cache_now_ms(void);

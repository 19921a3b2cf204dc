/* Non-cryptographic 64-bit hashes for in-memory keys and change detection (never for anything
 * a client could use to attack: a collision costs a comparison or a missed retry). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A finalizer that spreads every input bit over the whole word (MurmurHash3's fmix64). */
static inline uint64_t kos_hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* The bytes eight at a step (a byte at a step, as FNV-1a goes, cost as much as the work the
 * hash was for); the length is part of the hash. */
static inline uint64_t kos_hash_bytes(const void *data, size_t n)
{
    const unsigned char *p = data;
    const uint64_t m = 0xff51afd7ed558ccdULL;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;
    size_t i = 0;
    for (; i + sizeof(w) <= n; i += sizeof(w)) {
        memcpy(&w, p + i, sizeof(w));
        h = (h ^ w) * m;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p + i, n - i);
    h = (h ^ w) * m;
    return h ^ (h >> 29);
}

/* A NUL-terminated string's kos_hash_bytes. */
static inline uint64_t kos_hash_str(const char *s)
{
    return kos_hash_bytes(s, strlen(s));
}

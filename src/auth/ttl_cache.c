#include "auth/ttl_cache.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

struct entry {
    uint8_t key[KOS_TTL_CACHE_KEY];
    void *value;
    int64_t expires_ms;
    struct entry *next;
};

struct kos_ttl_cache {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets;
    size_t count;
    size_t capacity;
    void (*free_value)(void *);
    int64_t (*now_ms)(void);
    uint8_t hmac_key[32];
};

int kos_ttl_cache_new(size_t capacity, void (*free_value)(void *), int64_t (*now_ms)(void),
                      struct kos_ttl_cache **ret)
{
    if (capacity == 0)
        return -EINVAL;
    struct kos_ttl_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->nbuckets = capacity < 16 ? 16 : capacity;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return -ENOMEM;
    }
    if (gnutls_rnd(GNUTLS_RND_KEY, c->hmac_key, sizeof(c->hmac_key)) < 0) {
        free(c->buckets);
        free(c);
        return -EIO;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->capacity = capacity;
    c->free_value = free_value;
    c->now_ms = now_ms ? now_ms : kos_now_ms_monotonic;
    *ret = c;
    return 0;
}

static void entry_free(struct kos_ttl_cache *c, struct entry *e)
{
    if (c->free_value && e->value)
        c->free_value(e->value);
    free(e);
}

void kos_ttl_cache_free(struct kos_ttl_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct entry *e = c->buckets[i];
        while (e) {
            struct entry *next = e->next;
            entry_free(c, e);
            e = next;
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    explicit_bzero(c->hmac_key, sizeof(c->hmac_key));
    free(c);
}

int kos_ttl_cache_key(const struct kos_ttl_cache *c, const void *data, size_t len,
                      uint8_t key[KOS_TTL_CACHE_KEY])
{
    return gnutls_hmac_fast(GNUTLS_MAC_SHA256, c->hmac_key, sizeof(c->hmac_key), data, len, key) < 0
               ? -EIO
               : 0;
}

static size_t bucket_of(const struct kos_ttl_cache *c, const uint8_t key[KOS_TTL_CACHE_KEY])
{
    uint64_t h;
    memcpy(&h, key, sizeof(h)); /* the key is already a keyed digest: any 8 bytes will do */
    return (size_t)(h % c->nbuckets);
}

/* Unlinks and frees the expired entries and victim (may be NULL); returns how many went. */
static size_t sweep(struct kos_ttl_cache *c, int64_t now, const struct entry *victim)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct entry **pp = &c->buckets[i];
        while (*pp) {
            struct entry *e = *pp;
            if (e == victim || e->expires_ms <= now) {
                *pp = e->next;
                entry_free(c, e);
                c->count--;
                n++;
            } else {
                pp = &e->next;
            }
        }
    }
    return n;
}

int kos_ttl_cache_get(struct kos_ttl_cache *c, const uint8_t key[KOS_TTL_CACHE_KEY],
                      int (*copy)(const void *value, void *out), void *out)
{
    int64_t now = c->now_ms();
    pthread_mutex_lock(&c->lock);
    struct entry **pp = &c->buckets[bucket_of(c, key)];
    int r = 0;
    while (*pp) {
        struct entry *e = *pp;
        if (memcmp(e->key, key, KOS_TTL_CACHE_KEY) == 0) {
            if (e->expires_ms <= now) {
                *pp = e->next;
                entry_free(c, e);
                c->count--;
                break;
            }
            r = copy(e->value, out);
            if (r >= 0)
                r = 1;
            break;
        }
        pp = &e->next;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int kos_ttl_cache_put(struct kos_ttl_cache *c, const uint8_t key[KOS_TTL_CACHE_KEY], void *value,
                      int64_t ttl_ms)
{
    if (ttl_ms <= 0) {
        if (c->free_value && value)
            c->free_value(value);
        return 0;
    }
    struct entry *ne = calloc(1, sizeof(*ne));
    if (!ne) {
        if (c->free_value && value)
            c->free_value(value);
        return -ENOMEM;
    }
    int64_t now = c->now_ms();
    memcpy(ne->key, key, KOS_TTL_CACHE_KEY);
    ne->value = value;
    ne->expires_ms = now + ttl_ms;

    pthread_mutex_lock(&c->lock);
    size_t b = bucket_of(c, key);
    for (struct entry **pp = &c->buckets[b]; *pp; pp = &(*pp)->next) {
        if (memcmp((*pp)->key, key, KOS_TTL_CACHE_KEY) == 0) {
            struct entry *old = *pp;
            ne->next = old->next;
            *pp = ne;
            entry_free(c, old);
            pthread_mutex_unlock(&c->lock);
            return 0;
        }
    }
    if (c->count >= c->capacity && sweep(c, now, NULL) == 0) {
        struct entry *soonest = NULL;
        for (size_t i = 0; i < c->nbuckets; i++)
            for (struct entry *e = c->buckets[i]; e; e = e->next)
                if (!soonest || e->expires_ms < soonest->expires_ms)
                    soonest = e;
        sweep(c, now, soonest);
    }
    ne->next = c->buckets[b];
    c->buckets[b] = ne;
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

size_t kos_ttl_cache_size(struct kos_ttl_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

#include "openstack/keystone/cache.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN 32

struct entry {
    uint8_t key[KEY_LEN];
    struct kos_user_info user;
    int64_t deadline_ms;
    struct entry *hnext;               /* bucket chain */
    struct entry *lru_prev, *lru_next; /* lru_prev = more recently used */
};

struct keystone_cache {
    pthread_mutex_t lock;
    size_t max, n, nbuckets;
    int64_t ttl_ms;
    struct entry **buckets;
    struct entry *mru, *lru;
};

int64_t keystone_cache_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int keystone_cache_new(size_t max_entries, int64_t ttl_ms, struct keystone_cache **ret)
{
    if (max_entries > (1u << 24) || ttl_ms < 0)
        return -EINVAL;
    struct keystone_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->max = max_entries;
    c->ttl_ms = ttl_ms;
    c->nbuckets = 16;
    while (c->nbuckets < max_entries * 2)
        c->nbuckets <<= 1;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return -ENOMEM;
    }
    pthread_mutex_init(&c->lock, NULL);
    *ret = c;
    return 0;
}

static void entry_free(struct entry *e)
{
    kos_user_info_clear(&e->user);
    free(e);
}

void keystone_cache_free(struct keystone_cache *c)
{
    if (!c)
        return;
    for (struct entry *e = c->mru, *next; e; e = next) {
        next = e->lru_next;
        entry_free(e);
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static int hash_token(const char *token, uint8_t out[KEY_LEN])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), out) < 0 ? -EIO : 0;
}

static size_t bucket_of(const struct keystone_cache *c, const uint8_t key[KEY_LEN])
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (c->nbuckets - 1));
}

static void lru_unlink(struct keystone_cache *c, struct entry *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->mru = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct keystone_cache *c, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = c->mru;
    if (c->mru)
        c->mru->lru_prev = e;
    c->mru = e;
    if (!c->lru)
        c->lru = e;
}

static void remove_entry(struct keystone_cache *c, struct entry *e)
{
    struct entry **pp = &c->buckets[bucket_of(c, e->key)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    lru_unlink(c, e);
    c->n--;
    entry_free(e);
}

static struct entry *find(struct keystone_cache *c, const uint8_t key[KEY_LEN])
{
    for (struct entry *e = c->buckets[bucket_of(c, key)]; e; e = e->hnext)
        if (memcmp(e->key, key, KEY_LEN) == 0)
            return e;
    return NULL;
}

int keystone_cache_get(struct keystone_cache *c, const char *token, int64_t now_ms,
                       struct kos_user_info *ret)
{
    if (!c || c->max == 0)
        return 0;
    uint8_t key[KEY_LEN];
    if (hash_token(token, key) < 0)
        return -EIO;
    int r = 0;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e && now_ms >= e->deadline_ms) {
        remove_entry(c, e);
        e = NULL;
    }
    if (e) {
        r = kos_user_info_copy(&e->user, ret);
        if (r == 0) {
            lru_unlink(c, e);
            lru_push_front(c, e);
            r = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int keystone_cache_put(struct keystone_cache *c, const char *token, const struct kos_user_info *u,
                       time_t expires_at, int64_t now_ms)
{
    if (!c || c->max == 0 || c->ttl_ms == 0)
        return 0;
    int64_t deadline = now_ms + c->ttl_ms;
    int64_t exp_ms = (int64_t)expires_at * 1000;
    if (exp_ms < deadline)
        deadline = exp_ms;
    if (deadline <= now_ms)
        return 0; /* already expired: never cache */
    struct entry *ne = calloc(1, sizeof(*ne));
    if (!ne)
        return -ENOMEM;
    if (hash_token(token, ne->key) < 0) {
        free(ne);
        return -EIO;
    }
    int r = kos_user_info_copy(u, &ne->user);
    if (r < 0) {
        free(ne);
        return r;
    }
    ne->deadline_ms = deadline;
    pthread_mutex_lock(&c->lock);
    struct entry *old = find(c, ne->key);
    if (old)
        remove_entry(c, old);
    while (c->n >= c->max && c->lru)
        remove_entry(c, c->lru);
    size_t b = bucket_of(c, ne->key);
    ne->hnext = c->buckets[b];
    c->buckets[b] = ne;
    lru_push_front(c, ne);
    c->n++;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

size_t keystone_cache_size(struct keystone_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->n;
    pthread_mutex_unlock(&c->lock);
    return n;
}

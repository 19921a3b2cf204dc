/* Chained hash map keyed by strings (util/hash.h), grown at load factor 1. */
#include "apiserver/authz/map.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct authz_map_entry {
    struct authz_map_entry *next;
    uint64_t hash;
    void *value;
    char key[];
};

void authz_map_init(struct authz_map *m)
{
    m->buckets = NULL;
    m->nbuckets = 0;
    m->size = 0;
}

void authz_map_clear(struct authz_map *m, void (*free_value)(void *))
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct authz_map_entry *e = m->buckets[i];
        while (e) {
            struct authz_map_entry *next = e->next;
            if (free_value)
                free_value(e->value);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    authz_map_init(m);
}

static struct authz_map_entry **find_slot(const struct authz_map *m, const char *key, uint64_t h)
{
    if (m->nbuckets == 0)
        return NULL;
    struct authz_map_entry **slot = &m->buckets[h & (m->nbuckets - 1)];
    while (*slot && ((*slot)->hash != h || strcmp((*slot)->key, key) != 0))
        slot = &(*slot)->next;
    return slot;
}

void *authz_map_get(const struct authz_map *m, const char *key)
{
    struct authz_map_entry **slot = find_slot(m, key, kos_hash_str(key));
    return slot && *slot ? (*slot)->value : NULL;
}

static int grow(struct authz_map *m)
{
    size_t n = m->nbuckets ? m->nbuckets * 2 : 16;
    if (n > SIZE_MAX / sizeof(*m->buckets))
        return -ENOMEM;
    struct authz_map_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < m->nbuckets; i++) {
        struct authz_map_entry *e = m->buckets[i];
        while (e) {
            struct authz_map_entry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
    return 0;
}

int authz_map_put(struct authz_map *m, const char *key, void *value, void **old)
{
    uint64_t h = kos_hash_str(key);
    struct authz_map_entry **slot = find_slot(m, key, h);
    if (slot && *slot) {
        if (old)
            *old = (*slot)->value;
        (*slot)->value = value;
        return 0;
    }
    if (m->size >= m->nbuckets) {
        int r = grow(m);
        if (r < 0)
            return r;
    }
    size_t len = strlen(key);
    struct authz_map_entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return -ENOMEM;
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    e->next = m->buckets[h & (m->nbuckets - 1)];
    m->buckets[h & (m->nbuckets - 1)] = e;
    m->size++;
    if (old)
        *old = NULL;
    return 0;
}

void *authz_map_remove(struct authz_map *m, const char *key)
{
    struct authz_map_entry **slot = find_slot(m, key, kos_hash_str(key));
    if (!slot || !*slot)
        return NULL;
    struct authz_map_entry *e = *slot;
    void *v = e->value;
    *slot = e->next;
    free(e);
    m->size--;
    return v;
}

void authz_map_iter_init(const struct authz_map *m, struct authz_map_iter *it)
{
    it->bucket = 0;
    it->next = m->nbuckets ? m->buckets[0] : NULL;
}

bool authz_map_iter_next(const struct authz_map *m, struct authz_map_iter *it, const char **key,
                         void **value)
{
    while (!it->next) {
        if (++it->bucket >= m->nbuckets)
            return false;
        it->next = m->buckets[it->bucket];
    }
    struct authz_map_entry *e = it->next;
    it->next = e->next;
    if (key)
        *key = e->key;
    if (value)
        *value = e->value;
    return true;
}

int authz_ptrvec_push(struct authz_ptrvec *pv, void *p)
{
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(void *))
            return -ENOMEM;
        void **v = realloc(pv->v, cap * sizeof(void *));
        if (!v)
            return -ENOMEM;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = p;
    return 0;
}

bool authz_ptrvec_remove(struct authz_ptrvec *pv, const void *p)
{
    for (size_t i = 0; i < pv->n; i++) {
        if (pv->v[i] == p) {
            pv->v[i] = pv->v[--pv->n];
            return true;
        }
    }
    return false;
}

void authz_ptrvec_free(struct authz_ptrvec *pv)
{
    free(pv->v);
    pv->v = NULL;
    pv->n = pv->cap = 0;
}

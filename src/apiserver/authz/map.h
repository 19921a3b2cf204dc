/* A string-keyed hash map and a pointer vector for the authorizers' in-memory indexes.
 *
 * The map owns copies of its keys, not its values. Lookups do not allocate, so readers holding
 * a read lock may use it concurrently; writers need exclusive access. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct authz_map_entry;

struct authz_map {
    struct authz_map_entry **buckets;
    size_t nbuckets;
    size_t size;
};

struct authz_map_iter {
    size_t bucket;
    struct authz_map_entry *next;
};

void authz_map_init(struct authz_map *m);
/* Frees the entries (and each value with free_value when not NULL). */
void authz_map_clear(struct authz_map *m, void (*free_value)(void *));
void *authz_map_get(const struct authz_map *m, const char *key);
/* Inserts or replaces; *old (may be NULL) receives the replaced value or NULL. */
int authz_map_put(struct authz_map *m, const char *key, void *value, void **old);
/* Removes the key and returns its value (NULL when absent). */
void *authz_map_remove(struct authz_map *m, const char *key);

/* Iteration in unspecified order; the map must not change meanwhile. */
void authz_map_iter_init(const struct authz_map *m, struct authz_map_iter *it);
bool authz_map_iter_next(const struct authz_map *m, struct authz_map_iter *it, const char **key,
                         void **value);

struct authz_ptrvec {
    void **v;
    size_t n;
    size_t cap;
};

int authz_ptrvec_push(struct authz_ptrvec *pv, void *p);
/* Removes the first occurrence of p (order is not kept); returns whether it was there. */
bool authz_ptrvec_remove(struct authz_ptrvec *pv, const void *p);
void authz_ptrvec_free(struct authz_ptrvec *pv);

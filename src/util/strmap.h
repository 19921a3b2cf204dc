/* A string-keyed open-addressing hash map (the scheduler's nodes by name and pods by uid, an
 * informer's cache by key). Keys are borrowed: each value owns the string its key points to,
 * and must outlive its entry. Not thread-safe; the owners lock around it. */
#pragma once

#include <stddef.h>

struct kos_strmap_slot {
    const char *key; /* NULL = empty */
    void *value;
    size_t hash;
};

struct kos_strmap {
    struct kos_strmap_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

/* A zeroed struct is an empty map. */
void kos_strmap_free(struct kos_strmap *m);
void *kos_strmap_get(const struct kos_strmap *m, const char *key);
/* Inserts or replaces; -ENOMEM leaves the map as it was. */
int kos_strmap_put(struct kos_strmap *m, const char *key, void *value);
/* Returns the removed value, or NULL. */
void *kos_strmap_remove(struct kos_strmap *m, const char *key);
/* Iteration: for (size_t i = 0; kos_strmap_next(m, &i, &k, &v);) ...  Do not mutate meanwhile. */
int kos_strmap_next(const struct kos_strmap *m, size_t *iter, const char **key, void **value);

/* A string-keyed open-addressing hash map for the scheduler's in-memory model (nodes by
 * name, pods by uid). Keys are borrowed: each value owns the string its key points to, and
 * must outlive its entry. Not thread-safe; the owners lock around it. */
#pragma once

#include <stddef.h>

struct sched_map_slot {
    const char *key; /* NULL = empty */
    void *value;
    size_t hash;
};

struct sched_map {
    struct sched_map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t len;
};

/* A zeroed struct is an empty map. */
void sched_map_free(struct sched_map *m);
void *sched_map_get(const struct sched_map *m, const char *key);
/* Inserts or replaces; -ENOMEM leaves the map as it was. */
int sched_map_put(struct sched_map *m, const char *key, void *value);
/* Returns the removed value, or NULL. */
void *sched_map_remove(struct sched_map *m, const char *key);
/* Iteration: for (size_t i = 0; sched_map_next(m, &i, &k, &v);) ...  Do not mutate meanwhile. */
int sched_map_next(const struct sched_map *m, size_t *iter, const char **key, void **value);

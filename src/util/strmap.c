#include "util/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

void kos_strmap_free(struct kos_strmap *m)
{
    if (!m)
        return;
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
}

static struct kos_strmap_slot *find_slot(const struct kos_strmap *m, const char *key, size_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct kos_strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
    }
}

void *kos_strmap_get(const struct kos_strmap *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    struct kos_strmap_slot *s = find_slot(m, key, (size_t)kos_hash_str(key));
    return s->key ? s->value : NULL;
}

static int grow(struct kos_strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (ncap < m->cap)
        return -ENOMEM;
    struct kos_strmap_slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns)
        return -ENOMEM;
    struct kos_strmap old = *m;
    m->slots = ns;
    m->cap = ncap;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key)
            *find_slot(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
    }
    free(old.slots);
    return 0;
}

int kos_strmap_put(struct kos_strmap *m, const char *key, void *value)
{
    if (!key)
        return -EINVAL;
    size_t h = (size_t)kos_hash_str(key);
    struct kos_strmap_slot *s = m->cap ? find_slot(m, key, h) : NULL;
    if (!s || !s->key) {
        /* Only a new key may grow the table, so replacing never fails. */
        if ((m->len + 1) * 2 > m->cap) {
            int r = grow(m);
            if (r < 0)
                return r;
        }
        s = find_slot(m, key, h);
        m->len++;
    }
    s->key = key;
    s->value = value;
    s->hash = h;
    return 0;
}

void *kos_strmap_remove(struct kos_strmap *m, const char *key)
{
    if (!m->cap || !key)
        return NULL;
    size_t mask = m->cap - 1;
    struct kos_strmap_slot *s = find_slot(m, key, (size_t)kos_hash_str(key));
    if (!s->key)
        return NULL;
    void *v = s->value;
    /* Backward-shift deletion keeps probe chains intact without tombstones. */
    size_t i = (size_t)(s - m->slots);
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        size_t home = m->slots[j].hash & mask;
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = NULL;
    m->slots[i].value = NULL;
    m->len--;
    return v;
}

int kos_strmap_next(const struct kos_strmap *m, size_t *iter, const char **key, void **value)
{
    for (; *iter < m->cap; (*iter)++) {
        if (m->slots[*iter].key) {
            if (key)
                *key = m->slots[*iter].key;
            if (value)
                *value = m->slots[*iter].value;
            (*iter)++;
            return 1;
        }
    }
    return 0;
}

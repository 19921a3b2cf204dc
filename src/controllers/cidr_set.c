/* Per-node subnet bitmap of the cluster CIDR. */
#include "controllers/cidr_set.h"

#include <errno.h>
#include <stdlib.h>

struct kos_cidr_set {
    struct kos_cidr cluster;
    int mask;
    uint64_t n;    /* subnets */
    uint64_t next; /* where the next allocation starts looking */
    uint64_t used;
    uint8_t *bits;
};

static bool bit(const struct kos_cidr_set *s, uint64_t i)
{
    return s->bits[i / 8] & (1u << (i % 8));
}

static void set_bit(struct kos_cidr_set *s, uint64_t i, bool on)
{
    if (on && !bit(s, i)) {
        s->bits[i / 8] |= (uint8_t)(1u << (i % 8));
        s->used++;
    } else if (!on && bit(s, i)) {
        s->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
        s->used--;
    }
}

int kos_cidr_set_new(const struct kos_cidr *cluster, int mask, struct kos_cidr_set **ret)
{
    if (mask < cluster->prefix || mask > 30)
        return -EINVAL;
    if (mask - cluster->prefix > KOS_CIDR_SET_MAX_BITS)
        return -E2BIG;
    struct kos_cidr_set *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cluster = *cluster;
    s->mask = mask;
    s->n = (uint64_t)1 << (mask - cluster->prefix);
    s->bits = calloc((size_t)(s->n + 7) / 8, 1);
    if (!s->bits) {
        free(s);
        return -ENOMEM;
    }
    *ret = s;
    return 0;
}

void kos_cidr_set_free(struct kos_cidr_set *s)
{
    if (!s)
        return;
    free(s->bits);
    free(s);
}

int kos_cidr_set_allocate(struct kos_cidr_set *s, struct kos_cidr *ret)
{
    for (uint64_t k = 0; k < s->n; k++) {
        uint64_t i = (s->next + k) % s->n;
        if (bit(s, i))
            continue;
        int r = kos_cidr_subnet(&s->cluster, s->mask, i, ret);
        if (r < 0)
            return r;
        set_bit(s, i, true);
        s->next = (i + 1) % s->n;
        return 0;
    }
    return -ENOSPC;
}

static int index_of(const struct kos_cidr_set *s, const struct kos_cidr *c, uint64_t *i)
{
    if (c->prefix != s->mask)
        return -ERANGE;
    return kos_cidr_subnet_index(&s->cluster, c, i);
}

int kos_cidr_set_occupy(struct kos_cidr_set *s, const struct kos_cidr *c)
{
    uint64_t i;
    int r = index_of(s, c, &i);
    if (r < 0)
        return r;
    set_bit(s, i, true);
    return 0;
}

int kos_cidr_set_release(struct kos_cidr_set *s, const struct kos_cidr *c)
{
    uint64_t i;
    int r = index_of(s, c, &i);
    if (r < 0)
        return r;
    set_bit(s, i, false);
    return 0;
}

bool kos_cidr_set_taken(const struct kos_cidr_set *s, const struct kos_cidr *c)
{
    uint64_t i;
    return index_of(s, c, &i) == 0 && bit(s, i);
}

uint64_t kos_cidr_set_free_count(const struct kos_cidr_set *s)
{
    return s->n - s->used;
}

/* A bitmap allocator over a contiguous range of integers, the shape of kube's ClusterIP and
 * NodePort allocators: values are offsets into [base, base + size); a lower "static" band is
 * left for values users ask for by number, and automatic allocation starts at a random place
 * in the upper band (then falls back to the lower band when the upper one is full), so that
 * an explicit request rarely collides with an automatic one. Not thread-safe: the owner
 * locks around it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Most values one allocator may cover (a /12 of IPv4 addresses; 128 KiB of bits). */
#define KOS_RANGE_ALLOC_MAX (1u << 20)

struct kos_range_alloc {
    uint32_t base;
    uint32_t size;
    uint32_t static_band; /* values [base, base + static_band) are taken automatically last */
    uint32_t used;
    uint8_t *bits;
};

/* -EINVAL for an empty range or a static band not below size, -E2BIG beyond
 * KOS_RANGE_ALLOC_MAX, -ENOMEM. */
int kos_range_alloc_init(struct kos_range_alloc *a, uint32_t base, uint32_t size,
                         uint32_t static_band);
/* Accepts a zeroed or already-freed allocator. */
void kos_range_alloc_free(struct kos_range_alloc *a);
bool kos_range_alloc_in_range(const struct kos_range_alloc *a, uint32_t value);
bool kos_range_alloc_has(const struct kos_range_alloc *a, uint32_t value);
/* Takes one value: 0, -ERANGE when it is outside the range, -EEXIST when it is taken. */
int kos_range_alloc_take(struct kos_range_alloc *a, uint32_t value);
/* Takes a free value chosen as described above: 0 and *ret, or -ENOSPC when all are taken. */
int kos_range_alloc_next(struct kos_range_alloc *a, uint32_t *ret);
/* Frees a value (nothing when it is outside the range or free). */
void kos_range_alloc_release(struct kos_range_alloc *a, uint32_t value);
/* kube's band sizes: IPs min(max(16, size/16), 256), ports min(max(16, size/32), 128);
 * never the whole range. */
uint32_t kos_range_alloc_ip_band(uint32_t size);
uint32_t kos_range_alloc_port_band(uint32_t size);

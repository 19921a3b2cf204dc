#include "apiserver/services/range_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int kos_range_alloc_init(struct kos_range_alloc *a, uint32_t base, uint32_t size,
                         uint32_t static_band)
{
    if (size == 0 || static_band >= size)
        return -EINVAL;
    if (size > KOS_RANGE_ALLOC_MAX)
        return -E2BIG;
    if ((uint64_t)base + size > UINT32_MAX + 1ull)
        return -EINVAL;
    uint8_t *bits = calloc((size + 7) / 8, 1);
    if (!bits)
        return -ENOMEM;
    *a = (struct kos_range_alloc){
        .base = base, .size = size, .static_band = static_band, .bits = bits};
    return 0;
}

void kos_range_alloc_free(struct kos_range_alloc *a)
{
    if (!a)
        return;
    free(a->bits);
    a->bits = NULL;
    a->size = a->used = 0;
}

bool kos_range_alloc_in_range(const struct kos_range_alloc *a, uint32_t value)
{
    return a->bits && value >= a->base && value - a->base < a->size;
}

static bool bit(const struct kos_range_alloc *a, uint32_t off)
{
    return a->bits[off / 8] & (1u << (off % 8));
}

bool kos_range_alloc_has(const struct kos_range_alloc *a, uint32_t value)
{
    return kos_range_alloc_in_range(a, value) && bit(a, value - a->base);
}

int kos_range_alloc_take(struct kos_range_alloc *a, uint32_t value)
{
    if (!kos_range_alloc_in_range(a, value))
        return -ERANGE;
    uint32_t off = value - a->base;
    if (bit(a, off))
        return -EEXIST;
    a->bits[off / 8] |= (uint8_t)(1u << (off % 8));
    a->used++;
    return 0;
}

/* First free offset in [lo, hi) scanning from start and wrapping; -1 when none. */
static int64_t scan(const struct kos_range_alloc *a, uint32_t lo, uint32_t hi, uint32_t start)
{
    uint32_t n = hi - lo;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = lo + (start - lo + i) % n;
        if (off % 8 == 0 && off + 8 <= hi && a->bits[off / 8] == 0xff && i + 8 <= n) {
            i += 7; /* a full byte: skip it whole */
            continue;
        }
        if (!bit(a, off))
            return off;
    }
    return -1;
}

int kos_range_alloc_next(struct kos_range_alloc *a, uint32_t *ret)
{
    if (!a->bits || a->used >= a->size)
        return -ENOSPC;
    uint32_t rnd = 0;
    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
        rnd = (uint32_t)random();
    uint32_t lo = a->static_band, hi = a->size;
    int64_t off = scan(a, lo, hi, lo + rnd % (hi - lo));
    if (off < 0 && a->static_band > 0)
        off = scan(a, 0, a->static_band, rnd % a->static_band);
    if (off < 0)
        return -ENOSPC;
    a->bits[off / 8] |= (uint8_t)(1u << (off % 8));
    a->used++;
    *ret = a->base + (uint32_t)off;
    return 0;
}

void kos_range_alloc_release(struct kos_range_alloc *a, uint32_t value)
{
    if (!kos_range_alloc_has(a, value))
        return;
    uint32_t off = value - a->base;
    a->bits[off / 8] &= (uint8_t) ~(1u << (off % 8));
    a->used--;
}

static uint32_t band(uint32_t size, uint32_t div, uint32_t max)
{
    uint32_t b = size / div;
    if (b < 16)
        b = 16;
    if (b > max)
        b = max;
    return b >= size ? 0 : b;
}

uint32_t kos_range_alloc_ip_band(uint32_t size)
{
    return band(size, 16, 256);
}

uint32_t kos_range_alloc_port_band(uint32_t size)
{
    return band(size, 32, 128);
}

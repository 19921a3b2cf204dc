/* Kubernetes resource quantities, parsed the way resource.ParseQuantity reads them.
 *
 * kube keeps an arbitrary-precision decimal rounded up (away from zero) to nano-units. We
 * compute that same nano value exactly with a small fixed-size big integer, then keep it as
 * milli-units rounded away from zero plus the nano remainder, which is all the API server,
 * the scheduler and the node agent need. */
#include "api/quantity.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Nano-units are the finest unit kube keeps; everything below rounds up to one nano. */
#define NANO_PER_MILLI 1000000u

/* The largest magnitude we represent without saturating: INT64_MAX milli-units. */
static const unsigned __int128 max_nano = (unsigned __int128)INT64_MAX * NANO_PER_MILLI;

/* 20 x 32 bits = 640 bits. Enough for up to KOS_QUANTITY_MAX_LEN decimal digits (< 2^426)
 * times 2^60 (Ei) times the few powers of ten applied before the overflow check. */
#define BIG_LIMBS 20

struct big {
    uint32_t limb[BIG_LIMBS]; /* little endian */
};

/* b = b * m + add. Returns false if the result does not fit (cannot happen within the
 * bounds the caller checks first, but a silent wrap would be a wrong answer). */
static bool big_muladd(struct big *b, uint32_t m, uint32_t add)
{
    uint64_t carry = add;
    for (size_t i = 0; i < BIG_LIMBS; i++) {
        uint64_t v = (uint64_t)b->limb[i] * m + carry;
        b->limb[i] = (uint32_t)v;
        carry = v >> 32;
    }
    return carry == 0;
}

/* b = b / d; returns the remainder. */
static uint32_t big_div(struct big *b, uint32_t d)
{
    uint64_t rem = 0;
    for (size_t i = BIG_LIMBS; i-- > 0;) {
        uint64_t v = (rem << 32) | b->limb[i];
        b->limb[i] = (uint32_t)(v / d);
        rem = v % d;
    }
    return (uint32_t)rem;
}

/* The value as u128, or false if it needs more than 128 bits. */
static bool big_to_u128(const struct big *b, unsigned __int128 *ret)
{
    for (size_t i = 4; i < BIG_LIMBS; i++)
        if (b->limb[i])
            return false;
    unsigned __int128 v = 0;
    for (size_t i = 4; i-- > 0;)
        v = (v << 32) | b->limb[i];
    *ret = v;
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* quantitySuffixer.interpret: a binary SI suffix (bin = power of two), a decimal SI
 * suffix or a decimal exponent (exp10 = power of ten). */
static int parse_suffix(const char *s, int *bin, int64_t *exp10)
{
    static const struct {
        const char *s;
        int bin;
        int exp10;
    } table[] = {
        {"", 0, 0},    {"n", 0, -9},  {"u", 0, -6},  {"m", 0, -3},  {"k", 0, 3},   {"M", 0, 6},
        {"G", 0, 9},   {"T", 0, 12},  {"P", 0, 15},  {"E", 0, 18},  {"Ki", 10, 0}, {"Mi", 20, 0},
        {"Gi", 30, 0}, {"Ti", 40, 0}, {"Pi", 50, 0}, {"Ei", 60, 0},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(s, table[i].s) == 0) {
            *bin = table[i].bin;
            *exp10 = table[i].exp10;
            return 0;
        }
    }

    /* e<int> / E<int>: strconv.ParseInt rules (optional sign, at least one digit), and
     * kube rejects exponents outside [-MaxInt32, MaxInt32] rather than truncating. */
    if (s[0] != 'e' && s[0] != 'E')
        return -EINVAL;
    const char *p = s + 1;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (!*p)
        return -EINVAL;
    int64_t v = 0;
    for (; *p; p++) {
        if (!is_digit(*p))
            return -EINVAL;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX)
            return -EINVAL;
    }
    *bin = 0;
    *exp10 = neg ? -v : v;
    return 0;
}

int kos_quantity_parse_general(const char *s, struct kos_quantity *ret)
{
    if (!s)
        return -EINVAL;
    size_t len = strnlen(s, KOS_QUANTITY_MAX_LEN + 1);
    if (len == 0 || len > KOS_QUANTITY_MAX_LEN)
        return -EINVAL;

    size_t i = 0;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    size_t int_start = i;
    while (is_digit(s[i]))
        i++;
    size_t int_end = i;
    size_t frac_start = i, frac_end = i;
    if (s[i] == '.') {
        i++;
        frac_start = i;
        while (is_digit(s[i]))
            i++;
        frac_end = i;
    }
    /* kube reads "", ".", "-" and a bare suffix ("Mi") as zero; we insist on a digit, as
     * the documented grammar intends, so a typo is not silently a zero request. */
    if (int_end == int_start && frac_end == frac_start)
        return -EINVAL;

    int bin;
    int64_t exp10;
    if (parse_suffix(s + i, &bin, &exp10) < 0)
        return -EINVAL;

    /* Significant digits of int.frac, leading zeros dropped. */
    struct big n = {{0}};
    size_t ndig = 0;
    for (size_t k = int_start; k < frac_end; k++) {
        if (k == int_end)
            continue; /* the '.' */
        if (ndig == 0 && s[k] == '0')
            continue;
        ndig++;
        if (!big_muladd(&n, 10, (uint32_t)(s[k] - '0')))
            return -EINVAL; /* unreachable: at most 128 digits */
    }

    struct kos_quantity q = {0};
    if (ndig == 0) {
        *ret = q;
        return 0;
    }

    /* nano = digits * 10^p * 2^bin */
    int64_t p = exp10 - (int64_t)(frac_end - frac_start) + 9;
    /* Lower bound on log10(nano): 2^bin >= 10^(3*bin/10). At 10^28 nano or more the value
     * is beyond INT64_MAX whole units. Below that, nano < 1.2e29 fits in 128 bits. */
    int64_t lo = (int64_t)ndig - 1 + p + bin * 3 / 10;
    /* Upper bound: nano < 10^(ndig + p + 19) since 2^60 < 10^19; at or below 10^0 the value
     * is a positive fraction of a nano, which kube rounds up to one. */
    int64_t hi = (int64_t)ndig + p + 19;

    q.negative = neg;
    unsigned __int128 nano = 0;
    bool huge = false;
    if (lo >= 28) {
        huge = true;
    } else if (hi <= 0) {
        nano = 1;
    } else {
        for (int b = 0; b < bin; b += 10)
            if (!big_muladd(&n, 1024, 0))
                return -EINVAL; /* unreachable, see BIG_LIMBS */
        bool inexact = false;
        for (int64_t k = 0; k < p; k++)
            if (!big_muladd(&n, 10, 0))
                return -EINVAL;
        for (int64_t k = p; k < 0; k++)
            if (big_div(&n, 10))
                inexact = true;
        if (!big_to_u128(&n, &nano))
            huge = true; /* unreachable given the bound on lo */
        else if (inexact)
            nano++;
    }

    if (huge || nano > max_nano) {
        q.overflow = true;
        q.milli = neg ? INT64_MIN : INT64_MAX;
        unsigned __int128 units = (nano + 999999999u) / 1000000000u;
        if (huge || units > INT64_MAX)
            q.big_value = neg ? INT64_MIN : INT64_MAX;
        else
            q.big_value = neg ? -(int64_t)units : (int64_t)units;
    } else {
        unsigned __int128 milli = (nano + NANO_PER_MILLI - 1) / NANO_PER_MILLI;
        q.nano_short = (uint32_t)(milli * NANO_PER_MILLI - nano);
        /* milli <= INT64_MAX because nano <= max_nano */
        q.milli = neg ? -(int64_t)milli : (int64_t)milli;
    }
    *ret = q;
    return 0;
}

/* Nano-units per unit of the suffixes a shortcut takes, 0 for any other. */
static uint64_t simple_suffix_nano(const char *x)
{
    if (!x[0])
        return 1000000000ULL;
    if (!x[1]) {
        switch (x[0]) {
        case 'm':
            return 1000000ULL;
        case 'k':
            return 1000000000000ULL;
        case 'M':
            return 1000000000000000ULL;
        case 'G':
            return 1000000000000000000ULL;
        default:
            return 0;
        }
    }
    if (x[1] != 'i' || x[2])
        return 0;
    switch (x[0]) {
    case 'K':
        return 1000000000ULL << 10;
    case 'M':
        return 1000000000ULL << 20;
    case 'G':
        return 1000000000ULL << 30;
    default:
        return 0;
    }
}

/* The quantities pods carry ("250m", "512Mi", "2"): a sign, at most 15 digits and no
 * fraction, with a suffix that makes a whole number of milli-units. Their nano value fits
 * in 128 bits by far, so it is computed directly instead of through the big integer; the
 * result is the general parser's (the unit tests compare the two). Returns false for any
 * other input, which the general parser then reads. */
static bool parse_simple(const char *s, struct kos_quantity *ret)
{
    size_t i = 0;
    bool neg = false;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i++;
    }
    size_t start = i;
    uint64_t d = 0;
    while (is_digit(s[i]) && i - start < 15)
        d = d * 10 + (uint64_t)(s[i++] - '0');
    if (i == start || is_digit(s[i]))
        return false;
    uint64_t per = simple_suffix_nano(s + i);
    if (!per)
        return false;
    /* d < 10^15 and per < 2^61: the product is below 2^111 */
    unsigned __int128 nano = (unsigned __int128)d * per;
    if (nano > max_nano)
        return false;
    struct kos_quantity q = {0};
    if (d) {
        int64_t milli = (int64_t)(nano / NANO_PER_MILLI); /* exact: per is a multiple */
        q.negative = neg;
        q.milli = neg ? -milli : milli;
    }
    *ret = q;
    return true;
}

int kos_quantity_parse(const char *s, struct kos_quantity *ret)
{
    if (s && parse_simple(s, ret))
        return 0;
    return kos_quantity_parse_general(s, ret);
}

int64_t kos_quantity_value(const struct kos_quantity *q)
{
    if (q->overflow)
        return q->big_value;
    /* Round away from zero, as inf.RoundUp does; milli is already rounded the same way so
     * a second rounding of it gives the same answer as rounding the exact value. */
    if (q->milli >= 0)
        return q->milli / 1000 + (q->milli % 1000 != 0);
    if (q->milli == INT64_MIN)
        return INT64_MIN / 1000 - 1; /* INT64_MIN is not a multiple of 1000 */
    int64_t m = -q->milli;
    return -(m / 1000 + (m % 1000 != 0));
}

int64_t kos_quantity_milli_value(const struct kos_quantity *q)
{
    if (q->overflow)
        return q->negative ? INT64_MIN : INT64_MAX;
    return q->milli;
}

static int sign_of(const struct kos_quantity *q)
{
    if (q->overflow)
        return q->negative ? -1 : 1;
    return (q->milli > 0) - (q->milli < 0);
}

int kos_quantity_cmp(const struct kos_quantity *a, const struct kos_quantity *b)
{
    int sa = sign_of(a), sb = sign_of(b);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    if (sa == 0)
        return 0;
    /* Same sign: compare magnitudes, then flip for negatives. An overflowed value is larger
     * than any that fits in milli-units; two overflowed ones compare by whole units. */
    int mag;
    if (a->overflow && b->overflow) {
        mag = a->big_value == b->big_value ? 0 : (a->big_value < b->big_value ? -1 : 1);
        if (sa < 0)
            mag = -mag; /* big_value is signed; mag compares magnitudes */
    } else if (a->overflow || b->overflow) {
        mag = (int)a->overflow - (int)b->overflow;
    } else {
        uint64_t ma = a->milli < 0 ? (uint64_t)0 - (uint64_t)a->milli : (uint64_t)a->milli;
        uint64_t mb = b->milli < 0 ? (uint64_t)0 - (uint64_t)b->milli : (uint64_t)b->milli;
        if (ma != mb)
            mag = ma < mb ? -1 : 1;
        else if (a->nano_short != b->nano_short)
            mag = a->nano_short > b->nano_short ? -1 : 1; /* more short = smaller */
        else
            mag = 0;
    }
    return sa > 0 ? mag : -mag;
}

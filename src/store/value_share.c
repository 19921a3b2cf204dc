/* Which bytes of a stored object are shared, and the process-wide table of shared chunks.
 *
 * Why: with 10,000 pods the stored values were 56 MB, most of it bytes that every pod of a
 * template repeats exactly: its spec (until it is bound) and the fieldsV1 of each managedFields
 * entry (half of a pod, as kube stores it). Those members, when large, are held once here and
 * the values keep only what differs (names, uids, times, status) between references to them.
 * GET, LIST and WATCH send the same bytes: a LIST writes the pieces as they lie, the readers
 * that parse join them first (kos_value_bytes).
 *
 * The chunks are found with the scanner the informers use; anything it does not expect just
 * leaves the value flat. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json_scan.h"
#include "store/value_internal.h"

/* Smaller members do not pay for a piece (24 bytes) and the table's entry. */
#define SHARE_MIN_BYTES 256
#define SHARE_MAX_SPANS 16

struct span {
    const char *p;
    size_t n;
};

/* A shared chunk: its bytes, and how many pieces of values point at them. */
struct kos_value_chunk {
    struct kos_value_chunk *next; /* in its bucket */
    uint64_t hash;
    size_t holders;
    size_t len;
    char data[];
};

/* Chained hash table of the chunks, process-wide. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kos_value_chunk **buckets;
static size_t nbuckets; /* power of two, or 0 */
static size_t nchunks;

static bool key_is(struct span k, const char *s)
{
    size_t n = strlen(s);
    return k.n == n && memcmp(k.p, s, n) == 0;
}

struct found {
    struct span spans[SHARE_MAX_SPANS];
    struct kos_value_chunk *chunks[SHARE_MAX_SPANS]; /* taken already (a hint), or NULL */
    size_t n;
};

static void add(struct found *f, struct span v)
{
    if (v.n >= SHARE_MIN_BYTES && f->n < SHARE_MAX_SPANS)
        f->spans[f->n++] = v;
}

/* Reads the member whose value starts at p: returns where the value ends, NULL when the
 * bytes are not what is expected. */
typedef const char *(*member_fn)(struct found *f, struct span k, const char *p, const char *end);

/* The chunk last shared as the i-th span of a value, per position: values of one template
 * repeat them in the same places, so a memcmp against it finds where the member ends without
 * scanning it and which chunk it is without hashing it. Under table_lock; a chunk leaves the
 * hints when it is freed. */
static struct kos_value_chunk *hints[SHARE_MAX_SPANS];

/* The hint for span i with one more holder when the bytes at p are its bytes, else NULL. */
static struct kos_value_chunk *hint_take(size_t i, const char *p, const char *end)
{
    pthread_mutex_lock(&table_lock);
    struct kos_value_chunk *c = hints[i];
    if (c && c->len <= (size_t)(end - p) && memcmp(c->data, p, c->len) == 0)
        c->holders++;
    else
        c = NULL;
    pthread_mutex_unlock(&table_lock);
    return c;
}

/* Whether a member's value can end at p: the object goes on or closes there. */
static bool value_ends_at(const char *p, const char *end)
{
    p = kos_json_skip_ws(p, end);
    return p < end && (*p == ',' || *p == '}');
}

/* Calls fn on each member of the object at p (within end), in order; returns the byte after
 * the object, NULL when the bytes are not a plain object. A member named shared_key is first
 * compared with its hint. */
static const char *each_member(const char *p, const char *end, struct found *f, member_fn fn,
                               const char *shared_key)
{
    p = kos_json_skip_ws(p, end);
    if (p >= end || *p != '{')
        return NULL;
    p = kos_json_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= end || *p != '"')
            return NULL;
        const char *kend = kos_json_skip_string(p, end);
        if (!kend)
            return NULL;
        struct span k = {p + 1, (size_t)(kend - p - 2)};
        p = kos_json_skip_ws(kend, end);
        if (p >= end || *p != ':')
            return NULL;
        p = kos_json_skip_ws(p + 1, end);
        struct kos_value_chunk *hint = NULL;
        if (shared_key && f->n < SHARE_MAX_SPANS && key_is(k, shared_key))
            hint = hint_take(f->n, p, end);
        if (hint && !value_ends_at(p + hint->len, end)) {
            /* the hint was a piece of a member (split_spec), not a whole one */
            kos_value_chunk_release(hint);
            hint = NULL;
        }
        const char *vend;
        if (hint) {
            /* equal bytes are an equal value: it ends where the chunk does */
            vend = p + hint->len;
            f->chunks[f->n] = hint;
            f->spans[f->n++] = (struct span){p, hint->len};
        } else if (!(vend = fn(f, k, p, end))) {
            return NULL;
        }
        p = kos_json_skip_ws(vend, end);
        if (p < end && *p == ',') {
            p = kos_json_skip_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}' ? p + 1 : NULL;
    }
}

static const char *in_entry(struct found *f, struct span k, const char *p, const char *end)
{
    const char *vend = kos_json_skip_value(p, end);
    if (vend && key_is(k, "fieldsV1"))
        add(f, (struct span){p, (size_t)(vend - p)});
    return vend;
}

static const char *in_metadata(struct found *f, struct span k, const char *p, const char *end)
{
    if (!key_is(k, "managedFields") || *p != '[')
        return kos_json_skip_value(p, end);
    p = kos_json_skip_ws(p + 1, end);
    while (p < end && *p != ']') {
        const char *e =
            *p == '{' ? each_member(p, end, f, in_entry, "fieldsV1") : kos_json_skip_value(p, end);
        if (!e)
            return NULL;
        p = kos_json_skip_ws(e, end);
        if (p < end && *p == ',')
            p = kos_json_skip_ws(p + 1, end);
        else if (p < end && *p != ']')
            return NULL;
    }
    return p < end ? p + 1 : NULL;
}

/* A pod's spec as one span, or, when kube's ServiceAccount admission put its
 * kube-api-access-<5 random> volume in (its name sits in the volumes and in every container's
 * volumeMounts), as the spans between those five characters: the rest repeats exactly in
 * every pod of a template. Any split is correct (the pieces join to the same bytes); this one
 * keeps the repeated parts shared. */
#define SA_VOLUME_PREFIX     "kube-api-access-"
#define SA_VOLUME_SUFFIX_LEN 5
static void split_spec(struct found *f, const char *p, const char *vend)
{
    const size_t plen = sizeof(SA_VOLUME_PREFIX) - 1;
    const char *from = p;
    for (;;) {
        const char *at = memmem(from, (size_t)(vend - from), SA_VOLUME_PREFIX, plen);
        if (!at || (size_t)(vend - at) < plen + SA_VOLUME_SUFFIX_LEN)
            break;
        const char *cut = at + plen;
        add(f, (struct span){from, (size_t)(cut - from)});
        from = cut + SA_VOLUME_SUFFIX_LEN;
    }
    add(f, (struct span){from, (size_t)(vend - from)});
}

static const char *in_object(struct found *f, struct span k, const char *p, const char *end)
{
    if (key_is(k, "metadata") && *p == '{')
        return each_member(p, end, f, in_metadata, NULL);
    const char *vend = kos_json_skip_value(p, end);
    if (vend && key_is(k, "spec"))
        split_spec(f, p, vend);
    return vend;
}

/* Eight bytes at a time in four independent lanes: hashing the shared members is most of
 * what sharing costs when a store of 10,000 pods loads (byte-at-a-time FNV took ~80 ms). */
static uint64_t hash_bytes(const char *p, size_t n)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h[4] = {n, n ^ 0x5bd1e995ULL, n ^ 0xc2b2ae35ULL, n ^ 0x27d4eb2fULL};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; l++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * l, 8);
            h[l] = (h[l] ^ w) * k;
            h[l] ^= h[l] >> 29;
        }
    uint64_t t = h[0] ^ (h[1] * 3) ^ (h[2] * 5) ^ (h[3] * 7);
    for (; i < n; i++)
        t = (t ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    t ^= t >> 33;
    t *= 0xff51afd7ed558ccdULL;
    return t ^ (t >> 33);
}

/* Under the lock. */
static int grow(void)
{
    size_t n = nbuckets ? nbuckets * 2 : 1024;
    struct kos_value_chunk **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return -1;
    for (size_t i = 0; i < nbuckets; i++)
        for (struct kos_value_chunk *c = buckets[i], *next; c; c = next) {
            next = c->next;
            c->next = nb[c->hash & (n - 1)];
            nb[c->hash & (n - 1)] = c;
        }
    free(buckets);
    buckets = nb;
    nbuckets = n;
    return 0;
}

/* The shared chunk with bytes [p, p + n) (one holder's share), or NULL when out of memory. */
static struct kos_value_chunk *chunk_acquire(size_t i, const char *p, size_t n)
{
    uint64_t h = hash_bytes(p, n);
    pthread_mutex_lock(&table_lock);
    struct kos_value_chunk *c = NULL;
    if (nbuckets)
        for (c = buckets[h & (nbuckets - 1)]; c; c = c->next)
            if (c->hash == h && c->len == n && memcmp(c->data, p, n) == 0)
                break;
    if (c) {
        c->holders++;
    } else if ((nchunks < nbuckets || grow() == 0) && (c = malloc(sizeof(*c) + n))) {
        c->hash = h;
        c->holders = 1;
        c->len = n;
        memcpy(c->data, p, n);
        c->next = buckets[h & (nbuckets - 1)];
        buckets[h & (nbuckets - 1)] = c;
        nchunks++;
    }
    if (c)
        hints[i] = c;
    pthread_mutex_unlock(&table_lock);
    return c;
}

void kos_value_chunk_release(struct kos_value_chunk *chunk)
{
    pthread_mutex_lock(&table_lock);
    if (--chunk->holders == 0) {
        struct kos_value_chunk **at = &buckets[chunk->hash & (nbuckets - 1)];
        while (*at != chunk)
            at = &(*at)->next;
        *at = chunk->next;
        for (size_t i = 0; i < SHARE_MAX_SPANS; i++)
            if (hints[i] == chunk)
                hints[i] = NULL;
        free(chunk);
        if (--nchunks == 0) {
            free(buckets);
            buckets = NULL;
            nbuckets = 0;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

static void release_all(struct kos_value_chunk **chunks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (chunks[i])
            kos_value_chunk_release(chunks[i]);
}

struct kos_value *kos_value_new_shared(const void *data, size_t len)
{
    struct found f = {0};
    const char *end = (const char *)data + len;
    const char *oend = each_member(data, end, &f, in_object, "spec");
    if (!oend || kos_json_skip_ws(oend, end) != end || f.n == 0) {
        release_all(f.chunks, f.n);
        return kos_value_new(data, len);
    }
    struct kos_value_chunk **chunks = f.chunks;
    size_t shared = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (!chunks[i] && !(chunks[i] = chunk_acquire(i, f.spans[i].p, f.spans[i].n))) {
            release_all(chunks, f.n);
            return kos_value_new(data, len);
        }
        shared += f.spans[i].n;
    }
    size_t own = len - shared, nseg = 2 * f.n + 1;
    struct kos_value *v = malloc(sizeof(*v) + nseg * sizeof(struct kos_value_seg) + own + 1);
    if (!v) {
        release_all(chunks, f.n);
        return NULL;
    }
    atomic_init(&v->refs, 1);
    v->len = len;
    struct kos_value_seg *s = kos_value_segs(v);
    char *lit = (char *)(s + nseg);
    const char *p = data;
    uint32_t n = 0;
    for (size_t i = 0; i <= f.n; i++) {
        const char *upto = i < f.n ? f.spans[i].p : (const char *)data + len;
        size_t gap = (size_t)(upto - p);
        if (gap) {
            memcpy(lit, p, gap);
            s[n++] = (struct kos_value_seg){lit, gap, NULL};
            lit += gap;
        }
        if (i < f.n) {
            s[n++] = (struct kos_value_seg){chunks[i]->data, f.spans[i].n, chunks[i]};
            p = f.spans[i].p + f.spans[i].n;
        }
    }
    *lit = '\0';
    v->nseg = n;
    return v;
}

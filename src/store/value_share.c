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
#include <stdlib.h>
#include <string.h>

#include "codec/json_scan.h"
#include "store/value_internal.h"
#include "util/strmap.h"

/* Smaller members do not pay for a piece (24 bytes) and the table's entry. */
#define SHARE_MIN_BYTES 256
#define SHARE_MAX_SPANS 16

struct span {
    const char *p;
    size_t n;
};

struct interned {
    struct kos_value *chunk; /* flat; its data is the table's key */
    size_t holders;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kos_strmap table;

static bool key_is(struct span k, const char *s)
{
    size_t n = strlen(s);
    return k.n == n && memcmp(k.p, s, n) == 0;
}

struct found {
    struct span spans[SHARE_MAX_SPANS];
    size_t n;
};

static void add(struct found *f, struct span v)
{
    if (v.n >= SHARE_MIN_BYTES && f->n < SHARE_MAX_SPANS)
        f->spans[f->n++] = v;
}

typedef bool (*member_fn)(struct found *f, struct span k, struct span v);

/* Calls fn on each member of the object at [p, end) in order; false when the bytes are not a
 * plain object or fn says stop. */
static bool each_member(const char *p, const char *end, struct found *f, member_fn fn)
{
    p = kos_json_skip_ws(p, end);
    if (p >= end || *p != '{')
        return false;
    p = kos_json_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return true;
    for (;;) {
        if (p >= end || *p != '"')
            return false;
        const char *kend = kos_json_skip_string(p, end);
        if (!kend)
            return false;
        struct span k = {p + 1, (size_t)(kend - p - 2)};
        p = kos_json_skip_ws(kend, end);
        if (p >= end || *p != ':')
            return false;
        p = kos_json_skip_ws(p + 1, end);
        const char *vend = kos_json_skip_value(p, end);
        if (!vend || !fn(f, k, (struct span){p, (size_t)(vend - p)}))
            return false;
        p = kos_json_skip_ws(vend, end);
        if (p < end && *p == ',') {
            p = kos_json_skip_ws(p + 1, end);
            continue;
        }
        return p < end && *p == '}';
    }
}

static bool in_entry(struct found *f, struct span k, struct span v)
{
    if (key_is(k, "fieldsV1"))
        add(f, v);
    return true;
}

static bool in_metadata(struct found *f, struct span k, struct span v)
{
    if (!key_is(k, "managedFields"))
        return true;
    const char *p = v.p, *end = v.p + v.n;
    if (*p != '[')
        return true;
    p = kos_json_skip_ws(p + 1, end);
    while (p < end && *p != ']') {
        const char *e = kos_json_skip_value(p, end);
        if (!e || (*p == '{' && !each_member(p, e, f, in_entry)))
            return false;
        p = kos_json_skip_ws(e, end);
        if (p < end && *p == ',')
            p = kos_json_skip_ws(p + 1, end);
    }
    return true;
}

static bool in_object(struct found *f, struct span k, struct span v)
{
    if (key_is(k, "metadata") && *v.p == '{')
        return each_member(v.p, v.p + v.n, f, in_metadata);
    if (key_is(k, "spec"))
        add(f, v);
    return true;
}

/* The shared chunk with bytes [p, p + n) (one holder's share), or NULL when out of memory. */
static struct kos_value *chunk_acquire(const char *p, size_t n)
{
    struct kos_value *cand = kos_value_new(p, n);
    if (!cand)
        return NULL;
    struct kos_value *chunk = NULL;
    pthread_mutex_lock(&table_lock);
    struct interned *e = kos_strmap_get(&table, cand->data);
    if (e) {
        e->holders++;
        chunk = e->chunk;
    } else if ((e = malloc(sizeof(*e)))) {
        *e = (struct interned){.chunk = cand, .holders = 1};
        if (kos_strmap_put(&table, cand->data, e) == 0) {
            chunk = cand;
            cand = NULL;
        } else {
            free(e);
        }
    }
    pthread_mutex_unlock(&table_lock);
    kos_value_unref(cand);
    return chunk;
}

void kos_value_chunk_release(struct kos_value *chunk)
{
    struct kos_value *drop = NULL;
    pthread_mutex_lock(&table_lock);
    struct interned *e = kos_strmap_get(&table, chunk->data);
    if (e && e->chunk == chunk && --e->holders == 0) {
        kos_strmap_remove(&table, chunk->data);
        free(e);
        drop = chunk;
    }
    if (table.len == 0)
        kos_strmap_free(&table);
    pthread_mutex_unlock(&table_lock);
    kos_value_unref(drop);
}

struct kos_value *kos_value_new_shared(const void *data, size_t len)
{
    struct found f = {0};
    if (!each_member(data, (const char *)data + len, &f, in_object) || f.n == 0)
        return kos_value_new(data, len);
    struct kos_value *chunks[SHARE_MAX_SPANS];
    size_t shared = 0;
    for (size_t i = 0; i < f.n; i++) {
        if (!(chunks[i] = chunk_acquire(f.spans[i].p, f.spans[i].n))) {
            for (size_t j = 0; j < i; j++)
                kos_value_chunk_release(chunks[j]);
            return kos_value_new(data, len);
        }
        shared += f.spans[i].n;
    }
    size_t own = len - shared, nseg = 2 * f.n + 1;
    struct kos_value *v = malloc(sizeof(*v) + nseg * sizeof(struct kos_value_seg) + own + 1);
    if (!v) {
        for (size_t i = 0; i < f.n; i++)
            kos_value_chunk_release(chunks[i]);
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

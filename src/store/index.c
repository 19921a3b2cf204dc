#include "store/index.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

struct store_index {
    /* Writer-preferring, so a stream of LISTs cannot starve the commit that follows them. */
    pthread_rwlock_t lock;
    struct store_index_entry **items; /* sorted by strcmp(key) */
    size_t count;
    size_t cap;
    _Atomic int64_t rev;
};

void store_kv_clear(struct store_kv *kv)
{
    if (!kv)
        return;
    free(kv->key);
    kos_value_unref(kv->value);
    *kv = (struct store_kv){0};
}

void store_list_clear(struct store_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        store_kv_clear(&l->items[i]);
    free(l->items);
    *l = (struct store_list){0};
}

int store_index_new(struct store_index **ret)
{
    _cleanup_free_ struct store_index *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return -ENOMEM;
    pthread_rwlockattr_t attr;
    if (pthread_rwlockattr_init(&attr) != 0)
        return -ENOMEM;
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int r = pthread_rwlock_init(&ix->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (r != 0)
        return -r;
    *ret = TAKE_PTR(ix);
    return 0;
}

void store_index_free(struct store_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->count; i++)
        store_index_entry_free(ix->items[i]);
    free(ix->items);
    pthread_rwlock_destroy(&ix->lock);
    free(ix);
}

struct store_index_entry *store_index_entry_new(const char *key, int64_t create_rev,
                                                int64_t mod_rev, struct kos_value *value)
{
    size_t len = strlen(key);
    struct store_index_entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    e->create_rev = create_rev;
    e->mod_rev = mod_rev;
    e->value = kos_value_ref(value);
    return e;
}

void store_index_entry_free(struct store_index_entry *e)
{
    if (!e)
        return;
    kos_value_unref(e->value);
    free(e);
}

/* First position whose key is >= key. */
static size_t lower_bound(const struct store_index *ix, const char *key)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->items[mid]->key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First position whose key is > key. */
static size_t upper_bound(const struct store_index *ix, const char *key)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->items[mid]->key, key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Keys with a prefix are contiguous: [lower_bound(prefix), prefix_end). strncmp against the
 * prefix is <0 before the run, 0 inside it and >0 after it, so it can be bisected. */
static size_t prefix_end(const struct store_index *ix, const char *prefix, size_t from)
{
    size_t plen = strlen(prefix);
    size_t lo = from, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(ix->items[mid]->key, prefix, plen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct store_index_entry *find(const struct store_index *ix, const char *key)
{
    size_t i = lower_bound(ix, key);
    if (i < ix->count && strcmp(ix->items[i]->key, key) == 0)
        return ix->items[i];
    return NULL;
}

static int kv_from_entry(const struct store_index_entry *e, struct store_kv *ret)
{
    char *k = strdup(e->key);
    if (!k)
        return -ENOMEM;
    *ret = (struct store_kv){
        .key = k,
        .create_rev = e->create_rev,
        .mod_rev = e->mod_rev,
        .value = kos_value_ref(e->value),
    };
    return 0;
}

int store_index_get(struct store_index *ix, const char *key, struct store_kv *ret)
{
    pthread_rwlock_rdlock(&ix->lock);
    const struct store_index_entry *e = find(ix, key);
    int r = e ? kv_from_entry(e, ret) : -ENOENT;
    pthread_rwlock_unlock(&ix->lock);
    return r;
}

int store_index_list(struct store_index *ix, const char *prefix, const char *start_after,
                     size_t limit, struct store_list *ret)
{
    if (!prefix)
        prefix = "";
    struct store_list l = {0};
    int r = 0;

    pthread_rwlock_rdlock(&ix->lock);
    size_t begin = lower_bound(ix, prefix);
    if (start_after && start_after[0] && strcmp(start_after, prefix) >= 0) {
        size_t after = upper_bound(ix, start_after);
        if (after > begin)
            begin = after;
    }
    size_t end = prefix_end(ix, prefix, begin);
    size_t n = end - begin;
    if (limit > 0 && n > limit) {
        n = limit;
        l.more = true;
    }
    l.rev = atomic_load(&ix->rev);
    if (n > 0) {
        l.items = calloc(n, sizeof(*l.items));
        if (!l.items)
            r = -ENOMEM;
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        r = kv_from_entry(ix->items[begin + i], &l.items[i]);
        if (r == 0)
            l.count++;
    }
    pthread_rwlock_unlock(&ix->lock);

    if (r < 0) {
        store_list_clear(&l);
        return r;
    }
    *ret = l;
    return 0;
}

int store_index_count(struct store_index *ix, const char *prefix, size_t *ret)
{
    if (!prefix)
        prefix = "";
    pthread_rwlock_rdlock(&ix->lock);
    size_t begin = lower_bound(ix, prefix);
    *ret = prefix_end(ix, prefix, begin) - begin;
    pthread_rwlock_unlock(&ix->lock);
    return 0;
}

size_t store_index_size(struct store_index *ix)
{
    pthread_rwlock_rdlock(&ix->lock);
    size_t n = ix->count;
    pthread_rwlock_unlock(&ix->lock);
    return n;
}

int64_t store_index_rev(struct store_index *ix)
{
    return atomic_load(&ix->rev);
}

const struct store_index_entry *store_index_lookup(struct store_index *ix, const char *key)
{
    return find(ix, key);
}

int store_index_reserve(struct store_index *ix, size_t extra)
{
    if (extra > SIZE_MAX / sizeof(*ix->items) - ix->count)
        return -ENOMEM;
    size_t need = ix->count + extra;
    if (need <= ix->cap)
        return 0;
    size_t cap = ix->cap ? ix->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 / sizeof(*ix->items) ? need : cap * 2;
    /* realloc may move the array under a reader, hence the write lock. */
    pthread_rwlock_wrlock(&ix->lock);
    struct store_index_entry **items = realloc(ix->items, cap * sizeof(*items));
    if (items) {
        ix->items = items;
        ix->cap = cap;
    }
    pthread_rwlock_unlock(&ix->lock);
    return items ? 0 : -ENOMEM;
}

void store_index_write_lock(struct store_index *ix)
{
    pthread_rwlock_wrlock(&ix->lock);
}

void store_index_write_unlock(struct store_index *ix)
{
    pthread_rwlock_unlock(&ix->lock);
}

void store_index_insert(struct store_index *ix, struct store_index_entry *e)
{
    size_t i = lower_bound(ix, e->key);
    if (i < ix->count && strcmp(ix->items[i]->key, e->key) == 0) {
        store_index_entry_free(ix->items[i]);
        ix->items[i] = e;
        return;
    }
    if (ix->count == ix->cap)
        abort(); /* the caller did not reserve: a programming error, not a runtime one */
    memmove(&ix->items[i + 1], &ix->items[i], (ix->count - i) * sizeof(*ix->items));
    ix->items[i] = e;
    ix->count++;
}

void store_index_update(struct store_index *ix, const char *key, int64_t mod_rev,
                        struct kos_value *value)
{
    struct store_index_entry *e = find(ix, key);
    if (!e)
        return;
    struct kos_value *old = e->value;
    e->value = kos_value_ref(value);
    e->mod_rev = mod_rev;
    kos_value_unref(old);
}

void store_index_remove(struct store_index *ix, const char *key)
{
    size_t i = lower_bound(ix, key);
    if (i >= ix->count || strcmp(ix->items[i]->key, key) != 0)
        return;
    store_index_entry_free(ix->items[i]);
    memmove(&ix->items[i], &ix->items[i + 1], (ix->count - i - 1) * sizeof(*ix->items));
    ix->count--;
}

void store_index_set_rev(struct store_index *ix, int64_t rev)
{
    atomic_store(&ix->rev, rev);
}

/* Strategic merge patch, following k8s.io/apimachinery/pkg/util/strategicpatch/patch.go
 * (mergeMap / mergeSlice with MergeParallelList and IgnoreUnmatchedNulls, the options the
 * apiserver uses):
 *
 *  - maps merge recursively, null removes a key, a value of another type replaces;
 *  - lists with patchStrategy=merge merge: lists of maps by their patchMergeKey (a patch item
 *    merges into the live item with the same key, new items are added), lists of primitives
 *    as a set union; all other lists are replaced;
 *  - directives: $patch (replace/delete/merge) in maps and as list items,
 *    $setElementOrder/<list>, $deleteFromPrimitiveList/<list>, $retainKeys.
 *
 * The order of a merged list is the one patch.go produces: patch items in patch (or
 * $setElementOrder) order, live-only items in live order, interleaved by live position; so a
 * new item comes before the live items (kube behaves the same).
 *
 * Deliberate differences from patch.go, all about input Go would mishandle:
 *  - directive keys never reach the result: a patch value stored where the live object has
 *    nothing (or something of another type) is itself merged into an empty value, so its
 *    directives are applied instead of being copied verbatim;
 *  - "$patch": "merge" in a map is accepted as the default (Go rejects it);
 *  - $deleteFromPrimitiveList removes the listed values whatever the field's strategy (Go
 *    would replace a non-merging list with the deletion list);
 *  - patch errors Go reports as untyped errors (500) are 422 Invalid when the patch does not
 *    fit the live object and 400 BadRequest when the patch itself is malformed. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/patch_internal.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define DIRECTIVE           "$patch"
#define RETAIN_KEYS         "$retainKeys"
#define SET_ORDER_PREFIX    "$setElementOrder"
#define DELETE_PRIMS_PREFIX "$deleteFromPrimitiveList"

struct smp {
    const struct kos_kind *kind;
    struct kos_error **err;
    /* Field path of the value being merged, list indices dropped ("spec.containers"). */
    char path[1024];
    size_t len;
    unsigned overflow; /* > 0 while the path did not fit: then no rule applies */
    unsigned depth;
};

static int smp_map(struct smp *s, json_t **io, const json_t *patch);
static int smp_clean(struct smp *s, const json_t *v, json_t **ret);

static int fail(struct smp *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct smp *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = kos_error_setv(s->err, code, code == 400 ? "BadRequest" : "Invalid", fmt, ap);
    va_end(ap);
    return rc;
}

static size_t path_push(struct smp *s, const char *key, size_t klen)
{
    size_t saved = s->len;
    if (s->overflow || memchr(key, '\0', klen) || s->len + 1 + klen >= sizeof(s->path)) {
        s->overflow++;
        return SIZE_MAX;
    }
    if (s->len)
        s->path[s->len++] = '.';
    memcpy(s->path + s->len, key, klen);
    s->len += klen;
    s->path[s->len] = '\0';
    return saved;
}

static void path_pop(struct smp *s, size_t saved)
{
    if (saved == SIZE_MAX) {
        s->overflow--;
        return;
    }
    s->len = saved;
    s->path[saved] = '\0';
}

static void meta_here(struct smp *s, struct kos_patch_meta *m)
{
    if (s->overflow)
        *m = (struct kos_patch_meta){0};
    else
        kos_patch_meta_lookup(s->kind, s->path, m);
}

static const char *here(struct smp *s)
{
    return s->overflow ? "(path too long)" : s->path;
}

static bool has_prefix_n(const char *k, size_t klen, const char *prefix)
{
    size_t n = strlen(prefix);
    return klen >= n && memcmp(k, prefix, n) == 0;
}

/* "$setElementOrder/containers" -> "containers"; NULL when the slash is missing. */
static const char *directive_field(const char *k, size_t klen, const char *prefix,
                                   size_t *field_len)
{
    size_t n = strlen(prefix);
    if (klen <= n || k[n] != '/')
        return NULL;
    *field_len = klen - n - 1;
    return k + n + 1;
}

/* Whether the patch has a member "<prefix>/<field>": 1, 0, or -ENOMEM. */
static int has_sibling_directive(const json_t *patch, const char *prefix, const char *field,
                                 size_t flen)
{
    size_t plen = strlen(prefix);
    _cleanup_free_ char *key = malloc(plen + 1 + flen);
    if (!key)
        return -ENOMEM;
    memcpy(key, prefix, plen);
    key[plen] = '/';
    memcpy(key + plen + 1, field, flen);
    return json_object_getn(patch, key, plen + 1 + flen) != NULL;
}

/* ---- list items and their identity ---------------------------------------------------- */

/* What identifies a list item: its merge key value in lists of maps, itself otherwise. NULL
 * for an item without the merge key (it matches nothing). */
static const json_t *identity(const json_t *item, const char *key)
{
    return key ? json_object_get(item, key) : item;
}

/* Two entries are the same list item (used where lists are walked pairwise). */
static bool same_item(const json_t *a, const json_t *b, const char *key)
{
    const json_t *ia = identity(a, key), *ib = identity(b, key);
    return ia && ib && json_equal(ia, ib);
}

/* Lists can be long (a request body holds ~100k small items), so lookups by identity go
 * through a hash index instead of a linear scan per item: a jansson object mapping the
 * canonical encoding of an identity (sorted keys, so equal values encode equally) to the
 * position of its first occurrence. */
static char *canonical(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
}

/* Position of item's identity in idx, -1 when absent, -ENOMEM (< -1) on failure. */
static long index_find(const json_t *idx, const json_t *item, const char *key)
{
    const json_t *id = identity(item, key);
    if (!id)
        return -1;
    _cleanup_free_ char *c = canonical(id);
    if (!c)
        return -ENOMEM;
    json_t *pos = json_object_get(idx, c);
    return pos ? (long)json_integer_value(pos) : -1;
}

/* Records pos for item's identity unless it is already there. */
static int index_add(json_t *idx, const json_t *item, const char *key, size_t pos)
{
    const json_t *id = identity(item, key);
    if (!id)
        return 0;
    _cleanup_free_ char *c = canonical(id);
    if (!c)
        return -ENOMEM;
    if (json_object_get(idx, c))
        return 0;
    return json_object_set_new(idx, c, json_integer((json_int_t)pos)) < 0 ? -ENOMEM : 0;
}

static json_t *index_of(const json_t *list, const char *key)
{
    _cleanup_json_ json_t *idx = json_object();
    if (!idx)
        return NULL;
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (index_add(idx, v, key, i) < 0)
            return NULL;
    }
    return TAKE_PTR(idx);
}

struct ranked {
    json_t *item;
    long rank;  /* position in the order it is sorted by; LONG_MAX when absent */
    long live;  /* position in the live list, -1 when absent */
    size_t pos; /* makes the sort stable */
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Items stably sorted by their position in `order` (patch.go normalizeSliceOrder), each
 * with its position in the live list. */
static struct ranked *sort_by(const json_t *items, const json_t *order_idx, const json_t *live_idx,
                              const char *key)
{
    size_t n = json_array_size(items);
    _cleanup_free_ struct ranked *r = calloc(n ? n : 1, sizeof(*r));
    if (!r)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        r[i].item = json_array_get(items, i);
        long rank = index_find(order_idx, r[i].item, key);
        r[i].live = index_find(live_idx, r[i].item, key);
        if (rank < -1 || r[i].live < -1)
            return NULL;
        r[i].rank = rank < 0 ? LONG_MAX : rank;
        r[i].pos = i;
    }
    qsort(r, n, sizeof(*r), ranked_cmp);
    return TAKE_PTR(r);
}

/* Puts the items of *io in patch.go's order (normalizeElementOrder + mergeSortedSlice): the
 * items present in `order` sorted by it, the others (live-only) sorted by the live list,
 * then interleaved: a live-only item goes first when the live list puts it before the next
 * patch item. */
static int reorder(json_t **io, const json_t *order, const json_t *live, const char *key)
{
    _cleanup_json_ json_t *order_idx = index_of(order, key);
    _cleanup_json_ json_t *live_idx = index_of(live, key);
    _cleanup_json_ json_t *in = json_array();
    _cleanup_json_ json_t *out = json_array();
    _cleanup_json_ json_t *res = json_array();
    if (!order_idx || !live_idx || !in || !out || !res)
        return -ENOMEM;
    size_t i;
    json_t *v;
    json_array_foreach(*io, i, v)
    {
        long at = index_find(order_idx, v, key);
        if (at < -1 || json_array_append(at >= 0 ? in : out, v) < 0)
            return -ENOMEM;
    }
    size_t np = json_array_size(in), ns = json_array_size(out);
    _cleanup_free_ struct ranked *p = sort_by(in, order_idx, live_idx, key);
    _cleanup_free_ struct ranked *so = sort_by(out, live_idx, live_idx, key);
    if (!p || !so)
        return -ENOMEM;
    size_t a = 0, b = 0;
    while (a < ns || b < np) {
        bool live_first =
            a < ns && (b >= np || (so[a].live >= 0 && p[b].live >= 0 && so[a].live < p[b].live));
        if (json_array_append(res, live_first ? so[a++].item : p[b++].item) < 0)
            return -ENOMEM;
    }
    json_decref(*io);
    *io = TAKE_PTR(res);
    return 0;
}

/* ---- lists ---------------------------------------------------------------------------- */

static int type_class(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        return JSON_REAL;
    case JSON_TRUE:
    case JSON_FALSE:
        return JSON_TRUE;
    default:
        return (int)json_typeof(v);
    }
}

/* patch.go sliceElementType: all items of both lists have one type, and it is not a list.
 * Returns that type class, or -1 when both lists are empty. */
static int element_class(struct smp *s, const json_t *a, const json_t *b, int *ret)
{
    int cls = -1;
    const json_t *lists[] = {a, b};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *v;
        json_array_foreach(lists[l], i, v)
        {
            if (json_is_array(v))
                return fail(s, 422, "%s: lists of lists are not supported", here(s));
            if (cls >= 0 && type_class(v) != cls)
                return fail(s, 422, "%s: list element types are not identical", here(s));
            cls = type_class(v);
        }
    }
    *ret = cls;
    return 0;
}

static int no_merge_key(struct smp *s, const json_t *item, const char *key)
{
    _cleanup_free_ char *dump = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS);
    return fail(s, 422, "map: %.200s does not contain declared merge key: %s",
                dump ? dump : "{...}", key);
}

/* Keeps the items of list whose identity is not in idx. */
static int remove_indexed(json_t *list, const json_t *idx, const char *key)
{
    size_t keep = 0, n = json_array_size(list);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(list, i);
        long at = index_find(idx, v, key);
        if (at < -1)
            return -ENOMEM;
        if (at >= 0)
            continue;
        if (keep != i && json_array_set(list, keep, v) < 0)
            return -ENOMEM;
        keep++;
    }
    while (json_array_size(list) > keep)
        json_array_remove(list, json_array_size(list) - 1);
    return 0;
}

/* $deleteFromPrimitiveList: removes every value listed in del. */
static int delete_values(json_t *list, const json_t *del)
{
    _cleanup_json_ json_t *idx = index_of(del, NULL);
    if (!idx)
        return -ENOMEM;
    return remove_indexed(list, idx, NULL);
}

/* Merges a list of primitives as a set (patch.go mergeSlice, scalar branch). */
static int merge_primitives(json_t **io, const json_t *patch)
{
    _cleanup_json_ json_t *before = json_copy(*io);
    _cleanup_json_ json_t *merged = json_array();
    _cleanup_json_ json_t *seen = json_object();
    if (!before || !merged || !seen)
        return -ENOMEM;
    const json_t *lists[] = {*io, patch};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *v;
        json_array_foreach(lists[l], i, v)
        {
            long at = index_find(seen, v, NULL);
            if (at < -1)
                return -ENOMEM;
            if (at >= 0)
                continue;
            json_t *c = patch_copy(v);
            if (!c || index_add(seen, v, NULL, json_array_size(merged)) < 0 ||
                json_array_append_new(merged, c) < 0)
                return -ENOMEM;
        }
    }
    json_decref(*io);
    *io = TAKE_PTR(merged);
    return reorder(io, patch, before, NULL);
}

/* Merges a list of maps by key (patch.go mergeSliceWithSpecialElements and
 * mergeSliceWithoutSpecialElements, then the ordering). */
static int merge_maps(struct smp *s, json_t **io, const json_t *patch, const char *key)
{
    _cleanup_json_ json_t *plain = json_array();
    _cleanup_json_ json_t *deleted = json_object();
    if (!plain || !deleted)
        return -ENOMEM;
    bool replace = false;
    size_t i;
    json_t *p;
    json_array_foreach(patch, i, p)
    {
        json_t *d = json_object_get(p, DIRECTIVE);
        const char *dv = json_string_value(d);
        if (!d) {
            if (json_array_append(plain, p) < 0)
                return -ENOMEM;
        } else if (dv && strcmp(dv, "delete") == 0) {
            if (!json_object_get(p, key))
                return no_merge_key(s, p, key);
            if (index_add(deleted, p, key, i) < 0)
                return -ENOMEM;
        } else if (dv && strcmp(dv, "replace") == 0) {
            replace = true;
        } else if (dv && strcmp(dv, "merge") == 0) {
            return fail(s, 400, "%s: merging lists cannot yet be specified in the patch", here(s));
        } else {
            return fail(s, 400, "%s: unknown patch type: %s in list", here(s),
                        dv ? dv : "(not a string)");
        }
    }
    if (replace) {
        json_t *res = NULL;
        int rc = smp_clean(s, plain, &res);
        if (rc < 0)
            return rc;
        json_decref(*io);
        *io = res;
        return 0;
    }
    int rc = remove_indexed(*io, deleted, key);
    if (rc < 0)
        return rc;

    json_array_foreach(*io, i, p)
    {
        if (!json_object_get(p, key))
            return no_merge_key(s, p, key);
    }
    _cleanup_json_ json_t *live = json_copy(*io);
    _cleanup_json_ json_t *idx = index_of(*io, key);
    if (!live || !idx)
        return -ENOMEM;
    json_array_foreach(plain, i, p)
    {
        if (!json_object_get(p, key))
            return no_merge_key(s, p, key);
        long at = index_find(idx, p, key);
        if (at < -1)
            return -ENOMEM;
        json_t *item = NULL;
        if (at >= 0) {
            item = json_incref(json_array_get(*io, (size_t)at));
            rc = smp_map(s, &item, p);
            if (rc >= 0 && json_array_set(*io, (size_t)at, item) < 0)
                rc = -ENOMEM;
        } else {
            /* a later patch item with the same key merges into this one, as in patch.go */
            rc = smp_clean(s, p, &item);
            if (rc >= 0 && (index_add(idx, p, key, json_array_size(*io)) < 0 ||
                            json_array_append(*io, item) < 0))
                rc = -ENOMEM;
        }
        json_decref(item);
        if (rc < 0)
            return rc;
    }
    return reorder(io, plain, live, key);
}

/* Both *io and patch are lists at the current path. */
static int smp_list(struct smp *s, json_t **io, const json_t *patch, bool delete_list)
{
    if (delete_list)
        return delete_values(*io, patch);

    struct kos_patch_meta m;
    meta_here(s, &m);
    if (!(m.strategy & KOS_PATCH_STRATEGY_MERGE)) {
        json_t *res = NULL;
        int rc = smp_clean(s, patch, &res);
        if (rc < 0)
            return rc;
        json_decref(*io);
        *io = res;
        return 0;
    }
    int cls = -1;
    int rc = element_class(s, *io, patch, &cls);
    if (rc < 0 || cls < 0)
        return rc;
    if (cls != JSON_OBJECT)
        return merge_primitives(io, patch);
    if (!m.merge_key)
        return fail(s, 422, "%s: cannot merge lists without merge key", here(s));
    return merge_maps(s, io, patch, m.merge_key);
}

/* ---- maps ----------------------------------------------------------------------------- */

/* Whether the key is listed in idx (an index of a $retainKeys list): 1, 0 or -ENOMEM. */
static int key_listed(const json_t *idx, const char *k, size_t klen)
{
    _cleanup_json_ json_t *str = json_stringn(k, klen);
    if (!str)
        return -ENOMEM;
    long at = index_find(idx, str, NULL);
    return at < -1 ? -ENOMEM : at >= 0;
}

/* $retainKeys: every key the patch sets must be listed; live keys not listed are dropped. */
static int apply_retain_keys(struct smp *s, json_t *orig, const json_t *patch)
{
    json_t *keep = json_object_get(patch, RETAIN_KEYS);
    if (!keep)
        return 0;
    if (!json_is_array(keep))
        return fail(s, 400, "%s: invalid patch format of retainKeys", here(s));
    _cleanup_json_ json_t *idx = index_of(keep, NULL);
    if (!idx)
        return -ENOMEM;
    for (void *it = json_object_iter((json_t *)patch); it;
         it = json_object_iter_next((json_t *)patch, it)) {
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        if (json_is_null(json_object_iter_value(it)) || has_prefix_n(k, klen, "$"))
            continue;
        int listed = key_listed(idx, k, klen);
        if (listed < 0)
            return listed;
        if (!listed)
            return fail(s, 400, "%s: invalid patch format of retainKeys: %s is not listed", here(s),
                        k);
    }
    void *it = json_object_iter(orig);
    while (it) {
        void *next = json_object_iter_next(orig, it);
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        int listed = key_listed(idx, k, klen);
        if (listed < 0)
            return listed;
        if (!listed)
            json_object_deln(orig, k, klen);
        it = next;
    }
    return 0;
}

/* One $setElementOrder/<field> directive: merge the list with its patch (if any) and put
 * the result in the requested order (patch.go mergePatchIntoOriginal). */
static int apply_set_order(struct smp *s, json_t *orig, const json_t *patch, const char *field,
                           size_t flen, const json_t *order)
{
    if (!json_is_array(order))
        return fail(s, 400, "%s: invalid patch format of setElementOrder list", here(s));
    json_t *ol = json_object_getn(orig, field, flen);
    json_t *pl = json_object_getn(patch, field, flen);
    if (ol && !json_is_array(ol))
        ol = NULL; /* a live non-list is simply replaced by the patch list */
    if (pl && !json_is_array(pl))
        return fail(s, 400, "%s: $setElementOrder names a field that is not a list in the patch",
                    here(s));
    if (!ol && !pl)
        return 0;

    struct kos_patch_meta m;
    meta_here(s, &m);
    const char *key = m.merge_key;

    /* The relative order of the patch items must agree with the order list (deletions
     * excepted), else the patch is inconsistent. */
    if (pl) {
        size_t pi = 0, oi = 0, np = json_array_size(pl), no = json_array_size(order);
        while (pi < np && oi < no) {
            json_t *item = json_array_get(pl, pi);
            if (json_object_get(item, DIRECTIVE)) {
                pi++;
                continue;
            }
            if (same_item(item, json_array_get(order, oi), key))
                pi++;
            oi++;
        }
        for (; pi < np && json_object_get(json_array_get(pl, pi), DIRECTIVE); pi++)
            ;
        if (no > 0 && pi < np)
            return fail(s, 400,
                        "%s: the order in the patch list doesn't match the "
                        "$setElementOrder list",
                        here(s));
    }

    _cleanup_json_ json_t *before = ol ? json_copy(ol) : json_array();
    _cleanup_json_ json_t *merged = NULL;
    if (!before)
        return -ENOMEM;
    int rc = 0;
    if (ol && pl) {
        merged = json_incref(ol);
        rc = smp_list(s, &merged, pl, false);
    } else if (ol) {
        merged = json_copy(ol);
        rc = merged ? 0 : -ENOMEM;
    } else {
        rc = smp_clean(s, pl, &merged);
    }
    if (rc < 0)
        return rc;

    /* Lists of maps that have no merge key cannot be ordered by key: leave them as merged. */
    bool maps = json_array_size(merged) > 0 && json_is_object(json_array_get(merged, 0));
    if (!(maps && !key)) {
        rc = reorder(&merged, order, before, maps ? key : NULL);
        if (rc < 0)
            return rc;
    }
    return json_object_setn_new(orig, field, flen, TAKE_PTR(merged)) < 0 ? -ENOMEM : 0;
}

static int apply_set_orders(struct smp *s, json_t *orig, const json_t *patch)
{
    for (void *it = json_object_iter((json_t *)patch); it;
         it = json_object_iter_next((json_t *)patch, it)) {
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        if (!has_prefix_n(k, klen, SET_ORDER_PREFIX))
            continue;
        size_t flen;
        const char *field = directive_field(k, klen, SET_ORDER_PREFIX, &flen);
        if (!field)
            return fail(s, 400, "%s: invalid patch format of setElementOrder list", here(s));
        size_t saved = path_push(s, field, flen);
        int rc = apply_set_order(s, orig, patch, field, flen, json_object_iter_value(it));
        path_pop(s, saved);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One member of the patch map (the main loop of patch.go mergeMap). */
static int merge_member(struct smp *s, json_t *orig, const char *k, size_t klen, const json_t *pv,
                        bool delete_list)
{
    if (json_is_null(pv)) {
        if (!delete_list)
            json_object_deln(orig, k, klen);
        return 0;
    }
    json_t *cur = json_object_getn(orig, k, klen);
    bool maps = json_is_object(cur) && json_is_object(pv);
    bool lists = json_is_array(cur) && json_is_array(pv);
    if (delete_list && !lists)
        return 0;

    size_t saved = path_push(s, k, klen);
    json_t *res = NULL;
    int rc;
    struct kos_patch_meta m;
    meta_here(s, &m);
    if (maps && !(m.strategy & KOS_PATCH_STRATEGY_REPLACE)) {
        res = json_incref(cur);
        rc = smp_map(s, &res, pv);
    } else if (lists) {
        res = json_incref(cur);
        rc = smp_list(s, &res, pv, delete_list);
    } else {
        rc = smp_clean(s, pv, &res);
    }
    path_pop(s, saved);
    if (rc < 0) {
        json_decref(res);
        return rc;
    }
    return json_object_setn_new(orig, k, klen, res) < 0 ? -ENOMEM : 0;
}

/* Merges patch (an object) into *io (an owned object, or NULL for none); *io may be replaced
 * by another object ($patch: replace / delete). */
static int smp_map(struct smp *s, json_t **io, const json_t *patch)
{
    if (s->depth >= KOS_PATCH_MAX_DEPTH)
        return fail(s, 400, "strategic merge patch nests deeper than %d levels",
                    KOS_PATCH_MAX_DEPTH);
    json_t *d = json_object_get(patch, DIRECTIVE);
    if (d) {
        const char *dv = json_string_value(d);
        if (dv && (strcmp(dv, "replace") == 0 || strcmp(dv, "delete") == 0)) {
            json_decref(*io);
            *io = json_object();
            if (!*io)
                return -ENOMEM;
            if (strcmp(dv, "delete") == 0)
                return 0;
            /* replace: the patch's own content, its nested directives applied */
        } else if (!dv || strcmp(dv, "merge") != 0) {
            return fail(s, 400, "%s: unknown patch type: %s in map", here(s),
                        dv ? dv : "(not a string)");
        }
    }
    if (!json_is_object(*io)) {
        json_decref(*io);
        *io = json_object();
        if (!*io)
            return -ENOMEM;
    }

    s->depth++;
    int rc = apply_retain_keys(s, *io, patch);
    if (rc >= 0)
        rc = apply_set_orders(s, *io, patch);
    for (void *it = json_object_iter((json_t *)patch); it && rc >= 0;
         it = json_object_iter_next((json_t *)patch, it)) {
        const char *k = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        const json_t *pv = json_object_iter_value(it);

        if (klen == strlen(DIRECTIVE) && memcmp(k, DIRECTIVE, klen) == 0)
            continue;
        if (klen == strlen(RETAIN_KEYS) && memcmp(k, RETAIN_KEYS, klen) == 0)
            continue;
        if (has_prefix_n(k, klen, SET_ORDER_PREFIX))
            continue; /* done by apply_set_orders */
        bool delete_list = false;
        const char *field = k;
        size_t flen = klen;
        if (has_prefix_n(k, klen, DELETE_PRIMS_PREFIX)) {
            field = directive_field(k, klen, DELETE_PRIMS_PREFIX, &flen);
            if (!field) {
                rc = fail(s, 400, "%s: invalid patch format of primitive list", here(s));
                break;
            }
            if (!json_is_array(pv) && !json_is_null(pv)) {
                rc = fail(s, 400, "%s: invalid patch format of primitive list", here(s));
                break;
            }
            delete_list = true;
        } else {
            rc = has_sibling_directive(patch, SET_ORDER_PREFIX, k, klen);
            if (rc < 0)
                break;
            if (rc > 0) {
                rc = 0;
                continue; /* merged together with its $setElementOrder list */
            }
        }
        rc = merge_member(s, *io, field, flen, pv, delete_list);
    }
    s->depth--;
    return rc;
}

/* A patch value stored where the live object has nothing to merge with: the value with its
 * directives applied (maps merge into an empty map, directive list items are dropped). */
static int smp_clean(struct smp *s, const json_t *v, json_t **ret)
{
    if (json_is_object(v)) {
        json_t *o = NULL;
        int rc = smp_map(s, &o, v);
        if (rc < 0) {
            json_decref(o);
            return rc;
        }
        *ret = o;
        return 0;
    }
    if (!json_is_array(v)) {
        json_t *c = patch_copy(v);
        if (!c)
            return -ENOMEM;
        *ret = c;
        return 0;
    }
    if (s->depth >= KOS_PATCH_MAX_DEPTH)
        return fail(s, 400, "strategic merge patch nests deeper than %d levels",
                    KOS_PATCH_MAX_DEPTH);
    _cleanup_json_ json_t *out = json_array();
    if (!out)
        return -ENOMEM;
    s->depth++;
    int rc = 0;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (json_is_object(item) && json_object_get(item, DIRECTIVE))
            continue;
        json_t *c = NULL;
        rc = smp_clean(s, item, &c);
        if (rc < 0)
            break;
        if (json_array_append_new(out, c) < 0) {
            rc = -ENOMEM;
            break;
        }
    }
    s->depth--;
    if (rc < 0)
        return rc;
    *ret = TAKE_PTR(out);
    return 0;
}

int kos_strategic_merge_patch(const struct kos_kind *kind, const json_t *original,
                              const json_t *patch, json_t **ret, struct kos_error **err)
{
    if (!original || !patch || !ret)
        return -EINVAL;
    if (!json_is_object(patch))
        return kos_error_set(err, 400, "BadRequest",
                             "a strategic merge patch must be a JSON object");
    struct smp *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->kind = kind;
    s->err = err;
    json_t *doc = json_is_object(original) ? patch_copy(original) : json_object();
    int rc = doc ? smp_map(s, &doc, patch) : -ENOMEM;
    free(s);
    if (rc < 0) {
        json_decref(doc);
        return rc;
    }
    *ret = doc;
    return 0;
}

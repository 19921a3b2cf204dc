/* The walks of server-side apply that build objects and sets: structured-merge-diff's
 * typed.Merge, typed.RemoveItems and Set.EnsureNamedFieldsAreMembers (typed/merge.go,
 * typed/remove.go, fieldpath/set.go), and the zero object a create is compared with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/managed_fields_internal.h"
#include "api/patch.h"
#include "api/schema.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* ---- Merge --------------------------------------------------------------------------------- */

static int merge_value(struct mft_walk *w, const json_t *l, const json_t *r,
                       const struct mft_type *t, json_t **ret);

static int merge_field(struct mft_walk *w, const char *k, const json_t *l, const json_t *r,
                       const struct mft_type *t, json_t *out)
{
    struct mft_type ct;
    json_t *child = NULL;
    _cleanup_free_ char *pe = mft_prefixed("f:", k);
    if (!pe)
        return -ENOMEM;
    mft_field_type(w, t, k, &ct);
    int rc = mft_push(w, pe);
    if (rc < 0)
        return rc;
    rc = merge_value(w, l, r, &ct, &child);
    mft_pop(w);
    if (rc < 0)
        return rc;
    /* a null decodes to Go's zero value, which the object then omits */
    if (json_is_null(child)) {
        json_decref(child);
        return 0;
    }
    return json_object_set_new(out, k, child) < 0 ? -ENOMEM : 0;
}

/* Live fields keep their order; new ones follow in the configuration's order. */
static int merge_map(struct mft_walk *w, const json_t *l, const json_t *r, const struct mft_type *t,
                     json_t **ret)
{
    _cleanup_json_ json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out)
        return -ENOMEM;
    json_object_foreach((json_t *)l, k, v)
    {
        int rc = merge_field(w, k, v, json_object_get(r, k), t, out);
        if (rc < 0)
            return rc;
    }
    json_object_foreach((json_t *)r, k, v)
    {
        int rc = json_object_get(l, k) ? 0 : merge_field(w, k, NULL, v, t, out);
        if (rc < 0)
            return rc;
    }
    *ret = TAKE_PTR(out);
    return 0;
}

static int emit_item(struct mft_walk *w, const char *pe, const json_t *l, const json_t *r,
                     const struct mft_type *et, json_t *out)
{
    json_t *item = NULL;
    int rc = mft_push(w, pe);
    if (rc < 0)
        return rc;
    rc = merge_value(w, l, r, et, &item);
    mft_pop(w);
    if (rc < 0)
        return rc;
    return json_array_append_new(out, item) < 0 ? -ENOMEM : 0;
}

/* structured-merge-diff's list merge: items keep the live order, items only in the applied
 * configuration come where it has them, items in both follow the configuration's order. */
static int merge_list(struct mft_walk *w, const json_t *l, const json_t *r,
                      const struct mft_type *t, json_t **ret)
{
    struct mft_items il = {0}, ir = {0};
    struct mft_type et;
    _cleanup_json_ json_t *out = json_array();
    _cleanup_json_ json_t *merged = json_object();
    _cleanup_free_ const char **shared = calloc(json_array_size(r) + 1, sizeof(char *));
    size_t nshared = 0, next = 0;
    if (!out || !merged || !shared)
        return -ENOMEM;
    int rc = mft_items_index(w, t, r, true, &ir);
    if (rc == 0)
        rc = mft_items_index(w, t, l, false, &il);
    mft_item_type(w, t, &et);
    for (size_t i = 0; rc == 0 && i < ir.n; i++)
        if (ir.pe[i] && mft_items_count(&il, ir.pe[i]))
            shared[nshared++] = ir.pe[i];
    const char *next_shared = nshared ? shared[next++] : NULL;
#define ADVANCE_SHARED() (next_shared = next < nshared ? shared[next++] : NULL)
    /* the live item an applied one merges into; none when the live list repeats it */
#define LIVE_ITEM(pe) (mft_items_count(&il, (pe)) == 1 ? mft_items_first(&il, l, (pe)) : NULL)
    size_t li = 0, ri = 0;
    while (rc == 0 && (li < il.n || ri < ir.n)) {
        size_t li0 = li, ri0 = ri;
        if (li < il.n && ri < ir.n) {
            const char *pe = il.pe[li];
            if (pe && ir.pe[ri] && strcmp(pe, ir.pe[ri]) == 0) {
                json_object_set_new(merged, pe, json_true());
                rc = emit_item(w, pe, LIVE_ITEM(pe), json_array_get(r, ri), &et, out);
                li++;
                ri++;
                ADVANCE_SHARED();
                continue;
            }
            if (pe && mft_items_count(&ir, pe) && next_shared && strcmp(next_shared, pe) != 0) {
                li++;
                continue;
            }
        }
        if (li < il.n) {
            const char *pe = il.pe[li];
            if (!pe || !mft_items_count(&ir, pe)) {
                json_t *copy = json_deep_copy(json_array_get(l, li));
                rc = json_array_append_new(out, copy) < 0 ? -ENOMEM : 0;
                li++;
                continue;
            }
            if (json_object_get(merged, pe))
                li++;
        }
        if (ri < ir.n && ir.pe[ri]) {
            const char *pe = ir.pe[ri];
            json_object_set_new(merged, pe, json_true());
            rc = emit_item(w, pe, LIVE_ITEM(pe), json_array_get(r, ri), &et, out);
            ri++;
            if (next_shared && strcmp(next_shared, pe) == 0)
                ADVANCE_SHARED();
        } else if (ri < ir.n) {
            ri++; /* an item without identity (only outside strict mode) */
        }
        if (li == li0 && ri == ri0)
            li++; /* cannot happen with consistent indexes; never spin */
    }
#undef ADVANCE_SHARED
#undef LIVE_ITEM
    mft_items_free(&il);
    mft_items_free(&ir);
    if (rc < 0)
        return rc;
    *ret = TAKE_PTR(out);
    return 0;
}

static int merge_value(struct mft_walk *w, const json_t *l, const json_t *r,
                       const struct mft_type *t, json_t **ret)
{
    const json_t *src = r ? r : l;
    enum mft_shape sh = mft_pair_shape(t, l, r);
    /* a new map still loses its nulls below */
    if (!l && json_is_object(r) && (sh == SH_STRUCT || sh == SH_MAP))
        return merge_map(w, NULL, r, t, ret);
    if (!l || !r) {
        *ret = json_deep_copy(src);
        return *ret ? 0 : -ENOMEM;
    }
    if (json_is_null(r) && !mft_empty_container(l) && sh != SH_LEAF) {
        /* a null map or list applies nothing to a live one (typed merge keeps the lhs) */
        *ret = json_deep_copy(l);
        return *ret ? 0 : -ENOMEM;
    }
    if (sh == SH_LEAF || json_is_null(l) || json_is_null(r)) {
        *ret = json_deep_copy(r);
        return *ret ? 0 : -ENOMEM;
    }
    if (sh == SH_SET || sh == SH_ASSOC)
        return merge_list(w, l, r, t, ret);
    return merge_map(w, l, r, t, ret);
}

int kos_fieldset_merge(const struct kos_kind *kind, const json_t *lhs, const json_t *rhs,
                       json_t **ret, struct kos_error **err)
{
    struct mft_walk w = {.kind = kind, .flags = KOS_FIELDSET_STRICT, .err = err};
    struct mft_type t;
    json_t *out = NULL;
    mft_root_type(&w, &t);
    int r = merge_value(&w, lhs, rhs, &t, &out);
    if (r < 0)
        return r;
    *ret = out;
    return 0;
}

/* ---- RemoveItems --------------------------------------------------------------------------- */

static bool is_member(const json_t *node)
{
    return json_object_size(node) == 0 || json_object_get(node, ".");
}

/* *ret is NULL when nothing is left of v. */
static int rm_value(struct mft_walk *w, const json_t *v, const json_t *set,
                    const struct mft_type *t, json_t **ret)
{
    enum mft_shape sh = mft_pair_shape(t, v, v);
    *ret = NULL;
    if (sh == SH_LEAF) {
        *ret = json_deep_copy(v);
        return *ret ? 0 : -ENOMEM;
    }
    _cleanup_json_ json_t *out = sh == SH_SET || sh == SH_ASSOC ? json_array() : json_object();
    if (!out)
        return -ENOMEM;
    if (sh == SH_SET || sh == SH_ASSOC) {
        struct mft_items it;
        struct mft_type et;
        int rc = mft_items_index(w, t, v, false, &it);
        mft_item_type(w, t, &et);
        for (size_t i = 0; rc == 0 && i < it.n; i++) {
            json_t *item = json_array_get(v, i),
                   *node = it.pe[i] ? json_object_get(set, it.pe[i]) : NULL, *kept = NULL;
            if (node && is_member(node))
                continue;
            rc = node ? rm_value(w, item, node, &et, &kept) : 0;
            if (!node)
                kept = json_deep_copy(item);
            if (rc == 0 && kept && json_array_append_new(out, kept) < 0)
                rc = -ENOMEM;
        }
        mft_items_free(&it);
        if (rc < 0)
            return rc;
    } else {
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)v, k, val)
        {
            struct mft_type ct;
            json_t *kept = NULL;
            _cleanup_free_ char *pe = mft_prefixed("f:", k);
            if (!pe)
                return -ENOMEM;
            json_t *node = json_object_get(set, pe);
            if (node && is_member(node))
                continue;
            mft_field_type(w, t, k, &ct);
            int rc = node ? rm_value(w, val, node, &ct, &kept) : 0;
            if (!node)
                kept = json_incref(val);
            if (rc < 0)
                return rc;
            if (kept && json_object_set_new(out, k, kept) < 0)
                return -ENOMEM;
        }
    }
    if (json_is_object(out) ? json_object_size(out) == 0 : json_array_size(out) == 0)
        return 0;
    *ret = TAKE_PTR(out);
    return 0;
}

int kos_fieldset_remove_items(const struct kos_kind *kind, const json_t *obj, const json_t *set,
                              json_t **ret)
{
    struct mft_walk w = {.kind = kind};
    struct mft_type t;
    json_t *out = NULL;
    mft_root_type(&w, &t);
    int r = rm_value(&w, obj, set, &t, &out);
    if (r < 0)
        return r;
    /* what was kept is shared with obj by reference: give the caller a tree of its own */
    json_t *copy = out ? json_deep_copy(out) : json_object();
    json_decref(out);
    if (!copy)
        return -ENOMEM;
    *ret = copy;
    return 0;
}

/* ---- EnsureNamedFieldsAreMembers ----------------------------------------------------------- */

static int ensure(struct mft_walk *w, const json_t *node, const struct mft_type *t, unsigned depth,
                  json_t **ret)
{
    _cleanup_json_ json_t *out = json_object();
    const char *k;
    json_t *child;
    if (!out)
        return -ENOMEM;
    if (depth > KOS_FIELDSET_MAX_DEPTH)
        return -E2BIG;
    json_object_foreach((json_t *)node, k, child)
    {
        if (k[0] == '.' && !k[1])
            continue;
        struct mft_type ct;
        bool named = false;
        if (k[0] == 'f' && k[1] == ':') {
            mft_field_type(w, t, k + 2, &ct);
            named = mft_struct_field(t, k + 2) != NULL;
        } else {
            mft_item_type(w, t, &ct);
        }
        json_t *sub = NULL, *n = NULL;
        int r = ensure(w, child, &ct, depth + 1, &sub);
        if (r < 0)
            return r;
        bool has_children = json_object_size(sub) > 0;
        bool member =
            json_object_size(child) == 0 || json_object_get(child, ".") || (named && has_children);
        if (has_children) {
            n = sub;
            if (member && json_object_set_new(n, ".", json_object()) < 0) {
                json_decref(n);
                return -ENOMEM;
            }
        } else {
            json_decref(sub);
            n = member ? json_object() : NULL;
        }
        if (n && json_object_set_new(out, k, n) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(out);
    return 0;
}

int kos_fieldset_ensure_named(const struct kos_kind *kind, const json_t *set, json_t **ret)
{
    struct mft_walk w = {.kind = kind};
    struct mft_type t;
    mft_root_type(&w, &t);
    return ensure(&w, set, &t, 0, ret);
}

/* ---- the zero object ----------------------------------------------------------------------- */

/* Struct fields that are values, not pointers, in k8s.io/api: their zero value serializes
 * as {} (top-level status only: nested "status" fields are strings). */
static bool value_struct(const char *name, bool top)
{
    static const char *const names[] = {"metadata",    "spec",     "template",
                                        "jobTemplate", "strategy", "updateStrategy"};
    if (top && strcmp(name, "status") == 0)
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

static json_t *zero_struct(const struct mft_walk *w, const struct mft_type *t, const json_t *obj,
                           unsigned depth)
{
    _cleanup_json_ json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out || depth > KOS_FIELDSET_MAX_DEPTH)
        return NULL;
    json_object_foreach((json_t *)obj, k, v)
    {
        const struct schema_field *f = mft_struct_field(t, k);
        if (!f)
            continue;
        json_t *z = NULL;
        if (f->node.type == SCHEMA_ARRAY && strcmp(k, "containers") == 0) {
            z = json_null();
        } else if (f->node.type == SCHEMA_OBJECT && json_is_object(v) &&
                   value_struct(k, depth == 0)) {
            struct mft_type ct;
            mft_field_type(w, t, k, &ct);
            z = ct.shape == SH_STRUCT ? zero_struct(w, &ct, v, depth + 1) : json_object();
            if (!z)
                return NULL;
        } else {
            continue;
        }
        if (json_object_set_new(out, k, z) < 0)
            return NULL;
    }
    return TAKE_PTR(out);
}

json_t *kos_fieldset_zero_object(const struct kos_kind *kind, const json_t *obj)
{
    struct mft_walk w = {.kind = kind};
    struct mft_type t;
    mft_root_type(&w, &t);
    if (t.shape != SH_STRUCT || !json_is_object(obj))
        return json_object();
    return zero_struct(&w, &t, obj, 0);
}

/* The walks of server-side apply that read objects: structured-merge-diff's typed.ToFieldSet
 * and typed.Compare (typed/tofieldset.go, typed/compare.go). */
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

/* ---- ToFieldSet ---------------------------------------------------------------------------- */

static int fs_value(struct mft_walk *w, const json_t *v, const struct mft_type *t, json_t *set);

static int fs_map(struct mft_walk *w, const json_t *v, const struct mft_type *t, json_t *set)
{
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val)
    {
        struct mft_type ct;
        _cleanup_free_ char *pe = mft_prefixed("f:", k);
        if (!pe)
            return -ENOMEM;
        mft_field_type(w, t, k, &ct);
        int r = mft_push(w, pe);
        if (r < 0)
            return r;
        r = fs_value(w, val, &ct, set);
        if (r == 0 && (json_is_null(val) || (json_is_object(val) && json_object_size(val) == 0) ||
                       !mft_struct_field(t, k)))
            r = mft_insert_here(w, set);
        mft_pop(w);
        if (r < 0)
            return r;
    }
    return 0;
}

static int fs_list(struct mft_walk *w, const json_t *v, const struct mft_type *t, json_t *set)
{
    struct mft_items it;
    struct mft_type et;
    int r = mft_items_index(w, t, v, (w->flags & KOS_FIELDSET_STRICT) != 0, &it);
    mft_item_type(w, t, &et);
    for (size_t i = 0; r == 0 && i < it.n; i++) {
        if (!it.pe[i] || (r = mft_push(w, it.pe[i])) < 0)
            continue;
        /* duplicated items are owned as a whole, not field by field */
        if (mft_items_count(&it, it.pe[i]) == 1)
            r = fs_value(w, json_array_get(v, i), &et, set);
        if (r == 0)
            r = mft_insert_here(w, set);
        mft_pop(w);
    }
    mft_items_free(&it);
    return r;
}

static int fs_value(struct mft_walk *w, const json_t *v, const struct mft_type *t, json_t *set)
{
    enum mft_shape sh = mft_pair_shape(t, v, v);
    if (sh == SH_LEAF && mft_empty_container(v) && t->shape != SH_LEAF &&
        t->shape != SH_ATOMIC_LIST && !(t->shape == SH_DEDUCED && !json_is_object(v)))
        return 0; /* an empty granular map or list sets nothing below itself */
    switch (sh) {
    case SH_STRUCT:
    case SH_MAP:
        return fs_map(w, v, t, set);
    case SH_SET:
    case SH_ASSOC:
        return fs_list(w, v, t, set);
    default:
        return mft_insert_here(w, set);
    }
}

int kos_fieldset_from_object(const struct kos_kind *kind, const json_t *obj, unsigned flags,
                             json_t **ret, struct kos_error **err)
{
    struct mft_walk w = {.kind = kind, .flags = flags, .err = err};
    struct mft_type t;
    _cleanup_json_ json_t *set = json_object();
    if (!set)
        return -ENOMEM;
    mft_root_type(&w, &t);
    int r = json_is_object(obj) ? fs_map(&w, obj, &t, set) : 0;
    if (r < 0)
        return r;
    *ret = TAKE_PTR(set);
    return 0;
}

/* ---- Compare ------------------------------------------------------------------------------- */

static int cmp_value(struct mft_walk *w, const json_t *l, const json_t *r, const struct mft_type *t,
                     struct kos_fieldset_diff *d);

static int cmp_child(struct mft_walk *w, const char *pe, const json_t *l, const json_t *r,
                     const struct mft_type *t, struct kos_fieldset_diff *d)
{
    int rc = mft_push(w, pe);
    if (rc < 0)
        return rc;
    rc = cmp_value(w, l, r, t, d);
    mft_pop(w);
    return rc;
}

static int cmp_map(struct mft_walk *w, const json_t *l, const json_t *r, const struct mft_type *t,
                   struct kos_fieldset_diff *d)
{
    const json_t *side[2] = {l, r};
    for (int s = 0; s < 2; s++) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)side[s], k, v)
        {
            if (s == 1 && json_object_get(l, k))
                continue;
            struct mft_type ct;
            _cleanup_free_ char *pe = mft_prefixed("f:", k);
            if (!pe)
                return -ENOMEM;
            mft_field_type(w, t, k, &ct);
            int rc = s == 0 ? cmp_child(w, pe, v, json_object_get(r, k), &ct, d)
                            : cmp_child(w, pe, NULL, v, &ct, d);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* The items of list with element pe, in order, equal to those of other. */
static bool same_items(const json_t *a, const struct mft_items *ia, const json_t *b,
                       const struct mft_items *ib, const char *pe)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < ia->n && (!ia->pe[i] || strcmp(ia->pe[i], pe) != 0))
            i++;
        while (j < ib->n && (!ib->pe[j] || strcmp(ib->pe[j], pe) != 0))
            j++;
        if (i >= ia->n || j >= ib->n)
            return i >= ia->n && j >= ib->n;
        if (!json_equal(json_array_get(a, i++), json_array_get(b, j++)))
            return false;
    }
}

static int cmp_list(struct mft_walk *w, const json_t *l, const json_t *r, const struct mft_type *t,
                    struct kos_fieldset_diff *d)
{
    struct mft_items il, ir;
    struct mft_type et;
    int rc = mft_items_index(w, t, l, false, &il);
    if (rc == 0)
        rc = mft_items_index(w, t, r, false, &ir);
    else
        ir = (struct mft_items){0};
    mft_item_type(w, t, &et);
    /* every element once: those of lhs in order, then those only in rhs */
    for (int s = 0; rc == 0 && s < 2; s++) {
        const struct mft_items *it = s == 0 ? &il : &ir;
        for (size_t i = 0; rc == 0 && i < it->n; i++) {
            const char *pe = it->pe[i];
            if (!pe || (size_t)json_integer_value(json_object_get(it->first, pe)) != i ||
                (s == 1 && mft_items_count(&il, pe)))
                continue;
            json_int_t nl = mft_items_count(&il, pe), nr = mft_items_count(&ir, pe);
            const json_t *li = mft_items_first(&il, l, pe), *ri = mft_items_first(&ir, r, pe);
            if ((rc = mft_push(w, pe)) < 0)
                break;
            if (nl <= 1 && nr <= 1)
                rc = cmp_value(w, li, ri, &et, d);
            else if (nl >= 2 && nr >= 2) {
                if (!same_items(l, &il, r, &ir, pe))
                    rc = mft_insert_here(w, d->modified);
            } else if (nl >= 2) {
                if (nr)
                    rc = cmp_value(w, NULL, ri, &et, d);
                if (rc == 0)
                    rc = mft_insert_here(w, d->removed);
            } else {
                if (nl)
                    rc = cmp_value(w, li, NULL, &et, d);
                if (rc == 0)
                    rc = mft_insert_here(w, d->added);
            }
            mft_pop(w);
        }
    }
    mft_items_free(&il);
    mft_items_free(&ir);
    return rc;
}

static int cmp_value(struct mft_walk *w, const json_t *l, const json_t *r, const struct mft_type *t,
                     struct kos_fieldset_diff *d)
{
    if (!l && !r)
        return 0;
    enum mft_shape sh = mft_pair_shape(t, l, r);
    if (sh == SH_LEAF) {
        if (!l)
            return mft_insert_here(w, d->added);
        if (!r)
            return mft_insert_here(w, d->removed);
        return json_equal(l, r) ? 0 : mft_insert_here(w, d->modified);
    }
    const json_t *lv = json_is_null(l) ? NULL : l, *rv = json_is_null(r) ? NULL : r;
    int rc =
        (sh == SH_SET || sh == SH_ASSOC) ? cmp_list(w, lv, rv, t, d) : cmp_map(w, lv, rv, t, d);
    if (rc < 0)
        return rc;
    if (!l)
        return mft_insert_here(w, d->added);
    if (!r)
        return mft_insert_here(w, d->removed);
    return 0;
}

void kos_fieldset_diff_clear(struct kos_fieldset_diff *d)
{
    json_decref(d->added);
    json_decref(d->modified);
    json_decref(d->removed);
    *d = (struct kos_fieldset_diff){0};
}

int kos_fieldset_compare(const struct kos_kind *kind, const json_t *lhs, const json_t *rhs,
                         struct kos_fieldset_diff *ret)
{
    struct mft_walk w = {.kind = kind};
    struct mft_type t;
    struct kos_fieldset_diff d = {json_object(), json_object(), json_object()};
    mft_root_type(&w, &t);
    int r = d.added && d.modified && d.removed ? cmp_value(&w, lhs, rhs, &t, &d) : -ENOMEM;
    if (r < 0) {
        kos_fieldset_diff_clear(&d);
        return r;
    }
    *ret = d;
    return 0;
}

/* Server-side apply and the managedFields of every write (see apply.h). The layering follows
 * kube-apiserver's field manager: version check, last-applied updater and manager (client-side
 * apply upgrade), skip-non-applied ("before-first-apply"), cap on update managers,
 * managed-fields updater (times), strip-meta, then structured-merge-diff's Updater.Apply and
 * Updater.Update over the typed walks of managed_fields_typed.c. */
#include "api/apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/apply_internal.h"
#include "api/managed_fields.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define BEFORE_FIRST_APPLY "before-first-apply"

/* ---- the fields no manager owns ------------------------------------------------------------ */

/* stripMetaManager: type and identity fields are nobody's. */
static json_t *strip_set(void)
{
    static const char *const meta[] = {"name",       "namespace",     "creationTimestamp",
                                       "selfLink",   "uid",           "clusterName",
                                       "generation", "managedFields", "resourceVersion"};
    json_t *set = json_object(), *m = json_object();
    if (!set || !m || json_object_set_new(set, "f:apiVersion", json_object()) < 0 ||
        json_object_set_new(set, "f:kind", json_object()) < 0 ||
        json_object_set_new(m, ".", json_object()) < 0) {
        json_decref(set);
        json_decref(m);
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(meta); i++) {
        char pe[64];
        snprintf(pe, sizeof(pe), "f:%s", meta[i]);
        json_object_set_new(m, pe, json_object());
    }
    if (json_object_set_new(set, "f:metadata", m) < 0) {
        json_decref(set);
        return NULL;
    }
    return set;
}

/* The reset fields of the write's strategy: the object itself cannot own status where a
 * status subresource exists, and the status subresource owns nothing but status. */
static json_t *ignore_set(const struct kos_field_manager *fm, const json_t *a, const json_t *b)
{
    json_t *set = json_object();
    const char *sub = fm->subresource ? fm->subresource : "";
    if (!set)
        return NULL;
    if (!sub[0] && (fm->kind->subresources & SUB_STATUS))
        json_object_set_new(set, "f:status", json_object());
    if (strcmp(sub, "status") == 0) {
        const json_t *objs[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            const char *k;
            json_t *v;
            json_object_foreach((json_t *)objs[i], k, v)
            {
                char pe[256];
                if (strcmp(k, "status") == 0 ||
                    snprintf(pe, sizeof(pe), "f:%s", k) >= (int)sizeof(pe))
                    continue;
                json_object_set_new(set, pe, json_object());
            }
        }
    }
    return set;
}

/* Removes the ignored fields from every set of a comparison (Comparison.ExcludeFields). */
static int exclude(struct kos_fieldset_diff *d, const json_t *ignore)
{
    json_t **sets[3] = {&d->added, &d->modified, &d->removed};
    for (int i = 0; i < 3; i++) {
        json_t *s = kos_fieldset_recursive_difference(*sets[i], ignore);
        if (!s)
            return -ENOMEM;
        json_decref(*sets[i]);
        *sets[i] = s;
    }
    return 0;
}

/* ---- Updater.update --------------------------------------------------------------------- */

/* Every manager but `self` loses what the change from old to new modified, added or
 * removed; with !force the first two are conflicts instead: then *conflicts is filled and
 * nothing changes. */
static int smd_update(const struct kos_field_manager *fm, const json_t *old, const json_t *new,
                      struct mf_entries *m, const char *self, bool force, const json_t *ignore,
                      struct kos_fieldset_diff *ret_cmp, struct mf_conflicts *conflicts)
{
    struct kos_fieldset_diff d = {0};
    int r = kos_fieldset_compare(fm->kind, old, new, &d);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *changed = NULL;
    if (exclude(&d, ignore) < 0 || !(changed = kos_fieldset_union(d.modified, d.added))) {
        kos_fieldset_diff_clear(&d);
        return -ENOMEM;
    }
    for (size_t i = 0; r == 0 && !force && i < m->n; i++) {
        if (self && strcmp(m->e[i].id, self) == 0)
            continue;
        json_t *c = kos_fieldset_intersection(m->e[i].set, changed);
        if (!c)
            r = -ENOMEM;
        else if (kos_fieldset_empty(c))
            json_decref(c);
        else
            r = mf_conflicts_add(conflicts, &m->e[i], c);
    }
    if (r == 0 && conflicts->n > 0)
        r = MF_ECONFLICT;
    for (size_t i = 0; r == 0 && i < m->n; i++) {
        if (self && strcmp(m->e[i].id, self) == 0)
            continue;
        json_t *a = kos_fieldset_difference(m->e[i].set, changed);
        json_t *b = a ? kos_fieldset_difference(a, d.removed) : NULL;
        json_decref(a);
        if (!b) {
            r = -ENOMEM;
            break;
        }
        json_decref(m->e[i].set);
        m->e[i].set = b;
    }
    if (r == 0)
        mf_entries_drop_empty(m);
    if (r < 0 || !ret_cmp)
        kos_fieldset_diff_clear(&d);
    else
        *ret_cmp = d;
    return r;
}

/* ---- Update ------------------------------------------------------------------------------ */

static int strip_into(json_t **set)
{
    _cleanup_json_ json_t *strip = strip_set();
    json_t *s = strip ? kos_fieldset_difference(*set, strip) : NULL;
    if (!s)
        return -ENOMEM;
    json_decref(*set);
    *set = s;
    return 0;
}

/* managedFieldsUpdater.Update over Updater.Update: the write's changes become the manager's
 * (merged into its earlier entry, whose time moves) when it changed anything. */
static int update_op(const struct kos_field_manager *fm, const json_t *old, const json_t *new,
                     struct mf_entries *m, const char *manager, const char *sub,
                     const json_t *ignore)
{
    struct kos_fieldset_diff d = {0};
    struct mf_conflicts none = {0};
    int r = smd_update(fm, old, new, m, NULL, true, ignore, &d, &none);
    if (r < 0)
        return r;
    json_t *set = kos_fieldset_union(d.modified, d.added);
    kos_fieldset_diff_clear(&d);
    if (!set || strip_into(&set) < 0) {
        json_decref(set);
        return -ENOMEM;
    }
    if (kos_fieldset_empty(set)) {
        json_decref(set);
        return 0;
    }
    char api_version[160], now[40];
    kos_kind_api_version(fm->kind, api_version, sizeof(api_version));
    kos_time_rfc3339(fm->now, now, sizeof(now));
    return mf_entries_record(m, manager, false, api_version, sub, set, now);
}

static const char *subresource_of(const struct kos_field_manager *fm)
{
    return fm->subresource ? fm->subresource : "";
}

/* The old object as kube's typed objects serialize it: every non-pointer struct the new one
 * uses is there, at least as {} (a first status write owns status.phase, not status). */
static int fill_zero(json_t *old, const json_t *zero)
{
    const char *k;
    json_t *z;
    json_object_foreach((json_t *)zero, k, z)
    {
        json_t *o = json_object_get(old, k);
        if (!o && json_object_set(old, k, z) < 0)
            return -ENOMEM;
        if (o && json_is_object(o) && json_is_object(z) && fill_zero(o, z) < 0)
            return -ENOMEM;
    }
    return 0;
}

/* decodeLiveOrNew. */
static void base_entries(const json_t *live_mf, const json_t *new_mf, bool subresource,
                         struct mf_entries *m)
{
    if (!subresource && mf_is_reset(new_mf))
        return;
    if (!subresource && mf_entries_decode(new_mf, m) == 0 && m->n > 0)
        return;
    mf_entries_free(m);
    if (mf_entries_decode(live_mf, m) < 0)
        mf_entries_free(m);
}

static int update(const struct kos_field_manager *fm, const json_t *live, json_t *obj)
{
    const char *sub = subresource_of(fm);
    json_t *meta = json_object_get(obj, "metadata");
    const json_t *live_mf = json_object_get(json_object_get(live, "metadata"), "managedFields");
    _cleanup_(mf_entries_free) struct mf_entries m = {0};
    base_entries(live_mf, json_object_get(meta, "managedFields"), sub[0] != '\0', &m);
    json_object_del(meta, "managedFields");
    /* skipNonAppliedManager: an existing object nobody tracked stays untracked */
    if (m.n == 0 && live)
        return 0;
    _cleanup_json_ json_t *old = live ? json_deep_copy(live) : json_object();
    _cleanup_json_ json_t *zero = kos_fieldset_zero_object(fm->kind, obj);
    if (!old || !zero || fill_zero(old, zero) < 0)
        return -ENOMEM;
    json_object_del(json_object_get(old, "metadata"), "managedFields");
    _cleanup_json_ json_t *ignore = ignore_set(fm, old, obj);
    if (!ignore)
        return -ENOMEM;
    int r = update_op(fm, old, obj, &m, fm->manager, sub, ignore);
    if (r == 0)
        r = mf_entries_cap(&m);
    return r < 0 ? r : mf_entries_store(&m, obj);
}

int kos_managed_fields_update(const struct kos_field_manager *fm, const json_t *live, json_t *obj)
{
    if (!json_is_object(obj) || !fm->kind || !fm->manager)
        return -EINVAL;
    _cleanup_buf_ struct kos_buf shape = {0};
    bool memo = mf_memo_applies(fm, live, obj) && mf_memo_shape(obj, &shape) == 0;
    if (memo && mf_memo_get(fm, &shape, obj) == 0)
        return 0;
    int r = update(fm, live, obj);
    if (r == 0 && memo)
        mf_memo_put(fm, &shape, obj);
    if (r < 0) {
        /* UpdateNoErrors: keep what was there rather than lose it */
        json_t *meta = json_object_get(obj, "metadata");
        json_t *mf = json_object_get(json_object_get(live, "metadata"), "managedFields");
        if (json_is_object(meta) && mf)
            json_object_set(meta, "managedFields", mf);
        else if (json_is_object(meta))
            json_object_del(meta, "managedFields");
    }
    return r;
}

/* ---- Apply ------------------------------------------------------------------------------- */

/* Updater.prune: drops what the manager applied last time and no longer applies, unless a
 * manager (this one included) still owns it. */
static int prune(const struct kos_kind *kind, json_t **merged, const struct mf_entries *m,
                 const json_t *last)
{
    if (kos_fieldset_empty(last))
        return 0;
    _cleanup_json_ json_t *l = NULL, *pruned = NULL, *owned = json_object(), *ms = NULL, *me = NULL,
                          *ps = NULL, *pe = NULL, *oe = NULL, *keep = NULL, *drop = NULL,
                          *pruned2 = NULL, *p2 = NULL, *p2e = NULL, *gone = NULL, *remove = NULL,
                          *out = NULL;
    if (!owned)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        json_t *u = kos_fieldset_union(owned, m->e[i].set);
        if (!u)
            return -ENOMEM;
        json_decref(owned);
        owned = u;
    }
    int r = kos_fieldset_ensure_named(kind, last, &l);
    if (r == 0)
        r = kos_fieldset_remove_items(kind, *merged, l, &pruned);
    /* addBackOwnedItems */
    if (r == 0)
        r = kos_fieldset_from_object(kind, *merged, 0, &ms, NULL);
    if (r == 0)
        r = kos_fieldset_ensure_named(kind, ms, &me);
    if (r == 0)
        r = kos_fieldset_from_object(kind, pruned, 0, &ps, NULL);
    if (r == 0)
        r = kos_fieldset_ensure_named(kind, ps, &pe);
    if (r == 0)
        r = kos_fieldset_ensure_named(kind, owned, &oe);
    if (r == 0 &&
        (!(keep = kos_fieldset_union(pe, oe)) || !(drop = kos_fieldset_difference(me, keep))))
        r = -ENOMEM;
    if (r == 0)
        r = kos_fieldset_remove_items(kind, *merged, drop, &pruned2);
    /* addBackDanglingItems: only what was the manager's goes */
    if (r == 0)
        r = kos_fieldset_from_object(kind, pruned2, 0, &p2, NULL);
    if (r == 0)
        r = kos_fieldset_ensure_named(kind, p2, &p2e);
    if (r == 0 && (!(gone = kos_fieldset_difference(me, p2e)) ||
                   !(remove = kos_fieldset_intersection(gone, l))))
        r = -ENOMEM;
    if (r == 0)
        r = kos_fieldset_remove_items(kind, *merged, remove, &out);
    if (r < 0)
        return r;
    json_decref(*merged);
    *merged = TAKE_PTR(out);
    return 0;
}

struct apply_state {
    const struct kos_field_manager *fm;
    const json_t *live;   /* without managedFields; {} for a create */
    const json_t *config; /* as applied (ignored fields are left out of its set) */
    const json_t *ignore;
    const char *self; /* the applier's manager identifier */
};

/* Updater.Apply with the strip-meta and times layers: *m becomes the new entries and
 * *ret the merged object, or -EEXIST with *conflicts filled (then *m is unchanged). */
static int apply_once(const struct apply_state *s, bool force, struct mf_entries *m, json_t **ret,
                      struct mf_conflicts *conflicts, struct kos_error **err)
{
    const struct kos_kind *kind = s->fm->kind;
    _cleanup_json_ json_t *merged = NULL, *set = NULL, *applied = NULL, *last = NULL;
    _cleanup_(mf_entries_free) struct mf_entries work = {0};
    int r = kos_fieldset_merge(kind, s->live, s->config, &merged, err);
    if (r == 0)
        r = kos_fieldset_from_object(kind, s->config, KOS_FIELDSET_STRICT, &set, err);
    if (r < 0)
        return r;
    if (!(applied = kos_fieldset_recursive_difference(set, s->ignore)) ||
        mf_entries_copy(m, &work) < 0)
        return -ENOMEM;
    const struct mf_entry *prev = mf_entries_find(&work, s->self);
    last = prev ? json_incref(prev->set) : NULL;
    char api_version[160], now[40];
    kos_kind_api_version(kind, api_version, sizeof(api_version));
    r = mf_entries_put(&work, s->fm->manager, true, api_version, subresource_of(s->fm),
                       json_incref(applied));
    if (r == 0)
        r = prune(kind, &merged, &work, last);
    if (r == 0)
        r = smd_update(s->fm, s->live, merged, &work, s->self, force, s->ignore, NULL, conflicts);
    if (r < 0)
        return r;
    struct mf_entry *mine = mf_entries_find(&work, s->self);
    if (mine && strip_into(&mine->set) < 0)
        return -ENOMEM;
    mf_entries_drop_empty(&work);
    mine = mf_entries_find(&work, s->self);
    if (mine && !json_equal(s->live, merged)) {
        kos_time_rfc3339(s->fm->now, now, sizeof(now));
        if (mf_entry_set_time(mine, now) < 0)
            return -ENOMEM;
    }
    mf_entries_free(m);
    *m = work;
    work = (struct mf_entries){0};
    *ret = TAKE_PTR(merged);
    return 0;
}

/* lastAppliedManager.allowedConflictsFromLastApplied: the fields of the client-side apply
 * annotation that still hold the live values. NULL when there is nothing to allow. */
static json_t *allowed_from_last_applied(const struct kos_kind *kind, const json_t *live)
{
    const char *text = json_string_value(
        json_object_get(json_object_get(json_object_get(live, "metadata"), "annotations"),
                        KOS_LAST_APPLIED_ANNOTATION));
    char api_version[160];
    if (!text || !text[0])
        return NULL;
    _cleanup_json_ json_t *last = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    kos_kind_api_version(kind, api_version, sizeof(api_version));
    const char *av = json_string_value(json_object_get(last, "apiVersion"));
    if (!json_is_object(last) || !av || strcmp(av, api_version) != 0)
        return NULL;
    _cleanup_json_ json_t *set = NULL;
    struct kos_fieldset_diff d = {0};
    if (kos_fieldset_from_object(kind, last, 0, &set, NULL) < 0 ||
        kos_fieldset_compare(kind, last, live, &d) < 0)
        return NULL;
    json_t *a = kos_fieldset_difference(set, d.modified);
    json_t *b = a ? kos_fieldset_difference(a, d.added) : NULL;
    json_t *c = b ? kos_fieldset_difference(b, d.removed) : NULL;
    json_decref(a);
    json_decref(b);
    kos_fieldset_diff_clear(&d);
    return c;
}

/* conflictsDifference: drops the conflicts over allowed fields; true when none remain. */
static bool forgive(struct mf_conflicts *c, const json_t *allowed)
{
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        json_t *rest = kos_fieldset_difference(c->v[i].set, allowed);
        json_decref(c->v[i].set);
        c->v[i].set = rest;
        if (rest && !kos_fieldset_empty(rest)) {
            c->v[kept++] = c->v[i];
        } else {
            json_decref(rest);
            free(c->v[i].id);
            free(c->v[i].printed);
        }
    }
    c->n = kept;
    return kept == 0;
}

/* lastAppliedUpdater: the annotation follows what kubectl applied server-side. */
static int update_last_applied(json_t *obj, const json_t *config)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    const char *cur = json_string_value(json_object_get(ann, KOS_LAST_APPLIED_ANNOTATION));
    if (!cur || !cur[0])
        return 0;
    _cleanup_json_ json_t *copy = json_deep_copy(config);
    if (!copy)
        return -ENOMEM;
    json_object_del(json_object_get(json_object_get(copy, "metadata"), "annotations"),
                    KOS_LAST_APPLIED_ANNOTATION);
    _cleanup_free_ char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return -ENOMEM;
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, strlen(text) + 2);
    if (kos_buf_printf(&b, "%s\n", text) < 0)
        return -ENOMEM;
    return json_object_set_new(ann, KOS_LAST_APPLIED_ANNOTATION, json_string(b.data)) < 0 ? -ENOMEM
                                                                                          : 0;
}

/* Go's schema.GroupVersionKind.String() of the body's apiVersion and kind. */
static int check_type(const struct kos_kind *kind, const json_t *config, struct kos_error **err)
{
    const char *av = json_string_value(json_object_get(config, "apiVersion"));
    const char *k = json_string_value(json_object_get(config, "kind"));
    char want[160];
    kos_kind_api_version(kind, want, sizeof(want));
    if (av && k && strcmp(av, want) == 0 && strcmp(k, kind->kind) == 0)
        return 0;
    const char *slash = av ? strchr(av, '/') : NULL;
    bool valid = av && (!slash || !strchr(slash + 1, '/'));
    const char *group = valid && slash ? av : "";
    int glen = valid && slash ? (int)(slash - av) : 0;
    const char *version = !valid ? "" : slash ? slash + 1 : av;
    return kos_error_set(err, 400, "BadRequest", "invalid object type: %.*s/%s, Kind=%s", glen,
                         group, version, k ? k : "");
}

static int check_name(const json_t *obj, const char *name, const char *ns, struct kos_error **err)
{
    const char *on = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *ons =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
    if (!on || !name || strcmp(on, name) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the name of the object (%s) does not match the name on the URL (%s)",
                             on ? on : "", name ? name : "");
    if (ns && ns[0] && ons && ons[0] && strcmp(ons, ns) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the namespace of the object (%s) does not match the namespace on "
                             "the URL (%s)",
                             ons, ns);
    return 0;
}

int kos_apply(const struct kos_field_manager *fm, const json_t *live, const json_t *config,
              bool force, const char *name, const char *ns, json_t **ret, struct kos_error **err)
{
    if (!fm->kind || !fm->manager)
        return -EINVAL;
    if (!json_is_object(config))
        return kos_error_set(err, 400, "BadRequest",
                             "error decoding YAML: json: cannot unmarshal %s into Go value of type "
                             "map[string]interface {}",
                             json_is_array(config) ? "array" : "non-object value");
    int r = check_type(fm->kind, config, err);
    if (r < 0)
        return r;
    const json_t *cmeta = json_object_get(config, "metadata");
    json_t *cmf = json_object_get(cmeta, "managedFields");
    if (cmf && !json_is_null(cmf))
        return kos_error_set(err, 400, "BadRequest", "metadata.managedFields must be nil");

    _cleanup_json_ json_t *cur = live ? json_deep_copy(live) : json_object();
    if (!cur)
        return -ENOMEM;
    json_t *cur_meta = json_object_get(cur, "metadata");
    _cleanup_(mf_entries_free) struct mf_entries m = {0};
    if (mf_entries_decode(json_object_get(cur_meta, "managedFields"), &m) < 0)
        return kos_error_set(err, 500, "InternalError",
                             "failed to decode managed fields: invalid managedFields entries");
    json_object_del(cur_meta, "managedFields");
    _cleanup_json_ json_t *ignore = ignore_set(fm, cur, config);
    _cleanup_free_ char *self = mf_identifier(fm->manager, true, NULL, subresource_of(fm));
    if (!ignore || !self)
        return -ENOMEM;
    /* skipNonAppliedManager: fields nobody tracked are owned by "before-first-apply" */
    if (m.n == 0 && live) {
        _cleanup_json_ json_t *zero = kos_fieldset_zero_object(fm->kind, cur);
        if (!zero || update_op(fm, zero, cur, &m, BEFORE_FIRST_APPLY, "", ignore) < 0)
            return -ENOMEM;
    }
    struct apply_state s = {
        .fm = fm, .live = cur, .config = config, .ignore = ignore, .self = self};
    struct mf_conflicts c = {0};
    _cleanup_json_ json_t *merged = NULL;
    r = apply_once(&s, force, &m, &merged, &c, err);
    if (r == MF_ECONFLICT && strcmp(fm->manager, "kubectl") == 0) {
        _cleanup_json_ json_t *allowed = allowed_from_last_applied(fm->kind, cur);
        if (allowed && forgive(&c, allowed)) {
            mf_conflicts_clear(&c);
            r = apply_once(&s, true, &m, &merged, &c, err);
        }
    }
    if (r == MF_ECONFLICT)
        r = mf_conflict_error(&c, err);
    mf_conflicts_clear(&c);
    if (r < 0)
        return r;
    if (strcmp(fm->manager, "kubectl") == 0 && update_last_applied(merged, config) < 0)
        return -ENOMEM;
    r = check_name(merged, name, ns, err);
    if (r < 0)
        return r;
    r = mf_entries_store(&m, merged);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(merged);
    return 0;
}

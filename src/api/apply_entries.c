/* metadata.managedFields entries (apply_internal.h), after kube's
 * managedfields/internal/managedfields.go, capmanagers.go and conflict.go. */
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

#define ANCIENT_CHANGES "ancient-changes"
/* A conflict message lists fields; bound it like any reply. */
#define MESSAGE_LIMIT (256 * 1024)

static void entry_clear(struct mf_entry *e)
{
    free(e->id);
    free(e->manager);
    free(e->api_version);
    free(e->subresource);
    free(e->time);
    json_decref(e->set);
    *e = (struct mf_entry){0};
}

void mf_entries_free(struct mf_entries *m)
{
    for (size_t i = 0; m->e && i < m->n; i++)
        entry_clear(&m->e[i]);
    free(m->e);
    *m = (struct mf_entries){0};
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

char *mf_identifier(const char *manager, bool apply, const char *api_version,
                    const char *subresource)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 4096);
    /* json.Marshal of a ManagedFieldsEntry without fieldsType, fieldsV1 and time (all
     * omitempty), and without apiVersion for appliers */
    int r = kos_buf_append_str(&b, "{");
    if (r == 0 && manager && manager[0]) {
        r = kos_buf_append_str(&b, "\"manager\":");
        r = r ? r : kos_buf_append_json_string(&b, manager);
        r = r ? r : kos_buf_append_str(&b, ",");
    }
    if (r == 0)
        r = kos_buf_append_str(&b, apply ? "\"operation\":\"Apply\"" : "\"operation\":\"Update\"");
    if (r == 0 && !apply && api_version && api_version[0]) {
        r = kos_buf_append_str(&b, ",\"apiVersion\":");
        r = r ? r : kos_buf_append_json_string(&b, api_version);
    }
    if (r == 0 && subresource && subresource[0]) {
        r = kos_buf_append_str(&b, ",\"subresource\":");
        r = r ? r : kos_buf_append_json_string(&b, subresource);
    }
    r = r ? r : kos_buf_append_str(&b, "}");
    return r < 0 ? NULL : kos_buf_steal(&b, NULL);
}

static int entry_init(struct mf_entry *e, const char *manager, bool apply, const char *api_version,
                      const char *subresource, json_t *set, const char *time)
{
    *e = (struct mf_entry){.apply = apply, .set = set};
    e->id = mf_identifier(manager, apply, api_version, subresource);
    e->manager = dup_or_empty(manager);
    e->api_version = dup_or_empty(api_version);
    e->subresource = dup_or_empty(subresource);
    e->time = time ? strdup(time) : NULL;
    if (!e->id || !e->manager || !e->api_version || !e->subresource || (time && !e->time)) {
        entry_clear(e);
        return -ENOMEM;
    }
    return 0;
}

struct mf_entry *mf_entries_find(const struct mf_entries *m, const char *id)
{
    for (size_t i = 0; id && i < m->n; i++)
        if (strcmp(m->e[i].id, id) == 0)
            return &m->e[i];
    return NULL;
}

/* Appends e (taken) or replaces the entry with the same identifier. */
static int entries_add(struct mf_entries *m, struct mf_entry *e)
{
    struct mf_entry *same = mf_entries_find(m, e->id);
    if (same) {
        entry_clear(same);
        *same = *e;
        return 0;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4;
        struct mf_entry *v = reallocarray(m->e, cap, sizeof(*v));
        if (!v) {
            entry_clear(e);
            return -ENOMEM;
        }
        m->e = v;
        m->cap = cap;
    }
    m->e[m->n++] = *e;
    return 0;
}

static const char *str_member(const json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (v && !json_is_string(v) && !json_is_null(v))
        *bad = true;
    return json_string_value(v);
}

int mf_entries_decode(const json_t *managed_fields, struct mf_entries *ret)
{
    struct mf_entries m = {0};
    size_t i;
    json_t *item;
    if (!managed_fields || json_is_null(managed_fields)) {
        *ret = m;
        return 0;
    }
    if (!json_is_array(managed_fields) || json_array_size(managed_fields) > MF_MAX_ENTRIES)
        return -EINVAL;
    json_array_foreach(managed_fields, i, item)
    {
        bool bad = !json_is_object(item);
        const char *manager = str_member(item, "manager", &bad);
        const char *op = str_member(item, "operation", &bad);
        const char *av = str_member(item, "apiVersion", &bad);
        const char *time = str_member(item, "time", &bad);
        const char *type = str_member(item, "fieldsType", &bad);
        const char *sub = str_member(item, "subresource", &bad);
        json_t *fields = json_object_get(item, "fieldsV1");
        bool apply = op && strcmp(op, "Apply") == 0;
        if (bad || !op || (!apply && strcmp(op, "Update") != 0) || !av || !av[0] || !type ||
            strcmp(type, "FieldsV1") != 0 ||
            (fields && !json_is_null(fields) && kos_fieldset_validate(fields) < 0)) {
            mf_entries_free(&m);
            return -EINVAL;
        }
        /* times are kept as kube writes them (RFC 3339 in UTC, whole seconds) */
        time_t t = 0;
        char when[40];
        if (time && kos_time_parse_rfc3339(time, &t) < 0) {
            mf_entries_free(&m);
            return -EINVAL;
        }
        if (time) {
            kos_time_rfc3339(t, when, sizeof(when));
            time = when;
        }
        json_t *set =
            fields && !json_is_null(fields) ? kos_fieldset_normalize(fields) : json_object();
        struct mf_entry e;
        if (!set || entry_init(&e, manager, apply, av, sub, set, time) < 0 ||
            entries_add(&m, &e) < 0) {
            mf_entries_free(&m);
            return -ENOMEM;
        }
    }
    *ret = m;
    return 0;
}

bool mf_is_reset(const json_t *managed_fields)
{
    if (!json_is_array(managed_fields))
        return false;
    size_t n = json_array_size(managed_fields);
    if (n == 0)
        return true;
    const json_t *only = json_array_get(managed_fields, 0);
    return n == 1 && json_is_object(only) && json_object_size(only) == 0;
}

int mf_entries_copy(const struct mf_entries *m, struct mf_entries *ret)
{
    struct mf_entries out = {0};
    for (size_t i = 0; i < m->n; i++) {
        const struct mf_entry *s = &m->e[i];
        struct mf_entry e;
        json_t *set = json_deep_copy(s->set);
        if (!set ||
            entry_init(&e, s->manager, s->apply, s->api_version, s->subresource, set, s->time) <
                0 ||
            entries_add(&out, &e) < 0) {
            mf_entries_free(&out);
            return -ENOMEM;
        }
    }
    *ret = out;
    return 0;
}

int mf_entries_put(struct mf_entries *m, const char *manager, bool apply, const char *api_version,
                   const char *subresource, json_t *set)
{
    _cleanup_free_ char *id = mf_identifier(manager, apply, api_version, subresource);
    if (!id || !set) {
        json_decref(set);
        return -ENOMEM;
    }
    struct mf_entry *cur = mf_entries_find(m, id);
    if (cur) {
        /* an applier keeps one entry whatever version it applied */
        char *av = strdup(api_version);
        if (!av) {
            json_decref(set);
            return -ENOMEM;
        }
        free(cur->api_version);
        cur->api_version = av;
        json_decref(cur->set);
        cur->set = set;
        return 0;
    }
    struct mf_entry e;
    if (entry_init(&e, manager, apply, api_version, subresource, set, NULL) < 0)
        return -ENOMEM;
    return entries_add(m, &e);
}

int mf_entry_set_time(struct mf_entry *e, const char *time)
{
    char *t = strdup(time);
    if (!t)
        return -ENOMEM;
    free(e->time);
    e->time = t;
    return 0;
}

int mf_entries_record(struct mf_entries *m, const char *manager, bool apply,
                      const char *api_version, const char *subresource, json_t *set,
                      const char *time)
{
    _cleanup_free_ char *id = mf_identifier(manager, apply, api_version, subresource);
    struct mf_entry *cur = id ? mf_entries_find(m, id) : NULL;
    if (cur) {
        json_t *u = kos_fieldset_union(set, cur->set);
        json_decref(set);
        if (!u)
            return -ENOMEM;
        set = u;
    }
    int r = mf_entries_put(m, manager, apply, api_version, subresource, set);
    cur = r == 0 ? mf_entries_find(m, id) : NULL;
    return r < 0 ? r : !cur ? -ENOMEM : mf_entry_set_time(cur, time);
}

void mf_entries_drop_empty(struct mf_entries *m)
{
    size_t kept = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (kos_fieldset_empty(m->e[i].set))
            entry_clear(&m->e[i]);
        else
            m->e[kept++] = m->e[i];
    }
    m->n = kept;
}

static long long seconds_of(const struct mf_entry *e)
{
    time_t t = 0;
    if (!e->time || kos_time_parse_rfc3339(e->time, &t) < 0)
        return 0;
    return (long long)t;
}

static int by_age(const void *pa, const void *pb)
{
    const struct mf_entry *a = *(struct mf_entry *const *)pa, *b = *(struct mf_entry *const *)pb;
    long long x = seconds_of(a), y = seconds_of(b);
    if (x != y)
        return x < y ? -1 : 1;
    return strcmp(a->id, b->id);
}

int mf_entries_cap(struct mf_entries *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += !m->e[i].apply;
    if (n <= MF_MAX_UPDATE_MANAGERS)
        return 0;
    _cleanup_free_ struct mf_entry **updaters = calloc(n, sizeof(*updaters));
    _cleanup_free_ struct mf_entry **first = calloc(n, sizeof(*first)); /* per version */
    if (!updaters || !first)
        return -ENOMEM;
    n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!m->e[i].apply)
            updaters[n++] = &m->e[i];
    qsort(updaters, n, sizeof(*updaters), by_age);
    size_t length = n, nfirst = 0;
    for (size_t i = 0; i < n && length > MF_MAX_UPDATE_MANAGERS; i++) {
        struct mf_entry *e = updaters[i], *f = NULL;
        for (size_t j = 0; j < nfirst && !f; j++)
            if (strcmp(first[j]->api_version, e->api_version) == 0)
                f = first[j];
        if (!f) {
            first[nfirst++] = e;
            continue;
        }
        _cleanup_free_ char *bid = mf_identifier(ANCIENT_CHANGES, false, e->api_version, "");
        if (!bid)
            return -ENOMEM;
        struct mf_entry *bucket = mf_entries_find(m, bid);
        if (!bucket) {
            /* the first of the version becomes the bucket */
            char *mgr = strdup(ANCIENT_CHANGES), *sub = strdup("");
            if (!mgr || !sub) {
                free(mgr);
                free(sub);
                return -ENOMEM;
            }
            free(f->id);
            free(f->manager);
            free(f->subresource);
            f->id = TAKE_PTR(bid);
            f->manager = mgr;
            f->subresource = sub;
            bucket = f;
        }
        json_t *u = kos_fieldset_union(e->set, bucket->set);
        if (!u)
            return -ENOMEM;
        json_decref(bucket->set);
        bucket->set = u;
        if (e->time && mf_entry_set_time(bucket, e->time) < 0)
            return -ENOMEM;
        json_decref(e->set);
        e->set = json_object(); /* dropped below */
        length--;
    }
    mf_entries_drop_empty(m);
    return 0;
}

/* sortEncodedManagedFields */
static int by_kube_order(const void *pa, const void *pb)
{
    const struct mf_entry *a = *(struct mf_entry *const *)pa, *b = *(struct mf_entry *const *)pb;
    if (a->apply != b->apply)
        return a->apply ? -1 : 1;
    long long x = seconds_of(a), y = seconds_of(b);
    if (x != y)
        return x < y ? -1 : 1;
    int c = strcmp(a->manager, b->manager);
    if (!c)
        c = strcmp(a->api_version, b->api_version);
    return c ? c : strcmp(a->subresource, b->subresource);
}

static json_t *encode_entry(const struct mf_entry *e)
{
    json_t *o = json_object(), *fields = kos_fieldset_sorted(e->set);
    if (!o || !fields) {
        json_decref(o);
        json_decref(fields);
        return NULL;
    }
    int r = 0;
    if (e->manager[0])
        r |= json_object_set_new(o, "manager", json_string(e->manager));
    r |= json_object_set_new(o, "operation", json_string(e->apply ? "Apply" : "Update"));
    r |= json_object_set_new(o, "apiVersion", json_string(e->api_version));
    if (e->time)
        r |= json_object_set_new(o, "time", json_string(e->time));
    r |= json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    r |= json_object_set_new(o, "fieldsV1", fields);
    if (e->subresource[0])
        r |= json_object_set_new(o, "subresource", json_string(e->subresource));
    if (r) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int mf_entries_store(const struct mf_entries *m, json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        if (!meta || json_object_set_new(obj, "metadata", meta) < 0)
            return -ENOMEM;
    }
    if (m->n == 0) {
        json_object_del(meta, "managedFields");
        return 0;
    }
    _cleanup_free_ struct mf_entry **order = calloc(m->n, sizeof(*order));
    _cleanup_json_ json_t *list = json_array();
    if (!order || !list)
        return -ENOMEM;
    for (size_t i = 0; i < m->n; i++)
        order[i] = &m->e[i];
    qsort(order, m->n, sizeof(*order), by_kube_order);
    for (size_t i = 0; i < m->n; i++)
        if (json_array_append_new(list, encode_entry(order[i])) < 0)
            return -ENOMEM;
    return json_object_set(meta, "managedFields", list) < 0 ? -ENOMEM : 0;
}

/* ---- conflicts ----------------------------------------------------------------------------- */

/* printManager of conflict.go (the identifier never holds a time). */
static char *print_manager(const struct mf_entry *e)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 4096);
    int r = kos_fieldset_append_quoted(&b, e->manager);
    if (r == 0 && e->subresource[0]) {
        r = kos_buf_append_str(&b, " with subresource ");
        r = r ? r : kos_fieldset_append_quoted(&b, e->subresource);
    }
    if (r == 0 && !e->apply)
        r = kos_buf_printf(&b, " using %s", e->api_version);
    return r < 0 ? NULL : kos_buf_steal(&b, NULL);
}

int mf_conflicts_add(struct mf_conflicts *c, const struct mf_entry *e, json_t *set)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        struct mf_conflict *v = reallocarray(c->v, cap, sizeof(*v));
        if (!v) {
            json_decref(set);
            return -ENOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    struct mf_conflict *x = &c->v[c->n];
    x->id = strdup(e->id);
    x->printed = print_manager(e);
    x->set = set;
    if (!x->id || !x->printed) {
        free(x->id);
        free(x->printed);
        json_decref(set);
        return -ENOMEM;
    }
    c->n++;
    return 0;
}

void mf_conflicts_clear(struct mf_conflicts *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].printed);
        json_decref(c->v[i].set);
    }
    free(c->v);
    *c = (struct mf_conflicts){0};
}

static int by_id(const void *pa, const void *pb)
{
    return strcmp(((const struct mf_conflict *)pa)->id, ((const struct mf_conflict *)pb)->id);
}

struct message {
    struct kos_buf lines;
    const struct mf_conflict *current;
    struct kos_error *err; /* set: add the causes; NULL: write the message */
    size_t count;
    bool single;
};

static int count_path(void *ctx, const char *const *path, size_t n)
{
    (void)path;
    (void)n;
    ((struct message *)ctx)->count++;
    return 0;
}

static int add_path(void *ctx, const char *const *path, size_t n)
{
    struct message *msg = ctx;
    _cleanup_free_ char *field = kos_fieldset_path_string(path, n);
    if (!field)
        return -ENOMEM;
    if (msg->err) {
        _cleanup_buf_ struct kos_buf cause;
        kos_buf_init(&cause, 8192);
        if (kos_buf_printf(&cause, "conflict with %s", msg->current->printed) < 0)
            return -ENOMEM;
        kos_error_add_cause(msg->err, "FieldManagerConflict", cause.data, field);
        return 0;
    }
    if (msg->single)
        return kos_buf_printf(&msg->lines, "conflict with %s: %s", msg->current->printed, field);
    return kos_buf_printf(&msg->lines, "\n- %s", field);
}

int mf_conflict_error(struct mf_conflicts *c, struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf lines;
    struct message msg = {.count = 0};
    int r = 0;
    kos_buf_init(&msg.lines, MESSAGE_LIMIT);
    qsort(c->v, c->n, sizeof(*c->v), by_id);
    for (size_t i = 0; i < c->n; i++)
        kos_fieldset_iterate(c->v[i].set, count_path, &msg);
    msg.single = msg.count == 1;
    for (size_t i = 0; r == 0 && i < c->n; i++) {
        msg.current = &c->v[i];
        if (!msg.single)
            r = kos_buf_printf(&msg.lines, "%sconflicts with %s:", i ? "\n" : "", c->v[i].printed);
        if (r == 0)
            r = kos_fieldset_iterate(c->v[i].set, add_path, &msg);
    }
    lines = msg.lines; /* freed on return; a message cut at the limit is left empty */
    const char *text = lines.data ? lines.data : "";
    bool fresh = err && !*err;
    if (msg.single)
        r = kos_error_set(err, 409, "Conflict", "Apply failed with 1 conflict: %s", text);
    else
        r = kos_error_set(err, 409, "Conflict", "Apply failed with %zu conflicts: %s", msg.count,
                          text);
    if (!fresh || !*err)
        return r;
    msg.err = *err;
    for (size_t i = 0; i < c->n; i++) {
        msg.current = &c->v[i];
        if (kos_fieldset_iterate(c->v[i].set, add_path, &msg) < 0)
            break;
    }
    return r;
}

/* The informer's in-process source: inside `kos server` the components' informers read the
 * store they run beside instead of listing and watching it over loopback HTTP.
 *
 * Why: over HTTP every write was rendered into a watch event, sent, received by libcurl and
 * parsed by each informer, and every informer kept its own parsed tree of every object (the
 * scheduler's pods: hundreds of MB at 10,000 pods). Here the list is the store's index and
 * the watch is a subscription to its window; each event's stored bytes are parsed once per
 * informer, and the cache holds a reference to the stored bytes (shared with the index, so
 * nearly free) and parses only when asked (kos_informer_get, snapshot, an update's old
 * state for handlers that read it).
 *
 * The sequence is the HTTP one: list at revision R, watch from R, and on falling out of the
 * window (-ESTALE) list again and report the difference. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client/informer_internal.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define LOCAL_BATCH 64

struct informer_entry {
    struct kos_value *value;
    int64_t mod_rev;
    char key[];
};

static struct informer_entry *entry_new(const char *key, int64_t mod_rev, struct kos_value *v)
{
    size_t len = strlen(key);
    struct informer_entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return NULL;
    memcpy(e->key, key, len + 1);
    e->mod_rev = mod_rev;
    e->value = kos_value_ref(v);
    return e;
}

static void entry_free(struct informer_entry *e)
{
    if (!e)
        return;
    kos_value_unref(e->value);
    free(e);
}

static void entries_free(struct kos_strmap *m)
{
    size_t it = 0;
    void *v;
    while (kos_strmap_next(m, &it, NULL, &v))
        entry_free(v);
    kos_strmap_free(m);
}

int informer_local_init(struct kos_informer *inf)
{
    struct store *st = kos_client_local_store(inf->client);
    /* Selectors need the API server's filtering (and its ADDED/DELETED rewriting). */
    if (!st || inf->label_selector || inf->field_selector)
        return 0;
    int r = kos_kind_key_prefix(inf->kind, inf->ns, inf->prefix, sizeof(inf->prefix));
    if (r < 0)
        return r;
    inf->store = st;
    return 0;
}

/* The object as handlers see it (the informer's cache form), or NULL when the stored bytes
 * do not parse, which the API server never stores. */
static json_t *decode(const struct kos_informer *inf, const struct kos_value *v)
{
    _cleanup_free_ char *tmp = NULL;
    const char *data = v ? kos_value_bytes(v, &tmp) : NULL;
    return data ? informer_decode(inf, data, v->len) : NULL;
}

static bool handlers_read_old(const struct kos_informer *inf)
{
    for (size_t i = 0; i < inf->nhandlers; i++)
        if (inf->handlers[i].on_update && !inf->handlers[i].ignores_old)
            return true;
    return false;
}

/* Whether an update to obj needs the state before: always (read_old), or as a handler's
 * needs_old says. */
static bool wants_old(const struct kos_informer *inf, bool read_old, const json_t *obj)
{
    for (size_t i = 0; !read_old && i < inf->nhandlers; i++) {
        const struct kos_informer_handlers *h = &inf->handlers[i];
        read_old = h->on_update && h->needs_old && h->needs_old(h->ctx, obj);
    }
    return read_old;
}

static int list_store(struct kos_informer *inf, struct kos_strmap *ret, int64_t *ret_rev)
{
    struct store_list l = {0};
    int r = store_list(inf->store, inf->prefix, NULL, 0, &l);
    if (r < 0)
        return r;
    struct kos_strmap m = {0};
    for (size_t i = 0; i < l.count && r == 0; i++) {
        struct informer_entry *e = entry_new(l.items[i].key, l.items[i].mod_rev, l.items[i].value);
        if (!e || kos_strmap_put(&m, e->key, e) < 0) {
            entry_free(e);
            r = -ENOMEM;
        }
    }
    int64_t rev = l.rev;
    store_list_clear(&l);
    if (r < 0) {
        entries_free(&m);
        return r;
    }
    *ret = m;
    *ret_rev = rev;
    return 0;
}

/* Installs a fresh list as the cache and tells the handlers what changed since the old one. */
static void replace_values(struct kos_informer *inf, struct kos_strmap *fresh)
{
    pthread_mutex_lock(&inf->lock);
    struct kos_strmap old = inf->values;
    inf->values = *fresh;
    pthread_mutex_unlock(&inf->lock);
    *fresh = (struct kos_strmap){0};
    bool read_old = handlers_read_old(inf);
    size_t it = 0;
    void *v;
    while (kos_strmap_next(&inf->values, &it, NULL, &v)) {
        const struct informer_entry *now = v;
        const struct informer_entry *before = kos_strmap_get(&old, now->key);
        if (before && before->mod_rev == now->mod_rev)
            continue;
        _cleanup_json_ json_t *obj = decode(inf, now->value);
        if (!obj)
            continue;
        if (!before) {
            informer_notify_add(inf, obj);
        } else {
            _cleanup_json_ json_t *prev =
                wants_old(inf, read_old, obj) ? decode(inf, before->value) : NULL;
            informer_notify_update(inf, prev, obj);
        }
    }
    it = 0;
    while (kos_strmap_next(&old, &it, NULL, &v)) {
        const struct informer_entry *gone = v;
        if (kos_strmap_get(&inf->values, gone->key))
            continue;
        _cleanup_json_ json_t *obj = decode(inf, gone->value);
        if (obj)
            informer_notify_delete(inf, obj);
    }
    entries_free(&old);
}

static void apply(struct kos_informer *inf, const struct watch_event *ev, bool read_old)
{
    struct informer_entry *now = NULL;
    if (ev->type != WATCH_DELETED) {
        now = entry_new(ev->key, ev->rev, ev->value);
        if (!now)
            return; /* out of memory: the next re-list repairs the cache */
    }
    pthread_mutex_lock(&inf->lock);
    struct informer_entry *old = NULL;
    if (now) {
        old = kos_strmap_get(&inf->values, now->key);
        if (kos_strmap_put(&inf->values, now->key, now) < 0) {
            pthread_mutex_unlock(&inf->lock);
            entry_free(now);
            return;
        }
    } else {
        old = kos_strmap_remove(&inf->values, ev->key);
    }
    pthread_mutex_unlock(&inf->lock);

    _cleanup_json_ json_t *obj = informer_shared_decode(inf, ev->value);
    if (obj) {
        if (ev->type == WATCH_DELETED) {
            if (old)
                informer_notify_delete(inf, obj);
        } else if (old) {
            /* the event's previous state is the cached one, as the window delivers in order */
            _cleanup_json_ json_t *prev =
                wants_old(inf, read_old, obj)
                    ? informer_shared_decode(inf, ev->prev_value ? ev->prev_value : old->value)
                    : NULL;
            informer_notify_update(inf, prev, obj);
        } else {
            informer_notify_add(inf, obj);
        }
    }
    entry_free(old);
}

/* Follows the subscription until the informer stops (-ECANCELED) or falls out of the window
 * (-ESTALE). */
static int follow(struct kos_informer *inf, struct watch_sub *sub)
{
    bool read_old = handlers_read_old(inf);
    struct watch_event evs[LOCAL_BATCH];
    for (;;) {
        int n = watch_sub_next_batch(sub, -1, evs, LOCAL_BATCH);
        if (n < 0)
            return n;
        for (int i = 0; i < n; i++) {
            apply(inf, &evs[i], read_old);
            watch_event_clear(&evs[i]);
        }
    }
}

void informer_local_run(struct kos_informer *inf)
{
    struct watch_window *win = store_window(inf->store);
    int backoff = INFORMER_BACKOFF_MIN_MS;
    informer_shared_join(inf);
    while (!informer_is_stopping(inf)) {
        struct kos_strmap fresh = {0};
        int64_t rev = 0;
        struct watch_sub *sub = NULL;
        int r = list_store(inf, &fresh, &rev);
        if (r == 0)
            r = watch_window_subscribe(win, inf->prefix, rev, &sub);
        if (r == 0) {
            pthread_mutex_lock(&inf->lock);
            if (inf->stopping)
                r = -ECANCELED;
            else
                inf->sub = sub;
            pthread_mutex_unlock(&inf->lock);
        }
        if (r < 0) {
            watch_sub_close(sub);
            entries_free(&fresh);
            /* -ESTALE: the window moved on between the list and the subscription */
            if (r == -ECANCELED || !informer_pause_ms(inf, backoff))
                break;
            backoff = informer_next_backoff(backoff);
            continue;
        }
        replace_values(inf, &fresh);
        informer_set_synced(inf);
        backoff = INFORMER_BACKOFF_MIN_MS;
        r = follow(inf, sub);
        pthread_mutex_lock(&inf->lock);
        inf->sub = NULL;
        pthread_mutex_unlock(&inf->lock);
        watch_sub_close(sub);
        if (r == -ECANCELED)
            break; /* stopping, or the store is shutting down */
    }
    informer_shared_leave(inf);
}

json_t *informer_local_get(struct kos_informer *inf, const char *ns, const char *name)
{
    char key[INFORMER_KEY_MAX];
    if (!name || kos_kind_key(inf->kind, ns, name, key, sizeof(key)) < 0)
        return NULL;
    pthread_mutex_lock(&inf->lock);
    const struct informer_entry *e = kos_strmap_get(&inf->values, key);
    struct kos_value *v = e ? kos_value_ref(e->value) : NULL;
    pthread_mutex_unlock(&inf->lock);
    json_t *obj = decode(inf, v);
    kos_value_unref(v);
    return obj;
}

json_t *informer_local_snapshot(struct kos_informer *inf)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    pthread_mutex_lock(&inf->lock);
    size_t n = inf->values.len, i = 0, it = 0;
    struct kos_value **vals = calloc(n ? n : 1, sizeof(*vals));
    void *v;
    while (vals && kos_strmap_next(&inf->values, &it, NULL, &v))
        vals[i++] = kos_value_ref(((struct informer_entry *)v)->value);
    pthread_mutex_unlock(&inf->lock);
    if (!vals) {
        json_decref(arr);
        return NULL;
    }
    for (size_t j = 0; j < n; j++) {
        json_t *obj = decode(inf, vals[j]);
        if (arr && (!obj || json_array_append_new(arr, obj) < 0)) {
            json_decref(arr);
            arr = NULL;
        }
        kos_value_unref(vals[j]);
    }
    free(vals);
    return arr;
}

void informer_local_free(struct kos_informer *inf)
{
    entries_free(&inf->values);
}

/* The informer's thread: list, then watch from the list's resourceVersion; watch again from
 * the last resourceVersion when a stream ends, list again on 410 or after an error. */
#include "client/informer.h"
#include "client/informer_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/watch.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define DEFAULT_PAGE_SIZE  500
#define WATCH_TIMEOUT_MIN  240 /* seconds; each watch asks for a little more, like client-go */
#define WATCH_TIMEOUT_SPAN 120

static void free_fields(const char **fields)
{
    for (size_t i = 0; fields && fields[i]; i++)
        free((char *)fields[i]);
    free(fields);
}

static int dup_opt(const char *s, char **ret)
{
    *ret = NULL;
    if (!s)
        return 0;
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
}

static int copy_fields(const char *const *fields, const char ***ret)
{
    size_t n = 0;
    while (fields[n])
        n++;
    const char **out = calloc(n + 1, sizeof(*out));
    if (!out)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        out[i] = strdup(fields[i]);
        if (!out[i]) {
            free_fields(out);
            return -ENOMEM;
        }
    }
    *ret = out;
    return 0;
}

int kos_informer_new(struct kos_client *c, const struct kos_informer_options *o,
                     struct kos_informer **ret)
{
    if (!c || !o || !o->kind)
        return -EINVAL;
    struct kos_informer *inf = calloc(1, sizeof(*inf));
    if (!inf)
        return -ENOMEM;
    inf->client = c;
    inf->kind = o->kind;
    inf->metadata_only = o->metadata_only;
    if (o->metadata_only && o->metadata_fields &&
        copy_fields(o->metadata_fields, &inf->metadata_fields) < 0) {
        kos_informer_free(inf);
        return -ENOMEM;
    }
    inf->drop_managed_fields = o->drop_managed_fields;
    inf->page_size = o->page_size > 0 ? o->page_size : DEFAULT_PAGE_SIZE;
    pthread_mutex_init(&inf->lock, NULL);
    pthread_cond_init(&inf->cond, NULL);
    inf->cache = json_object();
    if (!inf->cache || dup_opt(o->kind->namespaced ? o->ns : NULL, &inf->ns) < 0 ||
        dup_opt(o->label_selector, &inf->label_selector) < 0 ||
        dup_opt(o->field_selector, &inf->field_selector) < 0) {
        kos_informer_free(inf);
        return -ENOMEM;
    }
    int r = informer_local_init(inf);
    if (r < 0) {
        kos_informer_free(inf);
        return r;
    }
    *ret = inf;
    return 0;
}

int kos_informer_add_handlers(struct kos_informer *inf, const struct kos_informer_handlers *h)
{
    if (inf->started)
        return -EBUSY;
    if (inf->nhandlers >= KOS_INFORMER_MAX_HANDLERS)
        return -ENOSPC;
    inf->handlers[inf->nhandlers++] = *h;
    return 0;
}

const struct kos_kind *kos_informer_kind(const struct kos_informer *inf)
{
    return inf->kind;
}

static int make_key(const struct kos_informer *inf, const char *ns, const char *name, char *out,
                    size_t size)
{
    int n = inf->kind->namespaced ? snprintf(out, size, "%s/%s", ns ? ns : "", name)
                                  : snprintf(out, size, "%s", name);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int obj_key(const struct kos_informer *inf, const json_t *obj, char *out, size_t size)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name)
        return -EINVAL;
    return make_key(inf, json_string_value(json_object_get(meta, "namespace")), name, out, size);
}

static const char *obj_rv(const json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

bool informer_keeps_meta(const struct kos_informer *inf, const char *key, size_t len)
{
    if (len == strlen("managedFields") && memcmp(key, "managedFields", len) == 0)
        return false;
    if (!inf->metadata_only || !inf->metadata_fields)
        return true;
    for (size_t i = 0; inf->metadata_fields[i]; i++)
        if (strlen(inf->metadata_fields[i]) == len &&
            memcmp(inf->metadata_fields[i], key, len) == 0)
            return true;
    return false;
}

/* What the cache keeps of an object: all of it, or its identity and metadata only. List
 * items may lack kind and apiVersion, so they are filled in from the descriptor. */
json_t *informer_cache_form(const struct kos_informer *inf, json_t *obj)
{
    json_t *out = inf->metadata_only ? json_object() : json_incref(obj);
    if (!out)
        return NULL;
    if (inf->metadata_only) {
        json_t *meta = json_deep_copy(json_object_get(obj, "metadata"));
        if (!meta || json_object_set_new(out, "metadata", meta) < 0) {
            json_decref(out);
            return NULL;
        }
        json_object_del(meta, "managedFields");
        if (inf->metadata_fields) {
            const char *k;
            json_t *v;
            void *tmp;
            json_object_foreach_safe(meta, tmp, k, v)
            {
                if (!informer_keeps_meta(inf, k, strlen(k)))
                    json_object_del(meta, k);
            }
        }
    } else if (inf->drop_managed_fields &&
               json_object_get(json_object_get(obj, "metadata"), "managedFields")) {
        /* shallow copies: everything but the dropped member stays shared with obj */
        json_t *copy = json_copy(obj);
        json_t *meta = copy ? json_copy(json_object_get(obj, "metadata")) : NULL;
        json_decref(out);
        if (!meta || json_object_set_new(copy, "metadata", meta) < 0) {
            json_decref(copy);
            return NULL;
        }
        json_object_del(meta, "managedFields");
        out = copy;
    }
    if (!json_is_string(json_object_get(out, "kind")) ||
        !json_is_string(json_object_get(out, "apiVersion"))) {
        char api_version[160];
        kos_kind_api_version(inf->kind, api_version, sizeof(api_version));
        if (!inf->metadata_only) {
            /* never modify what the caller handed in: it may be shared (out is obj, or a
             * copy of it without managedFields that must stay without) */
            json_t *copy = json_copy(out);
            json_decref(out);
            out = copy;
            if (!out)
                return NULL;
        }
        json_object_set_new(out, "kind", json_string(inf->kind->kind));
        json_object_set_new(out, "apiVersion", json_string(api_version));
    }
    return out;
}

void informer_notify_add(struct kos_informer *inf, const json_t *obj)
{
    for (size_t i = 0; i < inf->nhandlers; i++)
        if (inf->handlers[i].on_add)
            inf->handlers[i].on_add(inf->handlers[i].ctx, obj);
}

void informer_notify_update(struct kos_informer *inf, const json_t *old_obj, const json_t *obj)
{
    for (size_t i = 0; i < inf->nhandlers; i++)
        if (inf->handlers[i].on_update)
            inf->handlers[i].on_update(inf->handlers[i].ctx, old_obj, obj);
}

void informer_notify_delete(struct kos_informer *inf, const json_t *obj)
{
    for (size_t i = 0; i < inf->nhandlers; i++)
        if (inf->handlers[i].on_delete)
            inf->handlers[i].on_delete(inf->handlers[i].ctx, obj);
}

bool informer_is_stopping(struct kos_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    bool s = inf->stopping;
    pthread_mutex_unlock(&inf->lock);
    return s;
}

/* Sleeps ms unless the informer is stopped meanwhile; false when it is stopping. */
bool informer_pause_ms(struct kos_informer *inf, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&inf->lock);
    while (!inf->stopping) {
        if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == ETIMEDOUT)
            break;
    }
    bool go_on = !inf->stopping;
    pthread_mutex_unlock(&inf->lock);
    return go_on;
}

int informer_next_backoff(int ms)
{
    return ms * 2 > INFORMER_BACKOFF_MAX_MS ? INFORMER_BACKOFF_MAX_MS : ms * 2;
}

void informer_set_synced(struct kos_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    inf->synced = true;
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->lock);
}

/* Lists every page into a fresh map; sets inf->rv to the list's resourceVersion. */
static int list_all(struct kos_informer *inf, json_t **ret)
{
    _cleanup_json_ json_t *fresh = json_object();
    _cleanup_free_ char *cont = NULL;
    char rv[INFORMER_RV_MAX] = "";
    if (!fresh)
        return -ENOMEM;
    struct kos_ref ref = {.kind = inf->kind, .ns = inf->ns};
    do {
        struct kos_list_options lo = {.label_selector = inf->label_selector,
                                      .field_selector = inf->field_selector,
                                      .continue_token = cont,
                                      .limit = inf->page_size};
        _cleanup_json_ json_t *page = NULL;
        int r = kos_client_list(inf->client, &ref, &lo, &page, NULL);
        if (r < 0)
            return r;
        const json_t *lmeta = json_object_get(page, "metadata");
        /* every page is read at the first page's revision: that is where watching starts */
        const char *page_rv = json_string_value(json_object_get(lmeta, "resourceVersion"));
        if (!rv[0] && page_rv)
            snprintf(rv, sizeof(rv), "%s", page_rv);
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(page, "items"), i, item)
        {
            char key[INFORMER_KEY_MAX];
            if (obj_key(inf, item, key, sizeof(key)) < 0)
                continue;
            json_t *kept = informer_cache_form(inf, item);
            if (!kept || json_object_set_new(fresh, key, kept) < 0)
                return -ENOMEM;
        }
        free(cont);
        const char *next = json_string_value(json_object_get(lmeta, "continue"));
        cont = next && next[0] ? strdup(next) : NULL;
        if (next && next[0] && !cont)
            return -ENOMEM;
        if (informer_is_stopping(inf))
            return -ECANCELED;
    } while (cont);
    if (!rv[0])
        return -EPROTO;
    snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
    *ret = TAKE_PTR(fresh);
    return 0;
}

/* Replaces the cache with a fresh list and tells the handlers what changed. */
static void replace_cache(struct kos_informer *inf, json_t *fresh)
{
    pthread_mutex_lock(&inf->lock);
    json_t *old = inf->cache;
    inf->cache = json_incref(fresh);
    pthread_mutex_unlock(&inf->lock);
    const char *key;
    json_t *obj;
    json_object_foreach(fresh, key, obj)
    {
        json_t *before = json_object_get(old, key);
        if (!before)
            informer_notify_add(inf, obj);
        else if (!obj_rv(obj) || !obj_rv(before) || strcmp(obj_rv(obj), obj_rv(before)) != 0)
            informer_notify_update(inf, before, obj);
    }
    json_object_foreach(old, key, obj)
    {
        if (!json_object_get(fresh, key))
            informer_notify_delete(inf, obj);
    }
    json_decref(old);
}

static void apply_event(struct kos_informer *inf, const struct kos_watch_event *ev)
{
    const char *rv = obj_rv(ev->object);
    if (rv && rv[0])
        snprintf(inf->rv, sizeof(inf->rv), "%s", rv);
    if (ev->type == KOS_WATCH_BOOKMARK)
        return;
    char key[INFORMER_KEY_MAX];
    if (obj_key(inf, ev->object, key, sizeof(key)) < 0)
        return;
    _cleanup_json_ json_t *kept = informer_cache_form(inf, ev->object);
    if (!kept)
        return;
    pthread_mutex_lock(&inf->lock);
    json_t *old = json_incref(json_object_get(inf->cache, key));
    if (ev->type == KOS_WATCH_DELETED)
        json_object_del(inf->cache, key);
    else
        json_object_set(inf->cache, key, kept);
    pthread_mutex_unlock(&inf->lock);
    if (ev->type == KOS_WATCH_DELETED) {
        if (old)
            informer_notify_delete(inf, kept);
    } else if (old) {
        informer_notify_update(inf, old, kept);
    } else {
        informer_notify_add(inf, kept);
    }
    json_decref(old);
}

/* Watches from inf->rv until the stream must be re-listed (-ESTALE), the informer stops
 * (-ECANCELED) or the watch fails (another negative errno). Returns -EPIPE when a stream
 * ended normally, so the caller watches again. */
static int watch_once(struct kos_informer *inf, int *backoff_ms)
{
    /* spread re-watches of many informers over time (no need for good randomness) */
    uint32_t jitter = (uint32_t)kos_now_us_monotonic();
    struct kos_list_options lo = {
        .label_selector = inf->label_selector,
        .field_selector = inf->field_selector,
        .resource_version = inf->rv,
        .timeout_seconds = WATCH_TIMEOUT_MIN + (int64_t)(jitter % WATCH_TIMEOUT_SPAN),
        .allow_bookmarks = true,
    };
    struct kos_ref ref = {.kind = inf->kind, .ns = inf->ns};
    struct kos_watch *w = NULL;
    int r = kos_client_watch(inf->client, &ref, &lo, &w, NULL);
    if (r < 0)
        return r;
    pthread_mutex_lock(&inf->lock);
    bool stopping = inf->stopping;
    if (!stopping)
        inf->watch = w;
    pthread_mutex_unlock(&inf->lock);
    if (stopping) {
        kos_watch_close(w);
        return -ECANCELED;
    }
    for (;;) {
        struct kos_watch_event ev;
        r = kos_watch_next(w, -1, &ev, NULL);
        if (r != 1)
            break;
        *backoff_ms = INFORMER_BACKOFF_MIN_MS;
        apply_event(inf, &ev);
        kos_watch_event_clear(&ev);
    }
    pthread_mutex_lock(&inf->lock);
    inf->watch = NULL;
    pthread_mutex_unlock(&inf->lock);
    kos_watch_close(w);
    return r;
}

static void *run(void *arg)
{
    struct kos_informer *inf = arg;
    if (inf->store) {
        informer_local_run(inf);
        return NULL;
    }
    int backoff = INFORMER_BACKOFF_MIN_MS;
    while (!informer_is_stopping(inf)) {
        json_t *fresh = NULL;
        int r = list_all(inf, &fresh);
        if (r < 0) {
            if (r == -ECANCELED || !informer_pause_ms(inf, backoff))
                break;
            backoff = informer_next_backoff(backoff);
            continue;
        }
        replace_cache(inf, fresh);
        json_decref(fresh);
        informer_set_synced(inf);
        backoff = INFORMER_BACKOFF_MIN_MS;
        for (;;) {
            r = watch_once(inf, &backoff);
            if (r == -EPIPE)
                continue; /* a stream that ended normally: pick up where it stopped */
            if (r == -ECANCELED || r == -ESTALE)
                break;
            /* The server is unreachable or refused: wait, then try the watch again; a
             * resourceVersion that has expired meanwhile turns into -ESTALE and a re-list. */
            if (!informer_pause_ms(inf, backoff))
                break;
            backoff = informer_next_backoff(backoff);
        }
    }
    return NULL;
}

int kos_informer_start(struct kos_informer *inf)
{
    if (inf->started)
        return -EBUSY;
    int r = pthread_create(&inf->thread, NULL, run, inf);
    if (r != 0)
        return -r;
    inf->started = true;
    return 0;
}

bool kos_informer_has_synced(struct kos_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    bool s = inf->synced;
    pthread_mutex_unlock(&inf->lock);
    return s;
}

int kos_informer_wait_synced(struct kos_informer *inf, int timeout_ms)
{
    struct timespec ts = kos_deadline_after_ms(CLOCK_REALTIME, timeout_ms);
    int r = 0;
    pthread_mutex_lock(&inf->lock);
    while (!inf->synced && !inf->stopping) {
        if (pthread_cond_timedwait(&inf->cond, &inf->lock, &ts) == ETIMEDOUT) {
            r = inf->synced ? 0 : -ETIMEDOUT;
            break;
        }
    }
    if (!inf->synced && inf->stopping)
        r = -ECANCELED;
    pthread_mutex_unlock(&inf->lock);
    return r;
}

json_t *kos_informer_get(struct kos_informer *inf, const char *ns, const char *name)
{
    if (inf->store)
        return informer_local_get(inf, ns, name);
    char key[INFORMER_KEY_MAX];
    if (!name || make_key(inf, ns, name, key, sizeof(key)) < 0)
        return NULL;
    pthread_mutex_lock(&inf->lock);
    json_t *obj = json_incref(json_object_get(inf->cache, key));
    pthread_mutex_unlock(&inf->lock);
    return obj;
}

json_t *kos_informer_snapshot(struct kos_informer *inf)
{
    if (inf->store)
        return informer_local_snapshot(inf);
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    pthread_mutex_lock(&inf->lock);
    const char *key;
    json_t *obj;
    json_object_foreach(inf->cache, key, obj)
    {
        if (json_array_append(arr, obj) < 0) {
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&inf->lock);
    return arr;
}

void kos_informer_stop(struct kos_informer *inf)
{
    pthread_mutex_lock(&inf->lock);
    inf->stopping = true;
    if (inf->watch)
        kos_watch_cancel(inf->watch);
    if (inf->sub)
        watch_sub_cancel(inf->sub);
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->lock);
    if (inf->started) {
        pthread_join(inf->thread, NULL);
        inf->started = false;
    }
}

void kos_informer_free(struct kos_informer *inf)
{
    if (!inf)
        return;
    kos_informer_stop(inf);
    json_decref(inf->cache);
    informer_local_free(inf);
    pthread_cond_destroy(&inf->cond);
    pthread_mutex_destroy(&inf->lock);
    free_fields(inf->metadata_fields);
    free(inf->ns);
    free(inf->label_selector);
    free(inf->field_selector);
    free(inf);
}

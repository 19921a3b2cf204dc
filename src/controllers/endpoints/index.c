#include "controllers/endpoints/index.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/endpoints/build.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strmap.h"
#include "util/strutil.h"

/* One entry of a namespace's map: its key string is owned here.
 *
 * Why a pod is not kept as a jansson tree: at 10,000 pods the trimmed trees (a hash table and
 * a dozen small allocations each, plus the informer's decoded subtrees they kept alive) cost
 * about 50 MB of RSS. A pod is kept as its labels, packed for matching, and the rest of its
 * trimmed form as compact JSON bytes, parsed again only for the Services that select it. */
struct entry {
    char *name;
    json_t *value; /* a Service's selector (services map only) */
    char *labels;  /* pods: "key\0value\0" pairs, n_labels of them (NULL when none) */
    size_t n_labels;
    size_t labels_size;
    char *body; /* pods: the trimmed pod without labels and resourceVersion, compact JSON */
};

struct ns_map {
    char *ns;
    struct kos_strmap items; /* name -> struct entry */
};

struct kos_ep_index {
    pthread_mutex_t lock;
    struct kos_strmap pods;     /* ns -> struct ns_map of trimmed pods */
    struct kos_strmap services; /* ns -> struct ns_map of selectors */
    struct kos_workqueue *queues[KOS_EP_INDEX_MAX_QUEUES];
    size_t nqueues;
};

static void entry_free(struct entry *e)
{
    if (!e)
        return;
    json_decref(e->value);
    free(e->labels);
    free(e->body);
    free(e->name);
    free(e);
}

static void ns_map_free(struct ns_map *m)
{
    const char *k;
    void *v;
    for (size_t i = 0; kos_strmap_next(&m->items, &i, &k, &v);) {
        entry_free(v);
    }
    kos_strmap_free(&m->items);
    free(m->ns);
    free(m);
}

static void maps_free(struct kos_strmap *maps)
{
    const char *k;
    void *v;
    for (size_t i = 0; kos_strmap_next(maps, &i, &k, &v);)
        ns_map_free(v);
    kos_strmap_free(maps);
}

/* Sets ns/name to e (taken; e->name is the key) or, with e NULL, removes it; returns the
 * previous entry (the caller's to free) or NULL. On allocation failure e is freed and the map
 * is left as it was. Under lock. */
static struct entry *put(struct kos_strmap *maps, const char *ns, const char *name, struct entry *e)
{
    struct ns_map *m = kos_strmap_get(maps, ns);
    if (!m) {
        if (!e)
            return NULL;
        m = calloc(1, sizeof(*m));
        if (!m || !(m->ns = strdup(ns)) || kos_strmap_put(maps, m->ns, m) < 0) {
            if (m)
                free(m->ns);
            free(m);
            entry_free(e);
            return NULL;
        }
    }
    struct entry *old = kos_strmap_get(&m->items, name);
    if (e) {
        /* replacing a key keeps the slot, which then points at the new entry's name */
        if (kos_strmap_put(&m->items, e->name, e) < 0) {
            entry_free(e);
            return NULL;
        }
        return old;
    }
    if (old) {
        kos_strmap_remove(&m->items, name);
        if (m->items.len == 0) {
            kos_strmap_remove(maps, ns);
            kos_strmap_free(&m->items);
            free(m->ns);
            free(m);
        }
    }
    return old;
}

static struct entry *entry_named(const char *name)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (e && !(e->name = strdup(name))) {
        free(e);
        return NULL;
    }
    return e;
}

static void queue_key(struct kos_ep_index *idx, const char *ns, const char *name)
{
    char key[512];
    if (snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
        return;
    for (size_t i = 0; i < idx->nqueues; i++)
        kos_workqueue_add(idx->queues[i], key);
}

/* The value of key among packed labels, or NULL. */
static const char *packed_label(const char *labels, size_t n, const char *key)
{
    const char *p = labels;
    for (size_t i = 0; i < n; i++) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, key) == 0)
            return v;
        p = v + strlen(v) + 1;
    }
    return NULL;
}

/* kos_ep_selector_matches against packed labels. */
static bool selects(const json_t *selector, const struct entry *pod)
{
    if (!json_is_object(selector) || json_object_size(selector) == 0)
        return false;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)selector, k, v)
    {
        const char *have = packed_label(pod->labels, pod->n_labels, k);
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

/* Queues the Services of ns whose selector picks pod a or b. Under lock. */
static void queue_selecting(struct kos_ep_index *idx, const char *ns, const struct entry *a,
                            const struct entry *b)
{
    struct ns_map *m = kos_strmap_get(&idx->services, ns);
    if (!m)
        return;
    const char *k;
    void *v;
    for (size_t i = 0; kos_strmap_next(&m->items, &i, &k, &v);) {
        struct entry *e = v;
        if ((a && selects(e->value, a)) || (b && selects(e->value, b)))
            queue_key(idx, ns, e->name);
    }
}

/* The index's form of a pod: its trimmed form (build.h) with the labels packed apart and
 * resourceVersion dropped (no builder reads it, and it would make every status write look
 * like a change). NULL when out of memory or when a label value is not a string, which the
 * API server does not store. */
static struct entry *pod_entry(const json_t *obj, const char *name)
{
    _cleanup_json_ json_t *trim = kos_ep_trim_pod(obj);
    json_t *meta = json_object_get(trim, "metadata");
    if (!meta)
        return NULL;
    const json_t *labels = json_object_get(meta, "labels");
    struct entry *e = entry_named(name);
    if (!e)
        return NULL;
    size_t size = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v)) {
            entry_free(e);
            return NULL;
        }
        size += strlen(k) + json_string_length(v) + 2;
    }
    if (size && !(e->labels = malloc(size))) {
        entry_free(e);
        return NULL;
    }
    char *p = e->labels;
    json_object_foreach((json_t *)labels, k, v)
    {
        size_t kn = strlen(k) + 1, vn = json_string_length(v) + 1;
        memcpy(p, k, kn);
        memcpy(p + kn, json_string_value(v), vn);
        p += kn + vn;
        e->n_labels++;
    }
    e->labels_size = size;
    json_object_del(meta, "labels");
    json_object_del(meta, "resourceVersion");
    /* sorted keys: equal trimmed pods give equal bytes */
    if (!(e->body = kos_json_encode_sorted(trim, NULL))) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* The trimmed pod again, as kos_ep_trim_pod made it (resourceVersion aside). */
static json_t *pod_json(const struct entry *e)
{
    _cleanup_json_ json_t *obj = json_loads(e->body, 0, NULL);
    json_t *meta = json_object_get(obj, "metadata");
    if (!meta || json_object_set_new(meta, "labels", json_object()) < 0)
        return NULL;
    json_t *labels = json_object_get(meta, "labels");
    const char *p = e->labels;
    for (size_t i = 0; i < e->n_labels; i++) {
        const char *v = p + strlen(p) + 1;
        if (json_object_set_new(labels, p, json_string(v)) < 0)
            return NULL;
        p = v + strlen(v) + 1;
    }
    return TAKE_PTR(obj);
}

static bool same_pod(const struct entry *a, const struct entry *b)
{
    return a->labels_size == b->labels_size && strcmp(a->body, b->body) == 0 &&
           (a->labels_size == 0 || memcmp(a->labels, b->labels, a->labels_size) == 0);
}

static void pod_set(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    struct entry *e = pod_entry(obj, name);
    if (!e)
        return;
    pthread_mutex_lock(&idx->lock);
    struct entry *old = put(&idx->pods, ns, name, e);
    /* an unchanged trimmed pod (most status writes) changes no endpoints */
    if (!old || !same_pod(old, e))
        queue_selecting(idx, ns, e, old);
    pthread_mutex_unlock(&idx->lock);
    entry_free(old);
}

static void pod_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    pod_set(ctx, obj);
}

static void pod_delete(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    /* the deleted state's labels too, in case the index missed its last update */
    struct entry *gone = pod_entry(obj, name);
    pthread_mutex_lock(&idx->lock);
    struct entry *old = put(&idx->pods, ns, name, NULL);
    queue_selecting(idx, ns, gone, old);
    pthread_mutex_unlock(&idx->lock);
    entry_free(old);
    entry_free(gone);
}

static void svc_set(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    json_t *sel = json_object_get(json_object_get(obj, "spec"), "selector");
    struct entry *e = entry_named(name);
    if (!e || !(e->value = json_is_object(sel) ? json_deep_copy(sel) : json_object())) {
        entry_free(e);
        return;
    }
    pthread_mutex_lock(&idx->lock);
    entry_free(put(&idx->services, ns, name, e));
    queue_key(idx, ns, name);
    pthread_mutex_unlock(&idx->lock);
}

static void svc_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    svc_set(ctx, obj);
}

static void svc_delete(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    pthread_mutex_lock(&idx->lock);
    entry_free(put(&idx->services, ns, name, NULL));
    queue_key(idx, ns, name);
    pthread_mutex_unlock(&idx->lock);
}

int kos_ep_index_new(struct kos_informer *pods, struct kos_informer *services,
                     struct kos_ep_index **ret)
{
    struct kos_ep_index *idx = calloc(1, sizeof(*idx));
    if (!idx)
        return -ENOMEM;
    pthread_mutex_init(&idx->lock, NULL);
    struct kos_informer_handlers ph = {.on_add = pod_set,
                                       .on_update = pod_update,
                                       .on_delete = pod_delete,
                                       .ctx = idx,
                                       .ignores_old = true};
    struct kos_informer_handlers sh = {.on_add = svc_set,
                                       .on_update = svc_update,
                                       .on_delete = svc_delete,
                                       .ctx = idx,
                                       .ignores_old = true};
    int r = kos_informer_add_handlers(pods, &ph);
    if (r == 0)
        r = kos_informer_add_handlers(services, &sh);
    if (r < 0) {
        kos_ep_index_free(idx);
        return r;
    }
    *ret = idx;
    return 0;
}

void kos_ep_index_free(struct kos_ep_index *idx)
{
    if (!idx)
        return;
    maps_free(&idx->pods);
    maps_free(&idx->services);
    pthread_mutex_destroy(&idx->lock);
    free(idx);
}

int kos_ep_index_subscribe(struct kos_ep_index *idx, struct kos_workqueue *q)
{
    if (idx->nqueues >= KOS_EP_INDEX_MAX_QUEUES)
        return -ENOSPC;
    idx->queues[idx->nqueues++] = q;
    return 0;
}

json_t *kos_ep_index_select(struct kos_ep_index *idx, const char *ns, const json_t *selector)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    pthread_mutex_lock(&idx->lock);
    struct ns_map *m = kos_strmap_get(&idx->pods, ns);
    const char *k;
    void *v;
    for (size_t i = 0; m && kos_strmap_next(&m->items, &i, &k, &v);) {
        struct entry *e = v;
        if (selects(selector, e) && json_array_append_new(out, pod_json(e)) < 0) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&idx->lock);
    return out;
}

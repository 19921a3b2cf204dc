#include "controllers/endpoints/index.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/endpoints/build.h"
#include "util/strmap.h"
#include "util/strutil.h"

/* One entry of a namespace's map: its key string is owned here. */
struct entry {
    char *name;
    json_t *value; /* a trimmed pod, or a Service's selector */
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

static void ns_map_free(struct ns_map *m)
{
    const char *k;
    void *v;
    for (size_t i = 0; kos_strmap_next(&m->items, &i, &k, &v);) {
        struct entry *e = v;
        json_decref(e->value);
        free(e->name);
        free(e);
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

/* Sets (value non-NULL, reference taken) or removes ns/name; returns the previous value (the
 * caller's reference) or NULL. Under lock. */
static json_t *put(struct kos_strmap *maps, const char *ns, const char *name, json_t *value)
{
    struct ns_map *m = kos_strmap_get(maps, ns);
    if (!m) {
        if (!value)
            return NULL;
        m = calloc(1, sizeof(*m));
        if (!m || !(m->ns = strdup(ns)) || kos_strmap_put(maps, m->ns, m) < 0) {
            if (m)
                free(m->ns);
            free(m);
            json_decref(value);
            return NULL;
        }
    }
    struct entry *e = kos_strmap_get(&m->items, name);
    json_t *old = e ? e->value : NULL;
    if (value && e) {
        e->value = value;
    } else if (value) {
        e = calloc(1, sizeof(*e));
        if (!e || !(e->name = strdup(name)) || kos_strmap_put(&m->items, e->name, e) < 0) {
            if (e)
                free(e->name);
            free(e);
            json_decref(value);
        } else {
            e->value = value;
        }
    } else if (e) {
        kos_strmap_remove(&m->items, name);
        free(e->name);
        free(e);
        if (m->items.len == 0) {
            kos_strmap_remove(maps, ns);
            kos_strmap_free(&m->items);
            free(m->ns);
            free(m);
        }
    }
    return old;
}

static void queue_key(struct kos_ep_index *idx, const char *ns, const char *name)
{
    char key[512];
    if (snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
        return;
    for (size_t i = 0; i < idx->nqueues; i++)
        kos_workqueue_add(idx->queues[i], key);
}

/* Queues the Services of ns whose selector picks labels a or b. Under lock. */
static void queue_selecting(struct kos_ep_index *idx, const char *ns, const json_t *a,
                            const json_t *b)
{
    struct ns_map *m = kos_strmap_get(&idx->services, ns);
    if (!m)
        return;
    const char *k;
    void *v;
    for (size_t i = 0; kos_strmap_next(&m->items, &i, &k, &v);) {
        struct entry *e = v;
        if ((a && kos_ep_selector_matches(e->value, a)) ||
            (b && kos_ep_selector_matches(e->value, b)))
            queue_key(idx, ns, e->name);
    }
}

static const json_t *labels_of(const json_t *pod)
{
    return json_object_get(json_object_get(pod, "metadata"), "labels");
}

static void pod_set(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    json_t *trim = kos_ep_trim_pod(obj);
    if (!trim)
        return;
    pthread_mutex_lock(&idx->lock);
    json_incref(trim);
    json_t *old = put(&idx->pods, ns, name, trim);
    /* resourceVersion aside, an unchanged trimmed pod changes no endpoints */
    bool same = false;
    if (old) {
        json_t *a = json_deep_copy(old), *b = json_deep_copy(trim);
        if (a && b) {
            json_object_del(json_object_get(a, "metadata"), "resourceVersion");
            json_object_del(json_object_get(b, "metadata"), "resourceVersion");
            same = json_equal(a, b);
        }
        json_decref(a);
        json_decref(b);
    }
    if (!same)
        queue_selecting(idx, ns, labels_of(trim), old ? labels_of(old) : NULL);
    pthread_mutex_unlock(&idx->lock);
    json_decref(old);
    json_decref(trim);
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
    pthread_mutex_lock(&idx->lock);
    json_t *old = put(&idx->pods, ns, name, NULL);
    queue_selecting(idx, ns, labels_of(obj), old ? labels_of(old) : NULL);
    pthread_mutex_unlock(&idx->lock);
    json_decref(old);
}

static void svc_set(void *ctx, const json_t *obj)
{
    struct kos_ep_index *idx = ctx;
    const char *ns = ctl_meta_str(obj, "namespace"), *name = ctl_meta_str(obj, "name");
    if (!ns || !name)
        return;
    json_t *sel = json_object_get(json_object_get(obj, "spec"), "selector");
    json_t *copy = json_is_object(sel) ? json_deep_copy(sel) : json_object();
    if (!copy)
        return;
    pthread_mutex_lock(&idx->lock);
    json_decref(put(&idx->services, ns, name, copy));
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
    json_decref(put(&idx->services, ns, name, NULL));
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
        if (kos_ep_selector_matches(selector, labels_of(e->value)))
            json_array_append(out, e->value);
    }
    pthread_mutex_unlock(&idx->lock);
    return out;
}

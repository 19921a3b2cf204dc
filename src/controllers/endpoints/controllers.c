#include "controllers/endpoints/controllers.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/endpoints/build.h"
#include "controllers/workqueue.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"

#define WORKERS        4
#define RETRY_DELAY_MS 1000
#define MANAGED_BY     "endpointslice-controller.k8s.io"
#define LABEL_SERVICE  "kubernetes.io/service-name"
#define LABEL_MANAGED  "endpointslice.kubernetes.io/managed-by"
#define LABEL_HEADLESS "service.kubernetes.io/headless"

struct kos_ep_controller {
    enum kos_ep_controller_kind kind;
    struct kos_client *client;
    struct kos_informer *services;
    struct kos_informer *owned;
    /* slices: "ns/service" -> { slice name -> the slice as last seen or written }, so a sync
     * neither lists nor misses a slice it just made that the informer has not shown yet */
    pthread_mutex_t slices_lock;
    json_t *slices;
    struct kos_ep_index *idx;
    struct kos_workqueue *queue;
    pthread_t workers[WORKERS];
    size_t nworkers;
};

static bool headless(const json_t *svc)
{
    const char *cip = json_string_value(json_object_get(json_object_get(svc, "spec"), "clusterIP"));
    return cip && strcmp(cip, "None") == 0;
}

/* The Service's labels plus what the controller adds. */
static json_t *labels_for(const json_t *svc, bool slice)
{
    const json_t *l = json_object_get(json_object_get(svc, "metadata"), "labels");
    json_t *out = json_is_object(l) ? json_deep_copy(l) : json_object();
    if (!out)
        return NULL;
    if (headless(svc))
        json_object_set_new(out, LABEL_HEADLESS, json_string(""));
    if (slice) {
        json_object_set_new(out, LABEL_SERVICE, json_string(ctl_meta_str(svc, "name")));
        json_object_set_new(out, LABEL_MANAGED, json_string(MANAGED_BY));
    }
    return out;
}

/* ---- Endpoints ------------------------------------------------------------------------- */

static int sync_endpoints(struct kos_ep_controller *ec, const char *ns, const char *name,
                          const json_t *svc)
{
    struct kos_ref ref = {
        .kind = kos_kind_by_resource("", "v1", "endpoints"), .ns = ns, .name = name};
    if (!svc) {
        int r = kos_client_delete(ec->client, &ref, NULL, NULL, NULL);
        return r == -ENOENT ? 0 : r;
    }
    const json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
    if (!json_is_object(sel) || json_object_size(sel) == 0)
        return 0; /* managed by hand */
    _cleanup_json_ json_t *pods = kos_ep_index_select(ec->idx, ns, sel);
    _cleanup_json_ json_t *subsets = pods ? kos_ep_build_subsets(svc, pods) : NULL;
    _cleanup_json_ json_t *labels = labels_for(svc, false);
    if (!subsets || !labels)
        return -ENOMEM;
    json_t *cached = kos_informer_get(ec->owned, ns, name);
    _cleanup_json_ json_t *cur = cached ? json_deep_copy(cached) : NULL;
    json_decref(cached);
    int r = cur ? 0 : -ENOENT;
    if (r == -ENOENT) {
        _cleanup_json_ json_t *obj = json_pack(
            "{s:s, s:s, s:{s:s, s:s, s:O}, s:O}", "apiVersion", "v1", "kind", "Endpoints",
            "metadata", "name", name, "namespace", ns, "labels", labels, "subsets", subsets);
        if (!obj)
            return -ENOMEM;
        r = kos_client_create(ec->client, &ref, obj, NULL, NULL);
        return r == -EEXIST ? -EAGAIN : r; /* someone made it meanwhile: look again */
    }
    if (r < 0)
        return r;
    json_t *meta = json_object_get(cur, "metadata");
    const json_t *have = json_object_get(cur, "subsets");
    bool same_subsets = have ? json_equal(have, subsets) : json_array_size(subsets) == 0;
    if (same_subsets && json_equal(json_object_get(meta, "labels"), labels))
        return 0;
    json_object_set(cur, "subsets", subsets);
    json_object_set(meta, "labels", labels);
    json_object_del(meta, "managedFields");
    r = kos_client_update(ec->client, &ref, cur, NULL, NULL);
    return r;
}

/* ---- EndpointSlices -------------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    const char *x = ctl_meta_str(*(json_t *const *)a, "name");
    const char *y = ctl_meta_str(*(json_t *const *)b, "name");
    return strcmp(x ? x : "", y ? y : "");
}

static json_t *owner_ref(const json_t *svc)
{
    return json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "v1", "kind", "Service",
                     "name", ctl_meta_str(svc, "name"), "uid", ctl_meta_str(svc, "uid") ?: "",
                     "controller", 1, "blockOwnerDeletion", 1);
}

static bool slice_same(const json_t *have, const json_t *want, const json_t *labels)
{
    const json_t *hp = json_object_get(have, "ports"), *wp = json_object_get(want, "ports");
    bool ports_same =
        (json_array_size(hp) == 0 && json_array_size(wp) == 0) || (hp && wp && json_equal(hp, wp));
    const json_t *he = json_object_get(have, "endpoints"), *we = json_object_get(want, "endpoints");
    bool eps_same =
        (json_array_size(he) == 0 && json_array_size(we) == 0) || (he && we && json_equal(he, we));
    return ports_same && eps_same &&
           json_equal(json_object_get(json_object_get(have, "metadata"), "labels"), labels);
}

/* Records a slice this controller manages (gone: forgets it). */
static void slice_seen(struct kos_ep_controller *ec, const json_t *slice, bool gone)
{
    const json_t *labels = json_object_get(json_object_get(slice, "metadata"), "labels");
    const char *svc = json_string_value(json_object_get(labels, LABEL_SERVICE));
    const char *by = json_string_value(json_object_get(labels, LABEL_MANAGED));
    const char *ns = ctl_meta_str(slice, "namespace"), *name = ctl_meta_str(slice, "name");
    char key[512];
    if (!svc || !by || strcmp(by, MANAGED_BY) != 0 || !ns || !name ||
        snprintf(key, sizeof(key), "%s/%s", ns, svc) >= (int)sizeof(key))
        return;
    pthread_mutex_lock(&ec->slices_lock);
    json_t *set = json_object_get(ec->slices, key);
    if (gone) {
        json_object_del(set, name);
        if (set && json_object_size(set) == 0)
            json_object_del(ec->slices, key);
    } else {
        if (!set && (set = json_object()) && json_object_set_new(ec->slices, key, set) < 0)
            set = NULL;
        json_t *copy = json_deep_copy(slice);
        if (set && copy)
            json_object_set_new(set, name, copy);
        else
            json_decref(copy);
    }
    pthread_mutex_unlock(&ec->slices_lock);
}

/* The slices of "ns/service" as an array of copies (the caller may change them). */
static json_t *known_slices(struct kos_ep_controller *ec, const char *key)
{
    json_t *out = json_array();
    pthread_mutex_lock(&ec->slices_lock);
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(ec->slices, key), name, v)
    {
        if (out)
            json_array_append_new(out, json_deep_copy(v));
    }
    pthread_mutex_unlock(&ec->slices_lock);
    return out;
}

static void slice_add(void *ctx, const json_t *obj)
{
    slice_seen(ctx, obj, false);
}

static void slice_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    slice_seen(ctx, obj, false);
}

static void slice_delete(void *ctx, const json_t *obj)
{
    struct kos_ep_controller *ec = ctx;
    slice_seen(ec, obj, true);
    /* someone removed a slice the controller keeps: put it back */
    const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    const char *svc = json_string_value(json_object_get(labels, LABEL_SERVICE));
    const char *ns = ctl_meta_str(obj, "namespace");
    char key[512];
    if (svc && ns && snprintf(key, sizeof(key), "%s/%s", ns, svc) < (int)sizeof(key))
        kos_workqueue_add(ec->queue, key);
}

static int sync_slices(struct kos_ep_controller *ec, const char *ns, const char *name,
                       const json_t *svc)
{
    /* a deleted Service's slices go with it: the garbage collector follows their owner */
    if (!svc)
        return 0;
    const json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
    if (!json_is_object(sel) || json_object_size(sel) == 0)
        return 0;
    _cleanup_json_ json_t *pods = kos_ep_index_select(ec->idx, ns, sel);
    _cleanup_json_ json_t *want =
        pods ? kos_ep_build_slices(svc, pods, KOS_SLICE_MAX_ENDPOINTS) : NULL;
    _cleanup_json_ json_t *labels = labels_for(svc, true);
    if (!want || !labels)
        return -ENOMEM;
    struct kos_ref ref = {.kind = kos_kind_by_kind("discovery.k8s.io", "EndpointSlice"), .ns = ns};
    char skey[512];
    snprintf(skey, sizeof(skey), "%s/%s", ns, name);
    _cleanup_json_ json_t *items = known_slices(ec, skey);
    if (!items)
        return -ENOMEM;
    int r = 0;
    size_t nhave = json_array_size(items);
    _cleanup_free_ json_t **have = calloc(nhave ? nhave : 1, sizeof(*have));
    if (!have)
        return -ENOMEM;
    for (size_t i = 0; i < nhave; i++)
        have[i] = json_array_get(items, i);
    qsort(have, nhave, sizeof(*have), cmp_name);
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        if (i < nhave) {
            json_t *cur = have[i];
            if (slice_same(cur, w, labels))
                continue;
            json_t *ports = json_object_get(w, "ports");
            json_object_set(cur, "endpoints", json_object_get(w, "endpoints"));
            if (ports)
                json_object_set(cur, "ports", ports);
            else
                json_object_del(cur, "ports");
            json_object_set(json_object_get(cur, "metadata"), "labels", labels);
            json_object_del(json_object_get(cur, "metadata"), "managedFields");
            json_object_set_new(cur, "apiVersion", json_string("discovery.k8s.io/v1"));
            json_object_set_new(cur, "kind", json_string("EndpointSlice"));
            ref.name = ctl_meta_str(cur, "name");
            json_t *written = NULL;
            r = kos_client_update(ec->client, &ref, cur, &written, NULL);
            ref.name = NULL;
            if (r == 0)
                slice_seen(ec, written, false);
            json_decref(written);
            if (r < 0)
                return r;
            continue;
        }
        char gen[300];
        snprintf(gen, sizeof(gen), "%.56s-", name);
        _cleanup_json_ json_t *obj =
            json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:o}, s:s, s:O}", "apiVersion",
                      "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "generateName",
                      gen, "namespace", ns, "labels", labels, "ownerReferences", owner_ref(svc),
                      "addressType", "IPv4", "endpoints", json_object_get(w, "endpoints"));
        if (!obj)
            return -ENOMEM;
        if (json_object_get(w, "ports"))
            json_object_set(obj, "ports", json_object_get(w, "ports"));
        json_t *made = NULL;
        r = kos_client_create(ec->client, &ref, obj, &made, NULL);
        if (r == 0)
            slice_seen(ec, made, false);
        json_decref(made);
        if (r < 0)
            return r;
    }
    for (i = json_array_size(want); i < nhave; i++) {
        ref.name = ctl_meta_str(have[i], "name");
        r = kos_client_delete(ec->client, &ref, NULL, NULL, NULL);
        ref.name = NULL;
        if (r < 0 && r != -ENOENT)
            return r;
        slice_seen(ec, have[i], true);
    }
    return 0;
}

/* ---- workers --------------------------------------------------------------------------- */

static int sync_key(struct kos_ep_controller *ec, const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash)
        return 0;
    char ns[256];
    snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
    const char *name = slash + 1;
    _cleanup_json_ json_t *svc = kos_informer_get(ec->services, ns, name);
    return ec->kind == KOS_EP_ENDPOINTS ? sync_endpoints(ec, ns, name, svc)
                                        : sync_slices(ec, ns, name, svc);
}

static void *run(void *arg)
{
    struct kos_ep_controller *ec = arg;
    kos_informer_wait_synced(ec->services, 30000);
    kos_informer_wait_synced(ec->owned, 30000);
    for (;;) {
        char *key = NULL;
        int r = kos_workqueue_get(ec->queue, -1, &key);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = sync_key(ec, key);
        if (r < 0) {
            log_debug(ec->kind == KOS_EP_ENDPOINTS ? "endpoints" : "endpointslices",
                      "service %s: %s; retrying", key, strerror(-r));
            kos_workqueue_add_after(ec->queue, key,
                                    r == -EAGAIN || r == -ECANCELED ? 10 : RETRY_DELAY_MS);
        }
        kos_workqueue_done(ec->queue, key);
        free(key);
    }
    return NULL;
}

int kos_ep_controller_new(enum kos_ep_controller_kind kind, struct kos_client *c,
                          struct kos_informer *services, struct kos_informer *owned,
                          struct kos_ep_index *idx, struct kos_ep_controller **ret)
{
    struct kos_ep_controller *ec = calloc(1, sizeof(*ec));
    if (!ec)
        return -ENOMEM;
    *ec = (struct kos_ep_controller){
        .kind = kind, .client = c, .services = services, .owned = owned, .idx = idx};
    pthread_mutex_init(&ec->slices_lock, NULL);
    ec->slices = json_object();
    int r = ec->slices ? kos_workqueue_new(&ec->queue) : -ENOMEM;
    if (r == 0)
        r = kos_ep_index_subscribe(idx, ec->queue);
    if (r == 0 && kind == KOS_EP_ENDPOINTSLICES) {
        struct kos_informer_handlers h = {.on_add = slice_add,
                                          .on_update = slice_update,
                                          .on_delete = slice_delete,
                                          .ctx = ec,
                                          .ignores_old = true};
        r = kos_informer_add_handlers(owned, &h);
    }
    if (r < 0) {
        kos_ep_controller_free(ec);
        return r;
    }
    *ret = ec;
    return 0;
}

int kos_ep_controller_start(struct kos_ep_controller *ec)
{
    for (size_t i = 0; i < WORKERS; i++) {
        int r = pthread_create(&ec->workers[i], NULL, run, ec);
        if (r != 0)
            return -r;
        ec->nworkers++;
    }
    return 0;
}

void kos_ep_controller_stop(struct kos_ep_controller *ec)
{
    if (!ec)
        return;
    kos_workqueue_shutdown(ec->queue);
    for (size_t i = 0; i < ec->nworkers; i++)
        pthread_join(ec->workers[i], NULL);
    ec->nworkers = 0;
}

void kos_ep_controller_free(struct kos_ep_controller *ec)
{
    if (!ec)
        return;
    if (ec->queue)
        kos_ep_controller_stop(ec);
    kos_workqueue_free(ec->queue);
    json_decref(ec->slices);
    pthread_mutex_destroy(&ec->slices_lock);
    free(ec);
}

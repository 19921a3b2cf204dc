/* The namespace controller's worker: one pass deletes what is left in a terminating
 * namespace; while something remains the namespace is looked at again after a growing delay
 * (content with finalizers or grace periods takes its time); once it is empty, the
 * "kubernetes" finalizer is removed and the namespace deleted. */
#include "controllers/namespace.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

#define FINALIZER_KUBERNETES "kubernetes"
#define DELAY_MIN_MS         100
#define DELAY_MAX_MS         5000

struct kos_namespace_controller {
    struct kos_client *client;
    struct kos_event_recorder *events;
    struct kos_workqueue *queue;
    pthread_mutex_t lock;
    json_t *delays; /* namespace -> next re-check delay (ms) */
    pthread_t worker;
    bool started;
};

static void on_change(void *ctx, const json_t *obj)
{
    struct kos_namespace_controller *nc = ctx;
    const char *name = ctl_meta_str(obj, "name");
    if (name && ctl_meta_str(obj, "deletionTimestamp"))
        kos_workqueue_add(nc->queue, name);
}

static void on_add(void *ctx, const json_t *obj)
{
    on_change(ctx, obj);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    on_change(ctx, obj);
}

/* Deletes what is in namespace ns of one kind; adds to *remaining what is still there
 * (being deleted) and to *deleted what this pass asked to delete. */
static int empty_kind(struct kos_namespace_controller *nc, const struct kos_kind *k, const char *ns,
                      size_t *remaining, size_t *deleted)
{
    struct kos_ref ref = {.kind = k, .ns = ns};
    _cleanup_json_ json_t *list = NULL;
    int r = kos_client_list(nc->client, &ref, NULL, &list, NULL);
    if (r < 0)
        return r;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(list, "items"), i, item)
    {
        const char *name = ctl_meta_str(item, "name");
        if (!name)
            continue;
        if (ctl_meta_str(item, "deletionTimestamp")) {
            (*remaining)++;
            continue;
        }
        struct kos_ref one = {.kind = k, .ns = ns, .name = name};
        struct kos_delete_options o = {.precondition_uid = ctl_meta_str(item, "uid")};
        _cleanup_json_ json_t *answer = NULL;
        r = kos_client_delete(nc->client, &one, &o, &answer, NULL);
        if (r == -ENOENT || r == -ECANCELED)
            continue;
        if (r < 0)
            return r;
        (*deleted)++;
        /* Still there when the answer is the object itself, marked for deletion. */
        if (kos_streq_null(json_string_value(json_object_get(answer, "kind")), k->kind) &&
            ctl_meta_str(answer, "deletionTimestamp")) {
            struct kos_ref again = one;
            if (kos_client_get(nc->client, &again, NULL, NULL) == 0)
                (*remaining)++;
        }
    }
    return 0;
}

static int next_delay(struct kos_namespace_controller *nc, const char *ns)
{
    pthread_mutex_lock(&nc->lock);
    json_int_t d = json_integer_value(json_object_get(nc->delays, ns));
    d = d <= 0 ? DELAY_MIN_MS : (d * 2 > DELAY_MAX_MS ? DELAY_MAX_MS : d * 2);
    json_object_set_new(nc->delays, ns, json_integer(d));
    pthread_mutex_unlock(&nc->lock);
    return (int)d;
}

static void forget_delay(struct kos_namespace_controller *nc, const char *ns)
{
    pthread_mutex_lock(&nc->lock);
    json_object_del(nc->delays, ns);
    pthread_mutex_unlock(&nc->lock);
}

static int process(struct kos_namespace_controller *nc, const char *name)
{
    const struct kos_kind *ns_kind = kos_kind_by_kind("", "Namespace");
    struct kos_ref ref = {.kind = ns_kind, .name = name};
    _cleanup_json_ json_t *ns = NULL;
    int r = kos_client_get(nc->client, &ref, &ns, NULL);
    if (r == -ENOENT || (r == 0 && !ctl_meta_str(ns, "deletionTimestamp"))) {
        forget_delay(nc, name);
        return 0;
    }
    if (r < 0)
        return r;
    if (ctl_has_finalizer(ns, FINALIZER_KUBERNETES, true)) {
        size_t remaining = 0, deleted = 0, count = 0;
        const struct kos_kind *const *all = kos_kinds_all(&count);
        for (size_t i = 0; i < count; i++) {
            const struct kos_kind *k = all[i];
            if (!k->namespaced ||
                (k->verbs & (VERB_LIST | VERB_DELETE)) != (VERB_LIST | VERB_DELETE))
                continue;
            r = empty_kind(nc, k, name, &remaining, &deleted);
            if (r < 0)
                return r;
        }
        if (deleted > 0) {
            log_info("namespace", "namespace %s: deleting %zu objects", name, deleted);
            if (nc->events)
                kos_event_record(nc->events, ns, KOS_EVENT_NORMAL, "DeletingContent",
                                 "Deleting %zu objects in namespace %s", deleted, name);
        }
        if (remaining > 0) {
            kos_workqueue_add_after(nc->queue, name, next_delay(nc, name));
            return 0;
        }
        r = ctl_remove_finalizer(nc->client, ns, FINALIZER_KUBERNETES, true);
        if (r < 0)
            return r;
    }
    /* Empty: the last DELETE removes it (unless metadata.finalizers still hold it). */
    struct kos_delete_options o = {.precondition_uid = ctl_meta_str(ns, "uid")};
    r = kos_client_delete(nc->client, &ref, &o, NULL, NULL);
    if (r == -ENOENT)
        r = 0;
    if (r == 0) {
        forget_delay(nc, name);
        log_info("namespace", "namespace %s: empty, finalized", name);
    }
    return r;
}

static void *run(void *arg)
{
    struct kos_namespace_controller *nc = arg;
    for (;;) {
        char *name = NULL;
        int r = kos_workqueue_get(nc->queue, -1, &name);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = process(nc, name);
        if (r < 0) {
            log_debug("namespace", "namespace %s: %s; retrying", name, strerror(-r));
            kos_workqueue_add_after(nc->queue, name, next_delay(nc, name));
        }
        kos_workqueue_done(nc->queue, name);
        free(name);
    }
    return NULL;
}

int kos_namespace_controller_new(struct kos_client *c, struct kos_informer *namespaces,
                                 struct kos_event_recorder *rec,
                                 struct kos_namespace_controller **ret)
{
    struct kos_namespace_controller *nc = calloc(1, sizeof(*nc));
    if (!nc)
        return -ENOMEM;
    nc->client = c;
    nc->events = rec;
    pthread_mutex_init(&nc->lock, NULL);
    nc->delays = json_object();
    int r = nc->delays ? kos_workqueue_new(&nc->queue) : -ENOMEM;
    struct kos_informer_handlers h = {.on_add = on_add, .on_update = on_update, .ctx = nc};
    if (r == 0)
        r = kos_informer_add_handlers(namespaces, &h);
    if (r < 0) {
        kos_namespace_controller_free(nc);
        return r;
    }
    *ret = nc;
    return 0;
}

int kos_namespace_controller_start(struct kos_namespace_controller *nc)
{
    int r = pthread_create(&nc->worker, NULL, run, nc);
    if (r != 0)
        return -r;
    nc->started = true;
    return 0;
}

void kos_namespace_controller_stop(struct kos_namespace_controller *nc)
{
    kos_workqueue_shutdown(nc->queue);
    if (nc->started) {
        pthread_join(nc->worker, NULL);
        nc->started = false;
    }
}

void kos_namespace_controller_free(struct kos_namespace_controller *nc)
{
    if (!nc)
        return;
    if (nc->queue)
        kos_namespace_controller_stop(nc);
    kos_workqueue_free(nc->queue);
    json_decref(nc->delays);
    pthread_mutex_destroy(&nc->lock);
    free(nc);
}

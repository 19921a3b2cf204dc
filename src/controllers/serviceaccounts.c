#include "controllers/serviceaccounts.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "util/json_cleanup.h"
#include "util/log.h"

#define DEFAULT_SA     "default"
#define RETRY_DELAY_MS 1000

struct kos_sa_controller {
    struct kos_client *client;
    struct kos_informer *namespaces;
    struct kos_informer *serviceaccounts;
    struct kos_workqueue *queue;
    pthread_t worker;
    bool started;
};

static void ns_add(void *ctx, const json_t *obj)
{
    struct kos_sa_controller *sc = ctx;
    const char *name = ctl_meta_str(obj, "name");
    if (name)
        kos_workqueue_add(sc->queue, name);
}

static void ns_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    ns_add(ctx, obj);
}

static void sa_delete(void *ctx, const json_t *obj)
{
    struct kos_sa_controller *sc = ctx;
    const char *name = ctl_meta_str(obj, "name");
    const char *ns = ctl_meta_str(obj, "namespace");
    if (name && ns && strcmp(name, DEFAULT_SA) == 0)
        kos_workqueue_add(sc->queue, ns);
}

static int process(struct kos_sa_controller *sc, const char *name)
{
    _cleanup_json_ json_t *ns = kos_informer_get(sc->namespaces, NULL, name);
    if (!ns || ctl_meta_str(ns, "deletionTimestamp"))
        return 0; /* gone or terminating: nothing may be created in it */
    _cleanup_json_ json_t *have = kos_informer_get(sc->serviceaccounts, name, DEFAULT_SA);
    if (have)
        return 0;
    _cleanup_json_ json_t *obj =
        json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                  "metadata", "name", DEFAULT_SA, "namespace", name);
    if (!obj)
        return -ENOMEM;
    struct kos_ref ref = {.kind = kos_kind_by_resource("", "v1", "serviceaccounts"), .ns = name};
    int r = kos_client_create(sc->client, &ref, obj, NULL, NULL);
    /* exists (the cache lags) or the namespace began terminating meanwhile: done */
    if (r == -EEXIST || r == -EACCES || r == -EPERM)
        return 0;
    return r;
}

static void *run(void *arg)
{
    struct kos_sa_controller *sc = arg;
    kos_informer_wait_synced(sc->serviceaccounts, 30000);
    for (;;) {
        char *name = NULL;
        int r = kos_workqueue_get(sc->queue, -1, &name);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = process(sc, name);
        if (r < 0) {
            log_debug("serviceaccounts", "namespace %s: %s; retrying", name, strerror(-r));
            kos_workqueue_add_after(sc->queue, name, RETRY_DELAY_MS);
        }
        kos_workqueue_done(sc->queue, name);
        free(name);
    }
    return NULL;
}

int kos_sa_controller_new(struct kos_client *c, struct kos_informer *namespaces,
                          struct kos_informer *serviceaccounts, struct kos_sa_controller **ret)
{
    struct kos_sa_controller *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return -ENOMEM;
    sc->client = c;
    sc->namespaces = namespaces;
    sc->serviceaccounts = serviceaccounts;
    int r = kos_workqueue_new(&sc->queue);
    struct kos_informer_handlers nh = {.on_add = ns_add, .on_update = ns_update, .ctx = sc};
    struct kos_informer_handlers sh = {.on_delete = sa_delete, .ctx = sc};
    if (r == 0)
        r = kos_informer_add_handlers(namespaces, &nh);
    if (r == 0)
        r = kos_informer_add_handlers(serviceaccounts, &sh);
    if (r < 0) {
        kos_sa_controller_free(sc);
        return r;
    }
    *ret = sc;
    return 0;
}

int kos_sa_controller_start(struct kos_sa_controller *sc)
{
    int r = pthread_create(&sc->worker, NULL, run, sc);
    if (r != 0)
        return -r;
    sc->started = true;
    return 0;
}

void kos_sa_controller_stop(struct kos_sa_controller *sc)
{
    kos_workqueue_shutdown(sc->queue);
    if (sc->started) {
        pthread_join(sc->worker, NULL);
        sc->started = false;
    }
}

void kos_sa_controller_free(struct kos_sa_controller *sc)
{
    if (!sc)
        return;
    if (sc->queue)
        kos_sa_controller_stop(sc);
    kos_workqueue_free(sc->queue);
    free(sc);
}

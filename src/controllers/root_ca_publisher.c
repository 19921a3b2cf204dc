/* The root CA publisher: see root_ca_publisher.h. */
#include "controllers/root_ca_publisher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "util/json_cleanup.h"
#include "util/log.h"

#define RETRY_DELAY_MS 1000
/* the annotation kube's publisher sets */
#define DESCRIPTION                                                                                \
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "      \
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "      \
    "guaranteed across distributions of Kubernetes clusters."

struct kos_root_ca_publisher {
    struct kos_client *client;
    struct kos_informer *namespaces;
    struct kos_informer *configmaps;
    char *ca_pem;
    struct kos_workqueue *queue;
    pthread_t worker;
    bool started;
};

static void ns_add(void *ctx, const json_t *obj)
{
    struct kos_root_ca_publisher *p = ctx;
    const char *name = ctl_meta_str(obj, "name");
    if (name)
        kos_workqueue_add(p->queue, name);
}

static void ns_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    (void)old_obj;
    ns_add(ctx, obj);
}

static void cm_changed(void *ctx, const json_t *obj)
{
    struct kos_root_ca_publisher *p = ctx;
    const char *name = ctl_meta_str(obj, "name");
    const char *ns = ctl_meta_str(obj, "namespace");
    if (name && ns && strcmp(name, KOS_ROOT_CA_CONFIGMAP) == 0)
        kos_workqueue_add(p->queue, ns);
}

static void cm_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    (void)old_obj;
    cm_changed(ctx, obj);
}

static const struct kos_kind *cm_kind(void)
{
    return kos_kind_by_resource("", "v1", "configmaps");
}

static int process(struct kos_root_ca_publisher *p, const char *ns_name)
{
    _cleanup_json_ json_t *ns = kos_informer_get(p->namespaces, NULL, ns_name);
    if (!ns || ctl_meta_str(ns, "deletionTimestamp"))
        return 0; /* gone or terminating: nothing may be created in it */
    struct kos_ref ref = {.kind = cm_kind(), .ns = ns_name, .name = KOS_ROOT_CA_CONFIGMAP};
    _cleanup_json_ json_t *cur = NULL;
    int r = kos_client_get(p->client, &ref, &cur, NULL);
    if (r < 0 && r != -ENOENT)
        return r;
    const json_t *data = json_object_get(cur, "data");
    const char *have = json_string_value(json_object_get(data, "ca.crt"));
    const char *desc = json_string_value(
        json_object_get(json_object_get(json_object_get(cur, "metadata"), "annotations"),
                        "kubernetes.io/description"));
    if (cur && json_object_size(data) == 1 && have && strcmp(have, p->ca_pem) == 0 && desc &&
        strcmp(desc, DESCRIPTION) == 0)
        return 0;
    _cleanup_json_ json_t *obj = NULL;
    if (!cur) {
        obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                        "ConfigMap", "metadata", "name", KOS_ROOT_CA_CONFIGMAP, "namespace",
                        ns_name, "annotations", "kubernetes.io/description", DESCRIPTION, "data",
                        "ca.crt", p->ca_pem);
        if (!obj)
            return -ENOMEM;
        ref.name = NULL;
        r = kos_client_create(p->client, &ref, obj, NULL, NULL);
        /* made meanwhile (the next event brings it here again) or the namespace began
         * terminating */
        return r == -EEXIST || r == -EACCES || r == -EPERM ? 0 : r;
    }
    /* someone changed it: the data is exactly the CA again, the rest of the object stays */
    obj = json_deep_copy(cur);
    json_t *meta = obj ? json_object_get(obj, "metadata") : NULL;
    json_t *ann = json_object_get(meta, "annotations");
    if (meta && !json_is_object(ann)) {
        ann = json_object();
        if (json_object_set_new(meta, "annotations", ann) < 0)
            return -ENOMEM;
    }
    if (!meta ||
        json_object_set_new(ann, "kubernetes.io/description", json_string(DESCRIPTION)) < 0 ||
        json_object_set_new(obj, "data", json_pack("{s:s}", "ca.crt", p->ca_pem)) < 0)
        return -ENOMEM;
    json_object_del(obj, "binaryData");
    r = kos_client_update(p->client, &ref, obj, NULL, NULL);
    return r == -ENOENT ? 0 : r; /* deleted meanwhile: its delete event requeues */
}

static void *run(void *arg)
{
    struct kos_root_ca_publisher *p = arg;
    kos_informer_wait_synced(p->namespaces, 30000);
    for (;;) {
        char *name = NULL;
        int r = kos_workqueue_get(p->queue, -1, &name);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = process(p, name);
        if (r < 0) {
            log_debug("root-ca-publisher", "namespace %s: %s; retrying", name, strerror(-r));
            kos_workqueue_add_after(p->queue, name, RETRY_DELAY_MS);
        }
        kos_workqueue_done(p->queue, name);
        free(name);
    }
    return NULL;
}

int kos_root_ca_publisher_new(struct kos_client *c, struct kos_informer *namespaces,
                              struct kos_informer *configmaps, const char *ca_pem,
                              struct kos_root_ca_publisher **ret)
{
    if (!ca_pem || !*ca_pem)
        return -EINVAL;
    struct kos_root_ca_publisher *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->client = c;
    p->namespaces = namespaces;
    p->configmaps = configmaps;
    p->ca_pem = strdup(ca_pem);
    int r = p->ca_pem ? kos_workqueue_new(&p->queue) : -ENOMEM;
    struct kos_informer_handlers nh = {
        .on_add = ns_add, .on_update = ns_update, .ctx = p, .ignores_old = true};
    struct kos_informer_handlers ch = {
        .on_update = cm_update, .on_delete = cm_changed, .ctx = p, .ignores_old = true};
    if (r == 0)
        r = kos_informer_add_handlers(namespaces, &nh);
    if (r == 0)
        r = kos_informer_add_handlers(configmaps, &ch);
    if (r < 0) {
        kos_root_ca_publisher_free(p);
        return r;
    }
    *ret = p;
    return 0;
}

int kos_root_ca_publisher_start(struct kos_root_ca_publisher *p)
{
    int r = pthread_create(&p->worker, NULL, run, p);
    if (r != 0)
        return -r;
    p->started = true;
    return 0;
}

void kos_root_ca_publisher_stop(struct kos_root_ca_publisher *p)
{
    kos_workqueue_shutdown(p->queue);
    if (p->started) {
        pthread_join(p->worker, NULL);
        p->started = false;
    }
}

void kos_root_ca_publisher_free(struct kos_root_ca_publisher *p)
{
    if (!p)
        return;
    if (p->queue)
        kos_root_ca_publisher_stop(p);
    kos_workqueue_free(p->queue);
    free(p->ca_pem);
    free(p);
}

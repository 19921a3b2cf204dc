#include "apiserver/services/service_registry.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/kinds.h"
#include "apiserver/apiserver.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/services/service_alloc.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/random.h"

#define LIST_PAGE 500

static struct kos_svc_alloc *alloc_for(const struct resource_request *rr)
{
    if (!rr->srv->svc_alloc || rr->kind->group[0] || strcmp(rr->kind->kind, "Service") != 0 ||
        (rr->sub && rr->sub[0]))
        return NULL;
    return rr->srv->svc_alloc;
}

int apiserver_services_setup(struct apiserver *srv, const char *cidr, const char *node_ports,
                             struct kos_error **err)
{
    struct kos_svc_alloc *a = NULL;
    int r = kos_svc_alloc_new(cidr, node_ports, &a, err);
    if (r < 0)
        return r;
    /* rebuild from what is stored, page by page */
    char after[1024] = "";
    for (;;) {
        struct store_list l = {0};
        r = store_list(srv->store, "/registry/services/", after, LIST_PAGE, &l);
        if (r < 0) {
            kos_svc_alloc_free(a);
            return kos_error_set(err, 500, "InternalError", "listing Services failed");
        }
        for (size_t i = 0; i < l.count; i++) {
            _cleanup_json_ json_t *svc = obj_decode_value(l.items[i].value, NULL);
            if (svc)
                kos_svc_alloc_mark(a, svc);
        }
        bool more = l.more && l.count > 0;
        if (more)
            snprintf(after, sizeof(after), "%s", l.items[l.count - 1].key);
        store_list_clear(&l);
        if (!more)
            break;
    }
    kos_svc_alloc_free(srv->svc_alloc);
    srv->svc_alloc = a;
    return 0;
}

int service_admit_create(struct resource_request *rr, json_t *obj, struct kos_error **err)
{
    struct kos_svc_alloc *a = alloc_for(rr);
    return a ? kos_svc_alloc_create(a, obj, err) : 0;
}

void service_after_create(struct resource_request *rr, const json_t *obj, bool stored)
{
    struct kos_svc_alloc *a = alloc_for(rr);
    if (a && !stored)
        kos_svc_alloc_release_diff(a, obj, NULL);
}

bool service_reads_after_create(const struct resource_request *rr)
{
    return alloc_for(rr) != NULL;
}

int service_prepare_update(struct resource_request *rr, json_t *next, const json_t *cur)
{
    if (rr->kind->group[0] || strcmp(rr->kind->kind, "Service") != 0 || (rr->sub && rr->sub[0]))
        return 0;
    return kos_svc_alloc_patch_update(next, cur);
}

int service_admit_update(struct resource_request *rr, json_t *next, const json_t *cur,
                         struct kos_error **err)
{
    struct kos_svc_alloc *a = alloc_for(rr);
    return a ? kos_svc_alloc_update(a, next, cur, err) : 0;
}

void service_after_update(struct resource_request *rr, const json_t *next, const json_t *cur,
                          bool committed, bool deleted)
{
    struct kos_svc_alloc *a = alloc_for(rr);
    if (!a)
        return;
    if (!committed) {
        kos_svc_alloc_release_diff(a, next, cur);
    } else if (deleted) {
        kos_svc_alloc_release_diff(a, next, NULL);
        kos_svc_alloc_release_diff(a, cur, NULL);
    } else {
        kos_svc_alloc_release_diff(a, cur, next);
    }
}

void service_after_delete(struct resource_request *rr, const json_t *obj)
{
    if (!rr->srv->svc_alloc || rr->kind->group[0] || strcmp(rr->kind->kind, "Service") != 0)
        return;
    kos_svc_alloc_release_diff(rr->srv->svc_alloc, obj, NULL);
}

/* ---- the kubernetes Service ------------------------------------------------------------- */

/* Creates key with obj when absent; with replace_field, overwrites that top-level field of
 * the stored object when it differs (the Endpoints' subsets, the slice's endpoints). */
static int ensure_object(struct store *s, const char *key, json_t *obj,
                         const char *const *replace_fields)
{
    struct store_kv kv = {0};
    int r = store_get(s, key, &kv);
    if (r == -ENOENT) {
        char uid[40], now[32];
        if (kos_uuid_v4(uid, sizeof(uid)) < 0)
            return -EIO;
        obj_now_rfc3339(now, sizeof(now));
        json_t *meta = obj_meta(obj);
        if (!meta || obj_set_str(meta, "uid", uid) < 0 ||
            obj_set_str(meta, "creationTimestamp", now) < 0)
            return -ENOMEM;
        struct store_write w = {
            .type = STORE_CREATE, .key = key, .render = obj_render, .render_ctx = obj};
        struct store_write_result res = {0};
        r = store_write(s, &w, &res);
        kos_value_unref(res.value);
        return r == -EEXIST ? 0 : r;
    }
    if (r < 0)
        return r;
    _cleanup_json_ json_t *cur = obj_decode_value(kv.value, NULL);
    int64_t rev = kv.mod_rev;
    store_kv_clear(&kv);
    if (!cur)
        return -EIO;
    bool changed = false;
    for (size_t i = 0; replace_fields && replace_fields[i]; i++) {
        json_t *want = json_object_get(obj, replace_fields[i]);
        if (!json_equal(json_object_get(cur, replace_fields[i]), want)) {
            json_object_set(cur, replace_fields[i], want);
            changed = true;
        }
    }
    if (!changed)
        return 0;
    struct store_write w = {.type = STORE_UPDATE,
                            .key = key,
                            .expected_mod_rev = rev,
                            .render = obj_render,
                            .render_ctx = cur};
    struct store_write_result res = {0};
    r = store_write(s, &w, &res);
    kos_value_unref(res.value);
    return r == -ECANCELED ? 0 : r;
}

int apiserver_services_bootstrap(struct apiserver *srv, const char *ip, unsigned port)
{
    if (!srv->svc_alloc)
        return 0;
    char first[64];
    kos_svc_alloc_first_ip(srv->svc_alloc, first, sizeof(first));
    _cleanup_json_ json_t *svc = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:[s], s:[s], s:s, s:s, s:s, "
        "s:[{s:s, s:s, s:i, s:i}]}, s:{s:{}}}",
        "apiVersion", "v1", "kind", "Service", "metadata", "name", "kubernetes", "namespace",
        "default", "labels", "component", "apiserver", "provider", "kubernetes", "spec",
        "clusterIP", first, "clusterIPs", first, "ipFamilies", "IPv4", "ipFamilyPolicy",
        "SingleStack", "type", "ClusterIP", "sessionAffinity", "None", "ports", "name", "https",
        "protocol", "TCP", "port", 443, "targetPort", (int)port, "status", "loadBalancer");
    if (!svc)
        return -ENOMEM;
    json_object_set_new(json_object_get(svc, "spec"), "internalTrafficPolicy",
                        json_string("Cluster"));
    struct store_kv kv = {0};
    int r = store_get(srv->store, "/registry/services/default/kubernetes", &kv);
    if (r == 0) {
        store_kv_clear(&kv);
    } else if (r == -ENOENT) {
        /* its IP is taken like any Service's (the rebuild may already hold it) */
        kos_svc_alloc_mark(srv->svc_alloc, svc);
        r = ensure_object(srv->store, "/registry/services/default/kubernetes", svc, NULL);
    }
    if (r < 0)
        return r;
    _cleanup_json_ json_t *ep = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:[{s:[{s:s}], s:[{s:s, s:i, s:s}]}]}", "apiVersion",
        "v1", "kind", "Endpoints", "metadata", "name", "kubernetes", "namespace", "default",
        "labels", "endpointslice.kubernetes.io/skip-mirror", "true", "subsets", "addresses", "ip",
        ip, "ports", "name", "https", "port", (int)port, "protocol", "TCP");
    if (!ep)
        return -ENOMEM;
    static const char *const ep_fields[] = {"subsets", NULL};
    r = ensure_object(srv->store, "/registry/endpoints/default/kubernetes", ep, ep_fields);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *slice = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:[s], s:{s:b}}], s:[{s:s, s:i, s:s}]}",
        "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata", "name",
        "kubernetes", "namespace", "default", "labels", "kubernetes.io/service-name", "kubernetes",
        "addressType", "IPv4", "endpoints", "addresses", ip, "conditions", "ready", 1, "ports",
        "name", "https", "port", (int)port, "protocol", "TCP");
    if (!slice)
        return -ENOMEM;
    static const char *const slice_fields[] = {"endpoints", "ports", NULL};
    const struct kos_kind *k = kos_kind_by_kind("discovery.k8s.io", "EndpointSlice");
    char key[256];
    if (!k || kos_kind_key(k, "default", "kubernetes", key, sizeof(key)) < 0)
        return -ENOENT;
    return ensure_object(srv->store, key, slice, slice_fields);
}

/* ---- the reconciler -------------------------------------------------------------------- */

#define RECONCILE_SECONDS 10

struct apiserver_services_reconciler {
    struct apiserver *srv;
    char ip[64];
    unsigned port;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
};

static void *reconcile_loop(void *arg)
{
    struct apiserver_services_reconciler *rc = arg;
    pthread_mutex_lock(&rc->lock);
    while (!rc->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += RECONCILE_SECONDS;
        while (!rc->stopping && pthread_cond_timedwait(&rc->cond, &rc->lock, &until) != ETIMEDOUT) {
        }
        if (rc->stopping)
            break;
        pthread_mutex_unlock(&rc->lock);
        (void)apiserver_services_bootstrap(rc->srv, rc->ip, rc->port); /* next round retries */
        pthread_mutex_lock(&rc->lock);
    }
    pthread_mutex_unlock(&rc->lock);
    return NULL;
}

int apiserver_services_reconciler_start(struct apiserver *srv, const char *ip, unsigned port,
                                        struct apiserver_services_reconciler **ret)
{
    struct apiserver_services_reconciler *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return -ENOMEM;
    rc->srv = srv;
    snprintf(rc->ip, sizeof(rc->ip), "%s", ip);
    rc->port = port;
    pthread_mutex_init(&rc->lock, NULL);
    pthread_cond_init(&rc->cond, NULL);
    int r = pthread_create(&rc->thread, NULL, reconcile_loop, rc);
    if (r != 0) {
        pthread_cond_destroy(&rc->cond);
        pthread_mutex_destroy(&rc->lock);
        free(rc);
        return -r;
    }
    *ret = rc;
    return 0;
}

void apiserver_services_reconciler_stop(struct apiserver_services_reconciler *rc)
{
    if (!rc)
        return;
    pthread_mutex_lock(&rc->lock);
    rc->stopping = true;
    pthread_cond_broadcast(&rc->cond);
    pthread_mutex_unlock(&rc->lock);
    pthread_join(rc->thread, NULL);
    pthread_cond_destroy(&rc->cond);
    pthread_mutex_destroy(&rc->lock);
    free(rc);
}

/* Node IPAM: one worker, so the subnet bitmap needs no lock of its own beyond the handlers'. */
#include "controllers/node_ipam.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/cidr_set.h"
#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "util/json_cleanup.h"
#include "util/log.h"

#define RETRY_MS     1000
#define EXHAUSTED_MS 5000

struct kos_node_ipam {
    struct kos_client *client;
    struct kos_informer *nodes;
    struct kos_event_recorder *events;
    struct kos_workqueue *queue;
    pthread_mutex_t lock; /* set: the informer's thread releases, the worker allocates */
    struct kos_cidr_set *set;
    pthread_t worker;
    bool started;
};

static int pod_cidr_of(const json_t *node, struct kos_cidr *ret)
{
    const char *s = json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
    return s && *s ? kos_cidr_parse(s, true, ret) : -ENOENT;
}

static void on_add(void *ctx, const json_t *obj)
{
    struct kos_node_ipam *n = ctx;
    struct kos_cidr c;
    /* a subnet a Node carries is taken before any allocation can hand it out again */
    if (pod_cidr_of(obj, &c) == 0) {
        pthread_mutex_lock(&n->lock);
        (void)kos_cidr_set_occupy(n->set, &c);
        pthread_mutex_unlock(&n->lock);
        return;
    }
    const char *name = ctl_meta_str(obj, "name");
    if (name)
        kos_workqueue_add(n->queue, name);
}

static void on_update(void *ctx, const json_t *old, const json_t *obj)
{
    on_add(ctx, obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    struct kos_node_ipam *n = ctx;
    struct kos_cidr c;
    if (pod_cidr_of(obj, &c) == 0) {
        pthread_mutex_lock(&n->lock);
        (void)kos_cidr_set_release(n->set, &c);
        pthread_mutex_unlock(&n->lock);
    }
}

static int process(struct kos_node_ipam *n, const char *name)
{
    _cleanup_json_ json_t *node = kos_informer_get(n->nodes, NULL, name);
    struct kos_cidr c;
    if (!node || pod_cidr_of(node, &c) == 0)
        return 0;
    pthread_mutex_lock(&n->lock);
    int r = kos_cidr_set_allocate(n->set, &c);
    pthread_mutex_unlock(&n->lock);
    if (r == -ENOSPC) {
        /* kube's RangeAllocator: nodeutil.RecordNodeStatusChange(..., "CIDRNotAvailable") */
        (void)kos_event_record(n->events, node, KOS_EVENT_NORMAL, "CIDRNotAvailable",
                               "Node %s status is now: CIDRNotAvailable", name);
        log_warn("node-ipam",
                 "node %s: CIDR allocation failed; there are no remaining CIDRs left "
                 "to allocate in the accepted range",
                 name);
        return -ENOSPC;
    }
    if (r < 0)
        return r;
    char s[24];
    kos_cidr_format(&c, s, sizeof(s));
    _cleanup_json_ json_t *patch =
        json_pack("{s:{s:s, s:[s]}}", "spec", "podCIDR", s, "podCIDRs", s);
    struct kos_ref ref = {.kind = kos_client_kind_of("v1", "Node"), .name = name};
    r = patch && ref.kind ? 0 : -ENOMEM;
    if (r == 0)
        r = kos_client_patch(n->client, &ref, KOS_PATCH_STRATEGIC, patch, NULL, false, NULL, NULL);
    if (r < 0) {
        pthread_mutex_lock(&n->lock);
        (void)kos_cidr_set_release(n->set, &c);
        pthread_mutex_unlock(&n->lock);
        return r == -ENOENT ? 0 : r;
    }
    log_info("node-ipam", "node %s: podCIDR %s", name, s);
    return 0;
}

static void *run(void *arg)
{
    struct kos_node_ipam *n = arg;
    /* every Node's subnet is known before the first allocation */
    kos_informer_wait_synced(n->nodes, 60000);
    for (;;) {
        char *name = NULL;
        int r = kos_workqueue_get(n->queue, -1, &name);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = process(n, name);
        if (r < 0)
            kos_workqueue_add_after(n->queue, name, r == -ENOSPC ? EXHAUSTED_MS : RETRY_MS);
        kos_workqueue_done(n->queue, name);
        free(name);
    }
    return NULL;
}

int kos_node_ipam_new(struct kos_client *c, struct kos_informer *nodes,
                      struct kos_event_recorder *events, const struct kos_cidr *cluster, int mask,
                      struct kos_node_ipam **ret)
{
    struct kos_node_ipam *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->client = c;
    n->nodes = nodes;
    n->events = events;
    pthread_mutex_init(&n->lock, NULL);
    int r = kos_cidr_set_new(cluster, mask, &n->set);
    if (r == 0)
        r = kos_workqueue_new(&n->queue);
    struct kos_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = n};
    if (r == 0)
        r = kos_informer_add_handlers(nodes, &h);
    if (r < 0) {
        kos_node_ipam_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

int kos_node_ipam_start(struct kos_node_ipam *n)
{
    int r = pthread_create(&n->worker, NULL, run, n);
    if (r != 0)
        return -r;
    n->started = true;
    return 0;
}

void kos_node_ipam_stop(struct kos_node_ipam *n)
{
    if (!n)
        return;
    if (n->queue)
        kos_workqueue_shutdown(n->queue);
    if (n->started) {
        pthread_join(n->worker, NULL);
        n->started = false;
    }
}

void kos_node_ipam_free(struct kos_node_ipam *n)
{
    if (!n)
        return;
    kos_node_ipam_stop(n);
    kos_workqueue_free(n->queue);
    kos_cidr_set_free(n->set);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

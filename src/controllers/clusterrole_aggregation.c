/* The worker recomputes every aggregated ClusterRole after any ClusterRole change (kube's
 * controller enqueues them all too: a label change can move a role in or out of any
 * selector). The union is what the RBAC authorizer's own aggregation computes, so both agree
 * by construction. */
#include "controllers/clusterrole_aggregation.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/authz/rbac.h"
#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"

#define ALL_KEY        "*"
#define RETRY_DELAY_MS 1000

struct kos_aggregation_controller {
    struct kos_client *client;
    struct kos_informer *informer;
    struct rbac_authorizer *rbac; /* the informer's ClusterRoles, aggregated */
    struct kos_workqueue *queue;
    pthread_t worker;
    bool started;
};

static void on_add(void *ctx, const json_t *obj)
{
    struct kos_aggregation_controller *ac = ctx;
    /* A malformed role is left out of every union (rbac_apply drops it). */
    (void)rbac_apply(ac->rbac, RBAC_KIND_CLUSTER_ROLE, obj);
    kos_workqueue_add(ac->queue, ALL_KEY);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    on_add(ctx, obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    struct kos_aggregation_controller *ac = ctx;
    const char *name = ctl_meta_str(obj, "name");
    if (name)
        (void)rbac_delete(ac->rbac, RBAC_KIND_CLUSTER_ROLE, NULL, name);
    kos_workqueue_add(ac->queue, ALL_KEY);
}

static int sync_role(struct kos_aggregation_controller *ac, const json_t *role)
{
    const char *name = ctl_meta_str(role, "name");
    if (!name || !json_is_object(json_object_get(role, "aggregationRule")))
        return 0;
    _cleanup_json_ json_t *rules = NULL;
    int r = rbac_cluster_role_rules(ac->rbac, name, &rules);
    if (r == -ENOENT)
        return 0; /* deleted meanwhile, or malformed */
    if (r < 0)
        return r;
    const json_t *have = json_object_get(role, "rules");
    if (json_equal(rules, have) || (json_array_size(rules) == 0 && !json_is_array(have)))
        return 0;
    _cleanup_json_ json_t *patch = json_pack("{s:O}", "rules", rules);
    if (!patch)
        return -ENOMEM;
    struct kos_ref ref = {.kind = kos_informer_kind(ac->informer), .name = name};
    r = kos_client_patch(ac->client, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, NULL);
    return r == -ENOENT ? 0 : r;
}

static int sync_all(struct kos_aggregation_controller *ac)
{
    _cleanup_json_ json_t *roles = kos_informer_snapshot(ac->informer);
    if (!roles)
        return -ENOMEM;
    int ret = 0;
    size_t i;
    json_t *role;
    json_array_foreach(roles, i, role)
    {
        int r = sync_role(ac, role);
        if (r < 0 && ret == 0)
            ret = r;
    }
    return ret;
}

static void *run(void *arg)
{
    struct kos_aggregation_controller *ac = arg;
    for (;;) {
        char *key = NULL;
        int r = kos_workqueue_get(ac->queue, -1, &key);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = sync_all(ac);
        if (r < 0) {
            log_debug("clusterrole-aggregation", "aggregating ClusterRoles: %s; retrying",
                      strerror(-r));
            kos_workqueue_add_after(ac->queue, key, RETRY_DELAY_MS);
        }
        kos_workqueue_done(ac->queue, key);
        free(key);
    }
    return NULL;
}

int kos_aggregation_controller_new(struct kos_client *c, struct kos_informer *clusterroles,
                                   struct kos_aggregation_controller **ret)
{
    struct kos_aggregation_controller *ac = calloc(1, sizeof(*ac));
    if (!ac)
        return -ENOMEM;
    ac->client = c;
    ac->informer = clusterroles;
    int r = rbac_new(&ac->rbac);
    if (r == 0)
        r = kos_workqueue_new(&ac->queue);
    struct kos_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = ac};
    if (r == 0)
        r = kos_informer_add_handlers(clusterroles, &h);
    if (r < 0) {
        kos_aggregation_controller_free(ac);
        return r;
    }
    *ret = ac;
    return 0;
}

int kos_aggregation_controller_start(struct kos_aggregation_controller *ac)
{
    int r = pthread_create(&ac->worker, NULL, run, ac);
    if (r != 0)
        return -r;
    ac->started = true;
    return 0;
}

void kos_aggregation_controller_stop(struct kos_aggregation_controller *ac)
{
    if (!ac || !ac->started)
        return;
    kos_workqueue_shutdown(ac->queue);
    pthread_join(ac->worker, NULL);
    ac->started = false;
}

void kos_aggregation_controller_free(struct kos_aggregation_controller *ac)
{
    if (!ac)
        return;
    kos_aggregation_controller_stop(ac);
    kos_workqueue_free(ac->queue);
    rbac_free(ac->rbac);
    free(ac);
}

/* The scheduler loop: informers → cache and queue; workers → decisions → API writes.
 *
 * Decisions are serialized by `cycle` (kube-scheduler's single scheduling goroutine): a
 * decision and the assume that records it happen under the same lock, so the next decision
 * already sees the pod on its node. The API writes that follow (binding, status, events,
 * victims) run outside the lock, several workers at once, as kube binds asynchronously: the
 * binding round trip, not the decision, is what bounds the rate. Events are queued and written
 * by their own thread (sched_events.h), off this path. */
#include "scheduler/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/informer.h"
#include "controllers/events.h"
#include "scheduler/cache.h"
#include "scheduler/filters.h"
#include "scheduler/queue.h"
#include "scheduler/schedule.h"
#include "scheduler/scheduler_api.h"
#include "util/json_cleanup.h"
#include "util/log.h"

/* Binds overlap with decisions; the store batches concurrent commits, so more writers in
 * flight mean fewer fsyncs per pod (16, 32 and 64 cost the same CPU per pod; 8 left the CPU
 * waiting on commits). */
#define N_WORKERS 32

struct kos_scheduler {
    struct kos_client *client;
    struct kos_informer *pods;
    struct kos_informer *nodes;
    struct kos_informer *pdbs;
    struct sched_cache *cache;
    struct sched_queue *queue;
    struct sched_events *events;
    struct sched_config cfg;
    pthread_mutex_t cycle;
    pthread_t workers[N_WORKERS];
    size_t n_workers;
    atomic_bool stopping;
};

/* ---- informer handlers ------------------------------------------------------------------ */

static bool ours(const struct sched_pod *p)
{
    return strcmp(p->scheduler_name, SCHED_DEFAULT_SCHEDULER_NAME) == 0;
}

static bool in_cache(struct kos_scheduler *s, const char *uid)
{
    char node[256];
    return sched_cache_pod_node(s->cache, uid, node, sizeof(node), NULL) == 0;
}

/* old_obj: the state before an update, when the informer parsed it (pod_needs_old) */
static void pod_upsert(struct kos_scheduler *s, const json_t *old_obj, const json_t *obj)
{
    _cleanup_sched_pod_ struct sched_pod *p = NULL;
    if (sched_pod_from_json(obj, &p) < 0)
        return; /* malformed for the scheduler: nothing it could do with it */
    if (p->node_name || p->terminal) {
        sched_queue_delete(s->queue, p->uid);
        bool counted = in_cache(s, p->uid);
        sched_cache_upsert_pod(s->cache, p);
        if (p->terminal && counted)
            sched_queue_move_all(s->queue, SCHED_EVENT_ASSIGNED_POD_DELETE);
        return;
    }
    if (!ours(p))
        return;
    sched_cache_upsert_pod(s->cache, p); /* its nomination */
    if (p->deleting) {
        sched_queue_delete(s->queue, p->uid);
        return;
    }
    /* An assumed pod whose binding is in flight is not scheduled again. */
    if (!in_cache(s, p->uid))
        sched_queue_add(s->queue, p, !old_obj || sched_pod_changed(old_obj, obj));
}

static void on_pod_add(void *ctx, const json_t *obj)
{
    pod_upsert(ctx, NULL, obj);
}

/* The queue compares a queued pod's update with the state before (kube's isPodUpdated); the
 * informer parses that state only then, not for every bind and status write it reports. */
static bool pod_needs_old(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    const char *node = json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
    const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
    return (!node || !node[0]) && uid && sched_queue_has(s->queue, uid);
}

static void on_pod_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    pod_upsert(ctx, old_obj, obj);
}

static void on_pod_delete(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
    if (!uid)
        return;
    sched_queue_delete(s->queue, uid);
    if (sched_cache_remove_pod(s->cache, uid) == 0)
        sched_queue_move_all(s->queue, SCHED_EVENT_ASSIGNED_POD_DELETE);
}

static void on_node_add(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    if (sched_cache_upsert_node(s->cache, obj) == 0)
        sched_queue_move_all(s->queue, SCHED_EVENT_NODE_ADD);
}

static const json_t *at(const json_t *obj, const char *a, const char *b)
{
    return json_object_get(json_object_get(obj, a), b);
}

static bool same(const json_t *a, const json_t *b)
{
    return (!a && !b) || (a && b && json_equal(a, b));
}

/* Condition types and statuses, without the heartbeat times that change every update. */
static bool same_conditions(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
        if (!same(json_object_get(x, "type"), json_object_get(y, "type")) ||
            !same(json_object_get(x, "status"), json_object_get(y, "status")))
            return false;
    }
    return true;
}

/* kube's nodeSchedulingPropertiesChange: a node status heartbeat must not send every
 * unschedulable pod through another cycle (and another FailedScheduling write). */
static bool node_scheduling_changed(const json_t *old_obj, const json_t *obj)
{
    return !same(at(old_obj, "spec", "unschedulable"), at(obj, "spec", "unschedulable")) ||
           !same(at(old_obj, "status", "allocatable"), at(obj, "status", "allocatable")) ||
           !same(at(old_obj, "metadata", "labels"), at(obj, "metadata", "labels")) ||
           !same(at(old_obj, "spec", "taints"), at(obj, "spec", "taints")) ||
           !same_conditions(at(old_obj, "status", "conditions"), at(obj, "status", "conditions"));
}

static void on_node_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    if (sched_cache_upsert_node(s->cache, obj) == 0 && node_scheduling_changed(old_obj, obj))
        sched_queue_move_all(s->queue, SCHED_EVENT_NODE_UPDATE);
}

static void on_node_delete(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (name)
        sched_cache_remove_node(s->cache, name);
}

static void on_pdb_add(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    sched_cache_upsert_pdb(s->cache, obj);
}

static void on_pdb_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    on_pdb_add(ctx, obj);
}

static void on_pdb_delete(void *ctx, const json_t *obj)
{
    struct kos_scheduler *s = ctx;
    const json_t *m = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(m, "namespace"));
    const char *name = json_string_value(json_object_get(m, "name"));
    if (ns && name)
        sched_cache_remove_pdb(s->cache, ns, name);
}

/* ---- the scheduling cycle ---------------------------------------------------------------- */

static void preempt(struct kos_scheduler *s, const struct sched_pod *pod,
                    const struct sched_result *res)
{
    for (size_t i = 0; i < res->n_victims; i++) {
        const struct sched_victim *v = &res->victims[i];
        if (v->deleting)
            continue;
        int r = sched_api_preempt_victim(s->client, s->events, pod, v, res->nominated_node_name);
        if (r < 0 && r != -ENOENT)
            log_warn("scheduler", "preempting %s/%s for %s/%s failed: %s", v->namespace, v->name,
                     pod->namespace, pod->name, strerror(-r));
    }
    for (size_t i = 0; i < res->n_lower_nominated; i++) {
        const struct sched_victim *v = &res->lower_nominated[i];
        sched_api_clear_nomination(s->client, v->namespace, v->name);
    }
}

static void failed(struct kos_scheduler *s, struct sched_pod *pod, const struct sched_result *res)
{
    if (res->outcome == SCHED_UNSCHEDULABLE && res->nominated_node_name)
        preempt(s, pod, res);
    const char *msg = res->message ? res->message : "scheduling failed";
    sched_events_record(s->events, pod->namespace, pod->name, pod->uid, KOS_EVENT_WARNING,
                        "FailedScheduling", "%s", msg);
    _cleanup_json_ json_t *cur = kos_informer_get(s->pods, pod->namespace, pod->name);
    sched_api_update_status(s->client, cur, pod,
                            res->outcome == SCHED_UNSCHEDULABLE ? "Unschedulable"
                                                                : "SchedulerError",
                            msg, res->nominated_node_name, res->clear_nominated_node);
    sched_queue_requeue(s->queue, pod->uid,
                        res->outcome == SCHED_UNSCHEDULABLE ? SCHED_REQUEUE_UNSCHEDULABLE
                                                            : SCHED_REQUEUE_ERROR,
                        res->unschedulable_plugins);
}

static void bind(struct kos_scheduler *s, struct sched_pod *pod, const char *node)
{
    int r = sched_api_bind(s->client, pod, node);
    if (r == 0) {
        sched_cache_finish_binding(s->cache, pod->uid);
        sched_queue_done(s->queue, pod->uid);
        sched_events_record(s->events, pod->namespace, pod->name, pod->uid, KOS_EVENT_NORMAL,
                            "Scheduled", "Successfully assigned %s/%s to %s", pod->namespace,
                            pod->name, node);
        return;
    }
    sched_cache_forget_pod(s->cache, pod->uid);
    if (r == -ENOENT || r == -EEXIST || r == -ECANCELED) {
        /* Deleted, or bound by someone else: the informer brings the truth. */
        sched_queue_done(s->queue, pod->uid);
        return;
    }
    log_warn("scheduler", "binding %s/%s to %s failed: %s", pod->namespace, pod->name, node,
             strerror(-r));
    sched_queue_requeue(s->queue, pod->uid, SCHED_REQUEUE_ERROR, 0);
}

static void schedule(struct kos_scheduler *s, struct sched_pod *pod)
{
    struct sched_result res = {0};
    if (sched_cache_node_count(s->cache) == 0) {
        /* Deviation from kube-scheduler, which writes "no nodes available to schedule pods"
         * onto the pod and an event: a cluster without nodes (the API server alone, most
         * tests) keeps its pods untouched until a node arrives (NODE_ADD moves them). */
        sched_queue_requeue(s->queue, pod->uid, SCHED_REQUEUE_UNSCHEDULABLE,
                            SCHED_PLUGIN_NODE_NAME);
        return;
    }
    pthread_mutex_lock(&s->cycle);
    int r = sched_schedule_one(s->cache, &s->cfg, pod, &res);
    int ar = 0;
    if (r == 0 && res.outcome == SCHED_SCHEDULED)
        ar = sched_cache_assume_pod(s->cache, pod, res.node_name);
    pthread_mutex_unlock(&s->cycle);
    if (r < 0) {
        sched_queue_requeue(s->queue, pod->uid, SCHED_REQUEUE_ERROR, 0);
    } else if (res.outcome != SCHED_SCHEDULED) {
        failed(s, pod, &res);
    } else if (ar == -EEXIST) {
        sched_queue_done(s->queue, pod->uid); /* already counted: bound meanwhile */
    } else if (ar < 0) {
        sched_queue_requeue(s->queue, pod->uid, SCHED_REQUEUE_ERROR, 0);
    } else {
        bind(s, pod, res.node_name);
    }
    sched_result_clear(&res);
}

static bool wait_synced(struct kos_scheduler *s)
{
    struct kos_informer *all[] = {s->nodes, s->pdbs, s->pods};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        while (all[i] && kos_informer_wait_synced(all[i], 200) < 0)
            if (atomic_load(&s->stopping))
                return false;
    }
    return true;
}

static void *worker(void *arg)
{
    struct kos_scheduler *s = arg;
    if (!wait_synced(s))
        return NULL;
    for (;;) {
        struct sched_pod *pod = NULL;
        int r = sched_queue_pop(s->queue, 1000, &pod);
        if (r == -ESHUTDOWN)
            break;
        if (r < 0)
            continue;
        schedule(s, pod);
        sched_pod_unref(pod);
    }
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------ */

static int informer(struct kos_scheduler *s, const char *group, const char *kind,
                    const struct kos_informer_handlers *h, struct kos_informer **ret)
{
    const struct kos_kind *k = kos_kind_by_kind(group, kind);
    if (!k)
        return -ENOENT;
    struct kos_informer_options o = {.kind = k, .page_size = 1000, .drop_managed_fields = true};
    int r = kos_informer_new(s->client, &o, ret);
    if (r == 0)
        r = kos_informer_add_handlers(*ret, h);
    return r;
}

int kos_scheduler_start(const struct kos_client_config *cfg, struct kos_scheduler **ret)
{
    struct kos_scheduler *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->cycle, NULL);
    sched_config_init(&s->cfg);
    struct sched_queue_options qo;
    sched_queue_options_init(&qo);
    struct kos_informer_handlers ph = {on_pod_add, on_pod_update, on_pod_delete,
                                       s,          true,          pod_needs_old};
    struct kos_informer_handlers nh = {on_node_add, on_node_update, on_node_delete, s};
    struct kos_informer_handlers bh = {on_pdb_add, on_pdb_update, on_pdb_delete, s};
    int r = kos_client_new(cfg, &s->client);
    if (r == 0)
        r = sched_cache_new(&s->cache);
    if (r == 0)
        r = sched_queue_new(&qo, &s->queue);
    if (r == 0)
        r = sched_events_new(s->client, SCHED_DEFAULT_SCHEDULER_NAME, &s->events);
    if (r == 0)
        r = informer(s, "", "Node", &nh, &s->nodes);
    if (r == 0)
        r = informer(s, "policy", "PodDisruptionBudget", &bh, &s->pdbs);
    if (r == 0)
        r = informer(s, "", "Pod", &ph, &s->pods);
    if (r == 0)
        r = kos_informer_start(s->nodes);
    if (r == 0)
        r = kos_informer_start(s->pdbs);
    if (r == 0)
        r = kos_informer_start(s->pods);
    for (size_t i = 0; r == 0 && i < N_WORKERS; i++) {
        r = -pthread_create(&s->workers[i], NULL, worker, s);
        if (r == 0)
            s->n_workers++;
    }
    if (r < 0) {
        kos_scheduler_stop(s);
        return r;
    }
    *ret = s;
    return 0;
}

void kos_scheduler_stop(struct kos_scheduler *s)
{
    if (!s)
        return;
    atomic_store(&s->stopping, true);
    if (s->queue)
        sched_queue_close(s->queue);
    for (size_t i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    struct kos_informer *all[] = {s->pods, s->pdbs, s->nodes};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (all[i])
            kos_informer_stop(all[i]);
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        kos_informer_free(all[i]);
    sched_queue_free(s->queue);
    sched_cache_free(s->cache);
    if (s->events && sched_events_dropped(s->events))
        log_info("scheduler", "%zu events dropped: the event queue was full",
                 sched_events_dropped(s->events));
    sched_events_free(s->events);
    kos_client_free(s->client);
    pthread_mutex_destroy(&s->cycle);
    free(s);
}

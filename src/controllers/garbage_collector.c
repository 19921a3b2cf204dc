/* The garbage collector. Informer handlers keep an ownership graph (uid -> object metadata,
 * owner uid -> dependent uids) and queue the uids whose situation changed; one worker
 * decides on each from live reads, as kube's attemptToDeleteItem and
 * processDeletingDependentsItem do. */
#include "controllers/garbage_collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "controllers/ctlutil.h"
#include "controllers/workqueue.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define COMPONENT         "garbage-collector-controller"
#define RETRY_MS          1000
#define CONFLICT_RETRY_MS 100
#define SYNC_POLL_MS      200
#define POD_GC_SLACK_MS   1000
#define MAX_INFORMERS     64

struct kos_gc {
    struct kos_client *client;
    struct kos_informer *informers[MAX_INFORMERS];
    size_t ninformers;
    struct kos_event_recorder *events;
    struct kos_workqueue *queue;
    pthread_mutex_t lock; /* nodes and dependents */
    /* uid -> struct gc_node. Compact JSON bytes rather than a jansson tree per object: every
     * object of the cluster is here (at 10,000 pods the trees took ~15 MB), and the graph
     * reads an object's metadata only when a change concerns it. */
    struct kos_strmap nodes;
    json_t *dependents; /* owner uid -> {dependent uid: true} */
    pthread_t worker;
    bool started;
    atomic_bool stopping;
};

/* ---- the graph, fed by the informers --------------------------------------------------- */

struct gc_node {
    char *json; /* the object (metadata form), compact */
    char uid[];
};

static void gc_node_free(struct gc_node *n)
{
    if (n)
        free(n->json);
    free(n);
}

/* The node's object (a new reference), or NULL when unknown. Under lock. */
static json_t *node_get(struct kos_gc *gc, const char *uid)
{
    const struct gc_node *n = uid ? kos_strmap_get(&gc->nodes, uid) : NULL;
    return n ? json_loads(n->json, 0, NULL) : NULL;
}

/* Under lock. -ENOMEM leaves the graph as it was. */
static int node_put(struct kos_gc *gc, const char *uid, const json_t *obj)
{
    size_t len = strlen(uid);
    struct gc_node *n = malloc(sizeof(*n) + len + 1);
    if (!n)
        return -ENOMEM;
    memcpy(n->uid, uid, len + 1);
    if (!(n->json = kos_json_encode_sorted(obj, NULL)) ||
        kos_strmap_put(&gc->nodes, n->uid, n) < 0) {
        gc_node_free(n);
        return -ENOMEM;
    }
    return 0;
}

/* Under lock. */
static void node_del(struct kos_gc *gc, const char *uid)
{
    gc_node_free(kos_strmap_remove(&gc->nodes, uid));
}

static const json_t *owner_refs(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
}

static bool refs_name(const json_t *refs, const char *uid)
{
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        if (kos_streq_null(json_string_value(json_object_get(ref, "uid")), uid))
            return true;
    }
    return false;
}

/* Under the lock. */
static void unlink_owner(struct kos_gc *gc, const char *owner, const char *dep)
{
    json_t *set = json_object_get(gc->dependents, owner);
    json_object_del(set, dep);
    if (set && json_object_size(set) == 0)
        json_object_del(gc->dependents, owner);
}

/* Under the lock. */
static void link_owner(struct kos_gc *gc, const char *owner, const char *dep)
{
    json_t *set = json_object_get(gc->dependents, owner);
    if (!set) {
        set = json_object();
        if (!set || json_object_set_new(gc->dependents, owner, set) < 0)
            return;
    }
    json_object_set_new(set, dep, json_true());
}

/* Under the lock. */
static void queue_dependents(struct kos_gc *gc, const char *owner)
{
    const char *dep;
    json_t *v;
    json_object_foreach(json_object_get(gc->dependents, owner), dep, v)
        kos_workqueue_add(gc->queue, dep);
}

static bool being_deleted(const json_t *obj)
{
    return ctl_meta_str(obj, "deletionTimestamp") != NULL;
}

static bool is_pod(const json_t *obj)
{
    return kos_streq_null(json_string_value(json_object_get(obj, "kind")), "Pod") &&
           kos_streq_null(json_string_value(json_object_get(obj, "apiVersion")), "v1");
}

static void upsert(struct kos_gc *gc, const json_t *obj)
{
    const char *uid = ctl_meta_str(obj, "uid");
    if (!uid)
        return;
    const json_t *refs = owner_refs(obj);
    bool foreground = being_deleted(obj) && ctl_has_finalizer(obj, KOS_FINALIZER_FOREGROUND, false);
    bool orphan = being_deleted(obj) && ctl_has_finalizer(obj, KOS_FINALIZER_ORPHAN, false);
    pthread_mutex_lock(&gc->lock);
    _cleanup_json_ json_t *prev = node_get(gc, uid);
    const json_t *prev_refs = owner_refs(prev);
    size_t i;
    json_t *ref;
    json_array_foreach(prev_refs, i, ref)
    {
        const char *o = json_string_value(json_object_get(ref, "uid"));
        if (o && !refs_name(refs, o)) {
            unlink_owner(gc, o, uid);
            kos_workqueue_add(gc->queue, o); /* it may have been waiting for this one */
        }
    }
    json_array_foreach(refs, i, ref)
    {
        const char *o = json_string_value(json_object_get(ref, "uid"));
        if (o)
            link_owner(gc, o, uid);
    }
    bool refs_changed =
        !prev || !(prev_refs && refs ? json_equal(prev_refs, refs) : prev_refs == refs);
    struct gc_node *old = kos_strmap_get(&gc->nodes, uid);
    if (node_put(gc, uid, obj) == 0)
        gc_node_free(old);
    if (foreground)
        queue_dependents(gc, uid);
    pthread_mutex_unlock(&gc->lock);
    if (foreground || orphan || (is_pod(obj) && being_deleted(obj)))
        kos_workqueue_add(gc->queue, uid);
    else if (json_array_size(refs) > 0 && refs_changed)
        kos_workqueue_add(gc->queue, uid);
}

static void remove_node(struct kos_gc *gc, const json_t *obj)
{
    const char *uid = ctl_meta_str(obj, "uid");
    if (!uid)
        return;
    pthread_mutex_lock(&gc->lock);
    _cleanup_json_ json_t *prev = node_get(gc, uid);
    size_t i;
    json_t *ref;
    json_array_foreach(owner_refs(prev ? prev : obj), i, ref)
    {
        const char *o = json_string_value(json_object_get(ref, "uid"));
        if (o) {
            unlink_owner(gc, o, uid);
            kos_workqueue_add(gc->queue, o);
        }
    }
    node_del(gc, uid);
    /* Its dependents lost an owner: each is checked (and deleted once no owner is left). */
    queue_dependents(gc, uid);
    pthread_mutex_unlock(&gc->lock);
}

static void on_add(void *ctx, const json_t *obj)
{
    upsert(ctx, obj);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    upsert(ctx, obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    remove_node(ctx, obj);
}

/* ---- decisions ------------------------------------------------------------------------- */

enum owner_state { OWNER_SOLID, OWNER_DANGLING, OWNER_WAITING };

/* Looks an owner reference up live: absent (or replaced by a namesake) is dangling, being
 * deleted in the foreground is waiting for its dependents, anything else is solid. */
static int classify(struct kos_gc *gc, const json_t *dep, const json_t *ref, enum owner_state *ret)
{
    const struct kos_kind *k =
        kos_client_kind_of(json_string_value(json_object_get(ref, "apiVersion")),
                           json_string_value(json_object_get(ref, "kind")));
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    struct kos_ref dref;
    if (!k || !name || !uid || ctl_ref_of(dep, &dref) < 0) {
        *ret = OWNER_SOLID; /* a kind kos does not know: never delete on its account */
        return 0;
    }
    if (k->namespaced && !dref.kind->namespaced) {
        *ret = OWNER_DANGLING; /* a cluster-scoped object cannot be owned by a namespaced one */
        return 0;
    }
    struct kos_ref oref = {.kind = k, .ns = dref.ns, .name = name};
    _cleanup_json_ json_t *owner = NULL;
    int r = kos_client_get(gc->client, &oref, &owner, NULL);
    if (r == -ENOENT) {
        *ret = OWNER_DANGLING;
        return 0;
    }
    if (r < 0)
        return r;
    if (!kos_streq_null(ctl_meta_str(owner, "uid"), uid))
        *ret = OWNER_DANGLING;
    else if (being_deleted(owner) && ctl_has_finalizer(owner, KOS_FINALIZER_FOREGROUND, false))
        *ret = OWNER_WAITING;
    else
        *ret = OWNER_SOLID;
    return 0;
}

static void describe_ref(const json_t *ref, char *out, size_t size)
{
    snprintf(out, size, "%s %s", json_string_value(json_object_get(ref, "kind")) ?: "?",
             json_string_value(json_object_get(ref, "name")) ?: "?");
}

/* Removes the owner references whose uids are in drop from dep's live state. */
static int remove_owner_refs(struct kos_gc *gc, const json_t *dep, const json_t *drop)
{
    struct kos_ref ref;
    if (ctl_ref_of(dep, &ref) < 0)
        return 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        _cleanup_json_ json_t *live = NULL;
        int r = ctl_get_same(gc->client, dep, &live);
        if (r < 0)
            return r == -ENOENT ? 0 : r;
        _cleanup_json_ json_t *keep = json_array();
        if (!keep)
            return -ENOMEM;
        size_t i;
        json_t *o;
        json_array_foreach(owner_refs(live), i, o)
        {
            if (!json_object_get(drop, json_string_value(json_object_get(o, "uid")) ?: "") &&
                json_array_append(keep, o) < 0)
                return -ENOMEM;
        }
        if (json_array_size(keep) == json_array_size(owner_refs(live)))
            return 0;
        _cleanup_json_ json_t *patch =
            json_pack("{s:{s:o, s:s}}", "metadata", "ownerReferences",
                      json_array_size(keep) ? json_incref(keep) : json_null(), "resourceVersion",
                      ctl_meta_str(live, "resourceVersion") ?: "");
        if (!patch)
            return -ENOMEM;
        r = kos_client_patch(gc->client, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, NULL);
        if (r != -ECANCELED)
            return r == -ENOENT ? 0 : r;
    }
    return -ECANCELED;
}

static int delete_dependent(struct kos_gc *gc, const json_t *live, enum kos_propagation policy,
                            const char *why)
{
    struct kos_ref ref;
    if (ctl_ref_of(live, &ref) < 0)
        return 0;
    struct kos_delete_options o = {
        .propagation = policy,
        .precondition_uid = ctl_meta_str(live, "uid"),
        .precondition_resource_version = ctl_meta_str(live, "resourceVersion"),
    };
    int r = kos_client_delete(gc->client, &ref, &o, NULL, NULL);
    if (r == -ENOENT)
        return 0;
    if (r < 0)
        return r; /* a conflict: it changed since it was read, decide again */
    log_info("gc", "deleted %s %s/%s: %s", ref.kind->kind, ref.ns ? ref.ns : "", ref.name, why);
    if (gc->events)
        kos_event_record(gc->events, live, KOS_EVENT_NORMAL, "GarbageCollected",
                         "Deleted by the garbage collector: %s", why);
    return 0;
}

/* Whether every owner of node is in the graph and not being deleted in the foreground. The
 * graph lags the API only until the next event, and an owner's deletion queues its
 * dependents again, so this spares the live reads for the common case (a startup sync of
 * many owned objects). */
static bool owners_solid_in_graph(struct kos_gc *gc, const json_t *node)
{
    bool solid = true;
    pthread_mutex_lock(&gc->lock);
    size_t i;
    json_t *ref;
    json_array_foreach(owner_refs(node), i, ref)
    {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        _cleanup_json_ json_t *owner = node_get(gc, uid);
        if (!owner ||
            (being_deleted(owner) && ctl_has_finalizer(owner, KOS_FINALIZER_FOREGROUND, false))) {
            solid = false;
            break;
        }
    }
    pthread_mutex_unlock(&gc->lock);
    return solid;
}

/* An object with owners: kept while one owner is solid, deleted once none is. */
static int attempt_to_delete(struct kos_gc *gc, const json_t *node)
{
    if (owners_solid_in_graph(gc, node))
        return 0;
    _cleanup_json_ json_t *live = NULL;
    int r = ctl_get_same(gc->client, node, &live);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    if (being_deleted(live) || json_array_size(owner_refs(live)) == 0)
        return 0;
    size_t solid = 0, waiting = 0;
    _cleanup_json_ json_t *drop = json_object();
    char why[512] = "";
    if (!drop)
        return -ENOMEM;
    size_t i;
    json_t *ref;
    json_array_foreach(owner_refs(live), i, ref)
    {
        enum owner_state st;
        r = classify(gc, live, ref, &st);
        if (r < 0)
            return r;
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        if (st == OWNER_SOLID) {
            solid++;
            continue;
        }
        waiting += st == OWNER_WAITING;
        if (uid)
            json_object_set_new(drop, uid, json_true());
        char desc[300];
        describe_ref(ref, desc, sizeof(desc));
        snprintf(why, sizeof(why), "its owner %s %s", desc,
                 st == OWNER_WAITING ? "is being deleted in the foreground" : "no longer exists");
    }
    if (solid > 0)
        return json_object_size(drop) ? remove_owner_refs(gc, live, drop) : 0;
    pthread_mutex_lock(&gc->lock);
    bool has_deps = json_object_size(json_object_get(gc->dependents, ctl_meta_str(live, "uid")));
    pthread_mutex_unlock(&gc->lock);
    enum kos_propagation policy = KOS_PROPAGATION_BACKGROUND;
    if (waiting > 0 && has_deps)
        policy = KOS_PROPAGATION_FOREGROUND; /* its own dependents go before its owner does */
    else if (ctl_has_finalizer(live, KOS_FINALIZER_ORPHAN, false))
        policy = KOS_PROPAGATION_ORPHAN;
    else if (ctl_has_finalizer(live, KOS_FINALIZER_FOREGROUND, false))
        policy = KOS_PROPAGATION_FOREGROUND;
    return delete_dependent(gc, live, policy, why);
}

/* Snapshot of the dependents of uid (new references), blocking ones first. */
static json_t *dependents_of(struct kos_gc *gc, const char *uid, size_t *ret_blocking)
{
    json_t *blocking = json_array(), *rest = json_array();
    pthread_mutex_lock(&gc->lock);
    const char *dep;
    json_t *v;
    json_object_foreach(json_object_get(gc->dependents, uid), dep, v)
    {
        _cleanup_json_ json_t *obj = node_get(gc, dep);
        if (!obj)
            continue;
        bool blocks = false;
        size_t i;
        json_t *ref;
        json_array_foreach(owner_refs(obj), i, ref)
        {
            if (kos_streq_null(json_string_value(json_object_get(ref, "uid")), uid) &&
                json_is_true(json_object_get(ref, "blockOwnerDeletion")))
                blocks = true;
        }
        json_array_append(blocks ? blocking : rest, obj);
    }
    pthread_mutex_unlock(&gc->lock);
    if (!blocking || !rest) {
        json_decref(blocking);
        json_decref(rest);
        return NULL;
    }
    *ret_blocking = json_array_size(blocking);
    json_array_extend(blocking, rest);
    json_decref(rest);
    return blocking;
}

/* Foreground: every dependent is queued (the blocking ones first) to be deleted, and the
 * owner is released once no blocking dependent is left. */
static int process_foreground(struct kos_gc *gc, const json_t *owner)
{
    const char *uid = ctl_meta_str(owner, "uid");
    size_t nblocking = 0;
    _cleanup_json_ json_t *deps = dependents_of(gc, uid, &nblocking);
    if (!deps)
        return -ENOMEM;
    if (nblocking == 0) {
        int r = ctl_remove_finalizer(gc->client, owner, KOS_FINALIZER_FOREGROUND, false);
        if (r == 0)
            log_info("gc", "%s %s: no blocking dependents left, foreground deletion done",
                     json_string_value(json_object_get(owner, "kind")),
                     ctl_meta_str(owner, "name"));
        return r;
    }
    size_t i;
    json_t *dep;
    json_array_foreach(deps, i, dep)
    {
        if (!being_deleted(dep))
            kos_workqueue_add(gc->queue, ctl_meta_str(dep, "uid"));
    }
    return 0;
}

/* Orphan: the references to the owner are removed from its dependents, then the finalizer. */
static int process_orphan(struct kos_gc *gc, const json_t *owner)
{
    const char *uid = ctl_meta_str(owner, "uid");
    size_t nblocking = 0;
    _cleanup_json_ json_t *deps = dependents_of(gc, uid, &nblocking);
    _cleanup_json_ json_t *drop = json_pack("{s:b}", uid, true);
    if (!deps || !drop)
        return -ENOMEM;
    size_t i;
    json_t *dep;
    json_array_foreach(deps, i, dep)
    {
        int r = remove_owner_refs(gc, dep, drop);
        if (r < 0)
            return r;
        if (gc->events)
            kos_event_record(gc->events, dep, KOS_EVENT_NORMAL, "Orphaned",
                             "Owner reference to %s %s removed: its owner was deleted with "
                             "propagationPolicy Orphan",
                             json_string_value(json_object_get(owner, "kind")) ?: "?",
                             ctl_meta_str(owner, "name") ?: "?");
    }
    return ctl_remove_finalizer(gc->client, owner, KOS_FINALIZER_ORPHAN, false);
}

/* A pod whose graceful deletion expired on a node that does not exist: no agent will ever
 * confirm it, so it is removed (kube's pod GC does the same for orphaned pods). */
static int pod_gc(struct kos_gc *gc, const json_t *pod)
{
    json_t *grace = json_object_get(json_object_get(pod, "metadata"), "deletionGracePeriodSeconds");
    time_t due;
    if (json_integer_value(grace) <= 0 ||
        kos_time_parse_rfc3339(ctl_meta_str(pod, "deletionTimestamp"), &due) < 0)
        return 0;
    time_t now = time(NULL);
    if (now < due) {
        int64_t wait_ms = (int64_t)(due - now) * 1000 + POD_GC_SLACK_MS;
        kos_workqueue_add_after(gc->queue, ctl_meta_str(pod, "uid"),
                                wait_ms > 86400000 ? 86400000 : (int)wait_ms);
        return 0;
    }
    _cleanup_json_ json_t *live = NULL;
    int r = ctl_get_same(gc->client, pod, &live);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    const char *node =
        json_string_value(json_object_get(json_object_get(live, "spec"), "nodeName"));
    if (!node || !node[0])
        return 0;
    struct kos_ref nref = {.kind = kos_kind_by_kind("", "Node"), .name = node};
    r = kos_client_get(gc->client, &nref, NULL, NULL);
    if (r != -ENOENT)
        return r; /* the node exists: confirming is its agent's job */
    struct kos_ref ref;
    if (ctl_ref_of(live, &ref) < 0)
        return 0;
    struct kos_delete_options o = {.has_grace_period = true,
                                   .grace_period_seconds = 0,
                                   .precondition_uid = ctl_meta_str(live, "uid")};
    r = kos_client_delete(gc->client, &ref, &o, NULL, NULL);
    if (r == 0)
        log_info("gc",
                 "deleted pod %s/%s: its grace period expired on node %s, which does not "
                 "exist",
                 ref.ns ? ref.ns : "", ref.name, node);
    return r == -ENOENT ? 0 : r;
}

static int process(struct kos_gc *gc, const char *uid)
{
    pthread_mutex_lock(&gc->lock);
    _cleanup_json_ json_t *node = node_get(gc, uid);
    pthread_mutex_unlock(&gc->lock);
    if (!node)
        return 0;
    if (being_deleted(node)) {
        if (ctl_has_finalizer(node, KOS_FINALIZER_FOREGROUND, false))
            return process_foreground(gc, node);
        if (ctl_has_finalizer(node, KOS_FINALIZER_ORPHAN, false))
            return process_orphan(gc, node);
        return is_pod(node) ? pod_gc(gc, node) : 0;
    }
    if (json_array_size(owner_refs(node)) > 0)
        return attempt_to_delete(gc, node);
    return 0;
}

static bool all_synced(struct kos_gc *gc)
{
    for (size_t i = 0; i < gc->ninformers; i++) {
        int r = kos_informer_wait_synced(gc->informers[i], SYNC_POLL_MS);
        if (r < 0)
            return false;
    }
    return true;
}

static void *run(void *arg)
{
    struct kos_gc *gc = arg;
    /* Decisions on a partial graph would be wrong: wait until every kind was listed. */
    while (!all_synced(gc)) {
        if (atomic_load(&gc->stopping))
            return NULL;
    }
    for (;;) {
        char *uid = NULL;
        int r = kos_workqueue_get(gc->queue, -1, &uid);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = process(gc, uid);
        if (r < 0 && r != -ENOENT) {
            /* a conflict means fresh news is on its way: decide again soon */
            log_debug("gc", "object %s: %s; retrying", uid, strerror(-r));
            kos_workqueue_add_after(gc->queue, uid, r == -ECANCELED ? CONFLICT_RETRY_MS : RETRY_MS);
        }
        kos_workqueue_done(gc->queue, uid);
        free(uid);
    }
    return NULL;
}

int kos_gc_new(struct kos_client *c, struct kos_informer *const *informers, size_t n,
               struct kos_event_recorder *rec, struct kos_gc **ret)
{
    if (n > MAX_INFORMERS)
        return -E2BIG;
    struct kos_gc *gc = calloc(1, sizeof(*gc));
    if (!gc)
        return -ENOMEM;
    gc->client = c;
    gc->events = rec;
    pthread_mutex_init(&gc->lock, NULL);
    gc->dependents = json_object();
    int r = gc->dependents ? kos_workqueue_new(&gc->queue) : -ENOMEM;
    if (r < 0) {
        kos_gc_free(gc);
        return r;
    }
    struct kos_informer_handlers h = {.on_add = on_add,
                                      .on_update = on_update,
                                      .on_delete = on_delete,
                                      .ctx = gc,
                                      .ignores_old = true};
    for (size_t i = 0; i < n; i++) {
        r = kos_informer_add_handlers(informers[i], &h);
        if (r < 0) {
            kos_gc_free(gc);
            return r;
        }
        gc->informers[gc->ninformers++] = informers[i];
    }
    *ret = gc;
    return 0;
}

int kos_gc_start(struct kos_gc *gc)
{
    int r = pthread_create(&gc->worker, NULL, run, gc);
    if (r != 0)
        return -r;
    gc->started = true;
    return 0;
}

void kos_gc_stop(struct kos_gc *gc)
{
    atomic_store(&gc->stopping, true);
    kos_workqueue_shutdown(gc->queue);
    if (gc->started) {
        pthread_join(gc->worker, NULL);
        gc->started = false;
    }
}

void kos_gc_free(struct kos_gc *gc)
{
    if (!gc)
        return;
    if (gc->queue)
        kos_gc_stop(gc);
    kos_workqueue_free(gc->queue);
    size_t it = 0;
    void *n;
    while (kos_strmap_next(&gc->nodes, &it, NULL, &n))
        gc_node_free(n);
    kos_strmap_free(&gc->nodes);
    json_decref(gc->dependents);
    pthread_mutex_destroy(&gc->lock);
    free(gc);
}

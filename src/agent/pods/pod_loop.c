/* Pod loop: watch → admit → pod cgroup → runtime → status; deletion → kill → cgroup gone →
 * confirm. */
#include "agent/pods/pod_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cgroups/qos.h"
#include "agent/pods/admission.h"
#include "controllers/events.h"
#include "controllers/workqueue.h"
#include "client/informer.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

#define MAX_WORKERS 16
#define KEY_MAX     320
#define RETRY_MS    1000
#define RESYNC_MS   10000
/* The work-queue key of the one-off sweep for pod cgroups whose pods are gone. */
#define ORPHANS_KEY "@orphans"

/* What the agent remembers of a pod it has seen (the API object may be gone already). */
struct pod_entry {
    char key[KEY_MAX];
    char uid[128];
    enum agent_qos qos;
    bool admitted;
    bool rejected;
    bool cgroup;
    struct admit_used req; /* its requests, counted while admitted */
    /* node-pressure eviction (agent_pods_evict): stop with evict_grace, then write
     * evict_status; evicted once both are done (the informer may still show it running) */
    bool evicting, evicted;
    int64_t evict_grace;
    json_t *evict_status;
    struct pod_entry *next;
};

struct agent_pods {
    struct agent_pods_config cfg;
    struct kos_informer *informer;
    struct kos_workqueue *queue;
    struct kos_event_recorder *events;
    pthread_t workers[MAX_WORKERS];
    int n_workers;
    pthread_mutex_t lock; /* entries, used */
    struct pod_entry *entries;
    struct admit_used used;
    struct kos_ref pods_ref;
    pthread_cond_t evicted; /* an eviction finished (under lock) */
};

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

static void enqueue(struct agent_pods *p, const json_t *pod)
{
    const char *ns = meta_str(pod, "namespace"), *name = meta_str(pod, "name");
    char key[KEY_MAX];
    if (!ns || !name || snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
        return;
    kos_workqueue_add(p->queue, key);
}

static void on_add(void *ctx, const json_t *obj)
{
    enqueue(ctx, obj);
}

static bool is_terminal(const json_t *pod);

/* Whether two versions of a pod differ in more than their status and resourceVersion. */
static bool changed_beyond_status(const json_t *old, const json_t *obj)
{
    const char *k;
    const json_t *v;
    size_t skipped = 0;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!strcmp(k, "status")) {
            skipped++;
            continue;
        }
        if (strcmp(k, "metadata") != 0) {
            if (!json_equal(v, json_object_get(old, k)))
                return true;
            continue;
        }
        const json_t *om = json_object_get(old, "metadata");
        const char *mk;
        const json_t *mv;
        size_t mskipped = 0;
        json_object_foreach((json_t *)v, mk, mv)
        {
            if (!strcmp(mk, "resourceVersion") || !strcmp(mk, "managedFields")) {
                mskipped++;
                continue;
            }
            if (!json_equal(mv, json_object_get(om, mk)))
                return true;
        }
        size_t oskipped = (json_object_get(om, "resourceVersion") != NULL) +
                          (json_object_get(om, "managedFields") != NULL);
        if (json_object_size(v) - mskipped != json_object_size(om) - oskipped)
            return true;
    }
    size_t oskipped = json_object_get(old, "status") != NULL;
    return json_object_size(obj) - skipped != json_object_size(old) - oskipped;
}

static void on_update(void *ctx, const json_t *old, const json_t *obj)
{
    /* Like the kubelet (a RECONCILE, not an UPDATE, for its pod workers): a change of the
     * status alone, mostly this agent's own status write coming back, syncs nothing, unless
     * the pod just finished (its containers and cgroup go then). */
    if (old && !changed_beyond_status(old, obj) && !(is_terminal(obj) && !is_terminal(old)))
        return;
    enqueue(ctx, obj);
}

static void on_delete(void *ctx, const json_t *obj)
{
    enqueue(ctx, obj);
}

void agent_pods_requeue(void *agent_pods, const char *ns, const char *name, int64_t delay_ms)
{
    struct agent_pods *p = agent_pods;
    char key[KEY_MAX];
    if (!p || snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
        return;
    if (delay_ms > 3600 * 1000)
        delay_ms = 3600 * 1000;
    if (delay_ms <= 0)
        kos_workqueue_add(p->queue, key);
    else
        kos_workqueue_add_after(p->queue, key, (int)delay_ms);
}

/* ---- entries (under p->lock) ---- */

static struct pod_entry *entry_find(struct agent_pods *p, const char *key)
{
    for (struct pod_entry *e = p->entries; e; e = e->next)
        if (!strcmp(e->key, key))
            return e;
    return NULL;
}

static void entry_free(struct pod_entry *e)
{
    if (e) {
        json_decref(e->evict_status);
        free(e);
    }
}

static void entry_unlink(struct agent_pods *p, struct pod_entry *e)
{
    for (struct pod_entry **pp = &p->entries; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            return;
        }
}

static void used_add(struct admit_used *u, const struct admit_used *r, int sign)
{
    u->milli_cpu += sign * r->milli_cpu;
    u->memory += sign * r->memory;
    u->ephemeral_storage += sign * r->ephemeral_storage;
    u->pods += sign * r->pods;
}

/* burstable cpu.shares follow the summed cpu requests of admitted Burstable pods */
static void update_burstable(struct agent_pods *p)
{
    int64_t milli = 0;
    pthread_mutex_lock(&p->lock);
    for (struct pod_entry *e = p->entries; e; e = e->next)
        if (e->admitted && e->qos == AGENT_QOS_BURSTABLE)
            milli += e->req.milli_cpu;
    pthread_mutex_unlock(&p->lock);
    int r = cg_manager_set_burstable_cpu(p->cfg.cgroups, milli);
    if (r < 0)
        log_warn("agent", "updating the burstable cgroup failed: %s", strerror(-r));
}

/* ---- API writes ---- */

static int patch_status(struct agent_pods *p, const json_t *pod, json_t *status)
{
    _cleanup_json_ json_t *patch = json_pack("{s:O}", "status", status);
    if (!patch)
        return -ENOMEM;
    struct kos_ref ref = p->pods_ref;
    ref.ns = meta_str(pod, "namespace");
    ref.name = meta_str(pod, "name");
    ref.sub = "status";
    struct kos_error *err = NULL;
    int r = kos_client_patch(p->cfg.client, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, &err);
    if (r < 0 && r != -ENOENT)
        log_warn("agent", "updating the status of pod %s/%s failed: %s", ref.ns, ref.name,
                 err && err->message ? err->message : strerror(-r));
    kos_error_free(err);
    return r == -ENOENT ? 0 : r;
}

/* The kubelet's status manager deletes the object with grace 0 once nothing of the pod runs. */
static int confirm_deletion(struct agent_pods *p, const json_t *pod)
{
    struct kos_ref ref = p->pods_ref;
    ref.ns = meta_str(pod, "namespace");
    ref.name = meta_str(pod, "name");
    struct kos_delete_options o = {.has_grace_period = true,
                                   .grace_period_seconds = 0,
                                   .precondition_uid = meta_str(pod, "uid")};
    struct kos_error *err = NULL;
    int r = kos_client_delete(p->cfg.client, &ref, &o, NULL, &err);
    kos_error_free(err);
    return r == -ENOENT || r == -ECANCELED ? 0 : r;
}

/* ---- sync ---- */

/* Stops what runs of a pod and removes its cgroup. 0 when done, -EINPROGRESS while the
 * runtime is still stopping it. */
static int teardown(struct agent_pods *p, const char *uid, const json_t *pod, int64_t grace)
{
    if (p->cfg.runtime && p->cfg.runtime->kill) {
        int r = p->cfg.runtime->kill(p->cfg.runtime_ctx, uid, pod, grace);
        if (r < 0)
            return r;
    }
    return cg_manager_remove_pod(p->cfg.cgroups, uid);
}

/* Forgets the entry (its requests no longer count) after its pod was torn down. */
static void forget(struct agent_pods *p, const char *key, const char *uid)
{
    bool burstable = false;
    pthread_mutex_lock(&p->lock);
    struct pod_entry *e = entry_find(p, key);
    if (e && (!uid || !strcmp(e->uid, uid))) {
        if (e->admitted)
            used_add(&p->used, &e->req, -1);
        burstable = e->admitted && e->qos == AGENT_QOS_BURSTABLE;
        entry_unlink(p, e);
        entry_free(e);
        pthread_cond_broadcast(&p->evicted);
    }
    pthread_mutex_unlock(&p->lock);
    if (burstable)
        update_burstable(p);
}

static bool is_terminal(const json_t *pod)
{
    const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
    return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

static int64_t grace_of(const json_t *pod)
{
    const json_t *g =
        json_object_get(json_object_get(pod, "metadata"), "deletionGracePeriodSeconds");
    if (json_is_integer(g))
        return json_integer_value(g);
    g = json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");
    return json_is_integer(g) ? json_integer_value(g) : 30;
}

/* Admission under the lock so that two workers never both fit into the same room. Returns 1
 * admitted, 0 rejected (status written), negative errno. */
static int admit(struct agent_pods *p, const char *key, const json_t *pod, const char *uid)
{
    struct admit_result res = {.admit = true};
    struct admit_used req = {0};
    pthread_mutex_lock(&p->lock);
    struct pod_entry *e = entry_find(p, key);
    if (e && e->admitted) {
        pthread_mutex_unlock(&p->lock);
        return 1;
    }
    if (e && e->rejected) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    int r = 0;
    res.admit = true;
    /* the eviction manager's handler runs before resource fit, as in the kubelet */
    if (p->cfg.admit_hook)
        r = p->cfg.admit_hook(p->cfg.admit_ctx, pod, &res);
    if (r == 0 && res.admit)
        r = agent_admit(pod, &p->used, &p->cfg.allocatable, &res);
    if (r == 0)
        r = agent_admit_account(&req, pod, 1);
    if (r < 0) {
        res.admit = false;
        snprintf(res.reason, sizeof(res.reason), "UnexpectedAdmissionError");
        snprintf(res.message, sizeof(res.message),
                 "Pod was rejected: the pod's resource requests cannot be read");
    }
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e) {
            pthread_mutex_unlock(&p->lock);
            return -ENOMEM;
        }
        kos_strlcpy(e->key, key, sizeof(e->key));
        kos_strlcpy(e->uid, uid, sizeof(e->uid));
        e->next = p->entries;
        p->entries = e;
    }
    e->qos = agent_qos_of_pod(pod);
    if (res.admit) {
        e->admitted = true;
        e->req = req;
        used_add(&p->used, &req, 1);
    } else {
        e->rejected = true;
    }
    pthread_mutex_unlock(&p->lock);
    if (res.admit)
        return 1;

    log_info("agent", "pod %s rejected: %s: %s", key, res.reason, res.message);
    /* the kubelet's event carries the message without the "Pod was rejected: " prefix */
    const char *ev = res.message;
    if (kos_str_has_prefix(ev, "Pod was rejected: "))
        ev += strlen("Pod was rejected: ");
    (void)kos_event_record(p->events, pod, KOS_EVENT_WARNING, res.reason, "%s", ev);
    _cleanup_json_ json_t *st = json_pack("{s:s, s:s, s:s}", "phase", "Failed", "reason",
                                          res.reason, "message", res.message);
    if (!st)
        return -ENOMEM;
    r = patch_status(p, pod, st);
    return r < 0 ? r : 0;
}

/* Pods deleted while the agent was down leave their cgroups (and maybe processes): once the
 * informer has listed the node's pods, every pod cgroup without a pod is torn down. */
static int sweep_orphans(struct agent_pods *p)
{
    if (!kos_informer_has_synced(p->informer))
        return -EAGAIN;
    _cleanup_json_ json_t *uids = NULL;
    int r = cg_manager_list_pods(p->cfg.cgroups, &uids);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *pods = kos_informer_snapshot(p->informer);
    if (!pods)
        return -ENOMEM;
    size_t i, j;
    json_t *u, *pod;
    int ret = 0;
    json_array_foreach(uids, i, u)
    {
        bool live = false;
        json_array_foreach(pods, j, pod)
        {
            const char *uid = meta_str(pod, "uid");
            if (uid && !strcmp(uid, json_string_value(u)))
                live = true;
        }
        if (live)
            continue;
        log_info("agent", "removing the cgroup of pod %s, which no longer exists",
                 json_string_value(u));
        r = teardown(p, json_string_value(u), NULL, 0);
        if (r < 0 && ret == 0)
            ret = r;
    }
    return ret;
}

/* The eviction manager's request for this pod: stop it with the grace it chose, then write
 * its Failed/Evicted status. Returns 1 when the pod was (or is already) evicted and nothing
 * else must happen to it until the informer shows it terminal or deleted, 0 otherwise. */
static int evict_step(struct agent_pods *p, const char *key, const json_t *pod, const char *uid)
{
    _cleanup_json_ json_t *status = NULL;
    int64_t grace = 0;
    bool evicted = false;
    pthread_mutex_lock(&p->lock);
    struct pod_entry *e = entry_find(p, key);
    if (e && !strcmp(e->uid, uid)) {
        evicted = e->evicted;
        if (e->evicting && !e->evicted) {
            status = json_incref(e->evict_status);
            grace = e->evict_grace;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!status) {
        bool done = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") ||
                    is_terminal(pod);
        return evicted && !done ? 1 : 0;
    }
    int r = teardown(p, uid, pod, grace);
    if (r < 0)
        return r;
    if ((r = patch_status(p, pod, status)) < 0)
        return r;
    pthread_mutex_lock(&p->lock);
    if ((e = entry_find(p, key)) && !strcmp(e->uid, uid))
        e->evicted = true;
    pthread_cond_broadcast(&p->evicted);
    pthread_mutex_unlock(&p->lock);
    return 1;
}

static int sync_pod(struct agent_pods *p, const char *key)
{
    if (!strcmp(key, ORPHANS_KEY))
        return sweep_orphans(p);
    char ns[KEY_MAX];
    kos_strlcpy(ns, key, sizeof(ns));
    char *slash = strchr(ns, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    const char *name = slash + 1;

    _cleanup_json_ json_t *pod = kos_informer_get(p->informer, ns, name);
    const char *uid = meta_str(pod, "uid");

    /* A pod we knew that is gone, or replaced by a new one of the same name. */
    char old_uid[128] = "";
    pthread_mutex_lock(&p->lock);
    struct pod_entry *e = entry_find(p, key);
    if (e && (!uid || strcmp(e->uid, uid) != 0))
        kos_strlcpy(old_uid, e->uid, sizeof(old_uid));
    pthread_mutex_unlock(&p->lock);
    if (old_uid[0]) {
        int r = teardown(p, old_uid, NULL, 0);
        if (r < 0)
            return r;
        forget(p, key, old_uid);
    }
    if (!pod || !uid)
        return 0;

    bool deleting = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
    int r = evict_step(p, key, pod, uid);
    if (r != 0)
        return r < 0 ? r : 0;
    if (deleting || is_terminal(pod)) {
        r = teardown(p, uid, pod, deleting ? grace_of(pod) : 0);
        if (r < 0)
            return r;
        forget(p, key, uid);
        return deleting ? confirm_deletion(p, pod) : 0;
    }

    r = admit(p, key, pod, uid);
    if (r <= 0)
        return r;
    if ((r = cg_manager_ensure_pod(p->cfg.cgroups, pod)) < 0) {
        log_warn("agent", "creating the cgroup of pod %s failed: %s", key, strerror(-r));
        return r;
    }
    bool first = false;
    pthread_mutex_lock(&p->lock);
    if ((e = entry_find(p, key)) && !e->cgroup) {
        e->cgroup = true;
        first = e->qos == AGENT_QOS_BURSTABLE;
    }
    pthread_mutex_unlock(&p->lock);
    if (first)
        update_burstable(p);

    if (!p->cfg.runtime || !p->cfg.runtime->sync)
        return 0;
    struct pod_runtime_pod rp = {.pod = pod, .qos = agent_qos_of_pod(pod), .uid = uid};
    if ((r = cg_manager_pod_name(p->cfg.cgroups, rp.qos, uid, rp.cgroup_name,
                                 sizeof(rp.cgroup_name))) < 0)
        return r;
    _cleanup_json_ json_t *status = NULL;
    r = p->cfg.runtime->sync(p->cfg.runtime_ctx, &rp, &status);
    if (status) {
        /* only what changed goes out */
        json_t *cur = json_object_get(pod, "status");
        bool changed = false;
        const char *k;
        json_t *v;
        json_object_foreach(status, k, v)
        {
            if (!json_equal(json_object_get(cur, k), v)) {
                changed = true;
                break;
            }
        }
        if (changed) {
            int q = patch_status(p, pod, status);
            if (r == 0)
                r = q;
        }
    }
    if (r == 0)
        agent_pods_requeue(p, ns, name, RESYNC_MS);
    return r;
}

static void *worker(void *arg)
{
    struct agent_pods *p = arg;
    for (;;) {
        char *key = NULL;
        int r = kos_workqueue_get(p->queue, -1, &key);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        r = sync_pod(p, key);
        if (r == -EINPROGRESS || r == -EAGAIN) {
            kos_workqueue_add_after(p->queue, key, RETRY_MS); /* the runtime is stopping it */
        } else if (r < 0) {
            log_warn("agent", "syncing pod %s: %s (retrying)", key, strerror(-r));
            kos_workqueue_add_after(p->queue, key, RETRY_MS);
        }
        kos_workqueue_done(p->queue, key);
        free(key);
    }
    return NULL;
}

int agent_pods_start(const struct agent_pods_config *cfg, struct agent_pods **ret)
{
    struct agent_pods *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->evicted, NULL);
    p->pods_ref.kind = kos_client_kind_of("v1", "Pod");
    char selector[300];
    snprintf(selector, sizeof(selector), "spec.nodeName=%s", cfg->node_name);
    struct kos_informer_options io = {
        .kind = p->pods_ref.kind, .field_selector = selector, .drop_managed_fields = true};
    struct kos_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = p};
    int r = kos_workqueue_new(&p->queue);
    if (r == 0)
        r = kos_event_recorder_new(cfg->client, "kubelet", &p->events);
    if (r == 0)
        r = kos_informer_new(cfg->client, &io, &p->informer);
    if (r == 0)
        r = kos_informer_add_handlers(p->informer, &h);
    if (r == 0)
        r = kos_informer_start(p->informer);
    if (r == 0)
        r = kos_workqueue_add(p->queue, ORPHANS_KEY);
    /* The kubelet runs a goroutine per pod. A pod's start spends most of its time waiting
     * for runc and the kernel (about 130 ms of wall time for about 40 ms of CPU on a quiet
     * 2-core machine), so 4 workers left the CPUs idle while a burst of pods queued behind
     * each other (50 pods: ~27 ms more per pod in the queue); 16 overlap those waits. */
    int n = cfg->workers > 0 ? cfg->workers : 16;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    for (int i = 0; r == 0 && i < n; i++) {
        r = -pthread_create(&p->workers[i], NULL, worker, p);
        if (r == 0)
            p->n_workers++;
    }
    if (r < 0) {
        agent_pods_stop(p);
        return r;
    }
    *ret = p;
    return 0;
}

int agent_pods_active(struct agent_pods *p, json_t **ret)
{
    _cleanup_json_ json_t *out = json_array();
    if (!out)
        return -ENOMEM;
    size_t n = 0, cap = 0;
    _cleanup_free_ char(*keys)[KEY_MAX] = NULL;
    pthread_mutex_lock(&p->lock);
    for (struct pod_entry *e = p->entries; e; e = e->next)
        cap++;
    keys = cap ? calloc(cap, sizeof(*keys)) : NULL;
    for (struct pod_entry *e = p->entries; keys && e; e = e->next)
        if (e->admitted && !e->evicting && !e->evicted)
            kos_strlcpy(keys[n++], e->key, KEY_MAX);
    pthread_mutex_unlock(&p->lock);
    if (cap && !keys)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char *slash = strchr(keys[i], '/');
        if (!slash)
            continue;
        *slash = '\0';
        json_t *pod = kos_informer_get(p->informer, keys[i], slash + 1);
        if (!pod)
            continue;
        if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") ||
            is_terminal(pod) || json_array_append_new(out, pod) < 0)
            json_decref(pod);
    }
    *ret = TAKE_PTR(out);
    return 0;
}

int agent_pods_evict(struct agent_pods *p, const json_t *pod, int64_t grace_seconds,
                     const json_t *status, int64_t timeout_ms)
{
    const char *ns = meta_str(pod, "namespace"), *name = meta_str(pod, "name");
    const char *uid = meta_str(pod, "uid");
    char key[KEY_MAX];
    if (!ns || !name || !uid || snprintf(key, sizeof(key), "%s/%s", ns, name) >= (int)sizeof(key))
        return -EINVAL;
    json_t *st = json_deep_copy(status);
    if (!st)
        return -ENOMEM;
    pthread_mutex_lock(&p->lock);
    struct pod_entry *e = entry_find(p, key);
    if (!e || strcmp(e->uid, uid) != 0 || !e->admitted || e->evicted || e->evicting) {
        pthread_mutex_unlock(&p->lock);
        json_decref(st);
        return -ENOENT;
    }
    e->evicting = true;
    e->evict_grace = grace_seconds;
    e->evict_status = st;
    pthread_mutex_unlock(&p->lock);
    kos_workqueue_add(p->queue, key);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    int r = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        e = entry_find(p, key);
        if (!e || strcmp(e->uid, uid) != 0 || e->evicted)
            break;
        if (pthread_cond_timedwait(&p->evicted, &p->lock, &until) == ETIMEDOUT) {
            r = -ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

void agent_pods_shutdown(struct agent_pods *p)
{
    if (!p)
        return;
    if (p->informer)
        kos_informer_stop(p->informer);
    if (p->queue)
        kos_workqueue_shutdown(p->queue);
    for (int i = 0; i < p->n_workers; i++)
        pthread_join(p->workers[i], NULL);
    p->n_workers = 0;
}

void agent_pods_stop(struct agent_pods *p)
{
    if (!p)
        return;
    agent_pods_shutdown(p);
    kos_informer_free(p->informer);
    kos_workqueue_free(p->queue);
    kos_event_recorder_free(p->events);
    while (p->entries) {
        struct pod_entry *e = p->entries;
        p->entries = e->next;
        entry_free(e);
    }
    pthread_cond_destroy(&p->evicted);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

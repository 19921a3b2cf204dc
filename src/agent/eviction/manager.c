/* The eviction manager's loop. */
#include "agent/eviction/manager.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/cgroups/qos.h"
#include "agent/eviction/decide.h"
#include "agent/eviction/local_storage.h"
#include "agent/eviction/message.h"
#include "agent/eviction/notifier.h"
#include "agent/eviction/rank.h"
#include "agent/eviction/signals.h"
#include "agent/eviction/status.h"
#include "controllers/events.h"
#include "scheduler/resources.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timeutil.h"

/* eviction_manager.go: immediateEvictionGracePeriodSeconds, podCleanupTimeout */
#define HARD_GRACE_SECONDS 1
#define CLEANUP_TIMEOUT_MS 30000

struct evict_manager {
    struct evict_manager_config c;
    char root_dir[1024], image_dir[1100], pod_log_dir[1024], node_name[254];
    struct evict_sources src;
    struct kos_event_recorder *events;
    json_t *node_ref;
    struct agent_pods *pods;
    struct evict_notifier notifier;
    int stop_fd;

    pthread_mutex_t lock; /* state, conditions */
    struct evict_state state;
    unsigned conditions;

    pthread_t thread;
    bool started;
};

unsigned evict_manager_conditions(struct evict_manager *m)
{
    pthread_mutex_lock(&m->lock);
    unsigned c = m->conditions;
    pthread_mutex_unlock(&m->lock);
    return c;
}

static bool tolerates_memory_pressure(const json_t *pod)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "tolerations"), i, t)
    {
        const char *key = json_string_value(json_object_get(t, "key"));
        const char *op = json_string_value(json_object_get(t, "operator"));
        const char *effect = json_string_value(json_object_get(t, "effect"));
        const char *value = json_string_value(json_object_get(t, "value"));
        bool exists = op && !strcmp(op, "Exists");
        /* ToleratesTaint: effect empty matches all; key empty with Exists matches all keys */
        if (effect && *effect && strcmp(effect, "NoSchedule") != 0)
            continue;
        if (key && *key && strcmp(key, "node.kubernetes.io/memory-pressure") != 0)
            continue;
        if ((!key || !*key) && !exists)
            continue;
        if (exists || !value || !*value)
            return true;
    }
    return false;
}

int evict_manager_admit(void *ctx, const json_t *pod, struct admit_result *res)
{
    struct evict_manager *m = ctx;
    unsigned conds = evict_manager_conditions(m);
    res->admit = true;
    if (!conds || evict_pod_is_critical(pod))
        return 0;
    /* only MemoryPressure: everything but BestEffort, and BestEffort tolerating the taint */
    if (conds == EVICT_COND_MEMORY &&
        (agent_qos_of_pod(pod) != AGENT_QOS_BEST_EFFORT || tolerates_memory_pressure(pod)))
        return 0;
    char names[64];
    evict_conditions_text(conds, names, sizeof(names));
    res->admit = false;
    snprintf(res->reason, sizeof(res->reason), "Evicted");
    snprintf(res->message, sizeof(res->message), "Pod was rejected: The node had condition: %s. ",
             names);
    return 0;
}

/* ---- one round ---- */

/* The kubepods usage at which memory.available (or allocatableMemory.available) would cross
 * the lowest memory threshold: the notification is armed there. */
static void arm_notifier(struct evict_manager *m, const struct evict_observations *obs)
{
    const struct cg_hierarchy *h = cg_host_controller(cg_manager_host(m->c.cgroups), "memory");
    char dir[4096];
    int64_t ws, usage;
    if (!h || h->v2 || cg_manager_kubepods_dir(m->c.cgroups, "memory", dir, sizeof(dir)) < 0 ||
        evict_cgroup_memory(dir, false, &ws, &usage) < 0)
        return;
    int64_t best = -1;
    for (size_t i = 0; i < m->c.cfg.n; i++) {
        const struct evict_threshold *t = &m->c.cfg.t[i];
        const struct evict_observation *o = &obs->o[t->signal];
        if (evict_signal_resource(t->signal) != EVICT_RES_MEMORY || !o->present)
            continue;
        int64_t room = o->available - agent_threshold_quantity(&t->value, o->capacity);
        if (room <= 0)
            continue; /* already met: the housekeeping tick evaluates it anyway */
        if (best < 0 || usage + room < best)
            best = usage + room;
    }
    if (best < 0) {
        evict_notifier_close(&m->notifier);
        return;
    }
    int r = evict_notifier_arm(&m->notifier, dir, best);
    if (r < 0)
        log_debug("eviction", "memory threshold notification unavailable: %s", strerror(-r));
    else if (r > 0)
        log_debug("eviction",
                  "memory threshold notification armed at %lld bytes of kubepods "
                  "usage (now %lld)",
                  (long long)best, (long long)usage);
}

static int64_t pod_request(const json_t *pod, bool memory)
{
    struct sched_pod_resources pr;
    if (sched_pod_resources_from_spec(json_object_get(pod, "spec"), &pr) < 0)
        return 0;
    int64_t v = memory ? pr.req.memory : pr.req.ephemeral_storage;
    sched_pod_resources_clear(&pr);
    return v;
}

static const char *meta(const json_t *pod, const char *k)
{
    return json_string_value(json_object_get(json_object_get(pod, "metadata"), k));
}

static void pod_stats(struct evict_manager *m, const json_t *pod, bool disk,
                      struct evict_pod_stats *st)
{
    const char *uid = meta(pod, "uid");
    char logs[2048], vols[2048];
    snprintf(logs, sizeof(logs), "%s/%s_%s_%s", m->pod_log_dir, meta(pod, "namespace"),
             meta(pod, "name"), uid);
    snprintf(vols, sizeof(vols), "%s/pods/%s", m->root_dir, uid);
    const char *dirs[] = {logs, vols, NULL};
    if (evict_pod_stats_read(m->c.cgroups, agent_qos_of_pod(pod), uid, dirs, disk, st) < 0)
        st->found = false;
}

/* localStorageEviction: every pod over an emptyDir sizeLimit or its ephemeral-storage
 * limits goes at once (hard grace, no DisruptionTarget condition, an Evicted event without
 * annotations), whatever the node's signals say. Returns how many were evicted. */
static size_t local_storage_eviction(struct evict_manager *m)
{
    _cleanup_json_ json_t *pods = NULL;
    if (agent_pods_active(m->pods, &pods) < 0)
        return 0;
    size_t evicted = 0, i;
    const json_t *pod;
    json_array_foreach(pods, i, pod)
    {
        if (!evict_local_storage_limited(pod))
            continue;
        struct evict_storage_usage u;
        if (evict_storage_usage_read(pod, m->root_dir, m->pod_log_dir, &u) < 0)
            continue;
        _cleanup_free_ char *msg = NULL;
        int r = evict_local_storage_check(pod, &u, &msg);
        evict_storage_usage_clear(&u);
        if (r <= 0)
            continue;
        if (evict_pod_is_critical(pod)) {
            log_warn("eviction", "cannot evict a critical pod %s/%s", meta(pod, "namespace"),
                     meta(pod, "name"));
            continue;
        }
        _cleanup_json_ json_t *status = evict_pod_status_ex(pod, msg, time(NULL), false);
        if (!status)
            continue;
        (void)kos_event_record(m->events, pod, KOS_EVENT_WARNING, "Evicted", "%s", msg);
        log_info("eviction", "evicting pod %s/%s: %s", meta(pod, "namespace"), meta(pod, "name"),
                 msg);
        r = agent_pods_evict(m->pods, pod, HARD_GRACE_SECONDS, status, CLEANUP_TIMEOUT_MS);
        if (r == -ENOENT)
            continue;
        if (r < 0)
            log_warn("eviction", "pod %s/%s was not cleaned up: %s", meta(pod, "namespace"),
                     meta(pod, "name"), strerror(-r));
        evicted++;
    }
    return evicted;
}

static void synchronize(struct evict_manager *m)
{
    struct evict_observations obs;
    evict_observe(&m->src, &obs);
    int64_t now = kos_now_ms_monotonic();
    pthread_mutex_lock(&m->lock);
    int pick = evict_decide(&m->state, &m->c.cfg, &obs, now);
    unsigned before = m->conditions;
    m->conditions = m->state.conditions;
    unsigned after = m->conditions;
    pthread_mutex_unlock(&m->lock);
    if (before != after && m->c.on_change)
        m->c.on_change(m->c.ctx);
    arm_notifier(m, &obs);
    /* local storage limit evictions come first; when one happened the round ends there */
    if (!m->pods || local_storage_eviction(m) > 0 || pick < 0)
        return;

    const struct evict_threshold *t = &m->c.cfg.t[pick];
    enum evict_resource res = evict_signal_resource(t->signal);
    (void)kos_event_record(m->events, m->node_ref, KOS_EVENT_WARNING, "EvictionThresholdMet",
                           "Attempting to reclaim %s", evict_resource_name(res));

    /* reclaimNodeLevelResources: dead containers and unused images first; no eviction when
     * that was enough (every threshold recovered, minimum reclaims included) */
    bool disk = res == EVICT_RES_EPHEMERAL_STORAGE || res == EVICT_RES_INODES;
    if (disk && m->c.reclaim_disk) {
        int64_t freed = 0;
        int r = m->c.reclaim_disk(m->c.reclaim_ctx, &freed);
        if (r < 0)
            log_warn("eviction", "reclaiming disk space failed: %s", strerror(-r));
        else
            log_info("eviction", "reclaimed %lld bytes of dead containers and unused images",
                     (long long)freed);
        struct evict_observations now_obs;
        evict_observe(&m->src, &now_obs);
        bool still = false;
        pthread_mutex_lock(&m->lock);
        for (size_t i = 0; i < m->c.cfg.n; i++) {
            const struct evict_observation *o = &now_obs.o[m->c.cfg.t[i].signal];
            still |= evict_threshold_met(&m->c.cfg.t[i], o, false) ||
                     (m->state.met[i] && evict_threshold_met(&m->c.cfg.t[i], o, true));
        }
        pthread_mutex_unlock(&m->lock);
        if (!still)
            return;
    }

    _cleanup_json_ json_t *pods = NULL;
    if (agent_pods_active(m->pods, &pods) < 0 || json_array_size(pods) == 0)
        return;
    size_t n = json_array_size(pods);
    _cleanup_free_ struct evict_candidate *cand = calloc(n, sizeof(*cand));
    _cleanup_free_ struct evict_pod_stats *stats = calloc(n, sizeof(*stats));
    if (!cand || !stats)
        return;
    for (size_t i = 0; i < n; i++) {
        const json_t *pod = json_array_get(pods, i);
        pod_stats(m, pod, disk, &stats[i]);
        const json_t *prio = json_object_get(json_object_get(pod, "spec"), "priority");
        cand[i] = (struct evict_candidate){
            .priority = json_is_integer(prio) ? (int32_t)json_integer_value(prio) : 0,
            .qos = agent_qos_of_pod(pod),
            .has_stats = stats[i].found,
            .memory = stats[i].memory,
            .memory_request = pod_request(pod, true),
            .disk = stats[i].disk,
            .inodes = stats[i].inodes,
            .disk_request = pod_request(pod, false),
            .processes = stats[i].processes,
            .index = i,
        };
    }
    evict_rank(cand, n, res, m->c.cfg.ranking);

    for (size_t k = 0; k < n; k++) {
        size_t i = cand[k].index;
        const json_t *pod = json_array_get(pods, i);
        if (evict_pod_is_critical(pod)) {
            log_warn("eviction", "cannot evict a critical pod %s/%s", meta(pod, "namespace"),
                     meta(pod, "name"));
            continue;
        }
        int64_t grace = HARD_GRACE_SECONDS;
        if (t->grace_ms > 0) {
            grace = m->c.cfg.max_pod_grace_s;
            const json_t *g =
                json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");
            if (json_is_integer(g) && json_integer_value(g) < grace)
                grace = json_integer_value(g);
        }
        _cleanup_json_ json_t *annotations = NULL;
        _cleanup_free_ char *msg = evict_message_annotated(
            res, t, &obs.o[t->signal], pod, stats[i].found ? &stats[i] : NULL, &annotations);
        if (!msg)
            return;
        _cleanup_json_ json_t *status = evict_pod_status(pod, msg, time(NULL));
        if (!status)
            return;
        (void)kos_event_record_annotated(m->events, pod, annotations, KOS_EVENT_WARNING, "Evicted",
                                         "%s", msg);
        log_info("eviction", "evicting pod %s/%s: %s", meta(pod, "namespace"), meta(pod, "name"),
                 msg);
        int r = agent_pods_evict(m->pods, pod, grace, status, CLEANUP_TIMEOUT_MS);
        if (r == -ENOENT)
            continue; /* gone meanwhile: the next one */
        if (r < 0)
            log_warn("eviction", "pod %s/%s was not cleaned up: %s", meta(pod, "namespace"),
                     meta(pod, "name"), strerror(-r));
        return; /* one pod per round */
    }
}

static void *loop(void *arg)
{
    struct evict_manager *m = arg;
    int64_t next = kos_now_ms_monotonic();
    for (;;) {
        int64_t now = kos_now_ms_monotonic();
        if (now >= next) {
            synchronize(m);
            now = kos_now_ms_monotonic();
            next = now + m->c.cfg.housekeeping_ms;
        }
        struct pollfd pfd[2] = {{.fd = m->stop_fd, .events = POLLIN},
                                {.fd = m->notifier.efd, .events = POLLIN}};
        int wait = (int)(next - now);
        int r = poll(pfd, m->notifier.efd >= 0 ? 2 : 1, wait > 0 ? wait : 0);
        if (r < 0 && errno != EINTR)
            break;
        if (pfd[0].revents)
            break;
        if (m->notifier.efd >= 0 && (pfd[1].revents & POLLIN)) {
            evict_notifier_ack(&m->notifier);
            log_debug("eviction", "memory threshold notification: looking now");
            next = kos_now_ms_monotonic(); /* the threshold notification: look now */
        }
    }
    return NULL;
}

int evict_manager_new(const struct evict_manager_config *c, struct evict_manager **ret)
{
    struct evict_manager *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->c = *c;
    m->stop_fd = -1;
    pthread_mutex_init(&m->lock, NULL);
    evict_notifier_init(&m->notifier);
    kos_strlcpy(m->root_dir, c->root_dir, sizeof(m->root_dir));
    snprintf(m->image_dir, sizeof(m->image_dir), "%s/images", c->root_dir);
    kos_strlcpy(m->pod_log_dir, c->pod_log_dir ? c->pod_log_dir : "/var/log/pods",
                sizeof(m->pod_log_dir));
    kos_strlcpy(m->node_name, c->node_name, sizeof(m->node_name));
    m->c.node_name = m->node_name;
    m->src = (struct evict_sources){.cgroups = c->cgroups,
                                    .memory_capacity = c->memory_capacity,
                                    .nodefs_dir = m->root_dir,
                                    .imagefs_dir = m->image_dir,
                                    .proc = "/proc"};
    /* the kubelet's node reference: its uid is the node's name */
    m->node_ref = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Node",
                            "metadata", "name", m->node_name, "uid", m->node_name);
    int r = m->node_ref ? 0 : -ENOMEM;
    if (r == 0 && c->client)
        r = kos_event_recorder_new(c->client, "kubelet", &m->events);
    if (r == 0 && (m->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        r = -errno;
    if (r < 0) {
        evict_manager_free(m);
        return r;
    }
    /* the first conditions, before anything is posted */
    struct evict_observations obs;
    evict_observe(&m->src, &obs);
    evict_decide(&m->state, &m->c.cfg, &obs, kos_now_ms_monotonic());
    m->conditions = m->state.conditions;
    *ret = m;
    return 0;
}

int evict_manager_start(struct evict_manager *m, struct agent_pods *pods)
{
    m->pods = pods;
    int r = -pthread_create(&m->thread, NULL, loop, m);
    if (r == 0) {
        m->started = true;
        /* bench/eviction.sh finds the manager's own CPU time by this name */
        pthread_setname_np(m->thread, "kos-eviction");
    }
    return r;
}

void evict_manager_free(struct evict_manager *m)
{
    if (!m)
        return;
    if (m->started) {
        uint64_t one = 1;
        (void)!write(m->stop_fd, &one, sizeof(one));
        pthread_join(m->thread, NULL);
    }
    if (m->stop_fd >= 0)
        close(m->stop_fd);
    evict_notifier_close(&m->notifier);
    kos_event_recorder_free(m->events);
    json_decref(m->node_ref);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* Probe workers on a thread pool (see prober.h). A worker is due at a time; a free thread
 * takes the earliest due worker, decides under the lock what the tick means
 * (kos_probe_state_tick), runs the probe without the lock and counts its outcome under the
 * lock again. Probe specs and container specs are immutable in a pod, so a worker keeps the
 * copies it was made with. */
#include "agent/prober/prober.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define MAX_THREADS 16
#define NEVER       INT64_MAX
/* runProbeWithRetries: a probe that errors is tried this often before the tick gives up */
#define MAX_PROBE_RETRIES 3

struct worker {
    char uid[128];
    char ns[256];
    char pod[256];
    char ctr[256];
    enum kos_probe_type type;
    json_t *probe;     /* the probe's spec */
    json_t *container; /* the container's spec (ports, env) */
    json_t *ref;       /* the event's involved object, with fieldPath */
    int64_t initial_delay_s, period_s, timeout_s, success_threshold, failure_threshold;
    /* what the last sync said about the container */
    char container_id[KOS_PROBE_CONTAINER_ID_MAX];
    char runtime_id[512];
    char pod_ip[128];
    bool running, terminated, restart_never, deleting;
    int64_t started_at_ms;
    struct kos_probe_state st;
    int64_t due_ms; /* monotonic */
    bool busy;      /* a thread runs its probe */
    bool dead;      /* removed while busy: the thread frees it */
    struct worker *next;
};

struct kos_prober {
    struct kos_prober_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    struct worker *workers;
    pthread_t threads[MAX_THREADS];
    int n_threads;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void worker_free(struct worker *w)
{
    if (!w)
        return;
    json_decref(w->probe);
    json_decref(w->container);
    json_decref(w->ref);
    free(w);
}

static int64_t int_field(const json_t *o, const char *k, int64_t def, int64_t min)
{
    const json_t *v = json_object_get(o, k);
    int64_t n = json_is_integer(v) ? json_integer_value(v) : def;
    /* zero means "use the default" for the fields the API server defaults */
    if (n <= 0 && def > 0)
        n = def;
    return n < min ? min : n;
}

/* Under the lock. */
static struct worker *find(struct kos_prober *p, const char *uid, const char *ctr,
                           enum kos_probe_type t)
{
    for (struct worker *w = p->workers; w; w = w->next)
        if (!w->dead && w->type == t && strcmp(w->uid, uid) == 0 && strcmp(w->ctr, ctr) == 0)
            return w;
    return NULL;
}

/* Under the lock: containerStatuses[].started of the worker's container. */
static bool started_of(struct kos_prober *p, const char *uid, const char *ctr, const char *id,
                       bool running)
{
    if (!running)
        return false;
    struct worker *s = find(p, uid, ctr, KOS_PROBE_STARTUP);
    if (!s)
        return true;
    enum kos_probe_result r;
    return kos_probe_state_get(&s->st, id, &r) && r == KOS_PROBE_RESULT_SUCCESS;
}

/* Under the lock: the other probes of a container that just started run at once (the
 * kubelet triggers readiness when it finds no result). */
static void wake_container(struct kos_prober *p, const struct worker *w)
{
    int64_t now = kos_now_ms_monotonic();
    for (struct worker *o = p->workers; o; o = o->next)
        if (o != w && !o->dead && strcmp(o->uid, w->uid) == 0 && strcmp(o->ctr, w->ctr) == 0 &&
            o->due_ms > now)
            o->due_ms = now;
    pthread_cond_broadcast(&p->cond);
}

json_t *kos_prober_event_ref(const json_t *pod, const char *ctr)
{
    const json_t *meta = json_object_get(pod, "metadata");
    char fp[300];
    snprintf(fp, sizeof(fp), "spec.containers{%s}", ctr);
    json_t *m = json_object();
    static const char *const keys[] = {"namespace", "name", "uid", "resourceVersion", NULL};
    for (size_t i = 0; m && keys[i]; i++) {
        const char *v = json_string_value(json_object_get(meta, keys[i]));
        if (v)
            json_object_set_new(m, keys[i], json_string(v));
    }
    return json_pack("{s:s, s:s, s:o, s:s}", "apiVersion", "v1", "kind", "Pod", "metadata", m,
                     "fieldPath", fp);
}

/* ---- running one probe ---- */

struct job {
    enum kos_probe_type type;
    json_t *probe, *container, *ref;
    char runtime_id[512];
    char pod_ip[128];
    int64_t timeout_ms;
};

/* The probe kind's outcome, retried while it errors (prober.runProbeWithRetries). */
static int run_probe(struct kos_prober *p, const struct job *j, char *out, size_t size)
{
    const json_t *a;
    int r = -EINVAL;
    for (int i = 0; i < MAX_PROBE_RETRIES; i++) {
        out[0] = '\0';
        if ((a = json_object_get(j->probe, "exec")))
            r = kos_probe_exec(a, j->container, j->runtime_id, j->timeout_ms, p->cfg.exec,
                               p->cfg.exec_ctx, out, size);
        else if ((a = json_object_get(j->probe, "httpGet")))
            r = kos_probe_http(a, j->container, j->pod_ip, j->timeout_ms, out, size);
        else if ((a = json_object_get(j->probe, "tcpSocket")))
            r = kos_probe_tcp(a, j->container, j->pod_ip, j->timeout_ms, out, size);
        else if ((a = json_object_get(j->probe, "grpc")))
            r = kos_probe_grpc(a, j->pod_ip, j->timeout_ms, out, size);
        else {
            snprintf(out, size, "missing probe handler");
            r = -EINVAL;
        }
        if (r >= 0)
            break;
    }
    return r;
}

/* prober.probe: the outcome as a cached result, with the kubelet's events. false: the probe
 * errored and its result is thrown away. */
static bool probe_once(struct kos_prober *p, const struct job *j, enum kos_probe_result *ret)
{
    _cleanup_free_ char *out = malloc(KOS_PROBE_OUTPUT_MAX + 1024);
    if (!out)
        return false;
    int r = run_probe(p, j, out, KOS_PROBE_OUTPUT_MAX + 1024);
    const char *tn = kos_probe_type_name(j->type);
    if (r < 0) {
        if (p->cfg.events)
            (void)kos_event_record(p->cfg.events, j->ref, KOS_EVENT_WARNING, "Unhealthy",
                                   "%s probe errored and resulted in unknown state: %s", tn, out);
        return false;
    }
    switch (r) {
    case KOS_PROBE_OUT_SUCCESS:
        *ret = KOS_PROBE_RESULT_SUCCESS;
        break;
    case KOS_PROBE_OUT_WARNING:
        if (p->cfg.events)
            (void)kos_event_record(p->cfg.events, j->ref, KOS_EVENT_WARNING, "ProbeWarning",
                                   "%s probe warning: %s", tn, out);
        *ret = KOS_PROBE_RESULT_SUCCESS;
        break;
    case KOS_PROBE_OUT_FAILURE:
        if (p->cfg.events)
            (void)kos_event_record(p->cfg.events, j->ref, KOS_EVENT_WARNING, "Unhealthy",
                                   "%s probe failed: %s", tn, out);
        *ret = KOS_PROBE_RESULT_FAILURE;
        break;
    default:
        *ret = KOS_PROBE_RESULT_FAILURE;
    }
    return true;
}

/* ---- the pool ---- */

struct notice {
    char ns[256], name[256];
};

static void notify(struct kos_prober *p, const struct notice *n)
{
    if (p->cfg.changed)
        p->cfg.changed(p->cfg.changed_ctx, n->ns, n->name);
}

/* Under the lock: the tick of a due worker. Returns true with *job filled when a probe must
 * run; *changed when the cached result changed already. */
static bool tick(struct kos_prober *p, struct worker *w, struct job *job, bool *changed)
{
    int64_t now = kos_now_ms_monotonic(), wall = wall_ms();
    struct kos_probe_container_info ci = {
        .container_id = w->container_id,
        .running = w->running,
        .terminated = w->terminated,
        .started_at_ms = w->started_at_ms,
        .started = started_of(p, w->uid, w->ctr, w->container_id, w->running),
        .restart_never = w->restart_never,
        .deleting = w->deleting,
    };
    enum kos_probe_action a =
        kos_probe_state_tick(&w->st, w->type, &ci, w->initial_delay_s, wall, changed);
    switch (a) {
    case KOS_PROBE_RUN:
        break;
    case KOS_PROBE_WAIT_DELAY: {
        int64_t left = w->started_at_ms + w->initial_delay_s * 1000 - wall;
        w->due_ms = now + (left > 10 ? left : 10);
        return false;
    }
    case KOS_PROBE_STOP:
        w->due_ms = NEVER; /* until a sync shows a new container */
        return false;
    case KOS_PROBE_WAIT:
    default:
        w->due_ms = now + w->period_s * 1000;
        return false;
    }
    w->busy = true;
    w->due_ms = now + w->period_s * 1000;
    job->type = w->type;
    job->probe = json_incref(w->probe);
    job->container = json_incref(w->container);
    job->ref = json_incref(w->ref);
    kos_strlcpy(job->runtime_id, w->runtime_id, sizeof(job->runtime_id));
    kos_strlcpy(job->pod_ip, w->pod_ip, sizeof(job->pod_ip));
    job->timeout_ms = w->timeout_s * 1000;
    return true;
}

static void *pool_thread(void *arg)
{
    struct kos_prober *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        int64_t now = kos_now_ms_monotonic();
        struct worker *best = NULL;
        for (struct worker *w = p->workers; w; w = w->next)
            if (!w->busy && !w->dead && (!best || w->due_ms < best->due_ms))
                best = w;
        if (!best || best->due_ms > now) {
            int64_t wait = best && best->due_ms != NEVER ? best->due_ms - now : 3600 * 1000;
            struct timespec ts = kos_deadline_after_ms(CLOCK_MONOTONIC, wait);
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
            continue;
        }
        struct job job = {0};
        bool changed = false;
        struct notice n;
        kos_strlcpy(n.ns, best->ns, sizeof(n.ns));
        kos_strlcpy(n.name, best->pod, sizeof(n.name));
        bool run = tick(p, best, &job, &changed);
        if (changed && best->type == KOS_PROBE_STARTUP)
            wake_container(p, best);
        if (!run) {
            if (changed) {
                pthread_mutex_unlock(&p->lock);
                notify(p, &n);
                pthread_mutex_lock(&p->lock);
            }
            continue;
        }
        struct worker *w = best;
        char id[KOS_PROBE_CONTAINER_ID_MAX];
        kos_strlcpy(id, w->container_id, sizeof(id));
        pthread_mutex_unlock(&p->lock);
        if (changed)
            notify(p, &n);
        enum kos_probe_result res = KOS_PROBE_RESULT_UNKNOWN;
        bool ok = probe_once(p, &job, &res);
        json_decref(job.probe);
        json_decref(job.container);
        json_decref(job.ref);
        pthread_mutex_lock(&p->lock);
        w->busy = false;
        if (w->dead) {
            worker_free(w);
            continue;
        }
        changed = false;
        /* an outcome for a container that is gone meanwhile counts for nothing */
        if (ok && strcmp(id, w->container_id) == 0)
            changed = kos_probe_state_observe(&w->st, w->type, res, w->success_threshold,
                                              w->failure_threshold);
        if (changed && w->type == KOS_PROBE_STARTUP)
            wake_container(p, w);
        if (changed) {
            pthread_mutex_unlock(&p->lock);
            notify(p, &n);
            pthread_mutex_lock(&p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int kos_prober_new(const struct kos_prober_config *cfg, struct kos_prober **ret)
{
    struct kos_prober *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    int n = cfg->threads > 0 ? cfg->threads : 4;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    for (int i = 0; i < n; i++) {
        int r = pthread_create(&p->threads[i], NULL, pool_thread, p);
        if (r != 0) {
            kos_prober_free(p);
            return -r;
        }
        p->n_threads++;
    }
    *ret = p;
    return 0;
}

void kos_prober_free(struct kos_prober *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    while (p->workers) {
        struct worker *w = p->workers;
        p->workers = w->next;
        worker_free(w);
    }
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ---- what the runtime tells and asks ---- */

static const char *const probe_keys[] = {"livenessProbe", "readinessProbe", "startupProbe"};
static const enum kos_probe_type probe_types[] = {KOS_PROBE_LIVENESS, KOS_PROBE_READINESS,
                                                  KOS_PROBE_STARTUP};

/* Under the lock: a new worker for a probe of a container (NULL when out of memory). */
static struct worker *worker_new(struct kos_prober *p, const json_t *pod, const json_t *c,
                                 const json_t *probe, enum kos_probe_type t)
{
    const json_t *meta = json_object_get(pod, "metadata");
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    kos_strlcpy(w->uid, json_string_value(json_object_get(meta, "uid")) ?: "", sizeof(w->uid));
    kos_strlcpy(w->ns, json_string_value(json_object_get(meta, "namespace")) ?: "", sizeof(w->ns));
    kos_strlcpy(w->pod, json_string_value(json_object_get(meta, "name")) ?: "", sizeof(w->pod));
    kos_strlcpy(w->ctr, json_string_value(json_object_get(c, "name")) ?: "", sizeof(w->ctr));
    w->type = t;
    w->probe = json_deep_copy(probe);
    w->container = json_deep_copy(c);
    w->ref = kos_prober_event_ref(pod, w->ctr);
    if (!w->probe || !w->container || !w->ref) {
        worker_free(w);
        return NULL;
    }
    w->initial_delay_s = int_field(probe, "initialDelaySeconds", 0, 0);
    w->period_s = int_field(probe, "periodSeconds", 10, 1);
    w->timeout_s = int_field(probe, "timeoutSeconds", 1, 1);
    w->success_threshold = int_field(probe, "successThreshold", 1, 1);
    w->failure_threshold = int_field(probe, "failureThreshold", 3, 1);
    w->due_ms = kos_now_ms_monotonic();
    w->next = p->workers;
    p->workers = w;
    return w;
}

int kos_prober_sync_pod(struct kos_prober *p, const json_t *pod, const char *pod_ip,
                        const struct kos_prober_container *cs, size_t n)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *spec = json_object_get(pod, "spec");
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    if (!uid)
        return -EINVAL;
    const char *policy = json_string_value(json_object_get(spec, "restartPolicy"));
    bool never = policy && strcmp(policy, "Never") == 0;
    bool deleting = json_object_get(meta, "deletionTimestamp") != NULL;
    int r = 0;
    bool wake = false;
    pthread_mutex_lock(&p->lock);
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!name)
            continue;
        const struct kos_prober_container *info = NULL;
        for (size_t k = 0; k < n; k++)
            if (cs[k].name && strcmp(cs[k].name, name) == 0)
                info = &cs[k];
        for (size_t k = 0; k < 3; k++) {
            const json_t *probe = json_object_get(c, probe_keys[k]);
            if (!json_is_object(probe))
                continue;
            struct worker *w = find(p, uid, name, probe_types[k]);
            if (!w && !(w = worker_new(p, pod, c, probe, probe_types[k]))) {
                r = -ENOMEM;
                continue;
            }
            const char *id = info && info->container_id ? info->container_id : "";
            if (strcmp(w->container_id, id) != 0 || (info && info->running != w->running)) {
                w->due_ms =
                    kos_now_ms_monotonic(); /* a new container or a new state: look at once */
                wake = true;
            }
            kos_strlcpy(w->container_id, id, sizeof(w->container_id));
            kos_strlcpy(w->runtime_id, info && info->runtime_id ? info->runtime_id : "",
                        sizeof(w->runtime_id));
            kos_strlcpy(w->pod_ip, pod_ip ? pod_ip : "", sizeof(w->pod_ip));
            w->running = info && info->running;
            w->terminated = info && info->terminated;
            w->started_at_ms = info ? info->started_at_ms : 0;
            w->restart_never = never;
            if (deleting && !w->deleting)
                wake = true;
            w->deleting = deleting;
        }
    }
    if (wake)
        pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return r;
}

void kos_prober_remove_pod(struct kos_prober *p, const char *uid)
{
    if (!p || !uid)
        return;
    pthread_mutex_lock(&p->lock);
    struct worker **pp = &p->workers;
    while (*pp) {
        struct worker *w = *pp;
        if (strcmp(w->uid, uid) != 0) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (w->busy)
            w->dead = true; /* its thread frees it */
        else
            worker_free(w);
    }
    pthread_mutex_unlock(&p->lock);
}

void kos_prober_container_status(struct kos_prober *p, const char *uid, const char *name,
                                 const char *container_id, bool running, bool *started, bool *ready)
{
    pthread_mutex_lock(&p->lock);
    *started = started_of(p, uid, name, container_id, running);
    *ready = false;
    if (*started) {
        struct worker *w = find(p, uid, name, KOS_PROBE_READINESS);
        enum kos_probe_result r;
        *ready =
            !w || (kos_probe_state_get(&w->st, container_id, &r) && r == KOS_PROBE_RESULT_SUCCESS);
    }
    pthread_mutex_unlock(&p->lock);
}

bool kos_prober_failed(struct kos_prober *p, const char *uid, const char *name,
                       const char *container_id, enum kos_probe_type *why)
{
    static const enum kos_probe_type order[] = {KOS_PROBE_LIVENESS, KOS_PROBE_STARTUP};
    bool failed = false;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < 2 && !failed; i++) {
        struct worker *w = find(p, uid, name, order[i]);
        enum kos_probe_result r;
        if (w && kos_probe_state_get(&w->st, container_id, &r) && r == KOS_PROBE_RESULT_FAILURE) {
            failed = true;
            *why = order[i];
        }
    }
    pthread_mutex_unlock(&p->lock);
    return failed;
}

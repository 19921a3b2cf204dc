/* Bringing a pod toward its spec: init containers in order, then the containers, restarts
 * with the kubelet's CrashLoopBackOff; and the pod's status from its containers' state. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/pods/runc_internal.h"
#include "agent/pods/env.h"
#include "agent/pods/pod_probes.h"
#include "agent/pods/volumes.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kos_crash_backoff *backoff_of(struct pod_entry *e, const char *name)
{
    for (size_t i = 0; i < e->n_backoff; i++)
        if (strcmp(e->backoff[i].name, name) == 0)
            return &e->backoff[i].b;
    if (e->n_backoff == MAX_CTRS)
        return &e->backoff[MAX_CTRS - 1].b;
    kos_strlcpy(e->backoff[e->n_backoff].name, name, sizeof(e->backoff[0].name));
    return &e->backoff[e->n_backoff++].b;
}

static bool should_restart(const char *policy, const struct kos_container_state *st)
{
    if (!policy || strcmp(policy, "Always") == 0)
        return true;
    if (strcmp(policy, "OnFailure") == 0)
        return st->exit_code != 0;
    return false;
}

/* Decides about an exited container: restart now, wait in backoff, or leave it. Returns the
 * delay before the next look (ms), 0 if it was (re)started, -1 when it stays exited. */
static int64_t handle_exited(struct rt *rt, struct pod_entry *e, const struct pod_runtime_pod *p,
                             const json_t *c, struct kos_ctr_view *v, const char *pod_dir,
                             const json_t *vols, const char *policy)
{
    if (!should_restart(policy, &v->cur))
        return -1;
    v->restarting = true;
    struct kos_crash_backoff *b = backoff_of(e, v->name);
    int64_t event = v->cur.finished_ns / 1000000, now = now_ms();
    if (kos_crash_backoff_in_backoff(b, event, now)) {
        char d[32];
        kos_go_duration(b->backoff_ms, d, sizeof(d));
        char msg[1024];
        const json_t *meta = json_object_get(p->pod, "metadata");
        snprintf(msg, sizeof(msg), "back-off %s restarting failed container=%s pod=%s_%s(%s)", d,
                 v->name, jstr(meta, "name"), jstr(meta, "namespace"), p->uid);
        runc_set_waiting(e, v->name, "CrashLoopBackOff", msg);
        return kos_crash_backoff_remaining(b, event, now);
    }
    kos_crash_backoff_next(b, event);
    int next = v->restart_count + 1;
    runc_start_container(rt, e, p, c, next, pod_dir, vols);
    runc_prune_attempts(rt, p->pod, p->uid, v->name, next - 1);
    return 0;
}

int runc_rt_sync(void *opaque, const struct pod_runtime_pod *p, json_t **ret_status)
{
    struct rt *rt = opaque;
    const json_t *pod = p->pod;
    const json_t *spec = json_object_get(pod, "spec");
    pthread_mutex_lock(&rt->lock);
    struct pod_entry *e = runc_entry_get(rt, p->uid, true);
    pthread_mutex_unlock(&rt->lock);
    if (!e)
        return -ENOMEM;
    json_decref(e->pod);
    e->pod = json_deep_copy(pod);
    if (!e->start_time[0]) {
        const char *st = jstr(json_object_get(pod, "status"), "startTime");
        if (st)
            kos_strlcpy(e->start_time, st, sizeof(e->start_time));
        else
            kos_time_rfc3339(time(NULL), e->start_time, sizeof(e->start_time));
    }
    const char *policy = jstr(spec, "restartPolicy");
    bool deleting = json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;

    char pod_dir[2048];
    snprintf(pod_dir, sizeof(pod_dir), "%s/%s", rt->pods_dir, p->uid);
    kos_mkdir_p(pod_dir, 0755);
    _cleanup_json_ json_t *vols = NULL;
    int64_t requeue = -1;
    bool net_ok = true;
    if (!deleting)
        net_ok = runc_pod_network(rt, e, pod) == 0;
    if (!deleting && !net_ok) {
        requeue = 2000;
    } else if (!deleting) {
        bool missing_dns = false;
        runc_pod_files(pod, pod_dir, e->pod_ip[0] ? e->pod_ip : rt->env.host_ip, &missing_dns);
        if (missing_dns && !e->dns_warned && rt->events) {
            e->dns_warned = true;
            (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, "MissingClusterDNS",
                                   "pod: \"%s_%s(%s)\". kubelet does not have ClusterDNS IP "
                                   "configured and cannot create Pod using \"ClusterFirst\" "
                                   "policy. Falling back to \"Default\" policy.",
                                   jstr(json_object_get(pod, "metadata"), "name"),
                                   jstr(json_object_get(pod, "metadata"), "namespace"), p->uid);
        }
        struct kos_env_ctx ectx = {.pod = pod,
                                   .host_ip = rt->env.host_ip,
                                   .pod_ip = e->pod_ip[0] ? e->pod_ip : rt->env.host_ip,
                                   .node_milli_cpu = sysconf(_SC_NPROCESSORS_ONLN) * 1000,
                                   .node_memory = rt->env.memory_capacity,
                                   .lookup = runc_api_lookup,
                                   .sa_token = rt->env.client ? runc_project_token : NULL,
                                   .ud = rt};
        _cleanup_error_ struct kos_error *err = NULL;
        /* Without an API server (`kos ctr pod-sync`, like a kubelet in standalone mode) there
         * is no one to issue a service-account token: a projected token source fails. */
        if (kos_pod_volumes_setup(&ectx, pod_dir, &vols, &err) < 0) {
            json_decref(TAKE_PTR(vols)); /* no container starts without its files */
            if (rt->events && err)
                (void)kos_event_record(rt->events, pod, KOS_EVENT_WARNING, err->reason, "%s",
                                       err->message ? err->message : "");
            size_t i;
            json_t *c;
            json_array_foreach(json_object_get(spec, "containers"), i, c)
                runc_set_waiting(e, jstr(c, "name"), "ContainerCreating", err ? err->message : "");
            requeue = 10000;
        }
    }

    const json_t *inits = json_object_get(spec, "initContainers");
    const json_t *ctrs = json_object_get(spec, "containers");
    size_t n_init = json_array_size(inits), n = json_array_size(ctrs);
    if (n_init > MAX_CTRS || n > MAX_CTRS)
        return -E2BIG;
    /* on the heap: a worker thread's stack and TLS stay small (RSS with many workers) */
    _cleanup_free_ struct kos_ctr_view *iv = calloc(n_init + 1, sizeof(*iv));
    _cleanup_free_ struct kos_ctr_view *cv = calloc(n + 1, sizeof(*cv));
    _cleanup_free_ struct image_id *ids = calloc(n_init + n + 1, sizeof(*ids));
    if (!iv || !cv || !ids)
        return -ENOMEM;
    bool init_done = true, init_failed = false;
    for (size_t i = 0; i < n_init; i++) {
        const json_t *c = json_array_get(inits, i);
        ids[i].s[0] = '\0';
        runc_view_of(rt, e, p->uid, c, &iv[i], ids[i].s, sizeof(ids[i].s));
        if (!init_done)
            continue; /* later init containers wait for this one */
        struct kos_ctr_view *v = &iv[i];
        if (v->has_cur && v->cur.status == KOS_CONTAINER_EXITED && v->cur.exit_code == 0 &&
            strcmp(v->cur.reason, "StartError") != 0)
            continue;
        init_done = false;
        if (deleting || !vols)
            continue;
        if (!v->has_cur) {
            runc_start_container(rt, e, p, c, 0, pod_dir, vols);
            requeue = 0;
        } else if (v->cur.status == KOS_CONTAINER_EXITED) {
            /* init containers restart unless the pod's policy is Never */
            if (policy && strcmp(policy, "Never") == 0) {
                init_failed = true;
            } else {
                int64_t d = handle_exited(rt, e, p, c, v, pod_dir, vols, "Always");
                requeue = d > 0 ? d : 0;
            }
        } else if (!runc_exit_watched(rt, p->uid, v)) {
            requeue = POLL_MS;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(ctrs, i);
        ids[n_init + i].s[0] = '\0';
        runc_view_of(rt, e, p->uid, c, &cv[i], ids[n_init + i].s, sizeof(ids[0].s));
        struct kos_ctr_view *v = &cv[i];
        if (!init_done) {
            if (!v->waiting_reason)
                v->waiting_reason = "PodInitializing";
            continue;
        }
        if (deleting || !vols)
            continue;
        if (kos_pod_probes_kill_failed(rt->prober, rt->events, &rt->crt, pod, c, v)) {
            /* failed its liveness or startup probe: now it is an exited container */
            ids[n_init + i].s[0] = '\0';
            runc_view_of(rt, e, p->uid, c, v, ids[n_init + i].s, sizeof(ids[0].s));
        }
        if (!v->has_cur) {
            if (runc_start_container(rt, e, p, c, 0, pod_dir, vols) == -EAGAIN && requeue != 0)
                requeue = requeue > 0 && requeue < 10000 ? requeue : 10000;
            else
                requeue = 0;
        } else if (v->cur.status == KOS_CONTAINER_EXITED) {
            int64_t d = handle_exited(rt, e, p, c, v, pod_dir, vols, policy);
            if (d >= 0 && (requeue < 0 || d < requeue))
                requeue = d;
        } else if ((requeue < 0 || requeue > POLL_MS) && !runc_exit_watched(rt, p->uid, v)) {
            requeue = POLL_MS; /* look for its exit */
        }
    }
    if (requeue == 0) {
        /* something started: report what it looks like now, and look again soon unless
         * everything runs with its exit watched (or is an init container that is done) */
        bool watched = true;
        for (size_t i = 0; i < n_init; i++) {
            ids[i].s[0] = '\0';
            runc_view_of(rt, e, p->uid, json_array_get(inits, i), &iv[i], ids[i].s,
                         sizeof(ids[i].s));
            watched &= runc_exit_watched(rt, p->uid, &iv[i]) ||
                       (iv[i].has_cur && iv[i].cur.status == KOS_CONTAINER_EXITED &&
                        iv[i].cur.exit_code == 0 && strcmp(iv[i].cur.reason, "StartError") != 0);
        }
        for (size_t i = 0; i < n; i++) {
            ids[n_init + i].s[0] = '\0';
            runc_view_of(rt, e, p->uid, json_array_get(ctrs, i), &cv[i], ids[n_init + i].s,
                         sizeof(ids[0].s));
            if (cv[i].has_cur && cv[i].cur.status == KOS_CONTAINER_EXITED &&
                should_restart(policy, &cv[i].cur))
                cv[i].restarting = true;
            watched &= runc_exit_watched(rt, p->uid, &cv[i]);
        }
        requeue = watched ? -1 : 200;
    }
    /* Waiting reasons may have changed (and their strings with them) while acting. */
    for (size_t i = 0; i < n_init + n; i++) {
        struct kos_ctr_view *v = i < n_init ? &iv[i] : &cv[i - n_init];
        const json_t *w = json_object_get(e->waiting, v->name);
        v->waiting_reason = w ? jstr(w, "reason") : NULL;
        v->waiting_message = w ? jstr(w, "message") : NULL;
        if (!w && i >= n_init && !init_done)
            v->waiting_reason = "PodInitializing";
    }
    kos_pod_probes_apply(rt->prober, pod, rt->env.host_ip, cv, n, true);
    if (requeue > 0 && rt->live_env->requeue) {
        const json_t *meta = json_object_get(pod, "metadata");
        rt->live_env->requeue(rt->live_env->agent, jstr(meta, "namespace"), jstr(meta, "name"),
                              requeue);
    }
    if (ret_status) {
        *ret_status =
            kos_pod_status_build(pod, json_object_get(pod, "status"), iv, n_init, init_done,
                                 init_failed, cv, n, rt->env.host_ip, e->start_time, time(NULL));
        runc_set_pod_ip(*ret_status, e);
    }
    return 0;
}

int runc_rt_status(void *opaque, const char *uid, json_t **ret_status)
{
    struct rt *rt = opaque;
    pthread_mutex_lock(&rt->lock);
    struct pod_entry *e = runc_entry_get(rt, uid, false);
    json_t *pod = e && e->pod ? json_incref(e->pod) : NULL;
    pthread_mutex_unlock(&rt->lock);
    if (!pod)
        return -ENOENT;
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *inits = json_object_get(spec, "initContainers");
    const json_t *ctrs = json_object_get(spec, "containers");
    size_t n_init = json_array_size(inits), n = json_array_size(ctrs);
    _cleanup_free_ struct kos_ctr_view *iv = calloc(n_init + 1, sizeof(*iv));
    _cleanup_free_ struct kos_ctr_view *cv = calloc(n + 1, sizeof(*cv));
    _cleanup_free_ struct image_id *ids = calloc(n_init + n + 1, sizeof(*ids));
    if (n_init > MAX_CTRS || n > MAX_CTRS || !iv || !cv || !ids) {
        json_decref(pod);
        return n_init > MAX_CTRS || n > MAX_CTRS ? -E2BIG : -ENOMEM;
    }
    bool init_done = true;
    for (size_t i = 0; i < n_init; i++) {
        ids[i].s[0] = '\0';
        runc_view_of(rt, e, uid, json_array_get(inits, i), &iv[i], ids[i].s, sizeof(ids[i].s));
        if (!(iv[i].has_cur && iv[i].cur.status == KOS_CONTAINER_EXITED &&
              iv[i].cur.exit_code == 0))
            init_done = false;
    }
    for (size_t i = 0; i < n; i++) {
        ids[n_init + i].s[0] = '\0';
        runc_view_of(rt, e, uid, json_array_get(ctrs, i), &cv[i], ids[n_init + i].s,
                     sizeof(ids[0].s));
    }
    kos_pod_probes_apply(rt->prober, pod, rt->env.host_ip, cv, n, false);
    *ret_status = kos_pod_status_build(pod, json_object_get(pod, "status"), iv, n_init, init_done,
                                       false, cv, n, rt->env.host_ip, e->start_time, time(NULL));
    runc_set_pod_ip(*ret_status, e);
    json_decref(pod);
    return *ret_status ? 0 : -ENOMEM;
}

/* The prober manager (pkg/kubelet/prober/prober_manager.go + worker.go): one worker per probe
 * of each container of each pod, run on a small pool of threads at each probe's period; the
 * results cache the pod's status reads (`started`, `ready`) and the runtime's restart
 * decision reads (a failed liveness or startup probe); Unhealthy events with the kubelet's
 * texts. The pod runtime feeds it what it knows about the containers on every sync. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/prober/probe.h"
#include "agent/prober/probe_state.h"
#include "controllers/events.h"

struct kos_prober;

struct kos_prober_config {
    struct kos_event_recorder *events; /* Unhealthy / ProbeWarning events; NULL: none */
    /* A cached result changed: the pod's status (or its containers) must be synced again.
     * Called from the prober's threads, without its lock. */
    void (*changed)(void *ctx, const char *ns, const char *name);
    void *changed_ctx;
    kos_probe_exec_fn exec; /* runs exec probes in a container */
    void *exec_ctx;
    int threads; /* probes that may run at once; default 4 */
};

int kos_prober_new(const struct kos_prober_config *cfg, struct kos_prober **ret);
/* Stops the threads (waiting for running probes) and frees; accepts NULL. */
void kos_prober_free(struct kos_prober *p);

/* One container of the pod as the runtime sees it now. */
struct kos_prober_container {
    const char *name;
    const char *container_id; /* "runc://<id>" of the latest attempt; "" or NULL: none */
    const char *runtime_id;   /* the id exec probes run in */
    bool running;
    bool terminated;
    int64_t started_at_ms; /* wall clock */
};

/* Makes sure each probe of the pod's (regular) containers has a worker and tells the workers
 * about their containers and the pod's IP (status.podIP, the node's address until pods have
 * their own). */
int kos_prober_sync_pod(struct kos_prober *p, const json_t *pod, const char *pod_ip,
                        const struct kos_prober_container *c, size_t n);

/* Forgets the pod's workers (a probe that is running finishes unseen). */
void kos_prober_remove_pod(struct kos_prober *p, const char *uid);

/* containerStatuses[].started and .ready of a container (UpdatePodStatus): started when it
 * runs and its startup probe passed (or it has none); ready when started and its readiness
 * probe passed (or it has none). */
void kos_prober_container_status(struct kos_prober *p, const char *uid, const char *name,
                                 const char *container_id, bool running, bool *started,
                                 bool *ready);

/* Whether the container failed its liveness probe (checked first) or its startup probe and
 * must be killed (computePodActions); *why says which. */
bool kos_prober_failed(struct kos_prober *p, const char *uid, const char *name,
                       const char *container_id, enum kos_probe_type *why);

/* The involved object of a container's events: the pod with fieldPath spec.containers{name}
 * (new reference; NULL when out of memory). */
json_t *kos_prober_event_ref(const json_t *pod, const char *container);

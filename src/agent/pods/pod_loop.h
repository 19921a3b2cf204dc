/* The agent's pod loop: an informer on the pods bound to this node
 * (fieldSelector spec.nodeName=<node>), a work queue keyed by namespace/name, and workers
 * that admit each pod, ensure its pod cgroup, hand it to the pod runtime and write back its
 * status; a deleted (or terminated) pod is stopped, its cgroup removed and its graceful
 * deletion confirmed. */
#pragma once

#include "agent/cgroups/cgroups.h"
#include "agent/node/allocatable.h"
#include "agent/pods/admission.h"
#include "agent/pods/pod_runtime.h"
#include "client/client.h"

struct agent_pods;

struct agent_pods_config {
    struct kos_client *client;
    const char *node_name;
    struct cg_manager *cgroups;
    struct node_resources allocatable;
    const struct pod_runtime_ops *runtime; /* NULL: pods stay Pending with their cgroup made */
    void *runtime_ctx;
    int workers; /* default 16 */
    /* Admission that runs before resource fit (the eviction manager's under node pressure):
     * sets res->admit false with reason and message to refuse; 0 or a negative errno. */
    int (*admit_hook)(void *ctx, const json_t *pod, struct admit_result *res);
    void *admit_ctx;
};

int agent_pods_start(const struct agent_pods_config *cfg, struct agent_pods **ret);
/* For pod_runtime_env.requeue. */
void agent_pods_requeue(void *agent_pods, const char *ns, const char *name, int64_t delay_ms);
/* The pods admitted to this node that still run (not terminal, not being deleted, not
 * evicted): a new array of Pod objects (shared with the informer: read only). */
int agent_pods_active(struct agent_pods *p, json_t **ret);
/* Node-pressure eviction: stops the pod's containers with grace_seconds through the same
 * teardown as a deletion, then merges `status` (phase Failed, reason Evicted, ...) into its
 * status. Waits up to timeout_ms for that to finish: 0 once the pod's processes are gone,
 * -ETIMEDOUT, -ENOENT when the pod is not (or no longer) running here. */
int agent_pods_evict(struct agent_pods *p, const json_t *pod, int64_t grace_seconds,
                     const json_t *status, int64_t timeout_ms);
/* Stops informer and workers (no sync runs after it; requeues are ignored); memory stays
 * until agent_pods_stop. Idempotent, accepts NULL. */
void agent_pods_shutdown(struct agent_pods *p);
/* Shuts down and frees; accepts NULL. */
void agent_pods_stop(struct agent_pods *p);

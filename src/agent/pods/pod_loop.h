/* The agent's pod loop: an informer on the pods bound to this node
 * (fieldSelector spec.nodeName=<node>), a work queue keyed by namespace/name, and workers
 * that admit each pod, ensure its pod cgroup, hand it to the pod runtime and write back its
 * status; a deleted (or terminated) pod is stopped, its cgroup removed and its graceful
 * deletion confirmed. */
#pragma once

#include "agent/cgroups/cgroups.h"
#include "agent/node/allocatable.h"
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
};

int agent_pods_start(const struct agent_pods_config *cfg, struct agent_pods **ret);
/* For pod_runtime_env.requeue. */
void agent_pods_requeue(void *agent_pods, const char *ns, const char *name, int64_t delay_ms);
/* Stops informer and workers (no sync runs after it; requeues are ignored); memory stays
 * until agent_pods_stop. Idempotent, accepts NULL. */
void agent_pods_shutdown(struct agent_pods *p);
/* Shuts down and frees; accepts NULL. */
void agent_pods_stop(struct agent_pods *p);

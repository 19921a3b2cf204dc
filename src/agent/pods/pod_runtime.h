/* The interface between the node agent's pod loop (src/agent/pods/agent_pods.c: watch,
 * admission, pod cgroup) and whatever runs a pod's containers (helper "agent-runtime":
 * runc/crun bundles, shim, logs, volumes). The agent owns the Pod object and writes its
 * status; the runtime owns processes, bundles and the per-container cgroups below the pod
 * cgroup the agent created.
 *
 * Calls for one pod never overlap (one worker per pod key); calls for different pods may run
 * on different threads. Every pod passed in is a borrowed, read-only Pod object. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "agent/cgroups/cgroups.h"
#include "agent/cgroups/qos.h"
#include "client/client.h"

struct kos_podnet;

/* What the agent knows that a runtime needs; valid for the runtime's whole life. */
struct pod_runtime_env {
    struct kos_client *client; /* the agent's API client (secrets, configmaps, PVs) */
    const char *node_name;
    const char *host_ip;              /* node InternalIP: podIP/hostIP until pod networking */
    const char *root_dir;             /* --root-dir: the agent's state */
    const char *pod_log_dir;          /* --pod-log-dir (/var/log/pods) */
    const char *container_runtime;    /* "runc" or "crun" */
    const char *ca_pem;               /* the CA the agent trusts (pods' ca.crt); may be NULL */
    const struct cg_manager *cgroups; /* cg_manager_container_path for cgroupsPath */
    int64_t memory_capacity;          /* MemTotal bytes, for cg_oom_score_adj */
    struct kos_podnet *network;       /* pods' own networks; NULL: they share the node's */
    /* Asks the agent to call sync for this pod again after delay_ms (container exited,
     * backoff over, image pulled). Thread-safe; may be called from any thread. */
    void (*requeue)(void *agent, const char *ns, const char *name, int64_t delay_ms);
    void *agent;
};

/* Per-pod facts the agent computed before sync. */
struct pod_runtime_pod {
    const json_t *pod;     /* the Pod as last seen from the API */
    enum agent_qos qos;    /* its QoS class */
    const char *uid;       /* metadata.uid */
    char cgroup_name[512]; /* the pod cgroup ("/kubepods/burstable/pod<uid>"); it exists */
};

struct pod_runtime_ops {
    const char *name;
    /* Brings the pod's containers toward its spec (start, restart with backoff, run init
     * containers...). On return *ret_status may hold a new PodStatus object (owned by the
     * caller; NULL: nothing to report) that the agent merges into the pod's status: phase,
     * conditions, containerStatuses, initContainerStatuses, podIP(s), hostIP(s), startTime,
     * reason, message. A negative errno is logged and retried with backoff. */
    int (*sync)(void *rt, const struct pod_runtime_pod *p, json_t **ret_status);
    /* Stops every container of the pod: SIGTERM, up to grace_seconds, then SIGKILL, and
     * removes what sync made (bundles, container cgroups). Returns 0 once nothing of the pod
     * runs any more (then the agent removes the pod cgroup and confirms the deletion),
     * -EINPROGRESS while waiting (the agent calls again). uid identifies pods the API no
     * longer holds (pod may be NULL then, e.g. after the agent restarted). */
    int (*kill)(void *rt, const char *uid, const json_t *pod, int64_t grace_seconds);
    /* The status the runtime knows for a pod (same shape as sync's), without acting; -ENOENT
     * when it has nothing for that uid. */
    int (*status)(void *rt, const char *uid, json_t **ret_status);
    /* Node-level reclaim under disk pressure (the kubelet's ContainerGC
     * DeleteAllUnusedContainers, then ImageGC DeleteUnusedImages): removes dead containers no
     * status needs and the images no container uses; adds the bytes freed to *freed. May be
     * NULL (the eviction manager then goes straight to evicting). */
    int (*reclaim_disk)(void *rt, int64_t *freed);
    /* Stops background work; running containers are left running (agent restarts pick them
     * up again). Accepts NULL. */
    void (*free)(void *rt);
};

/* A runtime implementation registers itself through one constructor the agent calls at
 * start-up (weak: when no runtime is linked in, pods stay Pending with their cgroup made).
 * Returns 0 and sets *ret_ops / *ret_rt, or a negative errno that stops the agent. */
int pod_runtime_new(const struct pod_runtime_env *env, const struct pod_runtime_ops **ret_ops,
                    void **ret_rt) __attribute__((weak));

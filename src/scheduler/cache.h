/* The scheduler's in-memory cluster model (kube-scheduler's cache + nominator): nodes with
 * their labels, taints, allocatable and the summed requests of the pods assigned to them,
 * pods by uid (bound, or assumed while their binding is in flight), nominations from
 * preemption, and PodDisruptionBudgets. Objects go in as JSON (or parsed sched_pods) once;
 * decisions never re-parse.
 *
 * Integration (informers → cache):
 *   Node add/update/delete    sched_cache_upsert_node / sched_cache_remove_node
 *   Pod add/update (any)      sched_cache_upsert_pod  (bound pods are counted on their node,
 *                             terminal pods removed, pending pods' nominatedNodeName noted)
 *   Pod delete                sched_cache_remove_pod
 *   PDB add/update/delete     sched_cache_upsert_pdb / sched_cache_remove_pdb
 * Scheduling: sched_schedule_one (schedule.h) → sched_cache_assume_pod → POST binding →
 *   sched_cache_finish_binding, or sched_cache_forget_pod when the binding failed.
 *
 * Thread-safe: every function takes the cache's mutex. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strmap.h"
#include "scheduler/pod.h"
#include "scheduler/resources.h"
#include "scheduler/taints.h"

struct sched_node;

/* A pod counted on a node. */
struct sched_cache_pod {
    struct sched_pod *pod; /* ref */
    struct sched_node *node;
    size_t pos; /* index in node->pods */
    bool assumed;
    bool binding_finished;
};

/* A pending pod nominated to a node by preemption (status.nominatedNodeName). */
struct sched_nomination {
    struct sched_pod *pod; /* ref */
    struct sched_node *node;
    size_t pos; /* index in node->nominated */
};

struct sched_node {
    char *name;
    /* false: a placeholder that holds pods bound to (or nominated to) a node the cache has
     * not seen, or no longer has; placeholders are never scheduling candidates. */
    bool exists;
    json_t *labels; /* owned, never NULL */
    bool unschedulable;
    struct sched_taint *taints;
    size_t n_taints;
    bool has_hard_taints;   /* some NoSchedule / NoExecute taint */
    bool has_prefer_taints; /* some PreferNoSchedule taint */
    struct sched_resources allocatable;
    struct sched_resources requested; /* Σ effective requests of the pods below */
    int64_t nonzero_milli_cpu;        /* Σ non-zero requests (LeastAllocated) */
    int64_t nonzero_memory;
    struct sched_cache_pod **pods;
    size_t n_pods;
    size_t cap_pods;
    struct sched_nomination **nominated;
    size_t n_nominated;
    size_t cap_nominated;
    size_t list_pos; /* index among the cache's real nodes; SIZE_MAX for placeholders */
};

struct sched_cache;

int sched_cache_new(struct sched_cache **ret);
void sched_cache_free(struct sched_cache *c);

/* -EINVAL for a node without metadata.name or with malformed taints/allocatable. */
int sched_cache_upsert_node(struct sched_cache *c, const json_t *node);
int sched_cache_remove_node(struct sched_cache *c, const char *name);

/* Takes its own reference on pod. A pod with spec.nodeName is counted on that node (this
 * confirms an assumed pod, moving it if it was bound elsewhere); a terminal pod is removed;
 * a pending pod only updates its nomination from status.nominatedNodeName. */
int sched_cache_upsert_pod(struct sched_cache *c, struct sched_pod *pod);
/* Parses and upserts (convenience for informer callbacks). */
int sched_cache_upsert_pod_json(struct sched_cache *c, const json_t *pod);
/* Removes the pod and its nomination; -ENOENT if unknown. */
int sched_cache_remove_pod(struct sched_cache *c, const char *uid);

/* Counts pod on node_name before the binding is written (-EEXIST if the pod is already in
 * the cache, -ENOENT if the node is unknown). Clears the pod's nomination. */
int sched_cache_assume_pod(struct sched_cache *c, struct sched_pod *pod, const char *node_name);
int sched_cache_finish_binding(struct sched_cache *c, const char *uid);
/* Undoes an assume (binding failed); -ENOENT unless the pod is assumed. */
int sched_cache_forget_pod(struct sched_cache *c, const char *uid);

/* Records that the pending pod is nominated to node_name (replacing an earlier one). */
int sched_cache_nominate(struct sched_cache *c, struct sched_pod *pod, const char *node_name);
int sched_cache_clear_nomination(struct sched_cache *c, const char *uid);

/* policy/v1 PodDisruptionBudget: spec.selector, status.disruptionsAllowed,
 * status.disruptedPods. */
int sched_cache_upsert_pdb(struct sched_cache *c, const json_t *pdb);
int sched_cache_remove_pdb(struct sched_cache *c, const char *namespace, const char *name);

/* Introspection (tests, metrics). */
size_t sched_cache_node_count(struct sched_cache *c);
size_t sched_cache_pod_count(struct sched_cache *c);
/* Copies the node's requested sum and pod count; -ENOENT for an unknown node. */
int sched_cache_node_usage(struct sched_cache *c, const char *name, struct sched_resources *ret,
                           size_t *ret_pods);
/* The node a pod is counted on (copied into buf), and whether it is assumed. */
int sched_cache_pod_node(struct sched_cache *c, const char *uid, char *buf, size_t size,
                         bool *ret_assumed);

/* The Filter plugins of kube-scheduler's default profile that decide on node properties and
 * resources, run in the profile's order (NodeUnschedulable, NodeName, TaintToleration,
 * NodeAffinity, NodeResourcesFit); the first plugin that rejects a node decides its status,
 * as the framework stops there. Reasons carry kube's exact texts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/cache.h"
#include "scheduler/pod.h"
#include "scheduler/resources.h"
#include "util/buf.h"

/* Plugins, as bits (a pod remembers which rejected it, for queueing). */
enum sched_plugin {
    SCHED_PLUGIN_NODE_UNSCHEDULABLE = 1u << 0,
    SCHED_PLUGIN_NODE_NAME = 1u << 1,
    SCHED_PLUGIN_TAINT_TOLERATION = 1u << 2,
    SCHED_PLUGIN_NODE_AFFINITY = 1u << 3,
    SCHED_PLUGIN_NODE_RESOURCES_FIT = 1u << 4,
    SCHED_PLUGIN_DEFAULT_PREEMPTION = 1u << 5,
};

enum sched_code {
    SCHED_CODE_SUCCESS = 0,
    SCHED_CODE_UNSCHEDULABLE = 1, /* preemption may help */
    SCHED_CODE_UNRESOLVABLE = 2,  /* UnschedulableAndUnresolvable */
};

enum sched_reason_kind {
    SCHED_R_NODE_UNSCHEDULABLE, /* node(s) were unschedulable */
    SCHED_R_NODE_NAME,          /* node(s) didn't match the requested node name */
    SCHED_R_TAINT,              /* node(s) had untolerated taint {a: b} */
    SCHED_R_AFFINITY,           /* node(s) didn't match Pod's node affinity/selector */
    SCHED_R_TOO_MANY_PODS,      /* Too many pods */
    SCHED_R_CPU,                /* Insufficient cpu */
    SCHED_R_MEMORY,             /* Insufficient memory */
    SCHED_R_EPHEMERAL,          /* Insufficient ephemeral-storage */
    SCHED_R_SCALAR,             /* Insufficient a */
    SCHED_R_PREFILTER_AFFINITY, /* node(s) didn't satisfy plugin(s) [NodeAffinity] */
    SCHED_R_AFFINITY_CONFLICT,  /* pod affinity terms conflict */
    SCHED_R_NO_VICTIMS,         /* No preemption victims found for incoming pod */
    SCHED_R_NOT_HELPFUL,        /* Preemption is not helpful for scheduling */
};

/* a / b point into the pod or node being evaluated (valid for the cycle). */
struct sched_reason {
    enum sched_reason_kind kind;
    const char *a;
    const char *b;
};

#define SCHED_MAX_REASONS (4 + SCHED_MAX_SCALAR)

struct sched_status {
    enum sched_code code;
    enum sched_plugin plugin; /* the plugin that decided (0 on success) */
    size_t n;
    struct sched_reason reasons[SCHED_MAX_REASONS];
};

/* Appends the reason's text (kube's wording). */
int sched_reason_format(const struct sched_reason *r, struct kos_buf *b);
bool sched_reason_equal(const struct sched_reason *x, const struct sched_reason *y);

/* Each returns true when the node passes; on false *st holds the plugin's status. */
bool sched_filter_node_unschedulable(const struct sched_pod *pod, const struct sched_node *node,
                                     struct sched_status *st);
bool sched_filter_node_name(const struct sched_pod *pod, const struct sched_node *node,
                            struct sched_status *st);
bool sched_filter_taint_toleration(const struct sched_pod *pod, const struct sched_node *node,
                                   struct sched_status *st);
bool sched_filter_node_affinity(const struct sched_pod *pod, const struct sched_node *node,
                                struct sched_status *st);
/* fitsRequest: `used` and `used_pods` are what is already committed on the node (its pods,
 * plus nominated pods of higher or equal priority, minus preemption victims). */
bool sched_filter_resources(const struct sched_pod_resources *req,
                            const struct sched_resources *alloc, const struct sched_resources *used,
                            int64_t used_pods, struct sched_status *st);

/* Every filter, in profile order, counting the node's pods and the pods nominated to it
 * with priority ≥ pod's (RunFilterPluginsWithNominatedPods). -ENOMEM is possible only when
 * nominated pods carry extended resources. Returns the status code or -errno. */
int sched_filter_node(const struct sched_pod *pod, const struct sched_node *node,
                      struct sched_status *st);
/* The node-property filters only (everything but NodeResourcesFit). */
bool sched_filter_node_static(const struct sched_pod *pod, const struct sched_node *node,
                              struct sched_status *st);
/* Σ requests of the pods nominated to node that count against pod: priority ≥ pod's, other
 * than pod itself. Returns how many (0: *ret left zeroed). */
int sched_nominated_usage(const struct sched_pod *pod, const struct sched_node *node,
                          struct sched_resources *ret);

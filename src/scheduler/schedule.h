/* One scheduling cycle (kube-scheduler's schedulePod + PostFilter) for one pod against the
 * cache: PreFilter (NodeAffinity's node-name set), Filter over the nodes from a rotating
 * start until enough feasible ones are found (percentageOfNodesToScore), Score, and a
 * uniformly random pick among the best; when nothing fits, DefaultPreemption and the
 * FailedScheduling message kube would write.
 *
 * The caller then:
 *   SCHED_SCHEDULED      sched_cache_assume_pod(pod, node_name), POST pods/binding,
 *                        sched_cache_finish_binding (or _forget_pod on failure), event
 *                        "Scheduled": "Successfully assigned <ns>/<name> to <node>".
 *   SCHED_UNSCHEDULABLE  event FailedScheduling with `message`, condition PodScheduled=False
 *                        reason Unschedulable; if nominated_node_name: patch the victims'
 *                        DisruptionTarget condition and delete them, clear
 *                        status.nominatedNodeName on `lower_nominated`, set the pod's
 *                        status.nominatedNodeName; if clear_nominated_node: clear it. Then
 *                        sched_queue_requeue(..., unschedulable_plugins).
 *   SCHED_ERROR          event FailedScheduling with `message`; requeue with backoff.
 * The cache's own nominations are already updated by the call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/cache.h"
#include "scheduler/pod.h"
#include "scheduler/scores.h"
#include "util/buf.h"

enum sched_outcome {
    SCHED_SCHEDULED,
    SCHED_UNSCHEDULABLE,
    SCHED_ERROR,
};

struct sched_config {
    /* 0: kube's adaptive default (50 − nodes/125 %, at least 5 %, at least 100 nodes). */
    int32_t percentage_of_nodes_to_score;
    struct sched_weights weights;
    bool disable_preemption;
    int32_t min_candidate_nodes_percentage; /* 10 */
    int32_t min_candidate_nodes_absolute;   /* 100 */
    /* Uniform in [0, n); NULL: the cache's own generator. Tests inject a fixed source. */
    uint32_t (*rand)(void *ctx, uint32_t n);
    void *rand_ctx;
};

struct sched_victim {
    char *uid;
    char *namespace;
    char *name;
    bool deleting; /* already terminating: no API call needed */
};

struct sched_result {
    enum sched_outcome outcome;
    char *node_name;                /* SCHED_SCHEDULED */
    char *message;                  /* FailedScheduling message otherwise */
    uint32_t unschedulable_plugins; /* enum sched_plugin bits that rejected nodes */
    size_t evaluated_nodes;
    size_t feasible_nodes;
    /* Preemption. */
    char *nominated_node_name;
    bool clear_nominated_node;
    struct sched_victim *victims; /* most important first */
    size_t n_victims;
    int64_t num_pdb_violations;           /* victims whose eviction breaks a PodDisruptionBudget */
    struct sched_victim *lower_nominated; /* lower-priority pods nominated to that node */
    size_t n_lower_nominated;
};

void sched_config_init(struct sched_config *cfg);
void sched_result_clear(struct sched_result *res);

/* Fills *res (clear it with sched_result_clear). Returns 0, or -ENOMEM. */
int sched_schedule_one(struct sched_cache *c, const struct sched_config *cfg, struct sched_pod *pod,
                       struct sched_result *res);

/* kube's numFeasibleNodesToFind. */
size_t sched_num_feasible_nodes_to_find(int32_t percentage, size_t n_nodes);

/* Builds "0/<n> nodes are available: <sorted "count reason" list>." — kube's FitError text
 * — from a reason histogram (exposed for preemption.c and tests). */
struct sched_histogram {
    struct sched_reason *reasons;
    size_t *counts;
    size_t n;
    size_t cap;
};
int sched_histogram_add(struct sched_histogram *h, const struct sched_reason *r, size_t count);
void sched_histogram_clear(struct sched_histogram *h);
/* Appends the sorted, comma-joined "<count> <reason>" list. */
int sched_histogram_format(const struct sched_histogram *h, struct kos_buf *b);

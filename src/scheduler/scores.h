/* Score plugins of the default profile (spec/resource-semantics.md §6.3), with kube's
 * integer arithmetic:
 * - NodeResourcesFit / LeastAllocated over cpu:1, memory:1, on the non-zero requests
 *   (node's Σ non-zero + the pod's):  Σ_r (alloc−req)·100/alloc · w_r / Σ w_r
 *   (resources whose allocatable is 0 are left out of both sums);
 * - NodeResourcesBalancedAllocation over cpu, memory, on the actual requests:
 *   int64((1 − |f_cpu − f_mem|/2)·100), f = min(1, req/alloc); skipped for pods that
 *   request neither (kube issue 129138);
 * - TaintToleration: count of PreferNoSchedule taints not tolerated (by tolerations with no
 *   effect or PreferNoSchedule), normalized reversed;
 * - NodeAffinity: Σ weights of matching preferred terms, normalized.
 * Normalization is helper.DefaultNormalizeScore(100, reverse). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/cache.h"
#include "scheduler/pod.h"

#define SCHED_MAX_NODE_SCORE 100

/* Plugin weights (kube's getDefaultPlugins). */
struct sched_weights {
    int64_t taint_toleration; /* 3 */
    int64_t node_affinity;    /* 2 */
    int64_t fit;              /* 1 */
    int64_t balanced;         /* 1 */
};

void sched_weights_default(struct sched_weights *w);

/* Per-resource LeastAllocated and the plugin score from raw numbers (exposed for tests). */
int64_t sched_least_requested_score(int64_t requested, int64_t capacity);
int64_t sched_score_least_allocated(const struct sched_pod *pod, const struct sched_node *node);
int64_t sched_score_balanced(const struct sched_pod *pod, const struct sched_node *node);
/* Whether BalancedAllocation runs for this pod (PreScore Skip otherwise). */
bool sched_balanced_applies(const struct sched_pod *pod);
int64_t sched_score_taint_raw(const struct sched_pod *pod, const struct sched_node *node);
int64_t sched_score_affinity_raw(const struct sched_pod *pod, const struct sched_node *node);
/* DefaultNormalizeScore(MaxNodeScore, reverse) over n scores at `stride` apart. */
void sched_normalize_scores(int64_t *scores, size_t n, size_t stride, bool reverse);

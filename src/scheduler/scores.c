#include "scheduler/scores.h"

#include <math.h>

void sched_weights_default(struct sched_weights *w)
{
    w->taint_toleration = 3;
    w->node_affinity = 2;
    w->fit = 1;
    w->balanced = 1;
}

int64_t sched_least_requested_score(int64_t requested, int64_t capacity)
{
    if (capacity == 0 || requested > capacity)
        return 0;
    return (capacity - requested) * SCHED_MAX_NODE_SCORE / capacity;
}

int64_t sched_score_least_allocated(const struct sched_pod *pod, const struct sched_node *node)
{
    /* Weights cpu:1 memory:1; a resource the node does not offer drops out entirely. */
    int64_t score = 0, weights = 0;
    int64_t alloc = node->allocatable.milli_cpu;
    if (alloc != 0) {
        score += sched_least_requested_score(node->nonzero_milli_cpu + pod->res.nonzero_milli_cpu,
                                             alloc);
        weights++;
    }
    alloc = node->allocatable.memory;
    if (alloc != 0) {
        score += sched_least_requested_score(node->nonzero_memory + pod->res.nonzero_memory, alloc);
        weights++;
    }
    return weights ? score / weights : 0;
}

bool sched_balanced_applies(const struct sched_pod *pod)
{
    return pod->res.req.milli_cpu != 0 || pod->res.req.memory != 0;
}

int64_t sched_score_balanced(const struct sched_pod *pod, const struct sched_node *node)
{
    double f[2];
    size_t n = 0;
    int64_t alloc = node->allocatable.milli_cpu;
    if (alloc != 0) {
        double x = (double)(node->requested.milli_cpu + pod->res.req.milli_cpu) / (double)alloc;
        f[n++] = x > 1 ? 1 : x;
    }
    alloc = node->allocatable.memory;
    if (alloc != 0) {
        double x = (double)(node->requested.memory + pod->res.req.memory) / (double)alloc;
        f[n++] = x > 1 ? 1 : x;
    }
    /* Two resources: the standard deviation is |f1 − f2| / 2; fewer: 0. */
    double std = n == 2 ? fabs((f[0] - f[1]) / 2) : 0.0;
    return (int64_t)((1 - std) * (double)SCHED_MAX_NODE_SCORE);
}

int64_t sched_score_taint_raw(const struct sched_pod *pod, const struct sched_node *node)
{
    if (!node->has_prefer_taints)
        return 0;
    int64_t count = 0;
    for (size_t i = 0; i < node->n_taints; i++) {
        const struct sched_taint *t = &node->taints[i];
        if (t->effect != SCHED_EFFECT_PREFER_NO_SCHEDULE)
            continue;
        bool tolerated = false;
        for (size_t j = 0; j < pod->n_tolerations && !tolerated; j++) {
            const struct sched_toleration *tol = &pod->tolerations[j];
            /* Only tolerations that can apply to PreferNoSchedule count here. */
            if (tol->effect != SCHED_EFFECT_ANY && tol->effect != SCHED_EFFECT_PREFER_NO_SCHEDULE)
                continue;
            tolerated = sched_toleration_tolerates(tol, t);
        }
        count += !tolerated;
    }
    return count;
}

int64_t sched_score_affinity_raw(const struct sched_pod *pod, const struct sched_node *node)
{
    if (pod->affinity.n_preferred == 0)
        return 0;
    return sched_node_affinity_score(&pod->affinity, node->name, node->labels);
}

void sched_normalize_scores(int64_t *scores, size_t n, size_t stride, bool reverse)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (scores[i * stride] > max)
            max = scores[i * stride];
    if (max == 0) {
        if (reverse)
            for (size_t i = 0; i < n; i++)
                scores[i * stride] = SCHED_MAX_NODE_SCORE;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t s = SCHED_MAX_NODE_SCORE * scores[i * stride] / max;
        scores[i * stride] = reverse ? SCHED_MAX_NODE_SCORE - s : s;
    }
}

/* The cache's layout, for the scheduling cycle (schedule.c, preemption.c), which runs with
 * the cache locked and reads nodes in place. Not for use outside src/scheduler. */
#pragma once

#include "scheduler/cache.h"

struct label_selector;

struct sched_pdb {
    char *namespace;
    char *name;
    struct label_selector *selector; /* NULL: matches nothing (nil, empty or invalid) */
    int32_t disruptions_allowed;
    char **disrupted; /* status.disruptedPods names */
    size_t n_disrupted;
};

struct sched_cache {
    pthread_mutex_t lock;
    struct kos_strmap nodes;  /* name → sched_node (placeholders included) */
    struct sched_node **list; /* real nodes, in the order they were added */
    size_t n_list;
    size_t cap_list;
    struct kos_strmap pods;        /* uid → sched_cache_pod */
    struct kos_strmap nominations; /* uid → sched_nomination */
    struct sched_pdb **pdbs;
    size_t n_pdbs;
    /* Where the next cycle starts scanning (kube's nextStartNodeIndex). */
    size_t next_start;
    uint64_t rng;
    /* Per-cycle scratch, grown with the node list, so a decision allocates nothing. */
    size_t scratch_cap;
    struct sched_node **scratch_nodes; /* 2 per node: candidate list, feasible list */
    int64_t *scratch_scores;           /* 4 per node: least, balanced, taint, affinity */
    uint8_t *scratch_codes;
};

/* Uniform in [0, n) from the cache's xorshift generator (n > 0). */
uint32_t sched_cache_rand(struct sched_cache *c, uint32_t n);
/* Nominator changes with the lock already held (preemption). */
int sched_cache_nominate_locked(struct sched_cache *c, struct sched_pod *pod,
                                const char *node_name);
void sched_cache_clear_nomination_locked(struct sched_cache *c, const char *uid);
/* Grows the scratch arrays to hold n nodes. */
int sched_cache_scratch(struct sched_cache *c, size_t n);

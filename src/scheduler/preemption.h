/* DefaultPreemption (spec/resource-semantics.md §5.2), run as PostFilter when a pod fit no
 * node:
 * 1. eligibility: preemptionPolicy Never, or a victim of an earlier preemption still
 *    terminating on the pod's nominated node, stop here;
 * 2. potential nodes: those whose Filter status was Unschedulable (resolvable), scanned from
 *    a random offset until max(10 % of them, 100) candidates are found with at least one
 *    violating no PDB;
 * 3. per node: remove every lower-priority pod, check the fit, then reprieve victims from
 *    most to least important — PDB-violating ones first — keeping each that still lets the
 *    pod fit;
 * 4. pick: fewest PDB violations, lowest highest-victim priority, smallest Σ(priority+2^31),
 *    fewest victims, latest earliest-start among the highest-priority victims, first. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "scheduler/cache.h"
#include "scheduler/schedule.h"
#include "util/buf.h"

struct sched_candidate {
    struct sched_node *node;
    struct sched_pod **victims; /* most important first */
    size_t n_victims;
    int64_t num_pdb_violations;
};

/* pickOneNodeForPreemption: the index of the chosen candidate (n ≥ 1). */
size_t sched_pick_preemption_candidate(const struct sched_candidate *cands, size_t n);

/* Called by sched_schedule_one with the cache locked: codes[i] is the Filter code of the
 * i-th real node. Fills the preemption fields of res and updates the cache's nominations;
 * appends the PostFilter message ("preemption: ...") to msg when kube would write one.
 * Returns 0 or -ENOMEM. */
int sched_preempt_locked(struct sched_cache *c, const struct sched_config *cfg,
                         struct sched_pod *pod, const uint8_t *codes, struct sched_result *res,
                         struct kos_buf *msg);

/* One round of the eviction manager's bookkeeping (eviction_manager.go synchronize, steps
 * 1-6): which thresholds are met, which stay met until their minimum reclaim is recovered,
 * when each was first seen (soft grace periods), and which node conditions to report (each
 * stays on for the pressure transition period after it was last seen). Pure. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "agent/eviction/signals.h"
#include "agent/eviction/thresholds.h"

struct evict_state {
    bool met[EVICT_MAX_THRESHOLDS];  /* thresholdsMet of the last round (grace passed) */
    bool seen[EVICT_MAX_THRESHOLDS]; /* in thresholdsFirstObservedAt */
    int64_t first_seen_ms[EVICT_MAX_THRESHOLDS];
    bool cond_seen[3]; /* nodeConditionsLastObservedAt */
    int64_t cond_last_ms[3];
    unsigned conditions; /* EVICT_COND_* reported now */
};

/* thresholdsMet for one threshold: quantity (+ min reclaim when enforced) > available. */
bool evict_threshold_met(const struct evict_threshold *t, const struct evict_observation *o,
                         bool enforce_min_reclaim);

/* Runs the round; returns the index of the threshold to act on (memory signals first, as
 * byEvictionPriority sorts), or -1 when none passed its grace period. */
int evict_decide(struct evict_state *st, const struct evict_config *c,
                 const struct evict_observations *obs, int64_t now_ms);

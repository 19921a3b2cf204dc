/* Which pod the eviction manager evicts first (helpers.go rankMemoryPressure,
 * rankPIDPressure, rankDiskPressureFunc; the pre-1.9 QoS ranking behind
 * --eviction-ranking=legacy). Pure: sorts candidates whose stats were read before. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cgroups/qos.h"
#include "agent/eviction/thresholds.h"

struct evict_candidate {
    int32_t priority; /* spec.priority (0 when unset) */
    enum agent_qos qos;
    bool has_stats; /* false: ranked first, as the kubelet does for a pod without stats */
    int64_t memory; /* working set, bytes */
    int64_t memory_request;
    int64_t disk; /* bytes of logs, writable layers and local volumes */
    int64_t inodes;
    int64_t disk_request; /* ephemeral-storage request */
    int64_t processes;
    size_t index; /* the caller's; also the final tie-break so the order is stable */
};

/* Sorts c[0..n) so that c[0] is evicted first, for the resource a signal starves. */
void evict_rank(struct evict_candidate *c, size_t n, enum evict_resource res,
                enum evict_ranking ranking);

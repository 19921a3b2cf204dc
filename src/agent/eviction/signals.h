/* What the eviction manager observes (helpers.go makeSignalObservations over the stats
 * cadvisor would give): the node's signals and each pod's usage.
 *
 *   memory.available   = MemTotal − working set of the root memory cgroup; working set =
 *                        usage − inactive file pages (v1: memory.usage_in_bytes −
 *                        total_inactive_file; unified: MemTotal − MemFree − inactive_file of
 *                        the root memory.stat, as runc emulates the root's memory.current)
 *   allocatableMemory  = kubepods limit − kubepods working set
 *   nodefs / imagefs   = statvfs of the agent's root dir / its image store
 *   pid.available      = min(pid_max, threads-max) − tasks (/proc/loadavg)
 *
 * Only ever reads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cgroups/cgroups.h"
#include "agent/eviction/thresholds.h"

struct evict_observation {
    bool present;
    int64_t available, capacity;
};

struct evict_observations {
    struct evict_observation o[EVICT_SIG_COUNT];
    bool separate_imagefs; /* the image store sits on a filesystem of its own */
};

struct evict_sources {
    const struct cg_manager *cgroups;
    int64_t memory_capacity; /* MemTotal, bytes */
    const char *nodefs_dir;  /* the agent's root dir */
    const char *imagefs_dir; /* its image store */
    const char *proc;        /* "/proc" (tests: a fake tree) */
};

int evict_observe(const struct evict_sources *src, struct evict_observations *ret);

/* A cgroup's memory working set and usage from its directory in the memory hierarchy (v1) or
 * the unified tree. */
int evict_cgroup_memory(const char *dir, bool v2, int64_t *working_set, int64_t *usage);
/* Working set from the numbers, clamped at 0 (cadvisor). */
int64_t evict_working_set(int64_t usage, int64_t inactive_file);

#define EVICT_MAX_CONTAINERS 32

struct evict_pod_stats {
    bool found;
    int64_t memory; /* working set of the pod cgroup */
    int64_t processes;
    int64_t disk, inodes; /* logs + writable layers + local volumes */
    size_t n_containers;
    struct {
        char name[64];
        int64_t memory;
    } containers[EVICT_MAX_CONTAINERS];
};

/* The pod's usage from its cgroup (memory, processes, per-container memory: the container
 * cgroups are named <uid>_<container>_<attempt> by the runtime). Disk is only measured when
 * with_disk (it walks directories): pod_dirs is a NULL-terminated list of the directories
 * that hold the pod's logs, writable layers and volumes. */
int evict_pod_stats_read(const struct cg_manager *cgroups, enum agent_qos qos, const char *uid,
                         const char *const *pod_dirs, bool with_disk, struct evict_pod_stats *ret);

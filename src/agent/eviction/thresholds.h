/* The eviction manager's configuration (pkg/kubelet/eviction/api, helpers.go
 * ParseThresholdConfig): hard and soft thresholds with their grace periods and minimum
 * reclaims, the allocatableMemory.available copy of each hard memory.available threshold
 * (--enforce-node-allocatable=pods, the only mode kos has), and the loop's periods. The
 * "signal<value" lists go through the one parser of src/agent/node/allocatable.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/node/allocatable.h"
#include "util/error.h"

enum evict_signal {
    EVICT_SIG_MEMORY,             /* memory.available */
    EVICT_SIG_ALLOCATABLE_MEMORY, /* allocatableMemory.available (internal) */
    EVICT_SIG_NODEFS,             /* nodefs.available */
    EVICT_SIG_NODEFS_INODES,      /* nodefs.inodesFree */
    EVICT_SIG_IMAGEFS,            /* imagefs.available */
    EVICT_SIG_IMAGEFS_INODES,     /* imagefs.inodesFree */
    EVICT_SIG_CONTAINERFS,        /* containerfs.available (derived from nodefs) */
    EVICT_SIG_CONTAINERFS_INODES, /* containerfs.inodesFree (derived from nodefs) */
    EVICT_SIG_PID,                /* pid.available */
    EVICT_SIG_COUNT,
};

/* What a signal starves, as the kubelet names it in messages: memory, ephemeral-storage,
 * inodes, pids. */
enum evict_resource {
    EVICT_RES_MEMORY,
    EVICT_RES_EPHEMERAL_STORAGE,
    EVICT_RES_INODES,
    EVICT_RES_PIDS,
};

enum evict_condition {
    EVICT_COND_MEMORY = 1 << 0, /* MemoryPressure */
    EVICT_COND_DISK = 1 << 1,   /* DiskPressure */
    EVICT_COND_PID = 1 << 2,    /* PIDPressure */
};

enum evict_ranking {
    EVICT_RANK_DEFAULT, /* the kubelet's since 1.9: requests, priority, usage */
    EVICT_RANK_LEGACY,  /* before 1.9: QoS class, then usage */
};

#define EVICT_MAX_THRESHOLDS (3 * AGENT_MAX_THRESHOLDS)

struct evict_threshold {
    enum evict_signal signal;
    struct eviction_threshold value;
    int64_t grace_ms; /* 0: a hard threshold */
    bool has_min_reclaim;
    struct eviction_threshold min_reclaim;
};

struct evict_config {
    size_t n;
    struct evict_threshold t[EVICT_MAX_THRESHOLDS];
    int64_t max_pod_grace_s; /* --eviction-max-pod-grace-period (0) */
    int64_t transition_ms;   /* --eviction-pressure-transition-period (5m) */
    int64_t housekeeping_ms; /* --housekeeping-interval (10s) */
    enum evict_ranking ranking;
};

/* The flag texts (NULL: the kubelet's default). */
struct evict_flags {
    const char *hard, *soft, *soft_grace, *min_reclaim, *max_pod_grace, *transition, *housekeeping,
        *ranking;
};

#define EVICT_TRANSITION_DEFAULT_MS   (5 * 60 * 1000)
#define EVICT_HOUSEKEEPING_DEFAULT_MS (10 * 1000)

/* Parses every flag; errors carry the kubelet's words ("grace period must be specified for
 * the soft eviction threshold memory.available", ...). */
int evict_config_parse(const struct evict_flags *f, struct evict_config *ret,
                       struct kos_error **err);

const char *evict_signal_name(enum evict_signal s);
/* -EINVAL for a name that is not a signal. */
int evict_signal_from_name(const char *name, enum evict_signal *ret);
enum evict_resource evict_signal_resource(enum evict_signal s);
enum evict_condition evict_signal_condition(enum evict_signal s);
/* "memory", "ephemeral-storage", "inodes", "pids" */
const char *evict_resource_name(enum evict_resource r);

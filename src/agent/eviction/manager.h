/* The eviction manager (pkg/kubelet/eviction/eviction_manager.go): every
 * --housekeeping-interval, and at once when the kubepods memory threshold notification
 * fires, it observes the signals, keeps the node conditions (MemoryPressure, DiskPressure,
 * PIDPressure with the pressure transition period), and when a threshold has been met past
 * its grace period evicts ONE pod, ranked as the kubelet ranks them, through the pod loop's
 * graceful teardown, then waits for it to be gone. It also answers the pod loop's admission
 * under pressure. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "agent/cgroups/cgroups.h"
#include "agent/eviction/thresholds.h"
#include "agent/pods/admission.h"
#include "agent/pods/pod_loop.h"
#include "client/client.h"

struct evict_manager_config {
    struct evict_config cfg;
    const char *node_name;
    struct kos_client *client; /* events */
    struct cg_manager *cgroups;
    int64_t memory_capacity; /* MemTotal */
    const char *root_dir;    /* nodefs; the image store is root_dir/images */
    const char *pod_log_dir;
    /* node-level reclaim before evicting under disk pressure (may be NULL) */
    int (*reclaim_disk)(void *ctx, int64_t *freed);
    void *reclaim_ctx;
    /* called from the manager's thread when the reported conditions change */
    void (*on_change)(void *ctx);
    void *ctx;
};

struct evict_manager;

/* Observes once (so conditions are right from the first node status) but starts nothing. */
int evict_manager_new(const struct evict_manager_config *c, struct evict_manager **ret);
/* Starts the loop; pods is where active pods come from and evictions go. */
int evict_manager_start(struct evict_manager *m, struct agent_pods *pods);
/* EVICT_COND_* bits reported now. */
unsigned evict_manager_conditions(struct evict_manager *m);
/* pod loop admit hook (managerImpl.Admit): ctx is the manager. */
int evict_manager_admit(void *ctx, const json_t *pod, struct admit_result *res);
/* Stops the loop and frees; accepts NULL. */
void evict_manager_free(struct evict_manager *m);

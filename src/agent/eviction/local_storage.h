/* Local ephemeral storage limits (eviction_manager.go localStorageEviction): every
 * housekeeping round a pod is evicted, at once and without waiting for node pressure, when
 *   - an emptyDir's usage is over its sizeLimit:
 *       "Usage of EmptyDir volume %q exceeds the limit %q. "
 *   - the pod's ephemeral usage (containers' writable layers and logs, its local ephemeral
 *     volumes: emptyDir on disk, configMap; its etc-hosts) is over the sum of its
 *     containers' ephemeral-storage limits (PodLimits):
 *       "Pod ephemeral local storage usage exceeds the total limit of containers %s. "
 *   - a container's writable layer + logs is over its own limit:
 *       "Container %s exceeded its local ephemeral storage limit %q. "
 * checked in that order. Usage is measured as the kubelet measures it without filesystem
 * quotas: a du-like walk that counts allocated blocks, each hard-linked inode once, and
 * stays on the starting filesystem. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Entries one walk visits at most: past it the walk stops and reports what it counted (a
 * lower bound, so an eviction it decides is still right). */
#define EVICT_DU_MAX_ENTRIES 200000

/* A pod's measured usage in bytes; -1 where nothing was measured. */
struct evict_storage_usage {
    size_t n_volumes;         /* spec.volumes, same order */
    int64_t *volume_bytes;    /* emptyDir and configMap volumes */
    size_t n_containers;      /* spec.containers, same order */
    int64_t *container_bytes; /* writable layer + logs */
    int64_t pod_bytes;        /* the pod's ephemeral total */
};

/* Frees the arrays and zeroes *u (NULL-safe). */
void evict_storage_usage_clear(struct evict_storage_usage *u);

/* Whether the pod has anything to check (an emptyDir sizeLimit or an ephemeral-storage
 * limit): pods without one are never walked. */
bool evict_local_storage_limited(const json_t *pod);

/* The rules above, pure. 1 and *ret_msg (a new string) when the pod must be evicted, 0 when
 * not, negative errno. */
int evict_local_storage_check(const json_t *pod, const struct evict_storage_usage *u,
                              char **ret_msg);

/* du: allocated bytes (st_blocks × 512) and inodes under path (a file or a directory); a
 * missing path is 0. */
int evict_du(const char *path, int64_t *ret_bytes, int64_t *ret_inodes);

/* Measures a pod laid out as the agent lays it out: volumes in root_dir/pods/<uid>/volumes/,
 * containers in root_dir/containers/<uid>_<name>_<attempt>/ (overlay upper/ or copied
 * rootfs/), logs in pod_log_dir/<ns>_<name>_<uid>/<container>/. */
int evict_storage_usage_read(const json_t *pod, const char *root_dir, const char *pod_log_dir,
                             struct evict_storage_usage *ret);

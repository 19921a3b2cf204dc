/* Pod cgroups as the kubelet lays them out with the cgroupfs driver
 * (spec/resource-semantics.md §2):
 *
 *   <cgroup-root>/kubepods                      node allocatable (capacity − reservations)
 *   <cgroup-root>/kubepods/pod<uid>             Guaranteed pods
 *   <cgroup-root>/kubepods/burstable/pod<uid>   Burstable pods
 *   <cgroup-root>/kubepods/besteffort/pod<uid>  BestEffort pods
 *   <pod cgroup>/<container id>                 made by runc/crun from the OCI cgroupsPath
 *
 * Three parts: the host (which hierarchies are mounted: v1, hybrid or unified), the kubelet's
 * formulas (pure functions, unit tested), and the manager that creates, writes and removes
 * the directories — only ever under its own cgroup root. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/cgroups/qos.h"

/* ---- host ------------------------------------------------------------------------------ */

enum cg_mode {
    CG_MODE_V1,      /* only v1 hierarchies */
    CG_MODE_HYBRID,  /* v1 controllers plus a (controller-less) v2 tree, e.g. at .../unified */
    CG_MODE_UNIFIED, /* one cgroup2 tree holds every controller */
};

#define CG_MAX_HIERARCHIES 24

struct cg_hierarchy {
    char options[128]; /* v1: the controllers as mounted ("cpu", "cpu,cpuacct", "name=systemd");
                          v2: "" */
    char mount[256];   /* where it is mounted ("/sys/fs/cgroup/cpu") */
    bool v2;
};

struct cg_host {
    enum cg_mode mode;
    size_t n;
    struct cg_hierarchy h[CG_MAX_HIERARCHIES];
};

/* Reads /proc/self/mountinfo. -ENOENT when no cgroup filesystem is mounted. */
int cg_host_detect(struct cg_host *ret);
/* The same from mountinfo text (for tests). */
int cg_host_parse_mountinfo(const char *text, struct cg_host *ret);
/* "v1", "hybrid", "unified" */
const char *cg_mode_name(enum cg_mode m);
/* The hierarchy whose files control `controller` ("cpu", "memory", "pids", "cpuset"): the v1
 * hierarchy that mounts it, or the v2 tree in unified mode. NULL when there is none. */
const struct cg_hierarchy *cg_host_controller(const struct cg_host *host, const char *controller);

/* The lowest oom_score_adj this process may give a child: -1000 with CAP_SYS_RESOURCE, its
 * own value without (runc fails to start a container whose value it cannot write, e.g. a
 * Guaranteed pod's -997 in a sandbox that drops CAP_SYS_RESOURCE). */
int cg_oom_score_adj_floor(void);

/* ---- the kubelet's values (pkg/kubelet/cm/helpers_linux.go, kubelet/qos/policy.go) ------ */

#define CG_MIN_SHARES       2
#define CG_MAX_SHARES       262144
#define CG_SHARES_PER_CPU   1024
#define CG_QUOTA_PERIOD     100000 /* µs */
#define CG_MIN_QUOTA_PERIOD 1000   /* µs: the smallest quota written */
#define CG_OOM_GUARANTEED   (-997)
#define CG_OOM_BESTEFFORT   1000
#define CG_OOM_KUBELET      (-999)

/* Limits for one cgroup. 0 means "not set" (the file is left alone) for every field;
 * cpu_quota and pids_max may be -1: "unlimited" (v1 -1, v2 "max"). */
struct cg_resources {
    int64_t cpu_shares;   /* v1 cpu.shares; v2 cpu.weight = cg_shares_to_weight */
    int64_t cpu_quota;    /* µs per period: v1 cpu.cfs_quota_us, v2 first half of cpu.max */
    int64_t cpu_period;   /* µs: v1 cpu.cfs_period_us, v2 second half of cpu.max */
    int64_t memory_limit; /* bytes: v1 memory.limit_in_bytes, v2 memory.max */
    int64_t pids_max;     /* pids.max */
};

/* MilliCPUToShares: 0 → 2, else m*1024/1000 clamped to [2, 262144]. */
int64_t cg_milli_cpu_to_shares(int64_t milli_cpu);
/* MilliCPUToQuota: 0 → 0 (unset), else m*period/1000, at least 1000. */
int64_t cg_milli_cpu_to_quota(int64_t milli_cpu, int64_t period);
/* The kubelet's v2 cpu.weight for pod, QoS and kubepods cgroups (getCPUWeight, linear):
 * 0 → 0 (unset), ≥262144 → 10000, else 1 + ((shares-2)*9999)/262142. */
int64_t cg_shares_to_weight(int64_t shares);
/* CPUWeightToCPUShares: ((w-1)*262142)/9999 + 2. */
int64_t cg_weight_to_shares(int64_t weight);

/* ResourceConfigForPod (enforce CPU limits on, the default): the pod cgroup's values from its
 * spec (requests with the init-container rule and overhead, limits likewise):
 *   Guaranteed: shares(req cpu), quota(lim cpu)/period, memory = lim memory
 *   Burstable:  shares(req cpu); quota/period only when every container limits cpu; memory
 *               only when every container limits memory
 *   BestEffort: shares 2
 * -EINVAL on a malformed pod or quantity. */
int cg_pod_resources(const json_t *pod, struct cg_resources *ret);

/* What the runtime writes for one container (kuberuntime generateLinuxContainerResources):
 * shares from the cpu request (from the limit when the request is 0 and a limit is set),
 * period 100000 with quota = MilliCPUToQuota(cpu limit) (0 when unlimited), memory = the
 * memory limit (0 when unlimited). `container` is one element of spec.containers or
 * spec.initContainers. */
int cg_container_resources(const json_t *container, struct cg_resources *ret);

/* GetContainerOOMScoreAdjust: -997 for Guaranteed and system-node-critical pods, 1000 for
 * BestEffort, Burstable 1000 − 1000*memory request/memory_capacity clamped to [3, 999]
 * (restartable init containers: never above the smallest regular container's value).
 * memory_capacity is the machine's MemTotal in bytes (> 0). */
int cg_oom_score_adj(const json_t *pod, const json_t *container, int64_t memory_capacity);

/* The kubepods cgroup (enforce-node-allocatable=pods): shares of capacity cpu − reserved,
 * memory = capacity − reserved (hard eviction NOT subtracted, as the kubelet does), pids
 * when a pid reservation was given (pid_limit > 0). */
void cg_node_resources(int64_t milli_cpu, int64_t memory, int64_t pid_limit,
                       struct cg_resources *ret);

/* ---- manager ----------------------------------------------------------------------------- */

struct cg_manager;

/* cgroup_root: "/" or an absolute path without "." / ".." components ("/kos-test-1"). Only
 * directories under it are ever created or removed. -EINVAL on a bad root. */
int cg_manager_new(const struct cg_host *host, const char *cgroup_root, struct cg_manager **ret);
void cg_manager_free(struct cg_manager *m); /* accepts NULL */
const struct cg_host *cg_manager_host(const struct cg_manager *m);

/* Creates <root>/kubepods (with `kubepods` values), kubepods/burstable and
 * kubepods/besteffort (cpu.shares 2) in every hierarchy. Idempotent. */
int cg_manager_ensure_node(struct cg_manager *m, const struct cg_resources *kubepods);
/* burstable cpu.shares = MilliCPUToShares(Σ cpu requests of the active Burstable pods). */
int cg_manager_set_burstable_cpu(struct cg_manager *m, int64_t milli_cpu_requests);

/* The pod cgroup's name as the hierarchies see it: "/<root>/kubepods/burstable/pod<uid>"
 * ("/kubepods/pod<uid>" for a Guaranteed pod under root "/"). -EINVAL on a uid that is not
 * a plain name. */
int cg_manager_pod_name(const struct cg_manager *m, enum agent_qos qos, const char *uid, char *out,
                        size_t size);
/* Creates the pod cgroup of `pod` (its QoS, metadata.uid) in every hierarchy and writes
 * cg_pod_resources. Idempotent (values are rewritten). */
int cg_manager_ensure_pod(struct cg_manager *m, const json_t *pod);
/* Removes pod<uid> wherever it is (all three QoS places), its child cgroups first, in every
 * hierarchy. 0 when nothing was there; -EBUSY while processes are still inside. */
int cg_manager_remove_pod(struct cg_manager *m, const char *uid);
/* The uids of every pod<uid> cgroup under kubepods (all three QoS places), as found in the
 * first hierarchy that has kubepods: a new array of strings (the agent removes those whose
 * pods no longer exist, e.g. deleted while it was down). */
int cg_manager_list_pods(const struct cg_manager *m, json_t **ret);
/* True when pod<uid> exists in any QoS place. */
bool cg_manager_pod_exists(const struct cg_manager *m, const char *uid);
/* The directory of the pod's cgroup for a controller ("memory", "cpu", "pids"; "" for the v2
 * tree): "/sys/fs/cgroup/memory/kubepods/burstable/pod<uid>". -ENOENT when no hierarchy
 * holds that controller. */
int cg_manager_pod_dir(const struct cg_manager *m, enum agent_qos qos, const char *uid,
                       const char *controller, char *out, size_t size);
/* The directory of <root>/kubepods for a controller ("memory"; "" for the v2 tree). -ENOENT
 * when no hierarchy holds that controller. */
int cg_manager_kubepods_dir(const struct cg_manager *m, const char *controller, char *out,
                            size_t size);
/* The OCI linux.cgroupsPath of a container (cgroupfs form, as the kubelet hands runc its
 * cgroup parent): "<pod cgroup name>/<container id>". -EINVAL on a bad container id. */
int cg_manager_container_path(const struct cg_manager *m, enum agent_qos qos, const char *uid,
                              const char *container_id, char *out, size_t size);

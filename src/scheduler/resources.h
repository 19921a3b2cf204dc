/* Resource amounts as kube-scheduler counts them (framework.Resource): cpu in millicores,
 * memory / ephemeral-storage / scalar resources in whole units (Quantity.Value(), rounded
 * up), pods as a count. Pod effective requests follow component-helpers PodRequests
 * (spec/resource-semantics.md §6.1): max(Σ containers + Σ sidecars, max init step) per
 * resource, pod-level cpu/memory requests override, then + spec.overhead. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Non-zero defaults used only by scoring (pkg/scheduler/util/pod_resources.go). */
#define SCHED_DEFAULT_MILLI_CPU_REQUEST 100LL
#define SCHED_DEFAULT_MEMORY_REQUEST    (200LL * 1024 * 1024)

/* Distinct scalar (extended, hugepages-*, attachable-volumes-*, kubernetes.io/…) resources
 * one resource list may name; more is -E2BIG (bounds what one object can make us hold). */
#define SCHED_MAX_SCALAR     32
#define SCHED_MAX_CONTAINERS 256

struct sched_scalar {
    char *name;
    int64_t value;
};

struct sched_resources {
    int64_t milli_cpu;
    int64_t memory;
    int64_t ephemeral_storage;
    int64_t pods;
    size_t n_scalar;
    struct sched_scalar *scalar; /* owned; NULL when n_scalar == 0 */
};

/* A pod's requests: `req` for Filter and for BalancedAllocation, the non-zero cpu/memory
 * (100m / 200Mi per container that omits the key) for LeastAllocated. */
struct sched_pod_resources {
    struct sched_resources req;
    int64_t nonzero_milli_cpu;
    int64_t nonzero_memory;
};

/* kube's IsScalarResourceName: extended (prefix/name, not requests.*), kubernetes.io/
 * prefixed native, hugepages-*, attachable-volumes-*. */
bool sched_resource_is_scalar(const char *name);

/* Frees the scalars and zeroes *r (NULL-safe). */
void sched_resources_clear(struct sched_resources *r);
int sched_resources_copy(struct sched_resources *dst, const struct sched_resources *src);
/* acc += r (all or nothing: -ENOMEM leaves acc unchanged). */
int sched_resources_add(struct sched_resources *acc, const struct sched_resources *r);
/* acc -= r; scalars of r that acc lacks are ignored (they were never added). */
void sched_resources_sub(struct sched_resources *acc, const struct sched_resources *r);
int64_t sched_resources_scalar(const struct sched_resources *r, const char *name);

/* A ResourceList object ({"cpu": "500m", ...}); NULL or null is empty. -EINVAL on a bad
 * quantity or non-object, -E2BIG past SCHED_MAX_SCALAR. Unknown non-scalar names are
 * ignored, as kube does. */
int sched_resources_from_list(const json_t *list, struct sched_resources *ret);
/* node.status.allocatable (missing = all zero, so such a node admits no pod). */
int sched_node_allocatable(const json_t *node, struct sched_resources *ret);

void sched_pod_resources_clear(struct sched_pod_resources *r);
int sched_pod_resources_copy(struct sched_pod_resources *dst,
                             const struct sched_pod_resources *src);
/* From a PodSpec object. */
int sched_pod_resources_from_spec(const json_t *spec, struct sched_pod_resources *ret);

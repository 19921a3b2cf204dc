/* Resource-fit admission, as the kubelet runs it before starting a pod. */
#include "agent/pods/admission.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "scheduler/resources.h"
#include "util/strutil.h"

static int pod_requests(const json_t *pod, struct sched_resources *ret)
{
    struct sched_pod_resources pr;
    int r = sched_pod_resources_from_spec(json_object_get(pod, "spec"), &pr);
    if (r < 0)
        return r;
    *ret = pr.req;
    pr.req.scalar = NULL;
    pr.req.n_scalar = 0;
    sched_pod_resources_clear(&pr);
    return 0;
}

static void reject(struct admit_result *res, const char *name, int64_t requested, int64_t used,
                   int64_t capacity)
{
    res->admit = false;
    snprintf(res->reason, sizeof(res->reason), "OutOf%s", name);
    snprintf(res->message, sizeof(res->message),
             "Pod was rejected: Node didn't have enough resource: %s, requested: %" PRId64
             ", used: %" PRId64 ", capacity: %" PRId64,
             name, requested, used, capacity);
}

int agent_admit(const json_t *pod, const struct admit_used *used,
                const struct node_resources *alloc, struct admit_result *ret)
{
    struct sched_resources req;
    int r = pod_requests(pod, &req);
    if (r < 0)
        return r;
    struct admit_result res = {.admit = true};
    /* The order of noderesources.Fits: pods, cpu, memory, ephemeral-storage; the kubelet
     * reports the first. Comparisons are strict: filling allocatable exactly fits. */
    if (used->pods + 1 > alloc->pods)
        reject(&res, "pods", 1, used->pods, alloc->pods);
    else if (req.milli_cpu > 0 && req.milli_cpu > alloc->milli_cpu - used->milli_cpu)
        reject(&res, "cpu", req.milli_cpu, used->milli_cpu, alloc->milli_cpu);
    else if (req.memory > 0 && req.memory > alloc->memory - used->memory)
        reject(&res, "memory", req.memory, used->memory, alloc->memory);
    else if (req.ephemeral_storage > 0 &&
             req.ephemeral_storage > alloc->ephemeral_storage - used->ephemeral_storage)
        reject(&res, "ephemeral-storage", req.ephemeral_storage, used->ephemeral_storage,
               alloc->ephemeral_storage);
    sched_resources_clear(&req);
    *ret = res;
    return 0;
}

int agent_admit_account(struct admit_used *used, const json_t *pod, int sign)
{
    struct sched_resources req;
    int r = pod_requests(pod, &req);
    if (r < 0)
        return r;
    used->milli_cpu += sign * req.milli_cpu;
    used->memory += sign * req.memory;
    used->ephemeral_storage += sign * req.ephemeral_storage;
    used->pods += sign;
    sched_resources_clear(&req);
    return 0;
}

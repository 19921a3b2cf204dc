/* The kubelet's cgroup values (pkg/kubelet/cm/helpers_linux.go ResourceConfigForPod,
 * kuberuntime generateLinuxContainerResources, kubelet/qos/policy.go) as pure functions:
 * spec/resource-semantics.md §2.1–§2.7. */
#include "agent/cgroups/cgroups.h"

#include <errno.h>
#include <string.h>

#include "api/quantity.h"
#include "scheduler/resources.h"

int64_t cg_milli_cpu_to_shares(int64_t milli_cpu)
{
    if (milli_cpu <= 0)
        return CG_MIN_SHARES;
    if (milli_cpu > INT64_MAX / CG_SHARES_PER_CPU)
        return CG_MAX_SHARES;
    int64_t s = milli_cpu * CG_SHARES_PER_CPU / 1000;
    if (s < CG_MIN_SHARES)
        return CG_MIN_SHARES;
    return s > CG_MAX_SHARES ? CG_MAX_SHARES : s;
}

int64_t cg_milli_cpu_to_quota(int64_t milli_cpu, int64_t period)
{
    if (milli_cpu <= 0)
        return 0;
    if (period <= 0)
        period = CG_QUOTA_PERIOD;
    if (milli_cpu > INT64_MAX / period)
        return INT64_MAX / 1000;
    int64_t q = milli_cpu * period / 1000;
    return q < CG_MIN_QUOTA_PERIOD ? CG_MIN_QUOTA_PERIOD : q;
}

int64_t cg_shares_to_weight(int64_t shares)
{
    if (shares <= 0)
        return 0;
    if (shares >= CG_MAX_SHARES)
        return 10000;
    if (shares < CG_MIN_SHARES)
        shares = CG_MIN_SHARES;
    return 1 + ((shares - 2) * 9999) / 262142;
}

int64_t cg_weight_to_shares(int64_t weight)
{
    if (weight < 1)
        weight = 1;
    if (weight > 10000)
        weight = 10000;
    return ((weight - 1) * 262142) / 9999 + 2;
}

/* One quantity of a resource list: millis for cpu, whole units (rounded up) otherwise.
 * Missing is 0. */
static int list_get(const json_t *list, const char *name, bool milli, int64_t *ret)
{
    const json_t *v = json_object_get(list, name);
    *ret = 0;
    if (!v || json_is_null(v))
        return 0;
    const char *s = json_string_value(v);
    struct kos_quantity q;
    if (json_is_integer(v)) {
        int64_t n = json_integer_value(v);
        *ret = milli ? (n > INT64_MAX / 1000 ? INT64_MAX : n * 1000) : n;
        return *ret < 0 ? -EINVAL : 0;
    }
    if (!s || kos_quantity_parse(s, &q) < 0 || q.negative)
        return -EINVAL;
    *ret = milli ? kos_quantity_milli_value(&q) : kos_quantity_value(&q);
    return 0;
}

static const json_t *res_of(const json_t *container, const char *which)
{
    return json_object_get(json_object_get(container, "resources"), which);
}

static bool restartable(const json_t *c)
{
    const char *p = json_string_value(json_object_get(c, "restartPolicy"));
    return p && strcmp(p, "Always") == 0;
}

static int64_t sadd(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

struct cpu_mem {
    int64_t cpu, mem;
};

/* PodLimits: max(Σ containers + Σ sidecars, max init step) per resource, pod-level limits
 * override, + overhead for the resources that have a non-zero limit. */
static int pod_limits(const json_t *spec, struct cpu_mem *ret)
{
    struct cpu_mem sum = {0}, sidecars = {0}, init_max = {0};
    const json_t *ct;
    size_t i;
    int r;
    json_array_foreach(json_object_get(spec, "containers"), i, ct)
    {
        struct cpu_mem c;
        if ((r = list_get(res_of(ct, "limits"), "cpu", true, &c.cpu)) < 0 ||
            (r = list_get(res_of(ct, "limits"), "memory", false, &c.mem)) < 0)
            return r;
        sum.cpu = sadd(sum.cpu, c.cpu);
        sum.mem = sadd(sum.mem, c.mem);
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, ct)
    {
        struct cpu_mem c, step;
        if ((r = list_get(res_of(ct, "limits"), "cpu", true, &c.cpu)) < 0 ||
            (r = list_get(res_of(ct, "limits"), "memory", false, &c.mem)) < 0)
            return r;
        if (restartable(ct)) {
            sum.cpu = sadd(sum.cpu, c.cpu);
            sum.mem = sadd(sum.mem, c.mem);
            sidecars.cpu = sadd(sidecars.cpu, c.cpu);
            sidecars.mem = sadd(sidecars.mem, c.mem);
            step = sidecars;
        } else {
            step.cpu = sadd(c.cpu, sidecars.cpu);
            step.mem = sadd(c.mem, sidecars.mem);
        }
        if (step.cpu > init_max.cpu)
            init_max.cpu = step.cpu;
        if (step.mem > init_max.mem)
            init_max.mem = step.mem;
    }
    if (init_max.cpu > sum.cpu)
        sum.cpu = init_max.cpu;
    if (init_max.mem > sum.mem)
        sum.mem = init_max.mem;

    const json_t *pl = json_object_get(json_object_get(spec, "resources"), "limits");
    int64_t v;
    if (json_object_get(pl, "cpu")) {
        if ((r = list_get(pl, "cpu", true, &v)) < 0)
            return r;
        sum.cpu = v;
    }
    if (json_object_get(pl, "memory")) {
        if ((r = list_get(pl, "memory", false, &v)) < 0)
            return r;
        sum.mem = v;
    }
    const json_t *ov = json_object_get(spec, "overhead");
    if (sum.cpu > 0) {
        if ((r = list_get(ov, "cpu", true, &v)) < 0)
            return r;
        sum.cpu = sadd(sum.cpu, v);
    }
    if (sum.mem > 0) {
        if ((r = list_get(ov, "memory", false, &v)) < 0)
            return r;
        sum.mem = sadd(sum.mem, v);
    }
    *ret = sum;
    return 0;
}

int cg_pod_resources(const json_t *pod, struct cg_resources *ret)
{
    const json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return -EINVAL;
    const json_t *ctrs = json_object_get(spec, "containers");
    const json_t *inits = json_object_get(spec, "initContainers");
    if ((ctrs && !json_is_array(ctrs)) || (inits && !json_is_array(inits)))
        return -EINVAL;

    struct sched_pod_resources req;
    int r = sched_pod_resources_from_spec(spec, &req);
    if (r < 0)
        return r;
    int64_t req_cpu = req.req.milli_cpu;
    sched_pod_resources_clear(&req);

    struct cpu_mem lim;
    if ((r = pod_limits(spec, &lim)) < 0)
        return r;

    /* Limits are "declared" only when every container (app and init) sets them. */
    bool cpu_declared = true, mem_declared = true;
    const json_t *lists[2] = {ctrs, inits};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        const json_t *ct;
        json_array_foreach(lists[l], i, ct)
        {
            int64_t c, m;
            if ((r = list_get(res_of(ct, "limits"), "cpu", true, &c)) < 0 ||
                (r = list_get(res_of(ct, "limits"), "memory", false, &m)) < 0)
                return r;
            if (c == 0)
                cpu_declared = false;
            if (m == 0)
                mem_declared = false;
        }
    }
    const json_t *pl = json_object_get(json_object_get(spec, "resources"), "limits");
    if (json_object_get(pl, "cpu"))
        cpu_declared = true;
    if (json_object_get(pl, "memory"))
        mem_declared = true;

    struct cg_resources out = {0};
    int64_t shares = cg_milli_cpu_to_shares(req_cpu);
    int64_t quota = cg_milli_cpu_to_quota(lim.cpu, CG_QUOTA_PERIOD);
    switch (agent_qos_of_pod(pod)) {
    case AGENT_QOS_GUARANTEED:
        out.cpu_shares = shares;
        out.cpu_quota = quota;
        out.cpu_period = CG_QUOTA_PERIOD;
        out.memory_limit = lim.mem;
        break;
    case AGENT_QOS_BURSTABLE:
        out.cpu_shares = shares;
        if (cpu_declared) {
            out.cpu_quota = quota;
            out.cpu_period = CG_QUOTA_PERIOD;
        }
        if (mem_declared)
            out.memory_limit = lim.mem;
        break;
    case AGENT_QOS_BEST_EFFORT:
        out.cpu_shares = CG_MIN_SHARES;
        break;
    }
    *ret = out;
    return 0;
}

int cg_container_resources(const json_t *container, struct cg_resources *ret)
{
    if (!json_is_object(container))
        return -EINVAL;
    int64_t req_cpu, lim_cpu, lim_mem;
    int r;
    if ((r = list_get(res_of(container, "requests"), "cpu", true, &req_cpu)) < 0 ||
        (r = list_get(res_of(container, "limits"), "cpu", true, &lim_cpu)) < 0 ||
        (r = list_get(res_of(container, "limits"), "memory", false, &lim_mem)) < 0)
        return r;
    struct cg_resources out = {0};
    /* A request of 0 with a limit set means the limit (defaulting the kubelet repeats). */
    out.cpu_shares = cg_milli_cpu_to_shares(req_cpu == 0 && lim_cpu != 0 ? lim_cpu : req_cpu);
    out.cpu_period = CG_QUOTA_PERIOD;
    out.cpu_quota = cg_milli_cpu_to_quota(lim_cpu, CG_QUOTA_PERIOD);
    out.memory_limit = lim_mem;
    *ret = out;
    return 0;
}

static int64_t burstable_adj(int64_t mem_request, int64_t capacity)
{
    /* 1000*req can overflow int64 for absurd requests: then the request exceeds capacity
     * anyway and the floor of 3 applies. */
    int64_t adj;
    if (mem_request > INT64_MAX / 1000)
        adj = 1000 - INT64_MAX / capacity;
    else
        adj = 1000 - (1000 * mem_request) / capacity;
    return adj;
}

int cg_oom_score_adj(const json_t *pod, const json_t *container, int64_t memory_capacity)
{
    const char *pcn =
        json_string_value(json_object_get(json_object_get(pod, "spec"), "priorityClassName"));
    if (pcn && strcmp(pcn, "system-node-critical") == 0)
        return CG_OOM_GUARANTEED;
    switch (agent_qos_of_pod(pod)) {
    case AGENT_QOS_GUARANTEED:
        return CG_OOM_GUARANTEED;
    case AGENT_QOS_BEST_EFFORT:
        return CG_OOM_BESTEFFORT;
    case AGENT_QOS_BURSTABLE:
        break;
    }
    if (memory_capacity <= 0)
        return 999;
    int64_t req = 0;
    (void)list_get(res_of(container, "requests"), "memory", false, &req);
    int64_t adj = burstable_adj(req, memory_capacity);
    if (restartable(container)) {
        /* A sidecar must not be killed before the containers it serves. */
        int64_t min_req = -1;
        size_t i;
        const json_t *ct;
        json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, ct)
        {
            int64_t m = 0;
            (void)list_get(res_of(ct, "requests"), "memory", false, &m);
            if (min_req < 0 || m < min_req)
                min_req = m;
        }
        if (min_req >= 0) {
            int64_t cap = burstable_adj(min_req, memory_capacity);
            if (cap < adj)
                adj = cap;
        }
    }
    if (adj < 1000 + CG_OOM_GUARANTEED)
        return 1000 + CG_OOM_GUARANTEED;
    if (adj == 1000)
        return 999;
    return (int)adj;
}

void cg_node_resources(int64_t milli_cpu, int64_t memory, int64_t pid_limit,
                       struct cg_resources *ret)
{
    *ret = (struct cg_resources){
        .cpu_shares = cg_milli_cpu_to_shares(milli_cpu),
        .memory_limit = memory > 0 ? memory : 0,
        .pids_max = pid_limit > 0 ? pid_limit : 0,
    };
}

/* Node object and status JSON, as the kubelet fills them. */
#include "agent/node/node_status.h"

#include <string.h>

#include "util/timeutil.h"

static json_t *resource_list(const struct node_resources *r)
{
    char cpu[32], mem[48], eph[48];
    agent_format_milli_cpu(r->milli_cpu, cpu, sizeof(cpu));
    agent_format_bytes(r->memory, mem, sizeof(mem));
    agent_format_bytes(r->ephemeral_storage, eph, sizeof(eph));
    return json_pack("{s:s, s:s, s:s}", "cpu", cpu, "memory", mem, "ephemeral-storage", eph);
}

static json_t *with_pods(json_t *list, int64_t pods)
{
    char p[32];
    snprintf(p, sizeof(p), "%lld", (long long)pods);
    if (list && json_object_set_new(list, "pods", json_string(p)) < 0) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static const json_t *find_condition(const json_t *status, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && !strcmp(t, type))
            return c;
    }
    return NULL;
}

static int add_condition(json_t *arr, const json_t *old_status, const char *type, bool is_true,
                         const char *reason, const char *message, const char *now)
{
    const char *st = is_true ? "True" : "False";
    const char *transition = now;
    const json_t *old = find_condition(old_status, type);
    const char *old_st = json_string_value(json_object_get(old, "status"));
    const char *old_tr = json_string_value(json_object_get(old, "lastTransitionTime"));
    if (old_st && old_tr && !strcmp(old_st, st))
        transition = old_tr;
    json_t *c =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", st, "lastHeartbeatTime",
                  now, "lastTransitionTime", transition, "reason", reason, "message", message);
    return c ? json_array_append_new(arr, c) : -1;
}

json_t *agent_node_status(const struct node_status_input *in, const json_t *old_status, time_t now)
{
    char ts[32];
    kos_time_rfc3339(now, ts, sizeof(ts));
    json_t *conds = json_array();
    if (!conds)
        return NULL;
    int r = 0;
    r |= add_condition(conds, old_status, "MemoryPressure", in->memory_pressure,
                       in->memory_pressure ? "KubeletHasInsufficientMemory"
                                           : "KubeletHasSufficientMemory",
                       in->memory_pressure ? "kubelet has insufficient memory available"
                                           : "kubelet has sufficient memory available",
                       ts);
    r |= add_condition(
        conds, old_status, "DiskPressure", in->disk_pressure,
        in->disk_pressure ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
        in->disk_pressure ? "kubelet has disk pressure" : "kubelet has no disk pressure", ts);
    r |= add_condition(conds, old_status, "PIDPressure", in->pid_pressure,
                       in->pid_pressure ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                       in->pid_pressure ? "kubelet has insufficient PID available"
                                        : "kubelet has sufficient PID available",
                       ts);
    r |= add_condition(
        conds, old_status, "Ready", !in->not_ready_message,
        in->not_ready_message ? "KubeletNotReady" : "KubeletReady",
        in->not_ready_message ? in->not_ready_message : "kubelet is posting ready status", ts);
    if (r) {
        json_decref(conds);
        return NULL;
    }
    const struct agent_machine *m = in->machine;
    json_t *node_info =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "machineID", m->machine_id,
                  "systemUUID", m->system_uuid, "bootID", m->boot_id, "kernelVersion",
                  m->kernel_version, "osImage", m->os_image, "containerRuntimeVersion",
                  in->runtime_version, "kubeletVersion", in->kubelet_version, "kubeProxyVersion",
                  in->kubelet_version, "operatingSystem", "linux", "architecture", m->architecture);
    json_t *addresses = json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "InternalIP", "address",
                                  in->host_ip, "type", "Hostname", "address", m->hostname);
    json_t *status =
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:{s:{s:i}}, s:[]}", "capacity",
                  with_pods(resource_list(&in->capacity), in->capacity.pods), "allocatable",
                  with_pods(resource_list(&in->allocatable), in->allocatable.pods), "conditions",
                  conds, "addresses", addresses, "nodeInfo", node_info, "daemonEndpoints",
                  "kubeletEndpoint", "Port", in->cfg->kubelet_port, "images");
    return status;
}

json_t *agent_node_object(const struct node_status_input *in, time_t now)
{
    json_t *status = agent_node_status(in, NULL, now);
    if (!status)
        return NULL;
    const char *name = in->cfg->node_name;
    const char *arch = in->machine->architecture;
    return json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s}}, s:{}, s:o}", "apiVersion",
        "v1", "kind", "Node", "metadata", "name", name, "labels", "kubernetes.io/hostname", name,
        "kubernetes.io/os", "linux", "kubernetes.io/arch", arch, "beta.kubernetes.io/os", "linux",
        "beta.kubernetes.io/arch", arch, "annotations", "node.alpha.kubernetes.io/ttl", "0",
        "volumes.kubernetes.io/controller-managed-attach-detach", "true", "spec", "status", status);
}

bool agent_node_status_changed(const json_t *old_status, const json_t *new_status)
{
    if (!old_status)
        return true;
    static const char *const keys[] = {"capacity", "allocatable", "addresses", "nodeInfo",
                                       "daemonEndpoints"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_equal(json_object_get(old_status, keys[i]), json_object_get(new_status, keys[i])))
            return true;
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(new_status, "conditions"), i, c)
    {
        const json_t *o = find_condition(old_status, json_string_value(json_object_get(c, "type")));
        if (!o || !json_equal(json_object_get(o, "status"), json_object_get(c, "status")) ||
            !json_equal(json_object_get(o, "reason"), json_object_get(c, "reason")))
            return true;
    }
    return false;
}

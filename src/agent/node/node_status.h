/* The Node object the agent registers and the status it posts (kubelet nodestatus setters:
 * MachineInfo, NodeAddress, VersionInfo, ReadyCondition, MemoryPressureCondition,
 * DiskPressureCondition, PIDPressureCondition). Pure: builds JSON from what it is given. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/node/machine.h"

struct node_status_input {
    const struct agent_config *cfg;
    const struct agent_machine *machine;
    const char *host_ip;
    const char *runtime_version; /* "runc://1.1.5" */
    const char *kubelet_version; /* "v1.33.0-kos" */
    struct node_resources capacity;
    struct node_resources allocatable;
    bool memory_pressure, disk_pressure, pid_pressure;
    const char *not_ready_message; /* NULL: Ready */
};

/* A whole Node for registration (metadata with the kubelet's labels, spec, status). */
json_t *agent_node_object(const struct node_status_input *in, time_t now);
/* The status alone. Conditions keep their lastTransitionTime from old_status (the Node's
 * current status, may be NULL) unless their status changed. */
json_t *agent_node_status(const struct node_status_input *in, const json_t *old_status, time_t now);
/* True when the conditions' statuses or the capacity/allocatable differ between two
 * statuses (heartbeat times ignored): the kubelet then posts at once. */
bool agent_node_status_changed(const json_t *old_status, const json_t *new_status);

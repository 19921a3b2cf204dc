/* The node agent (kos's kubelet): registers its Node, keeps it and its Lease fresh, watches
 * the pods bound to it, admits them, gives each its pod cgroup and hands it to the pod
 * runtime (src/agent/pods/pod_runtime.h). Runs embedded in `kos server` or as `kos agent`. */
#pragma once

#include <stdint.h>

#include "agent/eviction/thresholds.h"
#include "agent/node/allocatable.h"
#include "client/client.h"

struct agent_config {
    char node_name[254];
    int64_t max_pods;
    struct node_resources kube_reserved;
    struct node_resources system_reserved;
    struct eviction_thresholds eviction_hard;
    struct evict_config eviction; /* every eviction threshold and period */
    char cgroup_root[512];
    char container_runtime[16]; /* "runc" | "crun" */
    char root_dir[1024];
    char pod_log_dir[1024];
    char node_ip[64]; /* "" = detect */
    bool pod_network; /* --network-plugin=kubenet: pods get their own network (agent/network) */
    char bridge_name[16];
    /* who reads every Node for the pod network's routes (NULL: the agent's own client; the
     * Node authorizer lets a node read only its own Node) */
    const struct kos_client_config *network_client;
    char proxy_mode[16];   /* "nftables" | "none" */
    char cluster_cidr[64]; /* pods' range for the proxy's masquerade ("" = 10.42.0.0/16) */
    /* the kubelet endpoint's port (agent/streaming/kubelet_server.h), advertised as the
     * Node's status.daemonEndpoints.kubeletEndpoint.Port; 0: none */
    int kubelet_port;
};

struct kos_agent;

/* Checks the machine (cgroups, allocatable against capacity), creates the root dir and the
 * kubepods cgroups, then starts the node and pod loops in threads of their own. Errors that
 * a person must read come back in *err. */
int kos_agent_start(const struct agent_config *cfg, const struct kos_client_config *cc,
                    struct kos_agent **ret, struct kos_error **err);
/* Stops the loops (pods and their cgroups stay as they are) and frees. Accepts NULL. */
void kos_agent_stop(struct kos_agent *a);

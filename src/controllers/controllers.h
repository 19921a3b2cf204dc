/* The controllers that run inside `kos server`: the garbage collector and the namespace
 * controller, sharing one metadata informer per kind and one API client, and the ClusterRole
 * aggregation controller on a ClusterRole informer of its own. They reach the API
 * server through the same client a remote component would use (here over loopback). */
#pragma once

#include <stdbool.h>

#include "client/client.h"
#include "util/cidr.h"

struct kos_controllers;

/* Who the controllers are, as kube-controller-manager with --use-service-account-credentials:
 * the shared informers list and watch as the manager; each controller writes as its own
 * service account (bound to its system:controller:* ClusterRole). A NULL entry uses the
 * manager's. */
struct kos_controllers_config {
    const struct kos_client_config *manager;
    const struct kos_client_config *garbage_collector;
    const struct kos_client_config *namespace_controller;
    const struct kos_client_config *clusterrole_aggregation;
    /* node IPAM (--allocate-node-cidrs): writes as the node-controller service account */
    const struct kos_client_config *node_ipam;
    bool allocate_node_cidrs;
    struct kos_cidr cluster_cidr; /* --cluster-cidr */
    int node_cidr_mask_size;      /* --node-cidr-mask-size */
    const struct kos_client_config *endpoint_controller;
    const struct kos_client_config *endpointslice_controller;
    /* the kube-root-ca.crt publisher; it publishes root_ca_pem (NULL: the manager's CA) */
    const struct kos_client_config *root_ca_publisher;
    const char *root_ca_pem;
};

/* Creates the clients, starts the informers and the controllers; returns at once (the
 * informers sync in the background). */
int kos_controllers_start(const struct kos_controllers_config *cfg, struct kos_controllers **ret);
/* Stops everything promptly, waits for the threads and frees. Accepts NULL. */
void kos_controllers_stop(struct kos_controllers *c);

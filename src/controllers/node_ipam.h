/* The node IPAM controller (kube-controller-manager's --allocate-node-cidrs with the
 * RangeAllocator): every Node gets a subnet of --cluster-cidr (/--node-cidr-mask-size) in
 * spec.podCIDR and spec.podCIDRs, which its agent's pod network uses. A Node that already has
 * one keeps it (it is marked taken); a deleted Node's subnet is freed. When the cluster CIDR
 * is exhausted the Node gets a CIDRNotAvailable warning event and is retried. */
#pragma once

#include "client/client.h"
#include "client/informer.h"
#include "controllers/events.h"
#include "util/cidr.h"

struct kos_node_ipam;

/* nodes: an informer of full Node objects (not started yet). */
int kos_node_ipam_new(struct kos_client *c, struct kos_informer *nodes,
                      struct kos_event_recorder *events, const struct kos_cidr *cluster, int mask,
                      struct kos_node_ipam **ret);
int kos_node_ipam_start(struct kos_node_ipam *n);
void kos_node_ipam_stop(struct kos_node_ipam *n);
void kos_node_ipam_free(struct kos_node_ipam *n);

/* The node's pod network (like the kubelet's old kubenet plugin plus flannel's host-gw):
 * a bridge (kos0) holding the first address of the node's podCIDR, each pod in a network
 * namespace of its own joined to the bridge by a veth pair, its address from the podCIDR
 * (agent/network/ipam.h), routes to every other Node's podCIDR via that Node's InternalIP,
 * forwarding on and pod traffic to non-pod destinations masqueraded (agent/network/masq.h).
 *
 * The node's podCIDR and the other nodes come from a Node informer; until this node has a
 * podCIDR (the server's node IPAM controller gives one) pods wait with "network is not
 * ready". */
#pragma once

#include <stddef.h>

#include "client/client.h"
#include "util/cidr.h"
#include "util/error.h"

#define KOS_PODNET_BRIDGE_DEFAULT "kos0"
#define KOS_PODNET_IFNAME         "eth0"

struct kos_podnet_config {
    struct kos_client *client; /* reads every Node (list/watch) */
    const char *node_name;
    const char *root_dir; /* state: ROOT/network/ipam, ROOT/netns/<pod uid> */
    const char *bridge;   /* NULL: kos0 */
};

struct kos_podnet;

int kos_podnet_new(const struct kos_podnet_config *cfg, struct kos_podnet **ret);
/* Stops the Node watch; pods keep their networks. Accepts NULL. */
void kos_podnet_free(struct kos_podnet *n);

/* Gives pod uid its network (idempotent: again for a pod that has one costs a lookup): the
 * namespace's path goes to netns (for the OCI spec), its address to pod_ip. -EAGAIN while
 * the node has no podCIDR, -ENOSPC when the podCIDR is full; *err says it for the pod's
 * status and events. */
int kos_podnet_setup(struct kos_podnet *n, const char *uid, char *netns, size_t netns_size,
                     char *pod_ip, size_t pod_ip_size, struct kos_error **err);
/* Removes the pod's veth pair and namespace and frees its address (0 also when it had none). */
int kos_podnet_teardown(struct kos_podnet *n, const char *uid);
/* The per-pod steps, for the benchmark too: the namespace at netns (made unless it exists),
 * the veth pair host_if <-> eth0 on bridge_index, inside it lo and eth0 up, ip/prefix on eth0
 * and the default route via the subnet's first address. Idempotent. */
int kos_podnet_attach(const char *netns, const char *host_if, int bridge_index, uint32_t ip,
                      const struct kos_cidr *cidr);
/* Deletes host_if (and with it eth0) and unbinds the namespace (0 when already gone). */
int kos_podnet_detach(const char *netns, const char *host_if);
/* The host-side veth name of a pod ("kos" + 8 hex digits of a hash of its uid). */
void kos_podnet_veth_name(const char *uid, char *out, size_t size);

/* Address management of the node's pod CIDR (like CNI's host-local plugin): one file per
 * address in use under a directory of the agent's state, named by the address and holding
 * its owner (the pod's uid), so an agent restart keeps every pod's address. The network
 * address, the first address (the bridge's, the pods' gateway) and the broadcast address are
 * never handed out; allocation goes round-robin from the last address given so that a freed
 * address is not reused at once. */
#pragma once

#include <stdint.h>

#include "util/cidr.h"

struct kos_ipam;

/* Opens (creating dir) the allocator of subnet (prefix 16..30) and loads what dir records;
 * files for addresses outside subnet are left alone (another pod CIDR's). */
int kos_ipam_open(const char *dir, const struct kos_cidr *subnet, struct kos_ipam **ret);
void kos_ipam_free(struct kos_ipam *p);
/* The address of owner, allocating one when it has none. -ENOSPC when the subnet is full,
 * -EINVAL for an owner that is not a plain name (1..127 of [A-Za-z0-9._-]). */
int kos_ipam_allocate(struct kos_ipam *p, const char *owner, uint32_t *ret);
/* The address owner holds; -ENOENT. */
int kos_ipam_lookup(struct kos_ipam *p, const char *owner, uint32_t *ret);
/* Frees owner's address (0 also when it held none). */
int kos_ipam_release(struct kos_ipam *p, const char *owner);
/* Addresses in use / that can be handed out at all. */
size_t kos_ipam_used(struct kos_ipam *p);
size_t kos_ipam_capacity(const struct kos_ipam *p);
/* The gateway (bridge) address of a subnet: its first address. */
uint32_t kos_ipam_gateway(const struct kos_cidr *subnet);

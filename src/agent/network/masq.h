/* The node's nftables rules for pod traffic, in a table kos owns (`ip kos`): traffic from this
 * node's pods to anything that is not a pod (the other nodes' podCIDRs included in "pods")
 * leaves masqueraded as the node, as flannel's host-gw masquerade does. The table is
 * replaced whole in one nft transaction, so there is never a moment without the rules. */
#pragma once

#include <stddef.h>

#include "util/buf.h"
#include "util/cidr.h"

/* The nft script for local (this node's podCIDR) and all pod CIDRs (local included). */
int kos_masq_script(const struct kos_cidr *local, const struct kos_cidr *pods, size_t npods,
                    struct kos_buf *out);
/* Runs `nft -f -` with the script. -ENOENT when nft is missing; -EIO when it refused. */
int kos_masq_apply(const struct kos_cidr *local, const struct kos_cidr *pods, size_t npods);
/* Removes the table (0 also when there is none). */
int kos_masq_remove(void);

/* The node IPAM controller's record of which per-node subnets of the cluster CIDR are taken
 * (kube-controller-manager's cidrset): a bitmap, allocation that continues after the last
 * subnet handed out, and occupy/release for subnets nodes already carry. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/cidr.h"

/* kube's clusterSubnetMaxDiff: at most 2^16 subnets per cluster CIDR */
#define KOS_CIDR_SET_MAX_BITS 16

struct kos_cidr_set;

/* -EINVAL when mask is shorter than the cluster's prefix or longer than 30, -E2BIG when the
 * cluster CIDR would hold more than 2^16 subnets (kube: "the node CIDR size is too big"). */
int kos_cidr_set_new(const struct kos_cidr *cluster, int mask, struct kos_cidr_set **ret);
void kos_cidr_set_free(struct kos_cidr_set *s);
/* The next free subnet; -ENOSPC when every one is taken ("CIDR allocation failed; there are no
 * remaining CIDRs left to allocate in the accepted range"). */
int kos_cidr_set_allocate(struct kos_cidr_set *s, struct kos_cidr *ret);
/* Marks a subnet taken / free. -ERANGE when it is not one of the set's subnets. */
int kos_cidr_set_occupy(struct kos_cidr_set *s, const struct kos_cidr *c);
int kos_cidr_set_release(struct kos_cidr_set *s, const struct kos_cidr *c);
bool kos_cidr_set_taken(const struct kos_cidr_set *s, const struct kos_cidr *c);
uint64_t kos_cidr_set_free_count(const struct kos_cidr_set *s);

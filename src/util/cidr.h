/* IPv4 CIDR arithmetic: parsing and formatting "a.b.c.d/n", splitting a cluster CIDR into
 * per-node subnets (kube-controller-manager's --cluster-cidr / --node-cidr-mask-size) and
 * walking the addresses of a node's subnet. Addresses are host-order uint32_t. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kos_cidr {
    uint32_t addr; /* the network address (host bits cleared) */
    int prefix;    /* 0..32 */
};

/* Strict "a.b.c.d/n" (IPv4 only). With strict set, host bits must be zero (as Go's
 * net.ParseCIDR result compared with the input); otherwise they are cleared. -EINVAL. */
int kos_cidr_parse(const char *s, bool strict, struct kos_cidr *ret);
/* "a.b.c.d" into host order; -EINVAL. */
int kos_ipv4_parse(const char *s, uint32_t *ret);
/* Formats into out (at least 19 bytes for a CIDR, 16 for an address). */
void kos_cidr_format(const struct kos_cidr *c, char *out, size_t size);
void kos_ipv4_format(uint32_t addr, char *out, size_t size);
/* The netmask of a prefix length, host order. */
uint32_t kos_cidr_mask(int prefix);
bool kos_cidr_contains(const struct kos_cidr *c, uint32_t addr);
/* Whether two CIDRs share any address. */
bool kos_cidr_overlaps(const struct kos_cidr *a, const struct kos_cidr *b);
/* How many subnets of length sub_prefix the cluster CIDR holds (0 when sub_prefix is shorter
 * than the cluster's or longer than 32; capped at 1<<24: the allocator tracks no more). */
uint64_t kos_cidr_subnet_count(const struct kos_cidr *cluster, int sub_prefix);
/* The index-th subnet of length sub_prefix; -ERANGE past the end, -EINVAL for a bad length. */
int kos_cidr_subnet(const struct kos_cidr *cluster, int sub_prefix, uint64_t index,
                    struct kos_cidr *ret);
/* The position of subnet sub within cluster (-ERANGE when it is not one of its subnets of
 * that length). */
int kos_cidr_subnet_index(const struct kos_cidr *cluster, const struct kos_cidr *sub,
                          uint64_t *ret);

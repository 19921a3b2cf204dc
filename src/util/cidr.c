/* IPv4 CIDR arithmetic for the node IPAM controller and the agent's pod network. */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/strutil.h"

uint32_t kos_cidr_mask(int prefix)
{
    if (prefix <= 0)
        return 0;
    if (prefix >= 32)
        return 0xffffffffu;
    return ~((1u << (32 - prefix)) - 1);
}

int kos_ipv4_parse(const char *s, uint32_t *ret)
{
    struct in_addr a;
    /* inet_pton accepts exactly four decimal parts, no leading zeros tricks beyond that */
    if (!s || strlen(s) > 15 || inet_pton(AF_INET, s, &a) != 1)
        return -EINVAL;
    *ret = ntohl(a.s_addr);
    return 0;
}

int kos_cidr_parse(const char *s, bool strict, struct kos_cidr *ret)
{
    if (!s)
        return -EINVAL;
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || (size_t)(slash - s) > 15)
        return -EINVAL;
    char ip[16];
    memcpy(ip, s, (size_t)(slash - s));
    ip[slash - s] = '\0';
    uint32_t addr;
    int64_t prefix;
    if (kos_ipv4_parse(ip, &addr) < 0 || !slash[1] || slash[1] == '+' || slash[1] == '-' ||
        kos_parse_int64(slash + 1, &prefix) < 0 || prefix < 0 || prefix > 32 ||
        strlen(slash + 1) > 2)
        return -EINVAL;
    uint32_t mask = kos_cidr_mask((int)prefix);
    if (strict && (addr & ~mask))
        return -EINVAL;
    *ret = (struct kos_cidr){.addr = addr & mask, .prefix = (int)prefix};
    return 0;
}

void kos_ipv4_format(uint32_t addr, char *out, size_t size)
{
    snprintf(out, size, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
             addr & 0xff);
}

void kos_cidr_format(const struct kos_cidr *c, char *out, size_t size)
{
    char ip[16];
    kos_ipv4_format(c->addr, ip, sizeof(ip));
    snprintf(out, size, "%s/%d", ip, c->prefix);
}

bool kos_cidr_contains(const struct kos_cidr *c, uint32_t addr)
{
    return (addr & kos_cidr_mask(c->prefix)) == c->addr;
}

bool kos_cidr_overlaps(const struct kos_cidr *a, const struct kos_cidr *b)
{
    int p = a->prefix < b->prefix ? a->prefix : b->prefix;
    uint32_t m = kos_cidr_mask(p);
    return (a->addr & m) == (b->addr & m);
}

uint64_t kos_cidr_subnet_count(const struct kos_cidr *cluster, int sub_prefix)
{
    if (sub_prefix < cluster->prefix || sub_prefix > 32)
        return 0;
    int bits = sub_prefix - cluster->prefix;
    if (bits > 24)
        bits = 24;
    return (uint64_t)1 << bits;
}

int kos_cidr_subnet(const struct kos_cidr *cluster, int sub_prefix, uint64_t index,
                    struct kos_cidr *ret)
{
    if (sub_prefix < cluster->prefix || sub_prefix > 32)
        return -EINVAL;
    if (index >= kos_cidr_subnet_count(cluster, sub_prefix))
        return -ERANGE;
    uint32_t step = sub_prefix == 0 ? 0 : (uint32_t)1 << (32 - sub_prefix);
    *ret = (struct kos_cidr){.addr = cluster->addr + (uint32_t)index * step, .prefix = sub_prefix};
    return 0;
}

int kos_cidr_subnet_index(const struct kos_cidr *cluster, const struct kos_cidr *sub, uint64_t *ret)
{
    if (sub->prefix < cluster->prefix || sub->prefix > 32 || sub->prefix == 0 ||
        !kos_cidr_contains(cluster, sub->addr) || (sub->addr & ~kos_cidr_mask(sub->prefix)))
        return -ERANGE;
    uint64_t idx = (uint64_t)(sub->addr - cluster->addr) >> (32 - sub->prefix);
    if (idx >= kos_cidr_subnet_count(cluster, sub->prefix))
        return -ERANGE;
    *ret = idx;
    return 0;
}

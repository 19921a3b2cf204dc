/* Unit tests for src/agent/network/netlink.c: the rtnetlink messages the pod network sends,
 * checked field by field as the kernel parses them (header, family header, attributes and
 * nested attributes), and the bounds of the message buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>

#include "agent/network/netlink.h"

/* The attribute of type t among the attributes in [a, a+len) (nested flag ignored). */
static const struct rtattr *find(const void *start, size_t len, int t)
{
    const struct rtattr *a = start;
    int left = (int)len;
    for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
        if ((a->rta_type & NLA_TYPE_MASK) == t)
            return a;
    return NULL;
}

static const struct nlmsghdr *check_header(const struct rtnl_msg *m, int type, int flags)
{
    const struct nlmsghdr *h = (const void *)m->buf;
    assert_false(m->overflow);
    assert_int_equal(h->nlmsg_len, m->len);
    assert_int_equal(h->nlmsg_type, type);
    assert_int_equal(h->nlmsg_flags, flags | NLM_F_REQUEST);
    return h;
}

static void test_veth(void **state)
{
    struct rtnl_msg m;
    assert_int_equal(rtnl_build_veth(&m, "kos1a2b3c4d", 7, "eth0", 9), 0);
    const struct nlmsghdr *h = check_header(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    assert_int_equal(ifi->ifi_flags & IFF_UP, IFF_UP);
    assert_int_equal(ifi->ifi_change, IFF_UP);
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    const void *attrs = (const uint8_t *)ifi + NLMSG_ALIGN(sizeof(*ifi));
    const struct rtattr *name = find(attrs, alen, IFLA_IFNAME);
    assert_non_null(name);
    assert_string_equal(RTA_DATA(name), "kos1a2b3c4d");
    const struct rtattr *master = find(attrs, alen, IFLA_MASTER);
    assert_non_null(master);
    assert_int_equal(*(uint32_t *)RTA_DATA(master), 7);
    const struct rtattr *info = find(attrs, alen, IFLA_LINKINFO);
    assert_non_null(info);
    assert_true(info->rta_type & NLA_F_NESTED);
    const struct rtattr *kind = find(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_KIND);
    assert_string_equal(RTA_DATA(kind), "veth");
    const struct rtattr *data = find(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_DATA);
    assert_non_null(data);
    const struct rtattr *peer = find(RTA_DATA(data), RTA_PAYLOAD(data), VETH_INFO_PEER);
    assert_non_null(peer);
    /* the peer: its own ifinfomsg (down: veth_open would say ENOTCONN), then its attributes */
    const struct ifinfomsg *pifi = RTA_DATA(peer);
    assert_int_equal(pifi->ifi_flags, 0);
    const void *pattrs = (const uint8_t *)pifi + NLMSG_ALIGN(sizeof(*pifi));
    size_t plen = RTA_PAYLOAD(peer) - NLMSG_ALIGN(sizeof(*pifi));
    assert_string_equal(RTA_DATA(find(pattrs, plen, IFLA_IFNAME)), "eth0");
    assert_int_equal(*(uint32_t *)RTA_DATA(find(pattrs, plen, IFLA_NET_NS_FD)), 9);
    /* the nests end where the message ends */
    assert_int_equal((const uint8_t *)info + info->rta_len, m.buf + m.len);
}

static void test_bridge_and_link(void **state)
{
    struct rtnl_msg m;
    assert_int_equal(rtnl_build_bridge(&m, "kos0"), 0);
    const struct nlmsghdr *h = check_header(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    const void *attrs = (const uint8_t *)ifi + NLMSG_ALIGN(sizeof(*ifi));
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    const struct rtattr *info = find(attrs, alen, IFLA_LINKINFO);
    assert_string_equal(RTA_DATA(find(RTA_DATA(info), RTA_PAYLOAD(info), IFLA_INFO_KIND)),
                        "bridge");

    assert_int_equal(rtnl_build_link_up(&m, 5, NULL), 0);
    h = check_header(&m, RTM_NEWLINK, 0);
    ifi = NLMSG_DATA(h);
    assert_int_equal(ifi->ifi_index, 5);
    assert_int_equal(ifi->ifi_flags, IFF_UP);
    assert_int_equal(h->nlmsg_len, NLMSG_LENGTH(sizeof(*ifi)));
    assert_int_equal(rtnl_build_link_up(&m, 0, "lo"), 0);
    ifi = NLMSG_DATA((const struct nlmsghdr *)m.buf);
    assert_int_equal(ifi->ifi_index, 0);

    assert_int_equal(rtnl_build_hairpin(&m, 9), 0);
    h = check_header(&m, RTM_SETLINK, 0);
    ifi = NLMSG_DATA(h);
    assert_int_equal(ifi->ifi_family, AF_BRIDGE);
    assert_int_equal(ifi->ifi_index, 9);
    attrs = (const uint8_t *)ifi + NLMSG_ALIGN(sizeof(*ifi));
    alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi));
    const struct rtattr *pi = find(attrs, alen, IFLA_PROTINFO);
    assert_non_null(pi);
    assert_int_equal(*(uint8_t *)RTA_DATA(find(RTA_DATA(pi), RTA_PAYLOAD(pi), IFLA_BRPORT_MODE)),
                     1);
    assert_int_equal(rtnl_build_hairpin(&m, 0), -EINVAL);

    assert_int_equal(rtnl_build_link_del(&m, "kos1a2b3c4d"), 0);
    check_header(&m, RTM_DELLINK, 0);

    /* interface names: 1..15 characters, no '/' */
    assert_int_equal(rtnl_build_bridge(&m, ""), -EINVAL);
    assert_int_equal(rtnl_build_bridge(&m, "0123456789abcdef"), -EINVAL);
    assert_int_equal(rtnl_build_bridge(&m, "a/b"), -EINVAL);
    assert_int_equal(rtnl_build_veth(&m, "ok", 0, "..", -1), -EINVAL);
    assert_int_equal(rtnl_build_link_up(&m, 0, NULL), -EINVAL);
}

static void test_addr(void **state)
{
    struct rtnl_msg m;
    assert_int_equal(rtnl_build_addr(&m, 3, 0x0a2a0005u, 24), 0);
    const struct nlmsghdr *h = check_header(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    assert_int_equal(ifa->ifa_family, AF_INET);
    assert_int_equal(ifa->ifa_prefixlen, 24);
    assert_int_equal(ifa->ifa_index, 3);
    const void *attrs = (const uint8_t *)ifa + NLMSG_ALIGN(sizeof(*ifa));
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifa));
    assert_int_equal(ntohl(*(uint32_t *)RTA_DATA(find(attrs, alen, IFA_LOCAL))), 0x0a2a0005u);
    assert_int_equal(ntohl(*(uint32_t *)RTA_DATA(find(attrs, alen, IFA_BROADCAST))), 0x0a2a00ffu);
    assert_int_equal(rtnl_build_addr(&m, 0, 1, 24), -EINVAL);
    assert_int_equal(rtnl_build_addr(&m, 1, 1, 33), -EINVAL);
}

static void test_route(void **state)
{
    struct rtnl_msg m;
    /* another node's pods via its address */
    assert_int_equal(rtnl_build_route(&m, true, 0x0a2a0100u, 24, 0x0ac80002u, 0), 0);
    const struct nlmsghdr *h = check_header(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    const struct rtmsg *rt = NLMSG_DATA(h);
    assert_int_equal(rt->rtm_family, AF_INET);
    assert_int_equal(rt->rtm_dst_len, 24);
    assert_int_equal(rt->rtm_table, RT_TABLE_MAIN);
    assert_int_equal(rt->rtm_protocol, RTNL_PROTO_KOS);
    assert_int_equal(rt->rtm_scope, RT_SCOPE_UNIVERSE);
    const void *attrs = (const uint8_t *)rt + NLMSG_ALIGN(sizeof(*rt));
    size_t alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
    assert_int_equal(ntohl(*(uint32_t *)RTA_DATA(find(attrs, alen, RTA_DST))), 0x0a2a0100u);
    assert_int_equal(ntohl(*(uint32_t *)RTA_DATA(find(attrs, alen, RTA_GATEWAY))), 0x0ac80002u);
    assert_null(find(attrs, alen, RTA_OIF));
    /* a pod's default route: no destination, out of eth0 */
    assert_int_equal(rtnl_build_route(&m, true, 0, 0, 0x0a2a0001u, 2), 0);
    h = (const void *)m.buf;
    rt = NLMSG_DATA(h);
    attrs = (const uint8_t *)rt + NLMSG_ALIGN(sizeof(*rt));
    alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(*rt));
    assert_null(find(attrs, alen, RTA_DST));
    assert_int_equal(*(uint32_t *)RTA_DATA(find(attrs, alen, RTA_OIF)), 2);
    assert_int_equal(rtnl_build_route(&m, false, 0x0a2a0100u, 24, 0x0ac80002u, 0), 0);
    check_header(&m, RTM_DELROUTE, 0);
    assert_int_equal(rtnl_build_route(&m, true, 0, 0, 0, 0), -EINVAL);
}

static void test_bounds(void **state)
{
    struct rtnl_msg m;
    struct ifinfomsg ifi = {0};
    rtnl_msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    char big[600];
    memset(big, 'x', sizeof(big));
    assert_int_equal(rtnl_attr(&m, IFLA_IFALIAS, big, sizeof(big)), 0);
    assert_int_equal(rtnl_attr(&m, IFLA_IFALIAS, big, sizeof(big)), -ENOBUFS);
    assert_true(m.overflow);
    assert_true(m.len <= RTNL_MSG_MAX);
    /* once overflowed, nothing more is added and it cannot be sent */
    assert_int_equal(rtnl_attr_u32(&m, IFLA_MTU, 1500), -ENOBUFS);
    struct rtnl r = {.fd = -1};
    assert_int_equal(rtnl_talk(&r, &m, NULL), -ENOBUFS);
    /* unbalanced nests are refused too */
    rtnl_msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    for (int i = 0; i < RTNL_NEST_MAX; i++)
        assert_int_equal(rtnl_nest_begin(&m, IFLA_LINKINFO), 0);
    assert_int_equal(rtnl_nest_begin(&m, IFLA_LINKINFO), -ENOBUFS);
    rtnl_msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    assert_int_equal(rtnl_nest_end(&m), -ENOBUFS);
    rtnl_nest_begin(&m, IFLA_LINKINFO);
    assert_int_equal(rtnl_talk(&r, &m, NULL), -ENOBUFS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_veth),   cmocka_unit_test(test_bridge_and_link),
        cmocka_unit_test(test_addr),   cmocka_unit_test(test_route),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

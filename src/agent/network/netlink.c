/* rtnetlink messages and the socket that carries them. */
#include "agent/network/netlink.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#define ALIGN4(n) (((n) + 3u) & ~3u)

static struct nlmsghdr *hdr(struct rtnl_msg *m)
{
    return (struct nlmsghdr *)m->buf;
}

void rtnl_msg_init(struct rtnl_msg *m, uint16_t type, uint16_t flags, const void *fhdr,
                   size_t hdr_len)
{
    memset(m, 0, sizeof(*m));
    m->len = NLMSG_HDRLEN;
    if (NLMSG_HDRLEN + ALIGN4(hdr_len) > RTNL_MSG_MAX) {
        m->overflow = true;
        return;
    }
    memcpy(m->buf + NLMSG_HDRLEN, fhdr, hdr_len);
    m->len += ALIGN4(hdr_len);
    struct nlmsghdr *h = hdr(m);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags | NLM_F_REQUEST;
    h->nlmsg_len = (uint32_t)m->len;
}

int rtnl_put(struct rtnl_msg *m, const void *data, size_t len)
{
    if (m->overflow || m->len + ALIGN4(len) > RTNL_MSG_MAX) {
        m->overflow = true;
        return -ENOBUFS;
    }
    memcpy(m->buf + m->len, data, len);
    m->len += ALIGN4(len);
    hdr(m)->nlmsg_len = (uint32_t)m->len;
    return 0;
}

int rtnl_attr(struct rtnl_msg *m, uint16_t type, const void *data, size_t len)
{
    size_t total = RTA_LENGTH(len);
    if (m->overflow || total > UINT16_MAX || m->len + RTA_ALIGN(total) > RTNL_MSG_MAX) {
        m->overflow = true;
        return -ENOBUFS;
    }
    struct rtattr *a = (struct rtattr *)(m->buf + m->len);
    a->rta_type = type;
    a->rta_len = (uint16_t)total;
    if (len)
        memcpy(RTA_DATA(a), data, len);
    m->len += RTA_ALIGN(total);
    hdr(m)->nlmsg_len = (uint32_t)m->len;
    return 0;
}

int rtnl_attr_u32(struct rtnl_msg *m, uint16_t type, uint32_t v)
{
    return rtnl_attr(m, type, &v, sizeof(v));
}

int rtnl_attr_str(struct rtnl_msg *m, uint16_t type, const char *s)
{
    return rtnl_attr(m, type, s, strlen(s) + 1);
}

int rtnl_nest_begin(struct rtnl_msg *m, uint16_t type)
{
    if (m->depth >= RTNL_NEST_MAX) {
        m->overflow = true;
        return -ENOBUFS;
    }
    size_t at = m->len;
    int r = rtnl_attr(m, type | NLA_F_NESTED, NULL, 0);
    if (r < 0)
        return r;
    m->nest[m->depth++] = at;
    return 0;
}

int rtnl_nest_end(struct rtnl_msg *m)
{
    if (m->depth <= 0 || m->overflow)
        return -ENOBUFS;
    size_t at = m->nest[--m->depth];
    struct rtattr *a = (struct rtattr *)(m->buf + at);
    if (m->len - at > UINT16_MAX) {
        m->overflow = true;
        return -ENOBUFS;
    }
    a->rta_len = (uint16_t)(m->len - at);
    return 0;
}

static bool valid_ifname(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n < IFNAMSIZ && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static int done(struct rtnl_msg *m)
{
    return m->overflow || m->depth != 0 ? -ENOBUFS : 0;
}

int rtnl_build_bridge(struct rtnl_msg *m, const char *name)
{
    if (!valid_ifname(name))
        return -EINVAL;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    rtnl_msg_init(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    rtnl_attr_str(m, IFLA_IFNAME, name);
    rtnl_nest_begin(m, IFLA_LINKINFO);
    rtnl_attr_str(m, IFLA_INFO_KIND, "bridge");
    rtnl_nest_end(m);
    return done(m);
}

int rtnl_build_veth(struct rtnl_msg *m, const char *name, int master_ifindex, const char *peer,
                    int peer_netns_fd)
{
    if (!valid_ifname(name) || !valid_ifname(peer))
        return -EINVAL;
    /* this end comes up at creation (rtnl_configure_link applies ifi_flags once both ends
     * are linked); the peer cannot: it is configured before it has a peer (veth_open says
     * ENOTCONN), so it is brought up inside its namespace */
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
    struct ifinfomsg peer_ifi = {.ifi_family = AF_UNSPEC};
    rtnl_msg_init(m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
    rtnl_attr_str(m, IFLA_IFNAME, name);
    if (master_ifindex > 0)
        rtnl_attr_u32(m, IFLA_MASTER, (uint32_t)master_ifindex);
    rtnl_nest_begin(m, IFLA_LINKINFO);
    rtnl_attr_str(m, IFLA_INFO_KIND, "veth");
    rtnl_nest_begin(m, IFLA_INFO_DATA);
    rtnl_nest_begin(m, VETH_INFO_PEER);
    rtnl_put(m, &peer_ifi, sizeof(peer_ifi));
    rtnl_attr_str(m, IFLA_IFNAME, peer);
    if (peer_netns_fd >= 0)
        rtnl_attr_u32(m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    rtnl_nest_end(m);
    rtnl_nest_end(m);
    rtnl_nest_end(m);
    return done(m);
}

int rtnl_build_link_up(struct rtnl_msg *m, int ifindex, const char *name)
{
    if (ifindex <= 0 && !valid_ifname(name))
        return -EINVAL;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC,
                            .ifi_index = ifindex > 0 ? ifindex : 0,
                            .ifi_flags = IFF_UP,
                            .ifi_change = IFF_UP};
    rtnl_msg_init(m, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
    if (ifindex <= 0)
        rtnl_attr_str(m, IFLA_IFNAME, name);
    return done(m);
}

int rtnl_build_hairpin(struct rtnl_msg *m, int ifindex)
{
    if (ifindex <= 0)
        return -EINVAL;
    struct ifinfomsg ifi = {.ifi_family = AF_BRIDGE, .ifi_index = ifindex};
    rtnl_msg_init(m, RTM_SETLINK, 0, &ifi, sizeof(ifi));
    rtnl_nest_begin(m, IFLA_PROTINFO);
    uint8_t on = 1;
    rtnl_attr(m, IFLA_BRPORT_MODE, &on, 1);
    rtnl_nest_end(m);
    return done(m);
}

int rtnl_build_link_del(struct rtnl_msg *m, const char *name)
{
    if (!valid_ifname(name))
        return -EINVAL;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    rtnl_msg_init(m, RTM_DELLINK, 0, &ifi, sizeof(ifi));
    rtnl_attr_str(m, IFLA_IFNAME, name);
    return done(m);
}

int rtnl_build_link_get(struct rtnl_msg *m, const char *name)
{
    if (!valid_ifname(name))
        return -EINVAL;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    rtnl_msg_init(m, RTM_GETLINK, 0, &ifi, sizeof(ifi));
    rtnl_attr_str(m, IFLA_IFNAME, name);
    /* only the index is wanted: skip the statistics */
    rtnl_attr_u32(m, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    return done(m);
}

int rtnl_build_addr(struct rtnl_msg *m, int ifindex, uint32_t addr, int prefix)
{
    if (ifindex <= 0 || prefix < 0 || prefix > 32)
        return -EINVAL;
    struct ifaddrmsg ifa = {.ifa_family = AF_INET,
                            .ifa_prefixlen = (unsigned char)prefix,
                            .ifa_scope = RT_SCOPE_UNIVERSE,
                            .ifa_index = (unsigned)ifindex};
    rtnl_msg_init(m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof(ifa));
    uint32_t a = htonl(addr);
    uint32_t host = prefix >= 31 ? 0 : (prefix == 0 ? 0xffffffffu : (1u << (32 - prefix)) - 1);
    uint32_t b = htonl(addr | host);
    rtnl_attr(m, IFA_LOCAL, &a, 4);
    rtnl_attr(m, IFA_ADDRESS, &a, 4);
    if (prefix < 31)
        rtnl_attr(m, IFA_BROADCAST, &b, 4);
    return done(m);
}

int rtnl_build_route(struct rtnl_msg *m, bool add, uint32_t dst, int prefix, uint32_t gw, int oif)
{
    if (prefix < 0 || prefix > 32 || (!gw && oif <= 0))
        return -EINVAL;
    struct rtmsg rt = {.rtm_family = AF_INET,
                       .rtm_dst_len = (unsigned char)prefix,
                       .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTNL_PROTO_KOS,
                       .rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
                       .rtm_type = RTN_UNICAST};
    rtnl_msg_init(m, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0, &rt,
                  sizeof(rt));
    if (prefix > 0) {
        uint32_t d = htonl(dst);
        rtnl_attr(m, RTA_DST, &d, 4);
    }
    if (gw) {
        uint32_t g = htonl(gw);
        rtnl_attr(m, RTA_GATEWAY, &g, 4);
    }
    if (oif > 0)
        rtnl_attr_u32(m, RTA_OIF, (uint32_t)oif);
    return done(m);
}

int rtnl_open(struct rtnl *r)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    /* extended acks would only make the answers longer */
    int one = 1;
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    r->fd = fd;
    r->seq = 1;
    return 0;
}

void rtnl_close(struct rtnl *r)
{
    if (r && r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
}

int rtnl_talk(struct rtnl *r, struct rtnl_msg *m, int *ret_ifindex)
{
    if (m->overflow || m->depth)
        return -ENOBUFS;
    struct nlmsghdr *h = hdr(m);
    h->nlmsg_flags |= NLM_F_ACK;
    h->nlmsg_seq = ++r->seq;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(r->fd, m->buf, m->len, 0, (struct sockaddr *)&kernel, sizeof(kernel));
    if (n < 0)
        return -errno;
    if ((size_t)n != m->len)
        return -EIO;
    /* a GETLINK answer is a few KiB; anything longer is cut (MSG_TRUNC) and only its header
     * is read */
    static __thread uint8_t buf[32768] __attribute__((aligned(4)));
    for (;;) {
        n = recv(r->fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *a = (struct nlmsghdr *)buf; NLMSG_OK(a, left);
             a = NLMSG_NEXT(a, left)) {
            if (a->nlmsg_seq != h->nlmsg_seq)
                continue;
            if (a->nlmsg_type == NLMSG_ERROR) {
                if (a->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
                    return -EIO;
                const struct nlmsgerr *e = NLMSG_DATA(a);
                return e->error; /* 0 is the ack */
            }
            if (a->nlmsg_type == RTM_NEWLINK && ret_ifindex &&
                a->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
                const struct ifinfomsg *ifi = NLMSG_DATA(a);
                *ret_ifindex = ifi->ifi_index;
            }
        }
    }
}

static void route_of(const struct nlmsghdr *a, struct rtnl_route *rt)
{
    const struct rtmsg *rm = NLMSG_DATA(a);
    *rt = (struct rtnl_route){.prefix = rm->rtm_dst_len};
    int left = (int)RTM_PAYLOAD(a);
    for (const struct rtattr *at = RTM_RTA(rm); RTA_OK(at, left); at = RTA_NEXT(at, left)) {
        if (RTA_PAYLOAD(at) != 4)
            continue;
        uint32_t v;
        memcpy(&v, RTA_DATA(at), 4);
        if (at->rta_type == RTA_DST)
            rt->dst = ntohl(v);
        else if (at->rta_type == RTA_GATEWAY)
            rt->gw = ntohl(v);
    }
}

int rtnl_dump_routes(struct rtnl *r, uint8_t protocol, struct rtnl_route *out, size_t max)
{
    struct rtnl_msg m;
    struct rtmsg rq = {.rtm_family = AF_INET};
    rtnl_msg_init(&m, RTM_GETROUTE, NLM_F_DUMP, &rq, sizeof(rq));
    struct nlmsghdr *h = hdr(&m);
    h->nlmsg_seq = ++r->seq;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(r->fd, m.buf, m.len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -errno;
    static __thread uint8_t buf[32768] __attribute__((aligned(4)));
    size_t count = 0;
    for (;;) {
        ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *a = (struct nlmsghdr *)buf; NLMSG_OK(a, left);
             a = NLMSG_NEXT(a, left)) {
            if (a->nlmsg_seq != h->nlmsg_seq)
                continue;
            if (a->nlmsg_type == NLMSG_DONE)
                return (int)count;
            if (a->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(a);
                return a->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EIO;
            }
            if (a->nlmsg_type != RTM_NEWROUTE || a->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
                continue;
            const struct rtmsg *rm = NLMSG_DATA(a);
            if (rm->rtm_protocol != protocol || rm->rtm_table != RT_TABLE_MAIN ||
                rm->rtm_family != AF_INET)
                continue;
            if (count < max)
                route_of(a, &out[count]);
            count++;
        }
    }
}

int rtnl_link_index(struct rtnl *r, const char *name)
{
    struct rtnl_msg m;
    int r2 = rtnl_build_link_get(&m, name);
    if (r2 < 0)
        return r2;
    int idx = 0;
    r2 = rtnl_talk(r, &m, &idx);
    if (r2 < 0)
        return r2;
    return idx > 0 ? idx : -ENODEV;
}

/* rtnetlink in C: building the messages the pod network sends (links, veth pairs, bridges,
 * addresses, routes) into bounded buffers, and a socket to send them and read the kernel's
 * answer. Building is pure (unit-tested byte by byte); only rtnl_talk touches the kernel.
 * No `ip` processes: one pod's network costs a handful of syscalls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTNL_MSG_MAX  1024
#define RTNL_NEST_MAX 4
/* The routes kos installs carry this rtm_protocol, so they can be told from others'. */
#define RTNL_PROTO_KOS 0x6b

struct rtnl_msg {
    size_t len;
    size_t nest[RTNL_NEST_MAX]; /* offsets of open nested attributes */
    int depth;
    bool overflow; /* a builder ran out of room: the message must not be sent */
    uint8_t buf[RTNL_MSG_MAX] __attribute__((aligned(4)));
};

/* Starts a message: nlmsghdr(type, flags | NLM_F_REQUEST) then the family header. */
void rtnl_msg_init(struct rtnl_msg *m, uint16_t type, uint16_t flags, const void *hdr,
                   size_t hdr_len);
int rtnl_attr(struct rtnl_msg *m, uint16_t type, const void *data, size_t len);
int rtnl_attr_u32(struct rtnl_msg *m, uint16_t type, uint32_t v);
int rtnl_attr_str(struct rtnl_msg *m, uint16_t type, const char *s);
int rtnl_nest_begin(struct rtnl_msg *m, uint16_t type);
int rtnl_nest_end(struct rtnl_msg *m);
/* Raw bytes appended as they are (the veth peer's ifinfomsg inside VETH_INFO_PEER). */
int rtnl_put(struct rtnl_msg *m, const void *data, size_t len);

/* Builders. Each returns 0, -ENOBUFS (the name/addresses did not fit) or -EINVAL (a name
 * longer than IFNAMSIZ-1 or empty). Addresses are host-order IPv4. */

/* RTM_NEWLINK create+excl: a bridge `name`. */
int rtnl_build_bridge(struct rtnl_msg *m, const char *name);
/* RTM_NEWLINK create+excl: a veth pair, `name` here (up, enslaved to master_ifindex when >0)
 * and `peer` (down) made in the network namespace behind peer_netns_fd (-1: here). */
int rtnl_build_veth(struct rtnl_msg *m, const char *name, int master_ifindex, const char *peer,
                    int peer_netns_fd);
/* RTM_NEWLINK: sets IFF_UP on a link by index (>0) or, with index 0, by name. */
int rtnl_build_link_up(struct rtnl_msg *m, int ifindex, const char *name);
/* RTM_SETLINK (AF_BRIDGE): hairpin mode on a bridge port, so a pod's packets that come back
 * to it through the node (a Service VIP that picks the pod itself) are delivered. */
int rtnl_build_hairpin(struct rtnl_msg *m, int ifindex);
/* RTM_DELLINK by name. */
int rtnl_build_link_del(struct rtnl_msg *m, const char *name);
/* RTM_GETLINK by name (the answer carries the index). */
int rtnl_build_link_get(struct rtnl_msg *m, const char *name);
/* RTM_NEWADDR create+replace: addr/prefix with its broadcast on ifindex. */
int rtnl_build_addr(struct rtnl_msg *m, int ifindex, uint32_t addr, int prefix);
/* RTM_NEWROUTE create+replace (add=true) or RTM_DELROUTE: dst/prefix in the main table via
 * gateway gw (0: on-link, out of oif), out of oif (0: the kernel picks from gw). */
int rtnl_build_route(struct rtnl_msg *m, bool add, uint32_t dst, int prefix, uint32_t gw, int oif);

/* A NETLINK_ROUTE socket, bound to the network namespace of the thread that opened it. */
struct rtnl {
    int fd;
    uint32_t seq;
};

int rtnl_open(struct rtnl *r);
void rtnl_close(struct rtnl *r);
/* Sends m with NLM_F_ACK and waits for the kernel's answer: 0 or its negative errno. For a
 * GET, the first answering message's ifinfomsg index goes to *ret_ifindex (may be NULL). */
int rtnl_talk(struct rtnl *r, struct rtnl_msg *m, int *ret_ifindex);
/* One IPv4 route of the main table. */
struct rtnl_route {
    uint32_t dst;
    int prefix;
    uint32_t gw;
};
/* The IPv4 routes of the main table that carry protocol (RTNL_PROTO_KOS: the ones kos made,
 * e.g. before an agent restart). Fills up to max, returns how many there are or -errno. */
int rtnl_dump_routes(struct rtnl *r, uint8_t protocol, struct rtnl_route *out, size_t max);
/* The index of a link by name, in r's namespace. -ENODEV. */
int rtnl_link_index(struct rtnl *r, const char *name);

/* The node proxy's view of Services and the nftables ruleset it renders, without I/O
 * (unit-tested). Shaped after kube-proxy's nftables mode, in a table of kos's own
 * (`ip kos-proxy`) replaced whole in one `nft -f` transaction:
 *   - map service-ips:       clusterIP . proto . port -> goto the service port's chain
 *   - map service-nodeports: proto . nodePort         -> goto its external chain, for every
 *     local address (fib daddr type local), 127.0.0.1 included (route_localnet, as
 *     kube-proxy's iptables mode does)
 *   - a service chain picks an endpoint at random (numgen random mod N) and jumps to the
 *     endpoint's chain, which DNATs to ip:port
 *   - masquerade where the reply would not come back through this node otherwise: traffic
 *     to a ClusterIP from outside the cluster CIDR, every NodePort connection, hairpin (an
 *     endpoint reaching itself through the Service)
 *   - a port without endpoints is rejected (ICMP port unreachable / TCP reset), not dropped.
 * Only IPv4 Services are proxied (the cluster serves IPv4 only). */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define KOS_PROXY_TABLE "kos-proxy"

struct proxy_endpoint {
    char ip[16];
    uint16_t port;
};

/* One port of one Service. */
struct proxy_port {
    char id[320]; /* "ns/name:portname/tcp", for comments and chain names */
    char cluster_ip[16];
    char proto[8]; /* "tcp", "udp", "sctp" */
    uint16_t port;
    uint16_t node_port; /* 0: none */
    struct proxy_endpoint *eps;
    size_t neps;
};

struct proxy_model {
    struct proxy_port *ports;
    size_t nports;
};

/* Builds the model from arrays of Service and EndpointSlice objects (ready endpoints only,
 * matched to the Service port by port name and protocol; headless, ExternalName and
 * non-IPv4 Services are skipped), ports sorted by id and endpoints by address. */
int proxy_model_build(const json_t *services, const json_t *slices, struct proxy_model *ret);
void proxy_model_clear(struct proxy_model *m);
/* The nft script that replaces the table; cluster_cidr ("10.42.0.0/16", or NULL: no
 * masquerade by source) is the pods' range. */
int proxy_render(const struct proxy_model *m, const char *cluster_cidr, struct kos_buf *out);
/* The transaction that takes the table from `old` (exactly what nft holds, as rendered from
 * it) to m, touching only the service ports that changed: their chains are rewritten in place
 * (flushed, refilled), map elements replaced, chains no longer used emptied and deleted.
 * Empty when nothing changed; *ret_changed (may be NULL) counts the ports touched. Both
 * models come from proxy_model_build (sorted). */
int proxy_render_diff(const struct proxy_model *old, const struct proxy_model *m,
                      const char *cluster_cidr, struct kos_buf *out, size_t *ret_changed);
/* The script that removes the table (on stop). */
int proxy_render_flush(struct kos_buf *out);

/* The node proxy (kos's kube-proxy, nftables mode): Service and EndpointSlice informers, and a
 * sync thread that renders the whole ruleset (ruleset.h) and loads it with one `nft -f`
 * transaction per sync. Changes are batched: a sync starts min_sync_ms after the first change
 * it covers, so a burst of Services costs one transaction. It sets
 * net.ipv4.conf.all.route_localnet=1 so that NodePorts answer on 127.0.0.1, and removes its
 * table when stopped. */
#pragma once

#include <stdint.h>

#include "client/client.h"

struct agent_proxy_config {
    struct kos_client *client; /* lists and watches Services and EndpointSlices */
    const char *cluster_cidr;  /* pods' range: ClusterIP traffic from elsewhere is masqueraded */
    const char *state_dir;     /* where the last script is written (for nft -f, and people) */
    int min_sync_ms;           /* default 20 */
};

struct agent_proxy;

int agent_proxy_start(const struct agent_proxy_config *cfg, struct agent_proxy **ret);
/* Syncs done and the last one's figures, for tests and benchmarks. */
void agent_proxy_stats(struct agent_proxy *p, uint64_t *syncs, int64_t *last_ms);
/* Stops the thread and the informers, removes the table, frees. Accepts NULL. */
void agent_proxy_stop(struct agent_proxy *p);

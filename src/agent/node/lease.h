/* The node's heartbeat Lease (coordination.k8s.io/v1, namespace kube-node-lease, name = node
 * name), as the kubelet's node lease controller keeps it: holderIdentity = node name,
 * leaseDurationSeconds 40, renewTime refreshed every 10 s, owned by the Node. */
#pragma once

#include <jansson.h>
#include <time.h>

#include "client/client.h"

#define AGENT_LEASE_NAMESPACE        "kube-node-lease"
#define AGENT_LEASE_DURATION_SECONDS 40
#define AGENT_LEASE_RENEW_SECONDS    10

/* The Lease object for a node at time now (+ us microseconds). node_uid may be NULL (no
 * ownerReference then). */
json_t *agent_lease_object(const char *node_name, const char *node_uid, time_t now, long us);

/* Creates the Lease or renews it (read, set renewTime, update; retried once on a conflict). */
int agent_lease_renew(struct kos_client *c, const char *node_name, const char *node_uid,
                      struct kos_error **err);

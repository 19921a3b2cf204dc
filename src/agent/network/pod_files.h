/* The files the kubelet writes for every pod and bind-mounts into each of its containers:
 * /etc/hosts (its managed text: localhost lines, the pod's address and hostname, HostAliases;
 * the node's own file for hostNetwork pods), /etc/hostname and /etc/resolv.conf (dnsPolicy
 * ClusterFirst, ClusterFirstWithHostNet, Default and None with dnsConfig; with no cluster DNS
 * configured yet ClusterFirst falls back to Default as the kubelet does). Pure functions of
 * the pod and the node's files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define KOS_CLUSTER_DOMAIN "cluster.local"

/* The pod's hostname: spec.hostname or its name, cut to 63 characters without a trailing '-'
 * or '.'; the node's hostname for hostNetwork pods. */
void kos_pod_hostname(const json_t *pod, const char *node_hostname, char *out, size_t size);
/* /etc/hosts. pod_ip is the pod's address; node_hosts the node's /etc/hosts (hostNetwork). */
int kos_pod_hosts_content(const json_t *pod, const char *pod_ip, const char *node_hosts,
                          const char *node_hostname, struct kos_buf *out);
/* /etc/resolv.conf from the node's (node_resolv) and the pod's dnsPolicy/dnsConfig.
 * *fell_back tells that ClusterFirst had to fall back to Default (no cluster DNS): the
 * kubelet's MissingClusterDNS warning. */
int kos_pod_resolv_content(const json_t *pod, const char *node_resolv, bool *fell_back,
                           struct kos_buf *out);

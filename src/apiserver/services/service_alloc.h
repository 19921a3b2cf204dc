/* ClusterIP and NodePort allocation for Services, as kube-apiserver's service registry does
 * it: a Service gets its cluster IP from --service-cluster-ip-range and its node ports from
 * --service-node-port-range when it is created; an IP or port asked for by number must be in
 * range and free (kube's 422 texts otherwise); headless (clusterIP None) and ExternalName
 * Services get no IP; an update never changes the cluster IP and keeps node ports the user
 * left out; whatever a Service held is released when it is deleted.
 *
 * The bitmaps live in memory and are rebuilt from the stored Services when the server starts
 * (kos_svc_alloc_mark), which is what kube's repair loop restores from too. Thread-safe. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define KOS_DEFAULT_SERVICE_CIDR       "10.43.0.0/16"
#define KOS_DEFAULT_SERVICE_NODE_PORTS "30000-32767"

struct kos_svc_alloc;

/* cidr: an IPv4 CIDR with a prefix of 12..30; ports: "LO-HI" (or kube's "BASE+SIZE").
 * A bad value is a 400 in err naming the flag. */
int kos_svc_alloc_new(const char *cidr, const char *ports, struct kos_svc_alloc **ret,
                      struct kos_error **err);
void kos_svc_alloc_free(struct kos_svc_alloc *a);
/* The first address of the range ("10.43.0.1"), the kubernetes Service's. */
void kos_svc_alloc_first_ip(const struct kos_svc_alloc *a, char *out, size_t size);

/* Records what a stored Service holds (start-up rebuild); clashes are ignored. */
void kos_svc_alloc_mark(struct kos_svc_alloc *a, const json_t *svc);
/* Allocates what a new (defaulted, validated) Service needs and writes it into svc:
 * spec.clusterIP, spec.clusterIPs, ipFamilies, ports[].nodePort. On failure nothing stays
 * held and err is the 422 (or 500 when a range is full). */
int kos_svc_alloc_create(struct kos_svc_alloc *a, json_t *svc, struct kos_error **err);
/* Before validation of an update: copies into next what the user may leave out and the server
 * allocated (clusterIP, clusterIPs, ipFamilies, ipFamilyPolicy, node ports by port name), and
 * drops node ports when the type no longer needs them. Needs no allocator. */
int kos_svc_alloc_patch_update(json_t *next, const json_t *cur);
/* After validation of an update: allocates what next needs that cur does not hold (a cluster
 * IP when it stops being ExternalName, new node ports). On failure nothing new stays held. */
int kos_svc_alloc_update(struct kos_svc_alloc *a, json_t *next, const json_t *cur,
                         struct kos_error **err);
/* Releases what held holds and keep (may be NULL) does not: after a delete (keep NULL), after
 * a committed update (held = old, keep = new) or a failed one (held = new, keep = old). */
void kos_svc_alloc_release_diff(struct kos_svc_alloc *a, const json_t *held, const json_t *keep);

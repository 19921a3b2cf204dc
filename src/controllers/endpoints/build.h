/* What the endpoints and endpointslice controllers compute from a Service and the pods its
 * selector picks, without any I/O (unit-tested): kube's rules for which pods count (an IP,
 * not terminal, not terminating for Endpoints), readiness from the pod's Ready condition,
 * target ports resolved by number or by container port name, addresses with nodeName,
 * hostname and targetRef, grouped by the ports they resolve to. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* kube's default --max-endpoints-per-slice */
#define KOS_SLICE_MAX_ENDPOINTS 100

/* The part of a pod the controllers read (labels, IP, node, readiness, container ports):
 * a new object, NULL when out of memory. */
json_t *kos_ep_trim_pod(const json_t *pod);
/* Whether every key=value of the Service's selector map is among the labels. An empty or
 * missing selector matches nothing (such Services are managed by hand). */
bool kos_ep_selector_matches(const json_t *selector, const json_t *labels);
/* The Endpoints' subsets for svc from the (trimmed) pods its selector picks. */
json_t *kos_ep_build_subsets(const json_t *svc, const json_t *pods);
/* The EndpointSlices' contents: an array of {"ports": [...], "endpoints": [...]}, endpoints
 * grouped by resolved ports, at most max_per_slice in each, in a stable order. */
json_t *kos_ep_build_slices(const json_t *svc, const json_t *pods, size_t max_per_slice);

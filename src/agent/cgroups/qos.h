/* A pod's QoS class (spec/resource-semantics.md §1) as the node agent uses it: the class the
 * API server recorded in status.qosClass when it is there (GetPodQOS), otherwise computed
 * from the spec exactly as kube's ComputePodQOS (the API server's own classifier, so both
 * sides always agree). */
#pragma once

#include <jansson.h>

enum agent_qos {
    AGENT_QOS_GUARANTEED,
    AGENT_QOS_BURSTABLE,
    AGENT_QOS_BEST_EFFORT,
};

/* The class of a Pod object (NULL or a malformed pod is BestEffort, as an empty spec is). */
enum agent_qos agent_qos_of_pod(const json_t *pod);
/* Computed from the spec only, ignoring status.qosClass. */
enum agent_qos agent_qos_compute(const json_t *pod);
/* "Guaranteed", "Burstable", "BestEffort". */
const char *agent_qos_name(enum agent_qos q);
/* -EINVAL for any other string. */
int agent_qos_from_name(const char *name, enum agent_qos *ret);

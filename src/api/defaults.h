/* Defaulting applied on create and update, as kube-apiserver's SetDefaults_* functions do
 * (spec/resource-semantics.md §1.2 for pods: requests copied from limits, restartPolicy,
 * dnsPolicy, schedulerName, terminationGracePeriodSeconds, probe defaults, ...). Also
 * computes status fields the API server owns, such as a pod's status.qosClass. */
#pragma once

#include <jansson.h>

#include "api/kinds.h"

/* Applies defaults for kind to obj in place. */
int kos_apply_defaults(const struct kos_kind *kind, json_t *obj);

/* "Guaranteed", "Burstable" or "BestEffort" for a pod object (spec/resource-semantics.md §1.1). */
const char *kos_pod_qos_class(const json_t *pod);

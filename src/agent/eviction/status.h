/* The status the kubelet leaves on a pod it evicted (TerminatePodAbnormallyAndWait with
 * Evict: phase Failed, reason Evicted, the eviction message, the DisruptionTarget condition
 * with reason TerminationByKubelet, Ready/ContainersReady False and the containers
 * terminated). Pure. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

/* A new status object for a merge patch of the pod's status (its conditions and container
 * statuses are given in full, as a merge patch replaces lists). */
json_t *evict_pod_status(const json_t *pod, const char *message, time_t now);
/* The same; disruption_target false leaves out the DisruptionTarget condition, as the
 * kubelet's local storage limit evictions do (evictPod with no condition). */
json_t *evict_pod_status_ex(const json_t *pod, const char *message, time_t now,
                            bool disruption_target);
/* The static / mirror / priority >= 2000000000 test of kubelettypes.IsCriticalPod. */
bool evict_pod_is_critical(const json_t *pod);

/* The Priority admission plugin (kube's plugin/pkg/admission/priority) for pod creates:
 * spec.priorityClassName → spec.priority and spec.preemptionPolicy from the PriorityClass
 * (the built-in system-cluster-critical and system-node-critical need no object); no class
 * name → the globalDefault class (lowest value if several) or priority 0. Refuses (403) an
 * unknown class, and a spec.priority or spec.preemptionPolicy given by the client that
 * disagrees with the class.
 *
 * Runs before defaulting, which would otherwise fill spec.priority with 0 and hide whether
 * the client set it. */
#pragma once

#include <jansson.h>

#include "apiserver/resource.h"
#include "util/error.h"

#define PRIORITY_SYSTEM_CLUSTER_CRITICAL 2000000000
#define PRIORITY_SYSTEM_NODE_CRITICAL    2000001000

/* No-op (0) for anything but a pod create. -EACCES (403 in *err) when refused; -EIO / -ENOMEM
 * (500) when the classes cannot be read. */
int admission_priority(struct resource_request *rr, json_t *obj, struct kos_error **err);

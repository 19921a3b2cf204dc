/* The NoSchedule taints the node lifecycle controller keeps in step with the pressure
 * conditions (nodeConditionToTaintKeyStatusMap): node.kubernetes.io/memory-pressure,
 * disk-pressure, pid-pressure. kos has no node lifecycle controller, so the agent sets them
 * on its own Node (no NodeRestriction admission stops a node from doing so in kos). Pure. */
#pragma once

#include <jansson.h>

/* Adds the taints of the conditions that are on and removes those that are off, leaving
 * every other taint as it is. Returns 1 when spec.taints changed, 0 when not, -ENOMEM. */
int evict_node_taints(json_t *node, unsigned conditions);

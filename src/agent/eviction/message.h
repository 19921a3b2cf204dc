/* The texts the kubelet writes when it evicts or refuses a pod (helpers.go evictionMessage,
 * eviction_manager.go Admit), with quantities printed as resource.Quantity.String() does. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/eviction/signals.h"
#include "agent/eviction/thresholds.h"

/* Canonical Quantity text: binary ("91040Ki", "100Mi"; below 1024 or inexact: decimal
 * digits) or decimal SI ("1G", "500M", "1k"). */
void evict_format_quantity(int64_t v, bool binary, char *out, size_t size);

/* "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91040Ki.
 * Container app was using 1500Mi, request is 200Mi, has larger consumption of memory. "
 * threshold may be NULL (no threshold part); stats may be NULL (no container part).
 * A new string. */
char *evict_message(enum evict_resource res, const struct evict_threshold *threshold,
                    const struct evict_observation *obs, const json_t *pod,
                    const struct evict_pod_stats *stats);

/* The same message, and the Evicted event's annotations as evictionMessage gives them: with
 * stats, offending_containers and offending_containers_usage (the containers over their
 * request, ","-joined; per-container usage is only known for memory, so for other resources
 * both are empty) and starved_resource; without stats an empty object. ret_annotations may be
 * NULL. */
char *evict_message_annotated(enum evict_resource res, const struct evict_threshold *threshold,
                              const struct evict_observation *obs, const json_t *pod,
                              const struct evict_pod_stats *stats, json_t **ret_annotations);

/* The conditions' names as the kubelet prints a []NodeConditionType: "[MemoryPressure]",
 * "[DiskPressure PIDPressure]". */
void evict_conditions_text(unsigned conditions, char *out, size_t size);

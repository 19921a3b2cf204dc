/* What the endpoints and endpointslice controllers share: the pods (trimmed to what they read,
 * build.h) and Service selectors of the cluster by namespace, fed by the pod and Service
 * informers, and the queues of Service keys ("ns/name") to sync. A pod change queues the
 * Services whose selectors pick the pod before or after it; a pod change that leaves its
 * trimmed form alone (most status writes) queues nothing. Thread-safe. */
#pragma once

#include <jansson.h>

#include "client/informer.h"
#include "controllers/workqueue.h"

#define KOS_EP_INDEX_MAX_QUEUES 4

struct kos_ep_index;

/* Adds its handlers to both informers (before they start). */
int kos_ep_index_new(struct kos_informer *pods, struct kos_informer *services,
                     struct kos_ep_index **ret);
void kos_ep_index_free(struct kos_ep_index *idx);
/* Before the informers start: q receives every key to sync. */
int kos_ep_index_subscribe(struct kos_ep_index *idx, struct kos_workqueue *q);
/* The trimmed pods of ns that selector picks (new array; NULL when out of memory). */
json_t *kos_ep_index_select(struct kos_ep_index *idx, const char *ns, const json_t *selector);

/* The running scheduler inside `kos server`: informers for pods, nodes and
 * PodDisruptionBudgets feed the cache and the queue (cache.h, queue.h); workers pop pods,
 * decide (schedule.h) and write the outcome through the API as kube-scheduler does — the
 * pods/binding subresource, the PodScheduled condition, status.nominatedNodeName, victims'
 * DisruptionTarget condition and graceful deletion, and the Scheduled / FailedScheduling /
 * Preempted events (source component default-scheduler). */
#pragma once

#include "client/client.h"

struct kos_scheduler;

/* Creates its own client from cfg, starts the informers and the workers; returns at once
 * (the informers sync in the background and the workers wait for them). */
int kos_scheduler_start(const struct kos_client_config *cfg, struct kos_scheduler **ret);
/* Stops the workers and the informers, waits for the threads and frees. Accepts NULL. */
void kos_scheduler_stop(struct kos_scheduler *s);

/* The scheduler's writes through the API, as kube-scheduler words them: the binding, the
 * pod's PodScheduled condition and nominatedNodeName, and the preemption of a victim (events
 * go through sched_events.h). Each returns 0 or the client's negative errno; the loop
 * decides what to retry. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "client/client.h"
#include "scheduler/pod.h"
#include "scheduler/sched_events.h"
#include "scheduler/schedule.h"

/* POST pods/<name>/binding: Binding{metadata{name}, target{kind Node, name}}. -EEXIST or
 * -ECANCELED when already bound (409), -ENOENT when the pod is gone. */
int sched_api_bind(struct kos_client *c, const struct sched_pod *pod, const char *node);

/* Condition PodScheduled=False (reason, message) and status.nominatedNodeName (set to
 * `nominate`, or removed when `clear_nominated`), patched onto pods/status only when they
 * differ from `cur` (the informer's copy; NULL: always). */
int sched_api_update_status(struct kos_client *c, const json_t *cur, const struct sched_pod *pod,
                            const char *reason, const char *message, const char *nominate,
                            bool clear_nominated);

/* DisruptionTarget=True reason PreemptionByScheduler on the victim's status, a graceful
 * DELETE, and the Preempted event. */
int sched_api_preempt_victim(struct kos_client *c, struct sched_events *ev,
                             const struct sched_pod *preemptor, const struct sched_victim *v,
                             const char *node);

/* Removes status.nominatedNodeName (a lower-priority pod nominated to a preempted node). */
int sched_api_clear_nomination(struct kos_client *c, const char *ns, const char *name);

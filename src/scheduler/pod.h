/* A Pod as the scheduler sees it: parsed once from its JSON into what Filter, Score,
 * preemption and the queue read, so no decision re-parses JSON. Reference-counted
 * (atomically): the queue, the cache and a scheduling cycle may each hold it. Immutable
 * after sched_pod_from_json. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "scheduler/affinity.h"
#include "scheduler/resources.h"
#include "scheduler/taints.h"

#define SCHED_DEFAULT_SCHEDULER_NAME "default-scheduler"
/* start_ms of a pod that has not started: kube's GetPodStartTime answers "now", i.e. later
 * than every real start. */
#define SCHED_TIME_UNSET INT64_MAX

struct sched_pod {
    int refcount;
    char *uid;
    char *namespace;
    char *name;
    char *node_name;           /* spec.nodeName, NULL when unassigned */
    char *nominated_node_name; /* status.nominatedNodeName, NULL when none */
    char *scheduler_name;      /* spec.schedulerName or "default-scheduler" */
    int32_t priority;          /* spec.priority (0 when absent) */
    bool preempt_never;        /* spec.preemptionPolicy == Never */
    bool terminal;             /* status.phase Succeeded or Failed */
    bool deleting;             /* metadata.deletionTimestamp set */
    /* Deleting with condition DisruptionTarget=True reason PreemptionByScheduler. */
    bool preemption_victim;
    bool gated; /* spec.schedulingGates non-empty: not to be scheduled yet */
    int64_t creation_ms;
    int64_t start_ms; /* status.startTime, SCHED_TIME_UNSET when absent */
    json_t *labels;   /* shared (intern.h), never NULL */
    struct sched_pod_resources res;
    struct sched_toleration *tolerations;
    size_t n_tolerations;
    bool tolerates_unschedulable; /* node.kubernetes.io/unschedulable:NoSchedule */
    struct sched_node_affinity affinity;
};

/* -EINVAL when metadata.uid/name is missing or a field is malformed (bad quantity, ...),
 * -E2BIG past the bounds of resources.h / affinity.h / taints.h. */
int sched_pod_from_json(const json_t *pod, struct sched_pod **ret);
/* kube's isPodUpdated: whether the pod changed in more than its status, resourceVersion,
 * generation, managedFields and finalizers (a change that could alter a scheduling decision).
 * Compared by a hash of each, so asked only for the update of a pod the queue holds: it
 * walks both objects whole, which for every pod added had cost more than the rest of its
 * parse for the scheduler. */
bool sched_pod_changed(const json_t *old_obj, const json_t *obj);
struct sched_pod *sched_pod_ref(struct sched_pod *p);
void sched_pod_unref(struct sched_pod *p);

static inline void sched_pod_unrefp(struct sched_pod **p)
{
    sched_pod_unref(*p);
}
#define _cleanup_sched_pod_ __attribute__((cleanup(sched_pod_unrefp)))

/* kube's MoreImportantPod: higher priority, then earlier start. */
bool sched_pod_more_important(const struct sched_pod *a, const struct sched_pod *b);

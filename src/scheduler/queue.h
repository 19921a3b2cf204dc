/* kube-scheduler's PriorityQueue for pending pods:
 * - activeQ ordered by priority (higher first), then by the time the pod entered the queue
 *   (earlier first), then FIFO — the PrioritySort plugin;
 * - backoffQ: pods that failed and wait out initial·2^(attempts−1) capped at max (1 s,
 *   10 s by default) before returning to activeQ;
 * - unschedulable pods wait for a cluster event that may help them (node added or updated,
 *   an assigned pod deleted or shrunk), or for max_unschedulable (5 min) to pass;
 * - gated pods (spec.schedulingGates) wait until an update removes the gates.
 * A pod rejected in a cycle during which an event arrived goes to backoffQ, not to the
 * unschedulable pods, so the event is not lost.
 *
 * Integration: informer add/update of a pending pod for this scheduler that the cache does
 * not hold as assumed (sched_cache_pod_node() == -ENOENT) → sched_queue_add;
 * pod delete, or pod now bound → sched_queue_delete; node add/update, assigned pod
 * delete/update → sched_queue_move_all(event). Scheduling loop: sched_queue_pop →
 * sched_schedule_one → sched_queue_done (scheduled) or sched_queue_requeue (failed).
 *
 * Thread-safe; sched_queue_pop blocks (with a timeout) until a pod is ready. The clock is
 * injectable for tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scheduler/pod.h"

#define SCHED_QUEUE_MAX_PODS 1000000

struct sched_queue_options {
    int64_t initial_backoff_ms;   /* 1000 (podInitialBackoffSeconds) */
    int64_t max_backoff_ms;       /* 10000 (podMaxBackoffSeconds) */
    int64_t max_unschedulable_ms; /* 300000 (podMaxInUnschedulablePodsDuration) */
    /* How often pop looks for pods that waited max_unschedulable_ms (kube: 30 s). */
    int64_t unschedulable_flush_ms;
    /* Milliseconds on some monotonic scale; NULL: CLOCK_MONOTONIC. */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
};

/* Cluster events (bits) that can make unschedulable pods schedulable. */
enum sched_event {
    SCHED_EVENT_NODE_ADD = 1u << 0,
    SCHED_EVENT_NODE_UPDATE = 1u << 1,
    SCHED_EVENT_ASSIGNED_POD_DELETE = 1u << 2,
    SCHED_EVENT_ASSIGNED_POD_UPDATE = 1u << 3,
    SCHED_EVENT_ALL = 0xffffffffu,
};

enum sched_requeue {
    SCHED_REQUEUE_UNSCHEDULABLE, /* no node fit: wait for an event (or the flush) */
    SCHED_REQUEUE_ERROR,         /* transient failure (API error, ...): back off and retry */
};

struct sched_queue_stats {
    size_t active;
    size_t backoff;
    size_t unschedulable;
    size_t gated;
    size_t in_flight;
};

struct sched_queue;

void sched_queue_options_init(struct sched_queue_options *o);
int sched_queue_new(const struct sched_queue_options *o, struct sched_queue **ret);
/* Frees the queue: close it and join every thread that pops first. */
void sched_queue_free(struct sched_queue *q);

/* Adds a pending pod or updates a queued one (takes its own reference). A pod that now has
 * spec.nodeName or is terminal leaves the queue instead. An update to an unschedulable pod
 * makes it try again when changed (sched_pod_changed against the queue's copy: kube's
 * isPodUpdated; true when unknown); to a gated one without gates, activates it. -E2BIG when
 * full. */
int sched_queue_add(struct sched_queue *q, struct sched_pod *pod, bool changed);
/* Whether the queue holds the pod (pending, in flight or waiting). */
bool sched_queue_has(struct sched_queue *q, const char *uid);
int sched_queue_delete(struct sched_queue *q, const char *uid);

/* The next pod to schedule (a new reference for the caller), waiting up to timeout_ms
 * (0: do not wait, <0: forever). -ETIMEDOUT when nothing came, -ESHUTDOWN once closed. */
int sched_queue_pop(struct sched_queue *q, int64_t timeout_ms, struct sched_pod **ret);
/* The popped pod was scheduled (assumed): forget it. */
int sched_queue_done(struct sched_queue *q, const char *uid);
/* The popped pod failed its cycle: unschedulable_plugins are the enum sched_plugin bits from
 * sched_result. -ENOENT if the pod was deleted meanwhile (nothing to do). */
int sched_queue_requeue(struct sched_queue *q, const char *uid, enum sched_requeue kind,
                        uint32_t unschedulable_plugins);
/* A cluster event: moves the unschedulable pods it may help to backoffQ or activeQ. */
void sched_queue_move_all(struct sched_queue *q, uint32_t events);
/* Applies the time-based moves now (pop does this itself). */
void sched_queue_flush(struct sched_queue *q);
void sched_queue_close(struct sched_queue *q);
void sched_queue_stats(struct sched_queue *q, struct sched_queue_stats *ret);

/* The backoff after `attempts` failed attempts (exposed for tests). */
int64_t sched_queue_backoff_ms(const struct sched_queue_options *o, int attempts);

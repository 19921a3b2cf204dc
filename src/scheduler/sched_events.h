/* The scheduler's events, written off the scheduling path as kube-scheduler's event
 * broadcaster does: record() queues and returns; writer threads send them through event
 * recorders (which fold repeats). Like the broadcaster's bounded channel (1,000 events), a full
 * queue drops the event rather than slowing scheduling down — events are best effort.
 *
 * The queue is sharded by pod uid, one writer thread and one recorder per shard: a recorder
 * writes one event at a time (a durable create, a few ms), so a single writer would drop
 * most events of a burst; the same pod always lands on the same shard, so its repeats still
 * fold into one Event. */
#pragma once

#include <stddef.h>

#include "client/client.h"
#include "controllers/events.h"

#define SCHED_EVENTS_SHARDS 16
#define SCHED_EVENTS_QUEUE  4096 /* in all shards together */

struct sched_events;

/* The client must outlive the sched_events. component: source.component. */
int sched_events_new(struct kos_client *c, const char *component, struct sched_events **ret);
/* Stops the threads (dropping what is still queued: shutdown must be prompt) and frees.
 * Accepts NULL. */
void sched_events_free(struct sched_events *e);

/* An event about a pod (its namespace, name and uid). Returns 0, or -ENOSPC when dropped. */
int sched_events_record(struct sched_events *e, const char *ns, const char *name, const char *uid,
                        const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Events dropped because the queue was full (tests, metrics). */
size_t sched_events_dropped(struct sched_events *e);

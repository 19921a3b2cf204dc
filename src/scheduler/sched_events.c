/* Asynchronous scheduler events (see sched_events.h). */
#include "scheduler/sched_events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define MESSAGE_MAX 1024
#define SHARD_QUEUE (SCHED_EVENTS_QUEUE / SCHED_EVENTS_SHARDS)

struct pending {
    char *strings; /* one allocation: namespace, name, uid and message, each NUL-terminated */
    const char *ns, *name, *uid, *message;
    const char *type;   /* static strings */
    const char *reason; /* static strings */
};

struct shard {
    struct kos_event_recorder *rec;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct pending ring[SHARD_QUEUE];
    size_t head; /* next to write */
    size_t n;
    size_t dropped;
    bool stopping;
    bool started;
    pthread_t thread;
};

struct sched_events {
    struct shard shards[SCHED_EVENTS_SHARDS];
};

static void pending_clear(struct pending *p)
{
    free(p->strings);
}

static void *writer(void *arg)
{
    struct shard *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->n == 0 && !s->stopping)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->stopping)
            break; /* shutdown drops what is queued, as the broadcaster's does */
        struct pending p = s->ring[s->head];
        s->head = (s->head + 1) % SHARD_QUEUE;
        s->n--;
        pthread_mutex_unlock(&s->lock);
        const struct kos_event_object pod = {
            .api_version = "v1", .kind = "Pod", .ns = p.ns, .name = p.name, .uid = p.uid};
        kos_event_record_object(s->rec, &pod, p.type, p.reason, p.message);
        pending_clear(&p);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int sched_events_new(struct kos_client *c, const char *component, struct sched_events **ret)
{
    struct sched_events *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    int r = 0;
    for (size_t i = 0; i < SCHED_EVENTS_SHARDS; i++) {
        struct shard *s = &e->shards[i];
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        if (r == 0)
            r = kos_event_recorder_new(c, component, &s->rec);
        if (r == 0) {
            r = -pthread_create(&s->thread, NULL, writer, s);
            s->started = r == 0;
        }
    }
    if (r < 0) {
        sched_events_free(e);
        return r;
    }
    *ret = e;
    return 0;
}

void sched_events_free(struct sched_events *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < SCHED_EVENTS_SHARDS; i++) {
        struct shard *s = &e->shards[i];
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
    }
    for (size_t i = 0; i < SCHED_EVENTS_SHARDS; i++) {
        struct shard *s = &e->shards[i];
        if (s->started)
            pthread_join(s->thread, NULL);
        for (; s->n; s->n--, s->head = (s->head + 1) % SHARD_QUEUE)
            pending_clear(&s->ring[s->head]);
        kos_event_recorder_free(s->rec);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
    }
    free(e);
}

/* Spreads uids over the shards and keeps one pod on one shard. */
static size_t shard_of(const char *uid)
{
    return (size_t)(kos_hash_str(uid) % SCHED_EVENTS_SHARDS);
}

int sched_events_record(struct sched_events *e, const char *ns, const char *name, const char *uid,
                        const char *type, const char *reason, const char *fmt, ...)
{
    char msg[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* the pod's identity as strings, not an object: the recorder writes the Event as bytes */
    if (!ns || !name || !uid)
        return -EINVAL;
    size_t lns = strlen(ns) + 1, lname = strlen(name) + 1, luid = strlen(uid) + 1;
    size_t lmsg = strlen(msg) + 1;
    struct pending p = {.type = type, .reason = reason};
    p.strings = malloc(lns + lname + luid + lmsg);
    if (!p.strings)
        return -ENOMEM;
    char *at = p.strings;
    p.ns = memcpy(at, ns, lns);
    p.name = memcpy(at += lns, name, lname);
    p.uid = memcpy(at += lname, uid, luid);
    p.message = memcpy(at + luid, msg, lmsg);
    struct shard *s = &e->shards[shard_of(uid)];
    pthread_mutex_lock(&s->lock);
    bool full = s->n == SHARD_QUEUE || s->stopping;
    if (full) {
        s->dropped++;
    } else {
        s->ring[(s->head + s->n) % SHARD_QUEUE] = p;
        s->n++;
        pthread_cond_signal(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    if (full) {
        pending_clear(&p);
        return -ENOSPC;
    }
    return 0;
}

size_t sched_events_dropped(struct sched_events *e)
{
    size_t n = 0;
    for (size_t i = 0; i < SCHED_EVENTS_SHARDS; i++) {
        struct shard *s = &e->shards[i];
        pthread_mutex_lock(&s->lock);
        n += s->dropped;
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

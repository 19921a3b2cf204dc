/* A work queue of string keys for controllers (client-go's rate-limited queue, simplified):
 * a key waits in the queue at most once however often it is added; a key added while a
 * worker processes it is queued again once the worker calls done, so no change is lost and
 * no key is processed by two workers at once; keys can be added after a delay. */
#pragma once

#include <stddef.h>

struct kos_workqueue;

int kos_workqueue_new(struct kos_workqueue **ret);
/* Accepts NULL. */
void kos_workqueue_free(struct kos_workqueue *q);

int kos_workqueue_add(struct kos_workqueue *q, const char *key);
/* Adds key once delay_ms has passed; when it is already waiting, the earlier time wins. */
int kos_workqueue_add_after(struct kos_workqueue *q, const char *key, int delay_ms);
/* Waits up to timeout_ms (negative: no limit) for a key. Returns 1 and *ret (the caller
 * frees it after kos_workqueue_done), 0 on timeout, -ECANCELED after shutdown. */
int kos_workqueue_get(struct kos_workqueue *q, int timeout_ms, char **ret);
void kos_workqueue_done(struct kos_workqueue *q, const char *key);
/* Wakes every waiting kos_workqueue_get with -ECANCELED; later adds are ignored. */
void kos_workqueue_shutdown(struct kos_workqueue *q);
/* Keys ready now plus keys waiting for their delay. */
size_t kos_workqueue_len(struct kos_workqueue *q);

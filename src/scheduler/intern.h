/* Shared, immutable copies of small JSON objects that many pods hold equal (their labels and
 * nodeSelector): the pods of one template keep one copy between them instead of one each.
 *
 * Why: a jansson object costs a hash table and two allocations per member; 10,000 pending
 * pods each holding their own labels took tens of MB, nearly all of it duplicates.
 *
 * Thread-safe (one process-wide table behind a mutex). The objects handed out are shared:
 * never modify them. */
#pragma once

#include <jansson.h>
#include <stddef.h>

/* An object equal to obj (a JSON object), shared with every other holder of an equal one; a
 * new reference to give back with sched_intern_release. NULL when out of memory. */
json_t *sched_intern_object(const json_t *obj);
/* Gives back a reference from sched_intern_object; the copy is freed with its last holder.
 * Accepts NULL. */
void sched_intern_release(json_t *obj);
/* How many distinct objects are held (tests). */
size_t sched_intern_count(void);

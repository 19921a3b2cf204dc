/* The garbage collector: deletes objects whose owners (metadata.ownerReferences) are gone,
 * and carries out the two deletion policies that need it, as kube-controller-manager's
 * garbagecollector does:
 *   - Foreground: the owner carries deletionTimestamp and the finalizer foregroundDeletion;
 *     its dependents are deleted (those with blockOwnerDeletion first), and once no blocking
 *     dependent is left the finalizer is removed, which lets the owner go;
 *   - Orphan: the owner carries the finalizer orphan; the references to it are removed from
 *     its dependents, then the finalizer.
 * It also force-deletes pods whose graceful deletion has expired on a node that does not
 * exist (kube's pod GC), since no agent will ever confirm them.
 *
 * It learns the ownership graph from metadata informers of every kind, decides on live reads
 * through the API client, and records what it deletes or orphans as Events. */
#pragma once

#include <stddef.h>

#include "client/client.h"
#include "client/informer.h"
#include "controllers/events.h"

struct kos_gc;

/* informers: not started yet (their handlers are added here), and outliving the collector.
 * The recorder may be NULL. */
int kos_gc_new(struct kos_client *c, struct kos_informer *const *informers, size_t n,
               struct kos_event_recorder *rec, struct kos_gc **ret);
/* Starts the worker; it waits for every informer to sync before acting. */
int kos_gc_start(struct kos_gc *gc);
/* Stops the worker promptly and waits for it. Idempotent. */
void kos_gc_stop(struct kos_gc *gc);
/* Accepts NULL. */
void kos_gc_free(struct kos_gc *gc);

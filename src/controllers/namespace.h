/* The namespace controller: empties a namespace that is being deleted and then lets it go.
 * DELETE of a namespace only marks it (deletionTimestamp, status.phase Terminating, with
 * "kubernetes" in spec.finalizers); this controller deletes every namespaced object in it,
 * of every kind, waits until they are gone (finalizers and pod grace periods run their
 * course), then removes the "kubernetes" finalizer and deletes the namespace for good. */
#pragma once

#include "client/client.h"
#include "client/informer.h"
#include "controllers/events.h"

struct kos_namespace_controller;

/* namespaces: an informer of namespaces, not started yet; it must outlive the controller.
 * The recorder may be NULL. */
int kos_namespace_controller_new(struct kos_client *c, struct kos_informer *namespaces,
                                 struct kos_event_recorder *rec,
                                 struct kos_namespace_controller **ret);
int kos_namespace_controller_start(struct kos_namespace_controller *nc);
/* Stops the worker promptly and waits for it. Idempotent. */
void kos_namespace_controller_stop(struct kos_namespace_controller *nc);
/* Accepts NULL. */
void kos_namespace_controller_free(struct kos_namespace_controller *nc);

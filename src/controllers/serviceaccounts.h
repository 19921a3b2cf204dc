/* The service-accounts controller (kube's ServiceAccountsController): every namespace that is
 * not terminating has a ServiceAccount "default"; it is created when the namespace appears and
 * again when someone deletes it. */
#pragma once

#include "client/client.h"
#include "client/informer.h"

struct kos_sa_controller;

/* namespaces, serviceaccounts: informers not started yet that outlive the controller. */
int kos_sa_controller_new(struct kos_client *c, struct kos_informer *namespaces,
                          struct kos_informer *serviceaccounts, struct kos_sa_controller **ret);
int kos_sa_controller_start(struct kos_sa_controller *sc);
/* Stops the worker promptly and waits for it. Idempotent. */
void kos_sa_controller_stop(struct kos_sa_controller *sc);
/* Accepts NULL. */
void kos_sa_controller_free(struct kos_sa_controller *sc);

/* The ClusterRole aggregation controller (kube's clusterrole-aggregation controller): for every
 * ClusterRole with an aggregationRule, the union of the rules of the ClusterRoles its selectors
 * match (by name order, duplicates dropped) is written back into its rules, and kept so as
 * labelled roles come, change and go. */
#pragma once

#include "client/client.h"
#include "client/informer.h"

struct kos_aggregation_controller;

/* clusterroles: an informer of full ClusterRole objects, not started yet (the controller adds
 * its handlers); it must outlive the controller. */
int kos_aggregation_controller_new(struct kos_client *c, struct kos_informer *clusterroles,
                                   struct kos_aggregation_controller **ret);
int kos_aggregation_controller_start(struct kos_aggregation_controller *ac);
/* Stops the worker promptly and waits for it. Idempotent. */
void kos_aggregation_controller_stop(struct kos_aggregation_controller *ac);
/* Accepts NULL. */
void kos_aggregation_controller_free(struct kos_aggregation_controller *ac);

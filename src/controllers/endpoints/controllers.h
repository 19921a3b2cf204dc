/* kube-controller-manager's endpoints controller and endpointslice controller: for every
 * Service with a selector, the Endpoints named after it and the EndpointSlices labelled
 * kubernetes.io/service-name=<it> follow the pods the selector picks (endpoints/build.h for
 * what goes in). Each keeps a queue fed by the shared index and a few workers; a failed sync
 * is retried after a second. */
#pragma once

#include "client/client.h"
#include "client/informer.h"
#include "controllers/endpoints/index.h"

struct kos_ep_controller;

enum kos_ep_controller_kind {
    KOS_EP_ENDPOINTS,      /* core/v1 Endpoints */
    KOS_EP_ENDPOINTSLICES, /* discovery.k8s.io/v1 EndpointSlices */
};

/* The client writes as the controller's identity; services is the (full) Service informer
 * the index is fed by too; owned is a full informer of what the controller writes (Endpoints
 * or EndpointSlices; handlers are added here, before it starts), read instead of the API. */
int kos_ep_controller_new(enum kos_ep_controller_kind kind, struct kos_client *c,
                          struct kos_informer *services, struct kos_informer *owned,
                          struct kos_ep_index *idx, struct kos_ep_controller **ret);
int kos_ep_controller_start(struct kos_ep_controller *ec);
void kos_ep_controller_stop(struct kos_ep_controller *ec);
/* Stops it first. Accepts NULL. */
void kos_ep_controller_free(struct kos_ep_controller *ec);

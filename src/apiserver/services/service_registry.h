/* The API server's side of Services (kube's service REST storage and its bootstrap
 * controller): cluster IPs and node ports allocated on create, kept on update and released on
 * delete (service_alloc.h), and the `kubernetes` Service in `default` with the Endpoints and
 * EndpointSlice that point at this API server, kept as kube's endpoint reconciler keeps them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct apiserver;
struct resource_request;

/* Makes srv->svc_alloc from the flags and rebuilds it from the stored Services. Until it is
 * called Services get no addresses (unit tests that serve other kinds). */
int apiserver_services_setup(struct apiserver *srv, const char *cidr, const char *node_ports,
                             struct kos_error **err);
/* Creates the kubernetes Service (first IP of the range, port 443 -> port) when missing and
 * points its Endpoints and EndpointSlice at ip:port. */
int apiserver_services_bootstrap(struct apiserver *srv, const char *ip, unsigned port);

/* Keeps the kubernetes Service and its endpoints as apiserver_services_bootstrap leaves them,
 * every 10 s (kube's endpoint reconciler period): a deleted Service, Endpoints or slice comes
 * back, a changed address is put right. */
struct apiserver_services_reconciler;
int apiserver_services_reconciler_start(struct apiserver *srv, const char *ip, unsigned port,
                                        struct apiserver_services_reconciler **ret);
/* Stops and frees. Accepts NULL. */
void apiserver_services_reconciler_stop(struct apiserver_services_reconciler *r);

/* Hooks of the generic write path; each does nothing for other kinds, for subresources and
 * without an allocator. */
int service_admit_create(struct resource_request *rr, json_t *obj, struct kos_error **err);
/* After the create: stored false (failed or dry run) releases what admission took. */
void service_after_create(struct resource_request *rr, const json_t *obj, bool stored);
/* Whether service_after_create reads the object (the write must leave it whole). */
bool service_reads_after_create(const struct resource_request *rr);
/* Before defaulting and validation of an update. */
int service_prepare_update(struct resource_request *rr, json_t *next, const json_t *cur);
/* After validation: allocates what the update needs. */
int service_admit_update(struct resource_request *rr, json_t *next, const json_t *cur,
                         struct kos_error **err);
/* committed: next replaced cur (deleted: the write removed the object); else the write failed
 * or was a dry run and what service_admit_update took goes back. */
void service_after_update(struct resource_request *rr, const json_t *next, const json_t *cur,
                          bool committed, bool deleted);
/* After a Service left the store. */
void service_after_delete(struct resource_request *rr, const json_t *obj);

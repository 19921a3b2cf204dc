/* The root CA publisher (kube's root-ca-cert-publisher, pkg/controller/certificates/
 * rootcacertpublisher): every namespace that is not terminating has a ConfigMap
 * "kube-root-ca.crt" whose ca.crt is the CA that verifies the API server (what the
 * kube-api-access-* volumes project into pods); it is made when the namespace appears, again
 * when deleted, and put back when someone changes it. */
#pragma once

#include "client/client.h"
#include "client/informer.h"

#define KOS_ROOT_CA_CONFIGMAP "kube-root-ca.crt"

struct kos_root_ca_publisher;

/* namespaces, configmaps: (metadata) informers not started yet that outlive the publisher;
 * ca_pem: the CA bundle to publish (copied). */
int kos_root_ca_publisher_new(struct kos_client *c, struct kos_informer *namespaces,
                              struct kos_informer *configmaps, const char *ca_pem,
                              struct kos_root_ca_publisher **ret);
int kos_root_ca_publisher_start(struct kos_root_ca_publisher *p);
/* Stops the worker promptly and waits for it. Idempotent. */
void kos_root_ca_publisher_stop(struct kos_root_ca_publisher *p);
/* Accepts NULL. */
void kos_root_ca_publisher_free(struct kos_root_ca_publisher *p);

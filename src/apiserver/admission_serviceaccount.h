/* The ServiceAccount admission plugin (kube's plugin/pkg/admission/serviceaccount) for pod
 * creates, after defaulting (which names "default" when spec.serviceAccountName is empty):
 *   - the named ServiceAccount must exist, or the pod is refused (403):
 *       pods "x" is forbidden: error looking up service account ns/sa: serviceaccount "sa"
 *       not found
 *     "default" is waited for a while, as its controller creates it just after the
 *     namespace;
 *   - unless automount is off (the pod's spec.automountServiceAccountToken wins, then the
 *     ServiceAccount's, default on), every container and init container that mounts nothing
 *     at /var/run/secrets/kubernetes.io/serviceaccount gets a read-only mount there of a
 *     projected volume "kube-api-access-<5 random>" (token with expirationSeconds 3607,
 *     ca.crt from the kube-root-ca.crt ConfigMap, namespace from the downward API); a volume
 *     already named kube-api-access-* is reused.
 * Mirror pods are left alone. The node agent fills the volume like any projected volume. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "apiserver/resource.h"
#include "util/error.h"

#define ADMISSION_SA_VOLUME_PREFIX "kube-api-access-"
#define ADMISSION_SA_MOUNT_PATH    "/var/run/secrets/kubernetes.io/serviceaccount"

/* No-op (0) for anything but a pod create. -EACCES (403 in *err) when the ServiceAccount does
 * not exist; -EIO / -ENOMEM (500) when it cannot be read. */
int admission_serviceaccount(struct resource_request *rr, json_t *obj, struct kos_error **err);

/* shouldAutomount: the pod's field, else the ServiceAccount's, else true. */
bool admission_sa_should_automount(const json_t *sa, const json_t *pod);
/* mountServiceAccountToken on pod (in place); suffix: the 5 characters of a new volume's
 * name. 0 or -ENOMEM. */
int admission_sa_mount_token(json_t *pod, const char *suffix);

/* The service-account token every container gets at /var/run/secrets/kubernetes.io/
 * serviceaccount (what kube's ServiceAccount admission adds as the kube-api-access-* projected
 * volume and the kubelet fills): `token` (a TokenRequest bound to the pod, expirationSeconds
 * 3607 as the admission sets, the API's default audiences), `ca.crt` (the CA the agent
 * trusts) and `namespace`. The agent makes it from the pod as it is; the Pod object is never
 * rewritten. The token is renewed once 80% of its lifetime has passed or it is older than 24
 * hours, as the kubelet's token manager does.
 *
 * Errors carry reason "FailedMount" and the kubelet's message (MountVolume.SetUp failed for
 * volume "kube-api-access" : failed to fetch token: serviceaccounts "x" not found); the pod's
 * containers then stay waiting in ContainerCreating, as the kubelet leaves them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/error.h"

#define KOS_SA_TOKEN_MOUNT_PATH         "/var/run/secrets/kubernetes.io/serviceaccount"
#define KOS_SA_TOKEN_EXPIRATION_SECONDS 3607

/* false only when the pod sets spec.automountServiceAccountToken: false. (The
 * ServiceAccount's own field is applied by kube's admission; the node cannot read
 * ServiceAccounts.) */
bool kos_sa_token_automount(const json_t *pod);

/* The pod's spec.serviceAccountName, "default" when unset or empty. */
const char *kos_sa_token_account(const json_t *pod);

/* The TokenRequest body for the pod (bound to it by kind, name and uid); NULL on ENOMEM. */
json_t *kos_sa_token_request(const json_t *pod);

/* Whether a token issued at `issued` that expires at `expiry` must be renewed at `now`. */
bool kos_sa_token_needs_refresh(time_t issued, time_t expiry, time_t now);

/* Whether the container mounts a volume of its own at KOS_SA_TOKEN_MOUNT_PATH (it keeps it). */
bool kos_sa_token_mount_taken(const json_t *container);

/* Posts body to serviceaccounts/<name>/token in ns; 0 and *ret (the TokenRequest answered),
 * or a negative errno with *err (the API's Status message). */
typedef int (*kos_sa_token_fetch_fn)(void *ud, const char *ns, const char *name, const json_t *body,
                                     json_t **ret, struct kos_error **err);

/* Writes (or renews) pod_dir/serviceaccount/{token,ca.crt,namespace} and sets ret_dir to that
 * directory, or to "" when the pod does not automount. Files are replaced by rename: running
 * containers keep the directory bind-mounted. */
int kos_sa_token_setup(const json_t *pod, const char *pod_dir, const char *ca_pem,
                       kos_sa_token_fetch_fn fetch, void *ud, char *ret_dir, size_t size,
                       struct kos_error **err);

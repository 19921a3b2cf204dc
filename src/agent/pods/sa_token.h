/* Service-account tokens in projected volumes (the kubelet's projected serviceAccountToken
 * source and pkg/kubelet/token manager): a TokenRequest bound to the pod for the source's
 * audience and expirationSeconds, written at the source's path, renewed once 80% of its
 * lifetime has passed or it is older than 24 hours. kube's ServiceAccount admission puts one
 * such source in the kube-api-access-* volume it mounts at /var/run/secrets/kubernetes.io/
 * serviceaccount (apiserver/admission_serviceaccount.h); the agent mounts nothing of its
 * own, so a pod gets the token exactly when its spec says so.
 *
 * Errors carry reason "FailedMount" and the kubelet's message (MountVolume.SetUp failed for
 * volume "kube-api-access-x" : failed to fetch token: serviceaccounts "x" not found); the
 * pod's containers then stay waiting in ContainerCreating, as the kubelet leaves them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/error.h"

/* The pod's spec.serviceAccountName, "default" when unset or empty. */
const char *kos_sa_token_account(const json_t *pod);

/* The TokenRequest body for the pod (bound to it by kind, name and uid) with
 * expiration_seconds and, when audience is non-NULL, that one audience; NULL on ENOMEM. */
json_t *kos_sa_token_request(const json_t *pod, const char *audience, int64_t expiration_seconds);

/* Whether a token issued at `issued` that expires at `expiry` must be renewed at `now`. */
bool kos_sa_token_needs_refresh(time_t issued, time_t expiry, time_t now);

/* Posts body to serviceaccounts/<name>/token in ns; 0 and *ret (the TokenRequest answered),
 * or a negative errno with *err (the API's Status message). */
typedef int (*kos_sa_token_fetch_fn)(void *ud, const char *ns, const char *name, const json_t *body,
                                     json_t **ret, struct kos_error **err);

/* Writes (or renews) the token of one projected serviceAccountToken source (src: path,
 * audience, expirationSeconds) of volume vol at dir/<path> with mode; when it was fetched is
 * kept in pod_dir (outside what containers see). Replaced by rename: containers keep the
 * directory bind-mounted. */
int kos_sa_token_project(const json_t *pod, const char *pod_dir, const char *vol, const json_t *src,
                         const char *dir, int mode, kos_sa_token_fetch_fn fetch, void *ud,
                         struct kos_error **err);

/* A pod's volumes on the node (the kubelet's volume manager, for the plugins a single node
 * needs): emptyDir (a directory, or tmpfs for medium Memory), hostPath (with its type
 * checks), configMap, secret, downwardAPI and projected (files written under the pod
 * directory), and persistentVolumeClaim bound to a hostPath or local PersistentVolume.
 * Then each container's volumeMounts as bind mounts, with subPath.
 *
 * Errors carry reason "FailedMount" and the kubelet's message
 * (MountVolume.SetUp failed for volume "v" : configmap "c" not found). */
#pragma once

#include <jansson.h>

#include "agent/pods/env.h"
#include "agent/runtime/oci_spec.h"
#include "util/error.h"

/* Makes every volume of ctx->pod under pod_dir/volumes/<name>; *ret_paths is an object
 * volume name -> host path. ctx->lookup also answers "PersistentVolumeClaim" (namespace of
 * the pod) and "PersistentVolume" (ns ignored). Idempotent: files are rewritten. */
int kos_pod_volumes_setup(const struct kos_env_ctx *ctx, const char *pod_dir, json_t **ret_paths,
                          struct kos_error **err);

/* Undoes setup: unmounts tmpfs emptyDirs and removes pod_dir/volumes (never a hostPath or
 * PV's directory: those are not under pod_dir, and removal does not cross mounts). */
int kos_pod_volumes_teardown(const char *pod_dir);

/* The bind mounts for one container (volumeMounts in order). *ret holds n entries whose
 * strings live in *ret_strings (free both with kos_pod_mounts_free). subPath directories are
 * created inside the volume and must stay inside it. */
struct kos_pod_mounts {
    struct kos_oci_mount *m;
    size_t n;
    json_t *strings;
};
int kos_pod_container_mounts(const json_t *container, const json_t *paths,
                             struct kos_pod_mounts *ret, struct kos_error **err);
void kos_pod_mounts_free(struct kos_pod_mounts *m);

/* A container's environment as the kubelet makes it (kubelet_pods.go makeEnvironmentVariables):
 * envFrom sources in order (prefix + key; keys that are not valid names are skipped), then
 * env entries in order, each value's $(VAR) expanded against what is defined so far; values
 * from fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef. The image's Env comes
 * first and is overridden by the pod's, as containerd merges them.
 *
 * Errors carry the kubelet's reason CreateContainerConfigError and its messages
 * (configmap "x" not found, couldn't find key k in ConfigMap ns/x, ...). */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "util/error.h"

/* Fetches a ConfigMap or Secret (kind "ConfigMap" / "Secret") of the pod's namespace:
 * 0 and *ret (new reference), -ENOENT when it does not exist, another errno otherwise. */
typedef int (*kos_env_lookup_fn)(void *ud, const char *kind, const char *ns, const char *name,
                                 json_t **ret);

struct kos_env_ctx {
    const json_t *pod;
    const char *host_ip;
    const char *pod_ip;
    int64_t node_milli_cpu; /* for resourceFieldRef limits that are unset (node allocatable) */
    int64_t node_memory;
    kos_env_lookup_fn lookup;
    /* Writes a projected volume's serviceAccountToken source (agent/pods/sa_token.h) into
     * dir; NULL where no API server issues tokens (the volume then fails to set up). */
    int (*sa_token)(void *ud, const json_t *pod, const char *pod_dir, const char *vol,
                    const json_t *src, const char *dir, int mode, struct kos_error **err);
    void *ud;
};

/* *ret_env: array of "K=V" strings; *ret_map (optional): object K -> V of the pod-defined
 * variables, for $(VAR) in command and args. */
int kos_pod_env(const struct kos_env_ctx *ctx, const json_t *container, const json_t *image_env,
                json_t **ret_env, json_t **ret_map, struct kos_error **err);

/* The value of a downward API field path (metadata.name, metadata.labels['k'],
 * status.podIP, ...) as a new string. -EINVAL with a message for unsupported paths. */
int kos_pod_field_value(const struct kos_env_ctx *ctx, const char *path, char **ret,
                        struct kos_error **err);

/* A resourceFieldRef value (limits.cpu, requests.memory, ...) with its divisor, as
 * ExtractContainerResourceValue rounds it (up). */
int kos_pod_resource_value(const struct kos_env_ctx *ctx, const json_t *container,
                           const char *resource, const char *divisor, char **ret,
                           struct kos_error **err);

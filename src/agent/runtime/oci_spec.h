/* The OCI runtime spec (config.json) for one container of a pod, as containerd's CRI plugin
 * builds it for the kubelet: runc's default mounts, masked and read-only paths, containerd's
 * default capabilities, the kubelet's cgroup values and oom_score_adj. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

/* One bind mount (a volume, /etc/hosts, ...) in the order it is mounted. */
struct kos_oci_mount {
    const char *destination;
    const char *source;
    bool readonly;
};

/* cgroup values as the kubelet computes them; 0 leaves a value unset. */
struct kos_oci_resources {
    int64_t cpu_shares;
    int64_t cpu_quota;
    int64_t cpu_period;
    int64_t memory_limit;
    int64_t pids_limit;
};

struct kos_oci_params {
    const char *rootfs;   /* absolute path of the root filesystem */
    bool readonly_rootfs; /* securityContext.readOnlyRootFilesystem */
    const char *hostname; /* the pod's hostname */
    const json_t *args;   /* array of strings, already resolved (kos_oci_process_args) */
    const json_t *env;    /* array of "K=V" strings */
    const char *cwd;      /* NULL or "" = "/" */
    uint32_t uid, gid;
    const json_t *additional_gids; /* array of integers or NULL */
    bool no_new_privileges;
    bool privileged;
    const json_t *cap_add;    /* securityContext.capabilities.add or NULL */
    const json_t *cap_drop;   /* securityContext.capabilities.drop or NULL */
    bool host_network;        /* no network namespace */
    const char *netns_path;   /* else: join this one (the pod's), NULL: a new one */
    bool host_uts;            /* the node's hostname (hostNetwork pods): no UTS namespace */
    const char *cgroups_path; /* "/kubepods/burstable/pod<uid>/<id>" */
    int oom_score_adj;
    struct kos_oci_resources resources;
    const struct kos_oci_mount *mounts;
    size_t n_mounts;
};

/* Builds config.json. Errors (a missing rootfs/args, an unknown capability) carry a
 * message for the container's status. */
int kos_oci_spec_build(const struct kos_oci_params *p, json_t **ret, struct kos_error **err);

/* The process arguments as Kubernetes defines them: command replaces the image's
 * Entrypoint (and drops its Cmd), args replace Cmd; $(VAR) in command and args expands from
 * env_map (an object of name -> string), "$$" is a literal "$". Any input may be NULL.
 * Fails with -EINVAL when the result is empty. */
int kos_oci_process_args(const json_t *command, const json_t *args, const json_t *image_entrypoint,
                         const json_t *image_cmd, const json_t *env_map, json_t **ret);

/* Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion): $(NAME) is replaced
 * when NAME is in env_map, kept as written otherwise; $$ becomes $. Returns a new string. */
char *kos_oci_expand(const char *in, const json_t *env_map);

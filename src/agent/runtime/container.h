/* Containers run by an OCI runtime (runc/crun) under a monitor process, the shim.
 *
 * Each container has a state directory <state_root>/<id>/ holding the bundle's config.json
 * (written by the caller), state.json (written by the shim: pid, times, exit code) and the
 * runtime's own log. The shim is `kos-shim container-shim` (build/kos-shim, beside the kos
 * binary; `kos container-shim` without it), started in its own session so that it
 * and the container outlive the agent; a restarted agent finds its containers again by
 * reading the state directories (kos_container_list). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct kos_runtime {
    const char *runtime;      /* "runc" (a name looked up in PATH, or a path) */
    const char *runtime_root; /* runc --root */
    const char *state_root;   /* one directory per container */
    const char *self_exe; /* the binary the shim runs from ("container-shim" its first argument);
                           * NULL: kos-shim beside /proc/self/exe, else /proc/self/exe */
    int64_t log_max_size; /* --container-log-max-size (bytes), 0 = no rotation */
    int log_max_files;    /* --container-log-max-files */
};

enum kos_container_status {
    KOS_CONTAINER_CREATED, /* the shim is starting it */
    KOS_CONTAINER_RUNNING,
    KOS_CONTAINER_EXITED,
    KOS_CONTAINER_UNKNOWN, /* the shim died without recording an exit */
};

struct kos_container_state {
    enum kos_container_status status;
    int pid;
    int shim_pid;
    int64_t started_ns; /* 0 if it never started */
    int64_t finished_ns;
    int exit_code;
    char reason[32];    /* Completed, Error, OOMKilled, StartError */
    char message[1024]; /* the runtime's error for StartError */
    char log_path[1024];
};

/* <state_root>/<id>, the bundle directory the caller writes config.json into. */
int kos_container_dir(const struct kos_runtime *rt, const char *id, char *out, size_t size);

/* Starts the container whose config.json is in kos_container_dir(id), its output going to
 * log_path, and waits until it runs or has failed to start. A start failure returns
 * -EINVAL with the runtime's message in err (reason StartError), and the state directory
 * records the failure. When it runs and ret_exit_fd is not NULL, *ret_exit_fd is a
 * descriptor (close-on-exec, the caller's to close) that turns readable (EOF) when the shim
 * exits, i.e. once it has recorded the container's exit: a watcher polls it instead of
 * state.json; otherwise it is -1. */
int kos_container_start(const struct kos_runtime *rt, const char *id, const char *log_path,
                        int *ret_exit_fd, struct kos_error **err);

int kos_container_state(const struct kos_runtime *rt, const char *id,
                        struct kos_container_state *ret);

/* SIGTERM, up to grace_seconds for it to exit, then SIGKILL to every process, and waits for
 * the shim to record the exit. 0 if it is not running (any more). */
int kos_container_stop(const struct kos_runtime *rt, const char *id, int64_t grace_seconds);

/* Removes a stopped container: the runtime's state and cgroup, and the state directory. */
int kos_container_remove(const struct kos_runtime *rt, const char *id);

/* Ids of every container with a state directory (caller frees each and the array). */
int kos_container_list(const struct kos_runtime *rt, char ***ret, size_t *n);

/* The hidden `kos container-shim` sub-command. */
int kos_shim_main(int argc, char **argv);

/* A command run inside a running container (`runc exec`), for kubectl exec. */
#pragma once

#include "agent/runtime/container.h"
#include "stream/backend.h"

/* Starts argv in container id with the streams o asks for: pipes, or with o->tty a terminal
 * (runc makes the container's pty and copies it to the one given to runc here, which the
 * session resizes: runc passes the size on at start and on SIGWINCH). The process is runc,
 * a child of the caller; its exit status is the command's. */
int kos_container_exec(const struct kos_runtime *rt, const char *id, const char *const *argv,
                       size_t argc, const struct kos_exec_options *o, struct kos_exec_process *ret,
                       struct kos_error **err);

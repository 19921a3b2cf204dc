/* A command run to completion inside a running container (`runc exec`, no tty, no stdin), as
 * the CRI's ExecSync does it for exec probes: its output collected and bounded, its time
 * bounded. Interactive exec (kubectl exec) is another path. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "agent/runtime/container.h"

/* Runs argv[0..argc) in container id with the container's environment, user and working
 * directory. stdout and stderr go together into out (at most size - 1 bytes are kept, the rest
 * is read and dropped; always NUL-terminated). Returns 0 and sets *exit_code when the
 * command ended; -ETIMEDOUT when timeout_ms passed first (the command is killed); another
 * negative errno when it could not be run. */
int kos_container_exec_sync(const struct kos_runtime *rt, const char *id, const char *const *argv,
                            size_t argc, int64_t timeout_ms, char *out, size_t size,
                            int *exit_code);

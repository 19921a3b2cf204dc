/* Running the OCI runtime binary (runc/crun share the command line used here). */
#pragma once

#include <stddef.h>

#include "agent/runtime/container.h"

/* Runs `<runtime> --root R --log <dir>/runtime.log --log-format json <args...> ` (args end
 * with NULL). stdio: the child's fds 0..2 (-1 = /dev/null), NULL for all /dev/null.
 * Returns the exit status (0 = success), or a negative errno if it could not run. */
int kos_runtime_exec(const struct kos_runtime *rt, const char *dir, const int stdio[3], int unused,
                     ...) __attribute__((sentinel));

/* The last error the runtime logged in <dir>/runtime.log ("" when none). */
void kos_runtime_last_error(const char *dir, char *out, size_t size);

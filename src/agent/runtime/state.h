/* state.json of a container: what its shim records for the agent (see container.h). */
#pragma once

#include "agent/runtime/container.h"

int kos_cstate_write(const char *dir, const struct kos_container_state *st);
int kos_cstate_read(const char *dir, struct kos_container_state *ret);
int64_t kos_cstate_now_ns(void);

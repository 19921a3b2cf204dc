/* The node agent's side of exec, attach and port-forward (stream/backend.h): finds the
 * pod's running container in the runtime's state and runs the command in it, or connects
 * to a port in the pod's network. */
#pragma once

#include "agent/agent.h"
#include "stream/backend.h"

struct kos_agent_streaming;

/* For the agent configured by cfg (its --root-dir and --container-runtime; the runc pod
 * runtime keeps containers under <root-dir>/containers and runc's state under
 * <root-dir>/runtime). */
int kos_agent_streaming_new(const struct agent_config *cfg, struct kos_agent_streaming **ret);
void kos_agent_streaming_free(struct kos_agent_streaming *s);
/* The backend to hand to the API server (valid while s lives). */
void kos_agent_streaming_backend(struct kos_agent_streaming *s, struct kos_stream_backend *ret);

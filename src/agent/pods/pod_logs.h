/* Which log file answers GET /api/v1/namespaces/NS/pods/NAME/log: the agent writes
 * <pod-log-dir>/<ns>_<name>_<uid>/<container>/<attempt>.log (attempt = restartCount), and the
 * pod's status says which attempt is current. Errors are kube-apiserver's/kubelet's 400s.
 *
 * Both readers of these files use it through agent/streaming/log_serve.h: the API server for
 * pods of its embedded agent, and a standalone agent's kubelet endpoint (/containerLogs/...),
 * to which the API server forwards the request for pods on that node. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct kos_pod_log_target {
    char container[256];
    int64_t attempt;
    char path[4096];
};

/* container may be NULL/"" (the pod's only container). */
int kos_pod_log_target(const char *pod_log_dir, const json_t *pod, const char *container,
                       bool previous, struct kos_pod_log_target *ret, struct kos_error **err);

/* True while the pod's status says this attempt of the container runs (or is about to):
 * a follow stream ends once it has exited. */
bool kos_pod_log_attempt_live(const json_t *pod, const char *container, int64_t attempt);

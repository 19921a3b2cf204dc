/* PodStatus from what the runtime knows about each container, as the kubelet's
 * generateAPIPodStatus / getPhase / the status manager's condition rules build it. Pure:
 * unit tested without containers. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/runtime/container.h"

struct kos_ctr_view {
    const char *name;
    const char *image;
    const char *image_id;   /* "" when not pulled yet */
    char container_id[600]; /* "runc://<id>" of the latest attempt, "" if none */
    int restart_count;      /* attempt number of the latest attempt */
    bool has_cur;           /* an attempt exists */
    struct kos_container_state cur;
    bool has_last; /* a previous attempt exists (lastState) */
    struct kos_container_state last;
    char last_id[600];
    const char *waiting_reason; /* set: the container waits (error, backoff, creating) */
    const char *waiting_message;
    bool restarting; /* cur exited and will restart: show waiting + lastState = cur */
    /* probe results (agent/prober) of a running container: its startup probe has not passed
     * (started false, so not ready either) / its readiness probe has not passed */
    bool not_started;
    bool not_ready;
};

/* RFC 3339 (seconds, UTC) of a nanosecond time. */
void kos_rfc3339_ns(int64_t ns, char *out, size_t size);

/* The status object: phase, conditions, containerStatuses, initContainerStatuses, hostIP(s),
 * podIP(s), startTime, qosClass is left to the agent. old_status (may be NULL) keeps
 * lastTransitionTime of conditions that did not change. now is wall-clock seconds. */
json_t *kos_pod_status_build(const json_t *pod, const json_t *old_status,
                             const struct kos_ctr_view *init, size_t n_init, bool init_done,
                             bool init_failed, const struct kos_ctr_view *ctrs, size_t n,
                             const char *host_ip, const char *start_time, int64_t now);

/* The kubelet's getPhase for regular containers. */
const char *kos_pod_phase(const char *restart_policy, const struct kos_ctr_view *ctrs, size_t n,
                          bool init_done, bool init_failed);

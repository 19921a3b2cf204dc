/* What the pod runtime does with probes (agent/prober): it tells the prober about the
 * containers on each sync, reads back `started` and `ready` for the status, and kills a
 * container that failed its liveness or startup probe (the restart then follows the
 * ordinary restart policy and CrashLoopBackOff). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "agent/pods/pod_status.h"
#include "agent/prober/prober.h"
#include "agent/runtime/container.h"
#include "controllers/events.h"

/* The pod's IP probes connect to: status.podIP, else the node's address (host network). */
const char *kos_pod_probes_ip(const json_t *pod, const char *host_ip);

/* With sync, hands the containers' state to the prober first; then sets not_started and
 * not_ready of each running container's view from the probe results. */
void kos_pod_probes_apply(struct kos_prober *pr, const json_t *pod, const char *host_ip,
                          struct kos_ctr_view *v, size_t n, bool sync);

/* Kills the running container of view v when it failed its liveness or startup probe, with
 * the kubelet's Killing event and grace period (the probe's terminationGracePeriodSeconds,
 * else the pod's). Returns true when it did. */
bool kos_pod_probes_kill_failed(struct kos_prober *pr, struct kos_event_recorder *events,
                                const struct kos_runtime *crt, const json_t *pod,
                                const json_t *container, const struct kos_ctr_view *v);

/* kos_probe_exec_fn over kos_container_exec_sync; ctx is the struct kos_runtime. */
int kos_pod_probes_exec(void *ctx, const char *runtime_id, const char *const *argv, size_t argc,
                        int64_t timeout_ms, char *out, size_t size, int *exit_code);

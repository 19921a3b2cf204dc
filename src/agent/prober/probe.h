/* The probe kinds (pkg/probe): each runs one check and says Success, Warning, Failure or
 * Unknown with an output text, or errors (negative errno, the error's text in out) when it
 * could not run at all; the kubelet throws errored results away. Outputs are the kubelet's:
 * they become the text of the Unhealthy events ("Readiness probe failed: <output>"). */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum kos_probe_outcome {
    KOS_PROBE_OUT_SUCCESS,
    KOS_PROBE_OUT_WARNING, /* passes, with a ProbeWarning event (a redirect to another host) */
    KOS_PROBE_OUT_FAILURE,
    KOS_PROBE_OUT_UNKNOWN,
};

/* The kubelet reads at most this much of a probe's output (exec) or response body (http). */
#define KOS_PROBE_OUTPUT_MAX (10 << 10)

/* probe.ResolveContainerPort: a number, or a name among the container's ports (or a number
 * written as a string). Returns the port or a negative errno with the kubelet's message. */
int kos_probe_resolve_port(const json_t *port, const json_t *container, char *err, size_t size);

/* Runs a command in the container; the runtime provides it (exec_sync.h semantics). */
typedef int (*kos_probe_exec_fn)(void *ctx, const char *runtime_id, const char *const *argv,
                                 size_t argc, int64_t timeout_ms, char *out, size_t size,
                                 int *exit_code);

/* exec: exit 0 passes; another exit fails with the command's output; running out of time
 * fails with `command "<cmd>" timed out`. command's $(VAR) are expanded against the
 * container's static env values. */
int kos_probe_exec(const json_t *action, const json_t *container, const char *runtime_id,
                   int64_t timeout_ms, kos_probe_exec_fn fn, void *ctx, char *out, size_t size);

/* httpGet: GET scheme://host:port/path with the action's headers (User-Agent
 * kube-probe/<major.minor> and an Accept of any type unless given); 2xx passes, 3xx that is not
 * followed warns, anything else fails with "HTTP probe failed with statuscode: N"; redirects are
 * followed while they stay on the same host (at most 10). host defaults to pod_ip. */
int kos_probe_http(const json_t *action, const json_t *container, const char *pod_ip,
                   int64_t timeout_ms, char *out, size_t size);

/* tcpSocket: a TCP connection to host:port (host defaults to pod_ip) opens within the
 * timeout; it is reset at once. */
int kos_probe_tcp(const json_t *action, const json_t *container, const char *pod_ip,
                  int64_t timeout_ms, char *out, size_t size);

/* grpc: grpc.health.v1.Health/Check for the action's service on pod_ip:port over HTTP/2
 * without TLS; passes when the answer is SERVING, fails with the kubelet's texts otherwise
 * ("service unhealthy (responded with \"NOT_SERVING\")", a timeout, an error status). */
int kos_probe_grpc(const json_t *action, const char *pod_ip, int64_t timeout_ms, char *out,
                   size_t size);

/* The status of a framed HealthCheckResponse as it came from the server (0 UNKNOWN, 1
 * SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN, or any other number it sent); -1 when the bytes
 * are not one such message. */
int64_t kos_probe_grpc_answer_status(const unsigned char *body, size_t len);

/* "host:port", or "[host]:port" for IPv6 (Go's net.JoinHostPort). */
void kos_probe_join_host_port(const char *host, int port, char *out, size_t size);

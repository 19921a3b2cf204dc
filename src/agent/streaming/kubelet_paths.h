/* The kubelet endpoint's paths (kubelet's pkg/kubelet/server/server.go):
 *   /healthz
 *   /containerLogs/{namespace}/{pod}/{container}
 *   /exec/{namespace}/{pod}[/{uid}]/{container}
 *   /attach/{namespace}/{pod}[/{uid}]/{container}
 *   /portForward/{namespace}/{pod}[/{uid}] */
#pragma once

#include <stdbool.h>

enum kubelet_route {
    KUBELET_HEALTHZ,
    KUBELET_CONTAINER_LOGS,
    KUBELET_EXEC,
    KUBELET_ATTACH,
    KUBELET_PORT_FORWARD,
};

#define KUBELET_MAX_SEGMENT 253

struct kubelet_path {
    enum kubelet_route route;
    char ns[KUBELET_MAX_SEGMENT + 1];
    char pod[KUBELET_MAX_SEGMENT + 1];
    char uid[KUBELET_MAX_SEGMENT + 1]; /* "" unless given */
    char container[KUBELET_MAX_SEGMENT + 1];
};

/* 0 and *ret, -ENOENT for a path the kubelet does not serve (404), -EINVAL for one of its
 * paths with empty or overlong segments. */
int kubelet_path_parse(const char *path, struct kubelet_path *ret);
/* Whether method is allowed on the route (GET for logs and healthz, GET or POST for the
 * streams: WebSocket upgrades are GETs, SPDY ones POSTs). */
bool kubelet_route_method_ok(enum kubelet_route route, const char *method);

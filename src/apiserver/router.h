/* Splits a request path into what it addresses: a non-resource endpoint (/version, /healthz,
 * discovery, OpenAPI) or a resource (group, version, namespace, resource, name, subresource),
 * the way kube-apiserver's RequestInfoFactory does. */
#pragma once

#include <stdbool.h>

#include "api/kinds.h"

#define ROUTE_MAX_SEGMENT 256

enum route_type {
    ROUTE_NOT_FOUND,
    ROUTE_VERSION,
    ROUTE_HEALTH,        /* /healthz /livez /readyz (and their /... checks) */
    ROUTE_API,           /* /api */
    ROUTE_APIS,          /* /apis */
    ROUTE_API_GROUP,     /* /apis/<group> */
    ROUTE_API_RESOURCES, /* /api/v1 or /apis/<group>/<version> */
    ROUTE_OPENAPI_V3,    /* /openapi/v3 */
    ROUTE_OPENAPI_V3_GV, /* /openapi/v3/api/v1, /openapi/v3/apis/<g>/<v> */
    ROUTE_OPENAPI_V2,    /* /openapi/v2 */
    ROUTE_RESOURCE,
};

struct route {
    enum route_type type;
    char group[ROUTE_MAX_SEGMENT];
    char version[ROUTE_MAX_SEGMENT];
    char namespace_[ROUTE_MAX_SEGMENT];
    char resource[ROUTE_MAX_SEGMENT];
    char name[ROUTE_MAX_SEGMENT];
    char subresource[ROUTE_MAX_SEGMENT];
    bool has_namespace;
    bool has_name;
    const struct kos_kind *kind; /* ROUTE_RESOURCE: NULL if the resource is unknown */
    char health_check[16];       /* "healthz", "livez", "readyz" */
};

/* Never fails: unknown paths become ROUTE_NOT_FOUND. */
void route_parse(const char *path, struct route *ret);

#include "apiserver/router.h"

#include <string.h>

#include "util/strutil.h"

#define MAX_SEGMENTS 10

/* Splits "/a/b/c" into segments; returns -1 when a segment is empty or too long (a path
 * kube-apiserver would not route either), or there are too many. */
static int split(const char *path, char seg[MAX_SEGMENTS][ROUTE_MAX_SEGMENT])
{
    int n = 0;
    const char *p = path;
    if (*p != '/')
        return -1;
    while (*p == '/' && p[1] != '\0') {
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0 || len >= ROUTE_MAX_SEGMENT || n >= MAX_SEGMENTS)
            return -1;
        memcpy(seg[n], p, len);
        seg[n][len] = '\0';
        n++;
        p += len;
    }
    return n;
}

static void set(char *dst, const char *src)
{
    kos_strlcpy(dst, src, ROUTE_MAX_SEGMENT);
}

/* segs = what follows /api/v1 or /apis/<g>/<v> */
static void parse_resource(char seg[][ROUTE_MAX_SEGMENT], int n, struct route *r)
{
    int i = 0;
    if (n == 0)
        return;
    r->type = ROUTE_RESOURCE;
    /* /namespaces/<ns>/<resource>/... addresses namespaced resources; /namespaces and
     * /namespaces/<ns>[/status|/finalize] address the Namespace objects themselves. */
    if (strcmp(seg[0], "namespaces") == 0 && n >= 3 && strcmp(seg[2], "status") != 0 &&
        strcmp(seg[2], "finalize") != 0) {
        set(r->namespace_, seg[1]);
        r->has_namespace = true;
        i = 2;
    }
    set(r->resource, seg[i]);
    if (i + 1 < n) {
        set(r->name, seg[i + 1]);
        r->has_name = true;
    }
    if (i + 2 < n)
        set(r->subresource, seg[i + 2]);
    if (i + 3 < n)
        r->type = ROUTE_NOT_FOUND;
    r->kind = kos_kind_by_resource(r->group, r->version, r->resource);
}

void route_parse(const char *path, struct route *r)
{
    char seg[MAX_SEGMENTS][ROUTE_MAX_SEGMENT];
    memset(r, 0, sizeof(*r));
    r->type = ROUTE_NOT_FOUND;

    bool trailing_slash = kos_str_has_suffix(path, "/") && strlen(path) > 1;
    int n = split(path, seg);
    if (n < 0)
        return;
    if (n == 0)
        return;

    if (n == 1 && strcmp(seg[0], "version") == 0) {
        r->type = ROUTE_VERSION;
        return;
    }
    if (strcmp(seg[0], "healthz") == 0 || strcmp(seg[0], "livez") == 0 ||
        strcmp(seg[0], "readyz") == 0) {
        if (n <= 2 && !trailing_slash) {
            r->type = ROUTE_HEALTH;
            set(r->health_check, seg[0]);
        }
        return;
    }
    if (trailing_slash)
        return;
    if (strcmp(seg[0], "openapi") == 0) {
        if (n == 2 && strcmp(seg[1], "v2") == 0)
            r->type = ROUTE_OPENAPI_V2;
        else if (n == 2 && strcmp(seg[1], "v3") == 0)
            r->type = ROUTE_OPENAPI_V3;
        else if (n == 4 && strcmp(seg[1], "v3") == 0 && strcmp(seg[2], "api") == 0) {
            r->type = ROUTE_OPENAPI_V3_GV;
            set(r->version, seg[3]);
        } else if (n == 5 && strcmp(seg[1], "v3") == 0 && strcmp(seg[2], "apis") == 0) {
            r->type = ROUTE_OPENAPI_V3_GV;
            set(r->group, seg[3]);
            set(r->version, seg[4]);
        }
        return;
    }
    if (strcmp(seg[0], "api") == 0) {
        if (n == 1) {
            r->type = ROUTE_API;
            return;
        }
        set(r->version, seg[1]);
        if (n == 2) {
            r->type = ROUTE_API_RESOURCES;
            return;
        }
        parse_resource(seg + 2, n - 2, r);
        return;
    }
    if (strcmp(seg[0], "apis") == 0) {
        if (n == 1) {
            r->type = ROUTE_APIS;
            return;
        }
        set(r->group, seg[1]);
        if (n == 2) {
            r->type = ROUTE_API_GROUP;
            return;
        }
        set(r->version, seg[2]);
        if (n == 3) {
            r->type = ROUTE_API_RESOURCES;
            return;
        }
        parse_resource(seg + 3, n - 3, r);
    }
}

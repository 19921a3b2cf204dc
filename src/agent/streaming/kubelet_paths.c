#include "agent/streaming/kubelet_paths.h"

#include <errno.h>
#include <string.h>

#define MAX_SEGMENTS 5

/* Splits path (after its leading '/') into at most MAX_SEGMENTS non-empty segments. */
static int split(const char *path, const char *seg[], size_t len[], size_t *n)
{
    if (path[0] != '/')
        return -ENOENT;
    const char *p = path + 1;
    *n = 0;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t l = end ? (size_t)(end - p) : strlen(p);
        if (*n >= MAX_SEGMENTS)
            return -ENOENT;
        seg[*n] = p;
        len[(*n)++] = l;
        if (!end)
            return 0;
        p = end + 1;
    }
}

static int copy(char *dst, const char *src, size_t len)
{
    if (len == 0 || len > KUBELET_MAX_SEGMENT || memchr(src, '\0', len))
        return -EINVAL;
    if ((len == 1 && src[0] == '.') || (len == 2 && src[0] == '.' && src[1] == '.'))
        return -EINVAL;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return 0;
}

static bool is(const char *seg, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(seg, word, len) == 0;
}

int kubelet_path_parse(const char *path, struct kubelet_path *ret)
{
    const char *seg[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS], n = 0;
    if (!path || split(path, seg, len, &n) < 0 || n == 0)
        return -ENOENT;
    struct kubelet_path p = {0};
    size_t want_min, want_max;
    if (is(seg[0], len[0], "healthz")) {
        if (n != 1)
            return -ENOENT;
        p.route = KUBELET_HEALTHZ;
        *ret = p;
        return 0;
    } else if (is(seg[0], len[0], "containerLogs")) {
        p.route = KUBELET_CONTAINER_LOGS;
        want_min = want_max = 4;
    } else if (is(seg[0], len[0], "exec")) {
        p.route = KUBELET_EXEC;
        want_min = 4;
        want_max = 5;
    } else if (is(seg[0], len[0], "attach")) {
        p.route = KUBELET_ATTACH;
        want_min = 4;
        want_max = 5;
    } else if (is(seg[0], len[0], "portForward")) {
        p.route = KUBELET_PORT_FORWARD;
        want_min = 3;
        want_max = 4;
    } else {
        return -ENOENT;
    }
    if (n < want_min || n > want_max)
        return -ENOENT;
    if (copy(p.ns, seg[1], len[1]) < 0 || copy(p.pod, seg[2], len[2]) < 0)
        return -EINVAL;
    if (p.route == KUBELET_PORT_FORWARD) {
        if (n == 4 && copy(p.uid, seg[3], len[3]) < 0)
            return -EINVAL;
    } else {
        if (n == 5 && copy(p.uid, seg[3], len[3]) < 0)
            return -EINVAL;
        if (copy(p.container, seg[n - 1], len[n - 1]) < 0)
            return -EINVAL;
    }
    *ret = p;
    return 0;
}

bool kubelet_route_method_ok(enum kubelet_route route, const char *method)
{
    if (!method)
        return false;
    bool get = strcmp(method, "GET") == 0;
    switch (route) {
    case KUBELET_HEALTHZ:
        return get || strcmp(method, "HEAD") == 0;
    case KUBELET_CONTAINER_LOGS:
        return get;
    default:
        return get || strcmp(method, "POST") == 0;
    }
}

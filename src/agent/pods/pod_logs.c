/* Log file of a pod's container (see pod_logs.h). */
#include "agent/pods/pod_logs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/strutil.h"

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const json_t *find_status(const json_t *pod, const char *name)
{
    const char *keys[] = {"containerStatuses", "initContainerStatuses"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "status"), keys[k]), i, c)
        {
            if (kos_streq_null(jstr(c, "name"), name))
                return c;
        }
    }
    return NULL;
}

static bool in_spec(const json_t *pod, const char *name)
{
    const char *keys[] = {"containers", "initContainers"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "spec"), keys[k]), i, c)
        {
            if (kos_streq_null(jstr(c, "name"), name))
                return true;
        }
    }
    return false;
}

int kos_pod_log_target(const char *pod_log_dir, const json_t *pod, const char *container,
                       bool previous, struct kos_pod_log_target *ret, struct kos_error **err)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const char *pod_name = jstr(meta, "name");
    const json_t *ctrs = json_object_get(json_object_get(pod, "spec"), "containers");
    if (!container || !*container) {
        if (json_array_size(ctrs) != 1) {
            /* kube-apiserver's pod log REST storage */
            struct kos_buf b;
            kos_buf_init(&b, 64 << 10);
            size_t i;
            json_t *c;
            json_array_foreach(ctrs, i, c)
                kos_buf_printf(&b, "%s%s", i ? " " : "", jstr(c, "name"));
            int r = kos_error_set(err, 400, "BadRequest",
                                  "a container name must be specified for pod %s, choose one of: "
                                  "[%s]",
                                  pod_name ? pod_name : "", b.data ? b.data : "");
            kos_buf_free(&b);
            return r;
        }
        container = jstr(json_array_get(ctrs, 0), "name");
    }
    if (!container || !in_spec(pod, container))
        return kos_error_set(err, 400, "BadRequest", "container %s is not valid for pod %s",
                             container ? container : "", pod_name ? pod_name : "");
    const json_t *st = find_status(pod, container);
    const json_t *state = json_object_get(st, "state");
    int64_t restarts = json_integer_value(json_object_get(st, "restartCount"));
    bool never_ran = !st || (json_object_get(state, "waiting") &&
                             !json_object_get(json_object_get(st, "lastState"), "terminated") &&
                             !json_object_get(st, "containerID"));
    if (!previous && never_ran) {
        const char *reason =
            jstr(json_object_get(state, "waiting"), "reason") ?: "ContainerCreating";
        return kos_error_set(err, 400, "BadRequest",
                             "container \"%s\" in pod \"%s\" is waiting to start: %s", container,
                             pod_name ? pod_name : "", reason);
    }
    /* restartCount is the latest attempt, running or (waiting to restart) just exited */
    int64_t attempt = restarts;
    if (previous) {
        if (!json_object_get(json_object_get(st, "lastState"), "terminated"))
            return kos_error_set(err, 400, "BadRequest",
                                 "previous terminated container \"%s\" in pod \"%s\" not found",
                                 container, pod_name ? pod_name : "");
        attempt = json_object_get(state, "waiting") ? restarts : restarts - 1;
        if (attempt < 0)
            attempt = 0;
    }
    int n = snprintf(ret->path, sizeof(ret->path), "%s/%s_%s_%s/%s/%lld.log", pod_log_dir,
                     jstr(meta, "namespace"), pod_name, jstr(meta, "uid"), container,
                     (long long)attempt);
    if (n < 0 || (size_t)n >= sizeof(ret->path))
        return kos_error_set(err, 400, "BadRequest", "log path too long");
    kos_strlcpy(ret->container, container, sizeof(ret->container));
    ret->attempt = attempt;
    return 0;
}

bool kos_pod_log_attempt_live(const json_t *pod, const char *container, int64_t attempt)
{
    if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") &&
        !json_object_get(pod, "status"))
        return false;
    const json_t *st = find_status(pod, container);
    if (!st)
        return false;
    if (json_integer_value(json_object_get(st, "restartCount")) != attempt)
        return false;
    return json_object_get(json_object_get(st, "state"), "running") != NULL;
}

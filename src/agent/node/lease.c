/* Node lease renewal. */
#include "agent/node/lease.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "util/json_cleanup.h"

/* MicroTime: "2006-01-02T15:04:05.000000Z" */
static void micro_time(time_t t, long us, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

json_t *agent_lease_object(const char *node_name, const char *node_uid, time_t now, long us)
{
    char ts[128];
    micro_time(now, us, ts, sizeof(ts));
    json_t *l = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "apiVersion",
                          "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", node_name,
                          "namespace", AGENT_LEASE_NAMESPACE, "spec", "holderIdentity", node_name,
                          "leaseDurationSeconds", AGENT_LEASE_DURATION_SECONDS, "renewTime", ts);
    if (l && node_uid) {
        json_t *owner = json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "v1", "kind", "Node",
                                  "name", node_name, "uid", node_uid);
        if (!owner ||
            json_object_set_new(json_object_get(l, "metadata"), "ownerReferences", owner) < 0) {
            json_decref(l);
            return NULL;
        }
    }
    return l;
}

int agent_lease_renew(struct kos_client *c, const char *node_name, const char *node_uid,
                      struct kos_error **err)
{
    const struct kos_kind *kind = kos_client_kind_of("coordination.k8s.io/v1", "Lease");
    if (!kind)
        return -ENOTSUP;
    struct kos_ref ref = {.kind = kind, .ns = AGENT_LEASE_NAMESPACE, .name = node_name};
    for (int attempt = 0; attempt < 2; attempt++) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        _cleanup_json_ json_t *want =
            agent_lease_object(node_name, node_uid, tv.tv_sec, tv.tv_usec);
        if (!want)
            return -ENOMEM;
        _cleanup_json_ json_t *cur = NULL;
        struct kos_error *gerr = NULL;
        int r = kos_client_get(c, &ref, &cur, &gerr);
        kos_error_free(gerr);
        if (r == -ENOENT) {
            struct kos_ref coll = {.kind = kind, .ns = AGENT_LEASE_NAMESPACE};
            r = kos_client_create(c, &coll, want, NULL, err);
            if (r == -EEXIST)
                continue;
            return r;
        }
        if (r < 0)
            return r;
        json_t *spec = json_object_get(cur, "spec");
        if (!json_is_object(spec)) {
            spec = json_object();
            if (!spec || json_object_set_new(cur, "spec", spec) < 0)
                return -ENOMEM;
        }
        if (json_object_update(spec, json_object_get(want, "spec")) < 0)
            return -ENOMEM;
        json_t *owners = json_object_get(json_object_get(want, "metadata"), "ownerReferences");
        if (owners &&
            json_object_set(json_object_get(cur, "metadata"), "ownerReferences", owners) < 0)
            return -ENOMEM;
        r = kos_client_update(c, &ref, cur, NULL, err);
        if (r != -ECANCELED)
            return r;
        if (err && *err) {
            kos_error_free(*err);
            *err = NULL;
        }
    }
    return -ECANCELED;
}

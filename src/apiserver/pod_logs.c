/* GET /api/v1/namespaces/NS/pods/NAME/log (kubectl logs): follow, tailLines, timestamps,
 * previous, container, limitBytes, sinceSeconds, sinceTime.
 *
 * For a pod of the embedded node agent the API server reads the agent's CRI log files itself
 * (srv->pod_log_dir, agent/streaming/log_serve.h); for a pod on any other node it forwards
 * the request to that node's kubelet endpoint, /containerLogs/NS/NAME/CONTAINER, and streams
 * the answer back (apiserver/kubelet_proxy.h), as kube-apiserver's LogLocation does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pods/pod_logs.h"
#include "agent/streaming/log_serve.h"
#include "apiserver/kubelet_proxy.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "store/store.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define DEFAULT_POD_LOG_DIR "/var/log/pods"

struct live_ctx {
    struct apiserver *srv;
    char key[1024];
};

static bool attempt_live(void *ctx, const char *container, int64_t attempt)
{
    struct live_ctx *l = ctx;
    struct store_kv kv = {0};
    if (store_get(l->srv->store, l->key, &kv) < 0)
        return false; /* the pod is gone */
    json_t *pod = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    bool live = pod && kos_pod_log_attempt_live(pod, container, attempt);
    json_decref(pod);
    return live;
}

static bool spec_has(const json_t *pod, const char *name)
{
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    const json_t *spec = json_object_get(pod, "spec");
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            if (kos_streq_null(json_string_value(json_object_get(c, "name")), name))
                return true;
        }
    }
    return false;
}

/* kube's LogLocation: the container named (it must be in the spec), or the pod's only one;
 * the kubelet gets it in the path and says whether it has started. */
static int log_container(const json_t *pod, const char *asked, const char **ret,
                         struct kos_error **err)
{
    const json_t *ctrs = json_object_get(json_object_get(pod, "spec"), "containers");
    const char *name = asked && asked[0] ? asked : NULL;
    if (!name && json_array_size(ctrs) == 1)
        name = json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
    if (name && spec_has(pod, name)) {
        *ret = name;
        return 0;
    }
    /* the same texts as for a local pod */
    struct kos_pod_log_target t;
    int r = kos_pod_log_target("/", pod, asked, true, &t, err);
    return r < 0 ? r : kos_error_set(err, 400, "BadRequest", "invalid container");
}

static void proxy_log(struct resource_request *rr, const json_t *pod, const char *node,
                      const struct kos_log_query *q, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    const char *container = NULL;
    struct kubelet_location loc;
    if (log_container(pod, http_query(rr->http, "container"), &container, &err) < 0 ||
        kubelet_node_location(rr->srv, node, &loc, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    struct kos_buf path;
    kos_buf_init(&path, 8192);
    kos_buf_printf(&path, "/containerLogs/%s/%s/%s", rr->ns, rr->name, container);
    size_t base = path.len;
    kos_buf_append_str(&path, "?");
    kos_log_query_format(q, &path);
    if (path.data && path.len == base + 1)
        path.data[--path.len] = '\0';
    if (!path.data)
        reply_errorf(rep, 400, "BadRequest", "invalid container name");
    else
        kubelet_proxy_get(rr->srv, rr->http, &loc, path.data, rep);
    kos_buf_free(&path);
}

void handle_pod_log(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    struct kos_log_query q;
    if (kos_log_query_from_request(rr->http, &q, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    _cleanup_json_ json_t *pod = NULL;
    int64_t rev;
    int r = rr_read_object(rr, &pod, &rev, &err);
    if (r < 0) {
        if (err)
            reply_error(rep, err);
        else
            reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
        return;
    }
    const char *node = obj_str(pod, "spec.nodeName");
    if (node && node[0] && !kos_streq_null(rr->srv->streaming_node, node)) {
        proxy_log(rr, pod, node, &q, rep);
        return;
    }
    struct live_ctx *l = calloc(1, sizeof(*l));
    if (!l || rr_key(rr, rr->name, l->key, sizeof(l->key)) < 0) {
        free(l);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    l->srv = rr->srv;
    const struct kos_log_source src = {
        .pod_log_dir = rr->srv->pod_log_dir ? rr->srv->pod_log_dir : DEFAULT_POD_LOG_DIR,
        .pod = pod,
        .container = http_query(rr->http, "container"),
        .live = attempt_live,
        .live_ctx = l,
        .live_free = free,
        .peer_fd = rr->http->socket_fd,
    };
    kos_log_serve(&src, &q, rep);
}

/* The connect subresources of pods: exec, attach and portforward (kube-apiserver's
 * pkg/registry/core/pod/rest/subresources.go and strategy.go's streamLocation). The API
 * server checks the request and the pod; for a pod of its embedded agent it serves the
 * session itself through the agent's in-process streaming backend (stream/session.h), for
 * a pod on any other node it forwards the upgrade to that node's kubelet endpoint and
 * splices the two connections (apiserver/kubelet_proxy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiserver/authorization.h"
#include "apiserver/kubelet_proxy.h"
#include "apiserver/objects.h"
#include "apiserver/request_info.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "stream/session.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MAX_TARGET (256u << 10) /* the kubelet URL with up to 1024 command arguments */

static bool has_container(const json_t *pod, const char *name)
{
    const char *lists[] = {"containers", "initContainers", "ephemeralContainers"};
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

static void names_of(const json_t *arr, struct kos_buf *b)
{
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        kos_buf_printf(b, "%s%s", i ? " " : "", n ? n : "");
    }
}

/* streamLocation's container choice: the only container, or the named one. */
static int pick_container(const json_t *pod, const char *pod_name, const char *asked,
                          const char **ret, struct kos_error **err)
{
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *ctrs = json_object_get(spec, "containers");
    if (asked && asked[0]) {
        if (!has_container(pod, asked))
            return kos_error_set(err, 400, "BadRequest", "container %s is not valid for pod %s",
                                 asked, pod_name);
        *ret = asked;
        return 0;
    }
    if (json_array_size(ctrs) == 1) {
        *ret = json_string_value(json_object_get(json_array_get(ctrs, 0), "name"));
        return *ret ? 0 : kos_error_set(err, 500, "InternalError", "stored pod has no name");
    }
    if (json_array_size(ctrs) == 0)
        return kos_error_set(err, 400, "BadRequest",
                             "a container name must be specified for pod %s", pod_name);
    struct kos_buf b;
    kos_buf_init(&b, 64 * 1024);
    kos_buf_printf(&b, "a container name must be specified for pod %s, choose one of: [", pod_name);
    names_of(ctrs, &b);
    kos_buf_append_str(&b, "]");
    const json_t *inits = json_object_get(spec, "initContainers");
    if (json_array_size(inits) > 0) {
        kos_buf_append_str(&b, " or one of the init containers: [");
        names_of(inits, &b);
        kos_buf_append_str(&b, "]");
    }
    int r = kos_error_set(err, 400, "BadRequest", "%s", b.data ? b.data : "");
    kos_buf_free(&b);
    return r;
}

/* KEP 4006: a connect request is authorized as its method's verb (get for the WebSocket
 * GET) and, as kube-apiserver 1.35's AuthorizePodWebsocketUpgradeCreatePermission does,
 * also as create, so that `get pods/exec` alone never opens a shell. */
static int authorize_create(struct resource_request *rr, struct kos_error **err)
{
    if (strcmp(rr->http->method, "POST") == 0)
        return 0; /* already authorized as create */
    struct request_info ri;
    request_info_init(&ri, rr->authz_user, "POST", rr->http->path, rr->route, NULL, NULL);
    return apiserver_authz_check(rr->srv, &ri.attrs, err);
}

void handle_pod_connect(struct resource_request *rr, struct http_reply *rep)
{
    struct http_request *req = rr->http;
    enum stream_kind kind = STREAM_PORTFORWARD;
    stream_kind_parse(rr->sub, &kind);
    _cleanup_error_ struct kos_error *err = NULL;
    struct stream_session *s = NULL;
    _cleanup_json_ json_t *pod = NULL;
    const char *container = NULL;
    int64_t rev;
    int r = authorize_create(rr, &err);
    if (r == 0)
        r = stream_session_new(kind, req, false, &s, &err);
    if (r == 0) {
        r = rr_read_object(rr, &pod, &rev, &err);
        if (r == -ENOENT && !err) {
            r = kos_error_set(&err, 404, "NotFound", "pods \"%s\" not found", rr->name);
            kos_error_set_details(err, rr->name, "", "pods");
        }
    }
    if (r == 0 && kind != STREAM_PORTFORWARD)
        r = pick_container(pod, rr->name, http_query(req, "container"), &container, &err);
    const char *node = r == 0 ? obj_str(pod, "spec.nodeName") : NULL;
    if (r == 0 && (!node || !node[0]))
        r = kos_error_set(&err, 400, "BadRequest", "pod %s does not have a host assigned",
                          rr->name);
    if (r < 0) {
        stream_session_free(s);
        stream_reply_error(rep, err);
        return;
    }
    if (!kos_streq_null(rr->srv->streaming_node, node)) {
        /* another node's pod: its kubelet serves the session */
        struct kubelet_location loc;
        struct kos_buf target;
        kos_buf_init(&target, MAX_TARGET);
        kos_buf_printf(&target, "/%s/%s/%s",
                       kind == STREAM_EXEC     ? "exec"
                       : kind == STREAM_ATTACH ? "attach"
                                               : "portForward",
                       rr->ns, rr->name);
        if (container)
            kos_buf_printf(&target, "/%s", container);
        size_t base = target.len;
        kos_buf_append_str(&target, "?");
        stream_session_kubelet_query(s, &target);
        if (target.data && target.len == base + 1)
            target.data[--target.len] = '\0';
        stream_session_free(s);
        if (!target.data)
            reply_errorf(rep, 400, "BadRequest", "the request is too large for the kubelet");
        else if (kubelet_node_location(rr->srv, node, &loc, &err) < 0)
            reply_error(rep, err);
        else
            kubelet_proxy_upgrade(rr->srv, req, &loc, target.data, rep);
        kos_buf_free(&target);
        return;
    }
    const struct kos_stream_backend *b = rr->srv->streaming;
    if (!b)
        r = kos_error_set(&err, 503, "ServiceUnavailable",
                          "error dialing backend: the node agent of node %s does not serve "
                          "streams to this API server",
                          node);
    else
        r = stream_session_start(s, req, b, pod, container, rep, &err);
    if (r < 0) {
        stream_session_free(s);
        stream_reply_error(rep, err);
        return;
    }
    stream_session_reply(s, rep);
}

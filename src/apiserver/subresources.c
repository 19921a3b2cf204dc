/* Subresources with their own shape: pods/binding (the scheduler's way to place a pod) and
 * <workload>/scale (autoscaling/v1 Scale over spec.replicas). /status shares the update path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "api/selector.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

static void fail(struct resource_request *rr, struct http_reply *rep, int r,
                 const struct kos_error *err)
{
    if (err)
        reply_error(rep, err);
    else
        reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
}

void handle_binding(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *body = NULL;
    if (body_decode(rr->http, &body, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    const char *node = obj_str(body, "target.name");
    if (!node || !node[0]) {
        reply_errorf(rep, 422, "Invalid",
                     "Binding.core \"%s\" is invalid: target.name: Required value", rr->name);
        return;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        _cleanup_json_ json_t *pod = NULL;
        int64_t rev = 0;
        int r = rr_read_object(rr, &pod, &rev, &err);
        if (r < 0) {
            fail(rr, rep, r, err);
            return;
        }
        const char *bound = obj_str(pod, "spec.nodeName");
        if (bound && bound[0]) {
            reply_errorf(rep, 409, "Conflict",
                         "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                         "assigned to node \"%s\"",
                         rr->name, rr->name, bound);
            return;
        }
        if (obj_str(pod, "metadata.deletionTimestamp")) {
            reply_errorf(rep, 409, "Conflict",
                         "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being "
                         "deleted, cannot be assigned to a host",
                         rr->name, rr->name);
            return;
        }
        json_t *spec = json_object_get(pod, "spec");
        if (!json_is_object(spec)) {
            reply_errorf(rep, 500, "InternalError", "stored pod has no spec");
            return;
        }
        obj_set_str(spec, "nodeName", node);
        json_t *status = json_object_get(pod, "status");
        if (!json_is_object(status)) {
            status = json_object();
            json_object_set_new(pod, "status", status);
        }
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
            conds = json_array();
            json_object_set_new(status, "conditions", conds);
        }
        /* The binding replaces what the scheduler said before (PodScheduled=False). */
        for (size_t i = json_array_size(conds); i > 0; i--)
            if (kos_streq_null(obj_str(json_array_get(conds, i - 1), "type"), "PodScheduled"))
                json_array_remove(conds, i - 1);
        char now[32];
        obj_now_rfc3339(now, sizeof(now));
        json_array_append_new(conds,
                              json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled", "status",
                                        "True", "lastProbeTime", "lastTransitionTime", now));
        if (rr->dry_run)
            break;
        char key[1024];
        rr_key(rr, rr->name, key, sizeof(key));
        struct store_write_result res = {0};
        r = obj_store_write(rr->srv->store, STORE_UPDATE, key, rev, pod, &res);
        if (r == -ECANCELED)
            continue;
        if (r < 0) {
            fail(rr, rep, r, NULL);
            return;
        }
        kos_value_unref(res.value);
        break;
    }
    _cleanup_json_ json_t *ok =
        json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                  "status", "Success", "code", 201);
    reply_json(rep, 201, ok);
}

/* The Scale view of a workload. */
static json_t *scale_of(const struct kos_kind *kind, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    json_int_t spec_replicas = json_integer_value(obj_path(obj, "spec.replicas"));
    json_int_t status_replicas = json_integer_value(obj_path(obj, "status.replicas"));
    _cleanup_buf_ struct kos_buf sel;
    kos_buf_init(&sel, 16 * 1024);
    json_t *ml = obj_path(obj, "spec.selector.matchLabels");
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v)
    {
        if (sel.len)
            kos_buf_append_str(&sel, ",");
        kos_buf_printf(&sel, "%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
    }
    json_t *scale_meta = json_object();
    static const char *const copied[] = {"name", "namespace", "uid", "resourceVersion",
                                         "creationTimestamp"};
    for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
        json_t *x = json_object_get(meta, copied[i]);
        if (x)
            json_object_set(scale_meta, copied[i], x);
    }
    return json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
                     "autoscaling/v1", "metadata", scale_meta, "spec", "replicas", spec_replicas,
                     "status", "replicas", status_replicas, "selector", sel.data ? sel.data : "");
}

void handle_scale(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    const char *method = rr->http->method;
    bool is_get = strcmp(method, "GET") == 0;
    if (!is_get && strcmp(method, "PUT") != 0 && strcmp(method, "PATCH") != 0) {
        reply_errorf(rep, 405, "MethodNotAllowed",
                     "the server does not allow this method on the requested resource");
        return;
    }
    _cleanup_json_ json_t *body = NULL;
    int patch_type = -1;
    if (strcmp(method, "PUT") == 0 && body_decode(rr->http, &body, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (strcmp(method, "PATCH") == 0 && body_decode_patch(rr->http, &patch_type, &body, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        _cleanup_json_ json_t *obj = NULL;
        int64_t rev = 0;
        int r = rr_read_object(rr, &obj, &rev, &err);
        if (r < 0) {
            fail(rr, rep, r, err);
            return;
        }
        _cleanup_json_ json_t *scale = scale_of(rr->kind, obj);
        if (!scale) {
            reply_errorf(rep, 500, "InternalError", "out of memory");
            return;
        }
        if (is_get) {
            reply_json(rep, 200, scale);
            return;
        }
        _cleanup_json_ json_t *wanted = NULL;
        if (patch_type >= 0) {
            if (kos_patch_apply(patch_type == PATCH_APPLY ? PATCH_MERGE : patch_type, NULL, scale,
                                body, &wanted, &err) < 0) {
                reply_error(rep, err);
                return;
            }
        } else {
            wanted = json_incref(body);
        }
        json_t *replicas = obj_path(wanted, "spec.replicas");
        if (!json_is_integer(replicas) || json_integer_value(replicas) < 0) {
            reply_errorf(rep, 422, "Invalid",
                         "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: %s: "
                         "must be greater than or equal to 0",
                         rr->name, json_is_integer(replicas) ? "negative" : "null");
            return;
        }
        const char *want_rv = obj_str(wanted, "metadata.resourceVersion");
        const char *cur_rv = obj_str(obj, "metadata.resourceVersion");
        if (patch_type < 0 && want_rv && want_rv[0] && cur_rv && strcmp(want_rv, cur_rv) != 0) {
            reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
            return;
        }
        _cleanup_json_ json_t *next = json_deep_copy(obj);
        json_t *spec = json_object_get(next, "spec");
        if (!next || !json_is_object(spec)) {
            reply_errorf(rep, 500, "InternalError", "stored object has no spec");
            return;
        }
        json_object_set(spec, "replicas", replicas);
        const char *saved_sub = rr->sub;
        rr->sub = "";
        struct kos_value *v = NULL;
        r = commit_update(rr, obj, rev, next, &v, &err);
        rr->sub = saved_sub;
        if (r == -ECANCELED && !err)
            continue;
        if (r < 0) {
            fail(rr, rep, r, err);
            return;
        }
        _cleanup_json_ json_t *stored = obj_decode_value(v, NULL);
        kos_value_unref(v);
        _cleanup_json_ json_t *out = stored ? scale_of(rr->kind, stored) : NULL;
        if (!out) {
            reply_errorf(rep, 500, "InternalError", "out of memory");
            return;
        }
        reply_json(rep, 200, out);
        return;
    }
    reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
}

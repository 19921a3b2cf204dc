/* Subresources with their own shape: pods/binding (the scheduler's way to place a pod) and
 * <workload>/scale (autoscaling/v1 Scale over spec.replicas). /status shares the update path. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/patch.h"
#include "apiserver/binding_splice.h"
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

/* The tree path of a binding (binding_splice.h names when it runs): the stored pod decoded
 * and bound by binding_tree_bind. */
static int bind_tree(const struct kos_value *stored, const struct binding_splice_in *in,
                     json_t **ret_pod, struct binding_splice *found, struct kos_error **err)
{
    _cleanup_json_ json_t *pod = obj_decode_value(stored, err);
    if (!pod)
        return -EIO;
    int r = binding_tree_bind(pod, in, found);
    if (r == -ENOTSUP)
        return kos_error_set(err, 500, "InternalError", "stored pod has no spec");
    if (r < 0)
        return r;
    *ret_pod = TAKE_PTR(pod);
    return 0;
}

/* store_render_fn of a spliced binding: the revision's digits into the open resourceVersion. */
static int render_splice(void *ctx, int64_t rev, struct kos_value **ret)
{
    const struct binding_splice *sp = ctx;
    char rv[24];
    int n = snprintf(rv, sizeof(rv), "%" PRId64, rev);
    if (n <= 0)
        return -EINVAL;
    const struct iovec parts[3] = {{sp->out.data, sp->rv_at},
                                   {rv, (size_t)n},
                                   {sp->out.data + sp->rv_at, sp->out.len - sp->rv_at}};
    struct kos_value *v = kos_value_concat(parts, 3);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

static void splice_clear(struct binding_splice *sp)
{
    kos_buf_free(&sp->out);
}

static void binding_refused(struct resource_request *rr, struct http_reply *rep, int r,
                            const struct binding_splice *sp, const char *key, const char *uid)
{
    if (r == -ESTALE)
        reply_errorf(rep, 409, "Conflict",
                     "Operation cannot be fulfilled on pods \"%s\": StorageError: invalid object, "
                     "Code: 4, Key: %s, ResourceVersion: 0, AdditionalErrorMsg: Precondition "
                     "failed: UID in precondition: %s, UID in object meta: %s",
                     rr->name, key, uid, sp->pod_uid);
    else if (r == -EBUSY)
        reply_errorf(rep, 409, "Conflict",
                     "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is being "
                     "deleted, cannot be assigned to a host",
                     rr->name, rr->name);
    else
        reply_errorf(rep, 409, "Conflict",
                     "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                     "assigned to node \"%s\"",
                     rr->name, rr->name, sp->bound_node);
}

/* kube's BindingREST: the Binding's metadata.uid is a precondition; a pod being deleted or
 * already bound is refused; otherwise spec.nodeName and PodScheduled=True are set. The pod's
 * bytes are spliced (binding_splice.h) unless their shape asks for the tree path. */
void handle_binding(struct resource_request *rr, struct http_reply *rep)
{
    static const char ok[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                             "\"status\":\"Success\",\"code\":201}";
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
    char key[1024];
    if (rr_key(rr, rr->name, key, sizeof(key)) < 0) {
        reply_errorf(rep, 400, "BadRequest", "invalid object name");
        return;
    }
    char now[32];
    obj_now_rfc3339(now, sizeof(now));
    const struct binding_splice_in in = {
        .node = node, .uid = obj_str(body, "metadata.uid"), .now = now};
    bool done = false;
    for (int attempt = 0; attempt < 16 && !done; attempt++) {
        struct store_kv kv = {0};
        int r = store_get(rr->srv->store, key, &kv);
        if (r < 0) {
            fail(rr, rep, r, NULL);
            return;
        }
        _cleanup_free_ char *tmp = NULL;
        const char *bytes = kos_value_bytes(kv.value, &tmp);
        struct binding_splice sp = {0};
        _cleanup_json_ json_t *pod = NULL;
        r = bytes ? binding_splice(bytes, kv.value->len, &in, &sp) : -ENOMEM;
        if (r == -ENOTSUP)
            r = bind_tree(kv.value, &in, &pod, &sp, &err);
        int64_t rev = kv.mod_rev;
        store_kv_clear(&kv);
        if (r == -ESTALE || r == -EBUSY || r == -EEXIST) {
            binding_refused(rr, rep, r, &sp, key, in.uid);
            splice_clear(&sp);
            return;
        }
        if (r < 0) {
            splice_clear(&sp);
            if (err)
                reply_error(rep, err);
            else
                reply_errorf(rep, 500, "InternalError", "binding the pod failed: %s", strerror(-r));
            return;
        }
        if (rr->dry_run) {
            splice_clear(&sp);
            done = true;
            break;
        }
        struct store_write_result res = {0};
        if (pod) {
            r = obj_store_write(rr->srv->store, STORE_UPDATE, key, rev, pod, &res);
        } else {
            const struct store_write w = {.type = STORE_UPDATE,
                                          .key = key,
                                          .expected_mod_rev = rev,
                                          .render = render_splice,
                                          .render_ctx = &sp};
            r = store_write(rr->srv->store, &w, &res);
        }
        splice_clear(&sp);
        if (r == -ECANCELED)
            continue;
        if (r < 0) {
            fail(rr, rep, r, NULL);
            return;
        }
        kos_value_unref(res.value);
        done = true;
    }
    if (!done) { /* the pod changed under every attempt */
        reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
        return;
    }
    char *text = strdup(ok);
    if (!text) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    http_reply_set_body(rep, 201, CT_JSON, text, sizeof(ok) - 1);
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

/* DELETE and deletecollection. An object with finalizers is only marked (deletionTimestamp)
 * and goes away once its last finalizer is removed; a namespace takes its contents with it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

static const char *const protected_namespaces[] = {"default", "kube-system", "kube-public"};

struct delete_options {
    const char *uid;              /* preconditions.uid */
    const char *resource_version; /* preconditions.resourceVersion */
    bool dry_run;
};

/* Options come from a DeleteOptions body (kubectl) or the query (the Python client). */
static int parse_options(struct resource_request *rr, json_t **holder, struct delete_options *o,
                         struct kos_error **err)
{
    memset(o, 0, sizeof(*o));
    o->dry_run = rr->dry_run;
    if (rr->http->body.len > 0) {
        json_t *body = NULL;
        int r = body_decode(rr->http, &body, err);
        if (r < 0)
            return r;
        if (!json_is_object(body)) {
            json_decref(body);
            return kos_error_set(err, 400, "BadRequest", "DeleteOptions must be an object");
        }
        *holder = body;
        json_t *pre = json_object_get(body, "preconditions");
        o->uid = json_string_value(json_object_get(pre, "uid"));
        o->resource_version = json_string_value(json_object_get(pre, "resourceVersion"));
        json_t *dry = json_object_get(body, "dryRun");
        if (json_is_array(dry) && json_array_size(dry) > 0)
            o->dry_run = true;
        const char *pp = json_string_value(json_object_get(body, "propagationPolicy"));
        if (pp && strcmp(pp, "Orphan") != 0 && strcmp(pp, "Background") != 0 &&
            strcmp(pp, "Foreground") != 0)
            return kos_error_set(err, 422, "Invalid",
                                 "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
                                 "Unsupported value: \"%s\": supported values: \"Foreground\", "
                                 "\"Background\", \"Orphan\"",
                                 pp);
    }
    return 0;
}

/* Removes one object (tombstone carries its last state). */
static int remove_object(struct resource_request *rr, const char *key, json_t *obj, int64_t rev,
                         struct kos_value **ret_value)
{
    struct store_write w = {.type = STORE_DELETE,
                            .key = key,
                            .expected_mod_rev = rev,
                            .render = obj_render,
                            .render_ctx = obj};
    struct store_write_result res = {0};
    int r = store_write(rr->srv->store, &w, &res);
    if (r < 0)
        return r;
    *ret_value = res.value;
    return 0;
}

/* Deletes every namespaced object in namespace ns, of every kind. */
static int delete_namespace_contents(struct resource_request *rr, const char *ns)
{
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        if (!all[i]->namespaced)
            continue;
        char prefix[512];
        if (kos_kind_key_prefix(all[i], ns, prefix, sizeof(prefix)) < 0)
            return -EINVAL;
        for (;;) {
            struct store_list l = {0};
            int r = store_list(rr->srv->store, prefix, NULL, 500, &l);
            if (r < 0)
                return r;
            for (size_t j = 0; j < l.count; j++) {
                _cleanup_json_ json_t *obj = obj_decode_value(l.items[j].value, NULL);
                struct kos_value *v = NULL;
                if (!obj)
                    continue;
                r = remove_object(rr, l.items[j].key, obj, l.items[j].mod_rev, &v);
                kos_value_unref(v);
                if (r < 0 && r != -ENOENT && r != -ECANCELED) {
                    store_list_clear(&l);
                    return r;
                }
            }
            bool more = l.more || l.count == 500;
            size_t n = l.count;
            store_list_clear(&l);
            if (!more || n == 0)
                break;
        }
    }
    return 0;
}

/* Deletes (or marks) one object; returns the HTTP status to answer with. */
static int delete_one(struct resource_request *rr, const char *name, const struct delete_options *o,
                      struct kos_value **ret_value, struct kos_error **err)
{
    char key[1024];
    if (kos_kind_key(rr->kind, rr->ns, name, key, sizeof(key)) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid object name");
    for (int attempt = 0; attempt < 16; attempt++) {
        struct store_kv kv = {0};
        int r = store_get(rr->srv->store, key, &kv);
        if (r < 0)
            return r;
        _cleanup_json_ json_t *obj = obj_decode_value(kv.value, err);
        int64_t rev = kv.mod_rev;
        store_kv_clear(&kv);
        if (!obj)
            return -EIO;
        if (o->uid && !kos_streq_null(o->uid, obj_str(obj, "metadata.uid"))) {
            kos_error_set(err, 409, "Conflict",
                          "Operation cannot be fulfilled on %s \"%s\": Precondition failed: "
                          "UID in precondition: %s, UID in object meta: %s",
                          rr->kind->plural, name, o->uid, obj_str(obj, "metadata.uid"));
            return -ECANCELED;
        }
        if (o->resource_version &&
            !kos_streq_null(o->resource_version, obj_str(obj, "metadata.resourceVersion"))) {
            kos_error_set(err, 409, "Conflict",
                          "Operation cannot be fulfilled on %s \"%s\": Precondition failed: "
                          "ResourceVersion in precondition: %s, ResourceVersion in object meta: "
                          "%s",
                          rr->kind->plural, name, o->resource_version,
                          obj_str(obj, "metadata.resourceVersion"));
            return -ECANCELED;
        }
        if (o->dry_run)
            return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 200;

        json_t *fin = obj_path(obj, "metadata.finalizers");
        if (json_is_array(fin) && json_array_size(fin) > 0) {
            /* Finalizers hold the object: mark it and let their owners finish. */
            json_t *meta = obj_meta(obj);
            if (!json_object_get(meta, "deletionTimestamp")) {
                char now[32];
                obj_now_rfc3339(now, sizeof(now));
                obj_set_str(meta, "deletionTimestamp", now);
                json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(0));
                struct store_write w = {.type = STORE_UPDATE,
                                        .key = key,
                                        .expected_mod_rev = rev,
                                        .render = obj_render,
                                        .render_ctx = obj};
                struct store_write_result res = {0};
                r = store_write(rr->srv->store, &w, &res);
                if (r == -ECANCELED)
                    continue;
                if (r < 0)
                    return r;
                *ret_value = res.value;
                return 202;
            }
            return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 202;
        }
        if (strcmp(rr->kind->kind, "Namespace") == 0) {
            r = delete_namespace_contents(rr, name);
            if (r < 0)
                return kos_error_set(err, 500, "InternalError",
                                     "deleting the contents of namespace %s failed", name);
        }
        r = remove_object(rr, key, obj, rev, ret_value);
        if (r == -ECANCELED)
            continue;
        return r < 0 ? r : 200;
    }
    return -ECANCELED;
}

void handle_delete(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *holder = NULL;
    struct delete_options o;
    if (parse_options(rr, &holder, &o, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (strcmp(rr->kind->kind, "Namespace") == 0) {
        for (size_t i = 0; i < sizeof(protected_namespaces) / sizeof(protected_namespaces[0]);
             i++) {
            if (strcmp(rr->name, protected_namespaces[i]) == 0) {
                kos_error_set(&err, 403, "Forbidden",
                              "namespaces \"%s\" is forbidden: this namespace may not be deleted",
                              rr->name);
                kos_error_set_details(err, rr->name, NULL, "namespaces");
                reply_error(rep, err);
                return;
            }
        }
    }
    struct kos_value *v = NULL;
    int r = delete_one(rr, rr->name, &o, &v, &err);
    if (r < 0) {
        if (err)
            reply_error(rep, err);
        else
            reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
        return;
    }
    reply_value(rep, r, v);
    kos_value_unref(v);
}

void handle_deletecollection(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *holder = NULL;
    struct delete_options o;
    struct list_filter f;
    if (parse_options(rr, &holder, &o, &err) < 0 || list_filter_parse(rr, &f, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    char prefix[1024];
    if (kos_kind_key_prefix(rr->kind, rr->ns, prefix, sizeof(prefix)) < 0) {
        list_filter_done(&f);
        reply_errorf(rep, 400, "BadRequest", "invalid namespace");
        return;
    }
    struct store_list l = {0};
    int r = store_list(rr->srv->store, prefix, NULL, 0, &l);
    if (r < 0) {
        list_filter_done(&f);
        reply_errorf(rep, 500, "InternalError", "listing failed");
        return;
    }
    _cleanup_json_ json_t *items = json_array();
    for (size_t i = 0; i < l.count && items; i++) {
        _cleanup_json_ json_t *obj = obj_decode_value(l.items[i].value, NULL);
        if (!obj || !list_filter_matches(&f, obj))
            continue;
        const char *name = obj_str(obj, "metadata.name");
        const char *saved_ns = rr->ns;
        const char *ns = obj_str(obj, "metadata.namespace");
        if (rr->kind->namespaced)
            rr->ns = ns;
        struct kos_value *v = NULL;
        _cleanup_error_ struct kos_error *one_err = NULL;
        if (name && delete_one(rr, name, &o, &v, &one_err) >= 0 && v) {
            json_t *gone = obj_decode_value(v, NULL);
            if (gone)
                json_array_append_new(items, gone);
        }
        kos_value_unref(v);
        rr->ns = saved_ns;
    }
    int64_t rev = l.rev;
    store_list_clear(&l);
    list_filter_done(&f);
    char api_version[160], list_kind[160], rv[32];
    kos_kind_api_version(rr->kind, api_version, sizeof(api_version));
    snprintf(list_kind, sizeof(list_kind), "%sList", rr->kind->kind);
    snprintf(rv, sizeof(rv), "%lld", (long long)rev);
    _cleanup_json_ json_t *list =
        json_pack("{s:s, s:s, s:{s:s}, s:O}", "kind", list_kind, "apiVersion", api_version,
                  "metadata", "resourceVersion", rv, "items", items);
    if (!list) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    reply_json(rep, 200, list);
}

/* DELETE and deletecollection, with kube-apiserver's deletion lifecycles:
 *  - finalizers: an object with finalizers is only marked (deletionTimestamp) and goes away
 *    once its last finalizer is removed;
 *  - garbage collection: propagationPolicy Foreground / Orphan (or orphanDependents) adds the
 *    finalizer foregroundDeletion / orphan, which the garbage collector acts on and removes;
 *    Background (the default of every kos kind) deletes at once and leaves the dependents to
 *    the collector;
 *  - graceful pod deletion: a pod bound to a node gets deletionTimestamp = now + grace and
 *    stays until its node's agent confirms with gracePeriodSeconds=0;
 *  - namespaces: DELETE marks the namespace Terminating; the namespace controller deletes its
 *    contents and then removes the "kubernetes" finalizer from spec.finalizers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "apiserver/services/service_registry.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define FINALIZER_ORPHAN     "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"
#define DEFAULT_POD_GRACE    30
#define DELETE_RETRIES       16
#define SCAN_PAGE            256

static const char *const protected_namespaces[] = {"default", "kube-system", "kube-public"};

struct delete_options {
    const char *uid;              /* preconditions.uid */
    const char *resource_version; /* preconditions.resourceVersion */
    bool dry_run;
    bool has_grace;
    int64_t grace;           /* gracePeriodSeconds */
    const char *propagation; /* NULL when not given */
    int orphan_dependents;   /* the deprecated bool: -1 when not given */
};

static int bad_option(struct kos_error **err, const char *name, const char *value)
{
    return kos_error_set(err, 400, "BadRequest", "invalid value \"%s\" for %s", value, name);
}

/* The query's options (the Python client sends them there), before a body overrides them. */
static int parse_query_options(struct resource_request *rr, struct delete_options *o,
                               struct kos_error **err)
{
    const char *gp = http_query(rr->http, "gracePeriodSeconds");
    if (gp && gp[0]) {
        if (kos_parse_int64(gp, &o->grace) < 0)
            return bad_option(err, "gracePeriodSeconds", gp);
        o->has_grace = true;
    }
    const char *pp = http_query(rr->http, "propagationPolicy");
    if (pp && pp[0])
        o->propagation = pp;
    const char *od = http_query(rr->http, "orphanDependents");
    if (od && od[0]) {
        bool b;
        if (kos_parse_bool(od, &b) < 0)
            return bad_option(err, "orphanDependents", od);
        o->orphan_dependents = b;
    }
    return 0;
}

static int parse_body_options(json_t *body, struct delete_options *o, struct kos_error **err)
{
    json_t *pre = json_object_get(body, "preconditions");
    o->uid = json_string_value(json_object_get(pre, "uid"));
    o->resource_version = json_string_value(json_object_get(pre, "resourceVersion"));
    json_t *dry = json_object_get(body, "dryRun");
    if (json_is_array(dry) && json_array_size(dry) > 0)
        o->dry_run = true;
    json_t *gp = json_object_get(body, "gracePeriodSeconds");
    if (json_is_integer(gp)) {
        o->grace = json_integer_value(gp);
        o->has_grace = true;
    } else if (gp && !json_is_null(gp)) {
        return kos_error_set(err, 400, "BadRequest", "gracePeriodSeconds must be an integer");
    }
    json_t *pp = json_object_get(body, "propagationPolicy");
    if (json_is_string(pp))
        o->propagation = json_string_value(pp);
    json_t *od = json_object_get(body, "orphanDependents");
    if (json_is_boolean(od))
        o->orphan_dependents = json_is_true(od);
    return 0;
}

/* Options come from a DeleteOptions body (kubectl) or the query (the Python client); where
 * both carry one, the body wins. */
static int parse_options(struct resource_request *rr, json_t **holder, struct delete_options *o,
                         struct kos_error **err)
{
    memset(o, 0, sizeof(*o));
    o->orphan_dependents = -1;
    o->dry_run = rr->dry_run;
    int r = parse_query_options(rr, o, err);
    if (r < 0)
        return r;
    if (rr->http->body.len > 0) {
        json_t *body = NULL;
        r = body_decode(rr->http, &body, err);
        if (r < 0)
            return r;
        *holder = body;
        if (!json_is_object(body))
            return kos_error_set(err, 400, "BadRequest", "DeleteOptions must be an object");
        r = parse_body_options(body, o, err);
        if (r < 0)
            return r;
    }
    const char *pp = o->propagation;
    if (pp && o->orphan_dependents >= 0)
        return kos_error_set(err, 422, "Invalid",
                             "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
                             "Invalid value: \"%s\": orphanDependents and deletionPropagation "
                             "cannot be both set",
                             pp);
    if (pp && strcmp(pp, "Orphan") != 0 && strcmp(pp, "Background") != 0 &&
        strcmp(pp, "Foreground") != 0)
        return kos_error_set(err, 422, "Invalid",
                             "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: "
                             "Unsupported value: \"%s\": supported values: \"Foreground\", "
                             "\"Background\", \"Orphan\"",
                             pp);
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
    service_after_delete(rr, obj);
    *ret_value = res.value;
    return 0;
}

static int update_object(struct resource_request *rr, const char *key, json_t *obj, int64_t rev,
                         struct kos_value **ret_value)
{
    struct store_write w = {.type = STORE_UPDATE,
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

static bool owned_by(const json_t *obj, const char *uid)
{
    size_t i;
    json_t *ref;
    json_array_foreach(obj_path(obj, "metadata.ownerReferences"), i, ref)
    {
        if (kos_streq_null(json_string_value(json_object_get(ref, "uid")), uid))
            return true;
    }
    return false;
}

/* 1 when an object under prefix names uid among its ownerReferences. The uid is searched in
 * the stored bytes first, so only likely dependents are decoded. */
static int scan_for_dependents(struct store *store, const char *prefix, const char *uid)
{
    _cleanup_free_ char *after = NULL;
    size_t ulen = strlen(uid);
    for (;;) {
        struct store_list l = {0};
        int r = store_list(store, prefix, after, SCAN_PAGE, &l);
        if (r < 0)
            return r;
        int found = 0;
        for (size_t i = 0; i < l.count && !found; i++) {
            const struct kos_value *v = l.items[i].value;
            _cleanup_free_ char *tmp = NULL;
            const char *data = kos_value_bytes(v, &tmp);
            if (data && !memmem(data, v->len, uid, ulen))
                continue;
            _cleanup_json_ json_t *obj = obj_decode_value(v, NULL);
            found = obj && owned_by(obj, uid);
        }
        bool more = l.more && l.count > 0;
        free(after);
        after = more ? strdup(l.items[l.count - 1].key) : NULL;
        store_list_clear(&l);
        if (found)
            return 1;
        if (!more)
            return 0;
        if (!after)
            return -ENOMEM;
    }
}

/* Whether anything has obj as an owner. Namespaced dependents live in their owner's
 * namespace; a cluster-scoped owner can have dependents anywhere. Errors count as "yes",
 * which only leaves the work to the garbage collector. */
static bool has_dependents(struct resource_request *rr, const json_t *obj)
{
    const char *uid = obj_str(obj, "metadata.uid");
    if (!uid || !uid[0])
        return false;
    if (!rr->kind->namespaced)
        return scan_for_dependents(rr->srv->store, "/registry/", uid) != 0;
    size_t count;
    const struct kos_kind *const *all = kos_kinds_all(&count);
    for (size_t i = 0; i < count; i++) {
        char prefix[512];
        if (!all[i]->namespaced || !(all[i]->verbs & VERB_LIST))
            continue;
        if (kos_kind_key_prefix(all[i], rr->ns, prefix, sizeof(prefix)) < 0)
            return true;
        if (scan_for_dependents(rr->srv->store, prefix, uid) != 0)
            return true;
    }
    return false;
}

static bool has_finalizer(const json_t *fin, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(fin, i, f)
    {
        if (kos_streq_null(json_string_value(f), name))
            return true;
    }
    return false;
}

/* Sets metadata.finalizers to what the deletion policy asks for (kube-apiserver's
 * deletionFinalizersForGarbageCollection): orphan or foregroundDeletion as the options, or
 * else the object's own finalizers, say. When nothing depends on the object there is nothing
 * for the collector to do, so neither is added and the object can go at once. Returns
 * whether the finalizers changed. */
static int apply_gc_finalizers(struct resource_request *rr, json_t *obj,
                               const struct delete_options *o, bool *ret_changed)
{
    json_t *meta = obj_meta(obj);
    json_t *fin = json_object_get(meta, "finalizers");
    bool orphan, foreground;
    if (o->orphan_dependents >= 0) {
        orphan = o->orphan_dependents == 1;
        foreground = false;
    } else if (o->propagation) {
        orphan = strcmp(o->propagation, "Orphan") == 0;
        foreground = strcmp(o->propagation, "Foreground") == 0;
    } else {
        orphan = has_finalizer(fin, FINALIZER_ORPHAN);
        foreground = !orphan && has_finalizer(fin, FINALIZER_FOREGROUND);
    }
    if ((orphan || foreground) && !has_dependents(rr, obj))
        orphan = foreground = false;
    _cleanup_json_ json_t *next = json_array();
    if (!next)
        return -ENOMEM;
    size_t i;
    json_t *f;
    json_array_foreach(fin, i, f)
    {
        const char *s = json_string_value(f);
        if (kos_streq_null(s, FINALIZER_ORPHAN) || kos_streq_null(s, FINALIZER_FOREGROUND))
            continue;
        if (json_array_append(next, f) < 0)
            return -ENOMEM;
    }
    if ((orphan && json_array_append_new(next, json_string(FINALIZER_ORPHAN)) < 0) ||
        (foreground && json_array_append_new(next, json_string(FINALIZER_FOREGROUND)) < 0))
        return -ENOMEM;
    bool had = json_is_array(fin) && json_array_size(fin) > 0;
    *ret_changed = had ? !json_equal(fin, next) : json_array_size(next) > 0;
    if (!*ret_changed)
        return 0;
    if (json_array_size(next) == 0)
        json_object_del(meta, "finalizers");
    else if (json_object_set(meta, "finalizers", next) < 0)
        return -ENOMEM;
    return 0;
}

static bool pending_finalizers(const json_t *obj)
{
    json_t *fin = obj_path(obj, "metadata.finalizers");
    return json_is_array(fin) && json_array_size(fin) > 0;
}

static void set_deletion(json_t *meta, time_t when, int64_t grace)
{
    char ts[32];
    kos_time_rfc3339(when, ts, sizeof(ts));
    obj_set_str(meta, "deletionTimestamp", ts);
    json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
}

enum grace { GRACE_NONE, GRACE_PENDING, GRACE_SET };

/* Graceful deletion of a pod (rest.BeforeDelete with the pod strategy's
 * CheckGracefulDeletion): GRACE_SET when obj now carries a (new or shortened)
 * deletionTimestamp and *ret_period its grace, GRACE_PENDING when a graceful deletion is
 * already under way and this request changes nothing, GRACE_NONE to delete as usual. */
static enum grace pod_grace(json_t *obj, const struct delete_options *o, int64_t *ret_period)
{
    json_t *meta = obj_meta(obj);
    const char *dt = json_string_value(json_object_get(meta, "deletionTimestamp"));
    if (dt) {
        json_t *cur = json_object_get(meta, "deletionGracePeriodSeconds");
        int64_t existing = json_integer_value(cur);
        if (!json_is_integer(cur) || existing == 0)
            return GRACE_NONE; /* marked by finalizers, or an interrupted immediate delete */
        if (!o->has_grace || o->grace >= existing)
            return GRACE_PENDING; /* only a shorter grace period may be given */
        time_t t;
        if (kos_time_parse_rfc3339(dt, &t) < 0)
            t = time(NULL) + existing;
        int64_t period = o->grace < 0 ? 0 : o->grace;
        set_deletion(meta, t - existing + period, period);
        *ret_period = period;
        return GRACE_SET;
    }
    int64_t period = DEFAULT_POD_GRACE;
    json_t *tgp = obj_path(obj, "spec.terminationGracePeriodSeconds");
    if (o->has_grace)
        period = o->grace;
    else if (json_is_integer(tgp))
        period = json_integer_value(tgp);
    const char *node = obj_str(obj, "spec.nodeName");
    const char *phase = obj_str(obj, "status.phase");
    if (!node || !node[0])
        period = 0; /* never scheduled: nothing runs it, nothing to wait for */
    if (kos_streq_null(phase, "Failed") || kos_streq_null(phase, "Succeeded"))
        period = 0;
    if (period < 0)
        period = 1;
    set_deletion(meta, time(NULL) + period, period);
    *ret_period = period;
    return GRACE_SET;
}

/* Finishes a request that leaves the object in the store: writes it unless nothing changed
 * or this is a dry run. Returns 0 or a negative errno (-ECANCELED: read again). */
static int keep_object(struct resource_request *rr, const char *key, json_t *obj, int64_t rev,
                       bool changed, const struct delete_options *o, struct kos_value **ret_value)
{
    if (!changed || o->dry_run)
        return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 0;
    return update_object(rr, key, obj, rev, ret_value);
}

/* The first DELETE of a namespace: Terminating, for the namespace controller to empty. */
static int mark_namespace(struct resource_request *rr, const char *key, json_t *obj, int64_t rev,
                          const struct delete_options *o, struct kos_value **ret_value)
{
    bool fin_changed = false;
    int r = apply_gc_finalizers(rr, obj, o, &fin_changed);
    if (r < 0)
        return r;
    json_t *meta = obj_meta(obj);
    char now[32];
    obj_now_rfc3339(now, sizeof(now));
    json_t *status = json_object_get(obj, "status");
    if (!json_is_object(status)) {
        status = json_object();
        if (!status || json_object_set_new(obj, "status", status) < 0)
            return -ENOMEM;
    }
    if (!meta || obj_set_str(meta, "deletionTimestamp", now) < 0 ||
        obj_set_str(status, "phase", "Terminating") < 0)
        return -ENOMEM;
    return keep_object(rr, key, obj, rev, true, o, ret_value);
}

static int check_preconditions(struct resource_request *rr, const char *name, const json_t *obj,
                               const struct delete_options *o, struct kos_error **err)
{
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
                      "ResourceVersion in precondition: %s, ResourceVersion in object meta: %s",
                      rr->kind->plural, name, o->resource_version,
                      obj_str(obj, "metadata.resourceVersion"));
        return -ECANCELED;
    }
    return 0;
}

/* One attempt at deleting (or marking) the object read at rev. Returns the HTTP status, or a
 * negative errno (-ECANCELED without err: it changed meanwhile, read it again). */
static int delete_attempt(struct resource_request *rr, const char *key, json_t *obj, int64_t rev,
                          const struct delete_options *o, struct kos_value **ret_value)
{
    json_t *meta = obj_meta(obj);
    if (!meta)
        return -ENOMEM;
    bool marked = json_object_get(meta, "deletionTimestamp") != NULL;
    int r;
    if (strcmp(rr->kind->kind, "Namespace") == 0) {
        if (!marked) {
            r = mark_namespace(rr, key, obj, rev, o, ret_value);
            return r < 0 ? r : 200;
        }
        /* Still being emptied: the namespace controller finishes the deletion. */
        json_t *spec_fin = obj_path(obj, "spec.finalizers");
        if (json_is_array(spec_fin) && json_array_size(spec_fin) > 0)
            return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 200;
    }
    int64_t period = 0;
    enum grace g = strcmp(rr->kind->kind, "Pod") == 0 && !rr->kind->group[0]
                       ? pod_grace(obj, o, &period)
                       : GRACE_NONE;
    if (g == GRACE_PENDING)
        return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 200;
    bool fin_changed = false;
    r = apply_gc_finalizers(rr, obj, o, &fin_changed);
    if (r < 0)
        return r;
    bool graceful = g == GRACE_SET && period > 0;
    if (!graceful && !pending_finalizers(obj)) {
        if (o->dry_run)
            return obj_render(obj, rev, ret_value) < 0 ? -ENOMEM : 200;
        r = remove_object(rr, key, obj, rev, ret_value);
        return r < 0 ? r : 200;
    }
    /* Finalizers or a grace period hold the object: mark it and let them finish. */
    if (!marked && g != GRACE_SET)
        set_deletion(meta, time(NULL), 0);
    r = keep_object(rr, key, obj, rev, !marked || fin_changed || g == GRACE_SET, o, ret_value);
    if (r < 0)
        return r;
    /* kube-apiserver's one Accepted: orphanDependents=false that did not delete at once */
    return o->orphan_dependents == 0 ? 202 : 200;
}

/* Deletes (or marks) one object; returns the HTTP status to answer with. */
static int delete_one(struct resource_request *rr, const char *name, const struct delete_options *o,
                      struct kos_value **ret_value, struct kos_error **err)
{
    char key[1024];
    if (kos_kind_key(rr->kind, rr->ns, name, key, sizeof(key)) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid object name");
    for (int attempt = 0; attempt < DELETE_RETRIES; attempt++) {
        struct store_kv kv = {0};
        int r = store_get(rr->srv->store, key, &kv);
        if (r < 0)
            return r;
        _cleanup_json_ json_t *obj = obj_decode_value(kv.value, err);
        int64_t rev = kv.mod_rev;
        store_kv_clear(&kv);
        if (!obj)
            return -EIO;
        r = check_preconditions(rr, name, obj, o, err);
        if (r < 0)
            return r;
        r = delete_attempt(rr, key, obj, rev, o, ret_value);
        if (r == -ECANCELED)
            continue;
        return r;
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
        for (size_t i = 0; i < ARRAY_SIZE(protected_namespaces); i++) {
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

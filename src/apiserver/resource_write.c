/* CREATE, UPDATE (PUT) and PATCH for every kind, and the one update path they share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/apply.h"
#include "api/defaults.h"
#include "api/patch.h"
#include "api/schema.h"
#include "api/validate.h"
#include "codec/json_scan.h"
#include "apiserver/admission_priority.h"
#include "apiserver/admission_serviceaccount.h"
#include "apiserver/authorization.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "apiserver/services/service_registry.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/random.h"
#include "util/strutil.h"

/* Retries of a read-modify-write whose object changed underneath (no resourceVersion given). */
#define UPDATE_RETRIES         16
#define GENERATE_NAME_RANDOM   5
#define GENERATE_NAME_MAX_BASE (63 - GENERATE_NAME_RANDOM)

int require_namespace(struct resource_request *rr, struct kos_error **err)
{
    if (!rr->kind->namespaced)
        return 0;
    char key[512];
    if (snprintf(key, sizeof(key), "/registry/namespaces/%s", rr->ns) >= (int)sizeof(key))
        return kos_error_set(err, 400, "BadRequest", "invalid namespace");
    struct store_kv kv = {0};
    int r = store_get(rr->srv->store, key, &kv);
    if (r == -ENOENT) {
        kos_error_set(err, 404, "NotFound", "namespaces \"%s\" not found", rr->ns);
        kos_error_set_details(*err, rr->ns, NULL, "namespaces");
        return r;
    }
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading the namespace failed");
    /* NamespaceLifecycle admission: nothing new goes into a namespace being terminated.
     * Only status.phase is read, from the stored bytes, on every create; bytes the scanner
     * does not take are parsed whole. */
    const char *status, *phase;
    size_t status_len, phase_len;
    _cleanup_free_ char *tmp = NULL;
    const char *data = kos_value_bytes(kv.value, &tmp);
    int found =
        data ? kos_json_member(data, kv.value->len, "status", &status, &status_len) : -EINVAL;
    if (found == 1)
        found = kos_json_member(status, status_len, "phase", &phase, &phase_len);
    bool terminating;
    if (found >= 0) {
        terminating = found == 1 && phase_len == strlen("\"Terminating\"") &&
                      memcmp(phase, "\"Terminating\"", phase_len) == 0;
    } else {
        _cleanup_json_ json_t *nsobj = obj_decode_value(kv.value, NULL);
        terminating = kos_streq_null(obj_str(nsobj, "status.phase"), "Terminating");
    }
    store_kv_clear(&kv);
    if (!terminating)
        return 0;
    const char *g = rr->kind->group, *n = rr->name;
    char cause[320];
    snprintf(cause, sizeof(cause), "namespace %s is being terminated", rr->ns);
    kos_error_set(err, 403, "Forbidden",
                  "%s%s%s%s%s%s is forbidden: unable to create new content in namespace %s "
                  "because it is being terminated",
                  rr->kind->plural, g[0] ? "." : "", g, n ? " \"" : "", n ? n : "", n ? "\"" : "",
                  rr->ns);
    kos_error_set_details(*err, n, g[0] ? g : NULL, rr->kind->plural);
    kos_error_add_cause(*err, "NamespaceTerminating", cause, "metadata.namespace");
    return -EACCES;
}

/* fieldValidation: Strict fails on unknown fields; Warn (the server default) reports them as
 * warnings and Ignore says nothing, and both drop them, as decoding into Go structs does. */
static int check_fields(struct resource_request *rr, json_t *obj, struct http_reply *rep,
                        struct kos_error **err)
{
    const char *mode = http_query(rr->http, "fieldValidation");
    if (mode && strcmp(mode, "Strict") != 0 && strcmp(mode, "Warn") != 0 &&
        strcmp(mode, "Ignore") != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "fieldValidation parameter unsupported: %s. Supported values are "
                             "Ignore, Warn and Strict",
                             mode);
    bool strict = mode && strcmp(mode, "Strict") == 0;
    bool ignore = mode && strcmp(mode, "Ignore") == 0;
    char **paths = NULL;
    int n = strict ? schema_unknown_fields(rr->kind, obj, &paths)
                   : schema_prune_unknown_fields(rr->kind, obj, &paths);
    if (n <= 0 || ignore) {
        schema_paths_free(paths, n > 0 ? (size_t)n : 0);
        return n < 0 ? kos_error_set(err, 500, "InternalError", "checking fields failed") : 0;
    }
    _cleanup_buf_ struct kos_buf msg;
    kos_buf_init(&msg, 64 * 1024);
    kos_buf_append_str(&msg, "strict decoding error: ");
    for (int i = 0; i < n; i++) {
        char one[600];
        snprintf(one, sizeof(one), "unknown field \"%s\"", paths[i]);
        if (strict) {
            if (i)
                kos_buf_append_str(&msg, ", ");
            kos_buf_append_str(&msg, one);
        } else {
            http_reply_add_warning(rep, one);
        }
        free(paths[i]);
    }
    free(paths);
    if (strict)
        return kos_error_set(err, 400, "BadRequest", "%s", msg.data ? msg.data : "");
    return 0;
}

static int generate_name(json_t *meta)
{
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *base = json_string_value(json_object_get(meta, "generateName"));
    if ((name && name[0]) || !base || !base[0])
        return 0;
    char suffix[GENERATE_NAME_RANDOM + 1], full[128];
    int r = kos_random_suffix(suffix, GENERATE_NAME_RANDOM);
    if (r < 0)
        return r;
    size_t blen = strlen(base);
    if (blen > GENERATE_NAME_MAX_BASE)
        blen = GENERATE_NAME_MAX_BASE;
    snprintf(full, sizeof(full), "%.*s%s", (int)blen, base, suffix);
    return obj_set_str(meta, "name", full);
}

/* Copies the printable characters of s, up to the first '/' when product is set, into out
 * (at most 128 bytes, whole characters only, as kube-apiserver's prefixFromUserAgent). */
static void printable_prefix(const char *s, bool product, char *out, size_t size)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && !(product && *p == '/');) {
        size_t len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
        size_t have = 1;
        while (have < len && (p[have] & 0xc0) == 0x80)
            have++;
        if (have < len || (*p >= 0x80 && *p < 0xc2) || *p > 0xf4) {
            p += have; /* not UTF-8: skipped */
            continue;
        }
        if (n + len > 128 || n + len >= size)
            break;
        if (len > 1 || (*p >= 0x20 && *p != 0x7f)) {
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    out[n] = '\0';
    /* what jansson still refuses (overlong forms, surrogates) keeps the ASCII part only */
    json_t *probe = json_string(out);
    if (!probe) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)out[i] < 0x80)
                out[m++] = out[i];
        out[m] = '\0';
    }
    json_decref(probe);
}

/* The manager of a write: the fieldManager query, else what kube-apiserver derives from the
 * User-Agent (its product name, before the first '/'), else "unknown". */
static void request_manager(const struct resource_request *rr, char *out, size_t size)
{
    const char *m = http_query(rr->http, "fieldManager");
    const char *ua = http_header(rr->http, "User-Agent");
    if (m && m[0])
        printable_prefix(m, false, out, size);
    else
        printable_prefix(ua ? ua : "", true, out, size);
    if (!out[0])
        kos_strlcpy(out, "unknown", size);
}

/* Records the write in metadata.managedFields as an Update by the request's manager (cur is
 * NULL for a create). Bookkeeping never fails a write. */
static void track_update(struct resource_request *rr, const json_t *cur, json_t *next)
{
    char manager[160];
    request_manager(rr, manager, sizeof(manager));
    struct kos_field_manager fm = {
        .kind = rr->kind, .manager = manager, .subresource = rr->sub, .now = time(NULL)};
    (void)kos_managed_fields_update(&fm, cur, next);
}

/* Server-owned metadata of a new object. */
static int init_meta(struct resource_request *rr, json_t *obj)
{
    json_t *meta = obj_meta(obj);
    if (!meta)
        return -ENOMEM;
    char uid[40], now[32];
    int r = kos_uuid_v4(uid, sizeof(uid));
    if (r < 0)
        return r;
    obj_now_rfc3339(now, sizeof(now));
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "selfLink");
    if (obj_set_str(meta, "uid", uid) < 0 || obj_set_str(meta, "creationTimestamp", now) < 0)
        return -ENOMEM;
    if (rr->kind->namespaced && obj_set_str(meta, "namespace", rr->ns) < 0)
        return -ENOMEM;
    if (!rr->kind->namespaced)
        json_object_del(meta, "namespace");
    if (rr->kind->has_generation)
        json_object_set_new(meta, "generation", json_integer(1));
    else
        json_object_del(meta, "generation");
    /* A new object's status is the server's to fill (nodes report theirs on create). */
    if ((rr->kind->subresources & SUB_STATUS) && strcmp(rr->kind->kind, "Node") != 0)
        json_object_del(obj, "status");
    return 0;
}

/* The namespace in the body must agree with the URL. */
static int check_namespace(struct resource_request *rr, json_t *obj, struct kos_error **err)
{
    const char *ns = obj_str(obj, "metadata.namespace");
    if (rr->kind->namespaced && ns && ns[0] && strcmp(ns, rr->ns) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the namespace of the provided object does not match the namespace "
                             "sent on the request");
    return 0;
}

/* track: record managedFields for this create (server-side apply has recorded its own). */
/* Escalation prevention on Role/ClusterRole/RoleBinding/ClusterRoleBinding writes. Without an
 * identity nothing may be written (never an accidental allow). */
static int check_rbac_write(struct resource_request *rr, const json_t *obj, const json_t *old,
                            struct kos_error **err)
{
    if (!rr->authz_user)
        return kos_error_set(err, 500, "InternalError", "no user to authorize the write");
    return apiserver_authz_check_rbac_write(rr->srv, rr->authz_user, rr->kind->plural,
                                            rr->kind->group, rr->ns, obj, old, err);
}

static void create_object_ex(struct resource_request *rr, json_t *obj, bool track,
                             struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    int r = 0;
    if (!json_is_object(obj)) {
        reply_errorf(rep, 400, "BadRequest", "the body of the request must be a JSON object");
        return;
    }
    if (obj_check_type(obj, rr->kind, &err) < 0 || check_namespace(rr, obj, &err) < 0 ||
        check_fields(rr, obj, rep, &err) < 0 || require_namespace(rr, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    json_t *meta = obj_meta(obj);
    if (!meta || generate_name(meta) < 0 || init_meta(rr, obj) < 0) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    if (admission_priority(rr, obj, &err) < 0) { /* before defaulting: see its header */
        reply_error(rep, err);
        return;
    }
    if (kos_apply_defaults(rr->kind, obj) < 0) {
        reply_errorf(rep, 500, "InternalError", "defaulting failed");
        return;
    }
    /* managedFields before mutating admission, as kube's create handler records them: the
     * kube-api-access volume the ServiceAccount plugin adds belongs to no manager (and
     * objects of one shape keep one managedFields entry; see managed_fields_memo.c) */
    if (track)
        track_update(rr, NULL, obj);
    if (admission_serviceaccount(rr, obj, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (kos_validate_create(rr->kind, obj, &err) < 0 || check_rbac_write(rr, obj, NULL, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    /* a copy: the write below frees the tree (obj_store_write_consume) */
    const char *tree_name = obj_str(obj, "metadata.name");
    char key[1024], name[1024];
    if (!tree_name || rr_key(rr, tree_name, key, sizeof(key)) < 0 ||
        kos_strlcpy(name, tree_name, sizeof(name)) >= sizeof(name)) {
        reply_errorf(rep, 400, "BadRequest", "invalid object name");
        return;
    }
    /* cluster IPs and node ports, after validation as kube's service registry takes them */
    if (service_admit_create(rr, obj, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (rr->dry_run) {
        service_after_create(rr, obj, false);
        reply_json(rep, 201, obj);
        return;
    }
    struct store_write_result res = {0};
    /* the reply is the stored bytes: nothing reads obj after the write but a Service's
     * allocations on failure */
    r = service_reads_after_create(rr)
            ? obj_store_write(rr->srv->store, STORE_CREATE, key, 0, obj, &res)
            : obj_store_write_consume(rr->srv->store, STORE_CREATE, key, 0, obj, &res);
    service_after_create(rr, obj, r == 0);
    if (r < 0) {
        reply_store_error(rep, r, rr->kind->plural, rr->kind->group, name);
        return;
    }
    reply_value(rep, 201, res.value);
    kos_value_unref(res.value);
}

void create_object(struct resource_request *rr, json_t *obj, struct http_reply *rep)
{
    create_object_ex(rr, obj, true, rep);
}

void handle_create(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *obj = NULL;
    if (body_decode_object(rr->http, rep, &obj, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    create_object(rr, obj, rep);
}

static bool spec_changed(const json_t *cur, const json_t *next)
{
    const json_t *a = json_object_get(cur, "spec"), *b = json_object_get(next, "spec");
    if (!a && !b)
        return false;
    return !a || !b || !json_equal(a, b);
}

/* Copies the fields only the server may set from the stored object onto the new one. */
static int keep_server_fields(struct resource_request *rr, const json_t *cur, json_t *next)
{
    json_t *nm = obj_meta(next);
    const json_t *cm = json_object_get(cur, "metadata");
    if (!nm)
        return -ENOMEM;
    static const char *const owned[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                        "deletionGracePeriodSeconds", "generation"};
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        json_t *v = json_object_get(cm, owned[i]);
        if (v)
            json_object_set(nm, owned[i], v);
        else
            json_object_del(nm, owned[i]);
    }
    json_object_del(nm, "selfLink");
    if (rr->kind->namespaced)
        obj_set_str(nm, "namespace", rr->ns);
    const char *sub = rr->sub;
    if (strcmp(sub, "finalize") == 0) {
        /* namespaces/finalize changes spec.finalizers only (kube's finalizeNamespaceStrategy) */
        json_t *fin = json_object_get(json_object_get(next, "spec"), "finalizers");
        json_t *copy = json_deep_copy(cur);
        if (!copy)
            return -ENOMEM;
        json_t *spec = json_object_get(copy, "spec");
        if (!json_is_object(spec)) {
            spec = json_object();
            if (!spec || json_object_set_new(copy, "spec", spec) < 0) {
                json_decref(copy);
                return -ENOMEM;
            }
        }
        if (fin)
            json_object_set(spec, "finalizers", fin);
        else
            json_object_del(spec, "finalizers");
        json_object_clear(next);
        json_object_update(next, copy);
        json_decref(copy);
    } else if (strcmp(sub, "status") == 0) {
        /* A status write changes status only: everything else stays as stored. */
        json_t *status = json_object_get(next, "status");
        json_t *copy = json_deep_copy(cur);
        if (!copy)
            return -ENOMEM;
        if (status)
            json_object_set(copy, "status", status);
        else
            json_object_del(copy, "status");
        json_object_clear(next);
        json_object_update(next, copy);
        json_decref(copy);
    } else if (rr->kind->subresources & SUB_STATUS) {
        /* The main resource cannot change status when a status subresource exists. */
        json_t *status = json_object_get(cur, "status");
        if (status)
            json_object_set(next, "status", status);
        else
            json_object_del(next, "status");
    }
    if (rr->kind->has_generation && spec_changed(cur, next)) {
        json_int_t gen = json_integer_value(json_object_get(cm, "generation"));
        json_object_set_new(nm, "generation", json_integer(gen + 1));
    }
    return 0;
}

/* Equality ignoring metadata.resourceVersion: an update that changes nothing is not written
 * (kube-apiserver answers with the stored object and the same resourceVersion). */
static bool same_object(const json_t *cur, json_t *next)
{
    json_t *nm = json_object_get(next, "metadata");
    json_t *rv = json_object_get(nm, "resourceVersion");
    json_t *saved = rv ? json_incref(rv) : NULL;
    const char *cur_rv = obj_str(cur, "metadata.resourceVersion");
    if (nm && cur_rv)
        json_object_set_new(nm, "resourceVersion", json_string(cur_rv));
    bool same = json_equal(cur, next);
    if (nm) {
        if (saved)
            json_object_set_new(nm, "resourceVersion", saved);
        else
            json_object_del(nm, "resourceVersion");
    }
    return same;
}

/* applied: next holds the managedFields server-side apply computed; else the write is
 * recorded as an Update. */
static int commit_update_ex(struct resource_request *rr, json_t *cur, int64_t cur_rev, json_t *next,
                            bool applied, struct kos_value **ret_value, struct kos_error **err)
{
    if (!json_is_object(next))
        return kos_error_set(err, 400, "BadRequest", "the object must be a JSON object");
    int r = obj_check_type(next, rr->kind, err);
    if (r < 0)
        return r;
    const char *name = obj_str(next, "metadata.name");
    if (!name || strcmp(name, rr->name) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the name of the object (%s) does not match the name on the URL (%s)",
                             name ? name : "", rr->name);
    r = check_namespace(rr, next, err);
    if (r < 0)
        return r;
    _cleanup_json_ json_t *managed =
        applied ? json_incref(obj_path(next, "metadata.managedFields")) : NULL;
    r = keep_server_fields(rr, cur, next);
    if (r == 0)
        r = service_prepare_update(rr, next, cur);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    r = kos_apply_defaults(rr->kind, next);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "defaulting failed");
    if (!applied)
        track_update(rr, cur, next);
    else if (managed)
        json_object_set(obj_meta(next), "managedFields", managed);
    else
        json_object_del(obj_meta(next), "managedFields");
    r = kos_validate_update(rr->kind, next, cur, err);
    if (r < 0)
        return r;
    r = check_rbac_write(rr, next, cur, err);
    if (r < 0)
        return r;

    char key[1024];
    if (rr_key(rr, rr->name, key, sizeof(key)) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid object name");
    r = service_admit_update(rr, next, cur, err);
    if (r < 0)
        return r;
    if (same_object(cur, next) || rr->dry_run) {
        service_after_update(rr, next, cur, false, false);
        if (rr->dry_run && !same_object(cur, next))
            return obj_render(next, cur_rev, ret_value) < 0 ? -ENOMEM : 0;
        return obj_render(cur, cur_rev, ret_value) < 0 ? -ENOMEM : 0;
    }
    /* An object marked for deletion goes away when an update removes its last finalizer
     * (and its grace period is over), as kube-apiserver decides it: other updates of a marked
     * object, such as a pod's status during its grace period, are ordinary writes. */
    bool release = obj_str(next, "metadata.deletionTimestamp") &&
                   json_integer_value(obj_path(next, "metadata.deletionGracePeriodSeconds")) == 0 &&
                   json_array_size(obj_path(cur, "metadata.finalizers")) > 0 &&
                   json_array_size(obj_path(next, "metadata.finalizers")) == 0;
    struct store_write_result res = {0};
    r = obj_store_write(rr->srv->store, release ? STORE_DELETE : STORE_UPDATE, key, cur_rev, next,
                        &res);
    service_after_update(rr, next, cur, r == 0, release);
    if (r < 0)
        return r;
    *ret_value = res.value;
    return 0;
}

int commit_update(struct resource_request *rr, json_t *cur, int64_t cur_rev, json_t *next,
                  struct kos_value **ret_value, struct kos_error **err)
{
    return commit_update_ex(rr, cur, cur_rev, next, false, ret_value, err);
}

static void reply_write_failure(struct resource_request *rr, struct http_reply *rep, int r,
                                struct kos_error *err)
{
    if (err)
        reply_error(rep, err);
    else
        reply_store_error(rep, r, rr->kind->plural, rr->kind->group, rr->name);
}

void handle_update(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *body = NULL;
    if (body_decode_object(rr->http, rep, &body, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (!json_is_object(body)) {
        reply_errorf(rep, 400, "BadRequest", "the body of the request must be a JSON object");
        return;
    }
    if (check_fields(rr, body, rep, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    const char *want_rv = obj_str(body, "metadata.resourceVersion");
    int64_t want = 0;
    if (want_rv && want_rv[0] && (kos_parse_int64(want_rv, &want) < 0 || want <= 0)) {
        reply_errorf(rep, 400, "BadRequest", "invalid resourceVersion \"%s\"", want_rv);
        return;
    }
    for (int attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        _cleanup_json_ json_t *cur = NULL;
        int64_t cur_rev = 0;
        int r = rr_read_object(rr, &cur, &cur_rev, &err);
        if (r < 0) {
            reply_write_failure(rr, rep, r, err);
            return;
        }
        if (want && want != cur_rev) {
            reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
            return;
        }
        _cleanup_json_ json_t *next = json_deep_copy(body);
        struct kos_value *v = NULL;
        if (!next) {
            reply_errorf(rep, 500, "InternalError", "out of memory");
            return;
        }
        r = commit_update(rr, cur, cur_rev, next, &v, &err);
        if (r == -ECANCELED && !want && !err)
            continue;
        if (r < 0) {
            reply_write_failure(rr, rep, r, err);
            return;
        }
        reply_value(rep, 200, v);
        kos_value_unref(v);
        return;
    }
    reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
}

/* PatchOptions validation (kube-apiserver's ValidatePatchOptions): 422 Invalid. */
static int check_patch_options(struct resource_request *rr, int type, struct kos_error **err)
{
    const char *manager = http_query(rr->http, "fieldManager");
    const char *field = "fieldManager", *reason = NULL, *what = NULL;
    if (type != PATCH_APPLY && http_query(rr->http, "force")) {
        field = "force";
        reason = "FieldValueForbidden";
        what = "Forbidden: may not be specified for non-apply patch";
    } else if (type == PATCH_APPLY && (!manager || !manager[0])) {
        reason = "FieldValueRequired";
        what = "Required value: is required for apply patch";
    } else if (manager && strlen(manager) > 128) {
        reason = "FieldValueTooLong";
        what = "Too long: may not be more than 128 bytes";
    } else if (manager) {
        char clean[160];
        printable_prefix(manager, false, clean, sizeof(clean));
        if (strcmp(clean, manager) != 0) {
            reason = "FieldValueInvalid";
            what = "Invalid value: must only contain printable characters";
        }
    }
    if (!reason)
        return 0;
    int r = kos_error_set(err, 422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: %s: %s",
                          field, what);
    if (*err) {
        kos_error_set_details(*err, NULL, "meta.k8s.io", "PatchOptions");
        kos_error_add_cause(*err, reason, what, field);
    }
    return r;
}

/* The applied configuration as server-side apply takes it: unknown fields are refused
 * (fieldValidation=Strict) or dropped with a warning before anyone can own them. A body of
 * another kind is left to kos_apply, which names it. */
static int apply_config(struct resource_request *rr, const json_t *patch, struct http_reply *rep,
                        json_t **ret, struct kos_error **err)
{
    _cleanup_json_ json_t *config = json_deep_copy(patch);
    char api_version[160];
    if (!config)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    kos_kind_api_version(rr->kind, api_version, sizeof(api_version));
    const char *av = obj_str(config, "apiVersion"), *k = obj_str(config, "kind");
    if (json_is_object(config) && av && k && strcmp(av, api_version) == 0 &&
        strcmp(k, rr->kind->kind) == 0) {
        int r = check_fields(rr, config, rep, err);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(config);
    return 0;
}

/* Server-side apply of config onto cur (NULL when the object does not exist yet). */
static int apply_patch(struct resource_request *rr, const json_t *cur, const json_t *config,
                       json_t **ret, struct kos_error **err)
{
    /* the fieldManager is there and printable: check_patch_options saw to it */
    struct kos_field_manager fm = {.kind = rr->kind,
                                   .manager = http_query(rr->http, "fieldManager"),
                                   .subresource = rr->sub,
                                   .now = time(NULL)};
    bool force = query_bool(rr->http, "force", NULL);
    int r = kos_apply(&fm, cur, config, force, rr->name, rr->kind->namespaced ? rr->ns : NULL, ret,
                      err);
    if (r < 0 && !*err)
        return kos_error_set(err, 500, "InternalError", "server-side apply failed: %s",
                             strerror(-r));
    return r;
}

void handle_patch(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *patch = NULL;
    int type = 0;
    if (body_decode_patch(rr->http, &type, &patch, &err) < 0 ||
        check_patch_options(rr, type, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    bool applying = type == PATCH_APPLY;
    _cleanup_json_ json_t *config = NULL;
    if (applying && apply_config(rr, patch, rep, &config, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    for (int attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        _cleanup_json_ json_t *cur = NULL;
        int64_t cur_rev = 0;
        int r = rr_read_object(rr, &cur, &cur_rev, &err);
        if (r == -ENOENT && applying && rr->sub[0] == '\0' && !err) {
            /* Server-side apply creates what does not exist yet. */
            _cleanup_json_ json_t *obj = NULL;
            if (apply_patch(rr, NULL, config, &obj, &err) < 0) {
                reply_error(rep, err);
                return;
            }
            create_object_ex(rr, obj, false, rep);
            return;
        }
        if (r < 0) {
            reply_write_failure(rr, rep, r, err);
            return;
        }
        _cleanup_json_ json_t *next = NULL;
        r = applying ? apply_patch(rr, cur, config, &next, &err)
                     : kos_patch_apply(type, rr->kind, cur, patch, &next, &err);
        if (r < 0) {
            reply_error(rep, err);
            return;
        }
        if (!applying && json_is_object(next) && check_fields(rr, next, rep, &err) < 0) {
            reply_error(rep, err);
            return;
        }
        /* A resourceVersion in the patch is a precondition, as in kube-apiserver. */
        const char *want_rv = obj_str(next, "metadata.resourceVersion");
        const char *cur_rv = obj_str(cur, "metadata.resourceVersion");
        if (want_rv && cur_rv && strcmp(want_rv, cur_rv) != 0) {
            reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
            return;
        }
        struct kos_value *v = NULL;
        r = commit_update_ex(rr, cur, cur_rev, next, applying, &v, &err);
        if (r == -ECANCELED && !err)
            continue;
        if (r < 0) {
            reply_write_failure(rr, rep, r, err);
            return;
        }
        reply_value(rep, 200, v);
        kos_value_unref(v);
        return;
    }
    reply_store_error(rep, -ECANCELED, rr->kind->plural, rr->kind->group, rr->name);
}

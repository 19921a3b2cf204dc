/* serviceaccounts/token: the TokenRequest subresource (authentication.k8s.io/v1) that
 * `kubectl create token` posts, and the object lookup the service-account token
 * authenticator uses to check that a token's ServiceAccount and bound object still exist.
 * Semantics of kube's pkg/registry/core/serviceaccount/storage/token.go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "auth/serviceaccount.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

/* Reads one core/v1 object by resource, namespace and name (-ENOENT when absent). */
static int read_core(struct apiserver *srv, const char *resource, const char *ns, const char *name,
                     json_t **ret)
{
    const struct kos_kind *k = kos_kind_by_resource("", "v1", resource);
    if (!k)
        return -EINVAL;
    char key[1024];
    if (kos_kind_key(k, ns, name, key, sizeof(key)) < 0)
        return -ENAMETOOLONG;
    struct store_kv kv = {0};
    int r = store_get(srv->store, key, &kv);
    if (r < 0)
        return r;
    json_t *obj = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    if (!obj)
        return -EIO;
    *ret = obj;
    return 0;
}

int apiserver_sa_lookup(void *ctx, const char *resource, const char *ns, const char *name,
                        char **uid, time_t *deletion)
{
    _cleanup_json_ json_t *obj = NULL;
    int r = read_core(ctx, resource, ns, name, &obj);
    if (r < 0)
        return r;
    const char *u = obj_str(obj, "metadata.uid");
    const char *del = obj_str(obj, "metadata.deletionTimestamp");
    time_t t = 0;
    if (del && kos_time_parse_rfc3339(del, &t) < 0)
        t = 1; /* unreadable: long deleted */
    if (!(*uid = strdup(u ? u : "")))
        return -ENOMEM;
    *deletion = t;
    return 0;
}

static void invalid(struct http_reply *rep, const char *name, const char *field, const char *what)
{
    reply_errorf(rep, 422, "Invalid",
                 "TokenRequest.authentication.k8s.io \"%s\" is invalid: %s: %s", name, field, what);
}

void handle_token_request(struct resource_request *rr, struct http_reply *rep)
{
    if (!rr->srv->sa) {
        reply_errorf(rep, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *body = NULL;
    if (body_decode(rr->http, &body, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (!json_is_object(body)) {
        reply_errorf(rep, 400, "BadRequest", "a TokenRequest object is required");
        return;
    }
    const char *kind = obj_str(body, "kind");
    const char *api_version = obj_str(body, "apiVersion");
    if ((kind && strcmp(kind, "TokenRequest") != 0) ||
        (api_version && strcmp(api_version, "authentication.k8s.io/v1") != 0)) {
        reply_errorf(rep, 400, "BadRequest",
                     "a TokenRequest (authentication.k8s.io/v1) is "
                     "required, not %s",
                     kind ? kind : "another kind");
        return;
    }
    json_t *spec = json_object_get(body, "spec");
    if (spec && !json_is_null(spec) && !json_is_object(spec)) {
        reply_errorf(rep, 400, "BadRequest", "spec must be an object");
        return;
    }

    /* spec.expirationSeconds: default 3600, at least 10 minutes, at most 2^32 s */
    json_t *exp = json_object_get(spec, "expirationSeconds");
    json_int_t seconds = KOS_SA_DEFAULT_EXPIRATION;
    if (exp && !json_is_null(exp)) {
        if (!json_is_integer(exp)) {
            reply_errorf(rep, 400, "BadRequest", "spec.expirationSeconds must be an integer");
            return;
        }
        seconds = json_integer_value(exp);
        char what[128];
        if (seconds < KOS_SA_MIN_EXPIRATION) {
            snprintf(what, sizeof(what),
                     "Invalid value: %lld: may not specify a duration less than 10 minutes",
                     (long long)seconds);
            invalid(rep, rr->name, "spec.expirationSeconds", what);
            return;
        }
        if (seconds > KOS_SA_MAX_EXPIRATION) {
            snprintf(what, sizeof(what),
                     "Invalid value: %lld: may not specify a duration larger than 2^32 seconds",
                     (long long)seconds);
            invalid(rep, rr->name, "spec.expirationSeconds", what);
            return;
        }
    }

    /* spec.audiences: default the API audiences */
    const char *auds[KOS_SA_MAX_AUDIENCES];
    size_t naud = 0;
    json_t *ja = json_object_get(spec, "audiences");
    if (ja && !json_is_null(ja) && !json_is_array(ja)) {
        reply_errorf(rep, 400, "BadRequest", "spec.audiences must be a list");
        return;
    }
    if (json_array_size(ja) > KOS_SA_MAX_AUDIENCES) {
        invalid(rep, rr->name, "spec.audiences", "Too many: more than 64 audiences");
        return;
    }
    size_t i;
    json_t *a;
    json_array_foreach(ja, i, a)
    {
        if (!json_is_string(a) || !json_string_value(a)[0] ||
            json_string_length(a) > KOS_USER_MAX_STRING) {
            invalid(rep, rr->name, "spec.audiences",
                    "Invalid value: audiences must be non-empty "
                    "strings");
            return;
        }
        auds[naud++] = json_string_value(a);
    }
    if (naud == 0) {
        size_t n = 0;
        const char *const *def = kos_sa_audiences(rr->srv->sa, &n);
        for (; naud < n && naud < KOS_SA_MAX_AUDIENCES; naud++)
            auds[naud] = def[naud];
    }

    _cleanup_json_ json_t *sa = NULL;
    int r = read_core(rr->srv, "serviceaccounts", rr->ns, rr->name, &sa);
    if (r == -ENOENT) {
        reply_errorf(rep, 404, "NotFound", "serviceaccounts \"%s\" not found", rr->name);
        return;
    }
    if (r < 0) {
        reply_errorf(rep, 500, "InternalError", "reading the service account: %s", strerror(-r));
        return;
    }
    const char *sa_uid = obj_str(sa, "metadata.uid");

    /* spec.boundObjectRef: a Pod or Secret of the same namespace that exists (uid matching
     * when given); the token dies with it. */
    json_t *ref = json_object_get(spec, "boundObjectRef");
    const char *bkind = NULL, *bname = NULL, *buid = NULL;
    _cleanup_json_ json_t *bound = NULL;
    if (ref && !json_is_null(ref)) {
        bkind = obj_str(ref, "kind");
        bname = obj_str(ref, "name");
        const char *bver = obj_str(ref, "apiVersion");
        const char *want_uid = obj_str(ref, "uid");
        if (!json_is_object(ref) || !bkind || !bname || !bname[0]) {
            invalid(rep, rr->name, "spec.boundObjectRef", "Required value: kind and name");
            return;
        }
        const char *resource = strcmp(bkind, "Pod") == 0      ? "pods"
                               : strcmp(bkind, "Secret") == 0 ? "secrets"
                                                              : NULL;
        if (!resource || (bver && strcmp(bver, "v1") != 0)) {
            reply_errorf(rep, 400, "BadRequest", "cannot bind token to object of type %s%s%s",
                         bver ? bver : "", bver ? ", Kind=" : "", bkind);
            return;
        }
        r = read_core(rr->srv, resource, rr->ns, bname, &bound);
        if (r == -ENOENT) {
            reply_errorf(rep, 404, "NotFound", "%s \"%s\" not found", resource, bname);
            return;
        }
        if (r < 0) {
            reply_errorf(rep, 500, "InternalError", "reading the bound object: %s", strerror(-r));
            return;
        }
        buid = obj_str(bound, "metadata.uid");
        if (want_uid && want_uid[0] && !kos_streq_null(want_uid, buid)) {
            reply_errorf(rep, 409, "Conflict",
                         "Operation cannot be fulfilled on %s \"%s\": the UID in the bound "
                         "object reference (%s) does not match the UID in record. The object "
                         "might have been deleted and then recreated",
                         bkind, bname, want_uid);
            return;
        }
        if (!buid)
            buid = "";
    }

    struct kos_sa_token_request tr = {.namespace_ = rr->ns,
                                      .name = rr->name,
                                      .uid = sa_uid ? sa_uid : "",
                                      .audiences = auds,
                                      .naudiences = naud,
                                      .expiration_seconds = seconds,
                                      .bound_kind = bkind,
                                      .bound_name = bname,
                                      .bound_uid = buid};
    _cleanup_free_ char *token = NULL;
    time_t expires = 0;
    if (kos_sa_issue(rr->srv->sa, &tr, &token, &expires, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    char ts[32];
    kos_time_rfc3339(expires, ts, sizeof(ts));
    json_t *out_auds = json_array();
    for (i = 0; i < naud; i++)
        json_array_append_new(out_auds, json_string(auds[i]));
    json_t *out_ref = json_null();
    if (bkind) {
        out_ref = json_pack("{s:s, s:s, s:s, s:s}", "kind", bkind, "apiVersion", "v1", "name",
                            bname, "uid", buid);
    }
    _cleanup_json_ json_t *out = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:n}, s:{s:o, s:I, s:o}, s:{s:s, s:s}}", "kind", "TokenRequest",
        "apiVersion", "authentication.k8s.io/v1", "metadata", "name", rr->name, "namespace", rr->ns,
        "creationTimestamp", "spec", "audiences", out_auds, "expirationSeconds", seconds,
        "boundObjectRef", out_ref, "status", "token", token, "expirationTimestamp", ts);
    explicit_bzero(token, strlen(token));
    if (!out) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    reply_json(rep, 201, out);
}

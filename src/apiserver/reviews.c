/* The access reviews (pkg/registry/authorization): SubjectAccessReview,
 * LocalSubjectAccessReview and SelfSubjectAccessReview ask the server's authorizer chain about
 * a user (named in the spec, or the requester); SelfSubjectRulesReview lists the requester's
 * RBAC rules in a namespace (`kubectl auth can-i --list`); SelfSubjectReview is `auth
 * whoami`. All are answered at once and never stored. */
#include <errno.h>
#include <string.h>

#include "apiserver/authz/chain.h"
#include "apiserver/authz/node.h"
#include "apiserver/authz/rbac.h"
#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* Most groups a SubjectAccessReview may name (the spec is client input). */
#define MAX_REVIEW_GROUPS 1024

/* authentication/v1 UserInfo: uid and extra omitted when empty, as kube's omitempty does. */
static json_t *user_info(const struct kos_user_info *u)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < u->ngroups; i++)
        json_array_append_new(groups, json_string(u->groups[i]));
    json_t *info = json_pack("{s:s, s:o}", "username", u->name ? u->name : "", "groups", groups);
    if (info && u->uid && u->uid[0])
        json_object_set_new(info, "uid", json_string(u->uid));
    if (info && u->nextra > 0) {
        json_t *extra = json_object();
        for (size_t i = 0; i < u->nextra; i++) {
            json_t *values = json_array();
            for (size_t j = 0; j < u->extra[i].nvalues; j++)
                json_array_append_new(values, json_string(u->extra[i].values[j]));
            json_object_set_new(extra, u->extra[i].key, values);
        }
        json_object_set_new(info, "extra", extra);
    }
    return info;
}

static void answer(struct resource_request *rr, json_t *obj, json_t *status, struct http_reply *rep)
{
    json_t *meta = obj_meta(obj);
    if (!meta || !status) {
        json_decref(status);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    char now[32];
    obj_now_rfc3339(now, sizeof(now));
    obj_set_str(meta, "creationTimestamp", now);
    json_object_set_new(obj, "status", status);
    reply_json(rep, 201, obj);
}

static const char *str_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ValidateSubjectAccessReviewSpec and its self/local variants: 422 with kube's texts. */
static int validate_spec(const char *kind, const json_t *spec, bool need_subject, bool local,
                         struct kos_error **err)
{
    bool res = json_is_object(json_object_get(spec, "resourceAttributes"));
    bool nonres = json_is_object(json_object_get(spec, "nonResourceAttributes"));
    const char *why = NULL, *field = NULL, *value = "null";
    if (res && nonres)
        field = "spec.nonResourceAttributes", value = "{...}",
        why = "cannot be specified in combination with resourceAttributes";
    else if (!res && !nonres)
        field = "spec.resourceAttributes",
        why = "exactly one of nonResourceAttributes or resourceAttributes must be specified";
    else if (local && nonres)
        field = "spec.nonResourceAttributes", value = "{...}",
        why = "disallowed on this kind of request";
    else if (need_subject && !*str_field(spec, "user") &&
             json_array_size(json_object_get(spec, "groups")) == 0)
        field = "spec.user", value = "\"\"",
        why = "at least one of user or group must be specified";
    if (!why)
        return 0;
    int r = kos_error_set(err, 422, "Invalid",
                          "%s.authorization.k8s.io \"\" is invalid: %s: Invalid value: %s: %s",
                          kind, field, value, why);
    kos_error_set_details(*err, "", "authorization.k8s.io", kind);
    kos_error_add_cause(*err, "FieldValueInvalid", why, field);
    return r;
}

/* ResourceAttributesFrom / NonResourceAttributesFrom; the attributes point into spec. */
static void attributes_from(const json_t *spec, const struct kos_user *user,
                            struct authz_attributes *a)
{
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    *a = (struct authz_attributes){.user = user};
    if (json_is_object(ra)) {
        a->resource_request = true;
        a->verb = str_field(ra, "verb");
        a->namespace_ = str_field(ra, "namespace");
        a->api_group = str_field(ra, "group");
        a->api_version = str_field(ra, "version");
        a->resource = str_field(ra, "resource");
        a->subresource = str_field(ra, "subresource");
        a->name = str_field(ra, "name");
        a->field_selector =
            json_string_value(json_object_get(json_object_get(ra, "fieldSelector"), "rawSelector"));
    } else {
        const json_t *na = json_object_get(spec, "nonResourceAttributes");
        a->verb = str_field(na, "verb");
        a->path = str_field(na, "path");
    }
}

static json_t *decide(struct resource_request *rr, const struct authz_attributes *a)
{
    _cleanup_free_ char *reason = NULL;
    int d = authz_chain_authorize(&rr->srv->authz, a, &reason);
    json_t *status = json_pack("{s:b}", "allowed", d == AUTHZ_ALLOW);
    if (status && d == AUTHZ_DENY)
        json_object_set_new(status, "denied", json_true());
    if (status && reason && *reason)
        json_object_set_new(status, "reason", json_string(reason));
    return status;
}

static void access_review(struct resource_request *rr, json_t *obj, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    const char *kind = rr->kind->kind;
    bool self = strcmp(kind, "SelfSubjectAccessReview") == 0;
    bool local = strcmp(kind, "LocalSubjectAccessReview") == 0;
    json_t *spec = json_object_get(obj, "spec");
    if (validate_spec(kind, spec, !self, local, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    if (local) {
        const char *ns = str_field(json_object_get(spec, "resourceAttributes"), "namespace");
        if (strcmp(ns, rr->ns ? rr->ns : "") != 0) {
            reply_errorf(rep, 400, "BadRequest",
                         "spec.resourceAttributes.namespace must match namespace: %s",
                         rr->ns ? rr->ns : "");
            return;
        }
    }
    struct authz_attributes a;
    if (self) {
        if (!rr->authz_user) {
            reply_errorf(rep, 500, "InternalError", "no user on the request");
            return;
        }
        attributes_from(spec, rr->authz_user, &a);
        answer(rr, obj, decide(rr, &a), rep);
        return;
    }
    /* The subject named in the spec (AuthorizationAttributesFrom). */
    const json_t *groups = json_object_get(spec, "groups");
    size_t n = json_array_size(groups);
    if (n > MAX_REVIEW_GROUPS) {
        reply_errorf(rep, 422, "Invalid",
                     "%s.authorization.k8s.io \"\" is invalid: spec.groups: "
                     "Too many: %zu: must have at most %d items",
                     kind, n, MAX_REVIEW_GROUPS);
        return;
    }
    _cleanup_free_ const char **gv = calloc(n + 1, sizeof(*gv));
    if (!gv) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        gv[i] = json_string_value(json_array_get(groups, i));
        if (!gv[i]) {
            reply_errorf(rep, 400, "BadRequest", "spec.groups[%zu] must be a string", i);
            return;
        }
    }
    struct kos_user subject = {
        .name = str_field(spec, "user"), .uid = str_field(spec, "uid"), .groups = gv, .ngroups = n};
    attributes_from(spec, &subject, &a);
    answer(rr, obj, decide(rr, &a), rep);
}

/* The union rule resolver over the configured modes (kube's authorizer RulesFor):
 * AlwaysAllow grants everything, Node and Webhook cannot enumerate (incomplete), RBAC lists
 * the bindings' rules. */
static void rules_review(struct resource_request *rr, json_t *obj, struct http_reply *rep)
{
    const char *ns = str_field(json_object_get(obj, "spec"), "namespace");
    if (!*ns) {
        reply_errorf(rep, 400, "BadRequest", "no namespace on request");
        return;
    }
    if (!rr->authz_user) {
        reply_errorf(rep, 500, "InternalError", "no user on the request");
        return;
    }
    _cleanup_json_ json_t *res = json_array(), *nonres = json_array();
    _cleanup_json_ json_t *errors = json_array();
    bool incomplete = false;
    const struct authz_chain *c = &rr->srv->authz;
    if (!res || !nonres || !errors) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        switch (c->v[i].mode) {
        case AUTHZ_MODE_ALWAYS_ALLOW:
            json_array_append_new(res, json_pack("{s:[s], s:[s], s:[s]}", "verbs", "*", "apiGroups",
                                                 "*", "resources", "*"));
            json_array_append_new(
                nonres, json_pack("{s:[s], s:[s]}", "verbs", "*", "nonResourceURLs", "*"));
            break;
        case AUTHZ_MODE_ALWAYS_DENY:
            break;
        case AUTHZ_MODE_NODE: {
            const char *node;
            if (authz_node_identity(rr->authz_user, &node)) {
                incomplete = true;
                json_array_append_new(
                    errors, json_string("node authorizer does not support user rule resolution"));
            }
            break;
        }
        case AUTHZ_MODE_WEBHOOK:
            incomplete = true;
            break;
        case AUTHZ_MODE_RBAC: {
            _cleanup_json_ json_t *r1 = NULL, *r2 = NULL;
            _cleanup_free_ char *eval = NULL;
            int k = rbac_rules_for(rr->srv->rbac, rr->authz_user, ns, &r1, &r2, &eval);
            if (k < 0) {
                reply_errorf(rep, 500, "InternalError", "listing rules failed: %s", strerror(-k));
                return;
            }
            json_array_extend(res, r1);
            json_array_extend(nonres, r2);
            if (eval)
                json_array_append_new(errors, json_string(eval));
            break;
        }
        }
    }
    json_t *status = json_pack("{s:O, s:O, s:b}", "resourceRules", res, "nonResourceRules", nonres,
                               "incomplete", incomplete);
    /* utilerrors.NewAggregate: one error as is, several as [a, b]. */
    size_t ne = json_array_size(errors);
    if (status && ne == 1) {
        json_object_set(status, "evaluationError", json_array_get(errors, 0));
    } else if (status && ne > 1) {
        struct kos_buf b;
        kos_buf_init(&b, AUTHZ_MESSAGE_MAX);
        (void)kos_buf_append_str(&b, "[");
        for (size_t i = 0; i < ne; i++) {
            if (i > 0)
                (void)kos_buf_append_str(&b, ", ");
            (void)kos_buf_append_str(&b, json_string_value(json_array_get(errors, i)));
        }
        if (kos_buf_append_str(&b, "]") == 0)
            json_object_set_new(status, "evaluationError", json_string(b.data));
        kos_buf_free(&b);
    }
    answer(rr, obj, status, rep);
}

void handle_review(struct resource_request *rr, struct http_reply *rep)
{
    _cleanup_error_ struct kos_error *err = NULL;
    _cleanup_json_ json_t *obj = NULL;
    if (body_decode_object(rr->http, rep, &obj, &err) < 0 ||
        obj_check_type(obj, rr->kind, &err) < 0) {
        reply_error(rep, err);
        return;
    }
    const char *kind = rr->kind->kind;
    if (strstr(kind, "AccessReview"))
        access_review(rr, obj, rep);
    else if (strcmp(kind, "SelfSubjectRulesReview") == 0)
        rules_review(rr, obj, rep);
    else
        answer(rr, obj, json_pack("{s:o}", "userInfo", user_info(rr->user)), rep);
}

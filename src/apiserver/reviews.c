/* The self-subject reviews kubectl uses for `auth can-i` (access and rules reviews) and
 * `auth whoami`. They are answered at once for the requesting user and never stored. Until
 * the authorizers land every request is allowed, so the answers say so. */
#include <string.h>

#include "apiserver/objects.h"
#include "apiserver/resource.h"
#include "apiserver/respond.h"
#include "util/json_cleanup.h"

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
    if (strcmp(kind, "SelfSubjectAccessReview") == 0) {
        json_t *spec = json_object_get(obj, "spec");
        if (!json_is_object(json_object_get(spec, "resourceAttributes")) &&
            !json_is_object(json_object_get(spec, "nonResourceAttributes"))) {
            reply_errorf(rep, 422, "Invalid",
                         "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: "
                         "spec.resourceAttributes: Invalid value: \"null\": exactly one of "
                         "nonResourceAttributes or resourceAttributes must be specified");
            return;
        }
        answer(rr, obj,
               json_pack("{s:b, s:s}", "allowed", true, "reason",
                         "no authorizer is "
                         "configured: every request is allowed"),
               rep);
    } else if (strcmp(kind, "SelfSubjectRulesReview") == 0) {
        answer(rr, obj,
               json_pack("{s:[{s:[s], s:[s], s:[s]}], s:[{s:[s], s:[s]}], s:b}", "resourceRules",
                         "verbs", "*", "apiGroups", "*", "resources", "*", "nonResourceRules",
                         "verbs", "*", "nonResourceURLs", "*", "incomplete", false),
               rep);
    } else {
        answer(rr, obj, json_pack("{s:o}", "userInfo", user_info(rr->user)), rep);
    }
}

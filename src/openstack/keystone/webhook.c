#include "openstack/keystone/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

static int text(int code, const char *msg, int *status, char **out, size_t *out_len)
{
    char *s = strdup(msg);
    if (!s)
        return -ENOMEM;
    *status = code;
    *out_len = strlen(s);
    *out = s;
    return 0;
}

static int reply_json(int code, const json_t *v, int *status, char **out, size_t *out_len)
{
    char *s = kos_json_encode(v, out_len);
    if (!s)
        return -ENOMEM;
    *status = code;
    *out = s;
    return 0;
}

static json_t *string_array(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_string(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *user_json(const struct kos_user_info *u)
{
    json_t *extra = json_object();
    for (size_t i = 0; extra && i < u->nextra; i++)
        if (json_object_set_new(extra, u->extra[i].key,
                                string_array(u->extra[i].values, u->extra[i].nvalues)) < 0) {
            json_decref(extra);
            extra = NULL;
        }
    if (!extra)
        return NULL;
    return json_pack("{s:s,s:s,s:o,s:o}", "username", u->name ? u->name : "", "uid",
                     u->uid ? u->uid : "", "groups", string_array(u->groups, u->ngroups), "extra",
                     extra);
}

static int token_review(struct keystone_webhook *w, json_t *req, int *status, char **out,
                        size_t *out_len, char **note)
{
    const char *token = json_string_value(json_object_get(json_object_get(req, "spec"), "token"));
    if (!token)
        return text(400, "spec.token must be a string", status, out, out_len);
    if (!w->authn)
        return text(503, "no Keystone authenticator is configured", status, out, out_len);
    struct kos_user_info u = {0};
    _cleanup_error_ struct kos_error *err = NULL;
    int r = keystone_authenticate(w->authn, token, &u, NULL, &err);
    if (r < 0) {
        const char *why = err && err->message ? err->message : strerror(-r);
        if (note && asprintf(note, "token refused: %s", why) < 0)
            *note = NULL;
        json_t *st = json_pack("{s:b,s:{s:s,s:s,s:n,s:n},s:s}", "authenticated", 0, "user",
                               "username", "", "uid", "", "groups", "extra", "error", why);
        if (!st || json_object_set_new(req, "status", st) < 0)
            return -ENOMEM;
        return reply_json(401, req, status, out, out_len);
    }
    json_t *uj = user_json(&u);
    if (!uj || json_object_set_new(req, "status",
                                   json_pack("{s:b,s:o}", "authenticated", 1, "user", uj)) < 0) {
        kos_user_info_clear(&u);
        return -ENOMEM;
    }
    r = reply_json(200, req, status, out, out_len);
    /* Like k8s-keystone-auth: the answer is written, then the auth data is synchronised; a
     * sync failure is logged and does not undo the login. */
    if (r == 0 && w->sync_client) {
        _cleanup_error_ struct kos_error *serr = NULL;
        if (keystone_sync_user(keystone_authenticator_sync(w->authn), w->sync_client, &u, &serr) <
                0 &&
            note && !*note &&
            asprintf(note, "an error occurred during data synchronization: %s",
                     serr && serr->message ? serr->message : "failed") < 0)
            *note = NULL;
    }
    kos_user_info_clear(&u);
    return r;
}

static const char *field(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int bad_spec(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 400, "BadRequest", "malformed SubjectAccessReview: %s", what);
}

int keystone_webhook_parse_sar(const json_t *spec, bool v1, struct authz_attributes *attrs,
                               struct kos_user_info *user, struct kos_error **err)
{
    if (!json_is_object(spec))
        return bad_spec(err, "spec must be an object");
    struct kos_user_info u = {0};
    const json_t *name = json_object_get(spec, "user");
    const json_t *uid = json_object_get(spec, "uid");
    if ((name && !json_is_string(name)) || (uid && !json_is_string(uid)))
        return bad_spec(err, "spec.user and spec.uid must be strings");
    int r = 0;
    if (!(u.name = strdup(json_string_value(name) ? json_string_value(name) : "")) ||
        (uid && !(u.uid = strdup(json_string_value(uid)))))
        r = -ENOMEM;
    /* v1 names the list "groups", v1beta1 "group"; accept either. */
    const json_t *groups = json_object_get(spec, v1 ? "groups" : "group");
    if (!groups)
        groups = json_object_get(spec, v1 ? "group" : "groups");
    if (r == 0 && groups && !json_is_null(groups)) {
        size_t i;
        json_t *g;
        if (!json_is_array(groups))
            r = -EINVAL;
        else
            json_array_foreach(groups, i, g)
            {
                r = json_is_string(g) ? kos_user_info_add_group(&u, json_string_value(g)) : -EINVAL;
                if (r < 0)
                    break;
            }
    }
    const json_t *extra = json_object_get(spec, "extra");
    if (r == 0 && extra && !json_is_null(extra)) {
        const char *k;
        json_t *vals;
        if (!json_is_object(extra))
            r = -EINVAL;
        else
            json_object_foreach((json_t *)extra, k, vals)
            {
                size_t i;
                json_t *v;
                if (!json_is_array(vals)) {
                    r = -EINVAL;
                    break;
                }
                json_array_foreach(vals, i, v)
                {
                    r = json_is_string(v) ? kos_user_info_add_extra(&u, k, json_string_value(v))
                                          : -EINVAL;
                    if (r < 0)
                        break;
                }
                if (r < 0)
                    break;
            }
    }
    if (r < 0) {
        kos_user_info_clear(&u);
        if (r == -ENOMEM)
            return kos_error_set(err, 500, "InternalError", "out of memory");
        return bad_spec(err, r == -E2BIG ? "too many or too long groups or extra values"
                                         : "groups and extra must hold strings");
    }
    struct authz_attributes a = {0};
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    const json_t *na = json_object_get(spec, "nonResourceAttributes");
    if (json_is_object(ra)) {
        a.resource_request = true;
        a.verb = field(ra, "verb");
        a.namespace_ = field(ra, "namespace");
        a.api_group = field(ra, "group");
        a.api_version = field(ra, "version");
        a.resource = field(ra, "resource");
        a.subresource = field(ra, "subresource");
        a.name = field(ra, "name");
    } else if (json_is_object(na)) {
        a.verb = field(na, "verb");
        a.path = field(na, "path");
    } else {
        kos_user_info_clear(&u);
        return bad_spec(err, "unable to find attributes");
    }
    *attrs = a;
    *user = u;
    return 0;
}

static int subject_access_review(struct keystone_webhook *w, json_t *req, bool v1, int *status,
                                 char **out, size_t *out_len)
{
    struct authz_attributes attrs;
    struct kos_user_info u;
    _cleanup_error_ struct kos_error *err = NULL;
    int r = keystone_webhook_parse_sar(json_object_get(req, "spec"), v1, &attrs, &u, &err);
    if (r < 0)
        return text(err ? err->code : 400, err && err->message ? err->message : "bad request",
                    status, out, out_len);
    bool allowed = w->policy && keystone_policy_allows(w->policy, &u, &attrs);
    kos_user_info_clear(&u);
    json_object_del(req, "spec");
    json_t *st = allowed ? json_pack("{s:b}", "allowed", 1)
                         : json_pack("{s:b,s:s}", "allowed", 0, "reason", "No policy matched.");
    if (!st || json_object_set_new(req, "status", st) < 0)
        return -ENOMEM;
    return reply_json(200, req, status, out, out_len);
}

int keystone_webhook_handle(struct keystone_webhook *w, const char *body, size_t len, int *status,
                            char **out, size_t *out_len, char **note)
{
    if (note)
        *note = NULL;
    if (len > KEYSTONE_WEBHOOK_MAX_BODY)
        return text(413, "request body too large", status, out, out_len);
    _cleanup_json_ json_t *req = NULL;
    _cleanup_error_ struct kos_error *jerr = NULL;
    if (kos_json_decode(body, len, &req, &jerr) < 0 || !json_is_object(req))
        return text(400, jerr && jerr->message ? jerr->message : "the body must be a JSON object",
                    status, out, out_len);
    const char *api_version = json_string_value(json_object_get(req, "apiVersion"));
    const char *kind = json_string_value(json_object_get(req, "kind"));
    if (!api_version || !kind)
        return text(400, "apiVersion and kind must be strings", status, out, out_len);
    bool authn_v = strcmp(api_version, "authentication.k8s.io/v1") == 0 ||
                   strcmp(api_version, "authentication.k8s.io/v1beta1") == 0;
    bool authz_v = strcmp(api_version, "authorization.k8s.io/v1") == 0 ||
                   strcmp(api_version, "authorization.k8s.io/v1beta1") == 0;
    if (!authn_v && !authz_v) {
        char msg[256];
        snprintf(msg, sizeof(msg), "unknown apiVersion \"%.200s\"", api_version);
        return text(400, msg, status, out, out_len);
    }
    if (authn_v && strcmp(kind, "TokenReview") == 0)
        return token_review(w, req, status, out, out_len, note);
    if (authz_v && strcmp(kind, "SubjectAccessReview") == 0)
        return subject_access_review(w, req, strcmp(api_version, "authorization.k8s.io/v1") == 0,
                                     status, out, out_len);
    char msg[400];
    snprintf(msg, sizeof(msg), "unknown kind/apiVersion \"%.150s\" \"%.200s\"", kind, api_version);
    return text(400, msg, status, out, out_len);
}

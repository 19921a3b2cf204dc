#include "apiserver/authz/webhook.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ttl_cache.h"
#include "auth/webhook_client.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define REASON_MAX 4096 /* a webhook's reason text we keep */

struct authz_webhook {
    struct kos_webhook_client *client;
    struct kos_ttl_cache *cache;
    char api_version[64];
    bool v1beta1;
    int64_t authorized_ttl_ms;
    int64_t unauthorized_ttl_ms;
    atomic_uint_fast64_t requests;
};

struct cached_decision {
    int decision;
    char *reason;
};

static void cached_decision_free(void *p)
{
    struct cached_decision *d = p;
    free(d->reason);
    free(d);
}

static int cached_decision_copy(const void *value, void *out)
{
    const struct cached_decision *d = value;
    struct cached_decision *o = out;
    o->decision = d->decision;
    o->reason = d->reason ? strdup(d->reason) : NULL;
    return d->reason && !o->reason ? -ENOMEM : 0;
}

/* Sets key to s unless s is NULL or empty (the review's fields are omitempty). */
static int set_opt(json_t *obj, const char *key, const char *s)
{
    if (!s || !s[0])
        return 0;
    json_t *v = json_string(s);
    if (!v)
        return -EINVAL;
    return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

void *authz_webhook_spec(const struct authz_attributes *a, bool v1beta1)
{
    _cleanup_json_ json_t *spec = json_object();
    _cleanup_json_ json_t *attrs = json_object();
    if (!spec || !attrs)
        return NULL;
    int r = 0;
    if (a->resource_request) {
        if ((r = set_opt(attrs, "namespace", a->namespace_)) < 0 ||
            (r = set_opt(attrs, "verb", a->verb)) < 0 ||
            (r = set_opt(attrs, "group", a->api_group)) < 0 ||
            (r = set_opt(attrs, "version", a->api_version)) < 0 ||
            (r = set_opt(attrs, "resource", a->resource)) < 0 ||
            (r = set_opt(attrs, "subresource", a->subresource)) < 0 ||
            (r = set_opt(attrs, "name", a->name)) < 0)
            return NULL;
        json_object_set(spec, "resourceAttributes", attrs);
    } else {
        if ((r = set_opt(attrs, "path", a->path)) < 0 || (r = set_opt(attrs, "verb", a->verb)) < 0)
            return NULL;
        json_object_set(spec, "nonResourceAttributes", attrs);
    }
    const struct kos_user *u = a->user;
    if (u) {
        if (set_opt(spec, "user", u->name) < 0 || set_opt(spec, "uid", u->uid) < 0)
            return NULL;
        if (u->ngroups) {
            json_t *groups = json_array();
            /* v1beta1 spells the field "group" */
            if (!groups || json_object_set_new(spec, v1beta1 ? "group" : "groups", groups) < 0)
                return NULL;
            for (size_t i = 0; i < u->ngroups; i++) {
                json_t *g = json_string(u->groups[i]);
                if (!g || json_array_append_new(groups, g) < 0)
                    return NULL;
            }
        }
        if (u->nextra) {
            json_t *extra = json_object();
            if (!extra || json_object_set_new(spec, "extra", extra) < 0)
                return NULL;
            for (size_t i = 0; i < u->nextra; i++) {
                json_t *vals = json_array();
                if (!vals || json_object_set_new(extra, u->extra[i].key, vals) < 0)
                    return NULL;
                for (size_t j = 0; j < u->extra[i].nvalues; j++) {
                    json_t *v = json_string(u->extra[i].values[j]);
                    if (!v || json_array_append_new(vals, v) < 0)
                        return NULL;
                }
            }
        }
    }
    return TAKE_PTR(spec);
}

int authz_webhook_parse_response(const char *data, size_t len, char **reason,
                                 struct kos_error **err)
{
    _cleanup_json_ json_t *root = NULL;
    json_t *status = NULL;
    int r = kos_webhook_review_status(data, len, "SubjectAccessReview", &root, &status, err);
    if (r < 0)
        return r;
    json_t *allowed = json_object_get(status, "allowed");
    json_t *denied = json_object_get(status, "denied");
    json_t *why = json_object_get(status, "reason");
    if ((allowed && !json_is_boolean(allowed)) || (denied && !json_is_boolean(denied)) ||
        (why && !json_is_null(why) && !json_is_string(why)))
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: status.allowed/denied/reason of the wrong type");
    /* kube's types: allowed and denied together is a contradiction; allowed wins there, as
     * in kube's authorizer (it checks Allowed first). */
    int decision = json_is_true(allowed)  ? AUTHZ_ALLOW
                   : json_is_true(denied) ? AUTHZ_DENY
                                          : AUTHZ_NO_OPINION;
    if (reason) {
        *reason = NULL;
        const char *s = json_string_value(why);
        if (s && s[0]) {
            *reason = strndup(s, REASON_MAX);
            if (!*reason)
                return -ENOMEM;
        }
    }
    return decision;
}

static int set_reason(char **reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_reason(char **reason, const char *fmt, ...)
{
    if (!reason)
        return AUTHZ_NO_OPINION;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    *reason = s;
    return AUTHZ_NO_OPINION;
}

int authz_webhook_authorize(struct authz_webhook *w, const struct authz_attributes *attrs,
                            char **reason)
{
    if (reason)
        *reason = NULL;
    _cleanup_json_ json_t *spec = authz_webhook_spec(attrs, w->v1beta1);
    if (!spec)
        return set_reason(reason, "webhook: the request attributes are not valid UTF-8");
    size_t klen = 0;
    _cleanup_free_ char *key_text = kos_json_encode(spec, &klen);
    if (!key_text)
        return -ENOMEM;
    uint8_t key[KOS_TTL_CACHE_KEY];
    int r = kos_ttl_cache_key(w->cache, key_text, klen, key);
    if (r < 0)
        return r;
    struct cached_decision hit = {0};
    r = kos_ttl_cache_get(w->cache, key, cached_decision_copy, &hit);
    if (r < 0)
        return r;
    if (r == 1) {
        if (reason)
            *reason = hit.reason;
        else
            free(hit.reason);
        return hit.decision;
    }

    _cleanup_json_ json_t *review =
        json_pack("{s:s, s:s, s:{s:n}, s:O, s:{s:b}}", "apiVersion", w->api_version, "kind",
                  "SubjectAccessReview", "metadata", "creationTimestamp", "spec", spec, "status",
                  "allowed", false);
    if (!review)
        return -ENOMEM;
    size_t blen = 0;
    _cleanup_free_ char *body = kos_json_encode(review, &blen);
    if (!body)
        return -ENOMEM;
    atomic_fetch_add(&w->requests, 1);
    _cleanup_free_ char *resp = NULL;
    size_t rlen = 0;
    long status = 0;
    _cleanup_error_ struct kos_error *err = NULL;
    r = kos_webhook_post(w->client, body, blen, &resp, &rlen, &status, &err);
    if (r == -ENOMEM)
        return r;
    if (r < 0)
        return set_reason(reason, "webhook: %s", err && err->message ? err->message : "failed");
    if (status < 200 || status >= 300)
        return set_reason(reason, "webhook: %s answered HTTP %ld",
                          kos_webhook_client_server(w->client), status);
    char *why = NULL;
    int decision = authz_webhook_parse_response(resp, rlen, &why, &err);
    if (decision == -ENOMEM)
        return decision;
    if (decision < 0)
        return set_reason(reason, "webhook: %s", err && err->message ? err->message : "failed");
    struct cached_decision *d = calloc(1, sizeof(*d));
    if (d) {
        d->decision = decision;
        d->reason = why ? strdup(why) : NULL;
        kos_ttl_cache_put(w->cache, key, d,
                          decision == AUTHZ_ALLOW ? w->authorized_ttl_ms : w->unauthorized_ttl_ms);
    }
    if (reason)
        *reason = why;
    else
        free(why);
    return decision;
}

static int as_authorize(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return authz_webhook_authorize(ctx, attrs, reason);
}

struct authz_authorizer authz_webhook_as_authorizer(struct authz_webhook *w)
{
    return (struct authz_authorizer){.authorize = as_authorize, .ctx = w};
}

uint64_t authz_webhook_requests(const struct authz_webhook *w)
{
    return atomic_load(&((struct authz_webhook *)w)->requests);
}

void authz_webhook_free(struct authz_webhook *w)
{
    if (!w)
        return;
    kos_webhook_client_free(w->client);
    kos_ttl_cache_free(w->cache);
    free(w);
}

static void webhook_freep(struct authz_webhook **w)
{
    authz_webhook_free(*w);
}

int authz_webhook_new(const struct authz_webhook_options *opts, struct authz_webhook **ret,
                      struct kos_error **err)
{
    __attribute__((cleanup(webhook_freep))) struct authz_webhook *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    int r = kos_webhook_api_version("authorization-webhook-version", opts->version,
                                    "authorization.k8s.io", w->api_version, sizeof(w->api_version),
                                    &w->v1beta1, err);
    if (r < 0)
        return r;
    w->authorized_ttl_ms = opts->authorized_ttl_ms < 0 ? AUTHZ_WEBHOOK_DEFAULT_AUTHORIZED_TTL_MS
                                                       : opts->authorized_ttl_ms;
    w->unauthorized_ttl_ms = opts->unauthorized_ttl_ms < 0
                                 ? AUTHZ_WEBHOOK_DEFAULT_UNAUTHORIZED_TTL_MS
                                 : opts->unauthorized_ttl_ms;
    r = kos_ttl_cache_new(AUTHZ_WEBHOOK_CACHE_ENTRIES, cached_decision_free, opts->now_ms,
                          &w->cache);
    if (r < 0)
        return r;
    r = kos_webhook_client_from_file(opts->config_file, opts->timeout_ms, &w->client, err);
    if (r < 0)
        return r;
    *ret = TAKE_PTR(w);
    return 0;
}

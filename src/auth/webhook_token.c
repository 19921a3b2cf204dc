#include "auth/webhook_token.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth/ttl_cache.h"
#include "auth/webhook_client.h"
#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

struct webhook_token {
    struct kos_webhook_client *client;
    struct kos_ttl_cache *cache;
    char api_version[64];
    char **audiences;
    size_t naudiences;
    int64_t ttl_ms;
    atomic_uint_fast64_t requests;
};

struct cached_answer {
    bool authenticated;
    struct kos_user_info user;
};

static void cached_answer_free(void *p)
{
    struct cached_answer *a = p;
    kos_user_info_clear(&a->user);
    free(a);
}

static int cached_answer_copy(const void *value, void *out)
{
    const struct cached_answer *a = value;
    struct cached_answer *o = out;
    o->authenticated = a->authenticated;
    if (!a->authenticated)
        return 0;
    return kos_user_info_copy(&a->user, &o->user);
}

static int unauthorized(struct kos_error **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int unauthorized(struct kos_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kos_error_setv(err, 401, "Unauthorized", fmt, ap);
    va_end(ap);
    return r < 0 ? r : -EACCES;
}

int kos_tokenreview_request(const char *api_version, const char *token,
                            const char *const *audiences, size_t naudiences, char **ret,
                            size_t *ret_len)
{
    _cleanup_json_ json_t *auds = json_array();
    if (!auds)
        return -ENOMEM;
    for (size_t i = 0; i < naudiences; i++)
        if (json_array_append_new(auds, json_string(audiences[i])) < 0)
            return -ENOMEM;
    json_t *spec = json_pack("{s:s}", "token", token);
    if (!spec)
        return -EINVAL; /* not UTF-8 */
    if (naudiences > 0)
        json_object_set(spec, "audiences", auds);
    _cleanup_json_ json_t *req =
        json_pack("{s:s, s:s, s:{s:n}, s:o, s:{s:{}}}", "apiVersion", api_version, "kind",
                  "TokenReview", "metadata", "creationTimestamp", "spec", spec, "status", "user");
    if (!req)
        return -ENOMEM;
    size_t n = 0;
    char *s = kos_json_encode(req, &n);
    if (!s)
        return -ENOMEM;
    *ret = s;
    *ret_len = n;
    return 0;
}

static int bounded_string(const json_t *v, const char *field, const char **ret,
                          struct kos_error **err)
{
    if (!v || json_is_null(v)) {
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return kos_error_set(err, 500, "InternalError", "webhook response: %s is not a string",
                             field);
    if (json_string_length(v) > KOS_USER_MAX_STRING ||
        strlen(json_string_value(v)) != json_string_length(v))
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: %s is too long or holds NUL", field);
    *ret = json_string_value(v);
    return 0;
}

int kos_tokenreview_parse_user(const void *user_json, struct kos_user_info *ret,
                               struct kos_error **err)
{
    const json_t *uj = user_json;
    if (!json_is_object(uj))
        return kos_error_set(err, 500, "InternalError", "webhook response: user is not an object");
    _cleanup_(kos_user_info_clear) struct kos_user_info u = {0};
    const char *name = NULL, *uid = NULL;
    int r = bounded_string(json_object_get(uj, "username"), "user.username", &name, err);
    if (r < 0 || (r = bounded_string(json_object_get(uj, "uid"), "user.uid", &uid, err)) < 0)
        return r;
    if (!(u.name = strdup(name ? name : "")))
        return -ENOMEM;
    if (uid && uid[0] && !(u.uid = strdup(uid)))
        return -ENOMEM;
    json_t *groups = json_object_get(uj, "groups");
    if (groups && !json_is_null(groups)) {
        if (!json_is_array(groups))
            return kos_error_set(err, 500, "InternalError",
                                 "webhook response: user.groups is not a list");
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
        {
            const char *s = NULL;
            if ((r = bounded_string(g, "user.groups[]", &s, err)) < 0)
                return r;
            if (!s)
                continue;
            r = kos_user_info_add_group(&u, s);
            if (r == -E2BIG)
                return kos_error_set(err, 500, "InternalError",
                                     "webhook response: more than %d groups", KOS_USER_MAX_GROUPS);
            if (r < 0)
                return r;
        }
    }
    json_t *extra = json_object_get(uj, "extra");
    if (extra && !json_is_null(extra)) {
        if (!json_is_object(extra))
            return kos_error_set(err, 500, "InternalError",
                                 "webhook response: user.extra is not a map");
        const char *key;
        json_t *vals;
        json_object_foreach(extra, key, vals)
        {
            if (strlen(key) > KOS_USER_MAX_STRING)
                return kos_error_set(err, 500, "InternalError",
                                     "webhook response: user.extra key too long");
            if (!json_is_array(vals) && !json_is_null(vals))
                return kos_error_set(err, 500, "InternalError",
                                     "webhook response: user.extra[%s] is not a list", key);
            size_t i;
            json_t *v;
            json_array_foreach(vals, i, v)
            {
                const char *s = NULL;
                if ((r = bounded_string(v, "user.extra[]", &s, err)) < 0)
                    return r;
                if (!s)
                    continue;
                r = kos_user_info_add_extra(&u, key, s);
                if (r == -E2BIG)
                    return kos_error_set(err, 500, "InternalError",
                                         "webhook response: user.extra is too large");
                if (r < 0)
                    return r;
            }
        }
    }
    *ret = u;
    memset(&u, 0, sizeof(u));
    return 0;
}

int kos_tokenreview_parse_response(const char *data, size_t len, const char *const *audiences,
                                   size_t naudiences, struct kos_user_info *user,
                                   struct kos_error **err)
{
    _cleanup_json_ json_t *root = NULL;
    json_t *status = NULL;
    int rv = kos_webhook_review_status(data, len, "TokenReview", &root, &status, err);
    if (rv < 0)
        return rv;
    json_t *authn = json_object_get(status, "authenticated");
    if (authn && !json_is_boolean(authn))
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: status.authenticated is not a boolean");
    if (!json_is_true(authn)) {
        /* kube: an error text turns "not authenticated" into an error (not cached). */
        const char *etext = NULL;
        int r = bounded_string(json_object_get(status, "error"), "status.error", &etext, err);
        if (r < 0)
            return r;
        if (etext && etext[0])
            return kos_error_set(err, 401, "Unauthorized", "%s", etext);
        return 0;
    }
    json_t *auds = json_object_get(status, "audiences");
    if (naudiences > 0 && json_array_size(auds) > 0) {
        bool match = false;
        size_t i;
        json_t *a;
        json_array_foreach(auds, i, a)
        {
            for (size_t j = 0; j < naudiences && json_is_string(a); j++)
                if (strcmp(json_string_value(a), audiences[j]) == 0)
                    match = true;
        }
        if (!match)
            return 0;
    }
    _cleanup_(kos_user_info_clear) struct kos_user_info u = {0};
    int r = kos_tokenreview_parse_user(json_object_get(status, "user"), &u, err);
    if (r < 0)
        return r;
    if (!u.name[0])
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: authenticated without a username");
    *user = u;
    memset(&u, 0, sizeof(u));
    return 1;
}

static int webhook_authenticate(void *ctx, const char *token, struct kos_user_info *user,
                                struct kos_error **err)
{
    struct webhook_token *w = ctx;
    size_t tlen = strlen(token);
    if (tlen == 0 || tlen > KOS_WEBHOOK_TOKEN_MAX)
        return 0;
    uint8_t key[KOS_TTL_CACHE_KEY];
    int r = kos_ttl_cache_key(w->cache, token, tlen, key);
    if (r < 0)
        return r;
    struct cached_answer hit = {0};
    r = kos_ttl_cache_get(w->cache, key, cached_answer_copy, &hit);
    if (r < 0)
        return r;
    if (r == 1) {
        if (!hit.authenticated)
            return 0;
        *user = hit.user;
        return 1;
    }

    _cleanup_free_ char *body = NULL;
    size_t blen = 0;
    r = kos_tokenreview_request(w->api_version, token, (const char *const *)w->audiences,
                                w->naudiences, &body, &blen);
    if (r == -EINVAL)
        return 0; /* not UTF-8: no webhook token */
    if (r < 0)
        return r;
    atomic_fetch_add(&w->requests, 1);
    _cleanup_free_ char *resp = NULL;
    size_t rlen = 0;
    long status = 0;
    _cleanup_error_ struct kos_error *perr = NULL;
    r = kos_webhook_post(w->client, body, blen, &resp, &rlen, &status, &perr);
    explicit_bzero(body, blen);
    if (r < 0)
        return unauthorized(err, "token webhook: %s", perr && perr->message ? perr->message : "");
    if (status < 200 || status >= 300)
        return unauthorized(err, "token webhook: %s answered HTTP %ld",
                            kos_webhook_client_server(w->client), status);
    struct kos_user_info u = {0};
    r = kos_tokenreview_parse_response(resp, rlen, (const char *const *)w->audiences, w->naudiences,
                                       &u, &perr);
    if (r < 0)
        return unauthorized(err, "token webhook: %s",
                            perr && perr->message ? perr->message : "bad response");
    struct cached_answer *a = calloc(1, sizeof(*a));
    if (a) {
        a->authenticated = r == 1;
        if (r == 1 && kos_user_info_copy(&u, &a->user) < 0) {
            free(a);
            a = NULL;
        }
    }
    if (a)
        kos_ttl_cache_put(w->cache, key, a, w->ttl_ms);
    if (r == 0)
        return 0;
    *user = u;
    return 1;
}

static void webhook_free(void *ctx)
{
    struct webhook_token *w = ctx;
    if (!w)
        return;
    kos_webhook_client_free(w->client);
    kos_ttl_cache_free(w->cache);
    for (size_t i = 0; i < w->naudiences; i++)
        free(w->audiences[i]);
    free(w->audiences);
    free(w);
}

static void webhook_freep(struct webhook_token **w)
{
    webhook_free(*w);
}

int kos_webhook_token_new(const struct kos_webhook_token_options *opts,
                          struct kos_token_authenticator *ret, struct kos_error **err)
{
    __attribute__((cleanup(webhook_freep))) struct webhook_token *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    int rv = kos_webhook_api_version("authentication-token-webhook-version", opts->version,
                                     "authentication.k8s.io", w->api_version,
                                     sizeof(w->api_version), NULL, err);
    if (rv < 0)
        return rv;
    w->ttl_ms = opts->cache_ttl_ms < 0 ? KOS_WEBHOOK_TOKEN_DEFAULT_TTL_MS : opts->cache_ttl_ms;
    if (opts->naudiences) {
        w->audiences = calloc(opts->naudiences, sizeof(*w->audiences));
        if (!w->audiences)
            return -ENOMEM;
        for (size_t i = 0; i < opts->naudiences; i++) {
            if (!(w->audiences[i] = strdup(opts->audiences[i])))
                return -ENOMEM;
            w->naudiences++;
        }
    }
    int r =
        kos_ttl_cache_new(KOS_WEBHOOK_CACHE_ENTRIES, cached_answer_free, opts->now_ms, &w->cache);
    if (r < 0)
        return r;
    r = kos_webhook_client_from_file(opts->config_file, opts->timeout_ms, &w->client, err);
    if (r < 0)
        return r;
    *ret = (struct kos_token_authenticator){.name = "webhook",
                                            .authenticate = webhook_authenticate,
                                            .free = webhook_free,
                                            .ctx = TAKE_PTR(w)};
    return 0;
}

uint64_t kos_webhook_token_requests(const struct kos_token_authenticator *a)
{
    const struct webhook_token *w = a->ctx;
    return atomic_load(&((struct webhook_token *)w)->requests);
}

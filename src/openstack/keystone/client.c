#include "openstack/keystone/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define CONNECT_TIMEOUT_MS 5000
#define MAX_TOKEN_LEN      8192
#define MAX_URL_LEN        2048

struct keystone_client {
    char *base; /* ".../v3", no trailing slash */
    char *ca_file;
    long timeout_ms;
};

void keystone_client_free(struct keystone_client *c)
{
    if (!c)
        return;
    free(c->base);
    free(c->ca_file);
    free(c);
}

const char *keystone_client_url(const struct keystone_client *c)
{
    return c->base;
}

/* curl_global_init is not thread-safe; the first client (made before serving) runs it once
 * (curl counts its own init calls, so the API client's doing the same is harmless). */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

int keystone_client_new(const struct keystone_client_options *o, struct keystone_client **ret,
                        struct kos_error **err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return kos_error_set(err, 500, "InternalError", "libcurl initialisation failed");
    if (!o->url ||
        (!kos_str_has_prefix(o->url, "http://") && !kos_str_has_prefix(o->url, "https://")))
        return kos_error_set(err, 400, "BadRequest",
                             "the Keystone URL must start with http:// or https://");
    size_t n = strlen(o->url);
    if (n > MAX_URL_LEN - 64)
        return kos_error_set(err, 400, "BadRequest", "the Keystone URL is too long");
    while (n > 0 && o->url[n - 1] == '/')
        n--;
    struct kos_buf b;
    kos_buf_init(&b, MAX_URL_LEN);
    int r = kos_buf_append(&b, o->url, n);
    /* gophercloud accepts the auth URL with or without its version suffix. */
    if (r == 0 && !(n >= 3 && memcmp(o->url + n - 3, "/v3", 3) == 0))
        r = kos_buf_append_str(&b, "/v3");
    if (r < 0) {
        kos_buf_free(&b);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    struct keystone_client *c = calloc(1, sizeof(*c));
    if (!c) {
        kos_buf_free(&b);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    c->base = kos_buf_steal(&b, NULL);
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    if (o->ca_file && !(c->ca_file = strdup(o->ca_file))) {
        keystone_client_free(c);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    *ret = c;
    return 0;
}

/* A token goes into a header: refuse anything that could break out of it. */
static bool token_ok(const char *t)
{
    size_t n = 0;
    for (; t[n]; n++)
        if (n >= MAX_TOKEN_LEN || (unsigned char)t[n] <= 0x20 || (unsigned char)t[n] >= 0x7f)
            return false;
    return n > 0;
}

struct response {
    struct kos_buf body;
    char *subject_token;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct response *resp = ud;
    return kos_buf_append(&resp->body, p, size * nmemb) < 0 ? 0 : size * nmemb;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct response *resp = ud;
    size_t n = size * nmemb;
    static const char name[] = "x-subject-token:";
    if (n > sizeof(name) - 1 && n < MAX_TOKEN_LEN + 64 &&
        strncasecmp(p, name, sizeof(name) - 1) == 0) {
        const char *v = p + sizeof(name) - 1;
        size_t len = n - (sizeof(name) - 1);
        while (len > 0 && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
            len--;
        free(resp->subject_token);
        resp->subject_token = kos_strndup(v, len);
    }
    return n;
}

/* One request; returns the HTTP status (>0) or a negative errno with err set. */
static long do_request(struct keystone_client *c, const char *method, const char *path,
                       const char *auth_token, const char *subject_token, const char *body,
                       struct response *resp, struct kos_error **err)
{
    char url[MAX_URL_LEN + 512];
    int n = snprintf(url, sizeof(url), "%s%s", c->base, path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return kos_error_set(err, 400, "BadRequest", "Keystone request URL too long");
    CURL *h = curl_easy_init();
    if (!h)
        return kos_error_set(err, 500, "InternalError", "cannot create a curl handle");
    struct curl_slist *hdrs = NULL, *t;
    char line[MAX_TOKEN_LEN + 64];
    bool ok = true;
#define ADD_HEADER(...)                                                                            \
    do {                                                                                           \
        snprintf(line, sizeof(line), __VA_ARGS__);                                                 \
        t = curl_slist_append(hdrs, line);                                                         \
        if (!t)                                                                                    \
            ok = false;                                                                            \
        else                                                                                       \
            hdrs = t;                                                                              \
    } while (0)
    ADD_HEADER("Accept: application/json");
    if (body)
        ADD_HEADER("Content-Type: application/json");
    if (auth_token)
        ADD_HEADER("X-Auth-Token: %s", auth_token);
    if (subject_token)
        ADD_HEADER("X-Subject-Token: %s", subject_token);
#undef ADD_HEADER
    explicit_bzero(line, sizeof(line));
    if (!ok) {
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        return kos_error_set(err, 500, "InternalError", "out of memory");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kos-keystone");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(
        h, CURLOPT_CONNECTTIMEOUT_MS,
        (long)(c->timeout_ms < CONNECT_TIMEOUT_MS ? c->timeout_ms : CONNECT_TIMEOUT_MS));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs); /* holds tokens: gone before we return */
    curl_easy_cleanup(h);
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        kos_error_set(err, 504, "Timeout", "Keystone at %s did not answer within %ld ms", c->base,
                      c->timeout_ms);
        return -ETIMEDOUT;
    }
    if (cc == CURLE_WRITE_ERROR) {
        kos_error_set(err, 500, "InternalError", "Keystone's answer is larger than %u bytes",
                      KEYSTONE_MAX_BODY);
        return -EIO;
    }
    if (cc != CURLE_OK) {
        kos_error_set(err, 503, "ServiceUnavailable", "Keystone at %s is unreachable: %s", c->base,
                      curl_easy_strerror(cc));
        return -EIO;
    }
    return status;
}

static void response_free(struct response *resp)
{
    kos_buf_free(&resp->body);
    if (resp->subject_token) {
        explicit_bzero(resp->subject_token, strlen(resp->subject_token));
        free(resp->subject_token);
    }
}

/* Maps a non-2xx Keystone status to our error. */
static int status_error(long status, const char *what, struct kos_error **err)
{
    if (status == 401 || status == 403 || status == 404) {
        kos_error_set(err, 401, "Unauthorized", "Keystone refused the %s (HTTP %ld)", what, status);
        return -EACCES;
    }
    if (status == 400) {
        kos_error_set(err, 400, "BadRequest", "Keystone refused the %s request (HTTP 400)", what);
        return -EINVAL;
    }
    kos_error_set(err, 503, "ServiceUnavailable", "Keystone failed on the %s (HTTP %ld)", what,
                  status);
    return -EIO;
}

int keystone_client_validate(struct keystone_client *c, const char *token,
                             struct keystone_token *ret, struct kos_error **err)
{
    if (!token || !token_ok(token)) {
        kos_error_set(err, 401, "Unauthorized", "the token is not a Keystone token");
        return -EACCES;
    }
    struct response resp = {0};
    kos_buf_init(&resp.body, KEYSTONE_MAX_BODY);
    long st = do_request(c, "GET", "/auth/tokens", token, token, NULL, &resp, err);
    int r;
    if (st < 0)
        r = (int)st;
    else if (st != 200)
        r = status_error(st, "token", err);
    else {
        r = keystone_token_parse(resp.body.data ? resp.body.data : "", resp.body.len, ret, err);
        if (r < 0)
            r = -EIO;
    }
    response_free(&resp);
    return r;
}

int keystone_client_user_groups(struct keystone_client *c, const char *token, const char *user_id,
                                char ***ret, size_t *ret_n, struct kos_error **err)
{
    if (!token || !token_ok(token)) {
        kos_error_set(err, 401, "Unauthorized", "the token is not a Keystone token");
        return -EACCES;
    }
    char *esc = curl_easy_escape(NULL, user_id, 0);
    if (!esc)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    char path[KEYSTONE_MAX_STRING * 3 + 64];
    snprintf(path, sizeof(path), "/users/%s/groups", esc);
    curl_free(esc);
    struct response resp = {0};
    kos_buf_init(&resp.body, KEYSTONE_MAX_BODY);
    long st = do_request(c, "GET", path, token, NULL, NULL, &resp, err);
    int r;
    if (st < 0)
        r = (int)st;
    else if (st != 200)
        r = status_error(st, "group list", err);
    else {
        r = keystone_groups_parse(resp.body.data ? resp.body.data : "", resp.body.len, ret, ret_n,
                                  err);
        if (r < 0)
            r = -EIO;
    }
    response_free(&resp);
    return r;
}

static int set_str(json_t *o, const char *k, const char *v)
{
    return v && *v ? json_object_set_new(o, k, json_string(v)) : 0;
}

static json_t *domain_ref(const char *id, const char *name)
{
    json_t *d = json_object();
    if (d && (set_str(d, "id", id) < 0 || set_str(d, "name", name) < 0)) {
        json_decref(d);
        return NULL;
    }
    return d;
}

static json_t *build_auth(const struct keystone_credentials *cr)
{
    _cleanup_json_ json_t *identity = json_object();
    if (!identity)
        return NULL;
    if (cr->password) {
        json_t *user = json_object();
        if (!user || json_object_set_new(identity, "methods", json_pack("[s]", "password")) < 0 ||
            json_object_set_new(identity, "password", json_pack("{s:o}", "user", user)) < 0)
            return NULL;
        if (set_str(user, "id", cr->user_id) < 0 || set_str(user, "name", cr->user_name) < 0 ||
            json_object_set_new(user, "password", json_string(cr->password)) < 0)
            return NULL;
        if (!(cr->user_id && *cr->user_id) &&
            json_object_set_new(user, "domain",
                                domain_ref(cr->user_domain_id, cr->user_domain_name)) < 0)
            return NULL;
    } else {
        if (json_object_set_new(identity, "methods", json_pack("[s]", "token")) < 0 ||
            json_object_set_new(identity, "token", json_pack("{s:s}", "id", cr->token)) < 0)
            return NULL;
    }
    json_t *auth = json_pack("{s:O}", "identity", identity);
    if (!auth)
        return NULL;
    json_t *project = NULL;
    if (cr->project_id && *cr->project_id)
        project = json_pack("{s:s}", "id", cr->project_id);
    else if (cr->project_name && *cr->project_name) {
        project = json_pack("{s:s}", "name", cr->project_name);
        if (project &&
            json_object_set_new(project, "domain",
                                domain_ref(cr->project_domain_id, cr->project_domain_name)) < 0) {
            json_decref(project);
            project = NULL;
        }
        if (!project) {
            json_decref(auth);
            return NULL;
        }
    }
    if (project && json_object_set_new(auth, "scope", json_pack("{s:o}", "project", project)) < 0) {
        json_decref(auth);
        return NULL;
    }
    return json_pack("{s:o}", "auth", auth);
}

int keystone_client_issue(struct keystone_client *c, const struct keystone_credentials *cred,
                          char **ret_token, struct keystone_token *ret, struct kos_error **err)
{
    if (!cred->password && !(cred->token && token_ok(cred->token)))
        return kos_error_set(err, 400, "BadRequest", "neither a password nor a token was given");
    if (cred->password && !(cred->user_id && *cred->user_id) &&
        !(cred->user_name && *cred->user_name))
        return kos_error_set(err, 400, "BadRequest", "a user name or user id is required");
    _cleanup_json_ json_t *req = build_auth(cred);
    _cleanup_free_ char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!body)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    struct response resp = {0};
    kos_buf_init(&resp.body, KEYSTONE_MAX_BODY);
    long st = do_request(c, "POST", "/auth/tokens", NULL, NULL, body, &resp, err);
    explicit_bzero(body, strlen(body));
    int r;
    if (st < 0)
        r = (int)st;
    else if (st != 201 && st != 200)
        r = status_error(st, "credentials", err);
    else if (!resp.subject_token || !token_ok(resp.subject_token))
        r = kos_error_set(err, 500, "InternalError",
                          "Keystone issued no token (no X-Subject-Token header)");
    else {
        struct keystone_token t;
        r = keystone_token_parse(resp.body.data ? resp.body.data : "", resp.body.len, &t, err);
        if (r == 0) {
            *ret_token = TAKE_PTR(resp.subject_token);
            *ret = t;
        } else
            r = -EIO;
    }
    response_free(&resp);
    return r;
}

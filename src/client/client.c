/* The API client: one libcurl easy handle per request in flight, taken from a small pool so
 * that keep-alive connections are reused; watches get a handle and a multi of their own so
 * that kos_watch_cancel can wake them (curl_multi_wakeup) from any thread. */
#include "client/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

/* Idle handles kept, each with its keep-alive connection: the scheduler's 32 workers and 16
 * event writers share one client, and a handle dropped for lack of room cost a new TLS
 * handshake (and a parse of the client key) on the next request. */
#define POOL_MAX              64
#define DEFAULT_TIMEOUT_MS    30000
#define CONNECT_TIMEOUT_MS    10000
#define PATH_MAX_LEN          2048
#define QUERY_MAX_LEN         (64u * 1024)
#define POLL_SLICE_MS         1000
#define WATCH_SILENCE_SLACK_S 60

struct kos_client {
    char *server;
    char *bearer_token;
    char *ca_file;
    char *cert_file;
    char *key_file;
    char *ca_pem;
    char *cert_pem;
    char *key_pem;
    char *user_agent;
    bool insecure;
    long timeout_ms;
    struct store *local_store;
    kos_client_local_fn local_request;
    void *local_request_ctx;
    pthread_mutex_t lock;
    CURL *idle[POOL_MAX];
    size_t nidle;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

static int dup_opt(const char *s, char **ret)
{
    *ret = NULL;
    if (!s || !s[0])
        return 0;
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int kos_client_new(const struct kos_client_config *cfg, struct kos_client **ret)
{
    if (!cfg || !cfg->server || !cfg->server[0])
        return -EINVAL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return -EIO;
    struct kos_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    size_t n = strlen(cfg->server);
    while (n > 0 && cfg->server[n - 1] == '/')
        n--; /* paths start with '/' */
    c->server = kos_strndup(cfg->server, n);
    c->insecure = cfg->insecure_skip_tls_verify;
    c->local_store = cfg->local_store;
    c->local_request = cfg->local_request;
    c->local_request_ctx = cfg->local_request_ctx;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    if (!c->server || dup_opt(cfg->bearer_token, &c->bearer_token) < 0 ||
        dup_opt(cfg->ca_file, &c->ca_file) < 0 || dup_opt(cfg->cert_file, &c->cert_file) < 0 ||
        dup_opt(cfg->key_file, &c->key_file) < 0 || dup_opt(cfg->ca_pem, &c->ca_pem) < 0 ||
        dup_opt(cfg->cert_pem, &c->cert_pem) < 0 || dup_opt(cfg->key_pem, &c->key_pem) < 0 ||
        dup_opt(cfg->user_agent ? cfg->user_agent : "kos", &c->user_agent) < 0) {
        kos_client_free(c);
        return -ENOMEM;
    }
    *ret = c;
    return 0;
}

struct store *kos_client_local_store(const struct kos_client *c)
{
    return c->local_store;
}

void kos_client_free(struct kos_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->server);
    free(c->bearer_token);
    free(c->ca_file);
    free(c->cert_file);
    free(c->key_file);
    free(c->ca_pem);
    free(c->cert_pem);
    free(c->key_pem);
    free(c->user_agent);
    free(c);
}

/* A handle whose options are all reset; its connection cache (keep-alive) survives. */
static CURL *take_handle(struct kos_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    if (h)
        curl_easy_reset(h);
    else
        h = curl_easy_init();
    return h;
}

static void give_handle(struct kos_client *c, CURL *h)
{
    pthread_mutex_lock(&c->lock);
    if (c->nidle < POOL_MAX) {
        c->idle[c->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (h)
        curl_easy_cleanup(h);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct kos_buf *b = ctx;
    size_t n = size * nmemb;
    return kos_buf_append(b, data, n) < 0 ? 0 : n;
}

/* Options every request shares: TLS, identity, HTTP/1.1 with keep-alive. */
static int setup_handle(struct kos_client *c, CURL *h, const char *url, struct curl_slist **hdrs,
                        const char *content_type)
{
    struct curl_slist *l = NULL, *t;
#define ADD_HEADER(s)                                                                              \
    do {                                                                                           \
        t = curl_slist_append(l, (s));                                                             \
        if (!t) {                                                                                  \
            curl_slist_free_all(l);                                                                \
            return -ENOMEM;                                                                        \
        }                                                                                          \
        l = t;                                                                                     \
    } while (0)
    ADD_HEADER("Accept: application/json");
    ADD_HEADER("Expect:"); /* no 100-continue round trip */
    if (content_type) {
        char ct[160];
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        ADD_HEADER(ct);
    }
    if (c->bearer_token) {
        _cleanup_buf_ struct kos_buf auth;
        kos_buf_init(&auth, 16 * 1024);
        if (kos_buf_printf(&auth, "Authorization: Bearer %s", c->bearer_token) < 0) {
            curl_slist_free_all(l);
            return -ENOMEM;
        }
        ADD_HEADER(auth.data);
    }
#undef ADD_HEADER
    *hdrs = l;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
    if (c->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
    /* NOCOPY: the client owns the PEM text until kos_client_free, after every request. */
    struct curl_blob blob = {.flags = CURL_BLOB_NOCOPY};
    if (c->ca_pem) {
        blob.data = c->ca_pem;
        blob.len = strlen(c->ca_pem);
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (c->cert_pem) {
        blob.data = c->cert_pem;
        blob.len = strlen(c->cert_pem);
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (c->key_pem) {
        blob.data = c->key_pem;
        blob.len = strlen(c->key_pem);
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (c->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return 0;
}

static int transport_error(struct kos_error **err, CURLcode rc, const char *url)
{
    int r = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    kos_error_set(err, rc == CURLE_OPERATION_TIMEDOUT ? 504 : 503,
                  rc == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "ServiceUnavailable", "%s: %s", url,
                  curl_easy_strerror(rc));
    return r;
}

/* Streams never end on their own: those stay on HTTP, where the caller can hang up. */
static bool streams(const char *path_query)
{
    const char *q = strchr(path_query, '?');
    return q && (strstr(q, "watch=") || strstr(q, "follow="));
}

/* A request's status and raw answer (resp, initialized by the caller); 0, or a negative errno
 * when no answer came. */
static int request_raw(struct kos_client *c, const char *method, const char *path_query,
                       const char *content_type, const char *body, size_t len, long *ret_status,
                       struct kos_buf *resp, struct kos_error **err)
{
    if (c->local_request && path_query[0] == '/' && !streams(path_query)) {
        long status = 0;
        int r =
            c->local_request(c->local_request_ctx, method, path_query, body ? content_type : NULL,
                             c->user_agent, body, body ? len : 0, &status, resp);
        if (r < 0) {
            /* as a transport failure over HTTP: no answer */
            kos_error_set(err, 503, "ServiceUnavailable", "%s %s in process: %s", method,
                          path_query, strerror(-r));
            return -EIO;
        }
        *ret_status = status;
        return 0;
    }
    _cleanup_buf_ struct kos_buf url;
    kos_buf_init(&url, PATH_MAX_LEN + QUERY_MAX_LEN + 1024);
    if (kos_buf_append_str(&url, c->server) < 0 || kos_buf_append_str(&url, path_query) < 0)
        return kos_error_set(err, 400, "BadRequest", "request URL too long");
    CURL *h = take_handle(c);
    if (!h)
        return -ENOMEM;
    struct curl_slist *hdrs = NULL;
    int r = setup_handle(c, h, url.data, &hdrs, body ? content_type : NULL);
    if (r < 0) {
        curl_easy_cleanup(h);
        return r;
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        /* A handle that failed mid-transfer may hold a broken connection: drop it. */
        curl_easy_cleanup(h);
        return transport_error(err, rc, url.data);
    }
    give_handle(c, h);
    *ret_status = status;
    return 0;
}

/* The answer as JSON (NULL when empty or not JSON). */
static json_t *reply_doc(const struct kos_buf *resp)
{
    json_t *doc = NULL;
    if (resp->len > 0 && kos_json_decode(resp->data, resp->len, &doc, NULL) < 0)
        doc = NULL;
    return doc;
}

int kos_client_request(struct kos_client *c, const char *method, const char *path_query,
                       const char *content_type, const char *body, size_t len, long *ret_status,
                       json_t **ret_body, struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf resp;
    kos_buf_init(&resp, KOS_CLIENT_MAX_RESPONSE);
    int r = request_raw(c, method, path_query, content_type, body, len, ret_status, &resp, err);
    if (r == 0 && ret_body)
        *ret_body = reply_doc(&resp);
    return r;
}

/* The error of a non-2xx answer, from its Status body when there is one. */
static int status_error(long status, const json_t *body, struct kos_error **err)
{
    const char *reason = json_string_value(json_object_get(body, "reason"));
    const char *message = json_string_value(json_object_get(body, "message"));
    int code = (int)status;
    if (!reason || !reason[0])
        reason = kos_error_reason_for_code(code);
    kos_error_set(err, code, reason, "%s", message ? message : reason);
    if (err && *err && json_is_object(json_object_get(body, "details"))) {
        json_decref((*err)->details);
        (*err)->details = json_deep_copy(json_object_get(body, "details"));
    }
    if (code == 409 && strcmp(reason, "AlreadyExists") != 0)
        return -ECANCELED;
    return kos_error_errno_for_code(code);
}

/* A request with an encoded body (or none: data NULL), its answer as do_json's. */
static int do_bytes(struct kos_client *c, const char *method, const char *path_query,
                    const char *content_type, const char *data, size_t len, json_t **ret,
                    struct kos_error **err)
{
    long status = 0;
    _cleanup_buf_ struct kos_buf raw;
    kos_buf_init(&raw, KOS_CLIENT_MAX_RESPONSE);
    int r = request_raw(c, method, path_query, content_type, data, len, &status, &raw, err);
    if (r < 0)
        return r;
    /* the answer is parsed only for a caller that reads it, or for its error */
    bool ok = status >= 200 && status <= 299;
    _cleanup_json_ json_t *resp = ok && !ret ? NULL : reply_doc(&raw);
    if (!ok)
        return status_error(status, resp, err);
    if (ret)
        *ret = TAKE_PTR(resp);
    return 0;
}

static int do_json(struct kos_client *c, const char *method, const char *path_query,
                   const char *content_type, const json_t *body, json_t **ret,
                   struct kos_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (body) {
        data = kos_json_encode(body, &len);
        if (!data)
            return -ENOMEM;
    }
    return do_bytes(c, method, path_query, content_type, data, len, ret, err);
}

/* Appends s percent-encoded (everything but RFC 3986 unreserved characters). */
static int append_escaped(struct kos_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int r = plain ? kos_buf_append(b, p, 1) : kos_buf_append(b, enc, 3);
        if (r < 0)
            return r;
    }
    return 0;
}

static int build_path(const struct kos_ref *ref, struct kos_buf *b)
{
    const struct kos_kind *k = ref->kind;
    if (!k)
        return -EINVAL;
    int r = k->group[0] ? kos_buf_printf(b, "/apis/%s/%s", k->group, k->version)
                        : kos_buf_printf(b, "/api/%s", k->version);
    if (r == 0 && k->namespaced && ref->ns && ref->ns[0]) {
        r = kos_buf_append_str(b, "/namespaces/");
        if (r == 0)
            r = append_escaped(b, ref->ns);
    }
    if (r == 0)
        r = kos_buf_printf(b, "/%s", k->plural);
    if (r == 0 && ref->name) {
        if (!ref->name[0])
            return -EINVAL;
        r = kos_buf_append_str(b, "/");
        if (r == 0)
            r = append_escaped(b, ref->name);
    }
    if (r == 0 && ref->sub && ref->sub[0])
        r = kos_buf_printf(b, "/%s", ref->sub);
    return r < 0 ? -ENAMETOOLONG : 0;
}

int kos_client_path(const struct kos_ref *ref, char *out, size_t size)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, PATH_MAX_LEN);
    int r = build_path(ref, &b);
    if (r < 0)
        return r;
    if (b.len + 1 > size)
        return -ENAMETOOLONG;
    memcpy(out, b.data, b.len + 1);
    return 0;
}

static int add_query(struct kos_buf *b, const char *key, const char *value)
{
    if (!value || !value[0])
        return 0;
    int r = kos_buf_printf(b, "%c%s=", strchr(b->data, '?') ? '&' : '?', key);
    return r < 0 ? r : append_escaped(b, value);
}

static int add_query_int(struct kos_buf *b, const char *key, int64_t v)
{
    char s[32];
    snprintf(s, sizeof(s), "%lld", (long long)v);
    return add_query(b, key, s);
}

/* Path and query of a list or watch. */
static int list_url(const struct kos_ref *ref, const struct kos_list_options *o, bool watch,
                    struct kos_buf *b)
{
    struct kos_ref coll = *ref;
    coll.name = NULL;
    coll.sub = NULL;
    int r = build_path(&coll, b);
    _cleanup_free_ char *by_name = NULL;
    const char *fs = o ? o->field_selector : NULL;
    if (ref->name && ref->name[0]) {
        /* A watch of one object is a watch of its collection narrowed by name, as in kubectl. */
        _cleanup_buf_ struct kos_buf sel;
        kos_buf_init(&sel, QUERY_MAX_LEN);
        if (kos_buf_printf(&sel, "metadata.name=%s%s%s", ref->name, fs && fs[0] ? "," : "",
                           fs ? fs : "") < 0)
            return -ENAMETOOLONG;
        by_name = kos_buf_steal(&sel, NULL);
        fs = by_name;
    }
    if (r == 0 && watch)
        r = add_query(b, "watch", "1");
    if (r == 0 && o)
        r = add_query(b, "labelSelector", o->label_selector);
    if (r == 0)
        r = add_query(b, "fieldSelector", fs);
    if (r == 0 && o)
        r = add_query(b, "resourceVersion", o->resource_version);
    if (r == 0 && o)
        r = add_query(b, "continue", o->continue_token);
    if (r == 0 && o && o->limit > 0)
        r = add_query_int(b, "limit", o->limit);
    if (r == 0 && o && watch && o->timeout_seconds > 0)
        r = add_query_int(b, "timeoutSeconds", o->timeout_seconds);
    if (r == 0 && o && watch && o->allow_bookmarks)
        r = add_query(b, "allowWatchBookmarks", "true");
    return r < 0 ? -ENAMETOOLONG : 0;
}

static int ref_path(const struct kos_ref *ref, struct kos_buf *b, struct kos_error **err)
{
    kos_buf_init(b, PATH_MAX_LEN + QUERY_MAX_LEN);
    if (build_path(ref, b) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid object reference");
    return 0;
}

int kos_client_get(struct kos_client *c, const struct kos_ref *ref, json_t **ret,
                   struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf p;
    int r = ref_path(ref, &p, err);
    return r < 0 ? r : do_json(c, "GET", p.data, NULL, NULL, ret, err);
}

int kos_client_list(struct kos_client *c, const struct kos_ref *ref,
                    const struct kos_list_options *opts, json_t **ret, struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf p;
    kos_buf_init(&p, PATH_MAX_LEN + QUERY_MAX_LEN);
    if (!ref->kind || list_url(ref, opts, false, &p) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid list request");
    return do_json(c, "GET", p.data, NULL, NULL, ret, err);
}

int kos_client_create_encoded(struct kos_client *c, const struct kos_ref *ref, const char *body,
                              size_t len, json_t **ret, struct kos_error **err)
{
    /* POST goes to the collection, or to a named object's subresource (serviceaccounts/x/token,
     * pods/x/eviction) */
    struct kos_ref coll = *ref;
    if (!ref->sub)
        coll.name = NULL;
    _cleanup_buf_ struct kos_buf p;
    int r = ref_path(&coll, &p, err);
    return r < 0 ? r : do_bytes(c, "POST", p.data, "application/json", body, len, ret, err);
}

int kos_client_create(struct kos_client *c, const struct kos_ref *ref, const json_t *obj,
                      json_t **ret, struct kos_error **err)
{
    size_t len = 0;
    _cleanup_free_ char *body = obj ? kos_json_encode(obj, &len) : NULL;
    if (obj && !body)
        return -ENOMEM;
    return kos_client_create_encoded(c, ref, body, len, ret, err);
}

int kos_client_update(struct kos_client *c, const struct kos_ref *ref, const json_t *obj,
                      json_t **ret, struct kos_error **err)
{
    if (!ref->name)
        return kos_error_set(err, 400, "BadRequest", "update needs a name");
    _cleanup_buf_ struct kos_buf p;
    int r = ref_path(ref, &p, err);
    return r < 0 ? r : do_json(c, "PUT", p.data, "application/json", obj, ret, err);
}

int kos_client_patch(struct kos_client *c, const struct kos_ref *ref, enum kos_patch_type type,
                     const json_t *patch, const char *field_manager, bool force, json_t **ret,
                     struct kos_error **err)
{
    static const char *const types[] = {
        [KOS_PATCH_MERGE] = "application/merge-patch+json",
        [KOS_PATCH_JSON] = "application/json-patch+json",
        [KOS_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
        [KOS_PATCH_APPLY] = "application/apply-patch+yaml",
    };
    if (!ref->name || (unsigned)type > KOS_PATCH_APPLY)
        return kos_error_set(err, 400, "BadRequest", "invalid patch request");
    _cleanup_buf_ struct kos_buf p;
    int r = ref_path(ref, &p, err);
    if (r == 0)
        r = add_query(&p, "fieldManager", field_manager);
    if (r == 0 && force)
        r = add_query(&p, "force", "true");
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid patch request");
    return do_json(c, "PATCH", p.data, types[type], patch, ret, err);
}

int kos_client_delete(struct kos_client *c, const struct kos_ref *ref,
                      const struct kos_delete_options *opts, json_t **ret, struct kos_error **err)
{
    static const char *const policies[] = {NULL, "Background", "Foreground", "Orphan"};
    if (!ref->name)
        return kos_error_set(err, 400, "BadRequest", "delete needs a name");
    _cleanup_buf_ struct kos_buf p;
    int r = ref_path(ref, &p, err);
    if (r < 0)
        return r;
    /* Options travel in a DeleteOptions body, as kubectl sends them. */
    _cleanup_json_ json_t *body =
        json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "meta.k8s.io/v1");
    if (!body)
        return -ENOMEM;
    if (opts && opts->has_grace_period)
        json_object_set_new(body, "gracePeriodSeconds", json_integer(opts->grace_period_seconds));
    if (opts && (unsigned)opts->propagation <= KOS_PROPAGATION_ORPHAN &&
        policies[opts->propagation])
        json_object_set_new(body, "propagationPolicy", json_string(policies[opts->propagation]));
    if (opts && (opts->precondition_uid || opts->precondition_resource_version)) {
        json_t *pre = json_object();
        if (!pre || json_object_set_new(body, "preconditions", pre) < 0)
            return -ENOMEM;
        if (opts->precondition_uid)
            json_object_set_new(pre, "uid", json_string(opts->precondition_uid));
        if (opts->precondition_resource_version)
            json_object_set_new(pre, "resourceVersion",
                                json_string(opts->precondition_resource_version));
    }
    return do_json(c, "DELETE", p.data, "application/json", body, ret, err);
}

const struct kos_kind *kos_client_kind_of(const char *api_version, const char *kind)
{
    if (!api_version || !kind)
        return NULL;
    const char *slash = strchr(api_version, '/');
    char group[128] = "";
    if (slash) {
        size_t n = (size_t)(slash - api_version);
        if (n >= sizeof(group))
            return NULL;
        memcpy(group, api_version, n);
        group[n] = '\0';
    }
    return kos_kind_by_kind(group, kind);
}

/* ---- watch ---------------------------------------------------------------------------- */

struct kos_watch {
    CURL *easy;
    CURLM *multi;
    struct curl_slist *headers;
    char *url;
    struct kos_buf buf; /* received bytes not consumed yet, from pos */
    size_t pos;
    uint64_t received; /* bytes so far: tells kos_watch_next that something arrived */
    long http_status;
    bool started; /* the transfer was added to the multi */
    bool done;    /* the transfer ended */
    CURLcode result;
    int sticky; /* the error every later call returns, once the stream is over */
    atomic_bool cancelled;
};

static size_t on_watch_data(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct kos_watch *w = ctx;
    size_t n = size * nmemb;
    if (w->http_status == 0)
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_status);
    if (w->pos > 0) {
        /* Keep only the unconsumed tail (a partial line) so the buffer stays bounded. */
        memmove(w->buf.data, w->buf.data + w->pos, w->buf.len - w->pos);
        w->buf.len -= w->pos;
        w->buf.data[w->buf.len] = '\0';
        w->pos = 0;
    }
    w->received += n;
    return kos_buf_append(&w->buf, data, n) < 0 ? 0 : n;
}

int kos_client_watch(struct kos_client *c, const struct kos_ref *ref,
                     const struct kos_list_options *opts, struct kos_watch **ret,
                     struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf p;
    kos_buf_init(&p, PATH_MAX_LEN + QUERY_MAX_LEN + 1024);
    if (!ref->kind || kos_buf_append_str(&p, c->server) < 0 || list_url(ref, opts, true, &p) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid watch request");
    struct kos_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    kos_buf_init(&w->buf, KOS_CLIENT_MAX_EVENT);
    w->url = kos_buf_steal(&p, NULL);
    w->easy = curl_easy_init();
    w->multi = curl_multi_init();
    if (!w->url || !w->easy || !w->multi ||
        setup_handle(c, w->easy, w->url, &w->headers, NULL) < 0) {
        kos_watch_close(w);
        return -ENOMEM;
    }
    if (opts && opts->timeout_seconds > 0) {
        /* A stream silent for longer than the server's own timeout is dead (a peer that
         * vanished without closing): give up so that the caller watches again. */
        curl_easy_setopt(w->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(w->easy, CURLOPT_LOW_SPEED_TIME,
                         (long)(opts->timeout_seconds + WATCH_SILENCE_SLACK_S));
    }
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_watch_data);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    if (curl_multi_add_handle(w->multi, w->easy) != CURLM_OK) {
        kos_watch_close(w);
        return -ENOMEM;
    }
    w->started = true;
    *ret = w;
    return 0;
}

void kos_watch_cancel(struct kos_watch *w)
{
    atomic_store(&w->cancelled, true);
    curl_multi_wakeup(w->multi);
}

void kos_watch_close(struct kos_watch *w)
{
    if (!w)
        return;
    if (w->started)
        curl_multi_remove_handle(w->multi, w->easy);
    if (w->easy)
        curl_easy_cleanup(w->easy);
    if (w->multi)
        curl_multi_cleanup(w->multi);
    curl_slist_free_all(w->headers);
    kos_buf_free(&w->buf);
    free(w->url);
    free(w);
}

void kos_watch_event_clear(struct kos_watch_event *ev)
{
    json_decref(ev->object);
    ev->object = NULL;
}

static int event_type(const char *s, enum kos_watch_type *ret)
{
    static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *ret = (enum kos_watch_type)i;
            return 0;
        }
    }
    return -EPROTO;
}

/* Decodes one line of the stream. 1: an event; 0: an empty line; negative: the stream is over
 * (410 ERROR event: -ESTALE). */
static int parse_line(const char *line, size_t len, struct kos_watch_event *ev,
                      struct kos_error **err)
{
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    _cleanup_json_ json_t *doc = NULL;
    if (kos_json_decode(line, len, &doc, NULL) < 0 || !json_is_object(doc))
        return kos_error_set(err, 500, "InternalError", "malformed watch event");
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *obj = json_object_get(doc, "object");
    if (type && strcmp(type, "ERROR") == 0) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        int r = status_error(code > 0 ? (long)code : 500, obj, err);
        return code == 410 ? -ESTALE : r;
    }
    enum kos_watch_type t;
    if (event_type(type, &t) < 0 || !json_is_object(obj))
        return kos_error_set(err, 500, "InternalError", "malformed watch event");
    ev->type = t;
    ev->object = json_incref(obj);
    return 1;
}

/* The outcome of a finished transfer once its buffered events are consumed. */
static int finish(struct kos_watch *w, struct kos_error **err)
{
    if (w->result != CURLE_OK)
        return transport_error(err, w->result, w->url);
    if (w->http_status == 0)
        curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_status);
    if (w->http_status != 200) {
        _cleanup_json_ json_t *body = NULL;
        if (w->buf.len > w->pos &&
            kos_json_decode(w->buf.data + w->pos, w->buf.len - w->pos, &body, NULL) < 0)
            body = NULL;
        int r = status_error(w->http_status, body, err);
        return w->http_status == 410 ? -ESTALE : r;
    }
    return -EPIPE;
}

/* A line for kos_watch_next_line: as sent, but an ERROR event ends the stream as it does for
 * kos_watch_next. 1: an event; 0: an empty line; negative: the stream is over. */
static int raw_line(const char *line, size_t len, const char **ret_line, size_t *ret_len,
                    struct kos_error **err)
{
    static const char error_prefix[] = "{\"type\":\"ERROR\"";
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (len == 0)
        return 0;
    if (len >= sizeof(error_prefix) - 1 &&
        memcmp(line, error_prefix, sizeof(error_prefix) - 1) == 0) {
        struct kos_watch_event ev = {0};
        int r = parse_line(line, len, &ev, err);
        kos_watch_event_clear(&ev);
        return r < 0 ? r : kos_error_set(err, 500, "InternalError", "malformed watch event");
    }
    *ret_line = line;
    *ret_len = len;
    return 1;
}

/* kos_watch_next, or with ev NULL kos_watch_next_line. */
static int watch_next(struct kos_watch *w, int timeout_ms, struct kos_watch_event *ev,
                      const char **ret_line, size_t *ret_len, struct kos_error **err)
{
    int64_t deadline = timeout_ms >= 0 ? kos_now_ms_monotonic() + timeout_ms : -1;
    if (ev)
        memset(ev, 0, sizeof(*ev));
    for (;;) {
        if (atomic_load(&w->cancelled))
            return -ECANCELED;
        if (w->sticky)
            return w->sticky;
        if (w->http_status == 200) {
            while (w->pos < w->buf.len) {
                const char *start = w->buf.data + w->pos;
                const char *nl = memchr(start, '\n', w->buf.len - w->pos);
                if (!nl && !w->done)
                    break;
                size_t len = nl ? (size_t)(nl - start) : w->buf.len - w->pos;
                w->pos += len + (nl ? 1 : 0);
                int r = ev ? parse_line(start, len, ev, err)
                           : raw_line(start, len, ret_line, ret_len, err);
                if (r < 0)
                    return w->sticky = r;
                if (r == 1)
                    return 1;
            }
        }
        if (w->done)
            return w->sticky = finish(w, err);
        int running = 0;
        uint64_t before = w->received;
        if (curl_multi_perform(w->multi, &running) != CURLM_OK)
            return w->sticky = kos_error_set(err, 500, "InternalError", "watch transfer failed");
        int queued;
        CURLMsg *m;
        while ((m = curl_multi_info_read(w->multi, &queued))) {
            if (m->msg == CURLMSG_DONE) {
                w->done = true;
                w->result = m->data.result;
            }
        }
        if (w->done || w->received != before)
            continue;
        int wait = POLL_SLICE_MS;
        if (deadline >= 0) {
            int64_t left = deadline - kos_now_ms_monotonic();
            if (left <= 0)
                return 0;
            if (left < wait)
                wait = (int)left;
        }
        curl_multi_poll(w->multi, NULL, 0, wait, NULL);
    }
}

int kos_watch_next(struct kos_watch *w, int timeout_ms, struct kos_watch_event *ev,
                   struct kos_error **err)
{
    return watch_next(w, timeout_ms, ev, NULL, NULL, err);
}

int kos_watch_next_line(struct kos_watch *w, int timeout_ms, const char **line, size_t *len,
                        struct kos_error **err)
{
    return watch_next(w, timeout_ms, NULL, line, len, err);
}

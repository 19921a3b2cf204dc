#include "auth/webhook_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

struct kos_webhook_client {
    struct kos_webhook_config cfg;
    long timeout_ms;
    char *auth_header; /* "Authorization: Bearer ..." or NULL */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

int kos_webhook_client_new(struct kos_webhook_config *cfg, long timeout_ms,
                           struct kos_webhook_client **ret, struct kos_error **err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK)
        return kos_error_set(err, 500, "InternalError", "libcurl initialisation failed: %s",
                             curl_easy_strerror(global_rc));
    struct kos_webhook_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (cfg->token) {
        size_t n = strlen(cfg->token) + 32;
        c->auth_header = malloc(n);
        if (!c->auth_header) {
            free(c);
            return -ENOMEM;
        }
        snprintf(c->auth_header, n, "Authorization: Bearer %s", cfg->token);
    }
    c->cfg = *cfg;
    memset(cfg, 0, sizeof(*cfg));
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : KOS_WEBHOOK_TIMEOUT_MS;
    *ret = c;
    return 0;
}

int kos_webhook_client_from_file(const char *config_file, long timeout_ms,
                                 struct kos_webhook_client **ret, struct kos_error **err)
{
    struct kos_webhook_config cfg = {0};
    int r = kos_webhook_config_load(config_file, &cfg, err);
    if (r < 0)
        return r;
    r = kos_webhook_client_new(&cfg, timeout_ms, ret, err);
    kos_webhook_config_clear(&cfg);
    return r;
}

void kos_webhook_client_free(struct kos_webhook_client *c)
{
    if (!c)
        return;
    if (c->auth_header) {
        explicit_bzero(c->auth_header, strlen(c->auth_header));
        free(c->auth_header);
    }
    kos_webhook_config_clear(&c->cfg);
    free(c);
}

const char *kos_webhook_client_server(const struct kos_webhook_client *c)
{
    return c->cfg.server;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct kos_buf *b = ud;
    /* Returning less than given makes curl stop with CURLE_WRITE_ERROR: the bound. */
    return kos_buf_append(b, data, size * n) < 0 ? 0 : size * n;
}

static void easy_cleanup(CURL **h)
{
    if (*h)
        curl_easy_cleanup(*h);
}

static void slist_cleanup(struct curl_slist **l)
{
    curl_slist_free_all(*l);
}

int kos_webhook_post(struct kos_webhook_client *c, const char *body, size_t len, char **resp,
                     size_t *resp_len, long *http_status, struct kos_error **err)
{
    __attribute__((cleanup(easy_cleanup))) CURL *h = curl_easy_init();
    if (!h)
        return -ENOMEM;
    __attribute__((cleanup(slist_cleanup))) struct curl_slist *hdrs = NULL;
    struct curl_slist *l = curl_slist_append(NULL, "Content-Type: application/json");
    if (!l)
        return -ENOMEM;
    hdrs = l;
    if (!(l = curl_slist_append(hdrs, "Accept: application/json")))
        return -ENOMEM;
    if (c->auth_header) {
        if (!(l = curl_slist_append(hdrs, c->auth_header)))
            return -ENOMEM;
    }
    _cleanup_buf_ struct kos_buf out;
    kos_buf_init(&out, KOS_WEBHOOK_MAX_RESPONSE);
    char errbuf[CURL_ERROR_SIZE] = "";

    curl_easy_setopt(h, CURLOPT_URL, c->cfg.server);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kos-apiserver");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->cfg.insecure_skip_tls_verify) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->cfg.ca_pem) {
        struct curl_blob ca = {
            .data = c->cfg.ca_pem, .len = c->cfg.ca_len, .flags = CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    }
    if (c->cfg.client_cert_pem) {
        struct curl_blob cert = {.data = c->cfg.client_cert_pem,
                                 .len = c->cfg.client_cert_len,
                                 .flags = CURL_BLOB_NOCOPY};
        struct curl_blob key = {
            .data = c->cfg.client_key_pem, .len = c->cfg.client_key_len, .flags = CURL_BLOB_NOCOPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        if (rc == CURLE_WRITE_ERROR)
            why = "response body too large";
        kos_error_set(err, 500, "InternalError", "Post \"%s\": %s", c->cfg.server, why);
        return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    size_t n = 0;
    char *data = kos_buf_steal(&out, &n);
    if (!data) {
        data = strdup("");
        if (!data)
            return -ENOMEM;
    }
    *resp = data;
    *resp_len = n;
    *http_status = status;
    return 0;
}

int kos_webhook_review_status(const char *data, size_t len, const char *kind, json_t **root,
                              json_t **status, struct kos_error **err)
{
    _cleanup_json_ json_t *r = NULL;
    _cleanup_error_ struct kos_error *jerr = NULL;
    if (kos_json_decode(data, len, &r, &jerr) < 0)
        return kos_error_set(err, 500, "InternalError", "webhook response is not JSON: %s",
                             jerr && jerr->message ? jerr->message : "");
    if (!json_is_object(r))
        return kos_error_set(err, 500, "InternalError", "webhook response is not an object");
    const char *got = json_string_value(json_object_get(r, "kind"));
    if (got && strcmp(got, kind) != 0)
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: kind \"%.64s\" is not %s", got, kind);
    json_t *st = json_object_get(r, "status");
    if (st && !json_is_null(st) && !json_is_object(st))
        return kos_error_set(err, 500, "InternalError",
                             "webhook response: status is not an object");
    *status = json_is_object(st) ? st : NULL;
    *root = TAKE_PTR(r);
    return 0;
}

int kos_webhook_api_version(const char *flag, const char *version, const char *group, char *out,
                            size_t size, bool *v1beta1, struct kos_error **err)
{
    const char *v = version && version[0] ? version : "v1";
    if (strcmp(v, "v1") != 0 && strcmp(v, "v1beta1") != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "--%s: unsupported version \"%s\" (want v1 or v1beta1)", flag, v);
    if ((size_t)snprintf(out, size, "%s/%s", group, v) >= size)
        return -ENAMETOOLONG;
    if (v1beta1)
        *v1beta1 = strcmp(v, "v1beta1") == 0;
    return 0;
}

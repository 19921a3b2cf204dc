#include "agent/image/registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/image/digest.h"
#include "agent/image/manifest.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define TOKEN_MAX_BYTES    (1u << 20)
#define ERRBODY_MAX_BYTES  (64u << 10)
#define CONNECT_TIMEOUT_S  15L
#define MANIFEST_TIMEOUT_S 60L
/* A blob may take long; a stalled one is cut off like the kubelet's progress deadline. */
#define LOW_SPEED_BYTES  1024L
#define LOW_SPEED_TIME_S 60L

struct registry {
    char base[IMAGE_DOMAIN_MAX + 16]; /* scheme://host[:port] */
    char domain[IMAGE_DOMAIN_MAX];
    char path[IMAGE_PATH_MAX];
    char *username, *password;
    char *token;
    bool basic;
    CURL *h;
};

const char *registry_scheme(const char *domain)
{
    char host[IMAGE_DOMAIN_MAX];
    kos_strlcpy(host, domain, sizeof(host));
    if (host[0] == '[') {
        char *end = strchr(host, ']');
        if (end)
            *end = '\0';
        memmove(host, host + 1, strlen(host));
    } else {
        char *colon = strrchr(host, ':');
        if (colon)
            *colon = '\0';
    }
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
        return "http";
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127)
        return "http";
    return "https";
}

static bool creds_match(const char *entry, const char *domain)
{
    if (!entry)
        return true;
    const char *e = entry;
    if (kos_str_has_prefix(e, "https://"))
        e += 8;
    else if (kos_str_has_prefix(e, "http://"))
        e += 7;
    size_t n = strcspn(e, "/");
    if (strcmp(domain, "docker.io") == 0 &&
        ((n == 15 && strncmp(e, "index.docker.io", 15) == 0) ||
         (n == 20 && strncmp(e, "registry-1.docker.io", 20) == 0)))
        return true;
    return strlen(domain) == n && strncmp(e, domain, n) == 0;
}

int registry_open(const struct image_ref *ref, const struct image_credentials *creds,
                  struct registry **out, struct kos_error **err)
{
    struct registry *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    const char *host = strcmp(ref->domain, "docker.io") == 0 ? "registry-1.docker.io" : ref->domain;
    snprintf(r->base, sizeof(r->base), "%s://%s", registry_scheme(ref->domain), host);
    kos_strlcpy(r->domain, ref->domain, sizeof(r->domain));
    kos_strlcpy(r->path, ref->path, sizeof(r->path));
    /* An exact registry match wins over a catch-all entry. */
    const struct image_auth *pick = NULL;
    for (size_t i = 0; creds && i < creds->n; i++) {
        const struct image_auth *a = &creds->entries[i];
        bool any = !a->registry || !*a->registry;
        if (!any && creds_match(a->registry, ref->domain)) {
            pick = a;
            break;
        }
        if (any && !pick)
            pick = a;
    }
    if (pick && pick->username) {
        r->username = strdup(pick->username);
        r->password = strdup(pick->password ? pick->password : "");
        if (!r->username || !r->password) {
            registry_close(r);
            return -ENOMEM;
        }
    }
    r->h = curl_easy_init();
    if (!r->h) {
        registry_close(r);
        return kos_error_set(err, 500, "ErrImagePull", "cannot create an HTTP client");
    }
    *out = r;
    return 0;
}

void registry_close(struct registry *r)
{
    if (!r)
        return;
    if (r->h)
        curl_easy_cleanup(r->h);
    free(r->username);
    if (r->password) {
        explicit_bzero(r->password, strlen(r->password));
        free(r->password);
    }
    free(r->token);
    free(r);
}

/* ---- challenges ----------------------------------------------------------------------- */

int registry_parse_challenge(const char *header, struct registry_challenge *out)
{
    struct registry_challenge c = {0};
    const char *p = header;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    if (n == 0 || n >= sizeof(c.scheme))
        return -EINVAL;
    memcpy(c.scheme, p, n);
    p += n;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p || *p == '\r' || *p == '\n')
            break;
        const char *k = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ')
            p++;
        size_t klen = (size_t)(p - k);
        if (*p != '=')
            return -EINVAL;
        p++;
        char val[1024];
        size_t vlen = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                if (vlen + 1 >= sizeof(val))
                    return -EINVAL;
                val[vlen++] = *p++;
            }
            if (*p != '"')
                return -EINVAL;
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\r' && *p != '\n') {
                if (vlen + 1 >= sizeof(val))
                    return -EINVAL;
                val[vlen++] = *p++;
            }
        }
        val[vlen] = '\0';
        char *dst = NULL;
        size_t dsz = 0;
        if (klen == 5 && strncasecmp(k, "realm", 5) == 0)
            dst = c.realm, dsz = sizeof(c.realm);
        else if (klen == 7 && strncasecmp(k, "service", 7) == 0)
            dst = c.service, dsz = sizeof(c.service);
        else if (klen == 5 && strncasecmp(k, "scope", 5) == 0)
            dst = c.scope, dsz = sizeof(c.scope);
        if (dst && kos_strlcpy(dst, val, dsz) >= dsz)
            return -EINVAL;
    }
    *out = c;
    return 0;
}

bool registry_realm_may_get_credentials(const char *realm)
{
    if (kos_str_has_prefix(realm, "https://"))
        return true;
    if (!kos_str_has_prefix(realm, "http://"))
        return false;
    const char *h = realm + 7;
    size_t n = strcspn(h, "/?#");
    char host[IMAGE_DOMAIN_MAX];
    if (n == 0 || n >= sizeof(host) || memchr(h, '@', n))
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    return strcmp(registry_scheme(host), "http") == 0;
}

/* ---- one transfer ---------------------------------------------------------------------- */

struct xfer {
    CURL *h;
    struct kos_buf *body; /* 200 body into memory ... */
    int fd;               /* ... or into a file */
    struct image_hasher hs;
    bool hashing;
    uint64_t limit, got;
    int werr;
    struct kos_buf errbody;
    char www_auth[2048];
    char content_type[128];
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct xfer *x = ctx;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a redirect): forget the previous one's headers. */
        x->www_auth[0] = x->content_type[0] = '\0';
        return n;
    }
    struct {
        const char *name;
        char *dst;
        size_t size;
    } want[] = {{"www-authenticate:", x->www_auth, sizeof(x->www_auth)},
                {"content-type:", x->content_type, sizeof(x->content_type)}};
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        size_t k = strlen(want[i].name);
        if (n <= k || strncasecmp(data, want[i].name, k) != 0 || want[i].dst[0])
            continue;
        const char *v = data + k;
        size_t vl = n - k;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl >= want[i].size)
            vl = want[i].size - 1;
        memcpy(want[i].dst, v, vl);
        want[i].dst[vl] = '\0';
    }
    return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct xfer *x = ctx;
    size_t n = size * nmemb;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        (void)kos_buf_append(&x->errbody, data, n < ERRBODY_MAX_BYTES ? n : 0);
        return n;
    }
    if (x->got + n > x->limit) {
        x->werr = -EFBIG;
        return 0;
    }
    x->got += n;
    if (x->hashing && image_hasher_update(&x->hs, data, n) < 0) {
        x->werr = -EIO;
        return 0;
    }
    if (x->body) {
        if (kos_buf_append(x->body, data, n) < 0) {
            x->werr = -EFBIG;
            return 0;
        }
        return n;
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(x->fd, data + off, n - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            x->werr = -errno;
            return 0;
        }
        off += (size_t)w;
    }
    return n;
}

static void setup(struct registry *r, struct xfer *x, const char *url, struct curl_slist *hdrs,
                  long timeout, bool with_basic, char *errbuf)
{
    CURL *h = r->h;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
    if (timeout)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "kos-agent");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (with_basic && r->username) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, r->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, r->password);
    }
    x->h = h;
}

/* The registry's own words from an error body ({"errors":[{"code","message"}]}). */
static void registry_message(const struct kos_buf *b, char *out, size_t size)
{
    out[0] = '\0';
    if (!b->len)
        return;
    json_error_t je;
    _cleanup_json_ json_t *root = json_loadb(b->data, b->len, 0, &je);
    json_t *e0 = json_array_get(json_object_get(root, "errors"), 0);
    const char *code = json_string_value(json_object_get(e0, "code"));
    const char *msg = json_string_value(json_object_get(e0, "message"));
    if (code || msg)
        snprintf(out, size, "%s%s%s", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
}

static int fetch_token(struct registry *r, const struct registry_challenge *c,
                       struct kos_error **err)
{
    if (!kos_str_has_prefix(c->realm, "https://") && !kos_str_has_prefix(c->realm, "http://"))
        return kos_error_set(err, 502, "ErrImagePull",
                             "failed to authorize: bearer challenge without a valid realm");
    _cleanup_buf_ struct kos_buf url;
    kos_buf_init(&url, 4096);
    char scope[600];
    if (c->scope[0])
        kos_strlcpy(scope, c->scope, sizeof(scope));
    else
        snprintf(scope, sizeof(scope), "repository:%s:pull", r->path);
    char *es = curl_easy_escape(r->h, c->service, 0);
    char *esc = curl_easy_escape(r->h, scope, 0);
    int rr = -ENOMEM;
    if (es && esc)
        rr = kos_buf_printf(&url, "%s%sservice=%s&scope=%s", c->realm,
                            strchr(c->realm, '?') ? "&" : "?", es, esc);
    curl_free(es);
    curl_free(esc);
    if (rr < 0)
        return kos_error_set(err, 502, "ErrImagePull", "failed to authorize: realm too long");

    _cleanup_buf_ struct kos_buf body;
    kos_buf_init(&body, TOKEN_MAX_BYTES);
    struct xfer x = {.body = &body, .fd = -1, .limit = TOKEN_MAX_BYTES};
    kos_buf_init(&x.errbody, ERRBODY_MAX_BYTES);
    char errbuf[CURL_ERROR_SIZE] = "";
    bool send_creds = r->username && registry_realm_may_get_credentials(c->realm);
    if (r->username && !send_creds)
        return kos_error_set(err, 401, "ErrImagePull",
                             "failed to authorize: refusing to send credentials to the token "
                             "realm %s over plain HTTP",
                             c->realm);
    setup(r, &x, url.data, NULL, MANIFEST_TIMEOUT_S, send_creds, errbuf);
    CURLcode cc = curl_easy_perform(r->h);
    long status = 0;
    curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
    char regmsg[512];
    registry_message(&x.errbody, regmsg, sizeof(regmsg));
    kos_buf_free(&x.errbody);
    if (cc != CURLE_OK)
        return kos_error_set(err, 502, "ErrImagePull",
                             "failed to fetch anonymous token: GET \"%s\": %s", c->realm,
                             errbuf[0] ? errbuf : curl_easy_strerror(cc));
    if (status != 200)
        return kos_error_set(err, status == 401 || status == 403 ? 401 : 502, "ErrImagePull",
                             "failed to authorize: failed to fetch %s token: %ld %s%s%s",
                             r->username ? "oauth" : "anonymous", status,
                             status == 401 ? "Unauthorized" : "", regmsg[0] ? ": " : "", regmsg);
    json_error_t je;
    _cleanup_json_ json_t *root = json_loadb(body.data, body.len, 0, &je);
    const char *tok = json_string_value(json_object_get(root, "token"));
    if (!tok || !*tok)
        tok = json_string_value(json_object_get(root, "access_token"));
    if (!tok || !*tok || strlen(tok) > 16384 || strpbrk(tok, "\r\n"))
        return kos_error_set(err, 502, "ErrImagePull",
                             "failed to authorize: the token endpoint returned no token");
    free(r->token);
    r->token = strdup(tok);
    return r->token ? 0 : -ENOMEM;
}

/* GET url with auth; on 200 the body went to x. Returns the HTTP status (>0) or <0. */
static int get(struct registry *r, const char *url, const char *accept, struct xfer *x,
               long timeout, struct kos_error **err)
{
    for (int attempt = 0;; attempt++) {
        struct curl_slist *hdrs = NULL;
        char h_accept[512], h_auth[16500];
        if (accept) {
            snprintf(h_accept, sizeof(h_accept), "Accept: %s", accept);
            hdrs = curl_slist_append(hdrs, h_accept);
        }
        if (r->token) {
            snprintf(h_auth, sizeof(h_auth), "Authorization: Bearer %s", r->token);
            hdrs = curl_slist_append(hdrs, h_auth);
        }
        char errbuf[CURL_ERROR_SIZE] = "";
        kos_buf_init(&x->errbody, ERRBODY_MAX_BYTES);
        x->www_auth[0] = x->content_type[0] = '\0';
        x->got = 0;
        x->werr = 0;
        setup(r, x, url, hdrs, timeout, r->basic, errbuf);
        CURLcode cc = curl_easy_perform(r->h);
        curl_slist_free_all(hdrs);
        explicit_bzero(h_auth, sizeof(h_auth));
        long status = 0;
        curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &status);
        if (x->werr) {
            kos_buf_free(&x->errbody);
            if (x->werr == -EFBIG)
                return kos_error_set(err, 502, "ErrImagePull",
                                     "GET \"%s\": response larger than expected", url);
            return kos_error_set(err, 500, "ErrImagePull", "GET \"%s\": %s", url,
                                 strerror(-x->werr));
        }
        if (cc != CURLE_OK) {
            kos_buf_free(&x->errbody);
            long oserr = 0;
            curl_easy_getinfo(r->h, CURLINFO_OS_ERRNO, &oserr);
            return kos_error_set(err, 502, "ErrImagePull",
                                 "failed to do request: GET \"%s\": %s%s%s", url,
                                 errbuf[0] ? errbuf : curl_easy_strerror(cc), oserr ? ": " : "",
                                 oserr ? strerror((int)oserr) : "");
        }
        if (status == 401 && attempt == 0) {
            struct registry_challenge c;
            if (registry_parse_challenge(x->www_auth, &c) == 0) {
                if (strcasecmp(c.scheme, "Bearer") == 0) {
                    kos_buf_free(&x->errbody);
                    int rr = fetch_token(r, &c, err);
                    if (rr < 0)
                        return rr;
                    continue;
                }
                if (strcasecmp(c.scheme, "Basic") == 0 && r->username && !r->basic) {
                    kos_buf_free(&x->errbody);
                    r->basic = true;
                    continue;
                }
            }
        }
        if (status != 200) {
            char regmsg[512];
            registry_message(&x->errbody, regmsg, sizeof(regmsg));
            kos_buf_free(&x->errbody);
            if (status == 404)
                return 404;
            if (status == 401 || status == 403)
                return kos_error_set(err, 401, "ErrImagePull",
                                     "pull access denied, repository does not exist or may "
                                     "require authorization: %ld %s%s%s",
                                     status, status == 401 ? "Unauthorized" : "Forbidden",
                                     regmsg[0] ? ": " : "", regmsg);
            return kos_error_set(err, 502, "ErrImagePull",
                                 "unexpected status from GET request to %s: %ld%s%s", url, status,
                                 regmsg[0] ? ": " : "", regmsg);
        }
        kos_buf_free(&x->errbody);
        return 200;
    }
}

int registry_get_manifest(struct registry *r, const char *reference, struct kos_buf *body,
                          char *content_type, size_t ct_size, char digest[IMAGE_DIGEST_MAX],
                          struct kos_error **err)
{
    char url[IMAGE_REF_MAX + 64];
    snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", r->base, r->path, reference);
    struct xfer x = {.body = body, .fd = -1, .limit = IMAGE_MANIFEST_MAX_BYTES};
    kos_buf_reset(body);
    int st = get(r, url, IMAGE_MANIFEST_ACCEPT, &x, MANIFEST_TIMEOUT_S, err);
    if (st < 0)
        return st;
    if (st == 404)
        return kos_error_set(err, 404, "ErrImagePull", "%s/%s%s%s: not found", r->domain, r->path,
                             image_digest_valid(reference) ? "@" : ":", reference);
    char got[IMAGE_DIGEST_MAX];
    int rr = image_digest_of(body->data, body->len, got);
    if (rr < 0)
        return rr;
    if (image_digest_valid(reference) && strcmp(got, reference) != 0)
        return kos_error_set(err, 502, "ErrImagePull", "manifest %s: digest mismatch: got %s",
                             reference, got);
    kos_strlcpy(content_type, x.content_type, ct_size);
    memcpy(digest, got, IMAGE_DIGEST_MAX);
    return 0;
}

int registry_get_blob(struct registry *r, const char *digest, uint64_t size, int fd,
                      struct kos_error **err)
{
    char url[IMAGE_REF_MAX + 64];
    snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", r->base, r->path, digest);
    struct xfer x = {.fd = fd, .limit = size, .hashing = true};
    for (;;) {
        if (image_hasher_init(&x.hs) < 0)
            return -ENOMEM;
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
            image_hasher_abort(&x.hs);
            return -errno;
        }
        int st = get(r, url, NULL, &x, 0, err);
        if (st != 200) {
            image_hasher_abort(&x.hs);
            if (st == 404)
                return kos_error_set(err, 404, "ErrImagePull", "blob %s: not found", digest);
            return st;
        }
        break;
    }
    char got[IMAGE_DIGEST_MAX];
    image_hasher_final(&x.hs, got);
    if (x.got != size)
        return kos_error_set(err, 502, "ErrImagePull",
                             "blob %s: size mismatch: expected %llu bytes, got %llu", digest,
                             (unsigned long long)size, (unsigned long long)x.got);
    if (strcmp(got, digest) != 0)
        return kos_error_set(err, 502, "ErrImagePull", "blob %s: digest mismatch: got %s", digest,
                             got);
    return 0;
}

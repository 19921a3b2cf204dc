/* The httpGet probe (pkg/probe/http) over libcurl: one fresh connection per probe (the
 * kubelet disables keep-alives), no proxy, no certificate checks for https, redirects
 * followed by hand so that only same-host ones are taken, texts as Go's HTTP client gives
 * them. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/prober/probe.h"
#include "apiserver/apiserver.h"
#include "util/buf.h"
#include "util/cleanup.h"

#define MAX_REDIRECTS 10
#define URL_MAX       4096

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

struct body {
    char *data;
    size_t len;
};

static size_t on_body(char *ptr, size_t sz, size_t nm, void *ud)
{
    struct body *b = ud;
    size_t n = sz * nm;
    size_t room = KOS_PROBE_OUTPUT_MAX - b->len;
    if (n > room)
        n = room;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    /* a full buffer ends the transfer, as the kubelet reads at most so much */
    return b->len == KOS_PROBE_OUTPUT_MAX ? 0 : sz * nm;
}

/* The host part of an absolute URL (lowercase hostname, no port), "" when it has none. */
static void url_host(const char *url, char *out, size_t size)
{
    out[0] = '\0';
    CURLU *u = curl_url();
    char *h = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK && h) {
        snprintf(out, size, "%s", h);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    curl_free(h);
    curl_url_cleanup(u);
}

/* Header names as Go canonicalizes them (content-type -> Content-Type). */
static void canonical_name(const char *in, char *out, size_t size)
{
    bool upper = true;
    size_t i = 0;
    for (; in[i] && i + 1 < size; i++) {
        char c = in[i];
        out[i] = upper ? (char)toupper((unsigned char)c) : (char)tolower((unsigned char)c);
        upper = c == '-';
    }
    out[i] = '\0';
}

static bool valid_header(const char *s, bool value)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n' || (!value && (*s == ':' || *s == ' ')))
            return false;
    return true;
}

/* The request headers: the action's, then User-Agent and Accept when it set none. */
static struct curl_slist *headers_of(const json_t *action, char *host_hdr, size_t host_size)
{
    struct curl_slist *l = NULL;
    bool ua = false, accept = false;
    host_hdr[0] = '\0';
    size_t i;
    const json_t *h;
    json_array_foreach(json_object_get(action, "httpHeaders"), i, h)
    {
        const char *name = json_string_value(json_object_get(h, "name"));
        const char *value = json_string_value(json_object_get(h, "value"));
        if (!name || !*name || !valid_header(name, false) || (value && !valid_header(value, true)))
            continue;
        char cn[256], line[8192];
        canonical_name(name, cn, sizeof(cn));
        if (!value)
            value = "";
        if (strcmp(cn, "Host") == 0) {
            snprintf(host_hdr, host_size, "%s", value); /* req.Host */
            continue;
        }
        if (strcmp(cn, "User-Agent") == 0)
            ua = true;
        if (strcmp(cn, "Accept") == 0) {
            accept = true;
            if (!*value)
                continue; /* overridden but empty: no Accept at all */
        }
        /* "Name;" is curl's way to send a header with an empty value */
        if (*value)
            snprintf(line, sizeof(line), "%s: %s", cn, value);
        else
            snprintf(line, sizeof(line), "%s;", cn);
        struct curl_slist *n = curl_slist_append(l, line);
        if (!n)
            break;
        l = n;
    }
    char line[700];
    if (!ua) {
        snprintf(line, sizeof(line), "User-Agent: kube-probe/%s.%s", KOS_KUBE_MAJOR,
                 KOS_KUBE_MINOR);
        l = curl_slist_append(l, line) ?: l;
    }
    /* an action's empty Accept removes curl's default one */
    l = curl_slist_append(l, accept ? "Accept:" : "Accept: */*") ?: l;
    if (host_hdr[0]) {
        snprintf(line, sizeof(line), "Host: %s", host_hdr);
        l = curl_slist_append(l, line) ?: l;
    }
    l = curl_slist_append(l, "Connection: close") ?: l;
    return l;
}

/* Go's texts for a request that failed: `Get "URL": ...`. */
static void error_text(CURLcode c, long os_errno, const char *url, const char *addr, char *out,
                       size_t size)
{
    if (c == CURLE_OPERATION_TIMEDOUT)
        snprintf(out, size,
                 "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                 "headers)",
                 url);
    else if (c == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
        snprintf(out, size, "Get \"%s\": dial tcp %s: connect: connection refused", url, addr);
    else if (c == CURLE_COULDNT_CONNECT && os_errno)
        snprintf(out, size, "Get \"%s\": dial tcp %s: connect: %s", url, addr,
                 strerror((int)os_errno));
    else if (c == CURLE_GOT_NOTHING || c == CURLE_RECV_ERROR)
        snprintf(out, size, "Get \"%s\": EOF", url);
    else
        snprintf(out, size, "Get \"%s\": %s", url, curl_easy_strerror(c));
}

int kos_probe_http(const json_t *action, const json_t *container, const char *pod_ip,
                   int64_t timeout_ms, char *out, size_t size)
{
    pthread_once(&curl_once, curl_init_once);
    out[0] = '\0';
    int port = kos_probe_resolve_port(json_object_get(action, "port"), container, out, size);
    if (port < 0)
        return port;
    const char *scheme = json_string_value(json_object_get(action, "scheme"));
    bool https = scheme && strcasecmp(scheme, "HTTPS") == 0;
    const char *host = json_string_value(json_object_get(action, "host"));
    if (!host || !*host)
        host = pod_ip ? pod_ip : "";
    const char *path = json_string_value(json_object_get(action, "path"));
    if (!path)
        path = "";
    char addr[600], url[URL_MAX];
    kos_probe_join_host_port(host, port, addr, sizeof(addr));
    if (snprintf(url, sizeof(url), "%s://%s%s%s", https ? "https" : "http", addr,
                 path[0] == '/' ? "" : "/", path) >= (int)sizeof(url)) {
        snprintf(out, size, "parse \"%s\": URL too long", path);
        return -EINVAL;
    }
    char first_host[600];
    url_host(url, first_host, sizeof(first_host));
    if (!first_host[0]) {
        snprintf(out, size, "parse \"%s\": invalid URL", url);
        return -EINVAL;
    }
    char host_hdr[512];
    struct curl_slist *hdrs = headers_of(action, host_hdr, sizeof(host_hdr));
    _cleanup_free_ char *data = malloc(KOS_PROBE_OUTPUT_MAX + 1);
    CURL *c = curl_easy_init();
    if (!c || !data) {
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        return -ENOMEM;
    }
    int ret = KOS_PROBE_OUT_FAILURE;
    struct body body = {.data = data};
    long code = 0;
    char next[URL_MAX];
    for (int hop = 0;; hop++) {
        body.len = 0;
        data[0] = '\0';
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1000));
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        CURLcode cc = curl_easy_perform(c);
        if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && body.len == KOS_PROBE_OUTPUT_MAX)) {
            long os = 0;
            curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os);
            error_text(cc, os, url, addr, out, size);
            ret = KOS_PROBE_OUT_FAILURE; /* timeouts and refusals are failures, not errors */
            break;
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        char *loc = NULL;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
        bool follows = (code == 301 || code == 302 || code == 303 || code == 307 || code == 308) &&
                       loc && *loc;
        if (follows) {
            char h[600];
            url_host(loc, h, sizeof(h));
            if (strcmp(h, first_host) == 0) {
                if (hop + 1 >= MAX_REDIRECTS) {
                    snprintf(out, size, "Get \"%s\": stopped after %d redirects", loc,
                             MAX_REDIRECTS);
                    ret = KOS_PROBE_OUT_FAILURE;
                    break;
                }
                snprintf(next, sizeof(next), "%s", loc);
                snprintf(url, sizeof(url), "%s", next);
                continue;
            }
            /* another host: the redirect itself is the answer */
        }
        if (code >= 200 && code < 400) {
            if (code >= 300) {
                snprintf(out, size, "Probe terminated redirects, Response body: %s", data);
                ret = KOS_PROBE_OUT_WARNING;
            } else {
                snprintf(out, size, "%s", data);
                ret = KOS_PROBE_OUT_SUCCESS;
            }
        } else {
            /* the body stays out of the text: it is shown to people (issue 99425) */
            snprintf(out, size, "HTTP probe failed with statuscode: %ld", code);
            ret = KOS_PROBE_OUT_FAILURE;
        }
        break;
    }
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    return ret;
}

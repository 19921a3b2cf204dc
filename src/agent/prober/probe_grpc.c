/* The grpc probe (pkg/probe/grpc): one unary call of the standard health service over
 * HTTP/2 with prior knowledge (libcurl + nghttp2), no TLS, as the kubelet makes it. The
 * request is a length-prefixed HealthCheckRequest{service}; the answer's status field and the
 * call's grpc-status trailer decide. */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/prober/probe.h"
#include "apiserver/apiserver.h"
#include "util/strutil.h"

#define SERVICE_MAX 4096
#define ANSWER_MAX  4096

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

struct call {
    unsigned char body[ANSWER_MAX];
    size_t len;
    int grpc_status; /* -1: none seen */
    char grpc_message[512];
};

static size_t on_body(char *ptr, size_t sz, size_t nm, void *ud)
{
    struct call *c = ud;
    size_t n = sz * nm;
    if (n > sizeof(c->body) - c->len)
        return 0; /* a health answer is a few bytes; more is not one */
    memcpy(c->body + c->len, ptr, n);
    c->len += n;
    return n;
}

/* Headers and trailers alike: grpc-status and grpc-message. */
static size_t on_header(char *ptr, size_t sz, size_t nm, void *ud)
{
    struct call *c = ud;
    size_t n = sz * nm;
    char line[600];
    size_t k = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, ptr, k);
    line[k] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "grpc-status:", 12) == 0) {
        const char *v = line + 12;
        while (*v == ' ')
            v++;
        int64_t code;
        c->grpc_status = kos_parse_int64(v, &code) == 0 && code >= 0 && code < 100 ? (int)code : 2;
    } else if (strncasecmp(line, "grpc-message:", 13) == 0) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        /* grpc-message is percent-encoded on the wire */
        size_t o = 0;
        for (const char *q = v; *q && o + 1 < sizeof(c->grpc_message); q++) {
            unsigned int x;
            if (q[0] == '%' && isxdigit((unsigned char)q[1]) && isxdigit((unsigned char)q[2]) &&
                sscanf(q + 1, "%2x", &x) == 1) {
                c->grpc_message[o++] = (char)x;
                q += 2;
            } else {
                c->grpc_message[o++] = *q;
            }
        }
        c->grpc_message[o] = '\0';
    }
    return n;
}

/* google.golang.org/grpc/codes names */
static const char *code_name(int code)
{
    static const char *const names[] = {
        "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
        "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
        "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
        "DataLoss", "Unauthenticated"};
    if (code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])))
        return names[code];
    return "Unknown";
}

static const char *serving_name(int64_t s)
{
    switch (s) {
    case 0:
        return "UNKNOWN";
    case 1:
        return "SERVING";
    case 2:
        return "NOT_SERVING";
    case 3:
        return "SERVICE_UNKNOWN";
    }
    return "UNKNOWN";
}

/* The status field (1, varint) of a HealthCheckResponse message; 0 when absent. -1: not a
 * message of that shape. */
static int64_t response_status(const unsigned char *m, size_t n)
{
    int64_t status = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t key = 0;
        int shift = 0;
        while (i < n && shift < 64) {
            key |= (uint64_t)(m[i] & 0x7f) << shift;
            shift += 7;
            if (!(m[i++] & 0x80))
                break;
        }
        int wire = (int)(key & 7);
        if (wire == 0) {
            uint64_t v = 0;
            shift = 0;
            while (i < n && shift < 64) {
                v |= (uint64_t)(m[i] & 0x7f) << shift;
                shift += 7;
                if (!(m[i++] & 0x80))
                    break;
            }
            if ((key >> 3) == 1) {
                if (v > INT32_MAX)
                    return -1; /* an enum is an int32; no health status is negative */
                status = (int64_t)v;
            }
        } else if (wire == 2) {
            uint64_t len = 0;
            shift = 0;
            while (i < n && shift < 64) {
                len |= (uint64_t)(m[i] & 0x7f) << shift;
                shift += 7;
                if (!(m[i++] & 0x80))
                    break;
            }
            if (len > n - i)
                return -1;
            i += len;
        } else if (wire == 1 || wire == 5) {
            size_t skip = wire == 1 ? 8 : 4; /* fixed64 / fixed32 fields it does not know */
            if (skip > n - i)
                return -1;
            i += skip;
        } else {
            return -1; /* groups are not in proto3 */
        }
    }
    return status;
}

int64_t kos_probe_grpc_answer_status(const unsigned char *body, size_t len)
{
    /* one uncompressed message: flag 0, 4-byte big-endian length, the message */
    if (len < 5 || body[0] != 0)
        return -1;
    size_t n = ((size_t)body[1] << 24) | ((size_t)body[2] << 16) | ((size_t)body[3] << 8) | body[4];
    if (n > len - 5)
        return -1;
    return response_status(body + 5, n);
}

/* Go's time.Duration text for whole seconds ("1s", "1m0s"). */
static void go_seconds(int64_t ms, char *out, size_t size)
{
    int64_t s = ms / 1000;
    if (s >= 60)
        snprintf(out, size, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, size, "%llds", (long long)s);
}

int kos_probe_grpc(const json_t *action, const char *pod_ip, int64_t timeout_ms, char *out,
                   size_t size)
{
    pthread_once(&curl_once, curl_init_once);
    out[0] = '\0';
    const json_t *pj = json_object_get(action, "port");
    int64_t port = json_is_integer(pj) ? json_integer_value(pj) : 0;
    if (port <= 0 || port > 65535) {
        snprintf(out, size, "invalid port number: %lld", (long long)port);
        return -EINVAL;
    }
    const char *service = json_string_value(json_object_get(action, "service"));
    size_t sl = service ? strlen(service) : 0;
    if (sl > SERVICE_MAX) {
        snprintf(out, size, "service name too long");
        return -EINVAL;
    }
    if (timeout_ms <= 0)
        timeout_ms = 1000;
    char addr[600], url[700], dur[32];
    kos_probe_join_host_port(pod_ip ? pod_ip : "", (int)port, addr, sizeof(addr));
    snprintf(url, sizeof(url), "http://%s/grpc.health.v1.Health/Check", addr);
    go_seconds(timeout_ms, dur, sizeof(dur));

    /* the message: field 1 (service) when set; framed: no compression, 4-byte length */
    unsigned char req[5 + 1 + 2 + SERVICE_MAX];
    size_t mlen = 0;
    unsigned char *m = req + 5;
    if (sl) {
        m[mlen++] = 0x0a;
        size_t v = sl;
        while (v >= 0x80) {
            m[mlen++] = (unsigned char)(v | 0x80);
            v >>= 7;
        }
        m[mlen++] = (unsigned char)v;
        memcpy(m + mlen, service, sl);
        mlen += sl;
    }
    req[0] = 0;
    req[1] = (unsigned char)(mlen >> 24);
    req[2] = (unsigned char)(mlen >> 16);
    req[3] = (unsigned char)(mlen >> 8);
    req[4] = (unsigned char)mlen;

    struct call *call = calloc(1, sizeof(*call));
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char ua[64];
    snprintf(ua, sizeof(ua), "User-Agent: kube-probe/%s.%s", KOS_KUBE_MAJOR, KOS_KUBE_MINOR);
    static const char *const hdrs[] = {"Content-Type: application/grpc", "TE: trailers",
                                       "Expect:", NULL};
    for (size_t i = 0; hdrs[i]; i++)
        h = curl_slist_append(h, hdrs[i]) ?: h;
    h = curl_slist_append(h, ua) ?: h;
    if (!call || !c || !h) {
        free(call);
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        return -ENOMEM;
    }
    call->grpc_status = -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)req);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(5 + mlen));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, call);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, call);
    CURLcode cc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);

    int ret = KOS_PROBE_OUT_FAILURE;
    if (cc == CURLE_COULDNT_CONNECT || (cc == CURLE_OPERATION_TIMEDOUT && code == 0)) {
        /* grpc-go's blocking dial retries until the deadline */
        snprintf(out, size,
                 "timeout: failed to connect service \"%s\" within %s: context "
                 "deadline exceeded",
                 addr, dur);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, size, "timeout: health rpc did not complete within %s", dur);
    } else if (cc != CURLE_OK) {
        snprintf(out, size,
                 "error: health rpc probe failed: rpc error: code = Unavailable desc = %s",
                 curl_easy_strerror(cc));
    } else if (call->grpc_status == 12) {
        snprintf(out, size,
                 "error: this server does not implement the grpc health protocol "
                 "(grpc.health.v1.Health): %s",
                 call->grpc_message);
    } else if (call->grpc_status > 0 || code != 200) {
        int gs = call->grpc_status > 0 ? call->grpc_status : 2;
        snprintf(out, size, "error: health rpc probe failed: rpc error: code = %s desc = %s",
                 code_name(gs), call->grpc_message);
    } else {
        int64_t st = kos_probe_grpc_answer_status(call->body, call->len);
        if (st < 0) {
            snprintf(out, size,
                     "error: health rpc probe failed: rpc error: code = Internal desc "
                     "= grpc: failed to unmarshal the received message");
        } else if (st != 1) {
            snprintf(out, size, "service unhealthy (responded with \"%s\")", serving_name(st));
        } else {
            snprintf(out, size, "service healthy");
            ret = KOS_PROBE_OUT_SUCCESS;
        }
    }
    free(call);
    return ret;
}

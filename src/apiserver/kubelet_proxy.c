/* Proxying to a node's kubelet endpoint (see kubelet_proxy.h). Everything blocking is
 * bounded: the dial and TLS handshake (DIAL_TIMEOUT_MS), the response head (HEAD_TIMEOUT_MS,
 * KUBELET_MAX_HEAD bytes) and an error body (ERROR_BODY_MAX). A streamed log or an upgraded
 * session runs as long as both ends stay. */
#include "apiserver/kubelet_proxy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/kinds.h"
#include "apiserver/apiserver.h"
#include "apiserver/objects.h"
#include "apiserver/respond.h"
#include "codec/json.h"
#include "pki/pki.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define DIAL_TIMEOUT_MS 10000
/* the kubelet answers an exec handshake once the process started (runc exec: seconds under
 * load) */
#define HEAD_TIMEOUT_MS 60000
#define ERROR_BODY_MAX  (64u << 10)
#define IO_CHUNK        (32u << 10)
#define PEER_POLL_MS    1000

/* ---- response head and chunked bodies (pure) ---- */

ssize_t kubelet_head_parse(const char *buf, size_t len, struct kubelet_head *ret)
{
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end)
        return len > KUBELET_MAX_HEAD ? -E2BIG : 0;
    size_t head_len = (size_t)(end - buf) + 4;
    if (head_len > KUBELET_MAX_HEAD)
        return -E2BIG;
    if (memchr(buf, '\0', head_len))
        return -EPROTO; /* would cut the lines short */
    memcpy(ret->raw, buf, head_len - 2);
    ret->raw[head_len - 2] = '\0';
    ret->nheaders = 0;
    char *line = ret->raw;
    char *eol = strstr(line, "\r\n");
    *eol = '\0';
    /* HTTP/1.x NNN reason */
    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) || line[8] != ' ' ||
        !isdigit((unsigned char)line[9]) || !isdigit((unsigned char)line[10]) ||
        !isdigit((unsigned char)line[11]) || (line[12] != ' ' && line[12] != '\0'))
        return -EPROTO;
    ret->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (ret->status < 100)
        return -EPROTO;
    for (line = eol + 2; *line; line = eol + 2) {
        eol = strstr(line, "\r\n");
        *eol = '\0';
        if (strpbrk(line, "\r\n"))
            return -EPROTO; /* a bare CR or LF would smuggle a header to the client */
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            return -EPROTO;
        for (char *p = line; p < colon; p++)
            if (!isgraph((unsigned char)*p))
                return -EPROTO;
        if (ret->nheaders >= KUBELET_MAX_HEADERS)
            return -E2BIG;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *ve = v + strlen(v);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            *--ve = '\0';
        ret->names[ret->nheaders] = line;
        ret->values[ret->nheaders++] = v;
    }
    return (ssize_t)head_len;
}

const char *kubelet_head_get(const struct kubelet_head *h, const char *name)
{
    for (size_t i = 0; i < h->nheaders; i++)
        if (strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

enum {
    CH_SIZE,      /* hex digits */
    CH_EXT,       /* ;extensions up to CR */
    CH_SIZE_LF,   /* LF after the size line */
    CH_DATA,      /* chunk data */
    CH_DATA_CR,   /* CR after data */
    CH_DATA_LF,   /* LF after data */
    CH_TRAILER,   /* start of a trailer line (or the final blank line) */
    CH_TRAILER_X, /* inside a trailer line */
    CH_TRAILER_LF,
    CH_END_LF, /* LF of the final blank line */
};

#define CHUNK_MAX_DIGITS 15 /* < 2^60: no overflow */

int kubelet_chunked_decode(struct kubelet_chunked *c, const char *in, size_t len, size_t *consumed,
                           char *out, size_t out_max, size_t *produced)
{
    size_t i = 0, o = 0;
    while (i < len && !c->done) {
        char ch = in[i];
        switch (c->state) {
        case CH_SIZE:
            if (isxdigit((unsigned char)ch)) {
                if (++c->size_digits > CHUNK_MAX_DIGITS)
                    return -EPROTO;
                c->remaining =
                    c->remaining * 16 + (uint64_t)(isdigit((unsigned char)ch)
                                                       ? ch - '0'
                                                       : tolower((unsigned char)ch) - 'a' + 10);
            } else if (c->size_digits == 0) {
                return -EPROTO;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CH_EXT;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else {
                return -EPROTO;
            }
            i++;
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                return -EPROTO;
            i++;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return -EPROTO;
            i++;
            c->state = c->remaining ? CH_DATA : CH_TRAILER;
            break;
        case CH_DATA: {
            size_t n = len - i;
            if (n > c->remaining)
                n = (size_t)c->remaining;
            if (n > out_max - o)
                n = out_max - o;
            if (n == 0)
                goto out; /* out is full */
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            c->remaining -= n;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (ch != '\r')
                return -EPROTO;
            i++;
            c->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                return -EPROTO;
            i++;
            c->state = CH_SIZE;
            c->size_digits = 0;
            break;
        case CH_TRAILER:
            i++;
            c->state = ch == '\r' ? CH_END_LF : CH_TRAILER_X;
            if (ch == '\n')
                return -EPROTO;
            break;
        case CH_TRAILER_X:
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            i++;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return -EPROTO;
            i++;
            c->state = CH_TRAILER;
            break;
        case CH_END_LF:
            if (ch != '\n')
                return -EPROTO;
            i++;
            c->done = true;
            break;
        default:
            return -EPROTO;
        }
    }
out:
    *consumed = i;
    *produced = o;
    return c->done ? 1 : 0;
}

/* ---- the connection ---- */

struct kubelet_conn {
    int fd;
    gnutls_session_t tls;
    gnutls_certificate_credentials_t cred;
    bool tls_ready;
    char *pending; /* received after the response head */
    size_t pending_len, pending_pos;
};

static void conn_free(struct kubelet_conn *c)
{
    if (!c)
        return;
    if (c->tls)
        gnutls_deinit(c->tls);
    if (c->cred)
        gnutls_certificate_free_credentials(c->cred);
    if (c->fd >= 0)
        close(c->fd);
    free(c->pending);
    free(c);
}

static int poll_one(int fd, short events, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    return r == 0 ? -ETIMEDOUT : 0;
}

static int remaining_ms(int64_t deadline)
{
    int64_t left = deadline - kos_now_ms_monotonic();
    return left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

/* Go's net error texts: "connection refused", not strerror's "Connection refused". */
static void go_errstr(int e, char *out, size_t size)
{
    if (e == ETIMEDOUT) {
        snprintf(out, size, "i/o timeout");
        return;
    }
    snprintf(out, size, "%s", strerror(e));
    out[0] = (char)tolower((unsigned char)out[0]);
}

static void host_port(const struct kubelet_location *loc, char *out, size_t size)
{
    if (strchr(loc->host, ':'))
        snprintf(out, size, "[%s]:%u", loc->host, loc->port);
    else
        snprintf(out, size, "%s:%u", loc->host, loc->port);
}

/* A TCP connection within DIAL_TIMEOUT_MS; *why in Go's words on failure. */
static int dial_tcp(const struct kubelet_location *loc, int *ret_fd, char *why, size_t why_size)
{
    char hp[300], port[8], e[128];
    host_port(loc, hp, sizeof(hp));
    snprintf(port, sizeof(port), "%u", loc->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(loc->host, port, &hints, &ai);
    if (g != 0) {
        snprintf(why, why_size, "dial tcp: lookup %s: no such host", loc->host);
        return -EHOSTUNREACH;
    }
    int64_t deadline = kos_now_ms_monotonic() + DIAL_TIMEOUT_MS;
    int last = ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            r = poll_one(fd, POLLOUT, remaining_ms(deadline));
            if (r == 0) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                    soerr = errno;
                r = soerr ? -soerr : 0;
            }
        } else if (r < 0) {
            r = -errno;
        }
        if (r == 0) {
            freeaddrinfo(ai);
            *ret_fd = fd;
            return 0;
        }
        last = -r;
        close(fd);
    }
    freeaddrinfo(ai);
    go_errstr(last, e, sizeof(e));
    if (last == ETIMEDOUT)
        snprintf(why, why_size, "dial tcp %s: %s", hp, e);
    else
        snprintf(why, why_size, "dial tcp %s: connect: %s", hp, e);
    return -last;
}

static int tls_wait(struct kubelet_conn *c, int64_t deadline)
{
    short ev = gnutls_record_get_direction(c->tls) ? POLLOUT : POLLIN;
    return poll_one(c->fd, ev, remaining_ms(deadline));
}

static int conn_open(struct apiserver *srv, const struct kubelet_location *loc,
                     struct kubelet_conn **ret, char *why, size_t why_size)
{
    if (!srv->kubelet_client_cert_pem || !srv->kubelet_client_key_pem) {
        snprintf(why, why_size, "the API server has no kubelet client certificate");
        return -ENOKEY;
    }
    struct kubelet_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->fd = -1;
    int r = dial_tcp(loc, &c->fd, why, why_size);
    if (r < 0) {
        conn_free(c);
        return r;
    }
    gnutls_datum_t cert = {(unsigned char *)srv->kubelet_client_cert_pem,
                           (unsigned)strlen(srv->kubelet_client_cert_pem)};
    gnutls_datum_t key = {(unsigned char *)srv->kubelet_client_key_pem,
                          (unsigned)strlen(srv->kubelet_client_key_pem)};
    if (gnutls_certificate_allocate_credentials(&c->cred) < 0 ||
        gnutls_certificate_set_x509_key_mem(c->cred, &cert, &key, GNUTLS_X509_FMT_PEM) < 0 ||
        gnutls_init(&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0 ||
        gnutls_priority_set_direct(c->tls, PKI_TLS_PRIORITIES, NULL) < 0 ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred) < 0) {
        snprintf(why, why_size, "tls: cannot set up the client session");
        conn_free(c);
        return -ENOMEM;
    }
    gnutls_transport_set_int(c->tls, c->fd);
    int64_t deadline = kos_now_ms_monotonic() + DIAL_TIMEOUT_MS;
    for (;;) {
        r = gnutls_handshake(c->tls);
        if (r == GNUTLS_E_SUCCESS)
            break;
        if ((r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) && tls_wait(c, deadline) == 0)
            continue;
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            snprintf(why, why_size, "net/http: TLS handshake timeout");
        else
            snprintf(why, why_size, "tls: %s", gnutls_strerror(r));
        conn_free(c);
        return -EPROTO;
    }
    c->tls_ready = true;
    *ret = c;
    return 0;
}

/* Sends all of data (blocking up to timeout_ms in total). */
static int conn_send(struct kubelet_conn *c, const void *data, size_t len, int timeout_ms)
{
    int64_t deadline = kos_now_ms_monotonic() + timeout_ms;
    const char *p = data;
    while (len > 0) {
        ssize_t n = gnutls_record_send(c->tls, p, len);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            if (tls_wait(c, deadline) < 0)
                return -ETIMEDOUT;
            continue;
        }
        if (n < 0)
            return -EPIPE;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads what is there, waiting up to timeout_ms: the count, 0 at the end, -ETIMEDOUT, -EIO. */
static ssize_t conn_recv(struct kubelet_conn *c, char *buf, size_t max, int timeout_ms)
{
    if (c->pending_pos < c->pending_len) {
        size_t n = c->pending_len - c->pending_pos;
        if (n > max)
            n = max;
        memcpy(buf, c->pending + c->pending_pos, n);
        c->pending_pos += n;
        return (ssize_t)n;
    }
    int64_t deadline = kos_now_ms_monotonic() + timeout_ms;
    for (;;) {
        ssize_t n = gnutls_record_recv(c->tls, buf, max);
        if (n >= 0)
            return n;
        if (n == GNUTLS_E_PREMATURE_TERMINATION)
            return 0;
        if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED)
            return -EIO;
        if (poll_one(c->fd, POLLIN, remaining_ms(deadline)) < 0)
            return -ETIMEDOUT;
    }
}

static bool header_value_ok(const char *v)
{
    return v && !strpbrk(v, "\r\n");
}

struct hdr_copy {
    struct kos_buf *b;
};

static bool copy_version_header(void *ctx, const char *name, const char *value)
{
    struct hdr_copy *h = ctx;
    if (strcasecmp(name, "X-Stream-Protocol-Version") == 0 && header_value_ok(value))
        kos_buf_printf(h->b, "X-Stream-Protocol-Version: %s\r\n", value);
    return true;
}

/* The request head: the method, path and Host, then what the client sent for an upgrade. */
static int build_request(const struct http_request *req, const struct kubelet_location *loc,
                         const char *method, const char *path, bool upgrade, struct kos_buf *b)
{
    char hp[300];
    host_port(loc, hp, sizeof(hp));
    kos_buf_printf(b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kos-apiserver\r\n", method, path,
                   hp);
    if (upgrade) {
        static const char *const fwd[] = {"Connection", "Upgrade", "Sec-WebSocket-Key",
                                          "Sec-WebSocket-Version", "Sec-WebSocket-Protocol"};
        for (size_t i = 0; i < ARRAY_SIZE(fwd); i++) {
            const char *v = http_header(req, fwd[i]);
            if (header_value_ok(v))
                kos_buf_printf(b, "%s: %s\r\n", fwd[i], v);
        }
        struct hdr_copy h = {b};
        http_headers_with_prefix(req, "X-Stream-Protocol-Version", copy_version_header, &h);
        if (strcmp(method, "POST") == 0)
            kos_buf_append_str(b, "Content-Length: 0\r\n");
    } else {
        kos_buf_append_str(b, "Connection: close\r\n");
    }
    kos_buf_append_str(b, "\r\n");
    return b->data ? 0 : -ENOMEM;
}

/* Reads the response head; what follows it stays in c->pending. */
static int read_head(struct kubelet_conn *c, struct kubelet_head *head, char *why, size_t why_size)
{
    char *buf = malloc(KUBELET_MAX_HEAD + 1);
    if (!buf)
        return -ENOMEM;
    size_t len = 0;
    int64_t deadline = kos_now_ms_monotonic() + HEAD_TIMEOUT_MS;
    for (;;) {
        ssize_t n = conn_recv(c, buf + len, KUBELET_MAX_HEAD + 1 - len, remaining_ms(deadline));
        if (n <= 0) {
            free(buf);
            snprintf(why, why_size, "%s",
                     n == 0            ? "EOF"
                     : n == -ETIMEDOUT ? "net/http: timeout awaiting response headers"
                                       : "read: connection reset by peer");
            return n == 0 ? -EPIPE : (int)n;
        }
        len += (size_t)n;
        ssize_t h = kubelet_head_parse(buf, len, head);
        if (h < 0 || (h == 0 && len > KUBELET_MAX_HEAD)) {
            free(buf);
            snprintf(why, why_size, "malformed HTTP response");
            return -EPROTO;
        }
        if (h > 0) {
            memmove(buf, buf + h, len - (size_t)h);
            c->pending = buf;
            c->pending_len = len - (size_t)h;
            c->pending_pos = 0;
            return 0;
        }
    }
}

/* The Status for a failure to reach the kubelet: kube's `Get "URL": <why>` for plain
 * requests, `error dialing backend: <why>` for upgrades (UpgradeAwareHandler); both go out
 * as errors without a reason (kube's ErrorToAPIStatus of a plain error). */
static void reply_unreachable(struct http_reply *rep, const struct kubelet_location *loc,
                              const char *method, const char *path, bool upgrade, const char *why)
{
    char hp[300];
    host_port(loc, hp, sizeof(hp));
    /* Go's url.Error names the method as "Get" */
    char m[16];
    size_t i = 0;
    for (; method[i] && i < sizeof(m) - 1; i++)
        m[i] = (char)(i ? tolower((unsigned char)method[i]) : method[i]);
    m[i] = '\0';
    if (upgrade)
        reply_errorf(rep, 500, "", "error dialing backend: %s", why);
    else
        reply_errorf(rep, 500, "", "%s \"https://%s%s\": %s", m, hp, path, why);
}

static const char *reason_for(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 503:
        return "ServiceUnavailable";
    default:
        return code >= 500 ? "InternalError" : "";
    }
}

/* The kubelet answered something else than asked: its Status passes through, a text
 * becomes the message of one with the same code. */
static void relay_error(struct kubelet_conn *c, const struct kubelet_head *head,
                        struct http_reply *rep)
{
    struct kos_buf body;
    kos_buf_init(&body, ERROR_BODY_MAX + IO_CHUNK);
    const char *te = kubelet_head_get(head, "Transfer-Encoding");
    bool chunked = te && strcasestr(te, "chunked");
    const char *cl = kubelet_head_get(head, "Content-Length");
    int64_t want = -1;
    if (cl && kos_parse_int64(cl, &want) < 0)
        want = -1;
    struct kubelet_chunked ch = {0};
    char in[4096], out[4096];
    while (body.len < ERROR_BODY_MAX && (want < 0 || (int64_t)body.len < want)) {
        ssize_t n = conn_recv(c, in, sizeof(in), 10000);
        if (n <= 0)
            break;
        if (!chunked) {
            kos_buf_append(&body, in, (size_t)n);
            continue;
        }
        size_t pos = 0;
        int r = 0;
        while (pos < (size_t)n && r == 0) {
            size_t used = 0, made = 0;
            r = kubelet_chunked_decode(&ch, in + pos, (size_t)n - pos, &used, out, sizeof(out),
                                       &made);
            kos_buf_append(&body, out, made);
            pos += used;
        }
        if (r != 0)
            break;
    }
    int code = head->status >= 400 && head->status < 600 ? head->status : 502;
    _cleanup_json_ json_t *st = NULL;
    if (body.len > 0)
        st = json_loadb(body.data, body.len, 0, NULL);
    const char *kind = json_string_value(json_object_get(st, "kind"));
    if (st && kind && strcmp(kind, "Status") == 0) {
        reply_json(rep, code, st);
    } else {
        size_t len = body.len;
        while (len > 0 && isspace((unsigned char)body.data[len - 1]))
            len--;
        reply_errorf(rep, code, reason_for(code), "%.*s", (int)len, body.data ? body.data : "");
    }
    kos_buf_free(&body);
}

/* Dials, sends the request, reads the head; on failure rep holds the error. */
static struct kubelet_conn *roundtrip(struct apiserver *srv, const struct http_request *req,
                                      const struct kubelet_location *loc, const char *method,
                                      const char *path, bool upgrade, struct kubelet_head *head,
                                      struct http_reply *rep)
{
    char why[512];
    struct kubelet_conn *c = NULL;
    int r = conn_open(srv, loc, &c, why, sizeof(why));
    if (r < 0) {
        reply_unreachable(rep, loc, method, path, upgrade, why);
        return NULL;
    }
    struct kos_buf b;
    kos_buf_init(&b, KUBELET_MAX_HEAD);
    r = build_request(req, loc, method, path, upgrade, &b);
    if (r == 0)
        r = conn_send(c, b.data, b.len, DIAL_TIMEOUT_MS);
    kos_buf_free(&b);
    if (r < 0) {
        reply_unreachable(rep, loc, method, path, upgrade,
                          r == -ENOMEM ? "request too large" : "write: broken pipe");
        conn_free(c);
        return NULL;
    }
    if (read_head(c, head, why, sizeof(why)) < 0) {
        reply_unreachable(rep, loc, method, path, upgrade, why);
        conn_free(c);
        return NULL;
    }
    return c;
}

/* ---- GET (logs) ---- */

struct get_stream {
    struct kubelet_conn *c;
    bool chunked;
    struct kubelet_chunked ch;
    int64_t left; /* Content-Length left, -1 unknown */
    char in[IO_CHUNK];
    size_t in_len, in_pos;
    int client_fd;
    bool done;
};

static ssize_t get_read(void *ctx, char *buf, size_t max)
{
    struct get_stream *g = ctx;
    while (!g->done) {
        if (g->in_pos < g->in_len) {
            size_t avail = g->in_len - g->in_pos;
            if (!g->chunked) {
                size_t n = avail < max ? avail : max;
                if (g->left >= 0 && (int64_t)n > g->left)
                    n = (size_t)g->left;
                memcpy(buf, g->in + g->in_pos, n);
                g->in_pos += n;
                if (g->left >= 0 && (g->left -= (int64_t)n) == 0)
                    g->done = true;
                if (n > 0)
                    return (ssize_t)n;
                continue;
            }
            size_t used = 0, made = 0;
            int r =
                kubelet_chunked_decode(&g->ch, g->in + g->in_pos, avail, &used, buf, max, &made);
            g->in_pos += used;
            if (r != 0)
                g->done = true;
            if (made > 0)
                return (ssize_t)made;
            continue;
        }
        if (g->left == 0) {
            g->done = true;
            break;
        }
        ssize_t n = conn_recv(g->c, g->in, sizeof(g->in), PEER_POLL_MS);
        if (n == -ETIMEDOUT) {
            /* a follow that waits for lines: end it once the client left */
            struct http_request peer = {.socket_fd = g->client_fd};
            if (http_peer_gone(&peer))
                g->done = true;
            continue;
        }
        if (n <= 0) {
            g->done = true;
            break;
        }
        g->in_len = (size_t)n;
        g->in_pos = 0;
    }
    return -1;
}

static void get_free(void *ctx)
{
    struct get_stream *g = ctx;
    if (!g)
        return;
    conn_free(g->c);
    free(g);
}

void kubelet_proxy_get(struct apiserver *srv, const struct http_request *req,
                       const struct kubelet_location *loc, const char *path, struct http_reply *rep)
{
    struct kubelet_head *head = malloc(sizeof(*head));
    if (!head) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    struct kubelet_conn *c = roundtrip(srv, req, loc, "GET", path, false, head, rep);
    if (!c) {
        free(head);
        return;
    }
    if (head->status != 200) {
        relay_error(c, head, rep);
        conn_free(c);
        free(head);
        return;
    }
    struct get_stream *g = calloc(1, sizeof(*g));
    if (!g) {
        conn_free(c);
        free(head);
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    const char *te = kubelet_head_get(head, "Transfer-Encoding");
    const char *cl = kubelet_head_get(head, "Content-Length");
    g->c = c;
    g->chunked = te && strcasestr(te, "chunked");
    g->left = -1;
    if (!g->chunked && cl && kos_parse_int64(cl, &g->left) < 0)
        g->left = -1;
    g->client_fd = req->socket_fd;
    free(head);
    rep->status = 200;
    rep->content_type = CT_TEXT;
    rep->streaming = true;
    rep->stream.read = get_read;
    rep->stream.free = get_free;
    rep->stream.ctx = g;
}

/* ---- upgrades ---- */

static int fd_send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN && poll_one(fd, POLLOUT, 30000) == 0)
                continue;
            return -EPIPE;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void splice_run(void *ctx, int fd, const char *extra, size_t extra_len)
{
    struct kubelet_conn *c = ctx;
    char *buf = malloc(IO_CHUNK);
    if (!buf)
        return;
    if (extra_len > 0 && conn_send(c, extra, extra_len, 30000) < 0)
        goto out;
    if (c->pending_pos < c->pending_len &&
        fd_send_all(fd, c->pending + c->pending_pos, c->pending_len - c->pending_pos) < 0)
        goto out;
    c->pending_pos = c->pending_len;
    for (;;) {
        if (gnutls_record_check_pending(c->tls) == 0) {
            struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = c->fd, .events = POLLIN}};
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if (p[0].revents) {
                ssize_t n = read(fd, buf, IO_CHUNK);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                if (n <= 0 || conn_send(c, buf, (size_t)n, 30000) < 0)
                    break;
            }
            if (!p[1].revents)
                continue;
        }
        ssize_t n = gnutls_record_recv(c->tls, buf, IO_CHUNK);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n <= 0 || fd_send_all(fd, buf, (size_t)n) < 0)
            break;
    }
out:
    free(buf);
}

static void splice_free(void *ctx)
{
    conn_free(ctx);
}

void kubelet_proxy_upgrade(struct apiserver *srv, const struct http_request *req,
                           const struct kubelet_location *loc, const char *path,
                           struct http_reply *rep)
{
    struct kubelet_head *head = malloc(sizeof(*head));
    if (!head) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    struct kubelet_conn *c = roundtrip(srv, req, loc, req->method, path, true, head, rep);
    if (!c) {
        free(head);
        return;
    }
    if (head->status != 101) {
        relay_error(c, head, rep);
        conn_free(c);
        free(head);
        return;
    }
    static const char *const back[] = {"Upgrade", "Connection", "Sec-WebSocket-Accept",
                                       "Sec-WebSocket-Protocol", "X-Stream-Protocol-Version"};
    for (size_t i = 0; i < ARRAY_SIZE(back); i++) {
        const char *v = kubelet_head_get(head, back[i]);
        if (v && http_reply_add_header(rep, back[i], v) < 0) {
            conn_free(c);
            free(head);
            reply_errorf(rep, 500, "InternalError", "out of memory");
            return;
        }
    }
    free(head);
    struct http_upgrade up = {.run = splice_run, .free = splice_free, .ctx = c};
    http_reply_upgrade(rep, &up);
}

/* ---- where the kubelet is ---- */

int kubelet_node_location(struct apiserver *srv, const char *node, struct kubelet_location *ret,
                          struct kos_error **err)
{
    const struct kos_kind *k = kos_kind_by_kind("", "Node");
    char key[1024];
    if (!k || kos_kind_key(k, NULL, node, key, sizeof(key)) < 0)
        return kos_error_set(err, 400, "BadRequest", "invalid node name");
    struct store_kv kv = {0};
    int r = store_get(srv->store, key, &kv);
    if (r == -ENOENT)
        return kos_error_set(err, 404, "NotFound", "nodes \"%s\" not found", node);
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "reading node %s: %s", node, strerror(-r));
    _cleanup_json_ json_t *obj = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    if (!obj)
        return kos_error_set(err, 500, "InternalError", "node %s cannot be decoded", node);
    const json_t *status = json_object_get(obj, "status");
    static const char *const order[] = {"InternalIP", "Hostname", "InternalDNS", "ExternalIP",
                                        "ExternalDNS"};
    const char *addr = NULL;
    for (size_t t = 0; t < ARRAY_SIZE(order) && !addr; t++) {
        size_t i;
        const json_t *a;
        json_array_foreach(json_object_get(status, "addresses"), i, a)
        {
            const char *type = json_string_value(json_object_get(a, "type"));
            const char *v = json_string_value(json_object_get(a, "address"));
            if (type && v && v[0] && strcmp(type, order[t]) == 0) {
                addr = v;
                break;
            }
        }
    }
    if (!addr)
        return kos_error_set(err, 500, "InternalError",
                             "no preferred addresses found; known addresses: []");
    json_int_t port = json_integer_value(json_object_get(
        json_object_get(json_object_get(status, "daemonEndpoints"), "kubeletEndpoint"), "Port"));
    if (port <= 0 || port > 65535)
        port = KUBELET_DEFAULT_PORT;
    if (kos_strlcpy(ret->host, addr, sizeof(ret->host)) >= sizeof(ret->host))
        return kos_error_set(err, 500, "InternalError", "node %s: address too long", node);
    ret->port = (uint16_t)port;
    return 0;
}

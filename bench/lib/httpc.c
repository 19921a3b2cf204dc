/* The benchmarks' HTTP/1.1 keep-alive client for loopback (bench/lib/httpc.h): TLS with
 * GnuTLS or plain TCP, one handshake per connection. Shared by loadgen and sched_bench. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

const char *g_prog = "bench";

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", g_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

/* ---- growable byte buffer --------------------------------------------------------------- */

void buf_reserve(struct buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->d = xrealloc(b->d, cap);
    b->cap = cap;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->d + b->len, p, n);
    b->len += n;
    b->d[b->len] = 0;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf");
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->d + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- TLS ---------------------------------------------------------------------------------- */

gnutls_certificate_credentials_t g_cred; /* NULL: plain TCP */
static bool g_verify;

void tls_init(bool tls, const char *ca, const char *cert, const char *key)
{
    if (!tls && !ca)
        return;
    if (!cert != !key)
        die("--cert and --key go together");
    if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&g_cred) < 0)
        die("gnutls init failed");
    if (ca && gnutls_certificate_set_x509_trust_file(g_cred, ca, GNUTLS_X509_FMT_PEM) <= 0)
        die("cannot load CA %s", ca);
    g_verify = ca != NULL;
    int r = cert ? gnutls_certificate_set_x509_key_file(g_cred, cert, key, GNUTLS_X509_FMT_PEM) : 0;
    if (r < 0)
        die("cannot load %s / %s: %s", cert, key, gnutls_strerror(r));
}

/* A TLS client session over a connected socket (verified for 127.0.0.1 when a CA was given).
 * Blocking handshake; NULL (the socket left to the caller) on failure. */
gnutls_session_t tls_open(int fd)
{
    gnutls_session_t s;
    if (gnutls_init(&s, GNUTLS_CLIENT) < 0)
        return NULL;
    /* client-go's preference (Go's crypto/tls on a CPU with AES instructions): AES-128-GCM
     * first, as kubectl and kube's own components ask. GnuTLS's default puts AES-256-GCM
     * first, and both servers here take the client's order. */
    int r = gnutls_priority_set_direct(
        s, "NORMAL:-CIPHER-ALL:+AES-128-GCM:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-CBC", NULL);
    if (r == 0)
        r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, g_cred);
    if (r == 0) {
        if (g_verify)
            gnutls_session_set_verify_cert(s, "127.0.0.1", 0);
        gnutls_transport_set_int(s, fd);
        gnutls_handshake_set_timeout(s, 10000);
        do
            r = gnutls_handshake(s);
        while (r < 0 && !gnutls_error_is_fatal(r));
    }
    if (r < 0) {
        fprintf(stderr, "%s: TLS handshake failed: %s\n", g_prog, gnutls_strerror(r));
        gnutls_deinit(s);
        return NULL;
    }
    return s;
}

void tls_close(gnutls_session_t s)
{
    if (s)
        gnutls_deinit(s); /* no close_notify: the socket is closed right after */
}

/* send()/recv() over TLS when s is set, with their return conventions (-1 and errno). */
ssize_t xsend(int fd, gnutls_session_t s, const char *p, size_t n)
{
    if (!s)
        return send(fd, p, n, MSG_NOSIGNAL);
    ssize_t r;
    do
        r = gnutls_record_send(s, p, n);
    while (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN);
    if (r < 0) {
        errno = EPIPE;
        return -1;
    }
    return r;
}

ssize_t xrecv(int fd, gnutls_session_t s, char *p, size_t n, int flags)
{
    if (!s)
        return recv(fd, p, n, flags);
    /* In TLS 1.3 a post-handshake message (a session ticket) can make gnutls answer AGAIN
     * even on a blocking socket: read on, unless the caller asked not to wait. */
    ssize_t r;
    do
        r = gnutls_record_recv(s, p, n);
    while (r == GNUTLS_E_AGAIN && !(flags & MSG_DONTWAIT));
    if (r >= 0)
        return r;
    if (r == GNUTLS_E_AGAIN) {
        errno = EAGAIN;
        return -1;
    }
    if (r == GNUTLS_E_INTERRUPTED) {
        errno = EINTR;
        return -1;
    }
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    errno = ECONNRESET;
    return -1;
}

/* ---- HTTP/1.1 client --------------------------------------------------------------------- */

int g_port;

int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

void conn_close(struct conn *c)
{
    tls_close(c->tls);
    c->tls = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->in.len = 0;
    c->in_off = 0;
}

int conn_ensure(struct conn *c)
{
    if (c->fd >= 0)
        return 0;
    int fd = tcp_connect(g_port);
    if (fd < 0)
        return fd;
    c->tls = NULL;
    if (g_cred && !(c->tls = tls_open(fd))) {
        close(fd);
        return -EPROTO;
    }
    c->fd = fd;
    c->in.len = 0;
    c->in_off = 0;
    return 0;
}

int write_all(int fd, gnutls_session_t tls, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = xsend(fd, tls, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes at least `need` unread bytes available; 0, or <0 on EOF/error. */
int conn_fill(struct conn *c, size_t need)
{
    while (c->in.len - c->in_off < need) {
        if (c->in_off > 0 && c->in_off == c->in.len) {
            c->in.len = c->in_off = 0;
        } else if (c->in_off > (1u << 20)) {
            memmove(c->in.d, c->in.d + c->in_off, c->in.len - c->in_off);
            c->in.len -= c->in_off;
            c->in_off = 0;
        }
        buf_reserve(&c->in, 65536);
        ssize_t r = xrecv(c->fd, c->tls, c->in.d + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? -EPIPE : -errno;
        c->in.len += (size_t)r;
    }
    return 0;
}

/* Finds `pat` in the unread bytes, reading more as needed; returns its offset from in_off. */
ssize_t conn_find(struct conn *c, const char *pat, size_t max)
{
    size_t plen = strlen(pat);
    size_t scanned = 0;
    for (;;) {
        size_t avail = c->in.len - c->in_off;
        if (avail >= plen) {
            const char *base = c->in.d + c->in_off;
            size_t from = scanned > plen ? scanned - plen : 0;
            const char *p = memmem(base + from, avail - from, pat, plen);
            if (p)
                return p - base;
            scanned = avail;
        }
        if (avail > max)
            return -E2BIG;
        if (conn_fill(c, avail + 1) < 0)
            return -EPIPE;
    }
}

static bool header_is(const char *line, size_t len, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return false;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *val = v;
    return true;
}

/* Reads one response; the body goes to r->body (when keep is false it is only counted). */
int read_response(struct conn *c, struct resp *r)
{
    ssize_t hend = conn_find(c, "\r\n\r\n", 1 << 20);
    if (hend < 0)
        return (int)hend;
    char *h = c->in.d + c->in_off;
    h[hend] = 0; /* overwrites the \r of the final CRLFCRLF */
    r->status = 0;
    r->close = false;
    r->body.len = 0;
    if (strncmp(h, "HTTP/1.", 7) != 0 || strlen(h) < 12)
        return -EPROTO;
    r->status = atoi(h + 9);
    bool chunked = false;
    long long clen = -1;
    char *line = strstr(h, "\r\n");
    while (line) {
        line += 2;
        char *next = strstr(line, "\r\n");
        size_t len = next ? (size_t)(next - line) : strlen(line);
        const char *v;
        if (header_is(line, len, "content-length", &v))
            clen = atoll(v);
        else if (header_is(line, len, "transfer-encoding", &v) && strncasecmp(v, "chunked", 7) == 0)
            chunked = true;
        else if (header_is(line, len, "connection", &v) && strncasecmp(v, "close", 5) == 0)
            r->close = true;
        line = next;
    }
    c->in_off += (size_t)hend + 4;
    if (chunked) {
        for (;;) {
            ssize_t e = conn_find(c, "\r\n", 4096);
            if (e < 0)
                return (int)e;
            char *sz = c->in.d + c->in_off;
            sz[e] = 0;
            unsigned long long n = strtoull(sz, NULL, 16);
            c->in_off += (size_t)e + 2;
            if (n == 0) {
                /* trailers until an empty line */
                for (;;) {
                    ssize_t t = conn_find(c, "\r\n", 4096);
                    if (t < 0)
                        return (int)t;
                    c->in_off += (size_t)t + 2;
                    if (t == 0)
                        break;
                }
                break;
            }
            if (conn_fill(c, n + 2) < 0)
                return -EPIPE;
            buf_add(&r->body, c->in.d + c->in_off, n);
            c->in_off += n + 2;
        }
    } else if (clen >= 0) {
        if (conn_fill(c, (size_t)clen) < 0)
            return -EPIPE;
        buf_add(&r->body, c->in.d + c->in_off, (size_t)clen);
        c->in_off += (size_t)clen;
    } else {
        return -EPROTO; /* read-until-close bodies are not used by either server */
    }
    return 0;
}

const char *g_accept = "application/json";

int http_do(struct conn *c, const char *method, const char *path, const char *ctype,
            const char *body, size_t blen, struct resp *r)
{
    char head[2048];
    int hn = snprintf(head, sizeof(head),
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: kos-bench-%s\r\n"
                      "Accept: %s\r\n%s%s%s",
                      method, path, g_port, g_prog, g_accept, ctype ? "Content-Type: " : "",
                      ctype ? ctype : "", ctype ? "\r\n" : "");
    if (hn < 0 || (size_t)hn >= sizeof(head) - 64)
        return -E2BIG;
    if (body)
        hn += snprintf(head + hn, sizeof(head) - (size_t)hn, "Content-Length: %zu\r\n\r\n", blen);
    else
        hn += snprintf(head + hn, sizeof(head) - (size_t)hn, "\r\n");
    for (int attempt = 0; attempt < 2; attempt++) {
        int e = conn_ensure(c);
        if (e < 0)
            return e;
        e = write_all(c->fd, c->tls, head, (size_t)hn);
        if (e == 0 && body)
            e = write_all(c->fd, c->tls, body, blen);
        if (e == 0)
            e = read_response(c, r);
        if (e == 0) {
            if (r->close)
                conn_close(c);
            return 0;
        }
        conn_close(c);
        if (e != -EPIPE && e != -ECONNRESET)
            return e;
    }
    return -EPIPE;
}

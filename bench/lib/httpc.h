/* The benchmarks' HTTP/1.1 keep-alive client for loopback only, over TLS (GnuTLS) when
 * tls_init was given a CA or asked for TLS: one handshake per connection, so keep-alive
 * amortizes it as a real client's would. Errors of the machine (out of memory, bad
 * certificates) end the process through die(); the network's are returned as -errno. */
#ifndef KOS_BENCH_HTTPC_H
#define KOS_BENCH_HTTPC_H

#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

extern const char *g_prog; /* names the program in messages and in the User-Agent */

void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);

/* ---- growable byte buffer (always NUL-terminated) ---------------------------------------- */

struct buf {
    char *d;
    size_t len, cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- TLS ---------------------------------------------------------------------------------- */

extern gnutls_certificate_credentials_t g_cred; /* NULL: plain TCP */

/* TLS when tls or ca: verifying the server against ca when given, presenting cert/key when
 * given. */
void tls_init(bool tls, const char *ca, const char *cert, const char *key);
/* A client session over a connected socket (verified for 127.0.0.1 when a CA was given).
 * Blocking handshake; NULL (the socket left to the caller) on failure. */
gnutls_session_t tls_open(int fd);
void tls_close(gnutls_session_t s);
/* send()/recv() over TLS when s is set, with their return conventions (-1 and errno). */
ssize_t xsend(int fd, gnutls_session_t s, const char *p, size_t n);
ssize_t xrecv(int fd, gnutls_session_t s, char *p, size_t n, int flags);

/* ---- HTTP/1.1 ----------------------------------------------------------------------------- */

extern int g_port;           /* the server's, on 127.0.0.1 */
extern const char *g_accept; /* what requests ask for (default application/json) */

struct conn {
    int fd;               /* -1: not connected (conn_ensure connects) */
    gnutls_session_t tls; /* NULL when plain */
    struct buf in;        /* unread bytes from the socket start at in_off */
    size_t in_off;
};

struct resp {
    int status;
    bool close;
    struct buf body;
};

int tcp_connect(int port);
int conn_ensure(struct conn *c);
void conn_close(struct conn *c);
int write_all(int fd, gnutls_session_t tls, const char *p, size_t n);
/* Makes at least `need` unread bytes available; 0, or <0 on EOF/error. */
int conn_fill(struct conn *c, size_t need);
/* Finds `pat` in the unread bytes, reading more as needed; returns its offset from in_off. */
ssize_t conn_find(struct conn *c, const char *pat, size_t max);
/* Reads one response into r (Content-Length or chunked bodies). */
int read_response(struct conn *c, struct resp *r);
/* One request on a keep-alive connection, reconnecting once if the server had closed it. */
int http_do(struct conn *c, const char *method, const char *path, const char *ctype,
            const char *body, size_t blen, struct resp *r);

#endif

/* The HTTP layer: hides libmicrohttpd behind a request/reply pair so that handlers never see
 * MHD. One thread per connection: a handler may block (a write waits for its group commit, a
 * watch waits for events) without stalling other clients. Request bodies are bounded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "pki/identity.h"
#include "util/buf.h"

#define HTTP_MAX_BODY     (3u * 1024 * 1024) /* kube-apiserver's 3 MiB request limit */
#define HTTP_MAX_WARNINGS 8
#define HTTP_MAX_HEADERS  8 /* extra response headers a handler sets */

struct MHD_Connection;
struct http_local;

struct http_request {
    struct MHD_Connection *conn;
    /* Set instead of conn for a request made in process (http_local.h): its query and
     * headers come from there. */
    const struct http_local *local;
    const char *method;
    const char *path; /* percent-decoded path, no query */
    struct kos_buf body;
    bool body_too_large;
    int socket_fd; /* for noticing that a streaming client went away */
    bool tls;
    bool http11; /* HTTP/1.1 (chunked bodies possible) rather than 1.0 */
    /* TLS only (NULL otherwise): the client certificate verdict, shared by the requests of
     * one connection and valid until the request completes. */
    const struct pki_peer *peer;
    struct upgrade_holder *upgrade; /* private to http.c */
};

/* A query parameter (decoded) or NULL. */
const char *http_query(const struct http_request *r, const char *key);
/* Every value of a repeated query parameter; returns the count (at most max). */
size_t http_query_all(const struct http_request *r, const char *key, const char **out, size_t max);
/* A request header or NULL (case-insensitive name). */
const char *http_header(const struct http_request *r, const char *name);
/* Calls fn for every request header whose name starts with prefix (case-insensitive), in the
 * order received, until fn returns false. */
typedef bool (*http_header_fn)(void *ctx, const char *name, const char *value);
void http_headers_with_prefix(const struct http_request *r, const char *prefix, http_header_fn fn,
                              void *ctx);
/* Decodes %HH in place, except %00 (a NUL would cut the string: "keep%00evil" must not
 * address "keep"); returns the new length. As MHD is told to decode paths and queries. */
size_t http_unescape(char *s);
/* True when the peer closed its side (checked without blocking). */
bool http_peer_gone(const struct http_request *r);

/* The connection of a request whose streamed body is being read, lent out so that another
 * thread can write the body straight to it (the watch fan-out, apiserver/watch_fanout.h).
 * Only from inside the stream's read() (where every byte returned earlier has been sent, see
 * http.c), and the HTTP layer's thread stays in that read() until http_io_return: the bytes
 * written meanwhile are the raw body, chunk framing included. One thread writes at a time. */
struct http_io {
    int fd;
    void *tls;  /* the TLS session, NULL for plain HTTP */
    void *conn; /* the HTTP layer's connection (NULL: nothing to tell it) */
    int saved_flags, saved_nodelay, saved_cork;
};

int http_io_borrow(const struct http_request *r, struct http_io *ret);
/* Sends without blocking: the count sent (maybe less than len), -EAGAIN (wait for the socket
 * to be writable; with TLS the same bytes must then be sent again), or -EPIPE once the
 * connection is unusable. */
ssize_t http_io_send(struct http_io *io, const void *buf, size_t len);
/* Restores what borrow changed (blocking mode, Nagle, cork) and counts the time lent as
 * activity on the connection, before the HTTP layer goes on. */
void http_io_return(struct http_io *io);

/* A streamed body (chunked): read() fills buf and returns the byte count, or -1 at the end.
 * It may block; it runs on the connection's own thread. */
struct http_stream {
    ssize_t (*read)(void *ctx, char *buf, size_t max);
    void (*free)(void *ctx);
    void *ctx;
};

/* A protocol switch (WebSocket, SPDY): after the 101 answer, run() owns the connection as a
 * bidirectional byte stream on a thread of its own (TLS is terminated below it: fd may be
 * MHD's socketpair). extra holds bytes the client sent after the request head. run() must
 * return once fd reports EOF or an error; the server shuts fd down when it stops. free()
 * releases ctx afterwards, and also when the upgrade never happened. */
struct http_upgrade {
    void (*run)(void *ctx, int fd, const char *extra, size_t extra_len);
    void (*free)(void *ctx);
    void *ctx;
};

struct http_reply {
    int status;
    const char *content_type; /* static string */
    /* exactly one body form: */
    char *body; /* malloc'd, owned */
    size_t len;
    struct iovec *iov; /* parts sent without copying; iov_free releases them */
    size_t iovcnt;
    void (*iov_free)(void *ctx);
    void *iov_ctx;
    struct http_stream stream;
    bool streaming;
    struct http_upgrade upgrade; /* with status 101 */
    bool upgrading;
    char *warnings[HTTP_MAX_WARNINGS];
    size_t nwarnings;
    char *headers[HTTP_MAX_HEADERS][2]; /* name, value (owned) */
    size_t nheaders;
};

void http_reply_set_body(struct http_reply *rep, int status, const char *content_type, char *body,
                         size_t len);
void http_reply_add_warning(struct http_reply *rep, const char *text);
/* Adds a response header (copied); -E2BIG past HTTP_MAX_HEADERS. */
int http_reply_add_header(struct http_reply *rep, const char *name, const char *value);
/* Answers 101 Switching Protocols and hands the connection to up (ownership moves). */
void http_reply_upgrade(struct http_reply *rep, const struct http_upgrade *up);
void http_reply_clear(struct http_reply *rep);

typedef void (*http_handler_fn)(void *ctx, struct http_request *req, struct http_reply *rep);

struct http_server;

struct http_server_options {
    const char *bind_address;
    uint16_t port;
    unsigned connection_limit;
    http_handler_fn handler;
    void *handler_ctx;
    /* TLS (all PEM). kos server always serves TLS; NULL cert = plain HTTP, left for unit
     * tests of the layers above. client_ca_pem: client certificates are requested, not
     * required, and verified against it per connection (http_request.peer). */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    const char *client_ca_pem;
};

int http_server_start(const struct http_server_options *opts, struct http_server **ret);
uint16_t http_server_port(const struct http_server *s);
void http_server_stop(struct http_server *s);

#include "apiserver/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "apiserver/http_local.h"
#include "pki/pki.h"
#include "util/cleanup.h"

/* An upgraded connection being served; listed so that stopping the server can end it. */
struct upgrade_session {
    struct http_server *srv;
    struct upgrade_holder *holder;
    int fd;
    char *extra;
    size_t extra_len;
    struct MHD_UpgradeResponseHandle *urh;
    struct upgrade_session *next;
};
#define HTTP_CONNECTION_TIMEOUT_S 600

struct http_server {
    struct MHD_Daemon *daemon;
    pthread_mutex_t sessions_lock;
    pthread_cond_t sessions_done;
    struct upgrade_session *sessions;
    bool stopping;
    http_handler_fn handler;
    void *handler_ctx;
    uint16_t port;
    bool tls;
    char *tls_cert, *tls_key, *client_ca; /* copies: MHD keeps the pointers */
    struct pki_trust *client_trust;       /* NULL: no client certificate authentication */
};

const char *http_query(const struct http_request *r, const char *key)
{
    if (r->local)
        return http_local_query(r->local, key);
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct query_collect {
    const char *key;
    const char **out;
    size_t max;
    size_t n;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_collect *c = cls;
    if (key && value && strcmp(key, c->key) == 0 && c->n < c->max)
        c->out[c->n++] = value;
    return MHD_YES;
}

size_t http_query_all(const struct http_request *r, const char *key, const char **out, size_t max)
{
    if (r->local)
        return http_local_query_all(r->local, key, out, max);
    struct query_collect c = {key, out, max, 0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_query, &c);
    return c.n;
}

const char *http_header(const struct http_request *r, const char *name)
{
    if (r->local)
        return http_local_header(r->local, name);
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

struct header_walk {
    const char *prefix;
    size_t len;
    http_header_fn fn;
    void *ctx;
    bool stop;
};

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct header_walk *w = cls;
    if (w->stop || !key || strncasecmp(key, w->prefix, w->len) != 0)
        return MHD_YES;
    if (!w->fn(w->ctx, key, value ? value : ""))
        w->stop = true;
    return w->stop ? MHD_NO : MHD_YES;
}

void http_headers_with_prefix(const struct http_request *r, const char *prefix, http_header_fn fn,
                              void *ctx)
{
    if (r->local) {
        http_local_headers_with_prefix(r->local, prefix, fn, ctx);
        return;
    }
    struct header_walk w = {prefix, strlen(prefix), fn, ctx, false};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, walk_header, &w);
}

bool http_peer_gone(const struct http_request *r)
{
    if (r->socket_fd < 0)
        return false;
    struct pollfd p = {.fd = r->socket_fd, .events = POLLRDHUP};
    int n = poll(&p, 1, 0);
    return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Lending the connection from inside a content reader is safe with MHD 0.9.75 because of how
 * it sends chunked bodies: it sends the headers completely (HEADERS_SENT) before it asks the
 * reader for the first chunk, and asks for the next chunk only once the previous one has been
 * handed to the socket whole (CHUNKED_BODY_READY -> CHUNKED_BODY_UNREADY in check_write_done),
 * a TLS record included. While the reader runs, MHD's thread touches neither the socket nor
 * the TLS session. */
int http_io_borrow(const struct http_request *r, struct http_io *ret)
{
    if (!r || r->socket_fd < 0)
        return -EBADF;
    struct http_io io = {.fd = r->socket_fd, .conn = r->conn};
    if (r->tls) {
        const union MHD_ConnectionInfo *ti =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (!ti || !ti->tls_session)
            return -EBADF;
        io.tls = ti->tls_session;
    }
    socklen_t len = sizeof(int);
    io.saved_flags = fcntl(io.fd, F_GETFL);
    if (io.saved_flags < 0 ||
        getsockopt(io.fd, IPPROTO_TCP, TCP_NODELAY, &io.saved_nodelay, &len) < 0)
        return -errno;
    len = sizeof(int);
    if (getsockopt(io.fd, IPPROTO_TCP, TCP_CORK, &io.saved_cork, &len) < 0)
        return -errno;
    /* each write is a whole event: send it now */
    int on = 1, off = 0;
    if (fcntl(io.fd, F_SETFL, io.saved_flags | O_NONBLOCK) < 0 ||
        setsockopt(io.fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off)) < 0 ||
        setsockopt(io.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
        return -errno;
    *ret = io;
    return 0;
}

ssize_t http_io_send(struct http_io *io, const void *buf, size_t len)
{
    if (io->tls) {
        ssize_t n = gnutls_record_send((gnutls_session_t)io->tls, buf, len);
        if (n >= 0)
            return n;
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            return -EAGAIN;
        return -EPIPE;
    }
    for (;;) {
        ssize_t n = send(io->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EPIPE;
    }
}

void http_io_return(struct http_io *io)
{
    /* MHD saw no traffic while the connection was lent and would take a long watch for an
     * idle connection, closing it instead of ending the body. Setting the timeout from 0 is
     * what makes 0.9.75 restart its idle clock. */
    if (io->conn) {
        MHD_set_connection_option(io->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
        MHD_set_connection_option(io->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned)HTTP_CONNECTION_TIMEOUT_S);
    }
    (void)setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &io->saved_nodelay, sizeof(int));
    (void)setsockopt(io->fd, IPPROTO_TCP, TCP_CORK, &io->saved_cork, sizeof(int));
    (void)fcntl(io->fd, F_SETFL, io->saved_flags);
}

void http_reply_set_body(struct http_reply *rep, int status, const char *content_type, char *body,
                         size_t len)
{
    free(rep->body);
    rep->status = status;
    rep->content_type = content_type;
    rep->body = body;
    rep->len = len;
}

void http_reply_add_warning(struct http_reply *rep, const char *text)
{
    if (rep->nwarnings >= HTTP_MAX_WARNINGS)
        return;
    /* RFC 7234 warning: 299 = miscellaneous persistent warning, "-" = no agent; the text is
     * a quoted-string, so quotes and backslashes inside it are escaped (client-go unquotes
     * it), and control characters are dropped. */
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    int r = kos_buf_append_str(&b, "299 - \"");
    for (const char *p = text; r == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            r = kos_buf_append(&b, "\\", 1);
        if (r == 0 && (unsigned char)*p >= 0x20)
            r = kos_buf_append(&b, p, 1);
    }
    if (r == 0)
        r = kos_buf_append_str(&b, "\"");
    if (r == 0)
        rep->warnings[rep->nwarnings++] = kos_buf_steal(&b, NULL);
    kos_buf_free(&b);
}

int http_reply_add_header(struct http_reply *rep, const char *name, const char *value)
{
    if (rep->nheaders >= HTTP_MAX_HEADERS)
        return -E2BIG;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return -ENOMEM;
    }
    rep->headers[rep->nheaders][0] = n;
    rep->headers[rep->nheaders][1] = v;
    rep->nheaders++;
    return 0;
}

void http_reply_upgrade(struct http_reply *rep, const struct http_upgrade *up)
{
    if (rep->upgrading && rep->upgrade.free)
        rep->upgrade.free(rep->upgrade.ctx);
    rep->status = 101;
    rep->upgrade = *up;
    rep->upgrading = true;
}

void http_reply_clear(struct http_reply *rep)
{
    free(rep->body);
    if (rep->upgrading && rep->upgrade.free)
        rep->upgrade.free(rep->upgrade.ctx);
    for (size_t i = 0; i < rep->nheaders; i++) {
        free(rep->headers[i][0]);
        free(rep->headers[i][1]);
    }
    if (rep->iov_free)
        rep->iov_free(rep->iov_ctx);
    free(rep->iov);
    if (rep->streaming && rep->stream.free)
        rep->stream.free(rep->stream.ctx);
    for (size_t i = 0; i < rep->nwarnings; i++)
        free(rep->warnings[i]);
    memset(rep, 0, sizeof(*rep));
}

/* A body made of parts (a LIST: envelope + stored objects) is sent through a content reader
 * rather than MHD_create_response_from_iovec: MHD 0.9.75 copies the iovec array into the
 * connection's small memory pool and aborts the process when it does not fit (about a
 * thousand parts). The reader copies straight from the parts into MHD's send buffer. */
struct iov_holder {
    struct iovec *iov;
    size_t iovcnt;
    size_t index;    /* part holding offset `offset` */
    uint64_t offset; /* body offset where part `index` starts */
    void (*free_fn)(void *ctx);
    void *ctx;
};

#define IOV_BLOCK_MIN 1024
#define IOV_BLOCK_MAX (256 * 1024)

static void iov_holder_free(void *cls)
{
    struct iov_holder *h = cls;
    if (h->free_fn)
        h->free_fn(h->ctx);
    free(h->iov);
    free(h);
}

static ssize_t iov_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct iov_holder *h = cls;
    /* MHD reads forward; rewind only if it ever asks for an earlier offset. */
    if (pos < h->offset) {
        h->index = 0;
        h->offset = 0;
    }
    while (h->index < h->iovcnt && pos >= h->offset + h->iov[h->index].iov_len) {
        h->offset += h->iov[h->index].iov_len;
        h->index++;
    }
    size_t n = 0;
    size_t i = h->index;
    uint64_t part_start = h->offset;
    while (n < max && i < h->iovcnt) {
        const struct iovec *v = &h->iov[i];
        size_t skip = pos + n > part_start ? (size_t)(pos + n - part_start) : 0;
        size_t take = v->iov_len - skip;
        if (take > max - n)
            take = max - n;
        memcpy(buf + n, (const char *)v->iov_base + skip, take);
        n += take;
        if (skip + take == v->iov_len) {
            part_start += v->iov_len;
            i++;
        }
    }
    return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct http_stream *s = cls;
    ssize_t n = s->read(s->ctx, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
}

static void stream_free(void *cls)
{
    struct http_stream *s = cls;
    if (s->free)
        s->free(s->ctx);
    free(s);
}

/* The upgrade travels with two references: the request's (dropped when MHD completes it,
 * whether or not the switch happened) and the session thread's. */
struct upgrade_holder {
    struct http_upgrade up;
    atomic_int refs;
    struct http_server *srv;
};

static void holder_unref(struct upgrade_holder *h)
{
    if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
        return;
    if (h->up.free)
        h->up.free(h->up.ctx);
    free(h);
}

static void *session_main(void *arg)
{
    struct upgrade_session *s = arg;
    struct http_server *srv = s->srv;
    s->holder->up.run(s->holder->up.ctx, s->fd, s->extra, s->extra_len);
    pthread_mutex_lock(&srv->sessions_lock);
    for (struct upgrade_session **p = &srv->sessions; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
    pthread_cond_broadcast(&srv->sessions_done);
    pthread_mutex_unlock(&srv->sessions_lock);
    holder_unref(s->holder);
    free(s->extra);
    free(s);
    return NULL;
}

/* MHD calls this on the connection's thread once the 101 went out; under TLS it forwards the
 * socketpair only after we return, so the session runs on a thread of its own. */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct upgrade_holder *h = cls;
    struct http_server *srv = h->srv;
    struct upgrade_session *s = calloc(1, sizeof(*s));
    if (s && extra_in_size > 0) {
        s->extra = malloc(extra_in_size);
        if (s->extra)
            memcpy(s->extra, extra_in, extra_in_size);
    }
    if (!s || (extra_in_size > 0 && !s->extra)) {
        if (s)
            free(s);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    s->srv = srv;
    s->holder = h;
    s->fd = sock;
    s->extra_len = extra_in_size;
    s->urh = urh;
    atomic_fetch_add(&h->refs, 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    pthread_mutex_lock(&srv->sessions_lock);
    pthread_t t;
    bool ok = !srv->stopping && pthread_create(&t, &attr, session_main, s) == 0;
    if (ok) {
        s->next = srv->sessions;
        srv->sessions = s;
    }
    pthread_mutex_unlock(&srv->sessions_lock);
    pthread_attr_destroy(&attr);
    if (!ok) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        holder_unref(h);
        free(s->extra);
        free(s);
    }
}

static struct MHD_Response *make_upgrade_response(struct http_server *srv, struct http_request *req,
                                                  struct http_reply *rep)
{
    struct upgrade_holder *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->up = rep->upgrade;
    h->srv = srv;
    atomic_init(&h->refs, 1);
    rep->upgrading = false; /* ownership moved to the holder */
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, h);
    if (!resp) {
        holder_unref(h);
        return NULL;
    }
    holder_unref(req->upgrade);
    req->upgrade = h;
    for (size_t i = 0; i < rep->nheaders; i++)
        MHD_add_response_header(resp, rep->headers[i][0], rep->headers[i][1]);
    return resp;
}

static struct MHD_Response *make_response(struct http_reply *rep)
{
    struct MHD_Response *resp = NULL;
    if (rep->streaming) {
        struct http_stream *s = malloc(sizeof(*s));
        if (!s)
            return NULL;
        *s = rep->stream;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_reader, s,
                                                 stream_free);
        if (!resp) {
            stream_free(s);
        }
        rep->streaming = false; /* ownership moved to the response */
    } else if (rep->iov) {
        struct iov_holder *h = calloc(1, sizeof(*h));
        if (!h)
            return NULL;
        uint64_t total = 0;
        for (size_t i = 0; i < rep->iovcnt; i++)
            total += rep->iov[i].iov_len;
        h->iov = rep->iov;
        h->iovcnt = rep->iovcnt;
        h->free_fn = rep->iov_free;
        h->ctx = rep->iov_ctx;
        if (rep->iovcnt == 1) {
            /* one part (a stored object): sent from its own bytes, without the block a
             * callback response callocs */
            resp = MHD_create_response_from_buffer_with_free_callback_cls(
                rep->iov[0].iov_len, rep->iov[0].iov_base, iov_holder_free, h);
        } else {
            /* MHD callocs the block with the response: a 256 KiB one for a 3 KB object cost
             * more than encoding it (memset, page faults, malloc_consolidate) */
            size_t block = total < IOV_BLOCK_MIN   ? IOV_BLOCK_MIN
                           : total > IOV_BLOCK_MAX ? IOV_BLOCK_MAX
                                                   : (size_t)total;
            resp = MHD_create_response_from_callback(total, block, iov_reader, h, iov_holder_free);
        }
        if (!resp) {
            free(h);
            return NULL;
        }
        rep->iov = NULL;
        rep->iov_free = NULL;
    } else {
        char *body = rep->body ? rep->body : strdup("");
        if (!body)
            return NULL;
        resp = MHD_create_response_from_buffer_with_free_callback(rep->body ? rep->len : 0, body,
                                                                  free);
        if (!resp) {
            if (!rep->body)
                free(body);
            return NULL;
        }
        rep->body = NULL;
    }
    if (resp) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                rep->content_type ? rep->content_type : "application/json");
        MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
        for (size_t i = 0; i < rep->nwarnings; i++)
            MHD_add_response_header(resp, "Warning", rep->warnings[i]);
        for (size_t i = 0; i < rep->nheaders; i++)
            MHD_add_response_header(resp, rep->headers[i][0], rep->headers[i][1]);
    }
    return resp;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %HH in paths and query values, except %00: a NUL would cut the C string and make
 * "keep%00evil" address "keep". Left encoded, such a name simply matches nothing. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    return http_unescape(s);
}

size_t http_unescape(char *s)
{
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0 &&
            (hi | lo) != 0) {
            *out++ = (char)(hi << 4 | lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

static int connection_fd(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

/* TLS: each connection carries its client-certificate verdict (struct pki_peer) as MHD's
 * socket context, so that keep-alive requests do not re-verify the chain. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(struct pki_peer)); /* NULL: requests get refused */
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        pki_peer_clear(*socket_context);
        free(*socket_context);
        *socket_context = NULL;
    }
}

static const struct pki_peer *connection_peer(struct http_server *srv, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct pki_peer *peer = ci ? ci->socket_context : NULL;
    if (!peer)
        return NULL;
    const union MHD_ConnectionInfo *ti =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    pki_peer_update(ti ? (gnutls_session_t)ti->tls_session : NULL, srv->client_trust, peer,
                    time(NULL));
    return peer;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct http_request *req = *con_cls;

    /* First call: headers only. Answering now would make MHD close the connection, so the
     * documented two-phase idiom is used: remember the request and answer later. */
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->socket_fd = connection_fd(conn);
        req->http11 = version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0;
        if (srv->tls) {
            req->tls = true;
            req->peer = connection_peer(srv, conn);
            if (!req->peer) {
                free(req);
                return MHD_NO;
            }
        }
        kos_buf_init(&req->body, HTTP_MAX_BODY);
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY)
            req->body_too_large = true;
        *con_cls = req;
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        if (!req->body_too_large &&
            kos_buf_append(&req->body, upload_data, *upload_data_size) == -E2BIG)
            req->body_too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }

    struct http_reply rep = {0};
    srv->handler(srv->handler_ctx, req, &rep);
    struct MHD_Response *resp =
        rep.upgrading ? make_upgrade_response(srv, req, &rep) : make_response(&rep);
    int status = rep.status ? rep.status : 500;
    http_reply_clear(&rep);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_request *req = *con_cls;
    if (!req)
        return;
    kos_buf_free(&req->body);
    holder_unref(req->upgrade);
    free(req);
    *con_cls = NULL;
}

static void free_tls(struct http_server *srv)
{
    free(srv->tls_cert);
    free(srv->tls_key);
    free(srv->client_ca);
    pki_trust_free(srv->client_trust);
}

/* The MHD options TLS adds (an empty list for plain HTTP). MHD itself offers ALPN http/1.1
 * and http/1.0 only, so a Go client that also offers h2 settles on HTTP/1.1. */
static int tls_options(struct http_server *srv, const struct http_server_options *opts,
                       struct MHD_OptionItem *o, size_t max)
{
    size_t k = 0;
    if (max < 6)
        return -E2BIG;
    if (opts->tls_cert_pem) {
        if (!opts->tls_key_pem ||
            pki_check_keypair(opts->tls_cert_pem, strlen(opts->tls_cert_pem), opts->tls_key_pem,
                              strlen(opts->tls_key_pem), "TLS", NULL) < 0)
            return -EINVAL;
        srv->tls = true;
        srv->tls_cert = strdup(opts->tls_cert_pem);
        srv->tls_key = strdup(opts->tls_key_pem);
        if (!srv->tls_cert || !srv->tls_key)
            return -ENOMEM;
        o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
        o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
        o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, PKI_TLS_PRIORITIES};
        o[k++] =
            (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv};
    }
    if (opts->tls_cert_pem && opts->client_ca_pem) {
        int r = pki_trust_new(opts->client_ca_pem, strlen(opts->client_ca_pem), &srv->client_trust,
                              NULL);
        if (r < 0)
            return r;
        srv->client_ca = strdup(opts->client_ca_pem);
        if (!srv->client_ca)
            return -ENOMEM;
        o[k++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->client_ca};
    }
    o[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return 0;
}

int http_server_start(const struct http_server_options *opts, struct http_server **ret)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(opts->port)};
    if (inet_pton(AF_INET, opts->bind_address, &addr.sin_addr) != 1)
        return -EINVAL;

    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -ENOMEM;
    srv->handler = opts->handler;
    srv->handler_ctx = opts->handler_ctx;
    pthread_mutex_init(&srv->sessions_lock, NULL);
    pthread_cond_init(&srv->sessions_done, NULL);
    struct MHD_OptionItem tls_opts[8];
    int r = tls_options(srv, opts, tls_opts, ARRAY_SIZE(tls_opts));
    if (r < 0) {
        free_tls(srv);
        free(srv);
        return r;
    }

    /* Thread per connection: handlers block on group commit and on watch events. */
    unsigned flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_UPGRADE;
    if (srv->tls)
        flags |= MHD_USE_TLS;
    srv->daemon = MHD_start_daemon(
        flags, opts->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_LIMIT,
        opts->connection_limit ? opts->connection_limit : 4096u, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_UNESCAPE_CALLBACK, unescape, srv,
        MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    if (!srv->daemon) {
        int saved = errno ? errno : EADDRINUSE;
        free_tls(srv);
        free(srv);
        return -saved;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : opts->port;
    *ret = srv;
    return 0;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* Upgraded sessions end when their stream does; MHD must not be stopped under them. */
    pthread_mutex_lock(&s->sessions_lock);
    s->stopping = true;
    for (struct upgrade_session *u = s->sessions; u; u = u->next)
        shutdown(u->fd, SHUT_RDWR);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    while (s->sessions &&
           pthread_cond_timedwait(&s->sessions_done, &s->sessions_lock, &deadline) == 0)
        ;
    bool stuck = s->sessions != NULL;
    pthread_mutex_unlock(&s->sessions_lock);
    if (stuck)
        return; /* a session still runs and uses s: leave it all to the exiting process */
    MHD_stop_daemon(s->daemon);
    free_tls(s);
    free(s);
}

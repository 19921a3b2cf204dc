/* Port-forward sessions (see portforward.h). */
#include "stream/portforward.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream/spdy_conn.h"
#include "stream/websocket.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define PF_CHUNK 32768

enum pf_protocol pf_select_websocket_protocol(const char *header)
{
    if (ws_header_has_token(header, "SPDY/3.1+portforward.k8s.io"))
        return PF_PROTO_WS_SPDY;
    if (ws_header_has_token(header, "v4.channel.k8s.io"))
        return PF_PROTO_WS_V4;
    return PF_PROTO_NONE;
}

const char *pf_protocol_name(enum pf_protocol p)
{
    switch (p) {
    case PF_PROTO_WS_V4:
        return "v4.channel.k8s.io";
    case PF_PROTO_WS_SPDY:
        return "SPDY/3.1+portforward.k8s.io";
    case PF_PROTO_SPDY:
        return "portforward.k8s.io";
    default:
        return "";
    }
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Writes all of data to a socket, waiting while it is full (bounded wait). */
static int sock_write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, 30000) <= 0)
                return -ETIMEDOUT;
            continue;
        }
        return -EPIPE;
    }
    return 0;
}

/* --- WebSocket v4.channel.k8s.io (kubelet's portforward/websocket.go) --- */

static void serve_ws_v4(int fd, const char *extra, size_t extra_len, const uint16_t *ports,
                        size_t nports, pf_dial_fn dial, void *dial_ctx)
{
    struct ws_conn ws;
    if (ws_conn_init(&ws, fd, extra, extra_len) < 0)
        return;
    set_nonblock(fd);
    int conns[16];
    size_t n = nports > 16 ? 16 : nports;
    for (size_t i = 0; i < n; i++) {
        conns[i] = -1;
        uint8_t pb[2] = {(uint8_t)ports[i], (uint8_t)(ports[i] >> 8)};
        ws_conn_send_channel(&ws, (uint8_t)(2 * i), pb, 2);
        ws_conn_send_channel(&ws, (uint8_t)(2 * i + 1), pb, 2);
    }
    size_t open_ports = 0;
    for (size_t i = 0; i < n; i++) {
        char *msg = NULL;
        if (dial(dial_ctx, ports[i], &conns[i], &msg) < 0) {
            conns[i] = -1;
            if (msg)
                ws_conn_send_channel(&ws, (uint8_t)(2 * i + 1), msg, strlen(msg));
            free(msg);
            continue;
        }
        set_nonblock(conns[i]);
        open_ports++;
    }
    while (!ws.closed && open_ports > 0) {
        struct pollfd pf[17];
        size_t map[17];
        nfds_t k = 0;
        pf[k] = (struct pollfd){.fd = fd, .events = POLLIN};
        map[k++] = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (conns[i] < 0)
                continue;
            pf[k] = (struct pollfd){.fd = conns[i], .events = POLLIN};
            map[k++] = i;
        }
        int pr = poll(pf, k, 1000);
        if (pr < 0 && errno != EINTR)
            break;
        for (nfds_t j = 1; pr > 0 && j < k; j++) {
            if (!pf[j].revents)
                continue;
            size_t i = map[j];
            uint8_t buf[PF_CHUNK];
            ssize_t r = recv(conns[i], buf, sizeof(buf), 0);
            if (r > 0) {
                if (ws_conn_send_channel(&ws, (uint8_t)(2 * i), buf, (size_t)r) < 0)
                    ws.closed = true;
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(conns[i]);
                conns[i] = -1;
                open_ports--;
            }
        }
        if (pr > 0 && pf[0].revents) {
            struct ws_message m;
            int r;
            while ((r = ws_conn_poll_message(&ws, &m)) == 1) {
                if (m.len < 1 || m.data[0] % 2 != 0 || m.data[0] / 2 >= n)
                    continue;
                size_t i = m.data[0] / 2;
                if (conns[i] >= 0 && m.len > 1 &&
                    sock_write_all(conns[i], m.data + 1, m.len - 1) < 0) {
                    close(conns[i]);
                    conns[i] = -1;
                    open_ports--;
                }
            }
            if (r < 0)
                ws.closed = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (conns[i] >= 0)
            close(conns[i]);
    ws_conn_close(&ws, WS_CLOSE_NORMAL);
    ws_conn_free(&ws);
}

/* --- SPDY/3.1, raw or tunnelled in WebSocket binary messages (kubelet's
 * portforward/httpstream.go) --- */

#define PF_MAX_PAIRS (PF_MAX_STREAMS / 2)

struct pf_pair {
    bool used;
    char request_id[32];
    uint32_t data_id, error_id;
    uint16_t port;
    int sock;
    bool started;
};

struct spdy_session {
    struct spdy_conn c;
    struct pf_pair pairs[PF_MAX_PAIRS];
    size_t nstreams;
    pf_dial_fn dial;
    void *dial_ctx;
};

static struct pf_pair *pair_find(struct spdy_session *s, uint32_t id)
{
    for (size_t i = 0; i < PF_MAX_PAIRS; i++)
        if (s->pairs[i].used && (s->pairs[i].data_id == id || s->pairs[i].error_id == id))
            return &s->pairs[i];
    return NULL;
}

static void pair_free(struct spdy_session *s, struct pf_pair *p)
{
    if (p->sock >= 0)
        close(p->sock);
    s->nstreams -= (p->data_id ? 1 : 0) + (p->error_id ? 1 : 0);
    memset(p, 0, sizeof(*p));
    p->sock = -1;
}

/* The kubelet's end of a forwarded connection: both streams closed from our side. */
static void pair_finish(struct spdy_session *s, struct pf_pair *p, const char *error)
{
    if (error && p->error_id)
        spdy_encode_data(&s->c.out, p->error_id, 0, error, strlen(error));
    if (p->error_id)
        spdy_encode_data(&s->c.out, p->error_id, SPDY_FLAG_FIN, NULL, 0);
    if (p->data_id)
        spdy_encode_data(&s->c.out, p->data_id, SPDY_FLAG_FIN, NULL, 0);
    pair_free(s, p);
}

static void pair_start(struct spdy_session *s, struct pf_pair *p)
{
    p->started = true;
    char *msg = NULL;
    int fd = -1;
    if (s->dial(s->dial_ctx, p->port, &fd, &msg) < 0) {
        pair_finish(s, p, msg ? msg : "error forwarding port");
        free(msg);
        return;
    }
    set_nonblock(fd);
    p->sock = fd;
}

static void on_syn_stream(struct spdy_session *s, const struct spdy_frame *f)
{
    const char *names[1], *values[1];
    char type[16] = "", port[16] = "", rid[32] = "";
    spdy_header_get(f, "streamtype", type, sizeof(type));
    spdy_header_get(f, "port", port, sizeof(port));
    bool is_data = strcmp(type, "data") == 0, is_error = strcmp(type, "error") == 0;
    if (!spdy_header_get(f, "requestid", rid, sizeof(rid)) || !rid[0])
        snprintf(rid, sizeof(rid), "%u", is_data ? f->stream_id - 2 : f->stream_id);
    int64_t pv = 0;
    bool ok = (is_data || is_error) && kos_parse_int64(port, &pv) == 0 && pv > 0 && pv < 65536 &&
              !pair_find(s, f->stream_id) && s->nstreams < PF_MAX_STREAMS;
    struct pf_pair *p = NULL;
    if (ok) {
        for (size_t i = 0; i < PF_MAX_PAIRS && !p; i++)
            if (s->pairs[i].used && strcmp(s->pairs[i].request_id, rid) == 0)
                p = &s->pairs[i];
        if (p && ((is_data && p->data_id) || (is_error && p->error_id) || p->port != pv))
            ok = false;
        for (size_t i = 0; ok && i < PF_MAX_PAIRS && !p; i++) {
            if (!s->pairs[i].used) {
                p = &s->pairs[i];
                p->used = true;
                p->sock = -1;
                p->port = (uint16_t)pv;
                kos_strlcpy(p->request_id, rid, sizeof(p->request_id));
            }
        }
        ok = ok && p;
    }
    /* a refused stream gets a reply with FIN, as spdystream's rejection */
    spdy_encode_syn_reply(&s->c.enc, &s->c.out, f->stream_id, ok ? 0 : SPDY_FLAG_FIN, names, values,
                          0);
    if (!ok)
        return;
    if (is_data)
        p->data_id = f->stream_id;
    else
        p->error_id = f->stream_id;
    s->nstreams++;
    if (p->data_id && p->error_id && !p->started)
        pair_start(s, p);
}

static void on_frame(void *ctx, const struct spdy_frame *f)
{
    struct spdy_session *s = ctx;
    struct pf_pair *p;
    switch (f->type) {
    case SPDY_SYN_STREAM:
        on_syn_stream(s, f);
        return;
    case SPDY_DATA:
        p = pair_find(s, f->stream_id);
        if (!p || f->stream_id != p->data_id || p->sock < 0)
            return;
        if (f->len > 0 && sock_write_all(p->sock, f->data, f->len) < 0) {
            pair_finish(s, p, NULL);
            return;
        }
        if (f->flags & SPDY_FLAG_FIN)
            shutdown(p->sock, SHUT_WR);
        return;
    case SPDY_RST_STREAM:
        p = pair_find(s, f->stream_id);
        if (p)
            pair_free(s, p);
        return;
    default:
        return; /* SETTINGS, WINDOW_UPDATE (spdystream has no flow control), HEADERS */
    }
}

/* Reads what the client sent and handles every complete frame. */
static void read_client(struct spdy_session *s)
{
    if (spdy_conn_read(&s->c, on_frame, s) < 0 && !s->c.closed) {
        /* the header compression state is lost with a bad frame: end the connection */
        spdy_encode_goaway(&s->c.out, 0, 1);
        spdy_conn_flush(&s->c);
        s->c.closed = true;
    }
}

static void serve_spdy(int fd, const char *extra, size_t extra_len, bool tunnel, pf_dial_fn dial,
                       void *dial_ctx)
{
    struct spdy_session *s = calloc(1, sizeof(*s));
    if (!s)
        return;
    s->dial = dial;
    s->dial_ctx = dial_ctx;
    for (size_t i = 0; i < PF_MAX_PAIRS; i++)
        s->pairs[i].sock = -1;
    if (spdy_conn_open(&s->c, fd, extra, extra_len, tunnel) < 0)
        goto out;
    if (extra_len > 0 || tunnel)
        read_client(s); /* what came with the request head (or the WebSocket's first bytes) */
    spdy_conn_flush(&s->c);
    while (!s->c.closed) {
        struct pollfd pf[1 + PF_MAX_PAIRS];
        struct pf_pair *map[1 + PF_MAX_PAIRS];
        nfds_t k = 0;
        pf[k] = (struct pollfd){.fd = fd, .events = POLLIN};
        map[k++] = NULL;
        for (size_t i = 0; i < PF_MAX_PAIRS; i++) {
            if (s->pairs[i].used && s->pairs[i].sock >= 0) {
                pf[k] = (struct pollfd){.fd = s->pairs[i].sock, .events = POLLIN};
                map[k++] = &s->pairs[i];
            }
        }
        int pr = poll(pf, k, 1000);
        if (pr < 0 && errno != EINTR)
            break;
        for (nfds_t j = 1; pr > 0 && j < k && !s->c.closed; j++) {
            struct pf_pair *p = map[j];
            if (!pf[j].revents || !p->used || p->sock != pf[j].fd)
                continue;
            uint8_t buf[PF_CHUNK];
            ssize_t n = recv(p->sock, buf, sizeof(buf), 0);
            if (n > 0)
                spdy_encode_data(&s->c.out, p->data_id, 0, buf, (size_t)n);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                pair_finish(s, p, NULL);
            spdy_conn_flush(&s->c);
        }
        if (pr > 0 && pf[0].revents && !s->c.closed)
            read_client(s);
        spdy_conn_flush(&s->c);
    }
out:
    for (size_t i = 0; i < PF_MAX_PAIRS; i++)
        if (s->pairs[i].used && s->pairs[i].sock >= 0)
            close(s->pairs[i].sock);
    spdy_conn_close(&s->c);
    free(s);
}

void pf_serve(int fd, const char *extra, size_t extra_len, enum pf_protocol proto,
              const uint16_t *ports, size_t nports, pf_dial_fn dial, void *dial_ctx)
{
    switch (proto) {
    case PF_PROTO_WS_V4:
        serve_ws_v4(fd, extra, extra_len, ports, nports, dial, dial_ctx);
        return;
    case PF_PROTO_WS_SPDY:
    case PF_PROTO_SPDY:
        serve_spdy(fd, extra, extra_len, proto == PF_PROTO_WS_SPDY, dial, dial_ctx);
        return;
    default:
        return;
    }
}

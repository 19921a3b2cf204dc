/* Port-forward sessions (see portforward.h). */
#include "stream/portforward.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream/websocket.h"
#include "util/cleanup.h"

#define PF_CHUNK 32768

enum pf_protocol pf_select_websocket_protocol(const char *header)
{
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

bool pf_spdy_accept(const struct http_request *req, struct http_reply *rep, struct kos_error **err)
{
    kos_error_set(err, 400, "BadRequest", "unable to upgrade: SPDY/3.1 is not served yet");
    return false;
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

void pf_serve(int fd, const char *extra, size_t extra_len, enum pf_protocol proto,
              const uint16_t *ports, size_t nports, pf_dial_fn dial, void *dial_ctx)
{
    switch (proto) {
    case PF_PROTO_WS_V4:
        serve_ws_v4(fd, extra, extra_len, ports, nports, dial, dial_ctx);
        return;
    default:
        return;
    }
}

/* A server's SPDY connection (see spdy_conn.h). */
#include "stream/spdy_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#define READ_CHUNK    32768
#define WRITE_WAIT_MS 30000

int spdy_conn_open(struct spdy_conn *c, int fd, const char *extra, size_t extra_len, bool tunnel)
{
    *c = (struct spdy_conn){.fd = fd, .tunnel = tunnel};
    kos_buf_init(&c->out, SPDY_CONN_OUT_MAX);
    int r = spdy_decoder_init(&c->dec);
    if (r < 0)
        return r;
    r = spdy_encoder_init(&c->enc);
    if (r < 0)
        return r;
    if (tunnel) {
        r = ws_conn_init(&c->ws, fd, extra, extra_len);
        if (r < 0)
            return r;
        c->ws_ready = true;
    } else if (extra_len > 0) {
        r = spdy_decoder_feed(&c->dec, extra, extra_len);
        if (r < 0)
            return r;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

int spdy_conn_flush(struct spdy_conn *c)
{
    if (c->out.len == 0 || c->closed)
        return 0;
    int r = 0;
    if (c->tunnel) {
        r = ws_conn_send(&c->ws, WS_OP_BINARY, c->out.data, c->out.len);
    } else {
        const char *p = c->out.data;
        size_t len = c->out.len;
        while (len > 0 && r == 0) {
            ssize_t n = write(c->fd, p, len);
            if (n > 0) {
                p += n;
                len -= (size_t)n;
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && errno == EAGAIN) {
                struct pollfd pf = {.fd = c->fd, .events = POLLOUT};
                if (poll(&pf, 1, WRITE_WAIT_MS) <= 0)
                    r = -ETIMEDOUT;
            } else {
                r = -EPIPE;
            }
        }
    }
    kos_buf_reset(&c->out);
    if (r < 0)
        c->closed = true;
    return r;
}

int spdy_conn_decode(struct spdy_conn *c, spdy_frame_fn on_frame, void *ctx)
{
    /* a frame holds up to SPDY_MAX_HEADERS headers: too large for the stack of a thread */
    struct spdy_frame *f = malloc(sizeof(*f));
    if (!f) {
        c->closed = true;
        return -ENOMEM;
    }
    int r = 0;
    while (!c->closed && (r = spdy_decoder_next(&c->dec, f)) == 1) {
        if (f->type == SPDY_PING)
            spdy_encode_ping(&c->out, f->value);
        else if (f->type == SPDY_GOAWAY)
            c->closed = true;
        else
            on_frame(ctx, f);
    }
    free(f);
    return r < 0 ? r : 0;
}

int spdy_conn_read(struct spdy_conn *c, spdy_frame_fn on_frame, void *ctx)
{
    int r = 0;
    if (c->tunnel) {
        struct ws_message m;
        while (r == 0 && (r = ws_conn_poll_message(&c->ws, &m)) == 1)
            r = spdy_decoder_feed(&c->dec, m.data, m.len);
    } else {
        uint8_t buf[READ_CHUNK];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            r = -ECONNRESET;
        else if (n > 0)
            r = spdy_decoder_feed(&c->dec, buf, (size_t)n);
    }
    if (r < 0) {
        c->closed = true;
        return r;
    }
    return spdy_conn_decode(c, on_frame, ctx);
}

void spdy_conn_close(struct spdy_conn *c)
{
    if (!c)
        return;
    if (c->ws_ready) {
        ws_conn_close(&c->ws, WS_CLOSE_NORMAL);
        ws_conn_free(&c->ws);
        c->ws_ready = false;
    }
    spdy_decoder_free(&c->dec);
    spdy_encoder_free(&c->enc);
    kos_buf_free(&c->out);
}

/* WebSocket framing (RFC 6455): see websocket.h. */
#include "stream/websocket.h"

#include <errno.h>
#include <gnutls/crypto.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/base64.h"
#include "util/cleanup.h"
#include "util/strutil.h"

int ws_accept_key(const char *client_key, char *out, size_t size)
{
    if (!client_key || size < WS_ACCEPT_KEY_SIZE)
        return -EINVAL;
    char *raw = NULL;
    size_t raw_len = 0;
    size_t klen = strlen(client_key);
    if (klen != 24 || kos_base64_decode(client_key, klen, &raw, &raw_len) < 0)
        return -EINVAL;
    free(raw);
    if (raw_len != 16)
        return -EINVAL;
    char cat[24 + sizeof(WS_GUID)];
    memcpy(cat, client_key, 24);
    memcpy(cat + 24, WS_GUID, sizeof(WS_GUID));
    uint8_t digest[20];
    if (gnutls_hash_fast(GNUTLS_DIG_SHA1, cat, 24 + sizeof(WS_GUID) - 1, digest) < 0)
        return -EIO;
    _cleanup_free_ char *b64 = kos_base64_encode(digest, sizeof(digest));
    if (!b64)
        return -ENOMEM;
    kos_strlcpy(out, b64, size);
    return 0;
}

bool ws_header_has_token(const char *header, const char *token)
{
    size_t tlen = strlen(token);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == tlen && len > 0 && strncasecmp(p, token, len) == 0)
            return true;
        p = end;
    }
    return false;
}

void ws_decoder_init(struct ws_decoder *d, bool require_mask, size_t max_frame, size_t max_msg)
{
    memset(d, 0, sizeof(*d));
    d->require_mask = require_mask;
    d->max_frame = max_frame ? max_frame : WS_DEFAULT_MAX_FRAME;
    /* a frame header is at most 14 bytes; room for one whole frame plus the next header */
    kos_buf_init(&d->in, d->max_frame + 2 * 14 + 65536);
    kos_buf_init(&d->msg, max_msg ? max_msg : WS_DEFAULT_MAX_MSG);
}

void ws_decoder_free(struct ws_decoder *d)
{
    if (!d)
        return;
    kos_buf_free(&d->in);
    kos_buf_free(&d->msg);
}

int ws_decoder_feed(struct ws_decoder *d, const void *data, size_t len)
{
    /* drop what was decoded before growing */
    if (d->in_pos > 0) {
        size_t rest = d->in.len - d->in_pos;
        memmove(d->in.data, d->in.data + d->in_pos, rest);
        d->in.len = rest;
        d->in.data[rest] = '\0';
        d->in_pos = 0;
    }
    if (len == 0)
        return 0;
    int r = kos_buf_append(&d->in, data, len);
    return r == -E2BIG ? -E2BIG : r;
}

static bool is_control(unsigned op)
{
    return op >= 0x8;
}

int ws_decoder_next(struct ws_decoder *d, struct ws_message *m)
{
    for (;;) {
        const uint8_t *p = (const uint8_t *)d->in.data + d->in_pos;
        size_t avail = d->in.len - d->in_pos;
        if (avail < 2)
            return 0;
        bool fin = p[0] & 0x80;
        unsigned rsv = p[0] & 0x70;
        unsigned op = p[0] & 0x0F;
        bool masked = p[1] & 0x80;
        uint64_t plen = p[1] & 0x7F;
        size_t hlen = 2;
        if (rsv)
            return -EPROTO; /* no extension was negotiated */
        if (op != WS_OP_CONTINUATION && op != WS_OP_TEXT && op != WS_OP_BINARY &&
            op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG)
            return -EPROTO;
        if (masked != d->require_mask)
            return -EPROTO;
        if (plen == 126) {
            if (avail < 4)
                return 0;
            plen = (uint64_t)p[2] << 8 | p[3];
            hlen = 4;
            if (plen < 126)
                return -EPROTO; /* not the minimal encoding */
        } else if (plen == 127) {
            if (avail < 10)
                return 0;
            plen = 0;
            for (int i = 0; i < 8; i++)
                plen = plen << 8 | p[2 + i];
            hlen = 10;
            if (plen >> 63 || plen <= 0xFFFF)
                return -EPROTO;
        }
        if (is_control(op) && (!fin || plen > WS_MAX_CONTROL))
            return -EPROTO;
        if (plen > d->max_frame)
            return -EMSGSIZE;
        const uint8_t *mask = NULL;
        if (masked) {
            if (avail < hlen + 4)
                return 0;
            mask = p + hlen;
            hlen += 4;
        }
        if (avail < hlen + plen)
            return 0;
        uint8_t *payload = (uint8_t *)d->in.data + d->in_pos + hlen;
        if (mask)
            for (size_t i = 0; i < plen; i++)
                payload[i] ^= mask[i & 3];
        d->in_pos += hlen + (size_t)plen;

        if (is_control(op)) {
            memcpy(d->control, payload, (size_t)plen);
            *m = (struct ws_message){.opcode = op, .data = d->control, .len = (size_t)plen};
            if (op == WS_OP_CLOSE) {
                if (plen == 1)
                    return -EPROTO;
                if (plen >= 2) {
                    m->close_code = (uint16_t)(payload[0] << 8 | payload[1]);
                    m->data += 2;
                    m->len -= 2;
                }
            }
            return 1;
        }
        if (op == WS_OP_CONTINUATION) {
            if (!d->in_message)
                return -EPROTO;
        } else {
            if (d->in_message)
                return -EPROTO; /* a new message inside a fragmented one */
            kos_buf_reset(&d->msg);
            d->msg_opcode = op;
        }
        if (fin && !d->in_message) {
            /* the common case, unfragmented: hand out the payload in place */
            *m = (struct ws_message){.opcode = op, .data = payload, .len = (size_t)plen};
            return 1;
        }
        if (kos_buf_append(&d->msg, payload, (size_t)plen) < 0)
            return -EMSGSIZE;
        d->in_message = !fin;
        if (fin) {
            *m = (struct ws_message){
                .opcode = d->msg_opcode, .data = (const uint8_t *)d->msg.data, .len = d->msg.len};
            return 1;
        }
    }
}

int ws_frame_encode(struct kos_buf *out, enum ws_opcode op, bool fin, const uint8_t *mask,
                    const void *data, size_t len)
{
    uint8_t h[14];
    size_t n = 0;
    h[n++] = (uint8_t)((fin ? 0x80 : 0) | (op & 0x0F));
    uint8_t mbit = mask ? 0x80 : 0;
    if (len < 126) {
        h[n++] = (uint8_t)(mbit | len);
    } else if (len <= 0xFFFF) {
        h[n++] = mbit | 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = mbit | 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    if (mask) {
        memcpy(h + n, mask, 4);
        n += 4;
    }
    int r = kos_buf_append(out, h, n);
    if (r < 0)
        return r;
    size_t start = out->len;
    r = kos_buf_append(out, data, len);
    if (r < 0)
        return r;
    if (mask)
        for (size_t i = 0; i < len; i++)
            out->data[start + i] ^= (char)mask[i & 3];
    return 0;
}

int ws_conn_init(struct ws_conn *c, int fd, const void *extra, size_t extra_len)
{
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    ws_decoder_init(&c->dec, true, 0, 0);
    pthread_mutex_init(&c->wlock, NULL);
    if (extra_len > 0 && ws_decoder_feed(&c->dec, extra, extra_len) < 0) {
        ws_conn_free(c);
        return -E2BIG;
    }
    return 0;
}

void ws_conn_free(struct ws_conn *c)
{
    if (!c)
        return;
    ws_decoder_free(&c->dec);
    pthread_mutex_destroy(&c->wlock);
}

/* Writes everything, waiting on a non-blocking fd; gives up after 30 s without progress so a
 * client that stops reading cannot pin the session forever. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            int pr = poll(&pfd, 1, 30000);
            if (pr == 0)
                return -ETIMEDOUT;
            if (pr < 0 && errno != EINTR)
                return -errno;
            continue;
        }
        return n < 0 ? -errno : -EPIPE;
    }
    return 0;
}

static int send_frame_locked(struct ws_conn *c, enum ws_opcode op, const void *prefix, size_t plen,
                             const void *data, size_t len)
{
    if (c->close_sent)
        return -EPIPE;
    struct kos_buf b;
    kos_buf_init(&b, plen + len + 16);
    uint8_t h[10];
    size_t n = 0, total = plen + len;
    h[n++] = 0x80 | (uint8_t)op;
    if (total < 126) {
        h[n++] = (uint8_t)total;
    } else if (total <= 0xFFFF) {
        h[n++] = 126;
        h[n++] = (uint8_t)(total >> 8);
        h[n++] = (uint8_t)total;
    } else {
        h[n++] = 127;
        for (int i = 7; i >= 0; i--)
            h[n++] = (uint8_t)((uint64_t)total >> (8 * i));
    }
    int r = kos_buf_append(&b, h, n);
    if (r == 0 && plen)
        r = kos_buf_append(&b, prefix, plen);
    if (r == 0 && len)
        r = kos_buf_append(&b, data, len);
    if (r == 0)
        r = write_all(c->fd, b.data, b.len);
    kos_buf_free(&b);
    if (op == WS_OP_CLOSE)
        c->close_sent = true;
    return r;
}

int ws_conn_send(struct ws_conn *c, enum ws_opcode op, const void *data, size_t len)
{
    pthread_mutex_lock(&c->wlock);
    int r = send_frame_locked(c, op, NULL, 0, data, len);
    pthread_mutex_unlock(&c->wlock);
    return r;
}

int ws_conn_send_channel(struct ws_conn *c, uint8_t channel, const void *data, size_t len)
{
    pthread_mutex_lock(&c->wlock);
    int r = send_frame_locked(c, WS_OP_BINARY, &channel, 1, data, len);
    pthread_mutex_unlock(&c->wlock);
    return r;
}

int ws_conn_close(struct ws_conn *c, uint16_t code)
{
    uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    pthread_mutex_lock(&c->wlock);
    int r = c->close_sent ? 0 : send_frame_locked(c, WS_OP_CLOSE, NULL, 0, b, 2);
    pthread_mutex_unlock(&c->wlock);
    return r;
}

int ws_conn_poll_message(struct ws_conn *c, struct ws_message *m)
{
    if (c->closed)
        return -EPIPE;
    bool did_read = false;
    for (;;) {
        int r = ws_decoder_next(&c->dec, m);
        if (r < 0) {
            ws_conn_close(c, r == -EMSGSIZE ? WS_CLOSE_TOO_BIG : WS_CLOSE_PROTOCOL);
            c->closed = true;
            return r;
        }
        if (r == 1) {
            switch (m->opcode) {
            case WS_OP_PING:
                ws_conn_send(c, WS_OP_PONG, m->data, m->len);
                continue;
            case WS_OP_PONG:
                continue;
            case WS_OP_CLOSE:
                ws_conn_close(c, WS_CLOSE_NORMAL);
                c->closed = true;
                return -EPIPE;
            default:
                return 1;
            }
        }
        if (did_read)
            return 0;
        char buf[32768];
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return 0;
        if (n <= 0) {
            c->closed = true;
            return -EPIPE;
        }
        did_read = true;
        r = ws_decoder_feed(&c->dec, buf, (size_t)n);
        if (r < 0) {
            ws_conn_close(c, WS_CLOSE_TOO_BIG);
            c->closed = true;
            return r;
        }
    }
}

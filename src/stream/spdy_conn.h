/* A server's SPDY/3.1 connection on an upgraded socket, raw or tunnelled in WebSocket
 * binary messages (SPDY/3.1+portforward.k8s.io): what the port-forward and the SPDY exec
 * servers share. Opening it sets up both header compression streams and the output queue
 * and takes the bytes that came with the request head; reading decodes every complete
 * frame, answers PING and ends on GOAWAY itself, and hands the other frames to the server. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "stream/spdy.h"
#include "stream/websocket.h"
#include "util/buf.h"

#define SPDY_CONN_OUT_MAX (4u << 20)

struct spdy_conn {
    int fd;
    bool tunnel; /* frames travel in WebSocket binary messages on ws */
    bool closed; /* the client left, or a write failed: the server stops */
    struct ws_conn ws;
    bool ws_ready;
    struct spdy_decoder dec;
    struct spdy_encoder enc;
    struct kos_buf out; /* frames queued for spdy_conn_flush */
};

/* Sets fd non-blocking and takes extra (read past the request head) as the first input:
 * decoder input, or a tunnel's first WebSocket bytes. -errno; spdy_conn_close afterwards
 * either way. */
int spdy_conn_open(struct spdy_conn *c, int fd, const char *extra, size_t extra_len, bool tunnel);
/* Writes what out holds (waiting a bounded time on a full socket) and empties it; a failed
 * write closes c. */
int spdy_conn_flush(struct spdy_conn *c);

typedef void (*spdy_frame_fn)(void *ctx, const struct spdy_frame *f);

/* Hands each complete frame already received to on_frame, but PING (answered) and GOAWAY
 * (closes c). 0, or the decoder's -EPROTO / -EMSGSIZE for a malformed frame: the header
 * compression state is lost, the server ends the connection (c is not closed yet, so that
 * it can say GOAWAY first). */
int spdy_conn_decode(struct spdy_conn *c, spdy_frame_fn on_frame, void *ctx);
/* Reads what the client sent (without blocking) and decodes as spdy_conn_decode; the end of
 * input or a read failure closes c. */
int spdy_conn_read(struct spdy_conn *c, spdy_frame_fn on_frame, void *ctx);
/* Ends a tunnel's WebSocket with a normal close and frees everything; accepts a connection
 * whose open failed. */
void spdy_conn_close(struct spdy_conn *c);

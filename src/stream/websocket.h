/* WebSocket (RFC 6455), the server side, for exec/attach/port-forward upgrades.
 *
 * Two layers: a decoder over bytes (no I/O: unit tests and the fuzzer drive it) that turns
 * client frames into events and enforces masking, opcodes, control-frame rules and the frame
 * and message size bounds; and a connection over a file descriptor that answers pings and
 * the close handshake itself and serialises writes from several threads. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close codes used here. */
#define WS_CLOSE_NORMAL      1000
#define WS_CLOSE_PROTOCOL    1002
#define WS_CLOSE_TOO_BIG     1009
#define WS_CLOSE_INTERNAL    1011
#define WS_MAX_CONTROL       125
#define WS_DEFAULT_MAX_FRAME (1u << 20) /* larger than anything kubectl sends (32 KiB) */
#define WS_DEFAULT_MAX_MSG   (4u << 20)
#define WS_ACCEPT_KEY_SIZE   29 /* base64 of 20 bytes + NUL */
#define WS_GUID              "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: -EINVAL if the key is not the
 * base64 of 16 bytes. */
int ws_accept_key(const char *client_key, char *out, size_t size);

/* True when a comma-separated header value (Connection, Upgrade, Sec-WebSocket-Protocol)
 * holds token, compared case-insensitively (whitespace around items ignored). */
bool ws_header_has_token(const char *header, const char *token);

/* One decoded event: a complete data message (fragments joined), or a control frame. */
struct ws_message {
    enum ws_opcode opcode; /* TEXT, BINARY, CLOSE, PING or PONG */
    const uint8_t *data;   /* valid until the next ws_decoder call */
    size_t len;
    uint16_t close_code; /* CLOSE only; 0 when the frame had no code */
};

struct ws_decoder {
    struct kos_buf in;  /* received, not yet decoded */
    size_t in_pos;      /* decoded up to here */
    struct kos_buf msg; /* fragments of the message in progress */
    enum ws_opcode msg_opcode;
    bool in_message;
    bool require_mask; /* the server side: RFC 6455 5.1 */
    size_t max_frame;
    uint8_t control[WS_MAX_CONTROL];
};

void ws_decoder_init(struct ws_decoder *d, bool require_mask, size_t max_frame, size_t max_msg);
void ws_decoder_free(struct ws_decoder *d);
/* Adds received bytes; -E2BIG when more than one frame's worth is pending. */
int ws_decoder_feed(struct ws_decoder *d, const void *data, size_t len);
/* 1 and *m when an event is complete, 0 when more input is needed, -EPROTO for a protocol
 * violation, -EMSGSIZE for a frame or message over the bounds. */
int ws_decoder_next(struct ws_decoder *d, struct ws_message *m);

/* Appends one frame (fin set) to out. mask: 4 bytes for a client frame, NULL for a server
 * frame. */
int ws_frame_encode(struct kos_buf *out, enum ws_opcode op, bool fin, const uint8_t *mask,
                    const void *data, size_t len);

/* A server connection on a stream fd (the socket, or MHD's socketpair under TLS). */
struct ws_conn {
    int fd;
    struct ws_decoder dec;
    pthread_mutex_t wlock;
    bool close_sent;
    bool closed; /* the peer closed, or a read failed */
};

int ws_conn_init(struct ws_conn *c, int fd, const void *extra, size_t extra_len);
void ws_conn_free(struct ws_conn *c);
/* Sends one message as a single frame; thread-safe. */
int ws_conn_send(struct ws_conn *c, enum ws_opcode op, const void *data, size_t len);
/* Sends a binary message of a channel byte followed by data; thread-safe. */
int ws_conn_send_channel(struct ws_conn *c, uint8_t channel, const void *data, size_t len);
/* Sends a close frame (once). */
int ws_conn_close(struct ws_conn *c, uint16_t code);
/* Reads what the fd has (one read; the fd may be non-blocking) and decodes: 1 and *m for a
 * TEXT/BINARY message, 0 when nothing complete yet (-EAGAIN from a non-blocking read is 0),
 * -EPIPE once the peer closed (close answered) or the connection failed, another negative
 * errno for a protocol error (a close frame with the matching code was sent). Pings are
 * answered here. */
int ws_conn_poll_message(struct ws_conn *c, struct ws_message *m);

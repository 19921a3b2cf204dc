/* SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 as moby/spdystream speaks it), for kubectl
 * port-forward and the SPDY exec of kubectl <= 1.29.
 *
 * A decoder over bytes (no I/O; the fuzzer drives it) and encoders for what a server sends.
 * Header blocks are zlib streams primed with SPDY's dictionary, one stream per direction
 * for the whole connection. Everything a client controls is bounded: frame length, the
 * decompressed header block, the number and size of headers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "util/buf.h"

enum spdy_type {
    SPDY_DATA = 0, /* a data frame (not a control type) */
    SPDY_SYN_STREAM = 1,
    SPDY_SYN_REPLY = 2,
    SPDY_RST_STREAM = 3,
    SPDY_SETTINGS = 4,
    SPDY_PING = 6,
    SPDY_GOAWAY = 7,
    SPDY_HEADERS = 8,
    SPDY_WINDOW_UPDATE = 9,
};

#define SPDY_FLAG_FIN            0x01
#define SPDY_FLAG_UNIDIRECTIONAL 0x02
#define SPDY_RST_PROTOCOL_ERROR  1
#define SPDY_RST_REFUSED_STREAM  3
#define SPDY_RST_CANCEL          5
#define SPDY_MAX_FRAME           (1u << 20) /* spdystream writes 32 KiB at most */
#define SPDY_MAX_HEADER_BLOCK    (64u << 10)
#define SPDY_MAX_HEADERS         64

struct spdy_header {
    const char *name; /* NUL-terminated, within the decoder's header buffer */
    const char *value;
    size_t value_len; /* values may hold NUL-separated lists */
};

struct spdy_frame {
    enum spdy_type type;
    uint8_t flags;
    uint32_t stream_id;  /* data, SYN_STREAM, SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE */
    uint32_t associated; /* SYN_STREAM */
    uint32_t value;      /* RST_STREAM / GOAWAY status, PING id, WINDOW_UPDATE delta */
    const uint8_t *data; /* DATA payload; valid until the next decoder call */
    size_t len;
    struct spdy_header headers[SPDY_MAX_HEADERS]; /* SYN_STREAM, SYN_REPLY, HEADERS */
    size_t nheaders;
};

struct spdy_decoder {
    struct kos_buf in;
    size_t in_pos;
    z_stream z;
    bool z_ready;
    uint8_t hdr[SPDY_MAX_HEADER_BLOCK + 1];
};

int spdy_decoder_init(struct spdy_decoder *d);
void spdy_decoder_free(struct spdy_decoder *d);
int spdy_decoder_feed(struct spdy_decoder *d, const void *data, size_t len);
/* 1 and *f for a complete frame, 0 when more input is needed, -EPROTO for malformed input
 * (a bad header block breaks the shared zlib stream: the connection must end), -EMSGSIZE
 * over a bound. Unknown control types come back with their type for the caller to skip. */
int spdy_decoder_next(struct spdy_decoder *d, struct spdy_frame *f);
/* The first value of header name (case-insensitive), copied into out; false if absent. */
bool spdy_header_get(const struct spdy_frame *f, const char *name, char *out, size_t size);

struct spdy_encoder {
    z_stream z;
    bool z_ready;
};

int spdy_encoder_init(struct spdy_encoder *e);
void spdy_encoder_free(struct spdy_encoder *e);
/* Appends frames to out. names/values: n headers (names lowercase). */
int spdy_encode_syn_stream(struct spdy_encoder *e, struct kos_buf *out, uint32_t id, uint8_t flags,
                           const char *const *names, const char *const *values, size_t n);
int spdy_encode_syn_reply(struct spdy_encoder *e, struct kos_buf *out, uint32_t id, uint8_t flags,
                          const char *const *names, const char *const *values, size_t n);
int spdy_encode_data(struct kos_buf *out, uint32_t id, uint8_t flags, const void *data, size_t len);
int spdy_encode_rst(struct kos_buf *out, uint32_t id, uint32_t status);
int spdy_encode_ping(struct kos_buf *out, uint32_t ping_id);
int spdy_encode_goaway(struct kos_buf *out, uint32_t last_id, uint32_t status);

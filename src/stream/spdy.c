/* SPDY/3.1 framing (see spdy.h). */
#include "stream/spdy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The SPDY/3 header compression dictionary (draft section 2.6.10.1), built from its parts:
 * header names and common values each with a 32-bit length, then a run of common texts. */
static const char *const dict_words[] = {
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
};
static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 "
    "Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 "
    "Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, "
    "Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,"
    "application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch"
    "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
#define DICT_SIZE 1423

static const uint8_t *dictionary(void)
{
    static uint8_t dict[DICT_SIZE];
    static _Atomic int built;
    if (built)
        return dict;
    size_t n = 0;
    for (size_t i = 0; i < sizeof(dict_words) / sizeof(dict_words[0]); i++) {
        size_t len = strlen(dict_words[i]);
        dict[n++] = 0;
        dict[n++] = 0;
        dict[n++] = 0;
        dict[n++] = (uint8_t)len;
        memcpy(dict + n, dict_words[i], len);
        n += len;
    }
    memcpy(dict + n, dict_tail, sizeof(dict_tail) - 1);
    built = 1; /* every thread computes the same bytes: a race only repeats the work */
    return dict;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int spdy_decoder_init(struct spdy_decoder *d)
{
    memset(d, 0, sizeof(*d));
    kos_buf_init(&d->in, SPDY_MAX_FRAME + 8 + 65536);
    if (inflateInit(&d->z) != Z_OK)
        return -ENOMEM;
    d->z_ready = true;
    return 0;
}

void spdy_decoder_free(struct spdy_decoder *d)
{
    if (!d)
        return;
    kos_buf_free(&d->in);
    if (d->z_ready)
        inflateEnd(&d->z);
    d->z_ready = false;
}

int spdy_decoder_feed(struct spdy_decoder *d, const void *data, size_t len)
{
    if (d->in_pos > 0) {
        size_t rest = d->in.len - d->in_pos;
        memmove(d->in.data, d->in.data + d->in_pos, rest);
        d->in.len = rest;
        d->in.data[rest] = '\0';
        d->in_pos = 0;
    }
    if (len == 0)
        return 0;
    return kos_buf_append(&d->in, data, len);
}

/* Inflates one header block into d->hdr and splits it into f->headers. */
static int decode_headers(struct spdy_decoder *d, const uint8_t *block, size_t len,
                          struct spdy_frame *f)
{
    z_stream *z = &d->z;
    z->next_in = (Bytef *)block;
    z->avail_in = (uInt)len;
    z->next_out = d->hdr;
    z->avail_out = SPDY_MAX_HEADER_BLOCK;
    while (z->avail_in > 0) {
        int r = inflate(z, Z_SYNC_FLUSH);
        if (r == Z_NEED_DICT) {
            if (inflateSetDictionary(z, dictionary(), DICT_SIZE) != Z_OK)
                return -EPROTO;
            continue;
        }
        if (r == Z_BUF_ERROR && z->avail_out == 0)
            return -EMSGSIZE;
        if (r != Z_OK)
            return -EPROTO;
        if (z->avail_out == 0 && z->avail_in > 0)
            return -EMSGSIZE;
    }
    size_t out = SPDY_MAX_HEADER_BLOCK - z->avail_out;
    /* names are made NUL-terminated in place: each is followed by a 4-byte length that was
     * already read, so the terminator overwrites consumed bytes only */
    uint8_t *p = d->hdr, *end = d->hdr + out;
    if (end - p < 4)
        return -EPROTO;
    uint32_t n = be32(p);
    p += 4;
    if (n > SPDY_MAX_HEADERS)
        return -EMSGSIZE;
    f->nheaders = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (end - p < 4)
            return -EPROTO;
        uint32_t nl = be32(p);
        p += 4;
        if (nl == 0 || nl > (size_t)(end - p))
            return -EPROTO;
        uint8_t *name = p;
        p += nl;
        if (end - p < 4)
            return -EPROTO;
        uint32_t vl = be32(p);
        p += 4;
        if (vl > (size_t)(end - p))
            return -EPROTO;
        uint8_t *value = p;
        p += vl;
        if (memchr(name, '\0', nl))
            return -EPROTO;
        /* terminate the name where its value's length field was (already read) */
        name[nl] = '\0';
        f->headers[f->nheaders++] = (struct spdy_header){
            .name = (const char *)name, .value = (const char *)value, .value_len = vl};
    }
    /* values too: each is followed by the next name's length (already read), the last by
     * the rest of the block or the spare byte after it */
    for (size_t i = 0; i < f->nheaders; i++)
        ((uint8_t *)f->headers[i].value)[f->headers[i].value_len] = '\0';
    return 0;
}

int spdy_decoder_next(struct spdy_decoder *d, struct spdy_frame *f)
{
    const uint8_t *p = (const uint8_t *)d->in.data + d->in_pos;
    size_t avail = d->in.len - d->in_pos;
    if (avail < 8)
        return 0;
    uint32_t len = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
    if (len > SPDY_MAX_FRAME)
        return -EMSGSIZE;
    if (avail < 8 + (size_t)len)
        return 0;
    memset(f, 0, offsetof(struct spdy_frame, headers));
    f->nheaders = 0;
    f->flags = p[4];
    const uint8_t *body = p + 8;
    d->in_pos += 8 + len;
    if (!(p[0] & 0x80)) {
        f->type = SPDY_DATA;
        f->stream_id = be32(p) & 0x7fffffff;
        if (f->stream_id == 0)
            return -EPROTO;
        f->data = body;
        f->len = len;
        return 1;
    }
    uint16_t version = (uint16_t)((p[0] & 0x7f) << 8 | p[1]);
    uint16_t type = (uint16_t)(p[2] << 8 | p[3]);
    if (version != 3)
        return -EPROTO;
    f->type = (enum spdy_type)type;
    switch (type) {
    case SPDY_SYN_STREAM:
        if (len < 10)
            return -EPROTO;
        f->stream_id = be32(body) & 0x7fffffff;
        f->associated = be32(body + 4) & 0x7fffffff;
        if (f->stream_id == 0)
            return -EPROTO;
        return decode_headers(d, body + 10, len - 10, f) < 0 ? -EPROTO : 1;
    case SPDY_SYN_REPLY:
    case SPDY_HEADERS:
        if (len < 4)
            return -EPROTO;
        f->stream_id = be32(body) & 0x7fffffff;
        return decode_headers(d, body + 4, len - 4, f) < 0 ? -EPROTO : 1;
    case SPDY_RST_STREAM:
    case SPDY_WINDOW_UPDATE:
        if (len != 8)
            return -EPROTO;
        f->stream_id = be32(body) & 0x7fffffff;
        f->value = be32(body + 4) & (type == SPDY_WINDOW_UPDATE ? 0x7fffffff : 0xffffffff);
        return 1;
    case SPDY_PING:
        if (len != 4)
            return -EPROTO;
        f->value = be32(body);
        return 1;
    case SPDY_GOAWAY:
        if (len != 8)
            return -EPROTO;
        f->stream_id = be32(body) & 0x7fffffff;
        f->value = be32(body + 4);
        return 1;
    default:
        /* SETTINGS and anything unknown: the caller skips it */
        f->data = body;
        f->len = len;
        return 1;
    }
}

bool spdy_header_get(const struct spdy_frame *f, const char *name, char *out, size_t size)
{
    for (size_t i = 0; i < f->nheaders; i++) {
        if (strcasecmp(f->headers[i].name, name) != 0)
            continue;
        size_t n = strnlen(f->headers[i].value, f->headers[i].value_len);
        if (n >= size)
            return false;
        memcpy(out, f->headers[i].value, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

int spdy_encoder_init(struct spdy_encoder *e)
{
    memset(e, 0, sizeof(*e));
    if (deflateInit(&e->z, Z_DEFAULT_COMPRESSION) != Z_OK)
        return -ENOMEM;
    if (deflateSetDictionary(&e->z, dictionary(), DICT_SIZE) != Z_OK) {
        deflateEnd(&e->z);
        return -ENOMEM;
    }
    e->z_ready = true;
    return 0;
}

void spdy_encoder_free(struct spdy_encoder *e)
{
    if (e && e->z_ready)
        deflateEnd(&e->z);
    if (e)
        e->z_ready = false;
}

static int compress_headers(struct spdy_encoder *e, const char *const *names,
                            const char *const *values, size_t n, struct kos_buf *out)
{
    struct kos_buf raw;
    kos_buf_init(&raw, SPDY_MAX_HEADER_BLOCK);
    uint8_t b[4];
    put32(b, (uint32_t)n);
    int r = kos_buf_append(&raw, b, 4);
    for (size_t i = 0; r == 0 && i < n; i++) {
        put32(b, (uint32_t)strlen(names[i]));
        r = kos_buf_append(&raw, b, 4);
        if (r == 0)
            r = kos_buf_append_str(&raw, names[i]);
        put32(b, (uint32_t)strlen(values[i]));
        if (r == 0)
            r = kos_buf_append(&raw, b, 4);
        if (r == 0)
            r = kos_buf_append_str(&raw, values[i]);
    }
    if (r < 0) {
        kos_buf_free(&raw);
        return r;
    }
    uint8_t zout[SPDY_MAX_HEADER_BLOCK + 1024];
    e->z.next_in = (Bytef *)raw.data;
    e->z.avail_in = (uInt)raw.len;
    e->z.next_out = zout;
    e->z.avail_out = sizeof(zout);
    int zr = deflate(&e->z, Z_SYNC_FLUSH);
    kos_buf_free(&raw);
    if (zr != Z_OK || e->z.avail_in != 0)
        return -EIO;
    return kos_buf_append(out, zout, sizeof(zout) - e->z.avail_out);
}

static int control_header(struct kos_buf *out, uint16_t type, uint8_t flags, size_t len)
{
    if (len > 0xFFFFFF)
        return -EMSGSIZE;
    uint8_t h[8] = {0x80,
                    3,
                    (uint8_t)(type >> 8),
                    (uint8_t)type,
                    flags,
                    (uint8_t)(len >> 16),
                    (uint8_t)(len >> 8),
                    (uint8_t)len};
    return kos_buf_append(out, h, 8);
}

static int encode_with_headers(struct spdy_encoder *e, struct kos_buf *out, uint16_t type,
                               uint32_t id, uint8_t flags, const char *const *names,
                               const char *const *values, size_t n)
{
    struct kos_buf block;
    kos_buf_init(&block, SPDY_MAX_HEADER_BLOCK + 1024);
    int r = compress_headers(e, names, values, n, &block);
    size_t fixed = type == SPDY_SYN_STREAM ? 10 : 4;
    if (r == 0)
        r = control_header(out, type, flags, fixed + block.len);
    uint8_t f[10] = {0};
    put32(f, id & 0x7fffffff);
    if (r == 0)
        r = kos_buf_append(out, f, fixed);
    if (r == 0)
        r = kos_buf_append(out, block.data, block.len);
    kos_buf_free(&block);
    return r;
}

int spdy_encode_syn_stream(struct spdy_encoder *e, struct kos_buf *out, uint32_t id, uint8_t flags,
                           const char *const *names, const char *const *values, size_t n)
{
    return encode_with_headers(e, out, SPDY_SYN_STREAM, id, flags, names, values, n);
}

int spdy_encode_syn_reply(struct spdy_encoder *e, struct kos_buf *out, uint32_t id, uint8_t flags,
                          const char *const *names, const char *const *values, size_t n)
{
    return encode_with_headers(e, out, SPDY_SYN_REPLY, id, flags, names, values, n);
}

int spdy_encode_data(struct kos_buf *out, uint32_t id, uint8_t flags, const void *data, size_t len)
{
    if (len > 0xFFFFFF)
        return -EMSGSIZE;
    uint8_t h[8];
    put32(h, id & 0x7fffffff);
    h[4] = flags;
    h[5] = (uint8_t)(len >> 16);
    h[6] = (uint8_t)(len >> 8);
    h[7] = (uint8_t)len;
    int r = kos_buf_append(out, h, 8);
    return r == 0 && len ? kos_buf_append(out, data, len) : r;
}

static int encode_two(struct kos_buf *out, uint16_t type, uint32_t a, uint32_t b)
{
    int r = control_header(out, type, 0, 8);
    uint8_t v[8];
    put32(v, a);
    put32(v + 4, b);
    return r == 0 ? kos_buf_append(out, v, 8) : r;
}

int spdy_encode_rst(struct kos_buf *out, uint32_t id, uint32_t status)
{
    return encode_two(out, SPDY_RST_STREAM, id & 0x7fffffff, status);
}

int spdy_encode_goaway(struct kos_buf *out, uint32_t last_id, uint32_t status)
{
    return encode_two(out, SPDY_GOAWAY, last_id & 0x7fffffff, status);
}

int spdy_encode_ping(struct kos_buf *out, uint32_t ping_id)
{
    int r = control_header(out, SPDY_PING, 0, 4);
    uint8_t v[4];
    put32(v, ping_id);
    return r == 0 ? kos_buf_append(out, v, 4) : r;
}

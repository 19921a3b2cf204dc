/* SPDY/3.1 framing: frames round-trip through the encoder and decoder, header blocks share
 * one zlib stream per direction, and malformed or oversized input is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "stream/spdy.h"

static void roundtrip(struct spdy_decoder *d, struct kos_buf *b, struct spdy_frame *f)
{
    assert_int_equal(spdy_decoder_feed(d, b->data, b->len), 0);
    assert_int_equal(spdy_decoder_next(d, f), 1);
    kos_buf_reset(b);
}

static void test_syn_stream_headers(void **state)
{
    struct spdy_encoder e;
    struct spdy_decoder d;
    assert_int_equal(spdy_encoder_init(&e), 0);
    assert_int_equal(spdy_decoder_init(&d), 0);
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    struct spdy_frame *f = malloc(sizeof(*f));
    const char *names[] = {"streamtype", "port", "requestid"};
    const char *values[] = {"error", "8080", "0"};
    /* several blocks: the second and third use the zlib state the first left */
    for (uint32_t id = 1; id <= 5; id += 2) {
        assert_int_equal(spdy_encode_syn_stream(&e, &b, id, 0, names, values, 3), 0);
        roundtrip(&d, &b, f);
        assert_int_equal(f->type, SPDY_SYN_STREAM);
        assert_int_equal(f->stream_id, id);
        assert_int_equal(f->nheaders, 3);
        char v[32];
        assert_true(spdy_header_get(f, "Port", v, sizeof(v)));
        assert_string_equal(v, "8080");
        assert_true(spdy_header_get(f, "streamtype", v, sizeof(v)));
        assert_string_equal(v, "error");
        assert_false(spdy_header_get(f, "missing", v, sizeof(v)));
    }
    assert_int_equal(spdy_encode_syn_reply(&e, &b, 7, SPDY_FLAG_FIN, NULL, NULL, 0), 0);
    roundtrip(&d, &b, f);
    assert_int_equal(f->type, SPDY_SYN_REPLY);
    assert_int_equal(f->flags, SPDY_FLAG_FIN);
    assert_int_equal(f->nheaders, 0);
    free(f);
    kos_buf_free(&b);
    spdy_encoder_free(&e);
    spdy_decoder_free(&d);
}

static void test_simple_frames(void **state)
{
    struct spdy_decoder d;
    assert_int_equal(spdy_decoder_init(&d), 0);
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    struct spdy_frame *f = malloc(sizeof(*f));
    assert_int_equal(spdy_encode_data(&b, 3, SPDY_FLAG_FIN, "hello", 5), 0);
    /* byte by byte */
    for (size_t i = 0; i < b.len; i++) {
        assert_int_equal(spdy_decoder_next(&d, f), 0);
        assert_int_equal(spdy_decoder_feed(&d, b.data + i, 1), 0);
    }
    assert_int_equal(spdy_decoder_next(&d, f), 1);
    assert_int_equal(f->type, SPDY_DATA);
    assert_int_equal(f->stream_id, 3);
    assert_int_equal(f->flags, SPDY_FLAG_FIN);
    assert_memory_equal(f->data, "hello", 5);
    kos_buf_reset(&b);
    assert_int_equal(spdy_encode_rst(&b, 5, SPDY_RST_CANCEL), 0);
    roundtrip(&d, &b, f);
    assert_int_equal(f->type, SPDY_RST_STREAM);
    assert_int_equal(f->stream_id, 5);
    assert_int_equal(f->value, SPDY_RST_CANCEL);
    assert_int_equal(spdy_encode_ping(&b, 42), 0);
    roundtrip(&d, &b, f);
    assert_int_equal(f->type, SPDY_PING);
    assert_int_equal(f->value, 42);
    assert_int_equal(spdy_encode_goaway(&b, 9, 0), 0);
    roundtrip(&d, &b, f);
    assert_int_equal(f->type, SPDY_GOAWAY);
    assert_int_equal(f->stream_id, 9);
    free(f);
    kos_buf_free(&b);
    spdy_decoder_free(&d);
}

static int decode_raw(const void *data, size_t len)
{
    struct spdy_decoder d;
    spdy_decoder_init(&d);
    struct spdy_frame *f = malloc(sizeof(*f));
    int r = spdy_decoder_feed(&d, data, len);
    if (r == 0)
        r = spdy_decoder_next(&d, f);
    free(f);
    spdy_decoder_free(&d);
    return r;
}

/* A SYN_STREAM whose header block is raw (compressed here with the real dictionary). */
static int decode_block(const uint8_t *raw, size_t raw_len)
{
    struct spdy_encoder e;
    spdy_encoder_init(&e);
    uint8_t z[65536];
    e.z.next_in = (Bytef *)raw;
    e.z.avail_in = (uInt)raw_len;
    e.z.next_out = z;
    e.z.avail_out = sizeof(z);
    assert_int_equal(deflate(&e.z, Z_SYNC_FLUSH), Z_OK);
    size_t zl = sizeof(z) - e.z.avail_out;
    spdy_encoder_free(&e);
    uint8_t *frame = malloc(18 + zl);
    size_t len = 10 + zl;
    uint8_t h[18] = {
        0x80, 3, 0, 1, 0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, 1, 0,
        0,    0, 0, 0, 0};
    memcpy(frame, h, 18);
    memcpy(frame + 18, z, zl);
    int r = decode_raw(frame, 18 + zl);
    free(frame);
    return r;
}

static void test_bad_input(void **state)
{
    /* version 2 */
    assert_int_equal(decode_raw("\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12), -EPROTO);
    /* data frame on stream 0 */
    assert_int_equal(decode_raw("\x00\x00\x00\x00\x00\x00\x00\x00", 8), -EPROTO);
    /* a frame over the bound, refused from its header */
    assert_int_equal(decode_raw("\x00\x00\x00\x01\x00\xff\xff\xff", 8), -EMSGSIZE);
    /* PING of the wrong size */
    assert_int_equal(decode_raw("\x80\x03\x00\x06\x00\x00\x00\x02\x00\x00", 10), -EPROTO);
    /* SYN_STREAM with a header block that is not zlib */
    assert_int_equal(
        decode_raw("\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                   "abcd",
                   22),
        -EPROTO);
    /* header blocks: too many pairs, a length past the end, an empty name */
    uint8_t many[4] = {0, 0, 0x10, 0};
    assert_int_equal(decode_block(many, 4), -EPROTO);
    uint8_t past[] = {0, 0, 0, 1, 0, 0, 0, 9, 'a'};
    assert_int_equal(decode_block(past, sizeof(past)), -EPROTO);
    uint8_t empty[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(decode_block(empty, sizeof(empty)), -EPROTO);
    uint8_t ok[] = {0, 0, 0, 1, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'b'};
    assert_int_equal(decode_block(ok, sizeof(ok)), 1);
    /* a block that inflates past the bound (a zip bomb) */
    uint8_t *big = calloc(1, SPDY_MAX_HEADER_BLOCK + 100);
    big[3] = 1;
    big[7] = 1;
    big[8] = 'a';
    big[9] = 0;
    big[10] = 0x01;
    big[11] = 0;
    big[12] = 0;
    assert_int_equal(decode_block(big, SPDY_MAX_HEADER_BLOCK + 100), -EPROTO);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_stream_headers),
        cmocka_unit_test(test_simple_frames),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

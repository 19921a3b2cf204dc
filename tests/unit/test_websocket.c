/* WebSocket framing (RFC 6455) and the remote command protocol's pieces. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "stream/remotecommand.h"
#include "stream/websocket.h"
#include "util/json_cleanup.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

static void test_accept_key(void **state)
{
    char out[WS_ACCEPT_KEY_SIZE];
    /* RFC 6455 section 1.3's example */
    assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof(out)), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(ws_accept_key("short", out, sizeof(out)), -EINVAL);
    assert_int_equal(ws_accept_key("!!!!!!!!!!!!!!!!!!!!!!!!", out, sizeof(out)), -EINVAL);
    assert_int_equal(ws_accept_key(NULL, out, sizeof(out)), -EINVAL);
}

static void test_header_tokens(void **state)
{
    assert_true(ws_header_has_token("keep-alive, Upgrade", "upgrade"));
    assert_true(ws_header_has_token("v5.channel.k8s.io", "v5.channel.k8s.io"));
    assert_false(ws_header_has_token("v5.channel.k8s.io2", "v5.channel.k8s.io"));
    assert_false(ws_header_has_token(NULL, "upgrade"));
    assert_false(ws_header_has_token("", "upgrade"));
    assert_int_equal(rc_select_protocol("v4.channel.k8s.io, v5.channel.k8s.io"), RC_PROTO_V5);
    assert_int_equal(rc_select_protocol("v4.channel.k8s.io"), RC_PROTO_V4);
    assert_int_equal(rc_select_protocol("channel.k8s.io"), RC_PROTO_NONE);
}

static void feed_frame(struct ws_decoder *d, enum ws_opcode op, bool fin, const void *data,
                       size_t len)
{
    struct kos_buf b;
    kos_buf_init(&b, 1 << 24);
    assert_int_equal(ws_frame_encode(&b, op, fin, MASK, data, len), 0);
    assert_int_equal(ws_decoder_feed(d, b.data, b.len), 0);
    kos_buf_free(&b);
}

static void test_masked_message_and_lengths(void **state)
{
    struct ws_decoder d;
    ws_decoder_init(&d, true, 0, 0);
    struct ws_message m;
    assert_int_equal(ws_decoder_next(&d, &m), 0);
    feed_frame(&d, WS_OP_BINARY, true, "\x00hello", 6);
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.opcode, WS_OP_BINARY);
    assert_int_equal(m.len, 6);
    assert_memory_equal(m.data, "\x00hello", 6);
    assert_int_equal(ws_decoder_next(&d, &m), 0);
    /* 16-bit and 64-bit lengths */
    static uint8_t big[70000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)i;
    feed_frame(&d, WS_OP_BINARY, true, big, 300);
    feed_frame(&d, WS_OP_BINARY, true, big, sizeof(big));
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.len, 300);
    assert_memory_equal(m.data, big, 300);
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.len, sizeof(big));
    assert_memory_equal(m.data, big, sizeof(big));
    ws_decoder_free(&d);
}

static void test_byte_by_byte(void **state)
{
    struct ws_decoder d;
    ws_decoder_init(&d, true, 0, 0);
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    ws_frame_encode(&b, WS_OP_TEXT, true, MASK, "abcdef", 6);
    struct ws_message m;
    for (size_t i = 0; i < b.len; i++) {
        assert_int_equal(ws_decoder_next(&d, &m), 0);
        assert_int_equal(ws_decoder_feed(&d, b.data + i, 1), 0);
    }
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.opcode, WS_OP_TEXT);
    assert_memory_equal(m.data, "abcdef", 6);
    kos_buf_free(&b);
    ws_decoder_free(&d);
}

static void test_fragments_with_control_between(void **state)
{
    struct ws_decoder d;
    ws_decoder_init(&d, true, 0, 0);
    struct ws_message m;
    feed_frame(&d, WS_OP_BINARY, false, "he", 2);
    feed_frame(&d, WS_OP_PING, true, "p", 1);
    feed_frame(&d, WS_OP_CONTINUATION, false, "ll", 2);
    feed_frame(&d, WS_OP_CONTINUATION, true, "o", 1);
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.opcode, WS_OP_PING);
    assert_int_equal(m.len, 1);
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.opcode, WS_OP_BINARY);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.data, "hello", 5);
    /* close with a code */
    feed_frame(&d, WS_OP_CLOSE, true,
               "\x03\xe8"
               "bye",
               5);
    assert_int_equal(ws_decoder_next(&d, &m), 1);
    assert_int_equal(m.opcode, WS_OP_CLOSE);
    assert_int_equal(m.close_code, 1000);
    assert_int_equal(m.len, 3);
    ws_decoder_free(&d);
}

static int decode_one(const void *frame, size_t len, size_t max_frame, size_t max_msg)
{
    struct ws_decoder d;
    ws_decoder_init(&d, true, max_frame, max_msg);
    struct ws_message m;
    int r = ws_decoder_feed(&d, frame, len);
    if (r == 0)
        r = ws_decoder_next(&d, &m);
    ws_decoder_free(&d);
    return r;
}

static void test_protocol_errors(void **state)
{
    /* unmasked client frame */
    assert_int_equal(decode_one("\x82\x01x", 3, 0, 0), -EPROTO);
    /* reserved bits */
    assert_int_equal(decode_one("\xc2\x81\0\0\0\0x", 7, 0, 0), -EPROTO);
    /* unknown opcode */
    assert_int_equal(decode_one("\x83\x81\0\0\0\0x", 7, 0, 0), -EPROTO);
    /* fragmented control frame */
    assert_int_equal(decode_one("\x09\x80\0\0\0\0", 6, 0, 0), -EPROTO);
    /* control frame over 125 bytes */
    assert_int_equal(decode_one("\x89\xfe\x00\x7e\0\0\0\0", 8, 0, 0), -EPROTO);
    /* continuation without a start */
    assert_int_equal(decode_one("\x80\x81\0\0\0\0x", 7, 0, 0), -EPROTO);
    /* non-minimal 16-bit length */
    assert_int_equal(decode_one("\x82\xfe\x00\x05\0\0\0\0", 8, 0, 0), -EPROTO);
    /* 64-bit length with the top bit set */
    assert_int_equal(decode_one("\x82\xff\x80\0\0\0\0\0\0\0\0\0\0\0", 14, 0, 0), -EPROTO);
    /* close with a one-byte body */
    assert_int_equal(decode_one("\x88\x81\0\0\0\0x", 7, 0, 0), -EPROTO);
    /* a frame over the bound: refused from its header, before the payload arrives */
    assert_int_equal(decode_one("\x82\xff\0\0\0\0\x7f\xff\xff\xff", 10, 0, 0), -EMSGSIZE);
    assert_int_equal(decode_one("\x82\xfe\x01\x00\0\0\0\0", 8, 100, 0), -EMSGSIZE);
    /* a message over the bound through fragments */
    struct ws_decoder d;
    ws_decoder_init(&d, true, 100, 150);
    feed_frame(&d, WS_OP_BINARY, false,
               "0123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789",
               80);
    feed_frame(&d, WS_OP_CONTINUATION, false,
               "0123456789012345678901234567890123456789"
               "0123456789012345678901234567890123456789",
               80);
    struct ws_message m;
    assert_int_equal(ws_decoder_next(&d, &m), -EMSGSIZE);
    ws_decoder_free(&d);
    /* a new data message inside a fragmented one */
    ws_decoder_init(&d, true, 0, 0);
    feed_frame(&d, WS_OP_BINARY, false, "a", 1);
    feed_frame(&d, WS_OP_BINARY, true, "b", 1);
    assert_int_equal(ws_decoder_next(&d, &m), -EPROTO);
    ws_decoder_free(&d);
}

static void test_conn_answers_ping_and_close(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct ws_conn c;
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    ws_frame_encode(&b, WS_OP_PING, true, MASK, "hi", 2);
    ws_frame_encode(&b, WS_OP_BINARY, true, MASK, "\x01x", 2);
    /* the first frame arrived with the request head (MHD's extra bytes) */
    assert_int_equal(ws_conn_init(&c, sv[0], b.data, b.len), 0);
    struct ws_message m;
    assert_int_equal(ws_conn_poll_message(&c, &m), 1);
    assert_int_equal(m.len, 2);
    assert_memory_equal(m.data, "\x01x", 2);
    uint8_t got[64];
    ssize_t n = read(sv[1], got, sizeof(got));
    assert_int_equal(n, 4);
    assert_memory_equal(got, "\x8a\x02hi", 4); /* pong, unmasked, same payload */
    assert_int_equal(ws_conn_send_channel(&c, 3, "{}", 2), 0);
    n = read(sv[1], got, sizeof(got));
    assert_int_equal(n, 5);
    assert_memory_equal(got, "\x82\x03\x03{}", 5);
    kos_buf_reset(&b);
    ws_frame_encode(&b, WS_OP_CLOSE, true, MASK, "\x03\xe8", 2);
    assert_int_equal(write(sv[1], b.data, b.len), (ssize_t)b.len);
    assert_int_equal(ws_conn_poll_message(&c, &m), -EPIPE);
    n = read(sv[1], got, sizeof(got));
    assert_int_equal(n, 4);
    assert_memory_equal(got, "\x88\x02\x03\xe8", 4);
    assert_int_equal(ws_conn_send(&c, WS_OP_BINARY, "x", 1), -EPIPE); /* after close */
    ws_conn_free(&c);
    kos_buf_free(&b);
    close(sv[0]);
    close(sv[1]);
}

static void test_exit_status(void **state)
{
    _cleanup_json_ json_t *ok = rc_exit_status(0, NULL, 0);
    char *s = json_dumps(ok, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, "{\"metadata\":{},\"status\":\"Success\"}");
    free(s);
    const char *cmd[] = {"sh", "-c", "exit 3"};
    _cleanup_json_ json_t *bad = rc_exit_status(3, cmd, 3);
    assert_string_equal(json_string_value(json_object_get(bad, "status")), "Failure");
    assert_string_equal(json_string_value(json_object_get(bad, "reason")), "NonZeroExitCode");
    assert_string_equal(json_string_value(json_object_get(bad, "message")),
                        "command terminated with non-zero exit code: error executing command "
                        "[sh -c exit 3], exit code 3");
    json_t *cause = json_array_get(json_object_get(json_object_get(bad, "details"), "causes"), 0);
    assert_string_equal(json_string_value(json_object_get(cause, "reason")), "ExitCode");
    assert_string_equal(json_string_value(json_object_get(cause, "message")), "3");
}

static void test_resize(void **state)
{
    unsigned w = 0, h = 0;
    const char *ok = "{\"Width\":80,\"Height\":24}";
    assert_int_equal(rc_parse_resize(ok, strlen(ok), &w, &h), 0);
    assert_int_equal(w, 80);
    assert_int_equal(h, 24);
    const char *bad[] = {"",
                         "[]",
                         "{\"Width\":80}",
                         "{\"Width\":-1,\"Height\":2}",
                         "{\"Width\":70000,\"Height\":2}",
                         "{\"Width\":\"80\",\"Height\":2}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(rc_parse_resize(bad[i], strlen(bad[i]), &w, &h), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_header_tokens),
        cmocka_unit_test(test_masked_message_and_lengths),
        cmocka_unit_test(test_byte_by_byte),
        cmocka_unit_test(test_fragments_with_control_between),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_conn_answers_ping_and_close),
        cmocka_unit_test(test_exit_status),
        cmocka_unit_test(test_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

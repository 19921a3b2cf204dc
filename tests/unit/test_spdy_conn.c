/* The server side of a SPDY connection (src/stream/spdy_conn.c) over a socketpair, raw and
 * tunnelled in WebSocket binary messages: the bytes that came with the request head are the
 * first input, frames reach the server's callback, PING is answered and GOAWAY ends the
 * connection by themselves, a malformed frame is the server's to end, the client leaving
 * closes it. The test's end reads with bounded waits; writes use MSG_NOSIGNAL. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "stream/spdy_conn.h"

struct seen {
    int frames;
    enum spdy_type last;
    uint32_t last_id;
};

static void on_frame(void *ctx, const struct spdy_frame *f)
{
    struct seen *s = ctx;
    s->frames++;
    s->last = f->type;
    s->last_id = f->stream_id;
}

static void send_all(int fd, const void *data, size_t len)
{
    assert_int_equal(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads what the server wrote (waiting up to 10 s for the first byte) into b. */
static void recv_some(int fd, struct kos_buf *b)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    assert_true(n > 0);
    assert_int_equal(kos_buf_append(b, buf, (size_t)n), 0);
}

static void test_raw(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct spdy_encoder cenc; /* the client's */
    assert_int_equal(spdy_encoder_init(&cenc), 0);
    struct kos_buf extra, b;
    kos_buf_init(&extra, 1 << 16);
    kos_buf_init(&b, 1 << 16);
    const char *names[] = {"streamtype"}, *values[] = {"error"};
    assert_int_equal(spdy_encode_syn_stream(&cenc, &extra, 1, 0, names, values, 1), 0);
    assert_int_equal(spdy_encode_ping(&extra, 7), 0);

    struct spdy_conn c;
    assert_int_equal(spdy_conn_open(&c, sv[0], extra.data, extra.len, false), 0);
    struct seen seen = {0};
    /* what came with the request head, without a read */
    assert_int_equal(spdy_conn_decode(&c, on_frame, &seen), 0);
    assert_int_equal(seen.frames, 1);
    assert_int_equal(seen.last, SPDY_SYN_STREAM);
    assert_int_equal(seen.last_id, 1);
    assert_int_equal(spdy_conn_flush(&c), 0);
    assert_int_equal(c.out.len, 0);

    /* the PING came back */
    struct spdy_decoder cdec;
    assert_int_equal(spdy_decoder_init(&cdec), 0);
    struct spdy_frame *f = malloc(sizeof(*f));
    assert_non_null(f);
    recv_some(sv[1], &b);
    assert_int_equal(spdy_decoder_feed(&cdec, b.data, b.len), 0);
    assert_int_equal(spdy_decoder_next(&cdec, f), 1);
    assert_int_equal(f->type, SPDY_PING);
    assert_int_equal(f->value, 7);

    /* data from the socket reaches the callback; nothing to read is no error */
    assert_int_equal(spdy_conn_read(&c, on_frame, &seen), 0);
    assert_false(c.closed);
    kos_buf_reset(&b);
    assert_int_equal(spdy_encode_data(&b, 1, SPDY_FLAG_FIN, "x", 1), 0);
    send_all(sv[1], b.data, b.len);
    struct pollfd pf = {.fd = sv[0], .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    assert_int_equal(spdy_conn_read(&c, on_frame, &seen), 0);
    assert_int_equal(seen.frames, 2);
    assert_int_equal(seen.last, SPDY_DATA);

    /* GOAWAY closes without the callback */
    kos_buf_reset(&b);
    assert_int_equal(spdy_encode_goaway(&b, 0, 0), 0);
    send_all(sv[1], b.data, b.len);
    assert_int_equal(poll(&pf, 1, 10000), 1);
    assert_int_equal(spdy_conn_read(&c, on_frame, &seen), 0);
    assert_true(c.closed);
    assert_int_equal(seen.frames, 2);
    spdy_conn_close(&c);

    free(f);
    spdy_decoder_free(&cdec);
    spdy_encoder_free(&cenc);
    kos_buf_free(&extra);
    kos_buf_free(&b);
    close(sv[0]);
    close(sv[1]);
}

static void test_malformed_and_eof(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* a control frame of version 2: the decoder refuses it, the server decides */
    static const uint8_t bad[] = {0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1};
    struct spdy_conn c;
    assert_int_equal(spdy_conn_open(&c, sv[0], (const char *)bad, sizeof(bad), false), 0);
    struct seen seen = {0};
    assert_true(spdy_conn_decode(&c, on_frame, &seen) < 0);
    assert_false(c.closed);
    assert_int_equal(seen.frames, 0);
    spdy_conn_close(&c);

    /* the client leaving closes the connection */
    assert_int_equal(spdy_conn_open(&c, sv[0], NULL, 0, false), 0);
    shutdown(sv[1], SHUT_WR);
    struct pollfd pf = {.fd = sv[0], .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    assert_true(spdy_conn_read(&c, on_frame, &seen) < 0);
    assert_true(c.closed);
    /* a closed connection writes nothing more */
    assert_int_equal(spdy_encode_ping(&c.out, 1), 0);
    assert_int_equal(spdy_conn_flush(&c), 0);
    spdy_conn_close(&c);
    spdy_conn_close(NULL);
    close(sv[0]);
    close(sv[1]);
}

static void test_tunnel(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    static const uint8_t mask[4] = {1, 2, 3, 4};
    struct kos_buf spdy, ws;
    kos_buf_init(&spdy, 1 << 16);
    kos_buf_init(&ws, 1 << 16);
    assert_int_equal(spdy_encode_ping(&spdy, 9), 0);
    /* the client's first WebSocket message came with the request head */
    assert_int_equal(ws_frame_encode(&ws, WS_OP_BINARY, true, mask, spdy.data, spdy.len), 0);
    struct spdy_conn c;
    assert_int_equal(spdy_conn_open(&c, sv[0], ws.data, ws.len, true), 0);
    struct seen seen = {0};
    assert_int_equal(spdy_conn_read(&c, on_frame, &seen), 0);
    assert_int_equal(seen.frames, 0);
    assert_int_equal(spdy_conn_flush(&c), 0);

    /* the answer is a SPDY PING in a server (unmasked) binary message */
    struct kos_buf b;
    kos_buf_init(&b, 1 << 16);
    recv_some(sv[1], &b);
    struct ws_decoder wd;
    ws_decoder_init(&wd, false, WS_DEFAULT_MAX_FRAME, WS_DEFAULT_MAX_MSG);
    assert_int_equal(ws_decoder_feed(&wd, b.data, b.len), 0);
    struct ws_message m;
    assert_int_equal(ws_decoder_next(&wd, &m), 1);
    assert_int_equal(m.opcode, WS_OP_BINARY);
    struct spdy_decoder cdec;
    assert_int_equal(spdy_decoder_init(&cdec), 0);
    struct spdy_frame *f = malloc(sizeof(*f));
    assert_non_null(f);
    assert_int_equal(spdy_decoder_feed(&cdec, m.data, m.len), 0);
    assert_int_equal(spdy_decoder_next(&cdec, f), 1);
    assert_int_equal(f->type, SPDY_PING);
    assert_int_equal(f->value, 9);

    /* a SPDY frame through the tunnel reaches the callback */
    kos_buf_reset(&spdy);
    kos_buf_reset(&ws);
    assert_int_equal(spdy_encode_data(&spdy, 3, 0, "hi", 2), 0);
    assert_int_equal(ws_frame_encode(&ws, WS_OP_BINARY, true, mask, spdy.data, spdy.len), 0);
    send_all(sv[1], ws.data, ws.len);
    struct pollfd pf = {.fd = sv[0], .events = POLLIN};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    assert_int_equal(spdy_conn_read(&c, on_frame, &seen), 0);
    assert_int_equal(seen.frames, 1);
    assert_int_equal(seen.last, SPDY_DATA);
    assert_int_equal(seen.last_id, 3);
    spdy_conn_close(&c); /* sends the WebSocket close */

    free(f);
    spdy_decoder_free(&cdec);
    ws_decoder_free(&wd);
    kos_buf_free(&spdy);
    kos_buf_free(&ws);
    kos_buf_free(&b);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_malformed_and_eof),
        cmocka_unit_test(test_tunnel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

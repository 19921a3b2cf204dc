/* An exec session over WebSocket v5 end to end, with a local process in place of runc exec:
 * stdin reaches the command, the close signal (255, 0) ends its input, its output comes on
 * channels 1 and 2, and its exit code on channel 3 before the close frame. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "stream/remotecommand.h"
#include "stream/websocket.h"

static const uint8_t MASK[4] = {1, 2, 3, 4};

struct serve_args {
    int fd;
    struct kos_exec_process p;
    char **command;
};

static void *serve(void *arg)
{
    struct serve_args *a = arg;
    rc_serve_websocket(a->fd, NULL, 0, RC_PROTO_V5, &a->p, a->command, 3);
    shutdown(a->fd, SHUT_RDWR);
    return NULL;
}

static void start_sh(const char *script, struct kos_exec_process *p)
{
    int in[2], out[2], err[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    assert_int_equal(pipe2(err, O_CLOEXEC), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    kos_exec_process_init(p);
    p->pid = pid;
    p->stdin_fd = in[1];
    p->stdout_fd = out[0];
    p->stderr_fd = err[0];
}

static void send_frame(int fd, const void *data, size_t len)
{
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(ws_frame_encode(&b, WS_OP_BINARY, true, MASK, data, len), 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    kos_buf_free(&b);
}

static void test_stdin_output_and_exit_code(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct serve_args a = {.fd = sv[0]};
    char *cmd[] = {"sh", "-c", "x"};
    a.command = cmd;
    start_sh("cat; echo err >&2; exit 3", &a.p);
    pthread_t t;
    pthread_create(&t, NULL, serve, &a);
    send_frame(sv[1], "\x00hello ", 7);
    send_frame(sv[1], "\x00world", 6);
    send_frame(sv[1], "\x04{\"Width\":80,\"Height\":24}", 25); /* no tty: ignored */
    send_frame(sv[1], "\xff\x00", 2);                          /* stdin closed */

    /* the server's frames, unmasked, decoded with a client-side decoder */
    struct ws_decoder d;
    ws_decoder_init(&d, false, 0, 0);
    char out[64] = "", err[64] = "", status[1024] = "";
    bool closed = false;
    while (!closed) {
        char buf[4096];
        struct pollfd p = {.fd = sv[1], .events = POLLIN};
        assert_true(poll(&p, 1, 10000) > 0);
        ssize_t n = read(sv[1], buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(ws_decoder_feed(&d, buf, (size_t)n), 0);
        struct ws_message m;
        while (ws_decoder_next(&d, &m) == 1) {
            if (m.opcode == WS_OP_CLOSE) {
                assert_int_equal(m.close_code, WS_CLOSE_NORMAL);
                closed = true;
                break;
            }
            char *dst = m.data[0] == 1 ? out : m.data[0] == 2 ? err : status;
            assert_true(m.data[0] >= 1 && m.data[0] <= 3);
            strncat(dst, (const char *)m.data + 1, m.len - 1);
        }
    }
    ws_decoder_free(&d);
    pthread_join(t, NULL);
    assert_string_equal(out, "hello world");
    assert_string_equal(err, "err\n");
    assert_non_null(strstr(status, "\"reason\":\"NonZeroExitCode\""));
    assert_non_null(strstr(status, "{\"reason\":\"ExitCode\",\"message\":\"3\"}"));
    close(sv[0]);
    close(sv[1]);
}

static void test_client_leaving_ends_the_command(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct serve_args a = {.fd = sv[0]};
    char *cmd[] = {"sh", "-c", "x"};
    a.command = cmd;
    start_sh("exec sleep 1000", &a.p);
    pid_t pid = a.p.pid;
    pthread_t t;
    pthread_create(&t, NULL, serve, &a);
    close(sv[1]); /* gone without a close frame */
    pthread_join(t, NULL);
    /* reaped by the session: no such child any more */
    assert_int_equal(kill(pid, 0), -1);
    close(sv[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdin_output_and_exit_code),
        cmocka_unit_test(test_client_leaving_ends_the_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

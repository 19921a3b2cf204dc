/* exec/attach sessions over WebSocket (see remotecommand.h). */
#include "stream/remotecommand.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream/websocket.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define STDIN_PENDING_MAX (1u << 20)
#define READ_CHUNK        32768
#define DRAIN_MS          2000

enum rc_protocol rc_select_protocol(const char *header)
{
    if (ws_header_has_token(header, "v5.channel.k8s.io"))
        return RC_PROTO_V5;
    if (ws_header_has_token(header, "v4.channel.k8s.io"))
        return RC_PROTO_V4;
    return RC_PROTO_NONE;
}

const char *rc_protocol_name(enum rc_protocol p)
{
    switch (p) {
    case RC_PROTO_V5:
        return "v5.channel.k8s.io";
    case RC_PROTO_V4:
        return "v4.channel.k8s.io";
    default:
        return "";
    }
}

json_t *rc_exit_status(int exit_code, const char *const *command, size_t ncommand)
{
    if (exit_code == 0)
        return json_pack("{s:{}, s:s}", "metadata", "status", "Success");
    /* containerd's CRI exec error, which the kubelet wraps */
    struct kos_buf b;
    kos_buf_init(&b, 16384);
    kos_buf_append_str(&b, "command terminated with non-zero exit code: ");
    if (command) {
        kos_buf_append_str(&b, "error executing command [");
        for (size_t i = 0; i < ncommand; i++)
            kos_buf_printf(&b, "%s%s", i ? " " : "", command[i]);
        kos_buf_printf(&b, "], exit code %d", exit_code);
    } else {
        kos_buf_printf(&b, "exit code %d", exit_code);
    }
    char code[16];
    snprintf(code, sizeof(code), "%d", exit_code);
    json_t *st = json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata", "status",
                           "Failure", "message", b.data ? b.data : "", "reason", "NonZeroExitCode",
                           "details", "causes", "reason", "ExitCode", "message", code);
    kos_buf_free(&b);
    return st;
}

json_t *rc_error_status(const char *message)
{
    return json_pack("{s:{}, s:s, s:s}", "metadata", "status", "Failure", "message", message);
}

int rc_parse_resize(const void *data, size_t len, unsigned *width, unsigned *height)
{
    _cleanup_json_ json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *w = json_object_get(o, "Width"), *h = json_object_get(o, "Height");
    if (!json_is_object(o) || !json_is_integer(w) || !json_is_integer(h))
        return -EINVAL;
    json_int_t wv = json_integer_value(w), hv = json_integer_value(h);
    if (wv < 0 || hv < 0 || wv > 0xFFFF || hv > 0xFFFF)
        return -EINVAL;
    *width = (unsigned)wv;
    *height = (unsigned)hv;
    return 0;
}

static void set_nonblock(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

struct session {
    struct ws_conn ws;
    enum rc_protocol proto;
    struct kos_exec_process *p;
    struct kos_buf pending; /* stdin not yet written */
    size_t pending_pos;
    bool stdin_eof; /* the client closed stdin */
};

static void close_stdin(struct session *s)
{
    if (s->p->stdin_fd < 0)
        return;
    /* a terminal has no end of input but the EOT character its line discipline reads */
    if (s->p->tty_fd >= 0 && write(s->p->stdin_fd, "\x04", 1) < 0)
        s->pending_pos = s->pending.len;
    close(s->p->stdin_fd);
    s->p->stdin_fd = -1;
}

static void on_message(struct session *s, const struct ws_message *m)
{
    if (m->len == 0)
        return;
    uint8_t ch = m->data[0];
    const uint8_t *d = m->data + 1;
    size_t n = m->len - 1;
    switch (ch) {
    case RC_CH_STDIN:
        if (s->p->stdin_fd < 0 || s->stdin_eof || n == 0)
            return;
        if (kos_buf_append(&s->pending, d, n) < 0) {
            kos_buf_init(&s->pending, STDIN_PENDING_MAX); /* dropped: over the bound */
            s->pending_pos = 0;
        }
        return;
    case RC_CH_RESIZE: {
        unsigned w, h;
        if (rc_parse_resize(d, n, &w, &h) == 0)
            kos_exec_process_resize(s->p, w, h);
        return;
    }
    case RC_CH_CLOSE:
        if (s->proto == RC_PROTO_V5 && n >= 1 && d[0] == RC_CH_STDIN) {
            s->stdin_eof = true;
            if (s->pending.len == s->pending_pos)
                close_stdin(s);
        }
        return;
    default:
        return;
    }
}

/* Copies what an output fd has onto its channel: false at its end. */
static bool pump_output(struct session *s, int *fd, uint8_t channel)
{
    char buf[READ_CHUNK];
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n > 0) {
        if (ws_conn_send_channel(&s->ws, channel, buf, (size_t)n) < 0)
            s->ws.closed = true;
        return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    /* EOF, or EIO from a terminal whose other side is gone (closed with p at the end) */
    *fd = -1;
    return false;
}

static void write_stdin(struct session *s)
{
    size_t left = s->pending.len - s->pending_pos;
    if (left == 0 || s->p->stdin_fd < 0)
        return;
    ssize_t n = write(s->p->stdin_fd, s->pending.data + s->pending_pos, left);
    if (n > 0) {
        s->pending_pos += (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        /* the command stopped reading: drop the rest */
        s->pending_pos = s->pending.len;
        close_stdin(s);
    }
    if (s->pending_pos == s->pending.len) {
        kos_buf_reset(&s->pending);
        s->pending_pos = 0;
        if (s->stdin_eof)
            close_stdin(s);
    }
}

void rc_serve_websocket(int fd, const char *extra, size_t extra_len, enum rc_protocol proto,
                        struct kos_exec_process *p, char **command, size_t ncommand)
{
    struct session s = {.proto = proto, .p = p};
    kos_buf_init(&s.pending, STDIN_PENDING_MAX);
    if (ws_conn_init(&s.ws, fd, extra, extra_len) < 0) {
        kos_buf_free(&s.pending);
        kos_exec_process_close(p);
        return;
    }
    set_nonblock(fd);
    set_nonblock(p->stdout_fd);
    set_nonblock(p->stderr_fd);
    set_nonblock(p->stdin_fd);
    int out = p->stdout_fd, err = p->stderr_fd;
    bool exited = false;
    int code = -1;
    int64_t drain_deadline = 0;
    while (!s.ws.closed) {
        if (!exited) {
            int r = kos_exec_process_wait(p, false, &code);
            if (r != 0) {
                exited = true;
                if (r < 0)
                    code = -1;
                drain_deadline = kos_now_ms_monotonic() + DRAIN_MS;
            }
        }
        if (exited && ((out < 0 && err < 0) || kos_now_ms_monotonic() > drain_deadline))
            break;
        struct pollfd pf[4];
        nfds_t n = 0;
        int iws = -1, iout = -1, ierr = -1, iin = -1;
        bool stdin_busy = s.pending.len > s.pending_pos;
        if (!stdin_busy) {
            pf[n] = (struct pollfd){.fd = fd, .events = POLLIN};
            iws = (int)n++;
        }
        if (out >= 0) {
            pf[n] = (struct pollfd){.fd = out, .events = POLLIN};
            iout = (int)n++;
        }
        if (err >= 0) {
            pf[n] = (struct pollfd){.fd = err, .events = POLLIN};
            ierr = (int)n++;
        }
        if (stdin_busy && p->stdin_fd >= 0) {
            pf[n] = (struct pollfd){.fd = p->stdin_fd, .events = POLLOUT};
            iin = (int)n++;
        }
        int pr = poll(pf, n, 100);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0)
            continue;
        if (iout >= 0 && pf[iout].revents)
            pump_output(&s, &out, RC_CH_STDOUT);
        if (ierr >= 0 && pf[ierr].revents)
            pump_output(&s, &err, RC_CH_STDERR);
        if (iin >= 0 && pf[iin].revents)
            write_stdin(&s);
        if (iws >= 0 && pf[iws].revents) {
            struct ws_message m;
            int r;
            while ((r = ws_conn_poll_message(&s.ws, &m)) == 1) {
                on_message(&s, &m);
                write_stdin(&s);
            }
            if (r < 0)
                s.ws.closed = true;
        }
    }
    if (!s.ws.closed && exited) {
        _cleanup_json_ json_t *st =
            code >= 0 ? rc_exit_status(code, (const char *const *)command, ncommand)
                      : rc_error_status("the command's exit status is unknown");
        _cleanup_free_ char *js = st ? json_dumps(st, JSON_COMPACT) : NULL;
        if (js)
            ws_conn_send_channel(&s.ws, RC_CH_ERROR, js, strlen(js));
        ws_conn_close(&s.ws, WS_CLOSE_NORMAL);
    }
    ws_conn_free(&s.ws);
    kos_buf_free(&s.pending);
    kos_exec_process_close(p);
}

/* exec/attach over raw SPDY/3.1 (kubectl 1.27-1.29, and 1.30+ when the WebSocket upgrade
 * fails): the kubelet's remotecommand/httpstream.go with protocol v4.channel.k8s.io. The
 * client opens one stream per channel, named by the streamType header (error, stdin, stdout,
 * stderr, resize); the server waits for the ones the options ask for, copies, writes the
 * Status on the error stream and closes every stream. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "stream/remotecommand.h"
#include "stream/spdy_conn.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define STREAM_WAIT_MS    30000 /* the kubelet's streamCreationTimeout */
#define DRAIN_MS          2000
#define CHUNK             32768
#define STDIN_PENDING_MAX (1u << 20)
#define RESIZE_BUF_MAX    4096

enum { ST_ERROR, ST_STDIN, ST_STDOUT, ST_STDERR, ST_RESIZE, ST_COUNT };
static const char *const stream_names[ST_COUNT] = {"error", "stdin", "stdout", "stderr", "resize"};

struct spdy_exec {
    struct spdy_conn c;
    uint32_t ids[ST_COUNT];
    struct kos_exec_process *p;
    struct kos_buf pending; /* stdin not yet written */
    size_t pending_pos;
    bool stdin_eof;
    struct kos_buf resize; /* newline-separated JSON sizes */
};

static void set_nonblock(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void close_stdin(struct spdy_exec *s)
{
    if (s->p->stdin_fd < 0)
        return;
    if (s->p->tty_fd >= 0 && write(s->p->stdin_fd, "\x04", 1) < 0)
        s->pending_pos = s->pending.len;
    close(s->p->stdin_fd);
    s->p->stdin_fd = -1;
}

static void write_stdin(struct spdy_exec *s)
{
    size_t left = s->pending.len - s->pending_pos;
    if (left > 0 && s->p->stdin_fd >= 0) {
        ssize_t n = write(s->p->stdin_fd, s->pending.data + s->pending_pos, left);
        if (n > 0)
            s->pending_pos += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            s->pending_pos = s->pending.len;
    }
    if (s->pending_pos == s->pending.len) {
        kos_buf_reset(&s->pending);
        s->pending_pos = 0;
        if (s->stdin_eof)
            close_stdin(s);
    }
}

static void on_resize_data(struct spdy_exec *s, const uint8_t *d, size_t n)
{
    if (kos_buf_append(&s->resize, d, n) < 0) {
        kos_buf_init(&s->resize, RESIZE_BUF_MAX);
        return;
    }
    char *nl;
    while (s->resize.len > 0 && (nl = memchr(s->resize.data, '\n', s->resize.len))) {
        size_t line = (size_t)(nl - s->resize.data);
        unsigned w, h;
        if (rc_parse_resize(s->resize.data, line, &w, &h) == 0)
            kos_exec_process_resize(s->p, w, h);
        size_t rest = s->resize.len - line - 1;
        memmove(s->resize.data, nl + 1, rest);
        s->resize.len = rest;
        s->resize.data[rest] = '\0';
    }
}

static void on_frame(void *ctx, const struct spdy_frame *f)
{
    struct spdy_exec *s = ctx;
    switch (f->type) {
    case SPDY_SYN_STREAM: {
        char type[16] = "";
        spdy_header_get(f, "streamtype", type, sizeof(type));
        int which = -1;
        for (int i = 0; i < ST_COUNT; i++)
            if (strcmp(type, stream_names[i]) == 0)
                which = i;
        bool ok = which >= 0 && s->ids[which] == 0;
        spdy_encode_syn_reply(&s->c.enc, &s->c.out, f->stream_id, ok ? 0 : SPDY_FLAG_FIN, NULL,
                              NULL, 0);
        if (ok)
            s->ids[which] = f->stream_id;
        return;
    }
    case SPDY_DATA:
        if (f->stream_id == s->ids[ST_STDIN] && s->p->stdin_fd >= 0 && !s->stdin_eof) {
            if (f->len && kos_buf_append(&s->pending, f->data, f->len) < 0) {
                kos_buf_init(&s->pending, STDIN_PENDING_MAX); /* over the bound: dropped */
                s->pending_pos = 0;
            }
            if (f->flags & SPDY_FLAG_FIN)
                s->stdin_eof = true;
            write_stdin(s);
        } else if (f->stream_id == s->ids[ST_RESIZE] && f->len) {
            on_resize_data(s, f->data, f->len);
        }
        return;
    case SPDY_RST_STREAM:
        if (f->stream_id == s->ids[ST_STDIN]) {
            s->stdin_eof = true;
            write_stdin(s);
        }
        return;
    default:
        return;
    }
}

static void read_client(struct spdy_exec *s)
{
    if (spdy_conn_read(&s->c, on_frame, s) < 0)
        s->c.closed = true;
}

static bool have_streams(const struct spdy_exec *s, bool in, bool out, bool err, bool tty)
{
    return s->ids[ST_ERROR] && (!in || s->ids[ST_STDIN]) && (!out || s->ids[ST_STDOUT]) &&
           (!err || s->ids[ST_STDERR]) && (!tty || s->ids[ST_RESIZE]);
}

void rc_serve_spdy(int fd, const char *extra, size_t extra_len, const struct kos_exec_options *o,
                   struct kos_exec_process *p, char **command, size_t ncommand)
{
    struct spdy_exec *s = calloc(1, sizeof(*s));
    if (!s) {
        kos_exec_process_close(p);
        return;
    }
    s->p = p;
    kos_buf_init(&s->pending, STDIN_PENDING_MAX);
    kos_buf_init(&s->resize, RESIZE_BUF_MAX);
    if (spdy_conn_open(&s->c, fd, extra, extra_len, false) < 0)
        goto out;
    set_nonblock(p->stdout_fd);
    set_nonblock(p->stderr_fd);
    set_nonblock(p->stdin_fd);
    /* the streams first, as the kubelet waits for them before copying */
    int64_t deadline = kos_now_ms_monotonic() + STREAM_WAIT_MS;
    /* a malformed frame here fails again, and ends the session, at the next read */
    spdy_conn_decode(&s->c, on_frame, s);
    spdy_conn_flush(&s->c);
    while (!s->c.closed && !have_streams(s, o->stdin, o->stdout, o->stderr, o->tty)) {
        int64_t left = deadline - kos_now_ms_monotonic();
        if (left <= 0)
            goto out;
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, (int)left) > 0)
            read_client(s);
        spdy_conn_flush(&s->c);
    }
    int outfd = s->ids[ST_STDOUT] ? p->stdout_fd : -1;
    int errfd = s->ids[ST_STDERR] ? p->stderr_fd : -1;
    bool exited = false;
    int code = -1;
    int64_t drain_deadline = 0;
    int r;
    while (!s->c.closed) {
        if (!exited && (r = kos_exec_process_wait(p, false, &code)) != 0) {
            exited = true;
            if (r < 0)
                code = -1;
            drain_deadline = kos_now_ms_monotonic() + DRAIN_MS;
        }
        if (exited && ((outfd < 0 && errfd < 0) || kos_now_ms_monotonic() > drain_deadline))
            break;
        struct pollfd pf[4];
        int idx[4];
        nfds_t n = 0;
        bool busy = s->pending.len > s->pending_pos;
        if (!busy) {
            pf[n] = (struct pollfd){.fd = fd, .events = POLLIN};
            idx[n++] = -1;
        }
        if (outfd >= 0) {
            pf[n] = (struct pollfd){.fd = outfd, .events = POLLIN};
            idx[n++] = ST_STDOUT;
        }
        if (errfd >= 0) {
            pf[n] = (struct pollfd){.fd = errfd, .events = POLLIN};
            idx[n++] = ST_STDERR;
        }
        if (busy && p->stdin_fd >= 0) {
            pf[n] = (struct pollfd){.fd = p->stdin_fd, .events = POLLOUT};
            idx[n++] = ST_STDIN;
        }
        int pr = poll(pf, n, 100);
        if (pr < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; pr > 0 && i < n; i++) {
            if (!pf[i].revents)
                continue;
            if (idx[i] == -1) {
                read_client(s);
            } else if (idx[i] == ST_STDIN) {
                write_stdin(s);
            } else {
                int *ofd = idx[i] == ST_STDOUT ? &outfd : &errfd;
                uint8_t buf[CHUNK];
                ssize_t got = read(*ofd, buf, sizeof(buf));
                if (got > 0) {
                    spdy_encode_data(&s->c.out, s->ids[idx[i]], 0, buf, (size_t)got);
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    spdy_encode_data(&s->c.out, s->ids[idx[i]], SPDY_FLAG_FIN, NULL, 0);
                    *ofd = -1;
                }
            }
        }
        spdy_conn_flush(&s->c);
    }
    if (!s->c.closed && exited) {
        if (outfd >= 0)
            spdy_encode_data(&s->c.out, s->ids[ST_STDOUT], SPDY_FLAG_FIN, NULL, 0);
        if (errfd >= 0)
            spdy_encode_data(&s->c.out, s->ids[ST_STDERR], SPDY_FLAG_FIN, NULL, 0);
        _cleanup_json_ json_t *st =
            code >= 0 ? rc_exit_status(code, (const char *const *)command, ncommand)
                      : rc_error_status("the command's exit status is unknown");
        _cleanup_free_ char *js = st ? json_dumps(st, JSON_COMPACT) : NULL;
        if (js)
            spdy_encode_data(&s->c.out, s->ids[ST_ERROR], 0, js, strlen(js));
        spdy_encode_data(&s->c.out, s->ids[ST_ERROR], SPDY_FLAG_FIN, NULL, 0);
        spdy_conn_flush(&s->c);
        /* the client closes the connection once it has read the status; wait a little for
         * that so the last frames are not cut by our close */
        for (int i = 0; i < 20 && !s->c.closed; i++) {
            struct pollfd pf = {.fd = fd, .events = POLLIN};
            if (poll(&pf, 1, 100) > 0)
                read_client(s);
            spdy_conn_flush(&s->c);
        }
    }
out:
    spdy_conn_close(&s->c);
    kos_buf_free(&s->pending);
    kos_buf_free(&s->resize);
    free(s);
    kos_exec_process_close(p);
}

/* The shim's attach socket and its client (see attach.h). */
#include "agent/runtime/attach.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define ATTACH_ACK_TIMEOUT_MS 5000
#define ANNOTATION_STDIN      "kos.agent/stdin"
#define ANNOTATION_STDIN_ONCE "kos.agent/stdin-once"

void kos_attach_mark_spec(json_t *spec, bool stdin_open, bool stdin_once, bool tty)
{
    if (tty)
        json_object_set_new(json_object_get(spec, "process"), "terminal", json_true());
    if (!stdin_open)
        return;
    json_t *ann = json_object_get(spec, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(spec, "annotations", ann);
    }
    json_object_set_new(ann, ANNOTATION_STDIN, json_string("true"));
    if (stdin_once)
        json_object_set_new(ann, ANNOTATION_STDIN_ONCE, json_string("true"));
}

/* sockaddr for <dir>/attach.sock through /proc/self/fd, since state directories can be
 * longer than sun_path allows. */
static int socket_addr(int dirfd, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd,
                     KOS_ATTACH_SOCKET);
    return n < 0 || (size_t)n >= sizeof(sa->sun_path) ? -ENAMETOOLONG : 0;
}

int kos_attach_connect(const char *dir, char role, int *ret_fd)
{
    _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    struct sockaddr_un sa;
    int r = socket_addr(dirfd, &sa);
    if (r < 0)
        return r;
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return -errno;
    /* a shim with every slot taken closes at once: that is a refusal, not a SIGPIPE */
    if (send(fd, &role, 1, MSG_NOSIGNAL) != 1)
        return -ECONNREFUSED;
    /* the shim acknowledges once the stream is registered: output from then on reaches us */
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char ack = 0;
    if (poll(&p, 1, ATTACH_ACK_TIMEOUT_MS) <= 0 || read(fd, &ack, 1) != 1 || ack != 'k')
        return -ECONNREFUSED;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

void shim_attach_spec(const char *dir, bool *ret_stdin, bool *ret_stdin_once, bool *ret_tty)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    _cleanup_json_ json_t *spec = json_load_file(path, 0, NULL);
    json_t *ann = json_object_get(spec, "annotations");
    *ret_stdin = json_string_value(json_object_get(ann, ANNOTATION_STDIN)) != NULL;
    *ret_stdin_once = json_string_value(json_object_get(ann, ANNOTATION_STDIN_ONCE)) != NULL;
    *ret_tty = json_is_true(json_object_get(json_object_get(spec, "process"), "terminal"));
}

int shim_console_listen(const char *dir, int *ret_fd, char *path, size_t size)
{
    /* runc is another process: the path goes through the shim's own /proc entry */
    _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/%d/fd/%d/console.sock", (int)getpid(),
                     dirfd);
    if (n < 0 || (size_t)n >= sizeof(sa.sun_path) || (size_t)n >= size)
        return -ENAMETOOLONG;
    char real[PATH_MAX];
    snprintf(real, sizeof(real), "%s/console.sock", dir);
    unlink(real);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
        return -errno;
    memcpy(path, sa.sun_path, (size_t)n + 1);
    *ret_fd = TAKE_FD(fd);
    /* the directory fd must stay open while runc connects: keep it alive until exec ends
     * by leaking it into the shim (one per container, closed at exit) */
    dirfd = -1;
    return 0;
}

int shim_console_receive(int listen_fd, int *ret_master)
{
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    if (poll(&p, 1, 10000) <= 0)
        return -ETIMEDOUT;
    _cleanup_close_ int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return -errno;
    char name[256];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl)};
    if (recvmsg(c, &msg, MSG_CMSG_CLOEXEC) < 0)
        return -errno;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return -EPROTO;
    memcpy(ret_master, CMSG_DATA(cm), sizeof(int));
    return 0;
}

struct attach_client {
    int fd;
    char role;        /* 0 until the first byte came */
    uint8_t carry[4]; /* 'r': a partial size record */
    size_t ncarry;
};

struct shim_attach {
    char path[PATH_MAX];
    int listen_fd;
    int stdin_fd;
    bool stdin_once;
    int tty_fd;
    struct attach_client clients[KOS_ATTACH_MAX_CLIENTS];
};

int shim_attach_open(const char *dir, int stdin_fd, bool stdin_once, int tty_fd,
                     struct shim_attach **ret)
{
    struct shim_attach *a = calloc(1, sizeof(*a));
    if (!a) {
        if (stdin_fd >= 0)
            close(stdin_fd);
        return -ENOMEM;
    }
    a->stdin_fd = stdin_fd;
    a->stdin_once = stdin_once;
    a->tty_fd = tty_fd;
    for (size_t i = 0; i < KOS_ATTACH_MAX_CLIENTS; i++)
        a->clients[i].fd = -1;
    snprintf(a->path, sizeof(a->path), "%s/%s", dir, KOS_ATTACH_SOCKET);
    unlink(a->path);
    _cleanup_close_ int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct sockaddr_un sa;
    int r = dirfd < 0 ? -errno : socket_addr(dirfd, &sa);
    a->listen_fd = r < 0 ? -1 : socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (r == 0 && (a->listen_fd < 0 || bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                   listen(a->listen_fd, 8) < 0))
        r = -errno;
    if (r < 0) {
        shim_attach_close(a);
        return r;
    }
    if (stdin_fd >= 0)
        fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
    *ret = a;
    return 0;
}

static void drop_client(struct shim_attach *a, struct attach_client *c)
{
    if (c->role == 'i' && a->stdin_once && a->stdin_fd >= 0) {
        /* stdinOnce: the first attached writer's end is the container's end of input (on a
         * terminal, the EOT character) */
        if (a->tty_fd >= 0 && write(a->stdin_fd, "\x04", 1) < 0)
            c->ncarry = 0;
        close(a->stdin_fd);
        a->stdin_fd = -1;
    }
    close(c->fd);
    c->fd = -1;
    c->role = 0;
}

size_t shim_attach_pollfds(struct shim_attach *a, struct pollfd *pf, size_t max)
{
    size_t n = 0;
    if (!a || a->listen_fd < 0 || max == 0)
        return 0;
    pf[n++] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
    for (size_t i = 0; i < KOS_ATTACH_MAX_CLIENTS && n < max; i++) {
        struct attach_client *c = &a->clients[i];
        if (c->fd < 0)
            continue;
        /* a writer is read only while the container's stdin has room: never block */
        short ev = c->role == 'i' ? 0 : POLLIN;
        if (c->role == 'i' && a->stdin_fd >= 0)
            ev = POLLIN;
        pf[n++] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    return n;
}

static void accept_clients(struct shim_attach *a)
{
    for (;;) {
        int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        struct attach_client *slot = NULL;
        for (size_t i = 0; i < KOS_ATTACH_MAX_CLIENTS && !slot; i++)
            if (a->clients[i].fd < 0)
                slot = &a->clients[i];
        if (!slot) {
            close(fd);
            continue;
        }
        slot->fd = fd;
        slot->role = 0;
    }
}

static void client_input(struct shim_attach *a, struct attach_client *c)
{
    if (!c->role) {
        char role;
        ssize_t n = read(c->fd, &role, 1);
        if (n == 1 && (role == 'o' || role == 'e' || role == 'i' || role == 'r') &&
            send(c->fd, "k", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            c->role = role;
        else if (n == 0 || (n < 0 && errno != EAGAIN) || n == 1)
            drop_client(a, c);
        return;
    }
    /* at most a pipe buffer's atomic size, so that a write to stdin never blocks */
    char buf[PIPE_BUF];
    ssize_t n = read(c->fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop_client(a, c);
        return;
    }
    if (n > 0 && c->role == 'i' && a->stdin_fd >= 0) {
        ssize_t w = write(a->stdin_fd, buf, (size_t)n);
        (void)w; /* a full pipe loses the input, as a terminal would on overrun */
    }
    for (ssize_t i = 0; c->role == 'r' && i < n; i++) {
        c->carry[c->ncarry++] = (uint8_t)buf[i];
        if (c->ncarry < 4)
            continue;
        c->ncarry = 0;
        uint16_t wh[2];
        memcpy(wh, c->carry, 4);
        struct winsize ws = {.ws_col = wh[0], .ws_row = wh[1]};
        if (a->tty_fd >= 0)
            ioctl(a->tty_fd, TIOCSWINSZ, &ws);
    }
}

void shim_attach_handle(struct shim_attach *a, const struct pollfd *pf, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!pf[i].revents)
            continue;
        if (pf[i].fd == a->listen_fd) {
            accept_clients(a);
            continue;
        }
        for (size_t k = 0; k < KOS_ATTACH_MAX_CLIENTS; k++)
            if (a->clients[k].fd == pf[i].fd)
                client_input(a, &a->clients[k]);
    }
}

void shim_attach_output(struct shim_attach *a, int stream, const void *data, size_t len)
{
    if (!a)
        return;
    char want = stream == 0 ? 'o' : 'e';
    for (size_t i = 0; i < KOS_ATTACH_MAX_CLIENTS; i++) {
        struct attach_client *c = &a->clients[i];
        if (c->fd < 0 || c->role != want)
            continue;
        ssize_t w = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN)
            drop_client(a, c);
    }
}

void shim_attach_close(struct shim_attach *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < KOS_ATTACH_MAX_CLIENTS; i++)
        if (a->clients[i].fd >= 0)
            close(a->clients[i].fd);
    if (a->listen_fd >= 0) {
        close(a->listen_fd);
        unlink(a->path);
    }
    if (a->stdin_fd >= 0)
        close(a->stdin_fd);
    free(a);
}

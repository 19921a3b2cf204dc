/* runc exec to completion (see exec_sync.h). */
#include "agent/runtime/exec_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define MAX_ARGS 256

/* The pid of the command inside the container, from runc's --pid-file (0: not there yet). */
static pid_t read_pid(const char *path)
{
    char buf[32] = "";
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    int64_t v;
    buf[strcspn(buf, "\n")] = '\0';
    return kos_parse_int64(buf, &v) == 0 && v > 1 && v < (1 << 22) ? (pid_t)v : 0;
}

/* Keeps what fits, drops the rest (the probe reads at most so much). */
static void take(char *out, size_t size, size_t *len, const char *data, size_t n)
{
    if (*len + 1 < size) {
        size_t room = size - 1 - *len;
        size_t k = n < room ? n : room;
        memcpy(out + *len, data, k);
        *len += k;
    }
    out[*len] = '\0';
}

int kos_container_exec_sync(const struct kos_runtime *rt, const char *id, const char *const *argv,
                            size_t argc, int64_t timeout_ms, char *out, size_t size, int *exit_code)
{
    static atomic_uint counter;
    if (!rt || !id || !argv || argc == 0 || argc > MAX_ARGS || !out || size == 0)
        return -EINVAL;
    out[0] = '\0';
    char dir[4096], pidf[4200];
    int r = kos_container_dir(rt, id, dir, sizeof(dir));
    if (r < 0)
        return r;
    snprintf(pidf, sizeof(pidf), "%s/exec-%d-%u.pid", dir, (int)getpid(),
             atomic_fetch_add(&counter, 1));
    const char *args[MAX_ARGS + 8];
    size_t n = 0;
    args[n++] = rt->runtime;
    args[n++] = "--root";
    args[n++] = rt->runtime_root;
    args[n++] = "exec";
    args[n++] = "--pid-file";
    args[n++] = pidf;
    args[n++] = id;
    for (size_t i = 0; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    _cleanup_close_ int rd = p[0];
    pid_t pid = fork();
    if (pid < 0) {
        close(p[1]);
        return -errno;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(p[1], 1);
        dup2(p[1], 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execvp(args[0], (char *const *)args);
        _exit(127);
    }
    close(p[1]);
    fcntl(rd, F_SETFL, O_NONBLOCK);

    int64_t deadline = kos_now_ms_monotonic() + (timeout_ms > 0 ? timeout_ms : 1000);
    size_t len = 0;
    bool eof = false, exited = false, timed_out = false;
    int st = 0;
    char chunk[4096];
    while (!exited) {
        /* A command may leave children that hold the output open: the end is its exit. */
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            exited = true;
            break;
        }
        if (w < 0 && errno != EINTR) {
            r = -errno;
            break;
        }
        int64_t left = deadline - kos_now_ms_monotonic();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        if (eof) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd pfd = {.fd = rd, .events = POLLIN};
        int pr = poll(&pfd, 1, left < 50 ? (int)left : 50);
        if (pr > 0) {
            ssize_t k = read(rd, chunk, sizeof(chunk));
            if (k > 0)
                take(out, size, &len, chunk, (size_t)k);
            else if (k == 0 || (errno != EAGAIN && errno != EINTR))
                eof = true;
        }
    }
    if (exited) {
        /* what is already in the pipe belongs to the output */
        ssize_t k;
        while ((k = read(rd, chunk, sizeof(chunk))) > 0)
            take(out, size, &len, chunk, (size_t)k);
    } else {
        pid_t inner = read_pid(pidf);
        if (inner > 0)
            kill(inner, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    unlink(pidf);
    if (timed_out)
        return -ETIMEDOUT;
    if (!exited)
        return r < 0 ? r : -EIO;
    *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return 0;
}

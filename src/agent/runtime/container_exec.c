/* runc exec for a streaming session (see container_exec.h). */
#include "agent/runtime/container_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "util/cleanup.h"

#define MAX_EXEC_ARGS 1024

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

int kos_container_exec(const struct kos_runtime *rt, const char *id, const char *const *argv,
                       size_t argc, const struct kos_exec_options *o, struct kos_exec_process *ret,
                       struct kos_error **err)
{
    char dir[4096];
    if (kos_container_dir(rt, id, dir, sizeof(dir)) < 0)
        return kos_error_set(err, 500, "InternalError", "invalid container id \"%s\"", id);
    if (argc == 0 || argc > MAX_EXEC_ARGS)
        return kos_error_set(err, 400, "BadRequest", "invalid command: %zu arguments", argc);
    const char **args = calloc(argc + 16, sizeof(*args));
    if (!args)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    char logp[4200];
    snprintf(logp, sizeof(logp), "%s/exec.log", dir);
    size_t n = 0;
    args[n++] = rt->runtime;
    args[n++] = "--root";
    args[n++] = rt->runtime_root;
    args[n++] = "--log";
    args[n++] = logp;
    args[n++] = "exec";
    if (o->tty)
        args[n++] = "--tty";
    args[n++] = id;
    for (size_t i = 0; i < argc; i++)
        args[n++] = argv[i];
    args[n] = NULL;

    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
    int master = -1, slave = -1;
    int r = 0;
    if (o->tty) {
        struct winsize ws = {.ws_row = 24, .ws_col = 80};
        if (openpty(&master, &slave, NULL, NULL, &ws) < 0) {
            r = -errno;
        } else {
            /* raw from the start: runc sets it raw too, but input sent before that must
             * not be echoed or cooked by this outer terminal */
            struct termios t;
            if (tcgetattr(slave, &t) == 0) {
                cfmakeraw(&t);
                tcsetattr(slave, TCSANOW, &t);
            }
            fcntl(master, F_SETFD, FD_CLOEXEC);
        }
    } else {
        if ((o->stdin && pipe2(in, O_CLOEXEC) < 0) || (o->stdout && pipe2(out, O_CLOEXEC) < 0) ||
            (o->stderr && pipe2(errp, O_CLOEXEC) < 0))
            r = -errno;
    }
    if (r < 0) {
        close_pair(in), close_pair(out), close_pair(errp);
        if (master >= 0)
            close(master), close(slave);
        free(args);
        return kos_error_set(err, 500, "InternalError", "cannot set up the exec streams: %s",
                             strerror(-r));
    }
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (o->tty) {
            setsid();
            ioctl(slave, TIOCSCTTY, 0);
            dup2(slave, 0);
            dup2(slave, 1);
            dup2(slave, 2);
        } else {
            dup2(o->stdin ? in[0] : null, 0);
            dup2(o->stdout ? out[1] : null, 1);
            dup2(o->stderr ? errp[1] : null, 2);
        }
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        signal(SIGPIPE, SIG_DFL);
        execvp(args[0], (char *const *)args);
        _exit(127);
    }
    int saved = errno;
    free(args);
    if (pid < 0) {
        close_pair(in), close_pair(out), close_pair(errp);
        if (master >= 0)
            close(master), close(slave);
        return kos_error_set(err, 500, "InternalError", "cannot start the exec: %s",
                             strerror(saved));
    }
    kos_exec_process_init(ret);
    ret->pid = pid;
    if (o->tty) {
        close(slave);
        ret->stdout_fd = master;
        ret->stdin_fd = o->stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -1;
        ret->tty_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
    } else {
        if (o->stdin)
            close(in[0]), ret->stdin_fd = in[1];
        if (o->stdout)
            close(out[1]), ret->stdout_fd = out[0];
        if (o->stderr)
            close(errp[1]), ret->stderr_fd = errp[0];
    }
    return 0;
}

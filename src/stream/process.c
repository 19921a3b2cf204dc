/* The life of an exec'd process as a streaming session sees it (see backend.h). */
#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "stream/backend.h"

void kos_exec_process_init(struct kos_exec_process *p)
{
    *p = (struct kos_exec_process){
        .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .tty_fd = -1, .exit_code = -1};
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 255;
}

int kos_exec_process_wait(struct kos_exec_process *p, bool block, int *exit_code)
{
    if (p->wait)
        return p->wait(p, block, exit_code);
    if (p->pid <= 0) {
        if (p->exit_code < 0)
            return -ECHILD;
        *exit_code = p->exit_code;
        return 1;
    }
    int st;
    pid_t w;
    do
        w = waitpid(p->pid, &st, block ? 0 : WNOHANG);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return -errno;
    if (w == 0)
        return 0;
    p->pid = 0;
    p->exit_code = status_code(st);
    *exit_code = p->exit_code;
    return 1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void kos_exec_process_close(struct kos_exec_process *p)
{
    if (!p)
        return;
    close_fd(&p->stdin_fd);
    close_fd(&p->stdout_fd);
    close_fd(&p->stderr_fd);
    close_fd(&p->tty_fd);
    if (p->terminate) {
        p->terminate(p);
        p->terminate = NULL;
        return;
    }
    if (p->pid <= 0)
        return;
    /* runc exec forwards SIGTERM to the command; SIGKILL (itself) only if that is ignored. */
    kill(p->pid, SIGTERM);
    int code;
    for (int i = 0; i < 50; i++) {
        if (kos_exec_process_wait(p, false, &code) != 0)
            return;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(p->pid, SIGKILL);
    kos_exec_process_wait(p, true, &code);
}

int kos_exec_process_resize(struct kos_exec_process *p, unsigned width, unsigned height)
{
    if (width > 0xFFFF || height > 0xFFFF)
        return -EINVAL;
    if (p->resize)
        return p->resize(p, width, height);
    if (p->tty_fd < 0)
        return -ENOTTY;
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    return ioctl(p->tty_fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

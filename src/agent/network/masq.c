/* nftables through the nft binary (Debian's nftables): the rules change only when a node
 * joins or leaves, so one short process per change costs nothing per pod. */
#include "agent/network/masq.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TABLE "kos"

int kos_masq_script(const struct kos_cidr *local, const struct kos_cidr *pods, size_t npods,
                    struct kos_buf *out)
{
    char l[24], c[24];
    kos_cidr_format(local, l, sizeof(l));
    /* create-then-delete makes the delete succeed when the table is new */
    int r = kos_buf_append_str(out, "table ip " TABLE "\ndelete table ip " TABLE "\n"
                                    "table ip " TABLE " {\n"
                                    "\tset pod-cidrs {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                                    "\t\tauto-merge\n\t\telements = { ");
    for (size_t i = 0; r == 0 && i < npods; i++) {
        kos_cidr_format(&pods[i], c, sizeof(c));
        r = kos_buf_printf(out, "%s%s", i ? ", " : "", c);
    }
    if (r == 0 && npods == 0)
        r = kos_buf_append_str(out, l);
    if (r == 0)
        r = kos_buf_printf(out,
                           " }\n\t}\n"
                           "\tchain postrouting {\n"
                           "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
                           "\t\tip saddr %s ip daddr != @pod-cidrs masquerade\n"
                           "\t}\n}\n",
                           l);
    return r;
}

static int run_nft(const char *script, size_t len)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"nft", "-f", "-", NULL};
    extern char **environ;
    pid_t pid;
    int r = posix_spawnp(&pid, "nft", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[0]);
    if (r != 0) {
        close(pipefd[1]);
        return -r;
    }
    /* the script is a few hundred bytes: it fits the pipe, no deadlock with a dead nft */
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(pipefd[1], script + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(pipefd[1]);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return -ENOENT;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && off == len ? 0 : -EIO;
}

int kos_masq_apply(const struct kos_cidr *local, const struct kos_cidr *pods, size_t npods)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    int r = kos_masq_script(local, pods, npods, &b);
    if (r < 0)
        return r;
    return run_nft(b.data, b.len);
}

int kos_masq_remove(void)
{
    static const char s[] = "table ip " TABLE "\ndelete table ip " TABLE "\n";
    return run_nft(s, sizeof(s) - 1);
}

/* `kos container-shim`: the monitor of one container (containerd-shim's role).
 *
 * It is a child subreaper, so the container's init, created by `runc run --detach` and
 * orphaned when runc exits, becomes its child and its exit status comes to it. It copies the
 * container's stdout/stderr into the CRI log file, records state.json when the container
 * runs and when it has exited, and deletes the runtime's container (cgroups included)
 * after the exit. It runs in its own session, so it outlives the agent. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/runtime/attach.h"
#include "agent/runtime/container.h"
#include "agent/runtime/crilog.h"
#include "agent/runtime/runtime_exec.h"
#include "agent/runtime/state.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

struct shim_args {
    const char *id, *dir, *log_path, *runtime, *runtime_root;
    int64_t log_max_size;
    int64_t log_max_files;
    int notify_fd; /* -1: none */
};

static int parse_args(int argc, char **argv, struct shim_args *a)
{
    static const struct option opts[] = {
        {"id", required_argument, NULL, 'i'},
        {"dir", required_argument, NULL, 'd'},
        {"log-path", required_argument, NULL, 'l'},
        {"runtime", required_argument, NULL, 'r'},
        {"runtime-root", required_argument, NULL, 'R'},
        {"log-max-size", required_argument, NULL, 's'},
        {"log-max-files", required_argument, NULL, 'n'},
        {"notify-fd", required_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    a->log_max_files = 5;
    a->notify_fd = -1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            a->id = optarg;
            break;
        case 'd':
            a->dir = optarg;
            break;
        case 'l':
            a->log_path = optarg;
            break;
        case 'r':
            a->runtime = optarg;
            break;
        case 'R':
            a->runtime_root = optarg;
            break;
        case 's':
            if (kos_parse_int64(optarg, &a->log_max_size) < 0 || a->log_max_size < 0)
                return -EINVAL;
            break;
        case 'n':
            if (kos_parse_int64(optarg, &a->log_max_files) < 0 || a->log_max_files < 1 ||
                a->log_max_files > 100)
                return -EINVAL;
            break;
        case 'N': {
            int64_t fd;
            if (kos_parse_int64(optarg, &fd) < 0 || fd < 3 || fd > 1023 ||
                fcntl((int)fd, F_GETFD) < 0)
                return -EINVAL;
            a->notify_fd = (int)fd;
            /* never handed on to the runtime or the container */
            fcntl(a->notify_fd, F_SETFD, FD_CLOEXEC);
            break;
        }
        default:
            return -EINVAL;
        }
    }
    if (!a->id || !a->dir || !a->log_path || !a->runtime || !a->runtime_root)
        return -EINVAL;
    return 0;
}

/* The cgroup's OOM-kill counter (v1 memory.oom_control, v2 memory.events). */
static int64_t oom_kills(const char *dir)
{
    char cfg[4096];
    snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
    _cleanup_json_ json_t *spec = json_load_file(cfg, 0, NULL);
    const char *cg =
        json_string_value(json_object_get(json_object_get(spec, "linux"), "cgroupsPath"));
    if (!cg)
        return 0;
    char path[4096];
    const char *files[][2] = {{"/sys/fs/cgroup/memory", "memory.oom_control"},
                              {"/sys/fs/cgroup", "memory.events"}};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        snprintf(path, sizeof(path), "%s%s%s/%s", files[i][0], cg[0] == '/' ? "" : "/", cg,
                 files[i][1]);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        char line[256];
        int64_t n = 0;
        while (fgets(line, sizeof(line), f)) {
            long long v;
            if (sscanf(line, "oom_kill %lld", &v) == 1)
                n = v;
        }
        fclose(f);
        return n;
    }
    return 0;
}

static void fail_start(const struct shim_args *a, struct kos_container_state *st, const char *msg)
{
    st->status = KOS_CONTAINER_EXITED;
    st->exit_code = 128; /* containerd's exit code for a task that never started */
    kos_strlcpy(st->reason, "StartError", sizeof(st->reason));
    kos_strlcpy(st->message, msg, sizeof(st->message));
    st->finished_ns = kos_cstate_now_ns();
    const struct kos_runtime rt = {.runtime = a->runtime, .runtime_root = a->runtime_root};
    kos_runtime_exec(&rt, a->dir, NULL, 0, "delete", "--force", a->id, NULL);
    kos_cstate_write(a->dir, st);
}

/* The agent waits on --notify-fd (a pipe) for the container to run: one byte when
 * state.json says so. The pipe stays open until we exit, after recording the container's
 * exit (or a failed start): its EOF tells the agent to look again. */
static void notify_started(const struct shim_args *a)
{
    if (a->notify_fd < 0)
        return;
    while (write(a->notify_fd, "r", 1) < 0 && errno == EINTR)
        ;
}

static void pump(struct kos_crilog *log, struct shim_attach *att, int *fd, enum kos_crilog_stream s)
{
    char buf[65536];
    ssize_t n = read(*fd, buf, sizeof(buf));
    if (n > 0) {
        kos_crilog_write(log, s, buf, (size_t)n);
        shim_attach_output(att, (int)s, buf, (size_t)n);
        return;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    kos_crilog_flush(log, s);
    close(*fd);
    *fd = -1;
}

int kos_shim_main(int argc, char **argv)
{
    struct shim_args a = {0};
    if (parse_args(argc, argv, &a) < 0) {
        fputs("kos container-shim: --id, --dir, --log-path, --runtime and --runtime-root are "
              "required\n",
              stderr);
        return 2;
    }
    /* The agent waits for this first process only: the monitor goes on in a child, which
     * belongs to no process of the agent's (the agent starts us with posix_spawn, which is
     * cheaper for it than a double fork). */
    pid_t child = fork();
    if (child < 0) {
        perror("kos container-shim: fork");
        return 1;
    }
    if (child > 0)
        _exit(0);
    /* The agent's signals and terminal are not ours. */
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    struct kos_container_state st = {.status = KOS_CONTAINER_CREATED, .shim_pid = getpid()};
    kos_strlcpy(st.log_path, a.log_path, sizeof(st.log_path));
    kos_cstate_write(a.dir, &st);
    const struct kos_runtime rt = {.runtime = a.runtime, .runtime_root = a.runtime_root};

    struct kos_crilog *log = NULL;
    int r = kos_crilog_open(a.log_path, a.log_max_size, (int)a.log_max_files, &log);
    if (r < 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot open log file %s: %s", a.log_path, strerror(-r));
        fail_start(&a, &st, msg);
        return 1;
    }
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        fail_start(&a, &st, "cannot create pipes");
        return 1;
    }
    /* stdin: true keeps a pipe for kubectl attach (else the container reads /dev/null) */
    bool want_stdin = false, stdin_once = false, tty = false;
    int in[2] = {-1, -1};
    shim_attach_spec(a.dir, &want_stdin, &stdin_once, &tty);
    /* tty: true: runc makes the terminal and hands us its master on a console socket */
    int console = -1;
    char console_path[108] = "";
    if (tty && shim_console_listen(a.dir, &console, console_path, sizeof(console_path)) < 0) {
        fail_start(&a, &st, "cannot create the console socket");
        return 1;
    }
    if (tty)
        want_stdin = false; /* the terminal is the input */
    if (want_stdin && pipe2(in, O_CLOEXEC) < 0) {
        fail_start(&a, &st, "cannot create pipes");
        return 1;
    }
    char pidfile[4096];
    snprintf(pidfile, sizeof(pidfile), "%s/init.pid", a.dir);
    char msg[1024];
    int stdio[3] = {in[0], out[1], err[1]};
    /* `run --detach` creates and starts the container in one runtime process: one start-up
     * of the runtime per container instead of two (create, then start). The container's
     * init, orphaned when the runtime exits, comes to us as the subreaper; if it fails to
     * start, the runtime removes what it made. */
    if (tty)
        r = kos_runtime_exec(&rt, a.dir, stdio, 0, "run", "--detach", "--bundle", a.dir,
                             "--pid-file", pidfile, "--console-socket", console_path, a.id, NULL);
    else
        r = kos_runtime_exec(&rt, a.dir, stdio, 0, "run", "--detach", "--bundle", a.dir,
                             "--pid-file", pidfile, a.id, NULL);
    int master = -1;
    if (r == 0 && tty && shim_console_receive(console, &master) < 0) {
        fail_start(&a, &st, "the runtime sent no terminal");
        return 1;
    }
    if (console >= 0)
        close(console);
    close(out[1]);
    close(err[1]);
    if (in[0] >= 0)
        close(in[0]);
    if (r != 0) {
        kos_runtime_last_error(a.dir, msg, sizeof(msg));
        fail_start(&a, &st, msg);
        kos_crilog_close(log);
        return 1;
    }
    int64_t pid = 0;
    {
        _cleanup_fclose_ FILE *f = fopen(pidfile, "re");
        char line[32] = "";
        if (!f || !fgets(line, sizeof(line), f) || kos_parse_int64(line, &pid) < 0 || pid <= 1) {
            fail_start(&a, &st, "the runtime wrote no pid file");
            kos_crilog_close(log);
            return 1;
        }
    }
    st.status = KOS_CONTAINER_RUNNING;
    st.pid = (int)pid;
    st.started_ns = kos_cstate_now_ns();
    kos_cstate_write(a.dir, &st);
    notify_started(&a);

    struct shim_attach *att = NULL;
    int attach_in = in[1];
    if (master >= 0) {
        /* the terminal carries all output (logged as stdout) and takes the input */
        close(out[0]);
        close(err[0]);
        out[0] = master;
        err[0] = -1;
        attach_in = fcntl(master, F_DUPFD_CLOEXEC, 3);
    }
    if (shim_attach_open(a.dir, attach_in, stdin_once, master, &att) < 0)
        att = NULL; /* no attach for this container; it runs all the same */
    int fds[2] = {out[0], err[0]};
    bool exited = false;
    int status = 0;
    int64_t drain_deadline = 0;
    while (fds[0] >= 0 || fds[1] >= 0 || !exited) {
        struct pollfd p[2 + 1 + KOS_ATTACH_MAX_CLIENTS];
        nfds_t n = 0;
        int map[2];
        for (int i = 0; i < 2; i++) {
            if (fds[i] >= 0) {
                p[n].fd = fds[i];
                p[n].events = POLLIN;
                map[n++] = i;
            }
        }
        nfds_t outputs = n;
        n += shim_attach_pollfds(att, p + n, ARRAY_SIZE(p) - n);
        int pr = poll(p, n, 200);
        for (nfds_t i = 0; pr > 0 && i < outputs; i++)
            if (p[i].revents)
                pump(log, att, &fds[map[i]], (enum kos_crilog_stream)map[i]);
        if (pr > 0)
            shim_attach_handle(att, p + outputs, n - outputs);
        int ws;
        pid_t w;
        while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
            if (w == (pid_t)pid) {
                exited = true;
                status = ws;
                drain_deadline = kos_cstate_now_ns() + 2000000000LL;
            }
        }
        if (w < 0 && errno == ECHILD && !exited) {
            /* Not our child (should not happen): watch the pid instead. */
            if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
                exited = true;
                status = 255 << 8;
                drain_deadline = kos_cstate_now_ns();
            }
        }
        /* A process that escaped the pid namespace could hold the pipes forever. */
        if (exited && drain_deadline && kos_cstate_now_ns() > drain_deadline)
            break;
    }
    for (int i = 0; i < 2; i++) {
        kos_crilog_flush(log, (enum kos_crilog_stream)i);
        if (fds[i] >= 0)
            close(fds[i]);
    }
    kos_crilog_close(log);
    shim_attach_close(att);

    st.finished_ns = kos_cstate_now_ns();
    if (WIFEXITED(status))
        st.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        st.exit_code = 128 + WTERMSIG(status);
    if (oom_kills(a.dir) > 0)
        kos_strlcpy(st.reason, "OOMKilled", sizeof(st.reason));
    else
        kos_strlcpy(st.reason, st.exit_code == 0 ? "Completed" : "Error", sizeof(st.reason));
    kos_runtime_exec(&rt, a.dir, NULL, 0, "delete", "--force", a.id, NULL);
    st.status = KOS_CONTAINER_EXITED;
    kos_cstate_write(a.dir, &st);
    return 0;
}

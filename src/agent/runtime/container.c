/* Container lifecycle on top of the shim (see container.h). */
#include "agent/runtime/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/runtime/runtime_exec.h"
#include "agent/runtime/state.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define START_TIMEOUT_MS 60000
#define KILL_TIMEOUT_MS  10000

static bool valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 128 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

int kos_container_dir(const struct kos_runtime *rt, const char *id, char *out, size_t size)
{
    if (!valid_id(id))
        return -EINVAL;
    int n = snprintf(out, size, "%s/%s", rt->state_root, id);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A pid is our shim only while /proc says so (pids are reused). */
static bool shim_alive(int pid)
{
    if (pid <= 1 || kill(pid, 0) < 0)
        return false;
    char path[64], cmd[512];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return false;
    cmd[n] = '\0';
    /* argv[1] follows argv[0]'s NUL. */
    size_t l0 = strlen(cmd);
    if ((ssize_t)l0 + 1 >= n)
        return false;
    /* A zombie (exited, not yet reaped by init) is not alive either. */
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char stat[256];
        ssize_t m = read(fd, stat, sizeof(stat) - 1);
        close(fd);
        if (m > 0) {
            stat[m] = '\0';
            const char *rp = strrchr(stat, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z')
                return false;
        }
    }
    return strcmp(cmd + l0 + 1, "container-shim") == 0;
}

int kos_container_state(const struct kos_runtime *rt, const char *id,
                        struct kos_container_state *ret)
{
    char dir[4096];
    int r = kos_container_dir(rt, id, dir, sizeof(dir));
    if (r < 0)
        return r;
    struct kos_container_state st;
    r = kos_cstate_read(dir, &st);
    if (r < 0)
        return r;
    if ((st.status == KOS_CONTAINER_CREATED || st.status == KOS_CONTAINER_RUNNING) &&
        !shim_alive(st.shim_pid)) {
        /* The shim may have written the exit just now. */
        if (kos_cstate_read(dir, &st) == 0 && st.status != KOS_CONTAINER_EXITED)
            st.status = KOS_CONTAINER_UNKNOWN;
    }
    *ret = st;
    return 0;
}

/* The shim's executable: kos-shim beside the kos binary (small: no curl, gnutls, sqlite...
 * to load), else the kos binary itself (`kos container-shim`). */
static int shim_exe(const struct kos_runtime *rt, char *out, size_t size)
{
    if (rt->self_exe) {
        kos_strlcpy(out, rt->self_exe, size);
        return 0;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return -ENOENT;
    self[n] = '\0';
    const char *slash = strrchr(self, '/');
    if (slash) {
        int m = snprintf(out, size, "%.*s/kos-shim", (int)(slash - self), self);
        if (m > 0 && (size_t)m < size && access(out, X_OK) == 0)
            return 0;
    }
    kos_strlcpy(out, self, size);
    return 0;
}

/* posix_spawn (no copy of the agent's page tables, as fork would make) in a session of its
 * own, stdin/stdout /dev/null, stderr shim.log, `notify` as fd 3 and no other descriptor.
 * The shim forks at once and its first process exits (waited for here): the shim belongs to
 * no process of ours, so it survives our exit and our process group's signals. */
static int spawn_shim(const char *const *argv, const char *shimlog, int notify, pid_t *ret_pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int r = posix_spawn_file_actions_init(&fa);
    if (r != 0)
        return -r;
    if ((r = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -r;
    }
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF);
    if (r == 0)
        r = posix_spawnattr_setsigmask(&attr, &none);
    if (r == 0)
        r = posix_spawnattr_setsigdefault(&attr, &all);
    if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
    if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
    if (r == 0)
        r = posix_spawn_file_actions_addopen(&fa, 2, shimlog, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (r == 0) /* dup2 onto itself clears FD_CLOEXEC */
        r = posix_spawn_file_actions_adddup2(&fa, notify, 3);
    if (r == 0)
        r = posix_spawn_file_actions_addclosefrom_np(&fa, 4);
    pid_t pid = -1;
    if (r == 0)
        r = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (r != 0)
        return -r;
    *ret_pid = pid;
    return 0;
}

int kos_container_start(const struct kos_runtime *rt, const char *id, const char *log_path,
                        int *ret_exit_fd, struct kos_error **err)
{
    char dir[4096];
    if (kos_container_dir(rt, id, dir, sizeof(dir)) < 0)
        return kos_error_set(err, 422, "Invalid", "invalid container id \"%s\"", id ? id : "");
    char path[4200];
    snprintf(path, sizeof(path), "%s/config.json", dir);
    if (access(path, R_OK) < 0)
        return kos_error_set(err, 500, "InternalError", "no config.json in %s", dir);
    snprintf(path, sizeof(path), "%s/state.json", dir);
    unlink(path);
    mkdir(rt->runtime_root, 0700);

    char exe[4096];
    int r = shim_exe(rt, exe, sizeof(exe));
    if (r < 0)
        return kos_error_set(err, 500, "InternalError", "cannot find the kos binary");
    char size_s[32], files_s[32], shimlog[4200];
    snprintf(size_s, sizeof(size_s), "%lld", (long long)rt->log_max_size);
    snprintf(files_s, sizeof(files_s), "%d", rt->log_max_files > 0 ? rt->log_max_files : 5);
    snprintf(shimlog, sizeof(shimlog), "%s/shim.log", dir);
    const char *argv[] = {exe,
                          "container-shim",
                          "--id",
                          id,
                          "--dir",
                          dir,
                          "--log-path",
                          log_path,
                          "--runtime",
                          rt->runtime,
                          "--runtime-root",
                          rt->runtime_root,
                          "--log-max-size",
                          size_s,
                          "--log-max-files",
                          files_s,
                          "--notify-fd",
                          "3",
                          NULL};
    /* The shim tells us through this pipe (its fd 3) when it has recorded the container as
     * running or failed: no polling of state.json while the runtime works. A shim that dies
     * closes it as well. */
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        return kos_error_set(err, 500, "InternalError", "pipe: %s", strerror(errno));
    pid_t pid = -1;
    if ((r = spawn_shim(argv, shimlog, ready[1], &pid)) < 0) {
        close(ready[0]);
        close(ready[1]);
        return kos_error_set(err, 500, "InternalError", "cannot start the shim: %s", strerror(-r));
    }
    close(ready[1]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    /* One byte once the container runs (state.json says so), or EOF when the shim exits:
     * after a failed start (state.json says why) or a crash (it says CREATED). */
    if (ret_exit_fd)
        *ret_exit_fd = -1;
    int64_t deadline = kos_cstate_now_ns() + (int64_t)START_TIMEOUT_MS * 1000000;
    char c = 0;
    for (;;) {
        int64_t left_ms = (deadline - kos_cstate_now_ns()) / 1000000;
        if (left_ms <= 0) {
            close(ready[0]);
            return kos_error_set(err, 504, "StartError", "the container did not start within %d s",
                                 START_TIMEOUT_MS / 1000);
        }
        struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
        int pr = poll(&pfd, 1, (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr > 0 && read(ready[0], &c, 1) < 0 && errno == EINTR)
            continue;
        if (pr != 0)
            break;
    }
    struct kos_container_state st;
    if (kos_cstate_read(dir, &st) == 0) {
        if (st.status == KOS_CONTAINER_RUNNING) {
            /* the shim keeps its end open until it exits */
            if (ret_exit_fd && c == 'r')
                *ret_exit_fd = ready[0];
            else
                close(ready[0]);
            return 0;
        }
        close(ready[0]);
        if (st.status == KOS_CONTAINER_EXITED) {
            if (strcmp(st.reason, "StartError") != 0)
                return 0; /* ran and already finished */
            return kos_error_set(err, 422, "StartError", "%s", st.message);
        }
    } else {
        close(ready[0]);
    }
    return kos_error_set(err, 500, "StartError",
                         "the container monitor exited before the container started");
}

static int wait_exited(const struct kos_runtime *rt, const char *id, int timeout_ms)
{
    for (int waited = 0;; waited += 50) {
        struct kos_container_state st;
        int r = kos_container_state(rt, id, &st);
        if (r < 0)
            return r;
        if (st.status == KOS_CONTAINER_EXITED)
            return 0;
        if (st.status == KOS_CONTAINER_UNKNOWN)
            return -ESRCH;
        if (waited >= timeout_ms)
            return -ETIMEDOUT;
        sleep_ms(50);
    }
}

int kos_container_stop(const struct kos_runtime *rt, const char *id, int64_t grace_seconds)
{
    char dir[4096];
    int r = kos_container_dir(rt, id, dir, sizeof(dir));
    if (r < 0)
        return r;
    struct kos_container_state st;
    r = kos_container_state(rt, id, &st);
    if (r < 0)
        return r == -ENOENT ? 0 : r;
    if (st.status == KOS_CONTAINER_EXITED)
        return 0;
    if (st.status == KOS_CONTAINER_RUNNING) {
        if (grace_seconds > 0) {
            kos_runtime_exec(rt, dir, NULL, 0, "kill", id, "TERM", NULL);
            int64_t ms = grace_seconds > 86400 ? 86400000 : grace_seconds * 1000;
            if (wait_exited(rt, id, (int)ms) == 0)
                return 0;
        }
        kos_runtime_exec(rt, dir, NULL, 0, "kill", "--all", id, "KILL", NULL);
        r = wait_exited(rt, id, KILL_TIMEOUT_MS);
        if (r == 0)
            return 0;
    }
    /* No shim to record the exit (it died, or the container never started): kill and
     * delete through the runtime and record the exit ourselves. */
    if (kos_container_state(rt, id, &st) < 0 || st.status == KOS_CONTAINER_EXITED)
        return 0;
    kos_runtime_exec(rt, dir, NULL, 0, "kill", "--all", id, "KILL", NULL);
    if (st.pid > 1)
        kill(st.pid, SIGKILL);
    sleep_ms(100);
    kos_runtime_exec(rt, dir, NULL, 0, "delete", "--force", id, NULL);
    st.status = KOS_CONTAINER_EXITED;
    st.exit_code = 137;
    st.finished_ns = kos_cstate_now_ns();
    kos_strlcpy(st.reason, "Error", sizeof(st.reason));
    return kos_cstate_write(dir, &st);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

int kos_container_remove(const struct kos_runtime *rt, const char *id)
{
    char dir[4096];
    int r = kos_container_dir(rt, id, dir, sizeof(dir));
    if (r < 0)
        return r;
    struct kos_container_state st;
    if (kos_container_state(rt, id, &st) == 0 &&
        (st.status == KOS_CONTAINER_RUNNING || st.status == KOS_CONTAINER_CREATED))
        return -EBUSY;
    kos_runtime_exec(rt, dir, NULL, 0, "delete", "--force", id, NULL);
    /* FTW_MOUNT: never descend into a mount left inside (a rootfs still mounted fails the
     * rmdir instead of losing the image's files). */
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0 && errno != ENOENT)
        return -errno;
    return access(dir, F_OK) == 0 ? -EBUSY : 0;
}

int kos_container_list(const struct kos_runtime *rt, char ***ret, size_t *n)
{
    DIR *d = opendir(rt->state_root);
    if (!d) {
        if (errno == ENOENT) {
            *ret = NULL;
            *n = 0;
            return 0;
        }
        return -errno;
    }
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    int r = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !valid_id(de->d_name))
            continue;
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(v, nc * sizeof(*nv));
            if (!nv) {
                r = -ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if (!(v[cnt] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        cnt++;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < cnt; i++)
            free(v[i]);
        free(v);
        return r;
    }
    *ret = v;
    *n = cnt;
    return 0;
}

/* fork+exec of runc/crun with its own log file, so that its errors reach the container's
 * status instead of the container's stderr. */
#include "agent/runtime/runtime_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MAX_ARGS 32

int kos_runtime_exec(const struct kos_runtime *rt, const char *dir, const int stdio[3], int unused,
                     ...)
{
    const char *argv[MAX_ARGS + 8];
    size_t n = 0;
    char logp[4096];
    snprintf(logp, sizeof(logp), "%s/runtime.log", dir);
    argv[n++] = rt->runtime;
    argv[n++] = "--root";
    argv[n++] = rt->runtime_root;
    argv[n++] = "--log";
    argv[n++] = logp;
    argv[n++] = "--log-format";
    argv[n++] = "json";
    va_list ap;
    va_start(ap, unused);
    const char *s;
    while ((s = va_arg(ap, const char *)) && n < MAX_ARGS + 7)
        argv[n++] = s;
    va_end(ap);
    argv[n] = NULL;

    /* runc is a Go program run once per step: one P (GOMAXPROCS=1) spares it starting and
     * spinning scheduler threads it has no use for, ~2 ms of CPU per container start (runc
     * run and its init) on a 2-core node. The container's own environment is the spec's;
     * this does not reach it. Made before fork: the caller may have threads. */
    size_t n_env = 0;
    bool has_procs = false;
    for (char **e = environ; e && *e; e++, n_env++)
        has_procs |= kos_str_has_prefix(*e, "GOMAXPROCS=");
    _cleanup_free_ char **envp = calloc(n_env + 2, sizeof(*envp));
    if (!envp)
        return -ENOMEM;
    for (size_t i = 0; i < n_env; i++)
        envp[i] = environ[i];
    if (!has_procs)
        envp[n_env] = (char *)"GOMAXPROCS=1";

    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        for (int i = 0; i < 3; i++) {
            int fd = stdio && stdio[i] >= 0 ? stdio[i] : null;
            if (fd >= 0)
                dup2(fd, i);
        }
        /* Only 0..2 go to the runtime; everything else stays ours. */
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execvpe(argv[0], (char *const *)argv, envp);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

void kos_runtime_last_error(const char *dir, char *out, size_t size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/runtime.log", dir);
    out[0] = '\0';
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof(line), f)) {
        _cleanup_json_ json_t *o = json_loads(line, 0, NULL);
        const char *lvl = json_string_value(json_object_get(o, "level"));
        const char *msg = json_string_value(json_object_get(o, "msg"));
        if (lvl && msg && (strcmp(lvl, "error") == 0 || strcmp(lvl, "fatal") == 0))
            kos_strlcpy(out, msg, size);
    }
    if (!out[0])
        kos_strlcpy(out, "the container runtime failed without a message", size);
}

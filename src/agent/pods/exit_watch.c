/* One thread polls the exit pipes of the containers the agent started (see exit_watch.h). */
#include "agent/pods/exit_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/strutil.h"

/* more than a node's pods' containers; beyond it the agent polls as it did before */
#define MAX_WATCHED 4096

struct watched {
    int fd;
    char id[200];
    char ns[254];
    char name[254];
};

struct exit_watch {
    void (*on_exit)(void *ctx, const char *ns, const char *name);
    void *ctx;
    pthread_t thread;
    bool started;
    int wake[2]; /* a byte in wake[1]: the set changed, or stop */
    pthread_mutex_t lock;
    bool stop;
    struct watched *v;
    size_t n, cap;
};

static void *watch_loop(void *arg)
{
    struct exit_watch *w = arg;
    struct pollfd *p = NULL;
    size_t cap = 0;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        if (w->stop) {
            pthread_mutex_unlock(&w->lock);
            break;
        }
        size_t n = w->n;
        if (n + 1 > cap) {
            struct pollfd *np = realloc(p, (n + 1) * sizeof(*np));
            if (!np) {
                pthread_mutex_unlock(&w->lock);
                usleep(100000); /* out of memory: try again, the entries stay */
                continue;
            }
            p = np;
            cap = n + 1;
        }
        p[0] = (struct pollfd){.fd = w->wake[0], .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            p[i + 1] = (struct pollfd){.fd = w->v[i].fd, .events = POLLIN};
        pthread_mutex_unlock(&w->lock);

        int r = poll(p, n + 1, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[0].revents) {
            char buf[64];
            while (read(w->wake[0], buf, sizeof(buf)) > 0)
                ;
        }
        for (size_t i = 1; i <= n; i++) {
            if (!p[i].revents)
                continue;
            /* Only this thread removes entries, so the fd is still the one polled; a byte
             * other than EOF (none is sent after the start) is drained the same way. */
            char ns[sizeof(w->v[0].ns)], name[sizeof(w->v[0].name)];
            bool found = false;
            pthread_mutex_lock(&w->lock);
            for (size_t j = 0; j < w->n; j++) {
                if (w->v[j].fd != p[i].fd)
                    continue;
                kos_strlcpy(ns, w->v[j].ns, sizeof(ns));
                kos_strlcpy(name, w->v[j].name, sizeof(name));
                close(w->v[j].fd);
                w->v[j] = w->v[--w->n];
                found = true;
                break;
            }
            pthread_mutex_unlock(&w->lock);
            if (found)
                w->on_exit(w->ctx, ns, name);
        }
    }
    free(p);
    return NULL;
}

int exit_watch_new(void (*on_exit)(void *ctx, const char *ns, const char *name), void *ctx,
                   struct exit_watch **ret)
{
    if (!on_exit)
        return -EINVAL;
    struct exit_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->on_exit = on_exit;
    w->ctx = ctx;
    pthread_mutex_init(&w->lock, NULL);
    if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        int e = errno;
        pthread_mutex_destroy(&w->lock);
        free(w);
        return -e;
    }
    int r = -pthread_create(&w->thread, NULL, watch_loop, w);
    if (r < 0) {
        exit_watch_free(w);
        return r;
    }
    w->started = true;
    *ret = w;
    return 0;
}

static void wake(struct exit_watch *w)
{
    /* a full pipe already holds a wake-up */
    while (write(w->wake[1], "w", 1) < 0 && errno == EINTR)
        ;
}

void exit_watch_free(struct exit_watch *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_mutex_unlock(&w->lock);
        wake(w);
        pthread_join(w->thread, NULL);
    }
    for (size_t i = 0; i < w->n; i++)
        close(w->v[i].fd);
    free(w->v);
    close(w->wake[0]);
    close(w->wake[1]);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

int exit_watch_add(struct exit_watch *w, int fd, const char *id, const char *ns, const char *name)
{
    if (fd < 0)
        return -EINVAL;
    if (!w || !id || !ns || !name || strlen(id) >= sizeof(w->v[0].id) ||
        strlen(ns) >= sizeof(w->v[0].ns) || strlen(name) >= sizeof(w->v[0].name)) {
        close(fd);
        return -EINVAL;
    }
    pthread_mutex_lock(&w->lock);
    if (w->n == MAX_WATCHED) {
        pthread_mutex_unlock(&w->lock);
        close(fd);
        return -ENOSPC;
    }
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 64;
        struct watched *nv = realloc(w->v, nc * sizeof(*nv));
        if (!nv) {
            pthread_mutex_unlock(&w->lock);
            close(fd);
            return -ENOMEM;
        }
        w->v = nv;
        w->cap = nc;
    }
    struct watched *e = &w->v[w->n++];
    e->fd = fd;
    kos_strlcpy(e->id, id, sizeof(e->id));
    kos_strlcpy(e->ns, ns, sizeof(e->ns));
    kos_strlcpy(e->name, name, sizeof(e->name));
    pthread_mutex_unlock(&w->lock);
    wake(w);
    return 0;
}

bool exit_watch_has(struct exit_watch *w, const char *id)
{
    if (!w || !id)
        return false;
    bool found = false;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n && !found; i++)
        found = strcmp(w->v[i].id, id) == 0;
    pthread_mutex_unlock(&w->lock);
    return found;
}

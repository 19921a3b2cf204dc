/* A tiny plain-HTTP server for the webhook unit tests: answers every POST with what the
 * test's handler returns for the request body, and counts the requests. Binds 127.0.0.1 on a
 * free port; one connection at a time (Connection: close). Test-only. */
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct test_server {
    int fd;
    unsigned port;
    pthread_t thread;
    atomic_int hits;
    atomic_bool stop;
    /* returns a malloc'd body and sets *status; NULL: close without answering */
    char *(*handler)(const char *body, int *status, void *ud);
    void *ud;
    char last_request[65536];
};

static void *test_server_loop(void *arg)
{
    struct test_server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        if (atomic_load(&s->stop)) {
            close(c);
            break;
        }
        char buf[65536];
        size_t len = 0;
        ssize_t n;
        char *body = NULL;
        while (len < sizeof(buf) - 1 && (n = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
            len += (size_t)n;
            buf[len] = '\0';
            char *end = strstr(buf, "\r\n\r\n");
            if (!end)
                continue;
            char *cl = strcasestr(buf, "content-length:");
            size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
            if (len >= (size_t)(end + 4 - buf) + want) {
                body = end + 4;
                break;
            }
        }
        atomic_fetch_add(&s->hits, 1);
        if (body) {
            snprintf(s->last_request, sizeof(s->last_request), "%s", body);
            int status = 200;
            char *out = s->handler(body, &status, s->ud);
            if (out) {
                char head[256];
                int h = snprintf(head, sizeof(head),
                                 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                 status, strlen(out));
                /* the client may have given up already (its timeout): no SIGPIPE */
                if (send(c, head, (size_t)h, MSG_NOSIGNAL) < 0 ||
                    send(c, out, strlen(out), MSG_NOSIGNAL) < 0)
                    (void)0;
                free(out);
            }
        }
        close(c);
    }
    return NULL;
}

static int test_server_start(struct test_server *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) < 0)
        return -errno;
    s->port = ntohs(a.sin_port);
    return -pthread_create(&s->thread, NULL, test_server_loop, s);
}

static void test_server_stop(struct test_server *s)
{
    atomic_store(&s->stop, true);
    /* wake accept() */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (c >= 0) {
        if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
            (void)0;
        close(c);
    }
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* Writes a webhook kubeconfig pointing at http://127.0.0.1:port/path into dir/name. */
static void test_write_webhook_config(const char *path, unsigned port)
{
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fprintf(f,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hook\n  cluster:\n"
            "    server: http://127.0.0.1:%u/review\nusers:\n- name: api\n  user:\n"
            "    token: secret-to-webhook\ncontexts:\n- name: c\n  context:\n"
            "    cluster: hook\n    user: api\ncurrent-context: c\n",
            port);
    fclose(f);
}

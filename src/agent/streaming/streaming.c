/* exec / attach / port-forward against the runc pod runtime (see streaming.h). */
#include "agent/streaming/streaming.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/runtime/attach.h"
#include "agent/runtime/container.h"
#include "agent/runtime/container_exec.h"
#include "util/strutil.h"

#define CONNECT_TIMEOUT_MS 5000

struct kos_agent_streaming {
    char runtime[16];
    char state_root[1100];
    char runtime_root[1100];
    struct kos_runtime rt;
};

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The runtime id of the container's running attempt, from the pod's status
 * (containerID "<runtime>://<id>") checked against what the shim recorded. The kubelet
 * looks for a running container and answers "container not found" otherwise. */
static int running_container(struct kos_agent_streaming *s, const json_t *pod, const char *name,
                             char *id, size_t size, struct kos_error **err)
{
    const json_t *status = json_object_get(pod, "status");
    const char *lists[] = {"containerStatuses", "initContainerStatuses",
                           "ephemeralContainerStatuses"};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        const json_t *arr = json_object_get(status, lists[l]);
        size_t i;
        const json_t *cs;
        json_array_foreach(arr, i, cs)
        {
            if (!kos_streq_null(jstr(cs, "name"), name))
                continue;
            const char *cid = jstr(cs, "containerID");
            const char *sep = cid ? strstr(cid, "://") : NULL;
            if (!sep || !json_object_get(json_object_get(cs, "state"), "running"))
                break;
            kos_strlcpy(id, sep + 3, size);
            struct kos_container_state st;
            if (kos_container_state(&s->rt, id, &st) == 0 && st.status == KOS_CONTAINER_RUNNING)
                return 0;
            break;
        }
    }
    return kos_error_set(err, 500, "InternalError", "container not found (\"%s\")", name);
}

static int do_exec(void *ctx, const json_t *pod, const struct kos_exec_options *o,
                   struct kos_exec_process *ret, struct kos_error **err)
{
    struct kos_agent_streaming *s = ctx;
    char id[512];
    int r = running_container(s, pod, o->container, id, sizeof(id), err);
    if (r < 0)
        return r;
    return kos_container_exec(&s->rt, id, o->command, o->ncommand, o, ret, err);
}

/* An attach ends when the container does; like the kubelet over CRI it reports Success
 * then, whatever the container's exit code (kubectl attach exits 0). */
struct attach_ctx {
    struct kos_runtime rt;
    char id[512];
    int resize_fd; /* the shim's 'r' stream for a terminal, -1 otherwise */
};

static int attach_resize(struct kos_exec_process *p, unsigned width, unsigned height)
{
    struct attach_ctx *a = p->attach_ctx;
    uint16_t wh[2] = {(uint16_t)width, (uint16_t)height};
    if (a->resize_fd < 0)
        return -ENOTTY;
    return send(a->resize_fd, wh, sizeof(wh), MSG_NOSIGNAL | MSG_DONTWAIT) == sizeof(wh) ? 0 : -EIO;
}

static int attach_wait(struct kos_exec_process *p, bool block, int *exit_code)
{
    struct attach_ctx *a = p->attach_ctx;
    for (;;) {
        struct kos_container_state st;
        if (kos_container_state(&a->rt, a->id, &st) < 0 || st.status == KOS_CONTAINER_EXITED ||
            st.status == KOS_CONTAINER_UNKNOWN) {
            *exit_code = 0;
            return 1;
        }
        if (!block)
            return 0;
        usleep(100 * 1000);
    }
}

static void attach_end(struct kos_exec_process *p)
{
    struct attach_ctx *a = p->attach_ctx;
    if (a && a->resize_fd >= 0)
        close(a->resize_fd);
    free(p->attach_ctx);
    p->attach_ctx = NULL;
}

static const json_t *container_spec(const json_t *pod, const char *name)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *lists[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            if (kos_streq_null(jstr(c, "name"), name))
                return c;
        }
    }
    return NULL;
}

static int do_attach(void *ctx, const json_t *pod, const struct kos_exec_options *o,
                     struct kos_exec_process *ret, struct kos_error **err)
{
    struct kos_agent_streaming *s = ctx;
    char id[512], dir[4096];
    int r = running_container(s, pod, o->container, id, sizeof(id), err);
    if (r < 0)
        return r;
    if (kos_container_dir(&s->rt, id, dir, sizeof(dir)) < 0)
        return kos_error_set(err, 500, "InternalError", "invalid container id \"%s\"", id);
    const json_t *c = container_spec(pod, o->container);
    bool has_stdin = json_is_true(json_object_get(c, "stdin"));
    struct kos_exec_process p;
    kos_exec_process_init(&p);
    struct attach_ctx *a = calloc(1, sizeof(*a));
    if (!a)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    a->rt = s->rt;
    kos_strlcpy(a->id, id, sizeof(a->id));
    a->resize_fd = -1;
    p.attach_ctx = a;
    p.wait = attach_wait;
    p.terminate = attach_end;
    r = 0;
    if (o->stdout)
        r = kos_attach_connect(dir, 'o', &p.stdout_fd);
    if (r == 0 && o->stderr && !o->tty)
        r = kos_attach_connect(dir, 'e', &p.stderr_fd);
    bool tty = json_is_true(json_object_get(c, "tty"));
    if (r == 0 && o->stdin && (has_stdin || tty))
        r = kos_attach_connect(dir, 'i', &p.stdin_fd);
    if (r == 0 && o->tty && tty) {
        r = kos_attach_connect(dir, 'r', &a->resize_fd);
        p.resize = attach_resize;
    }
    if (r < 0) {
        kos_exec_process_close(&p);
        return kos_error_set(err, 500, "InternalError", "cannot attach to container %s: %s",
                             o->container, strerror(-r));
    }
    *ret = p;
    return 0;
}

static int connect_timeout(const char *ip, uint16_t port, int *ret_fd)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        len = sizeof(*a4);
    } else if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        len = sizeof(*a6);
    } else {
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int r = connect(fd, (struct sockaddr *)&ss, len);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int pr = poll(&p, 1, CONNECT_TIMEOUT_MS);
        if (pr == 0) {
            close(fd);
            return -ETIMEDOUT;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr) {
            close(fd);
            return -soerr;
        }
    } else if (r < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    *ret_fd = fd;
    return 0;
}

/* The connection is made from inside the pod's network namespace to its loopback, as
 * containerd does: it reaches servers bound to 127.0.0.1 in the pod too, with or without pod
 * networking. setns() moves only the calling thread, so a short-lived thread does it; the
 * socket keeps the namespace it was made in. */
struct ns_connect {
    int nsfd;
    uint16_t port;
    int fd;
    int err;
};

static void *ns_connect_main(void *arg)
{
    struct ns_connect *c = arg;
    if (setns(c->nsfd, CLONE_NEWNET) < 0) {
        c->err = -errno;
        return NULL;
    }
    c->err = connect_timeout("127.0.0.1", c->port, &c->fd);
    if (c->err < 0 && connect_timeout("::1", c->port, &c->fd) == 0)
        c->err = 0;
    return NULL;
}

/* The network namespace of the pod's first running container (its init's). */
static int pod_netns(struct kos_agent_streaming *s, const json_t *pod)
{
    size_t i;
    const json_t *cs;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "containerStatuses"), i, cs)
    {
        const char *cid = jstr(cs, "containerID");
        const char *sep = cid ? strstr(cid, "://") : NULL;
        struct kos_container_state st;
        if (!sep || kos_container_state(&s->rt, sep + 3, &st) < 0 ||
            st.status != KOS_CONTAINER_RUNNING || st.pid <= 0)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", st.pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return fd;
    }
    return -ESRCH;
}

static int do_port_connect(void *ctx, const json_t *pod, uint16_t port, int *ret_fd,
                           struct kos_error **err)
{
    struct kos_agent_streaming *s = ctx;
    const json_t *meta = json_object_get(pod, "metadata");
    int nsfd = pod_netns(s, pod);
    if (nsfd < 0)
        return kos_error_set(err, 500, "InternalError",
                             "error forwarding port %u to pod %s, uid %s: the pod has no running "
                             "container",
                             port, jstr(meta, "name"), jstr(meta, "uid"));
    struct ns_connect c = {.nsfd = nsfd, .port = port, .fd = -1, .err = -EIO};
    pthread_t t;
    if (pthread_create(&t, NULL, ns_connect_main, &c) == 0)
        pthread_join(t, NULL);
    close(nsfd);
    if (c.err < 0)
        return kos_error_set(err, 500, "InternalError",
                             "error forwarding port %u to pod %s, uid %s: failed to connect to "
                             "localhost:%u inside the pod's network namespace: %s",
                             port, jstr(meta, "name"), jstr(meta, "uid"), port, strerror(-c.err));
    *ret_fd = c.fd;
    return 0;
}

int kos_agent_streaming_new(const struct agent_config *cfg, struct kos_agent_streaming **ret)
{
    struct kos_agent_streaming *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    kos_strlcpy(s->runtime, cfg->container_runtime[0] ? cfg->container_runtime : "runc",
                sizeof(s->runtime));
    snprintf(s->state_root, sizeof(s->state_root), "%s/containers", cfg->root_dir);
    snprintf(s->runtime_root, sizeof(s->runtime_root), "%s/runtime", cfg->root_dir);
    s->rt = (struct kos_runtime){
        .runtime = s->runtime, .runtime_root = s->runtime_root, .state_root = s->state_root};
    *ret = s;
    return 0;
}

void kos_agent_streaming_free(struct kos_agent_streaming *s)
{
    free(s);
}

void kos_agent_streaming_backend(struct kos_agent_streaming *s, struct kos_stream_backend *ret)
{
    *ret = (struct kos_stream_backend){
        .exec = do_exec, .attach = do_attach, .port_connect = do_port_connect, .ctx = s};
}

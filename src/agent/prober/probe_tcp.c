/* The tcpSocket probe (pkg/probe/tcp): a connection that opens in time passes. Like the
 * kubelet's probe dialer it closes with a reset (SO_LINGER 0) so that probes leave no
 * TIME_WAIT sockets behind. Texts are Go's dial errors. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/prober/probe.h"
#include "util/cleanup.h"
#include "util/timeutil.h"

/* Go's syscall error texts for what a connect reports. */
static const char *go_errno(int e)
{
    switch (e) {
    case ECONNREFUSED:
        return "connection refused";
    case ENETUNREACH:
        return "network is unreachable";
    case EHOSTUNREACH:
        return "no route to host";
    case ECONNRESET:
        return "connection reset by peer";
    default:
        return strerror(e);
    }
}

/* 0 when connected; -ETIMEDOUT; another negative errno (the connect's). */
static int dial(const struct sockaddr *sa, socklen_t len, int64_t deadline)
{
    _cleanup_close_ int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS)
            return -errno;
        for (;;) {
            int64_t left = deadline - kos_now_ms_monotonic();
            if (left <= 0)
                return -ETIMEDOUT;
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int pr = poll(&p, 1, (int)left);
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr < 0)
                return -errno;
            if (pr > 0)
                break;
        }
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            return -errno;
        if (soerr)
            return -soerr;
    }
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    return 0;
}

int kos_probe_tcp(const json_t *action, const json_t *container, const char *pod_ip,
                  int64_t timeout_ms, char *out, size_t size)
{
    out[0] = '\0';
    int port = kos_probe_resolve_port(json_object_get(action, "port"), container, out, size);
    if (port < 0)
        return port;
    const char *host = json_string_value(json_object_get(action, "host"));
    if (!host || !*host)
        host = pod_ip;
    if (!host || !*host) {
        snprintf(out, size, "dial tcp: missing address");
        return KOS_PROBE_OUT_FAILURE;
    }
    char addr[600], ps[16];
    kos_probe_join_host_port(host, port, addr, sizeof(addr));
    snprintf(ps, sizeof(ps), "%d", port);
    int64_t deadline = kos_now_ms_monotonic() + (timeout_ms > 0 ? timeout_ms : 1000);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int g = getaddrinfo(host, ps, &hints, &res);
    if (g != 0) {
        snprintf(out, size, "dial tcp: lookup %s: no such host", host);
        return KOS_PROBE_OUT_FAILURE;
    }
    int r = -ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        r = dial(ai->ai_addr, ai->ai_addrlen, deadline);
        if (r == 0 || r == -ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    if (r == 0)
        return KOS_PROBE_OUT_SUCCESS;
    if (r == -ETIMEDOUT)
        snprintf(out, size, "dial tcp %s: i/o timeout", addr);
    else
        snprintf(out, size, "dial tcp %s: connect: %s", addr, go_errno(-r));
    return KOS_PROBE_OUT_FAILURE;
}

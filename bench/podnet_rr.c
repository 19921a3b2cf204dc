/* TCP round-trip latency and throughput between two processes, for bench/podnet.sh:
 *   podnet_rr server PORT              serves until killed
 *   podnet_rr rr IP PORT COUNT         COUNT 1-byte request/response round trips:
 *                                      prints "rr_us avg p50 p99"
 *   podnet_rr stream IP PORT SECONDS   one connection writing 128 KiB buffers: prints
 *                                      "stream_gbit_s X"
 * The same binary runs between two host processes and between two pods (bench/podnet.sh
 * enters the pods' network namespaces), so the two figures differ only by the path. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BUF (128 * 1024)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void serve(int c)
{
    static char buf[BUF];
    char mode;
    if (read(c, &mode, 1) != 1)
        return;
    if (mode == 'r') {
        char b;
        while (read(c, &b, 1) == 1)
            if (write(c, &b, 1) != 1)
                return;
    } else {
        uint64_t total = 0;
        ssize_t n;
        while ((n = read(c, buf, sizeof(buf))) > 0)
            total += (uint64_t)n;
        if (write(c, &total, sizeof(total)) != sizeof(total))
            return;
    }
}

static int connect_to(const char *ip, int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
        connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return s;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "server") == 0) {
        signal(SIGCHLD, SIG_IGN);
        int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)strtol(argv[2], NULL, 10))};
        if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 16) < 0) {
            perror("listen");
            return 1;
        }
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0)
                continue;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (fork() == 0) {
                serve(c);
                _exit(0);
            }
            close(c);
        }
    }
    if (argc == 5 && strcmp(argv[1], "rr") == 0) {
        int s = connect_to(argv[2], (int)strtol(argv[3], NULL, 10));
        long n = strtol(argv[4], NULL, 10);
        if (n < 10 || n > 10000000)
            return 2;
        double *lat = malloc(sizeof(double) * (size_t)n), sum = 0;
        char b = 'r';
        if (!lat || write(s, &b, 1) != 1)
            return 1;
        for (long i = 0; i < n; i++) {
            double t0 = now_s();
            if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1)
                return 1;
            lat[i] = (now_s() - t0) * 1e6;
            sum += lat[i];
        }
        qsort(lat, (size_t)n, sizeof(double), cmp);
        printf("rr_us %.1f %.1f %.1f\n", sum / (double)n, lat[n / 2], lat[n * 99 / 100]);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "stream") == 0) {
        static char buf[BUF];
        int s = connect_to(argv[2], (int)strtol(argv[3], NULL, 10));
        double secs = strtod(argv[4], NULL), t0 = now_s(), t;
        if (write(s, "s", 1) != 1)
            return 1;
        uint64_t sent = 0;
        while ((t = now_s()) - t0 < secs) {
            ssize_t w = write(s, buf, sizeof(buf));
            if (w <= 0)
                return 1;
            sent += (uint64_t)w;
        }
        shutdown(s, SHUT_WR);
        uint64_t got = 0;
        if (read(s, &got, sizeof(got)) != sizeof(got) || got != sent)
            return 1;
        printf("stream_gbit_s %.2f\n", (double)sent * 8 / (now_s() - t0) / 1e9);
        return 0;
    }
    fprintf(stderr, "usage: podnet_rr server PORT | rr IP PORT COUNT | stream IP PORT SECONDS\n");
    return 2;
}

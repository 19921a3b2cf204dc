/* Per-pod network set-up time, for bench/podnet.sh: the agent's own steps
 * (agent/network/podnet.h kos_podnet_attach: namespace bound to a file, veth pair on the
 * bridge, lo/eth0 up, address, default route) and their undoing, N times, on a bridge made
 * here. Run it inside a scratch network namespace (bench/podnet.sh does).
 *   podnet_setup DIR N      prints "setup_ms avg p50 p99" and "teardown_ms avg p50 p99" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/network/netlink.h"
#include "agent/network/podnet.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i];
    qsort(v, (size_t)n, sizeof(double), cmp);
    printf("%s %.2f %.2f %.2f\n", what, sum / n, v[n / 2], v[n * 99 / 100]);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    long n_arg = strtol(argv[2], NULL, 10);
    int n = n_arg > 0 && n_arg < 100000 ? (int)n_arg : 50;
    struct rtnl r = {.fd = -1};
    struct rtnl_msg m;
    struct kos_cidr cidr;
    kos_cidr_parse("10.77.0.0/24", true, &cidr);
    if (rtnl_open(&r) < 0 || rtnl_build_bridge(&m, "kosbench0") < 0 || rtnl_talk(&r, &m, NULL) < 0)
        return 1;
    int br = rtnl_link_index(&r, "kosbench0");
    rtnl_build_addr(&m, br, cidr.addr + 1, 24);
    rtnl_talk(&r, &m, NULL);
    rtnl_build_link_up(&m, br, NULL);
    rtnl_talk(&r, &m, NULL);
    double *up = calloc((size_t)n, sizeof(double)), *down = calloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++) {
        char path[4096], veth[16];
        snprintf(path, sizeof(path), "%s/ns-%d", argv[1], i);
        snprintf(veth, sizeof(veth), "kosb%08d", i);
        double t0 = now_ms();
        int e = kos_podnet_attach(path, veth, br, cidr.addr + 2 + (uint32_t)(i % 200), &cidr);
        up[i] = now_ms() - t0;
        if (e < 0) {
            fprintf(stderr, "attach: %s\n", strerror(-e));
            return 1;
        }
        t0 = now_ms();
        e = kos_podnet_detach(path, veth);
        down[i] = now_ms() - t0;
        if (e < 0) {
            fprintf(stderr, "detach: %s\n", strerror(-e));
            return 1;
        }
    }
    report("setup_ms", up, n);
    report("teardown_ms", down, n);
    return 0;
}

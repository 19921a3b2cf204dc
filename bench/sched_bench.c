/* A scheduler_perf-like benchmark for the kos scheduler, linked against the kos objects and
 * the benchmarks' HTTP client (bench/lib/httpc.c).
 *
 *   sched_bench decisions --nodes N --pods P
 *       the pure in-memory decision rate (sched_bench_decisions: CPU time of one thread)
 *   sched_bench e2e --server URL [--ca F --cert F --key F] --nodes N --pods P [--conc C]
 *                   [--max-seconds S]
 *       creates N Node objects (allocatable 32 cpu / 128Gi / 110 pods, Ready) through the
 *       API, then P pods (100m–275m cpu, 64–320Mi) from C client threads into namespace
 *       "default", and watches pods until every one has spec.nodeName. Reports pods/s from
 *       the first create to the last pod seen bound, and the create rate alone.
 *
 * Prints one "mode=... key=value ..." line (bench/run-all.sh records it). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api/kinds.h"
#include "client/client.h"
#include "lib/httpc.h"
#include "scheduler/bench.h"
#include "util/strutil.h"

#define NS "default"

struct opts {
    const char *server;
    const char *ca, *cert, *key; /* TLS: the server's CA and the client certificate */
    int64_t nodes;
    int64_t pods;
    int64_t conc;
    int64_t max_seconds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time (all threads): what the client takes from the machine the server
 * runs on. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void fail(const char *what, int r)
{
    fprintf(stderr, "sched_bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
    exit(1);
}

/* ---- work split over threads ------------------------------------------------------------ */

/* A thread's own keep-alive connection, for the pods' creates. */
struct worker_conn {
    struct conn c;
    struct resp r;
};

struct job {
    struct kos_client *client;
    const struct opts *o;
    atomic_long next;
    atomic_long errors;
    int (*one)(struct job *j, struct worker_conn *wc, long i);
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct worker_conn wc = {.c = {.fd = -1}};
    for (;;) {
        long i = atomic_fetch_add(&j->next, 1);
        if (i >= (j->o->pods > j->o->nodes ? j->o->pods : j->o->nodes))
            break;
        if (j->one(j, &wc, i) < 0)
            atomic_fetch_add(&j->errors, 1);
    }
    conn_close(&wc.c);
    free(wc.c.in.d);
    free(wc.r.body.d);
    return NULL;
}

static long run_parallel(struct job *j, int conc)
{
    pthread_t th[256];
    if (conc > 256)
        conc = 256;
    atomic_store(&j->next, 0);
    for (int i = 0; i < conc; i++)
        if (pthread_create(&th[i], NULL, run_job, j) != 0)
            fail("pthread_create", EAGAIN);
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    return atomic_load(&j->errors);
}

static int make_node(struct job *j, struct worker_conn *wc, long i)
{
    if (i >= j->o->nodes)
        return 0;
    char name[32];
    snprintf(name, sizeof(name), "bench-node-%05ld", i);
    json_t *res = json_pack("{s:s,s:s,s:s}", "cpu", "32", "memory", "128Gi", "pods", "110");
    json_t *node = json_pack("{s:s,s:s,s:{s:s,s:{s:s,s:s}},s:{}}", "apiVersion", "v1", "kind",
                             "Node", "metadata", "name", name, "labels", "kubernetes.io/hostname",
                             name, "topology.kubernetes.io/zone",
                             i % 3 == 0   ? "zone-a"
                             : i % 3 == 1 ? "zone-b"
                                          : "zone-c",
                             "spec");
    if (!res || !node)
        return -ENOMEM;
    struct kos_ref ref = {kos_kind_by_kind("", "Node"), NULL, name, NULL};
    int r = kos_client_create(j->client, &ref, node, NULL, NULL);
    json_decref(node);
    json_t *patch =
        json_pack("{s:{s:O,s:o,s:[{s:s,s:s,s:s}]}}", "status", "capacity", res, "allocatable", res,
                  "conditions", "type", "Ready", "status", "True", "reason", "KubeletReady");
    ref.sub = "status";
    if (r == 0 && patch)
        r = kos_client_patch(j->client, &ref, KOS_PATCH_MERGE, patch, NULL, false, NULL, NULL);
    json_decref(patch);
    return r;
}

/* The pods go through the benchmarks' own HTTP client rather than kos_client's libcurl, which
 * took this process (on the machine the server runs on) twice its CPU per create. */
static int make_pod(struct job *j, struct worker_conn *wc, long i)
{
    if (i >= j->o->pods)
        return 0;
    /* The body as bytes, as a typed client encodes its structs: a tree built, encoded and
     * freed per pod cost this process more than the rest of a create but the HTTPS round
     * trip. Names and quantities need no escaping. */
    char body[512];
    int n = snprintf(body, sizeof(body),
                     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                     "\"bench-pod-%06ld\",\"labels\":{\"app\":\"sched-bench\"}},\"spec\":{"
                     "\"containers\":[{\"name\":\"c\",\"image\":\"registry.example/app:1\","
                     "\"resources\":{\"requests\":{\"cpu\":\"%ldm\",\"memory\":\"%ldMi\"}}}]}}",
                     i, 100 + (i % 8) * 25, 64 + (i % 5) * 64);
    if (n < 0 || (size_t)n >= sizeof(body))
        return -ENAMETOOLONG;
    int r = http_do(&wc->c, "POST", "/api/v1/namespaces/" NS "/pods", "application/json", body,
                    (size_t)n, &wc->r);
    if (r == 0 && wc->r.status != 201) {
        fprintf(stderr, "sched_bench: create answered %d: %.200s\n", wc->r.status,
                wc->r.body.d ? wc->r.body.d : "");
        r = -EPROTO;
    }
    return r;
}

/* The port of https://127.0.0.1:PORT (the benchmarks' client dials loopback only), or -1. */
static int loopback_port(const char *url, bool *tls)
{
    static const char *const prefixes[] = {"https://127.0.0.1:", "http://127.0.0.1:"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        int64_t port;
        if (strncmp(url, prefixes[i], n) == 0 && kos_parse_int64(url + n, &port) == 0 && port > 0 &&
            port < 65536) {
            *tls = i == 0;
            return (int)port;
        }
    }
    return -1;
}

/* ---- watching for the bindings ---------------------------------------------------------- */

struct watcher {
    struct kos_client *client;
    const char *rv;
    long want;
    double deadline;
    atomic_long bound;
    double last_bound_at;
    int error;
};

/* The string value after key (`"key":"`) in an event's bytes, or NULL; *len its length. */
static const char *str_after(const char *line, size_t n, const char *key, size_t *len)
{
    size_t klen = strlen(key);
    const char *p = memmem(line, n, key, klen);
    if (!p)
        return NULL;
    p += klen;
    const char *end = memchr(p, '"', (size_t)(line + n - p));
    if (!end)
        return NULL;
    *len = (size_t)(end - p);
    return p;
}

/* The run's pod index of a watch event that shows the pod bound, or -1. The bytes are
 * searched rather than decoded: the collector then costs the machine the benchmark measures
 * little more than reading the stream. `"nodeName":"` is only spec.nodeName (managedFields
 * spell it "f:nodeName", the nomination "nominatedNodeName"), and `"name":"bench-pod-` only
 * metadata.name (the containers are "c"); names hold no escapes. */
static int64_t bound_index(const char *line, size_t n)
{
    size_t node_len = 0, name_len = 0;
    const char *node = str_after(line, n, "\"nodeName\":\"", &node_len);
    const char *name = str_after(line, n, "\"name\":\"bench-pod-", &name_len);
    char digits[24];
    int64_t idx;
    if (!node || node_len == 0 || !name || name_len == 0 || name_len >= sizeof(digits))
        return -1;
    memcpy(digits, name, name_len);
    digits[name_len] = '\0';
    return kos_parse_int64(digits, &idx) == 0 ? idx : -1;
}

static void *watch_bound(void *arg)
{
    struct watcher *w = arg;
    struct kos_ref ref = {kos_kind_by_kind("", "Pod"), NS, NULL, NULL};
    /* Every pod of the namespace, as scheduler_perf's throughput collector watches all pods
     * through its informer: a label selector would have the server decode each event and the
     * one before it to filter them, CPU the creates and the scheduler compete for. The run's
     * pods are told apart by name. */
    struct kos_list_options lo = {.resource_version = w->rv};
    struct kos_watch *watch = NULL;
    int r = kos_client_watch(w->client, &ref, &lo, &watch, NULL);
    if (r < 0) {
        w->error = r;
        return NULL;
    }
    bool *seen = calloc((size_t)w->want, sizeof(bool));
    if (!seen) {
        w->error = -ENOMEM;
        kos_watch_close(watch);
        return NULL;
    }
    while (atomic_load(&w->bound) < w->want && now_s() < w->deadline) {
        const char *line = NULL;
        size_t len = 0;
        r = kos_watch_next_line(watch, 500, &line, &len, NULL);
        if (r == 0)
            continue;
        if (r < 0) {
            w->error = r;
            break;
        }
        int64_t idx = bound_index(line, len);
        if (idx >= 0 && idx < w->want && !seen[idx]) {
            seen[idx] = true;
            atomic_fetch_add(&w->bound, 1);
            w->last_bound_at = now_s();
        }
    }
    free(seen);
    kos_watch_close(watch);
    return NULL;
}

static int e2e(const struct opts *o)
{
    struct kos_client_config cfg = {.server = o->server,
                                    .ca_file = o->ca,
                                    .cert_file = o->cert,
                                    .key_file = o->key,
                                    .user_agent = "sched-bench"};
    struct kos_client *client = NULL;
    int r = kos_client_new(&cfg, &client);
    if (r < 0)
        fail("client", r);
    bool tls = false;
    g_prog = "sched_bench";
    g_port = loopback_port(o->server, &tls);
    if (g_port < 0)
        fail("--server must be http(s)://127.0.0.1:PORT", EINVAL);
    tls_init(tls, o->ca, o->cert, o->key);

    struct job nodes = {.client = client, .o = o, .one = make_node};
    struct opts no = *o;
    no.pods = 0;
    nodes.o = &no;
    double t0 = now_s();
    long nerr = run_parallel(&nodes, (int)o->conc);
    double node_s = now_s() - t0;

    /* Watch from "now" so that only this run's pods count. */
    json_t *list = NULL;
    struct kos_ref pref = {kos_kind_by_kind("", "Pod"), NS, NULL, NULL};
    struct kos_list_options lo = {.limit = 1};
    r = kos_client_list(client, &pref, &lo, &list, NULL);
    if (r < 0)
        fail("list pods", r);
    const char *rv =
        json_string_value(json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
    struct watcher w = {.client = client, .rv = rv, .want = o->pods};
    w.deadline = now_s() + (double)o->max_seconds;
    pthread_t wt;
    if (pthread_create(&wt, NULL, watch_bound, &w) != 0)
        fail("pthread_create", EAGAIN);
    struct timespec settle = {0, 200 * 1000 * 1000}; /* the watch is open before the creates */
    nanosleep(&settle, NULL);

    struct job pods = {.client = client, .o = o, .one = make_pod};
    struct opts po = *o;
    po.nodes = 0;
    pods.o = &po;
    double c0 = now_s(), cpu0 = cpu_s();
    long perr = run_parallel(&pods, (int)o->conc);
    double create_s = now_s() - c0;
    pthread_join(wt, NULL);
    long bound = atomic_load(&w.bound);
    double total_s = (bound > 0 ? w.last_bound_at : now_s()) - c0;
    double client_cpu_s = cpu_s() - cpu0;
    printf("mode=sched_e2e nodes=%" PRId64 " pods=%" PRId64 " conc=%" PRId64
           " node_setup_s=%.2f node_errors=%ld create_errors=%ld create_s=%.3f creates_per_s=%.1f"
           " bound=%ld total_s=%.3f pods_per_s=%.1f watch_error=%d client_cpu_s=%.2f\n",
           o->nodes, o->pods, o->conc, node_s, nerr, perr, create_s,
           (double)(o->pods - perr) / create_s, bound, total_s,
           total_s > 0 ? (double)bound / total_s : 0.0, w.error, client_cpu_s);
    json_decref(list);
    kos_client_free(client);
    return bound == o->pods ? 0 : 1;
}

static int64_t num(const char *flag, const char *v)
{
    int64_t n;
    if (!v || kos_parse_int64(v, &n) < 0 || n < 0) {
        fprintf(stderr, "sched_bench: bad value for %s\n", flag);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    struct opts o = {.nodes = 1000, .pods = 10000, .conc = 32, .max_seconds = 120};
    if (argc < 2) {
        fprintf(
            stderr,
            "usage: sched_bench decisions|e2e [--server URL] [--ca F --cert F --key F] [--nodes N] "
            "[--pods P] [--conc C] [--max-seconds S]\n");
        return 2;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--server") == 0)
            o.server = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0)
            o.ca = argv[i + 1];
        else if (strcmp(argv[i], "--cert") == 0)
            o.cert = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0)
            o.key = argv[i + 1];
        else if (strcmp(argv[i], "--nodes") == 0)
            o.nodes = num(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--pods") == 0)
            o.pods = num(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--conc") == 0)
            o.conc = num(argv[i], argv[i + 1]);
        else if (strcmp(argv[i], "--max-seconds") == 0)
            o.max_seconds = num(argv[i], argv[i + 1]);
        else {
            fprintf(stderr, "sched_bench: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    if (strcmp(argv[1], "decisions") == 0) {
        double rate = sched_bench_decisions((size_t)o.nodes, (size_t)o.pods);
        if (rate < 0)
            fail("decisions", (int)rate);
        printf("mode=sched_decisions nodes=%" PRId64 " pods=%" PRId64 " decisions_per_s=%.0f\n",
               o.nodes, o.pods, rate);
        return 0;
    }
    if (strcmp(argv[1], "e2e") == 0 && o.server && o.conc > 0)
        return e2e(&o);
    fprintf(stderr, "sched_bench: unknown mode or missing --server\n");
    return 2;
}

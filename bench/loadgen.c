/* loadgen: the load generator behind bench/run-all.sh.
 *
 * A small multi-threaded HTTP/1.1 keep-alive client for loopback only, over TLS (GnuTLS) when
 * --cacert or --tls is given: one handshake per connection, so keep-alive amortizes it as a
 * real client's would. kos serves HTTPS only, and run-all.sh runs etcd with TLS too. Each mode prints one
 * line of key=value figures on stdout (run-all.sh collects them); diagnostics go to stderr.
 *
 *   loadgen create  --port P --target kos|etcd --conc 32 --count N [--max-seconds S] [--prefix X]
 *   loadgen get     --port P --target kos|etcd --conc C --seconds S --name POD
 *   loadgen list    --port P --target kos|etcd --runs R [--limit L] [--expect N] [--table]
 *   loadgen patch   --port P --target kos --conc C --seconds S --count N --prefix X
 *                   (strategic merge patches of the pods X-000000 .. X-<N-1>)
 *   loadgen watch   --port P --target kos|etcd --watchers W --rate R --seconds S --pods a,b,c,d
 *   loadgen startup --target kos|etcd --runs R --dir D [--fresh] [--rss] --log F -- argv...
 *                   ({PORT}, {PORT2} and {DIR} in argv are substituted)
 *   loadgen rss     --pid PID
 *   loadgen port    (prints a free loopback port)
 *
 * --server-pid PID (any mode) adds the server's CPU use over the measured phase, from /proc.
 * --cacert F --cert F --key F (any mode): TLS, verifying the server against F and presenting
 * the client certificate. --tls alone: TLS without verifying the server (startup, where the
 * server makes its CA as it starts), with the client certificate when --cert/--key are given.
 *
 * Timestamps are CLOCK_MONOTONIC nanoseconds, so the writer and the watchers (threads of this
 * process) share one clock. Every loop is bounded by a count and a deadline. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/httpc.h"

/* What list --table asks for: the meta.k8s.io Table kubectl's get asks for. */
#define ACCEPT_TABLE                                                                               \
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"           \
    "g=meta.k8s.io,application/json"

#define NS_PER_S  1000000000LL
#define NS_PER_MS 1000000LL

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {.tv_sec = ns / NS_PER_S, .tv_nsec = ns % NS_PER_S};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void sleep_until_ns(int64_t t)
{
    struct timespec ts = {.tv_sec = t / NS_PER_S, .tv_nsec = t % NS_PER_S};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* ---- base64 ------------------------------------------------------------------------------ */

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(struct buf *out, const unsigned char *in, size_t n)
{
    buf_reserve(out, (n + 2) / 3 * 4);
    char *o = out->d + out->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = b64chars[v >> 18 & 63];
        *o++ = b64chars[v >> 12 & 63];
        *o++ = b64chars[v >> 6 & 63];
        *o++ = b64chars[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = b64chars[v >> 18 & 63];
        *o++ = b64chars[v >> 12 & 63];
        *o++ = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    out->len = (size_t)(o - out->d);
    out->d[out->len] = 0;
}

static int b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes at most `max_in` characters (stopping at the first non-base64 one). */
static size_t b64_decode(const char *in, size_t max_in, unsigned char *out, size_t out_cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (size_t i = 0; i < max_in; i++) {
        int v = b64_val((unsigned char)in[i]);
        if (v < 0)
            break;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < out_cap)
                out[n++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    return n;
}

/* ---- the pod: ~2 KB of realistic JSON ---------------------------------------------------- */

/* The two bench annotations come first and have fixed widths, so that a watcher of etcd can
 * find them by decoding only the first bytes of a base64 value. */
static void make_pod(struct buf *b, const char *name, int64_t ts, int64_t seq)
{
    buf_printf(
        b,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
        "\"annotations\":{\"bench/ts\":\"%019" PRId64 "\",\"bench/seq\":\"%09" PRId64 "\","
        "\"prometheus.io/scrape\":\"true\",\"prometheus.io/port\":\"9090\","
        "\"prometheus.io/path\":\"/metrics\","
        "\"kubectl.kubernetes.io/default-container\":\"app\","
        "\"example.com/owner-team\":\"payments-platform\","
        "\"example.com/change-ticket\":\"CHG-20240611-004217\"},"
        "\"name\":\"%s\",\"namespace\":\"default\","
        "\"labels\":{\"app.kubernetes.io/name\":\"checkout\","
        "\"app.kubernetes.io/instance\":\"checkout-prod\","
        "\"app.kubernetes.io/version\":\"4.12.3\","
        "\"app.kubernetes.io/component\":\"api\","
        "\"app.kubernetes.io/part-of\":\"shop\",\"tier\":\"backend\","
        "\"pod-template-hash\":\"7c9d8f6b5d\"}},"
        "\"spec\":{\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
        "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
        "\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"},"
        "\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
        "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],"
        "\"containers\":[{\"name\":\"app\","
        "\"image\":\"registry.example.com/shop/checkout:4.12.3\","
        "\"imagePullPolicy\":\"IfNotPresent\","
        "\"command\":[\"/usr/local/bin/checkout\"],"
        "\"args\":[\"--config=/etc/checkout/config.yaml\",\"--log-level=info\","
        "\"--listen=:8080\"],"
        "\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
        "{\"name\":\"metrics\",\"containerPort\":9090,\"protocol\":\"TCP\"}],"
        "\"env\":[{\"name\":\"APP_ENV\",\"value\":\"production\"},"
        "{\"name\":\"DB_HOST\",\"value\":\"postgres.shop.svc.cluster.local\"},"
        "{\"name\":\"DB_PORT\",\"value\":\"5432\"},"
        "{\"name\":\"CACHE_URL\",\"value\":\"redis://redis.shop.svc.cluster.local:6379/0\"},"
        "{\"name\":\"FEATURE_FLAGS\",\"value\":\"new-cart,fast-checkout,async-receipts\"},"
        "{\"name\":\"OTEL_EXPORTER_OTLP_ENDPOINT\","
        "\"value\":\"http://otel-collector.observability:4317\"},"
        "{\"name\":\"GOMAXPROCS\",\"value\":\"2\"}],"
        "\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"256Mi\"},"
        "\"limits\":{\"cpu\":\"1\",\"memory\":\"512Mi\"}},"
        "\"volumeMounts\":[{\"name\":\"config\",\"mountPath\":\"/etc/checkout\","
        "\"readOnly\":true},{\"name\":\"tmp\",\"mountPath\":\"/tmp\"}],"
        "\"readinessProbe\":{\"httpGet\":{\"path\":\"/readyz\",\"port\":8080},"
        "\"initialDelaySeconds\":5,\"periodSeconds\":10},"
        "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080},"
        "\"initialDelaySeconds\":15,\"periodSeconds\":20,\"failureThreshold\":3}}],"
        "\"volumes\":[{\"name\":\"config\",\"configMap\":{\"name\":\"checkout-config\"}},"
        "{\"name\":\"tmp\",\"emptyDir\":{}}]}}",
        ts, seq, name);
}

/* ---- server-side counters from /proc ------------------------------------------------------ */

static pid_t g_server_pid;

struct proc_sample {
    int64_t t;
    double sys_busy_s; /* all CPUs, from /proc/stat (not idle, not iowait) */
    double steal_s;
    double self_s;     /* this process */
    double cpu_s;    /* utime + stime of the server */
    long long ctxsw; /* voluntary + involuntary context switches over its threads */
};

static void proc_sample(struct proc_sample *ps, bool with_ctxsw)
{
    ps->t = now_ns();
    ps->cpu_s = -1;
    ps->ctxsw = -1;
    ps->sys_busy_s = -1;
    char path[96], line[1024];
    double tck = (double)sysconf(_SC_CLK_TCK);
    FILE *sf = fopen("/proc/stat", "r");
    if (sf) {
        unsigned long long us, ni, sy, id, io, irq, sirq, st;
        if (fscanf(sf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &us, &ni, &sy, &id, &io,
                   &irq, &sirq, &st) == 8) {
            ps->sys_busy_s = (double)(us + ni + sy + irq + sirq + st) / tck;
            ps->steal_s = (double)st / tck;
        }
        fclose(sf);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    ps->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    if (g_server_pid <= 0)
        return;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)g_server_pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(line, sizeof(line), f)) {
            char *p = strrchr(line, ')');
            unsigned long long ut = 0, st = 0;
            /* after ") ": state(3) ... utime is field 14, stime 15 */
            if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                            &st) == 2)
                ps->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
        }
        fclose(f);
    }
    if (!with_ctxsw)
        return;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)g_server_pid);
    struct buf cmd = {0};
    buf_printf(&cmd, "cat %s/*/status 2>/dev/null", path);
    FILE *pp = popen(cmd.d, "r");
    free(cmd.d);
    if (!pp)
        return;
    long long sum = 0;
    while (fgets(line, sizeof(line), pp)) {
        if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
            sum += atoll(line + 24);
        else if (strncmp(line, "nonvoluntary_ctxt_switches:", 27) == 0)
            sum += atoll(line + 27);
    }
    pclose(pp);
    ps->ctxsw = sum;
}

static void print_server_usage(const struct proc_sample *a, const struct proc_sample *b)
{
    double wall = (double)(b->t - a->t) / 1e9;
    if (g_server_pid <= 0 || a->cpu_s < 0 || b->cpu_s < 0 || wall <= 0)
        return;
    double server = b->cpu_s - a->cpu_s, self = b->self_s - a->self_s;
    printf(" server_cpu_pct=%.0f loadgen_cpu_pct=%.0f", 100.0 * server / wall,
           100.0 * self / wall);
    if (a->sys_busy_s >= 0 && b->sys_busy_s >= 0) {
        /* CPU that neither the server nor this load generator used: other tenants of the
         * machine (builds, tests) that make a figure noisy. In % of one core. */
        double other = b->sys_busy_s - a->sys_busy_s - server - self;
        printf(" other_cpu_pct=%.0f steal_pct=%.0f", 100.0 * (other > 0 ? other : 0) / wall,
               100.0 * (b->steal_s - a->steal_s) / wall);
    }
    if (a->ctxsw >= 0 && b->ctxsw >= 0)
        printf(" server_ctxsw_per_s=%.0f", (double)(b->ctxsw - a->ctxsw) / wall);
}

/* ---- stats ------------------------------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(int64_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1e6;
}

/* ---- options ----------------------------------------------------------------------------- */

struct opts {
    const char *target;
    int conc;
    long count;
    double seconds;
    double max_seconds;
    const char *prefix;
    const char *name;
    int runs;
    long limit;
    long expect;
    int watchers;
    int rate;
    const char *pods;
    const char *dir;
    bool fresh;
    bool rss;
    const char *log;
    pid_t pid;
    const char *cacert, *cert, *key;
    bool tls;
    char **argv; /* after -- */
};

static bool is_etcd(const struct opts *o)
{
    return strcmp(o->target, "etcd") == 0;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.target = "kos", .conc = 1, .count = 0, .seconds = 5, .max_seconds = 120,
                       .prefix = "bench", .runs = 5, .watchers = 1000, .rate = 100};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            o->argv = argv + i + 1;
            return;
        }
        if (strcmp(a, "--tls") == 0) {
            o->tls = true;
            continue;
        }
        if (strcmp(a, "--fresh") == 0) {
            o->fresh = true;
            continue;
        }
        if (strcmp(a, "--rss") == 0) {
            o->rss = true;
            continue;
        }
        if (strcmp(a, "--table") == 0) {
            g_accept = ACCEPT_TABLE;
            continue;
        }
        if (i + 1 >= argc)
            die("missing value for %s", a);
        const char *v = argv[++i];
        if (strcmp(a, "--port") == 0)
            g_port = atoi(v);
        else if (strcmp(a, "--cacert") == 0)
            o->cacert = v;
        else if (strcmp(a, "--cert") == 0)
            o->cert = v;
        else if (strcmp(a, "--key") == 0)
            o->key = v;
        else if (strcmp(a, "--target") == 0)
            o->target = v;
        else if (strcmp(a, "--conc") == 0)
            o->conc = atoi(v);
        else if (strcmp(a, "--count") == 0)
            o->count = atol(v);
        else if (strcmp(a, "--seconds") == 0)
            o->seconds = atof(v);
        else if (strcmp(a, "--max-seconds") == 0)
            o->max_seconds = atof(v);
        else if (strcmp(a, "--prefix") == 0)
            o->prefix = v;
        else if (strcmp(a, "--name") == 0)
            o->name = v;
        else if (strcmp(a, "--runs") == 0)
            o->runs = atoi(v);
        else if (strcmp(a, "--limit") == 0)
            o->limit = atol(v);
        else if (strcmp(a, "--expect") == 0)
            o->expect = atol(v);
        else if (strcmp(a, "--watchers") == 0)
            o->watchers = atoi(v);
        else if (strcmp(a, "--rate") == 0)
            o->rate = atoi(v);
        else if (strcmp(a, "--pods") == 0)
            o->pods = v;
        else if (strcmp(a, "--dir") == 0)
            o->dir = v;
        else if (strcmp(a, "--log") == 0)
            o->log = v;
        else if (strcmp(a, "--pid") == 0)
            o->pid = (pid_t)atoi(v);
        else if (strcmp(a, "--server-pid") == 0)
            g_server_pid = (pid_t)atoi(v);
        else
            die("unknown option %s", a);
    }
    if (o->conc < 1 || o->conc > 4096)
        die("--conc out of range");
}

#define ETCD_POD_PREFIX "/registry/pods/default/"
#define ETCD_POD_END    "/registry/pods/default0" /* '/' + 1 */

/* ---- create ------------------------------------------------------------------------------ */

struct worker {
    pthread_t th;
    const struct opts *o;
    int id;
    int64_t *lat;
    size_t nlat, cap;
    long ok, err;
    int first_status;
    char first_err[256];
};

static _Atomic long g_next;
static int64_t g_deadline;

static void record(struct worker *w, int64_t ns)
{
    if (w->nlat == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 4096;
        w->lat = xrealloc(w->lat, w->cap * sizeof(int64_t));
    }
    w->lat[w->nlat++] = ns;
}

static void note_error(struct worker *w, int status, const struct buf *body, int e)
{
    w->err++;
    if (w->first_status == 0) {
        w->first_status = status ? status : e;
        snprintf(w->first_err, sizeof(w->first_err), "%.200s", body->d ? body->d : "");
        for (char *p = w->first_err; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
    }
}

static void *create_worker(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    struct conn c = {.fd = -1};
    struct resp r = {0};
    struct buf pod = {0}, body = {0}, name = {0};
    for (;;) {
        if (now_ns() >= g_deadline)
            break;
        long i = atomic_fetch_add(&g_next, 1);
        if (i >= o->count)
            break;
        name.len = 0;
        buf_printf(&name, "%s-%06ld", o->prefix, i);
        pod.len = 0;
        make_pod(&pod, name.d, 0, i);
        int64_t t0 = now_ns();
        int e;
        if (is_etcd(o)) {
            struct buf key = {0};
            buf_printf(&key, ETCD_POD_PREFIX "%s", name.d);
            body.len = 0;
            buf_add(&body, "{\"key\":\"", 8);
            b64_encode(&body, (unsigned char *)key.d, key.len);
            buf_add(&body, "\",\"value\":\"", 11);
            b64_encode(&body, (unsigned char *)pod.d, pod.len);
            buf_add(&body, "\"}", 2);
            free(key.d);
            e = http_do(&c, "POST", "/v3/kv/put", "application/json", body.d, body.len, &r);
        } else {
            e = http_do(&c, "POST", "/api/v1/namespaces/default/pods", "application/json", pod.d,
                        pod.len, &r);
        }
        int64_t t1 = now_ns();
        if (e == 0 && (r.status == 200 || r.status == 201)) {
            w->ok++;
            record(w, t1 - t0);
        } else {
            note_error(w, e == 0 ? r.status : 0, &r.body, e);
        }
    }
    conn_close(&c);
    free(c.in.d);
    free(r.body.d);
    free(pod.d);
    free(body.d);
    free(name.d);
    return NULL;
}

static void report_workers(const char *mode, const struct opts *o, struct worker *ws, int n,
                           int64_t elapsed)
{
    size_t total = 0;
    long ok = 0, err = 0;
    for (int i = 0; i < n; i++) {
        total += ws[i].nlat;
        ok += ws[i].ok;
        err += ws[i].err;
    }
    int64_t *all = xmalloc(total * sizeof(int64_t));
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(all + k, ws[i].lat, ws[i].nlat * sizeof(int64_t));
        k += ws[i].nlat;
    }
    qsort(all, total, sizeof(int64_t), cmp_i64);
    double secs = (double)elapsed / 1e9;
    printf("mode=%s target=%s conc=%d ok=%ld errors=%ld seconds=%.3f ops_per_s=%.1f "
           "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f",
           mode, o->target, o->conc, ok, err, secs, (double)ok / secs, pct_ms(all, total, 50),
           pct_ms(all, total, 90), pct_ms(all, total, 99), total ? (double)all[total - 1] / 1e6 : -1);
    for (int i = 0; i < n; i++)
        if (ws[i].err) {
            fprintf(stderr, "loadgen %s: %ld errors, first: %d %s\n", mode, ws[i].err,
                    ws[i].first_status, ws[i].first_err);
            break;
        }
    free(all);
}

static int run_workers(const char *mode, const struct opts *o, void *(*fn)(void *), double secs)
{
    struct worker *ws = calloc((size_t)o->conc, sizeof(*ws));
    if (!ws)
        die("oom");
    struct proc_sample ps0, ps1;
    proc_sample(&ps0, false);
    int64_t t0 = now_ns();
    g_deadline = t0 + (int64_t)(secs * 1e9);
    for (int i = 0; i < o->conc; i++) {
        ws[i].o = o;
        ws[i].id = i;
        if (pthread_create(&ws[i].th, NULL, fn, &ws[i]) != 0)
            die("pthread_create");
    }
    for (int i = 0; i < o->conc; i++)
        pthread_join(ws[i].th, NULL);
    int64_t elapsed = now_ns() - t0;
    proc_sample(&ps1, false);
    report_workers(mode, o, ws, o->conc, elapsed);
    print_server_usage(&ps0, &ps1);
    printf("\n");
    long err = 0;
    for (int i = 0; i < o->conc; i++) {
        err += ws[i].err;
        free(ws[i].lat);
    }
    free(ws);
    return err ? 1 : 0;
}

/* ---- patch: strategic merge patches of existing ~2 KB pods ------------------------------ */

static void *patch_worker(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    struct conn c = {.fd = -1};
    struct resp r = {0};
    struct buf path = {0}, body = {0};
    long maxops = 100000000;
    for (long n = 0; n < maxops && now_ns() < g_deadline; n++) {
        /* each worker cycles over its own share of the pods, so patches of one pod serialize */
        long pod = (w->id + n * o->conc) % (o->count > 0 ? o->count : 1);
        path.len = 0;
        buf_printf(&path, "/api/v1/namespaces/default/pods/%s-%06ld", o->prefix, pod);
        body.len = 0;
        buf_printf(&body,
                   "{\"metadata\":{\"annotations\":{\"bench/seq\":\"%09ld\"}},\"spec\":{"
                   "\"$setElementOrder/containers\":[{\"name\":\"app\"}],\"containers\":[{"
                   "\"name\":\"app\",\"image\":\"registry.example.com/shop/checkout:4.%ld\"}]}}",
                   n, n % 1000);
        int64_t t0 = now_ns();
        int e = http_do(&c, "PATCH", path.d, "application/strategic-merge-patch+json", body.d,
                        body.len, &r);
        int64_t t1 = now_ns();
        if (e == 0 && r.status == 200) {
            w->ok++;
            record(w, t1 - t0);
        } else {
            note_error(w, e == 0 ? r.status : 0, &r.body, e);
        }
    }
    conn_close(&c);
    free(c.in.d);
    free(r.body.d);
    free(path.d);
    free(body.d);
    return NULL;
}

/* ---- get --------------------------------------------------------------------------------- */

static void *get_worker(void *arg)
{
    struct worker *w = arg;
    const struct opts *o = w->o;
    struct conn c = {.fd = -1};
    struct resp r = {0};
    struct buf path = {0}, body = {0};
    if (is_etcd(o)) {
        struct buf key = {0};
        buf_printf(&key, ETCD_POD_PREFIX "%s", o->name);
        buf_add(&body, "{\"key\":\"", 8);
        b64_encode(&body, (unsigned char *)key.d, key.len);
        buf_add(&body, "\"}", 2);
        free(key.d);
    } else {
        buf_printf(&path, "/api/v1/namespaces/default/pods/%s", o->name);
    }
    long maxops = o->count > 0 ? o->count : 10000000;
    for (long n = 0; n < maxops && now_ns() < g_deadline; n++) {
        int64_t t0 = now_ns();
        int e = is_etcd(o) ? http_do(&c, "POST", "/v3/kv/range", "application/json", body.d,
                                     body.len, &r)
                           : http_do(&c, "GET", path.d, NULL, NULL, 0, &r);
        int64_t t1 = now_ns();
        bool good = e == 0 && r.status == 200 && r.body.len > 1000 &&
                    (!is_etcd(o) || strstr(r.body.d, "\"kvs\""));
        if (good) {
            w->ok++;
            record(w, t1 - t0);
        } else {
            note_error(w, e == 0 ? r.status : 0, &r.body, e);
        }
    }
    conn_close(&c);
    free(c.in.d);
    free(r.body.d);
    free(path.d);
    free(body.d);
    return NULL;
}

/* ---- list -------------------------------------------------------------------------------- */

static long count_items(const struct opts *o, const struct buf *b)
{
    /* Every pod carries exactly one "bench/seq" annotation; in etcd it is inside base64, so
     * count the "key" fields of the kvs instead. */
    const char *pat = is_etcd(o) ? "\"mod_revision\":" : "\"bench/seq\":";
    long n = 0;
    size_t plen = strlen(pat);
    const char *p = b->d, *end = b->d + b->len;
    while (p < end && (p = memmem(p, (size_t)(end - p), pat, plen))) {
        n++;
        p += plen;
    }
    return n;
}

/* Copies the JSON string value after `"field":"` (first or last occurrence). */
static bool json_str_field(const struct buf *b, const char *field, bool last, struct buf *out)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":\"", field);
    size_t plen = strlen(pat);
    const char *found = NULL, *p = b->d, *end = b->d + b->len;
    while (p < end && (p = memmem(p, (size_t)(end - p), pat, plen))) {
        found = p;
        if (!last)
            break;
        p += plen;
    }
    if (!found)
        return false;
    const char *s = found + plen, *q = memchr(s, '"', (size_t)(end - s));
    if (!q)
        return false;
    out->len = 0;
    buf_add(out, s, (size_t)(q - s));
    return true;
}

/* One full LIST (following pages when o->limit > 0); returns the number of items or <0. */
static long do_list(const struct opts *o, struct conn *c, struct resp *r, int *pages)
{
    struct buf path = {0}, body = {0}, tok = {0};
    long items = 0;
    *pages = 0;
    unsigned char startkey[1024];
    size_t startlen = strlen(ETCD_POD_PREFIX);
    memcpy(startkey, ETCD_POD_PREFIX, startlen);
    for (int page = 0; page < 100000; page++) {
        int e;
        if (is_etcd(o)) {
            body.len = 0;
            buf_add(&body, "{\"key\":\"", 8);
            b64_encode(&body, startkey, startlen);
            buf_add(&body, "\",\"range_end\":\"", 15);
            b64_encode(&body, (const unsigned char *)ETCD_POD_END, strlen(ETCD_POD_END));
            buf_printf(&body, "\",\"limit\":%ld}", o->limit);
            e = http_do(c, "POST", "/v3/kv/range", "application/json", body.d, body.len, r);
        } else {
            path.len = 0;
            buf_printf(&path, "/api/v1/namespaces/default/pods");
            if (o->limit > 0) {
                buf_printf(&path, "?limit=%ld", o->limit);
                if (tok.len)
                    buf_printf(&path, "&continue=%s", tok.d);
            }
            e = http_do(c, "GET", path.d, NULL, NULL, 0, r);
        }
        if (e < 0 || r->status != 200) {
            fprintf(stderr, "loadgen list: status %d err %d: %.200s\n", r->status, e,
                    r->body.d ? r->body.d : "");
            items = -1;
            break;
        }
        (*pages)++;
        items += count_items(o, &r->body);
        if (o->limit <= 0)
            break;
        if (is_etcd(o)) {
            if (!strstr(r->body.d, "\"more\":true"))
                break;
            if (!json_str_field(&r->body, "key", true, &tok))
                break;
            startlen = b64_decode(tok.d, tok.len, startkey, sizeof(startkey) - 1);
            startkey[startlen++] = 0; /* the next key after the last one */
        } else {
            if (!json_str_field(&r->body, "continue", false, &tok) || tok.len == 0)
                break;
        }
    }
    free(path.d);
    free(body.d);
    free(tok.d);
    return items;
}

static int cmd_list(const struct opts *o)
{
    struct conn c = {.fd = -1};
    struct resp r = {0};
    int64_t *t = xmalloc((size_t)(o->runs + 1) * sizeof(int64_t));
    long items = 0;
    int pages = 0;
    size_t bytes = 0;
    int bad = 0;
    /* One warm-up run that is not timed (connection set up, caches warm). */
    do_list(o, &c, &r, &pages);
    struct proc_sample ps0, ps1;
    proc_sample(&ps0, false);
    for (int i = 0; i < o->runs; i++) {
        int64_t t0 = now_ns();
        items = do_list(o, &c, &r, &pages);
        t[i] = now_ns() - t0;
        bytes = r.body.len;
        if (items < 0 || (o->expect && items != o->expect))
            bad++;
    }
    proc_sample(&ps1, false);
    qsort(t, (size_t)o->runs, sizeof(int64_t), cmp_i64);
    printf("mode=list target=%s limit=%ld runs=%d items=%ld pages=%d last_body_bytes=%zu "
           "median_ms=%.2f min_ms=%.2f max_ms=%.2f bad_runs=%d",
           o->target, o->limit, o->runs, items, pages, bytes, (double)t[o->runs / 2] / 1e6,
           (double)t[0] / 1e6, (double)t[o->runs - 1] / 1e6, bad);
    print_server_usage(&ps0, &ps1);
    printf("\n");
    if (bad)
        fprintf(stderr, "loadgen list: %d runs returned %ld items, expected %ld\n", bad, items,
                o->expect);
    conn_close(&c);
    free(c.in.d);
    free(r.body.d);
    free(t);
    return bad ? 1 : 0;
}

/* ---- watch ------------------------------------------------------------------------------- */

enum wstate { WS_HEAD, WS_CHUNK_SIZE, WS_CHUNK_DATA, WS_CHUNK_CRLF, WS_RAW, WS_DEAD };

struct watcher {
    int fd;
    gnutls_session_t tls;
    enum wstate st;
    bool chunked;
    bool ok_head;
    size_t chunk_left;
    struct buf head;  /* header bytes / chunk-size line */
    struct buf line;  /* event line being assembled */
    uint8_t *seen;    /* bitmap over seq */
    long got;         /* distinct timed events */
    long dups;
    bool warm;        /* saw the warm-up event */
    bool subscribed;  /* kos: 200 head received; etcd: "created":true received */
    long other;       /* lines without bench annotations (bookmarks, errors) */
    char last_error[160];
};

struct watch_ctx {
    const struct opts *o;
    struct watcher *ws;
    int nw;
    long nevents; /* timed events: seq 1..nevents */
    int64_t *lat;
    _Atomic size_t nlat;
    size_t latcap;
    _Atomic long warm_count;
    _Atomic long subscribed_count;
    _Atomic long total_got;
    _Atomic bool stop;
    _Atomic long bytes;
    int epfd[2];
};

static bool parse_ts_seq(const char *s, size_t n, int64_t *ts, int64_t *seq)
{
    const char *p = memmem(s, n, "\"bench/ts\":\"", 12);
    const char *q = memmem(s, n, "\"bench/seq\":\"", 13);
    if (!p || !q)
        return false;
    *ts = strtoll(p + 12, NULL, 10);
    *seq = strtoll(q + 13, NULL, 10);
    return true;
}

static void deliver(struct watch_ctx *x, struct watcher *w, int64_t ts, int64_t seq, int64_t now)
{
    if (seq == 0) {
        if (!w->warm) {
            w->warm = true;
            atomic_fetch_add(&x->warm_count, 1);
        }
        return;
    }
    if (seq < 1 || seq > x->nevents)
        return;
    if (w->seen[seq >> 3] & (1u << (seq & 7))) {
        w->dups++;
        return;
    }
    w->seen[seq >> 3] |= (uint8_t)(1u << (seq & 7));
    w->got++;
    atomic_fetch_add(&x->total_got, 1);
    size_t i = atomic_fetch_add(&x->nlat, 1);
    if (i < x->latcap)
        x->lat[i] = now - ts;
}

static void handle_line(struct watch_ctx *x, struct watcher *w, const char *s, size_t n,
                        int64_t now)
{
    int64_t ts, seq;
    if (!is_etcd(x->o)) {
        if (parse_ts_seq(s, n, &ts, &seq))
            deliver(x, w, ts, seq, now);
        else {
            w->other++;
            if (memmem(s, n, "\"ERROR\"", 7))
                snprintf(w->last_error, sizeof(w->last_error), "%.*s", (int)(n < 150 ? n : 150), s);
        }
        return;
    }
    /* etcd: {"result":{"header":...,"events":[{"kv":{...,"value":"BASE64"}},...]}} */
    if (!w->subscribed && memmem(s, n, "\"created\":true", 14)) {
        w->subscribed = true;
        atomic_fetch_add(&x->subscribed_count, 1);
        return;
    }
    const char *p = s, *end = s + n;
    bool any = false;
    while (p < end && (p = memmem(p, (size_t)(end - p), "\"value\":\"", 9))) {
        p += 9;
        unsigned char dec[300];
        size_t dn = b64_decode(p, (size_t)(end - p) < 360 ? (size_t)(end - p) : 360, dec,
                               sizeof(dec));
        if (parse_ts_seq((const char *)dec, dn, &ts, &seq)) {
            deliver(x, w, ts, seq, now);
            any = true;
        }
    }
    if (!any) {
        w->other++;
        if (memmem(s, n, "\"error\"", 7))
            snprintf(w->last_error, sizeof(w->last_error), "%.*s", (int)(n < 150 ? n : 150), s);
    }
}

static void feed_body(struct watch_ctx *x, struct watcher *w, const char *p, size_t n, int64_t now)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (nl) {
            if (w->line.len) {
                buf_add(&w->line, p, take);
                handle_line(x, w, w->line.d, w->line.len, now);
                w->line.len = 0;
            } else if (take) {
                handle_line(x, w, p, take, now);
            }
            p += take + 1;
            n -= take + 1;
        } else {
            buf_add(&w->line, p, take);
            return;
        }
    }
}

/* Feeds raw socket bytes through the HTTP and chunked framing. */
static void feed(struct watch_ctx *x, struct watcher *w, const char *p, size_t n, int64_t now)
{
    while (n > 0 && w->st != WS_DEAD) {
        switch (w->st) {
        case WS_HEAD: {
            buf_add(&w->head, p, n);
            char *e = strstr(w->head.d, "\r\n\r\n");
            if (!e) {
                if (w->head.len > 65536)
                    w->st = WS_DEAD;
                return;
            }
            size_t hl = (size_t)(e - w->head.d) + 4;
            size_t rest = w->head.len - hl;
            w->ok_head = strncmp(w->head.d, "HTTP/1.1 200", 12) == 0;
            if (w->ok_head && !is_etcd(x->o)) {
                w->subscribed = true;
                atomic_fetch_add(&x->subscribed_count, 1);
            }
            if (!w->ok_head)
                snprintf(w->last_error, sizeof(w->last_error), "%.150s", w->head.d);
            *e = 0;
            w->chunked = strcasestr(w->head.d, "transfer-encoding: chunked") != NULL;
            w->st = w->chunked ? WS_CHUNK_SIZE : WS_RAW;
            char *tail = xmalloc(rest + 1);
            memcpy(tail, e + 4, rest);
            w->head.len = 0;
            feed(x, w, tail, rest, now);
            free(tail);
            return;
        }
        case WS_CHUNK_SIZE: {
            const char *nl = memchr(p, '\n', n);
            size_t take = nl ? (size_t)(nl - p) + 1 : n;
            buf_add(&w->head, p, take);
            p += take;
            n -= take;
            if (nl) {
                unsigned long long sz = strtoull(w->head.d, NULL, 16);
                w->head.len = 0;
                if (sz == 0) {
                    w->st = WS_DEAD;
                    snprintf(w->last_error, sizeof(w->last_error), "stream ended");
                    return;
                }
                w->chunk_left = (size_t)sz;
                w->st = WS_CHUNK_DATA;
            }
            break;
        }
        case WS_CHUNK_DATA: {
            size_t take = n < w->chunk_left ? n : w->chunk_left;
            feed_body(x, w, p, take, now);
            p += take;
            n -= take;
            w->chunk_left -= take;
            if (w->chunk_left == 0) {
                w->st = WS_CHUNK_CRLF;
                w->chunk_left = 2;
            }
            break;
        }
        case WS_CHUNK_CRLF: {
            size_t take = n < w->chunk_left ? n : w->chunk_left;
            p += take;
            n -= take;
            w->chunk_left -= take;
            if (w->chunk_left == 0)
                w->st = WS_CHUNK_SIZE;
            break;
        }
        case WS_RAW:
            feed_body(x, w, p, n, now);
            return;
        case WS_DEAD:
            return;
        }
    }
}

struct recv_arg {
    struct watch_ctx *x;
    int idx;
};

static void *watch_receiver(void *arg)
{
    struct recv_arg *ra = arg;
    struct watch_ctx *x = ra->x;
    int ep = x->epfd[ra->idx];
    struct epoll_event evs[256];
    char *rb = xmalloc(256 * 1024);
    while (!atomic_load(&x->stop)) {
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            struct watcher *w = evs[i].data.ptr;
            /* Over TLS, read until EAGAIN: bytes the session already took off the socket
             * would not wake epoll again. */
            for (int k = 0; k < 64 || (w->tls && w->st != WS_DEAD); k++) {
                if (w->st == WS_DEAD)
                    break;
                ssize_t r = xrecv(w->fd, w->tls, rb, 256 * 1024, MSG_DONTWAIT);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0)
                    break; /* EAGAIN */
                if (r == 0) {
                    if (w->st != WS_DEAD)
                        snprintf(w->last_error, sizeof(w->last_error), "connection closed");
                    w->st = WS_DEAD;
                    epoll_ctl(ep, EPOLL_CTL_DEL, w->fd, NULL);
                    break;
                }
                atomic_fetch_add(&x->bytes, r);
                feed(x, w, rb, (size_t)r, now_ns());
                if (!w->tls && (size_t)r < 256 * 1024)
                    break;
            }
        }
    }
    free(rb);
    return NULL;
}

struct writer_arg {
    struct watch_ctx *x;
    int id, nwriters;
    const char *pod;
    int64_t t0;
    int64_t period; /* ns between this writer's writes */
    long ok, err;
    int64_t max_late;
    int64_t stop_at; /* issue nothing after this (a server that cannot keep up) */
    int64_t *wlat;   /* request latency of each write */
    long nwlat;
    long skipped;
    int first_status;
    char first_err[200];
};

static int write_one(struct watch_ctx *x, struct conn *c, struct resp *r, const char *pod,
                     int64_t seq)
{
    struct buf body = {0}, path = {0};
    int64_t ts = now_ns();
    int e;
    if (is_etcd(x->o)) {
        struct buf key = {0}, val = {0};
        buf_printf(&key, ETCD_POD_PREFIX "%s", pod);
        make_pod(&val, pod, ts, seq);
        buf_add(&body, "{\"key\":\"", 8);
        b64_encode(&body, (unsigned char *)key.d, key.len);
        buf_add(&body, "\",\"value\":\"", 11);
        b64_encode(&body, (unsigned char *)val.d, val.len);
        buf_add(&body, "\"}", 2);
        free(key.d);
        free(val.d);
        e = http_do(c, "POST", "/v3/kv/put", "application/json", body.d, body.len, r);
    } else {
        buf_printf(&path, "/api/v1/namespaces/default/pods/%s", pod);
        buf_printf(&body,
                   "{\"metadata\":{\"annotations\":{\"bench/ts\":\"%019" PRId64
                   "\",\"bench/seq\":\"%09" PRId64 "\"}}}",
                   ts, seq);
        e = http_do(c, "PATCH", path.d, "application/merge-patch+json", body.d, body.len, r);
    }
    free(body.d);
    free(path.d);
    if (e < 0)
        return e;
    return r->status == 200 || r->status == 201 ? 0 : r->status;
}

static void *watch_writer(void *arg)
{
    struct writer_arg *wa = arg;
    struct watch_ctx *x = wa->x;
    struct conn c = {.fd = -1};
    struct resp r = {0};
    long per = x->nevents / wa->nwriters;
    for (long i = 0; i < per; i++) {
        if (now_ns() > wa->stop_at) {
            wa->skipped = per - i;
            break;
        }
        int64_t due = wa->t0 + i * wa->period + wa->id * (wa->period / wa->nwriters);
        int64_t now = now_ns();
        if (now < due)
            sleep_until_ns(due);
        else if (now - due > wa->max_late)
            wa->max_late = now - due;
        int64_t seq = i * wa->nwriters + wa->id + 1;
        int64_t ws = now_ns();
        int e = write_one(x, &c, &r, wa->pod, seq);
        if (wa->nwlat < per)
            wa->wlat[wa->nwlat++] = now_ns() - ws;
        if (e == 0) {
            wa->ok++;
        } else {
            wa->err++;
            if (!wa->first_status) {
                wa->first_status = e;
                snprintf(wa->first_err, sizeof(wa->first_err), "%.180s", r.body.d ? r.body.d : "");
            }
        }
    }
    conn_close(&c);
    free(c.in.d);
    free(r.body.d);
    return NULL;
}

static int cmd_watch(const struct opts *o)
{
    char *pods_copy = strdup(o->pods ? o->pods : "");
    const char *pods[64];
    int npods = 0;
    for (char *sv, *t = strtok_r(pods_copy, ",", &sv); t && npods < 64; t = strtok_r(NULL, ",", &sv))
        pods[npods++] = t;
    if (npods == 0)
        die("watch needs --pods");

    struct watch_ctx x = {.o = o, .nw = o->watchers};
    x.nevents = (long)(o->rate * o->seconds) / npods * npods;
    x.latcap = (size_t)x.nevents * (size_t)o->watchers;
    x.lat = xmalloc(x.latcap * sizeof(int64_t));
    x.ws = calloc((size_t)o->watchers, sizeof(struct watcher));
    size_t bitmap = (size_t)x.nevents / 8 + 1;
    for (int i = 0; i < 2; i++)
        x.epfd[i] = epoll_create1(EPOLL_CLOEXEC);

    /* The resourceVersion to watch from (kos), as a client does after its LIST. */
    struct conn c = {.fd = -1};
    struct resp r = {0};
    struct buf rv = {0};
    if (!is_etcd(o)) {
        if (http_do(&c, "GET", "/api/v1/namespaces/default/pods?limit=1", NULL, NULL, 0, &r) < 0 ||
            r.status != 200 || !json_str_field(&r.body, "resourceVersion", false, &rv))
            die("cannot read the list resourceVersion");
    }

    /* Connect the watchers. */
    struct buf req = {0}, body = {0};
    if (is_etcd(o)) {
        buf_add(&body, "{\"create_request\":{\"key\":\"", 26);
        b64_encode(&body, (const unsigned char *)ETCD_POD_PREFIX, strlen(ETCD_POD_PREFIX));
        buf_add(&body, "\",\"range_end\":\"", 15);
        b64_encode(&body, (const unsigned char *)ETCD_POD_END, strlen(ETCD_POD_END));
        buf_add(&body, "\"}}", 3);
        buf_printf(&req,
                   "POST /v3/watch HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                   "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                   g_port, body.len, body.d);
    } else {
        buf_printf(&req,
                   "GET /api/v1/namespaces/default/pods?watch=true&resourceVersion=%s "
                   "HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n\r\n",
                   rv.d, g_port);
    }
    int connected = 0, connect_fail = 0;
    int64_t tc0 = now_ns();
    for (int i = 0; i < o->watchers; i++) {
        struct watcher *w = &x.ws[i];
        w->seen = calloc(bitmap, 1);
        w->fd = -1;
        int fd = -1;
        for (int attempt = 0; attempt < 3 && fd < 0; attempt++) {
            fd = tcp_connect(g_port);
            if (fd < 0)
                sleep_ns(50 * NS_PER_MS);
        }
        gnutls_session_t tls = NULL;
        if (fd >= 0 && g_cred && !(tls = tls_open(fd))) {
            close(fd);
            fd = -1;
        }
        if (fd < 0 || write_all(fd, tls, req.d, req.len) < 0) {
            tls_close(tls);
            if (fd >= 0)
                close(fd);
            connect_fail++;
            w->st = WS_DEAD;
            snprintf(w->last_error, sizeof(w->last_error), "connect failed");
            continue;
        }
        w->fd = fd;
        w->tls = tls;
        /* the receivers must never block in a TLS read: EAGAIN instead */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        w->st = WS_HEAD;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        epoll_ctl(x.epfd[i & 1], EPOLL_CTL_ADD, fd, &ev);
        connected++;
    }
    int64_t connect_ms = (now_ns() - tc0) / NS_PER_MS;
    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    pthread_t rth[2];
    struct recv_arg ra[2] = {{&x, 0}, {&x, 1}};
    for (int i = 0; i < 2; i++)
        pthread_create(&rth[i], NULL, watch_receiver, &ra[i]);

    /* Wait until every watcher is subscribed, then warm up: one write (seq 0) that every
     * watcher must see before the timed writes start (repeated each second until it has), so
     * that a slow subscription does not count as delivery latency. */
    int64_t sub_deadline = now_ns() + 30 * NS_PER_S;
    while (atomic_load(&x.subscribed_count) < connected && now_ns() < sub_deadline)
        sleep_ns(5 * NS_PER_MS);
    long subscribed = atomic_load(&x.subscribed_count);
    int64_t warm_deadline = now_ns() + 30 * NS_PER_S;
    int warm_writes = 0;
    int64_t next_warm = 0;
    while (atomic_load(&x.warm_count) < subscribed && now_ns() < warm_deadline) {
        if (now_ns() >= next_warm) {
            if (write_one(&x, &c, &r, pods[0], 0) != 0)
                fprintf(stderr, "loadgen watch: warm-up write failed: %d %.200s\n", r.status,
                        r.body.d ? r.body.d : "");
            warm_writes++;
            next_warm = now_ns() + NS_PER_S;
        }
        sleep_ns(5 * NS_PER_MS);
    }
    long warm = atomic_load(&x.warm_count);
    int64_t warm_ms = (now_ns() - tc0) / NS_PER_MS;

    /* The timed writes: one writer per pod, together `rate` writes/s. */
    struct proc_sample ps0, ps1;
    proc_sample(&ps0, true);
    struct writer_arg wa[64];
    pthread_t wth[64];
    int64_t t0 = now_ns() + 50 * NS_PER_MS;
    for (int i = 0; i < npods; i++) {
        wa[i] = (struct writer_arg){.x = &x, .id = i, .nwriters = npods, .pod = pods[i], .t0 = t0,
                                    .period = NS_PER_S * npods / o->rate,
                                    .stop_at = t0 + (int64_t)(o->seconds * 3 * 1e9),
                                    .wlat = xmalloc((size_t)(x.nevents / npods + 1) *
                                                    sizeof(int64_t))};
        pthread_create(&wth[i], NULL, watch_writer, &wa[i]);
    }
    long wok = 0, werr = 0, wskipped = 0;
    int64_t max_late = 0;
    for (int i = 0; i < npods; i++) {
        pthread_join(wth[i], NULL);
        wok += wa[i].ok;
        werr += wa[i].err;
        wskipped += wa[i].skipped;
        if (wa[i].max_late > max_late)
            max_late = wa[i].max_late;
        if (wa[i].err)
            fprintf(stderr, "loadgen watch: writer %d: %ld errors, first %d %s\n", i, wa[i].err,
                    wa[i].first_status, wa[i].first_err);
    }
    double write_secs = (double)(now_ns() - t0) / 1e9;
    int64_t *wl = xmalloc((size_t)(x.nevents + 1) * sizeof(int64_t));
    size_t nwl = 0;
    for (int i = 0; i < npods; i++) {
        memcpy(wl + nwl, wa[i].wlat, (size_t)wa[i].nwlat * sizeof(int64_t));
        nwl += (size_t)wa[i].nwlat;
        free(wa[i].wlat);
    }
    qsort(wl, nwl, sizeof(int64_t), cmp_i64);
    /* Grace period for the last deliveries. */
    long want = wok * (long)connected;
    int64_t grace_end = now_ns() + 10 * NS_PER_S;
    while (atomic_load(&x.total_got) < want && now_ns() < grace_end)
        sleep_ns(10 * NS_PER_MS);
    int64_t drained_ns = now_ns();
    proc_sample(&ps1, true);
    atomic_store(&x.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(rth[i], NULL);
    struct rusage ru1;
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) /
                     1e6;
    double wall = (double)(drained_ns - tc0) / 1e9;

    long min_got = -1, max_got = 0, full = 0, dups = 0, dead = 0, nonok = 0;
    const char *example_err = NULL;
    for (int i = 0; i < o->watchers; i++) {
        struct watcher *w = &x.ws[i];
        if (min_got < 0 || w->got < min_got)
            min_got = w->got;
        if (w->got > max_got)
            max_got = w->got;
        if (w->got == wok)
            full++;
        dups += w->dups;
        if (w->st == WS_DEAD)
            dead++;
        if (w->fd >= 0 && !w->ok_head)
            nonok++;
        if (w->last_error[0] && !example_err)
            example_err = w->last_error;
        tls_close(w->tls);
        if (w->fd >= 0)
            close(w->fd);
    }
    size_t nl = atomic_load(&x.nlat);
    if (nl > x.latcap)
        nl = x.latcap;
    qsort(x.lat, nl, sizeof(int64_t), cmp_i64);
    long lost = want - (long)atomic_load(&x.total_got);
    printf("mode=watch target=%s watchers=%d connected=%d subscribed=%ld warm=%ld warm_writes=%d "
           "writes_ok=%ld writes_not_issued=%ld "
           "write_errors=%ld write_seconds=%.2f deliveries=%zu expected=%ld lost=%ld dups=%ld "
           "complete_watchers=%ld min_per_watcher=%ld max_per_watcher=%ld dead=%ld "
           "p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f writer_max_late_ms=%.1f write_p50_ms=%.2f write_p99_ms=%.2f "
           "connect_ms=%" PRId64 " warmup_ms=%" PRId64 " client_cpu_pct=%.0f mb_received=%.0f",
           o->target, o->watchers, connected, subscribed, warm, warm_writes, wok, wskipped, werr, write_secs, nl, want, lost, dups,
           full, min_got, max_got, dead, pct_ms(x.lat, nl, 50), pct_ms(x.lat, nl, 90),
           pct_ms(x.lat, nl, 99), pct_ms(x.lat, nl, 99.9),
           nl ? (double)x.lat[nl - 1] / 1e6 : -1, (double)max_late / 1e6, pct_ms(wl, nwl, 50),
           pct_ms(wl, nwl, 99), connect_ms, warm_ms,
           100.0 * cpu / wall, (double)atomic_load(&x.bytes) / 1e6);
    print_server_usage(&ps0, &ps1);
    printf("\n");
    free(wl);
    if (example_err)
        fprintf(stderr, "loadgen watch: example watcher note: %s\n", example_err);
    if (nonok)
        fprintf(stderr, "loadgen watch: %ld watchers got a non-200 answer\n", nonok);
    return lost || werr || connect_fail ? 1 : 0;
}

/* ---- startup ----------------------------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0)
        die("free_port: %s", strerror(errno));
    int p = ntohs(a.sin_port);
    close(fd);
    return p;
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = atol(line + 6);
    fclose(f);
    return kb;
}

static char *subst(const char *a, const char *key, const char *val)
{
    const char *p = strstr(a, key);
    if (!p)
        return strdup(a);
    struct buf b = {0};
    buf_add(&b, a, (size_t)(p - a));
    buf_add(&b, val, strlen(val));
    char *rest = subst(p + strlen(key), key, val);
    buf_add(&b, rest, strlen(rest));
    free(rest);
    return b.d;
}

/* Single probe: 1 when the endpoint answered 200, 0 otherwise. */
static int probe(int port, const char *path)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return 0;
    char req[256];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path,
                     port);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int ok = 0;
    gnutls_session_t tls = NULL;
    if (g_cred && !(tls = tls_open(fd))) {
        close(fd);
        return 0;
    }
    if (write_all(fd, tls, req, (size_t)n) == 0) {
        char resp[64] = {0};
        size_t got = 0;
        while (got < 12) {
            ssize_t r = xrecv(fd, tls, resp + got, sizeof(resp) - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        ok = got >= 12 && strncmp(resp + 9, "200", 3) == 0;
    }
    tls_close(tls);
    close(fd);
    return ok;
}

static int cmd_startup(const struct opts *o)
{
    if (!o->argv || !o->argv[0] || !o->dir)
        die("startup needs --dir and -- argv");
    const char *path = is_etcd(o) ? "/health" : "/readyz";
    int64_t *t = xmalloc((size_t)o->runs * sizeof(int64_t));
    long *rss = xmalloc((size_t)o->runs * sizeof(long));
    int fails = 0;
    for (int run = 0; run < o->runs; run++) {
        if (o->fresh) {
            struct buf cmd = {0};
            buf_printf(&cmd, "rm -rf -- '%s'", o->dir);
            if (strchr(o->dir, '\'') || system(cmd.d) != 0)
                die("cannot clear %s", o->dir);
            free(cmd.d);
        }
        char p1[16], p2[16];
        int port = free_port(), port2 = free_port();
        snprintf(p1, sizeof(p1), "%d", port);
        snprintf(p2, sizeof(p2), "%d", port2);
        int argc = 0;
        while (o->argv[argc])
            argc++;
        char **av = calloc((size_t)argc + 1, sizeof(char *));
        for (int i = 0; i < argc; i++) {
            char *a = subst(o->argv[i], "{PORT}", p1);
            char *b = subst(a, "{PORT2}", p2);
            av[i] = subst(b, "{DIR}", o->dir);
            free(a);
            free(b);
        }
        int64_t t0 = now_ns();
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            if (o->log) {
                int fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                    dup2(fd, 1);
                    dup2(fd, 2);
                }
            }
            execv(av[0], av);
            _exit(127);
        }
        int64_t limit = t0 + 60 * NS_PER_S;
        bool ready = false;
        while (now_ns() < limit) {
            if (probe(port, path)) {
                ready = true;
                break;
            }
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                pid = -1;
                break;
            }
            sleep_ns(NS_PER_MS / 2);
        }
        t[run] = now_ns() - t0;
        if (!ready) {
            fails++;
            fprintf(stderr, "loadgen startup: run %d never became ready\n", run);
        }
        rss[run] = pid > 0 ? rss_kb(pid) : -1;
        if (pid > 0) {
            if (o->rss)
                sleep_ns(200 * NS_PER_MS); /* let a just-ready server settle before RSS */
            if (o->rss)
                rss[run] = rss_kb(pid);
            kill(pid, SIGTERM);
            int st = 0;
            int64_t kill_deadline = now_ns() + 15 * NS_PER_S;
            while (waitpid(pid, &st, WNOHANG) == 0) {
                if (now_ns() > kill_deadline) {
                    fprintf(stderr, "loadgen startup: pid %d ignored SIGTERM, killing\n", pid);
                    kill(pid, SIGKILL);
                    waitpid(pid, &st, 0);
                    break;
                }
                sleep_ns(2 * NS_PER_MS);
            }
        }
        for (int i = 0; i < argc; i++)
            free(av[i]);
        free(av);
    }
    int64_t *s = xmalloc((size_t)o->runs * sizeof(int64_t));
    memcpy(s, t, (size_t)o->runs * sizeof(int64_t));
    qsort(s, (size_t)o->runs, sizeof(int64_t), cmp_i64);
    long rss_first = rss[0], rss_max = 0;
    for (int i = 0; i < o->runs; i++)
        if (rss[i] > rss_max)
            rss_max = rss[i];
    printf("mode=startup target=%s runs=%d failed=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f "
           "rss_first_kb=%ld rss_max_kb=%ld\n",
           o->target, o->runs, fails, (double)s[o->runs / 2] / 1e6, (double)s[0] / 1e6,
           (double)s[o->runs - 1] / 1e6, rss_first, rss_max);
    free(s);
    free(t);
    free(rss);
    return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
    g_prog = "loadgen";
    if (argc < 2)
        die("usage: loadgen create|get|list|watch|startup|rss [options]");
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct opts o;
    parse_opts(argc, argv, &o);
    tls_init(o.tls, o.cacert, o.cert, o.key);
    const char *mode = argv[1];
    if (strcmp(mode, "port") == 0) {
        printf("%d\n", free_port());
        return 0;
    }
    if (strcmp(mode, "rss") == 0) {
        printf("mode=rss pid=%d rss_kb=%ld\n", (int)o.pid, rss_kb(o.pid));
        return 0;
    }
    if (strcmp(mode, "startup") == 0)
        return cmd_startup(&o);
    if (g_port <= 0)
        die("--port is required");
    if (strcmp(mode, "create") == 0) {
        if (o.count <= 0)
            die("create needs --count");
        return run_workers("create", &o, create_worker, o.max_seconds);
    }
    if (strcmp(mode, "get") == 0) {
        if (!o.name)
            die("get needs --name");
        return run_workers("get", &o, get_worker, o.seconds);
    }
    if (strcmp(mode, "patch") == 0) {
        if (is_etcd(&o))
            die("patch is a kos-only benchmark");
        return run_workers("patch", &o, patch_worker, o.seconds > 0 ? o.seconds : 5);
    }
    if (strcmp(mode, "list") == 0)
        return cmd_list(&o);
    if (strcmp(mode, "watch") == 0)
        return cmd_watch(&o);
    die("unknown mode %s", mode);
}

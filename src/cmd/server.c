/* `kos server`: the control plane process (API server today; scheduler, controllers and the
 * node agent join it as they land). Flags follow kube-apiserver's names. */
#include "cmd/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apiserver/apiserver.h"
#include "apiserver/http.h"
#include "controllers/controllers.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

struct server_flags {
    const char *data_dir;
    const char *bind_address;
    int64_t port;
    bool disable_agent;
    bool disable_scheduler;
    int64_t compaction_interval_s;
    int64_t compaction_retain;
    int64_t watch_cache_events;
};

static void usage(FILE *out)
{
    fputs("Usage: kos server [flags]\n"
          "\n"
          "Runs the kos control plane: a Kubernetes-compatible API server on an embedded\n"
          "SQLite store. kubectl and the Python client use DATA_DIR/admin.kubeconfig.\n"
          "\n"
          "Flags:\n"
          "      --data-dir DIR                 where the store and admin.kubeconfig live "
          "(default /var/lib/kos)\n"
          "      --bind-address IP              address to serve on (default 0.0.0.0)\n"
          "      --secure-port PORT             port to serve on (default 6443; 0 picks a free "
          "one)\n"
          "      --disable-agent                do not run the node agent in this process\n"
          "      --disable-scheduler            do not run the scheduler in this process\n"
          "      --compaction-interval SECONDS  how often old revisions are compacted "
          "(default 300, 0 = never)\n"
          "      --compaction-retain N          revisions kept by compaction (default 10000)\n"
          "      --watch-cache-size N           events kept in memory for watches (default "
          "10000)\n"
          "  -v, --v LEVEL                      log verbosity (0-4)\n"
          "  -h, --help                         show this help\n",
          out);
}

static int parse_number(const char *flag, const char *value, int64_t min, int64_t max, int64_t *ret)
{
    int64_t v;
    if (kos_parse_int64(value, &v) < 0 || v < min || v > max) {
        fprintf(stderr, "kos server: invalid value \"%s\" for %s (want %lld..%lld)\n", value, flag,
                (long long)min, (long long)max);
        return -EINVAL;
    }
    *ret = v;
    return 0;
}

static int parse_flags(int argc, char **argv, struct server_flags *f)
{
    enum { F_DATA = 256, F_BIND, F_PORT, F_NOAGENT, F_NOSCHED, F_COMPACT, F_RETAIN, F_WATCH };
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, F_DATA},
        {"bind-address", required_argument, NULL, F_BIND},
        {"secure-port", required_argument, NULL, F_PORT},
        {"disable-agent", no_argument, NULL, F_NOAGENT},
        {"disable-scheduler", no_argument, NULL, F_NOSCHED},
        {"compaction-interval", required_argument, NULL, F_COMPACT},
        {"compaction-retain", required_argument, NULL, F_RETAIN},
        {"watch-cache-size", required_argument, NULL, F_WATCH},
        {"v", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *f = (struct server_flags){.data_dir = "/var/lib/kos",
                               .bind_address = "0.0.0.0",
                               .port = 6443,
                               .compaction_interval_s = 300,
                               .compaction_retain = 10000,
                               .watch_cache_events = 10000};
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "hv:", opts, NULL);
        if (c == -1)
            break;
        int64_t level;
        switch (c) {
        case F_DATA:
            f->data_dir = optarg;
            break;
        case F_BIND:
            f->bind_address = optarg;
            break;
        case F_PORT:
            if (parse_number("--secure-port", optarg, 0, 65535, &f->port) < 0)
                return -EINVAL;
            break;
        case F_NOAGENT:
            f->disable_agent = true;
            break;
        case F_NOSCHED:
            f->disable_scheduler = true;
            break;
        case F_COMPACT:
            if (parse_number("--compaction-interval", optarg, 0, 86400 * 365,
                             &f->compaction_interval_s) < 0)
                return -EINVAL;
            break;
        case F_RETAIN:
            if (parse_number("--compaction-retain", optarg, 1, INT64_MAX / 2,
                             &f->compaction_retain) < 0)
                return -EINVAL;
            break;
        case F_WATCH:
            if (parse_number("--watch-cache-size", optarg, 16, 10000000, &f->watch_cache_events) <
                0)
                return -EINVAL;
            break;
        case 'v':
            if (parse_number("--v", optarg, 0, 10, &level) < 0)
                return -EINVAL;
            kos_log_set_level(level >= 4 ? KOS_LOG_DEBUG : KOS_LOG_INFO);
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fprintf(stderr, "kos server: unknown flag: %s\n", argv[optind - 1]);
            fprintf(stderr, "Run 'kos server --help' for usage.\n");
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kos server: unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    return 0;
}

static bool is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "localhost") == 0;
}

static int write_kubeconfig(const char *dir, const char *host, unsigned port)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/admin.kubeconfig", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char buf[1024];
    int n = snprintf(buf, sizeof(buf),
                     "apiVersion: v1\n"
                     "kind: Config\n"
                     "clusters:\n"
                     "- name: kos\n"
                     "  cluster:\n"
                     "    server: http://%s:%u\n"
                     "contexts:\n"
                     "- name: kos\n"
                     "  context:\n"
                     "    cluster: kos\n"
                     "    user: admin\n"
                     "    namespace: default\n"
                     "current-context: kos\n"
                     "preferences: {}\n"
                     "users:\n"
                     "- name: admin\n"
                     "  user: {}\n",
                     host, port);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    if (write(fd, buf, (size_t)n) != n || fsync(fd) < 0)
        return -errno;
    if (rename(tmp, path) < 0)
        return -errno;
    return 0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int cmd_server(int argc, char **argv)
{
    struct server_flags f;
    int r = parse_flags(argc, argv, &f);
    if (r != 0)
        return r > 0 ? 0 : 2;

    if (!is_loopback(f.bind_address)) {
        fprintf(stderr,
                "kos server: refusing to serve plain HTTP on %s: until TLS is built in, only a "
                "loopback --bind-address (such as 127.0.0.1) is allowed\n",
                f.bind_address);
        return 1;
    }
    if (make_dir(f.data_dir) < 0) {
        fprintf(stderr, "kos server: cannot create data dir %s: %s\n", f.data_dir, strerror(errno));
        return 1;
    }

    /* Signals are taken by sigwait in this thread only; every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    char db[4096];
    snprintf(db, sizeof(db), "%s/kos.db", f.data_dir);
    struct store_sqlite_options so = {
        .path = db,
        .watch_window_events = (size_t)f.watch_cache_events,
        .compaction_retain = f.compaction_retain,
        .compaction_interval_s = (int)f.compaction_interval_s,
        .max_batch = 512,
    };
    struct store *store = NULL;
    r = store_sqlite_open(&so, &store);
    if (r < 0) {
        log_error("server", "opening the store %s failed: %s", db, strerror(-r));
        return 1;
    }

    char address[96];
    struct apiserver api;
    r = apiserver_init(&api, store, "");
    if (r < 0) {
        log_error("server", "initialising the API server failed: %s", strerror(-r));
        store_close(store);
        return 1;
    }
    struct http_server_options ho = {.bind_address = f.bind_address,
                                     .port = (uint16_t)f.port,
                                     .handler = apiserver_handle,
                                     .handler_ctx = &api};
    struct http_server *http = NULL;
    r = http_server_start(&ho, &http);
    if (r < 0) {
        log_error("server", "cannot listen on %s:%lld: %s", f.bind_address, (long long)f.port,
                  strerror(-r));
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    unsigned port = http_server_port(http);
    snprintf(address, sizeof(address), "%s:%u", f.bind_address, port);
    snprintf(api.server_address, sizeof(api.server_address), "%s", address);

    r = apiserver_bootstrap(&api);
    if (r == 0)
        r = write_kubeconfig(f.data_dir, f.bind_address, port);
    if (r < 0) {
        log_error("server", "bootstrap failed: %s", strerror(-r));
        http_server_stop(http);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    /* The controllers reach the API as any client would, over the loopback address; their
     * informers take the in-process fast path to the store (client/informer_local.c). */
    char api_url[160];
    snprintf(api_url, sizeof(api_url), "http://%s:%u", f.bind_address, port);
    struct kos_client_config cc = {
        .server = api_url, .user_agent = "kos-controller-manager", .local_store = store};
    struct kos_controllers *controllers = NULL;
    r = kos_controllers_start(&cc, &controllers);
    if (r < 0) {
        log_error("server", "starting the controllers failed: %s", strerror(-r));
        http_server_stop(http);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    struct kos_scheduler *scheduler = NULL;
    if (!f.disable_scheduler) {
        struct kos_client_config sc = {
            .server = api_url, .user_agent = "kos-scheduler", .local_store = store};
        r = kos_scheduler_start(&sc, &scheduler);
        if (r < 0) {
            log_error("server", "starting the scheduler failed: %s", strerror(-r));
            kos_controllers_stop(controllers);
            http_server_stop(http);
            apiserver_done(&api);
            store_close(store);
            return 1;
        }
    }
    atomic_store(&api.ready, true);
    log_info("server", "serving the Kubernetes API on http://%s (data in %s)", address, f.data_dir);
    log_info("server", "kubectl --kubeconfig %s/admin.kubeconfig get namespaces", f.data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("server", "signal %d: shutting down", sig);
    atomic_store(&api.ready, false);
    kos_scheduler_stop(scheduler); /* while the API it uses still answers */
    kos_controllers_stop(controllers);
    watch_window_shutdown(store_window(store));
    http_server_stop(http);
    store_close(store);
    apiserver_done(&api);
    return 0;
}

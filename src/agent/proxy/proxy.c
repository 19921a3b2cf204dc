#include "agent/proxy/proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/proxy/ruleset.h"
#include "client/informer.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/timeutil.h"

#define SCRIPT_LIMIT   (256u << 20)
#define RETRY_MS       1000
#define NFT_ERR_MAX    4096
#define DEFAULT_MIN_MS 20

struct agent_proxy {
    struct agent_proxy_config cfg;
    char cidr[64];
    char script_path[1100];
    struct kos_informer *services;
    struct kos_informer *slices;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool dirty;
    bool stopping;
    uint64_t syncs;
    int64_t last_ms;
    /* what nft holds (sync thread only); without it the next sync replaces the table */
    struct proxy_model applied;
    bool have_applied;
};

static void changed(struct agent_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    p->dirty = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static void on_add(void *ctx, const json_t *obj)
{
    changed(ctx);
}

static void on_update(void *ctx, const json_t *old_obj, const json_t *obj)
{
    changed(ctx);
}

/* Writes script to the state file and runs `nft -f` on it; nft's complaint goes to the log. */
static int load(struct agent_proxy *p, const struct kos_buf *script)
{
    _cleanup_close_ int fd = open(p->script_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    for (size_t off = 0; off < script->len;) {
        ssize_t n = write(fd, script->data + off, script->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -EIO;
        off += (size_t)n;
    }
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        close(errp[0]);
        close(errp[1]);
        return -errno;
    }
    if (pid == 0) {
        dup2(errp[1], 2);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(devnull, 1);
        }
        execlp("nft", "nft", "-f", p->script_path, (char *)NULL);
        _exit(127);
    }
    close(errp[1]);
    char msg[NFT_ERR_MAX];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(errp[0], msg + used, sizeof(msg) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == sizeof(msg) - 1) {
            char sink[512];
            while (read(errp[0], sink, sizeof(sink)) > 0) {
            }
            break;
        }
    }
    msg[used] = '\0';
    close(errp[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    log_warn("proxy", "nft -f %s failed (status %d): %s", p->script_path,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, msg);
    return -EIO;
}

static int sync_once(struct agent_proxy *p)
{
    int64_t t0 = kos_now_ms_monotonic();
    _cleanup_json_ json_t *svcs = kos_informer_snapshot(p->services);
    _cleanup_json_ json_t *slices = kos_informer_snapshot(p->slices);
    if (!svcs || !slices)
        return -ENOMEM;
    struct proxy_model m;
    int r = proxy_model_build(svcs, slices, &m);
    if (r < 0)
        return r;
    _cleanup_buf_ struct kos_buf script;
    kos_buf_init(&script, SCRIPT_LIMIT);
    const char *cidr = p->cidr[0] ? p->cidr : NULL;
    size_t nports = m.nports, changed = nports;
    /* only what changed, once nft holds a known state; else the whole table */
    r = p->have_applied ? proxy_render_diff(&p->applied, &m, cidr, &script, &changed)
                        : proxy_render(&m, cidr, &script);
    if (r == 0 && script.len > 0)
        r = load(p, &script);
    proxy_model_clear(&p->applied);
    p->have_applied = r == 0;
    if (r < 0) {
        proxy_model_clear(&m);
        return r;
    }
    p->applied = m;
    int64_t ms = kos_now_ms_monotonic() - t0;
    pthread_mutex_lock(&p->lock);
    p->syncs++;
    p->last_ms = ms;
    pthread_mutex_unlock(&p->lock);
    log_debug("proxy", "synced %zu of %zu service ports in %lld ms (%zu bytes)", changed, nports,
              (long long)ms, script.len);
    return 0;
}

static void *run(void *arg)
{
    struct agent_proxy *p = arg;
    /* no deadline: a proxy that syncs late is still better than none */
    struct kos_informer *infs[] = {p->services, p->slices};
    for (size_t i = 0; i < 2; i++) {
        int r;
        while ((r = kos_informer_wait_synced(infs[i], 5000)) == -ETIMEDOUT) {
        }
        if (r < 0)
            return NULL;
    }
    pthread_mutex_lock(&p->lock);
    p->dirty = true; /* the first sync, even with nothing to proxy */
    for (;;) {
        while (!p->dirty && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        if (p->stopping)
            break;
        pthread_mutex_unlock(&p->lock);
        /* batch: what arrives in the next few ms goes into the same transaction */
        usleep((useconds_t)p->cfg.min_sync_ms * 1000);
        pthread_mutex_lock(&p->lock);
        p->dirty = false;
        pthread_mutex_unlock(&p->lock);
        int r = sync_once(p);
        pthread_mutex_lock(&p->lock);
        if (r < 0) {
            p->dirty = true;
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += RETRY_MS / 1000;
            while (!p->stopping &&
                   pthread_cond_timedwait(&p->cond, &p->lock, &until) != ETIMEDOUT) {
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void set_route_localnet(void)
{
    _cleanup_close_ int fd =
        open("/proc/sys/net/ipv4/conf/all/route_localnet", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "1", 1) != 1)
        log_warn("proxy", "cannot set net.ipv4.conf.all.route_localnet=1: NodePorts will not "
                          "answer on 127.0.0.1");
}

int agent_proxy_start(const struct agent_proxy_config *cfg, struct agent_proxy **ret)
{
    struct agent_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->cfg = *cfg;
    if (p->cfg.min_sync_ms <= 0)
        p->cfg.min_sync_ms = DEFAULT_MIN_MS;
    snprintf(p->cidr, sizeof(p->cidr), "%s", cfg->cluster_cidr ? cfg->cluster_cidr : "");
    snprintf(p->script_path, sizeof(p->script_path), "%s/proxy.nft", cfg->state_dir);
    p->cfg.cluster_cidr = p->cidr;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    struct kos_informer_options so = {.kind = kos_kind_by_resource("", "v1", "services"),
                                      .drop_managed_fields = true};
    struct kos_informer_options eo = {.kind = kos_kind_by_kind("discovery.k8s.io", "EndpointSlice"),
                                      .drop_managed_fields = true};
    struct kos_informer_handlers h = {.on_add = on_add,
                                      .on_update = on_update,
                                      .on_delete = on_add,
                                      .ctx = p,
                                      .ignores_old = true};
    int r = so.kind && eo.kind ? 0 : -ENOENT;
    if (r == 0)
        r = kos_informer_new(cfg->client, &so, &p->services);
    if (r == 0)
        r = kos_informer_new(cfg->client, &eo, &p->slices);
    if (r == 0)
        r = kos_informer_add_handlers(p->services, &h);
    if (r == 0)
        r = kos_informer_add_handlers(p->slices, &h);
    if (r == 0)
        r = kos_informer_start(p->services);
    if (r == 0)
        r = kos_informer_start(p->slices);
    if (r == 0) {
        set_route_localnet();
        r = -pthread_create(&p->thread, NULL, run, p);
        p->started = r == 0;
    }
    if (r < 0) {
        agent_proxy_stop(p);
        return r;
    }
    *ret = p;
    return 0;
}

void agent_proxy_stats(struct agent_proxy *p, uint64_t *syncs, int64_t *last_ms)
{
    pthread_mutex_lock(&p->lock);
    *syncs = p->syncs;
    *last_ms = p->last_ms;
    pthread_mutex_unlock(&p->lock);
}

void agent_proxy_stop(struct agent_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    /* informers first: wait_synced in the thread returns once they stop */
    if (p->services)
        kos_informer_stop(p->services);
    if (p->slices)
        kos_informer_stop(p->slices);
    if (p->started) {
        pthread_join(p->thread, NULL);
        _cleanup_buf_ struct kos_buf flush;
        kos_buf_init(&flush, 4096);
        if (proxy_render_flush(&flush) == 0)
            (void)load(p, &flush);
    }
    kos_informer_free(p->services);
    kos_informer_free(p->slices);
    proxy_model_clear(&p->applied);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

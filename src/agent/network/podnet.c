/* Pod network: node set-up from the Node informer, per-pod veth and namespace. */
#include "agent/network/podnet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/network/ipam.h"
#include "agent/network/masq.h"
#include "agent/network/netlink.h"
#include "agent/network/netns.h"
#include "client/informer.h"
#include "util/cidr.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

#define MAX_ROUTES 4096
#define UID_MAX    128

struct route {
    struct kos_cidr dst;
    uint32_t via;
};

/* pods whose network is complete, so that a resync costs no syscall */
struct done_pod {
    char uid[UID_MAX];
    uint32_t ip;
    struct done_pod *next;
};

struct kos_podnet {
    struct kos_podnet_config cfg;
    char root[1024];
    char bridge[16];
    struct kos_informer *nodes;

    pthread_mutex_t lock; /* everything below */
    pthread_cond_t cond;
    bool dirty, stopping;
    pthread_t thread;
    bool thread_started;
    bool ready; /* bridge up with the podCIDR's gateway */
    struct kos_cidr cidr;
    int bridge_index;
    struct kos_ipam *ipam;
    struct route routes[MAX_ROUTES];
    size_t nroutes;
    struct kos_cidr *masq_pods; /* what the nft table holds */
    size_t nmasq;
    bool masq_applied;
    bool routes_loaded;
    struct done_pod *done;
};

void kos_podnet_veth_name(const char *uid, char *out, size_t size)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = uid; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    snprintf(out, size, "kos%08x", h);
}

static void netns_path(const struct kos_podnet *n, const char *uid, char *out, size_t size)
{
    snprintf(out, size, "%s/netns/%s", n->root, uid);
}

static int write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, value, strlen(value));
    int e = w < 0 ? -errno : 0;
    close(fd);
    return e;
}

/* ---- node: bridge, routes, masquerade ---- */

static const char *node_internal_ip(const json_t *node)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "addresses"), i, a)
    {
        const char *t = json_string_value(json_object_get(a, "type"));
        if (t && strcmp(t, "InternalIP") == 0)
            return json_string_value(json_object_get(a, "address"));
    }
    return NULL;
}

static int node_pod_cidr(const json_t *node, struct kos_cidr *ret)
{
    const char *s = json_string_value(json_object_get(json_object_get(node, "spec"), "podCIDR"));
    return s ? kos_cidr_parse(s, true, ret) : -ENOENT;
}

/* Bridge with the gateway address, up; forwarding on. Called with the lock held. */
static int setup_bridge(struct kos_podnet *n, const struct kos_cidr *cidr)
{
    struct rtnl r = {.fd = -1};
    int e = rtnl_open(&r);
    if (e < 0)
        return e;
    struct rtnl_msg m;
    if ((e = rtnl_build_bridge(&m, n->bridge)) == 0) {
        e = rtnl_talk(&r, &m, NULL);
        if (e == -EEXIST)
            e = 0;
    }
    int idx = e == 0 ? rtnl_link_index(&r, n->bridge) : e;
    if (idx < 0) {
        rtnl_close(&r);
        return idx;
    }
    e = rtnl_build_addr(&m, idx, kos_ipam_gateway(cidr), cidr->prefix);
    if (e == 0)
        e = rtnl_talk(&r, &m, NULL);
    if (e == 0 && (e = rtnl_build_link_up(&m, idx, NULL)) == 0)
        e = rtnl_talk(&r, &m, NULL);
    rtnl_close(&r);
    if (e < 0)
        return e;
    if ((e = write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")) < 0)
        return e;
    /* bridged pod-to-pod packets pass the ip hooks (Service rules), as kubenet requires;
     * absent when the kernel has no br_netfilter */
    e = write_sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables", "1");
    if (e < 0 && e != -ENOENT)
        return e;
    n->bridge_index = idx;
    return 0;
}

static int route_apply(bool add, const struct route *rt)
{
    struct rtnl r = {.fd = -1};
    int e = rtnl_open(&r);
    if (e < 0)
        return e;
    struct rtnl_msg m;
    e = rtnl_build_route(&m, add, rt->dst.addr, rt->dst.prefix, rt->via, 0);
    if (e == 0)
        e = rtnl_talk(&r, &m, NULL);
    rtnl_close(&r);
    if (!add && (e == -ESRCH || e == -ENOENT))
        e = 0;
    return e;
}

static bool same_cidr(const struct kos_cidr *a, const struct kos_cidr *b)
{
    return a->addr == b->addr && a->prefix == b->prefix;
}

/* Brings the node's network toward the Nodes the informer holds. */
static int reconcile(struct kos_podnet *n)
{
    _cleanup_json_ json_t *nodes = kos_informer_snapshot(n->nodes);
    if (!nodes)
        return -ENOMEM;
    size_t count = json_array_size(nodes);
    struct route *want = calloc(count ? count : 1, sizeof(*want));
    struct kos_cidr *pods = calloc(count ? count : 1, sizeof(*pods));
    if (!want || !pods) {
        free(want);
        free(pods);
        return -ENOMEM;
    }
    size_t nwant = 0, npods = 0;
    bool have_own = false;
    struct kos_cidr own = {0};
    size_t i;
    json_t *node;
    json_array_foreach(nodes, i, node)
    {
        struct kos_cidr c;
        if (node_pod_cidr(node, &c) < 0)
            continue;
        pods[npods++] = c;
        const char *name =
            json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
        if (name && strcmp(name, n->cfg.node_name) == 0) {
            own = c;
            have_own = true;
            continue;
        }
        uint32_t via;
        const char *ip = node_internal_ip(node);
        if (ip && kos_ipv4_parse(ip, &via) == 0 && nwant < MAX_ROUTES)
            want[nwant++] = (struct route){.dst = c, .via = via};
    }

    int ret = 0;
    pthread_mutex_lock(&n->lock);
    if (!n->routes_loaded) {
        /* routes made before an agent restart: those to Nodes gone since are dropped below */
        struct rtnl r = {.fd = -1};
        struct rtnl_route found[MAX_ROUTES];
        int k = rtnl_open(&r);
        if (k == 0)
            k = rtnl_dump_routes(&r, RTNL_PROTO_KOS, found, MAX_ROUTES);
        rtnl_close(&r);
        for (int j = 0; j < k && j < MAX_ROUTES; j++)
            if (found[j].gw && found[j].prefix > 0)
                n->routes[n->nroutes++] = (struct route){
                    .dst = {.addr = found[j].dst, .prefix = found[j].prefix}, .via = found[j].gw};
        n->routes_loaded = k >= 0;
    }
    if (have_own && !n->ready) {
        char s[24];
        kos_cidr_format(&own, s, sizeof(s));
        char dir[1200];
        snprintf(dir, sizeof(dir), "%s/network/ipam", n->root);
        int e = setup_bridge(n, &own);
        if (e == 0 && !n->ipam)
            e = kos_ipam_open(dir, &own, &n->ipam);
        if (e < 0) {
            log_warn("network", "setting up bridge %s for pod CIDR %s failed: %s", n->bridge, s,
                     strerror(-e));
            ret = e;
        } else {
            n->cidr = own;
            n->ready = true;
            log_info("network", "pod network ready: bridge %s, pod CIDR %s", n->bridge, s);
        }
    } else if (have_own && n->ready && !same_cidr(&own, &n->cidr)) {
        log_warn("network", "node %s: podCIDR changed; pods keep the first one until restart",
                 n->cfg.node_name);
    }
    /* routes: drop those no longer wanted, (re)place the others (replace is idempotent) */
    for (size_t k = 0; k < n->nroutes;) {
        bool keep = false;
        for (size_t j = 0; j < nwant; j++)
            keep |= same_cidr(&want[j].dst, &n->routes[k].dst) && want[j].via == n->routes[k].via;
        if (keep) {
            k++;
            continue;
        }
        (void)route_apply(false, &n->routes[k]);
        n->routes[k] = n->routes[--n->nroutes];
    }
    for (size_t j = 0; j < nwant; j++) {
        bool have = false;
        for (size_t k = 0; k < n->nroutes; k++)
            have |= same_cidr(&want[j].dst, &n->routes[k].dst) && want[j].via == n->routes[k].via;
        if (have)
            continue;
        int e = route_apply(true, &want[j]);
        char d[24], v[16];
        kos_cidr_format(&want[j].dst, d, sizeof(d));
        kos_ipv4_format(want[j].via, v, sizeof(v));
        if (e < 0) {
            log_warn("network", "route to %s via %s: %s", d, v, strerror(-e));
            if (ret == 0)
                ret = e;
            continue;
        }
        log_info("network", "route to pods %s via node %s", d, v);
        n->routes[n->nroutes++] = want[j];
    }
    /* masquerade: rewritten when the set of pod CIDRs changes */
    if (n->ready) {
        bool changed = !n->masq_applied || npods != n->nmasq;
        for (size_t j = 0; !changed && j < npods; j++)
            changed = !same_cidr(&pods[j], &n->masq_pods[j]);
        if (changed) {
            int e = kos_masq_apply(&n->cidr, pods, npods);
            if (e == -ENOENT) {
                /* no nft on this node: pods still reach each other, only not the outside */
                log_warn("network", "nft is not installed: pod traffic to other networks is "
                                    "not masqueraded");
                n->masq_applied = true;
                free(n->masq_pods);
                n->masq_pods = TAKE_PTR(pods);
                n->nmasq = npods;
            } else if (e < 0) {
                log_warn("network", "nftables masquerade rules: %s", strerror(-e));
                if (ret == 0)
                    ret = e;
            } else {
                free(n->masq_pods);
                n->masq_pods = TAKE_PTR(pods);
                n->nmasq = npods;
                n->masq_applied = true;
            }
        }
    }
    pthread_mutex_unlock(&n->lock);
    free(want);
    free(pods);
    return ret;
}

static void mark_dirty(struct kos_podnet *n)
{
    pthread_mutex_lock(&n->lock);
    n->dirty = true;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
}

static void on_add(void *ctx, const json_t *obj)
{
    mark_dirty(ctx);
}

static void on_update(void *ctx, const json_t *old, const json_t *obj)
{
    /* only podCIDRs and addresses matter; heartbeats change neither */
    if (json_equal(json_object_get(json_object_get(old, "spec"), "podCIDR"),
                   json_object_get(json_object_get(obj, "spec"), "podCIDR")) &&
        json_equal(json_object_get(json_object_get(old, "status"), "addresses"),
                   json_object_get(json_object_get(obj, "status"), "addresses")))
        return;
    mark_dirty(ctx);
}

static void on_delete(void *ctx, const json_t *obj)
{
    mark_dirty(ctx);
}

static void *loop(void *arg)
{
    struct kos_podnet *n = arg;
    int retry_ms = 0;
    /* the first look needs every Node: a partial list would drop routes made before a restart */
    while (kos_informer_wait_synced(n->nodes, 1000) == -ETIMEDOUT) {
        pthread_mutex_lock(&n->lock);
        bool stop = n->stopping;
        pthread_mutex_unlock(&n->lock);
        if (stop)
            return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&n->lock);
        while (!n->stopping && !n->dirty) {
            if (retry_ms == 0) {
                pthread_cond_wait(&n->cond, &n->lock);
                continue;
            }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += retry_ms / 1000;
            until.tv_nsec += (long)(retry_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            if (pthread_cond_timedwait(&n->cond, &n->lock, &until) == ETIMEDOUT)
                n->dirty = true;
        }
        bool stop = n->stopping;
        n->dirty = false;
        pthread_mutex_unlock(&n->lock);
        if (stop)
            break;
        /* failures (a node not reachable yet) are retried, less often while they last */
        if (reconcile(n) < 0)
            retry_ms = retry_ms == 0 ? 2000 : (retry_ms >= 30000 ? 60000 : retry_ms * 2);
        else
            retry_ms = 0;
    }
    return NULL;
}

int kos_podnet_new(const struct kos_podnet_config *cfg, struct kos_podnet **ret)
{
    if (!cfg->client || !cfg->node_name || !cfg->root_dir)
        return -EINVAL;
    struct kos_podnet *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    n->cfg = *cfg;
    kos_strlcpy(n->root, cfg->root_dir, sizeof(n->root));
    const char *br = cfg->bridge && *cfg->bridge ? cfg->bridge : KOS_PODNET_BRIDGE_DEFAULT;
    if (strlen(br) >= sizeof(n->bridge)) {
        free(n);
        return -EINVAL;
    }
    kos_strlcpy(n->bridge, br, sizeof(n->bridge));
    pthread_mutex_init(&n->lock, NULL);
    pthread_cond_init(&n->cond, NULL);
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/netns", n->root);
    int r = kos_mkdir_p(dir, 0700);
    struct kos_informer_options io = {.kind = kos_client_kind_of("v1", "Node"),
                                      .drop_managed_fields = true};
    struct kos_informer_handlers h = {
        .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .ctx = n};
    if (r == 0)
        r = io.kind ? kos_informer_new(cfg->client, &io, &n->nodes) : -ENOENT;
    if (r == 0)
        r = kos_informer_add_handlers(n->nodes, &h);
    if (r == 0 && (r = -pthread_create(&n->thread, NULL, loop, n)) == 0)
        n->thread_started = true;
    if (r == 0)
        r = kos_informer_start(n->nodes);
    if (r < 0) {
        kos_podnet_free(n);
        return r;
    }
    *ret = n;
    return 0;
}

void kos_podnet_free(struct kos_podnet *n)
{
    if (!n)
        return;
    if (n->nodes)
        kos_informer_stop(n->nodes);
    pthread_mutex_lock(&n->lock);
    n->stopping = true;
    pthread_cond_signal(&n->cond);
    pthread_mutex_unlock(&n->lock);
    if (n->thread_started)
        pthread_join(n->thread, NULL);
    kos_informer_free(n->nodes);
    kos_ipam_free(n->ipam);
    free(n->masq_pods);
    while (n->done) {
        struct done_pod *d = n->done;
        n->done = d->next;
        free(d);
    }
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* ---- pods ---- */

/* Inside the pod's namespace: lo up, eth0's address, the default route via the bridge. */
static int configure_inside(struct rtnl *ns, uint32_t ip, const struct kos_cidr *cidr)
{
    struct rtnl_msg m;
    int e = rtnl_build_link_up(&m, 0, "lo");
    if (e == 0)
        e = rtnl_talk(ns, &m, NULL);
    int idx = e == 0 ? rtnl_link_index(ns, KOS_PODNET_IFNAME) : e;
    if (idx < 0)
        return idx;
    if ((e = rtnl_build_addr(&m, idx, ip, cidr->prefix)) == 0)
        e = rtnl_talk(ns, &m, NULL);
    if (e == 0 && (e = rtnl_build_link_up(&m, idx, NULL)) == 0)
        e = rtnl_talk(ns, &m, NULL);
    if (e == 0 && (e = rtnl_build_route(&m, true, 0, 0, kos_ipam_gateway(cidr), idx)) == 0)
        e = rtnl_talk(ns, &m, NULL);
    return e;
}

/* The veth pair: host end on the bridge, "eth0" in the namespace. An existing host end (an
 * agent restart, a set-up cut short) is kept when its peer is in place, remade otherwise. */
static int make_veth(const char *host_if, int bridge_index, const char *path, struct rtnl *ns)
{
    struct rtnl host = {.fd = -1};
    int e = rtnl_open(&host);
    if (e < 0)
        return e;
    _cleanup_close_ int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        e = -errno;
        rtnl_close(&host);
        return e;
    }
    struct rtnl_msg m;
    for (int attempt = 0; attempt < 2; attempt++) {
        if ((e = rtnl_build_veth(&m, host_if, bridge_index, KOS_PODNET_IFNAME, nsfd)) == 0)
            e = rtnl_talk(&host, &m, NULL);
        if (e != -EEXIST)
            break;
        if (rtnl_link_index(ns, KOS_PODNET_IFNAME) > 0) {
            e = 0;
            break;
        }
        if ((e = rtnl_build_link_del(&m, host_if)) == 0)
            e = rtnl_talk(&host, &m, NULL);
        if (e < 0)
            break;
        e = -EEXIST;
    }
    /* hairpin, as kubenet's hairpin-veth mode: a pod reaches itself through a Service */
    int idx = e == 0 ? rtnl_link_index(&host, host_if) : e;
    if (idx > 0 && (e = rtnl_build_hairpin(&m, idx)) == 0)
        e = rtnl_talk(&host, &m, NULL);
    else if (idx < 0)
        e = idx;
    rtnl_close(&host);
    return e;
}

int kos_podnet_attach(const char *netns, const char *host_if, int bridge_index, uint32_t ip,
                      const struct kos_cidr *cidr)
{
    struct rtnl ns = {.fd = -1};
    int e = kos_netns_open(netns, &ns);
    if (e == -ENOENT)
        e = kos_netns_create(netns, &ns);
    if (e == 0)
        e = make_veth(host_if, bridge_index, netns, &ns);
    if (e == 0)
        e = configure_inside(&ns, ip, cidr);
    rtnl_close(&ns);
    return e;
}

int kos_podnet_detach(const char *netns, const char *host_if)
{
    int ret = 0;
    struct rtnl r = {.fd = -1};
    if (rtnl_open(&r) == 0) {
        struct rtnl_msg m;
        int e = rtnl_build_link_del(&m, host_if);
        if (e == 0)
            e = rtnl_talk(&r, &m, NULL);
        if (e < 0 && e != -ENODEV)
            ret = e;
        rtnl_close(&r);
    }
    int e = kos_netns_remove(netns);
    return ret < 0 ? ret : e;
}

static bool lookup_done(struct kos_podnet *n, const char *uid, uint32_t *ip)
{
    for (struct done_pod *d = n->done; d; d = d->next)
        if (strcmp(d->uid, uid) == 0) {
            *ip = d->ip;
            return true;
        }
    return false;
}

int kos_podnet_setup(struct kos_podnet *n, const char *uid, char *netns, size_t netns_size,
                     char *pod_ip, size_t pod_ip_size, struct kos_error **err)
{
    if (!uid || !*uid || strlen(uid) >= UID_MAX || strchr(uid, '/') || uid[0] == '.')
        return kos_error_set(err, 400, "BadRequest", "invalid pod uid");
    char path[1400];
    netns_path(n, uid, path, sizeof(path));
    pthread_mutex_lock(&n->lock);
    bool ready = n->ready;
    struct kos_cidr cidr = n->cidr;
    int bridge_index = n->bridge_index;
    struct kos_ipam *ipam = n->ipam;
    uint32_t ip = 0;
    bool done = ready && lookup_done(n, uid, &ip);
    pthread_mutex_unlock(&n->lock);
    if (!ready) {
        kos_error_set(err, 503, "NetworkNotReady",
                      "network is not ready: container runtime network not ready: "
                      "NetworkReady=false reason:NetworkPluginNotReady message:node %s has no "
                      "podCIDR yet",
                      n->cfg.node_name);
        return -EAGAIN;
    }
    if (!done) {
        int e = kos_ipam_allocate(ipam, uid, &ip);
        if (e == -ENOSPC) {
            char first[16], last[16];
            kos_ipv4_format(cidr.addr + 1, first, sizeof(first));
            kos_ipv4_format(cidr.addr + (uint32_t)kos_ipam_capacity(ipam) + 1, last, sizeof(last));
            kos_error_set(err, 503, "FailedCreatePodSandBox",
                          "Failed to create pod sandbox: failed to set up the network for "
                          "sandbox of pod %s: failed to allocate for range 0: no IP addresses "
                          "available in range set: %s-%s",
                          uid, first, last);
            return -ENOSPC;
        }
        if (e < 0) {
            kos_error_set(err, 500, "FailedCreatePodSandBox",
                          "Failed to create pod sandbox: allocating an address: %s", strerror(-e));
            return e;
        }
        char host_if[16];
        kos_podnet_veth_name(uid, host_if, sizeof(host_if));
        e = kos_podnet_attach(path, host_if, bridge_index, ip, &cidr);
        if (e < 0) {
            kos_error_set(err, 500, "FailedCreatePodSandBox",
                          "Failed to create pod sandbox: failed to set up the network for "
                          "sandbox of pod %s: %s",
                          uid, strerror(-e));
            return e;
        }
        struct done_pod *d = calloc(1, sizeof(*d));
        if (d) {
            kos_strlcpy(d->uid, uid, sizeof(d->uid));
            d->ip = ip;
            pthread_mutex_lock(&n->lock);
            d->next = n->done;
            n->done = d;
            pthread_mutex_unlock(&n->lock);
        }
    }
    char s[16];
    kos_ipv4_format(ip, s, sizeof(s));
    kos_strlcpy(pod_ip, s, pod_ip_size);
    kos_strlcpy(netns, path, netns_size);
    return 0;
}

static int release_file(struct kos_podnet *n, const char *uid)
{
    char dir[1200];
    snprintf(dir, sizeof(dir), "%s/network/ipam", n->root);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
        uint32_t addr;
        if (kos_ipv4_parse(de->d_name, &addr) < 0)
            continue;
        char path[1500], owner[UID_MAX] = "";
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        if (!fgets(owner, sizeof(owner), f))
            owner[0] = '\0';
        fclose(f);
        if (strcmp(owner, uid) == 0 && unlink(path) < 0 && errno != ENOENT)
            ret = -errno;
    }
    closedir(d);
    return ret;
}

int kos_podnet_teardown(struct kos_podnet *n, const char *uid)
{
    if (!uid || !*uid || strlen(uid) >= UID_MAX || strchr(uid, '/') || uid[0] == '.')
        return -EINVAL;
    char host_if[16], path[1400];
    kos_podnet_veth_name(uid, host_if, sizeof(host_if));
    netns_path(n, uid, path, sizeof(path));
    int ret = kos_podnet_detach(path, host_if), e;
    if (ret < 0)
        return ret; /* the address stays held until the veth is gone */
    pthread_mutex_lock(&n->lock);
    for (struct done_pod **pp = &n->done; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->uid, uid) == 0) {
            struct done_pod *d = *pp;
            *pp = d->next;
            free(d);
            break;
        }
    struct kos_ipam *ipam = n->ipam;
    pthread_mutex_unlock(&n->lock);
    /* the address goes last: a new pod must not get it while the old veth still holds it;
     * before the podCIDR is known again (an agent restart) the allocator's files go directly */
    if (ipam)
        e = kos_ipam_release(ipam, uid);
    else
        e = release_file(n, uid);
    if (e < 0 && ret == 0)
        ret = e;
    return ret;
}

/* The node agent: machine facts, kubepods cgroup, Node registration and heartbeat (status +
 * Lease), and the pod loop. */
#include "agent/agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/cgroups/cgroups.h"
#include "agent/eviction/manager.h"
#include "agent/eviction/taints.h"
#include "agent/node/lease.h"
#include "agent/node/machine.h"
#include "agent/node/node_status.h"
#include "agent/network/podnet.h"
#include "agent/pods/pod_loop.h"
#include "agent/pods/pod_runtime.h"
#include "agent/proxy/proxy.h"
#include "apiserver/apiserver.h"
#include "util/fs.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

/* The kubelet posts its status at least this often even when nothing changed
 * (nodeStatusReportFrequency is 5 min; a shorter period keeps lastHeartbeatTime useful
 * without the lease). */
#define STATUS_REPORT_SECONDS 60

struct kos_agent {
    struct agent_config cfg;
    struct agent_machine machine;
    char host_ip[64];
    char runtime_version[128];
    struct node_resources capacity, allocatable;
    struct cg_manager *cgroups;
    struct kos_client *client;
    struct kos_client *network_client; /* NULL: client */
    struct kos_podnet *network;
    char *ca_pem; /* what the client trusts, for the pods' ca.crt */
    struct agent_pods *pods;
    struct evict_manager *eviction;
    unsigned tainted; /* the pressure conditions whose taints are on the Node */
    bool taints_known;
    bool kick; /* post the node status now (pressure changed) */
    struct agent_proxy *proxy;
    const struct pod_runtime_ops *runtime;
    void *runtime_ctx;
    struct pod_runtime_env env;

    pthread_t node_thread;
    bool node_thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
};

static int64_t pid_max(void)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
    long long v = 0;
    if (!f || fscanf(f, "%lld", &v) != 1 || v <= 0)
        return 32768;
    return v;
}

static void status_input(const struct kos_agent *a, struct node_status_input *in)
{
    *in = (struct node_status_input){
        .cfg = &a->cfg,
        .machine = &a->machine,
        .host_ip = a->host_ip,
        .runtime_version = a->runtime_version,
        .kubelet_version = KOS_KUBE_GIT_VERSION,
        .capacity = a->capacity,
        .allocatable = a->allocatable,
    };
    unsigned conds = a->eviction ? evict_manager_conditions(a->eviction) : 0;
    in->memory_pressure = conds & EVICT_COND_MEMORY;
    in->disk_pressure = conds & EVICT_COND_DISK;
    in->pid_pressure = conds & EVICT_COND_PID;
}

/* pod_runtime_env.requeue: the pod loop starts after the runtime, so the runtime reaches it
 * through the agent; a requeue before the loop runs is dropped (the first list syncs every
 * pod anyway). */
static void agent_requeue(void *agent, const char *ns, const char *name, int64_t delay_ms)
{
    struct kos_agent *a = agent;
    struct agent_pods *p = __atomic_load_n(&a->pods, __ATOMIC_ACQUIRE);
    if (p)
        agent_pods_requeue(p, ns, name, delay_ms);
}

static const struct kos_kind *node_kind(void)
{
    return kos_client_kind_of("v1", "Node");
}

/* Creates the Node, or finds the one registered before. Sets *uid (malloc'd). */
static int register_node(struct kos_agent *a, char **uid)
{
    struct node_status_input in;
    status_input(a, &in);
    _cleanup_json_ json_t *node = agent_node_object(&in, time(NULL));
    if (!node)
        return -ENOMEM;
    struct kos_ref coll = {.kind = node_kind()};
    _cleanup_json_ json_t *got = NULL;
    struct kos_error *err = NULL;
    int r = kos_client_create(a->client, &coll, node, &got, &err);
    if (r == -EEXIST) {
        kos_error_free(err);
        err = NULL;
        struct kos_ref ref = {.kind = node_kind(), .name = a->cfg.node_name};
        r = kos_client_get(a->client, &ref, &got, &err);
    }
    if (r < 0) {
        log_warn("agent", "registering node %s failed: %s", a->cfg.node_name,
                 err && err->message ? err->message : strerror(-r));
        kos_error_free(err);
        return r;
    }
    const char *u = json_string_value(json_object_get(json_object_get(got, "metadata"), "uid"));
    *uid = strdup(u ? u : "");
    if (!*uid)
        return -ENOMEM;
    log_info("agent", "node %s registered", a->cfg.node_name);
    return 0;
}

/* Reads the Node, puts the new status (conditions keep their transition times). Sets
 * *posted (new reference) to the status written. */
static int post_status(struct kos_agent *a, const json_t *last, bool force, json_t **posted)
{
    struct kos_ref ref = {.kind = node_kind(), .name = a->cfg.node_name};
    _cleanup_json_ json_t *node = NULL;
    struct kos_error *err = NULL;
    int r = kos_client_get(a->client, &ref, &node, &err);
    if (r < 0) {
        kos_error_free(err);
        return r;
    }
    struct node_status_input in;
    status_input(a, &in);
    json_t *cur = json_object_get(node, "status");
    _cleanup_json_ json_t *st = agent_node_status(&in, cur, time(NULL));
    if (!st)
        return -ENOMEM;
    if (!force && last && !agent_node_status_changed(cur, st))
        return 0;
    if (json_object_set(node, "status", st) < 0)
        return -ENOMEM;
    ref.sub = "status";
    r = kos_client_update(a->client, &ref, node, NULL, &err);
    if (r < 0) {
        log_warn("agent", "updating the status of node %s failed: %s", a->cfg.node_name,
                 err && err->message ? err->message : strerror(-r));
        kos_error_free(err);
        return r;
    }
    json_decref(*posted);
    *posted = json_incref(st);
    return 1;
}

/* The node lifecycle controller's pressure taints, set by the agent itself on its own Node
 * (kos runs no node lifecycle controller). */
static void sync_taints(struct kos_agent *a)
{
    unsigned conds = a->eviction ? evict_manager_conditions(a->eviction) : 0;
    if (a->taints_known && conds == a->tainted)
        return;
    struct kos_ref ref = {.kind = node_kind(), .name = a->cfg.node_name};
    _cleanup_json_ json_t *node = NULL;
    struct kos_error *err = NULL;
    int r = kos_client_get(a->client, &ref, &node, &err);
    if (r == 0 && (r = evict_node_taints(node, conds)) > 0)
        r = kos_client_update(a->client, &ref, node, NULL, &err);
    if (r < 0) {
        log_warn("agent", "updating the taints of node %s failed: %s", a->cfg.node_name,
                 err && err->message ? err->message : strerror(-r));
        kos_error_free(err);
        return;
    }
    a->tainted = conds;
    a->taints_known = true;
}

/* evict_manager_config.reclaim_disk: the runtime's dead containers and unused images */
static int reclaim_disk(void *arg, int64_t *freed)
{
    struct kos_agent *a = arg;
    if (!a->runtime || !a->runtime->reclaim_disk)
        return 0;
    return a->runtime->reclaim_disk(a->runtime_ctx, freed);
}

/* evict_manager_config.on_change: the pressure conditions changed, post at once */
static void pressure_changed(void *arg)
{
    struct kos_agent *a = arg;
    pthread_mutex_lock(&a->lock);
    a->kick = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static void *node_loop(void *arg)
{
    struct kos_agent *a = arg;
    _cleanup_free_ char *uid = NULL;
    _cleanup_json_ json_t *last = NULL;
    time_t last_post = 0;
    for (;;) {
        pthread_mutex_lock(&a->lock);
        bool stop = a->stopping;
        pthread_mutex_unlock(&a->lock);
        if (stop)
            break;
        int wait_s = AGENT_LEASE_RENEW_SECONDS;
        if (!uid && register_node(a, &uid) < 0) {
            wait_s = 1;
        } else {
            time_t now = time(NULL);
            bool force = !last || now - last_post >= STATUS_REPORT_SECONDS;
            if (post_status(a, last, force, &last) > 0)
                last_post = now;
            sync_taints(a);
            struct kos_error *err = NULL;
            int r = agent_lease_renew(a->client, a->cfg.node_name, uid, &err);
            if (r < 0) {
                log_warn("agent", "renewing the lease of node %s failed: %s", a->cfg.node_name,
                         err && err->message ? err->message : strerror(-r));
                wait_s = 1;
            }
            kos_error_free(err);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait_s;
        pthread_mutex_lock(&a->lock);
        while (!a->stopping && !a->kick &&
               pthread_cond_timedwait(&a->cond, &a->lock, &until) != ETIMEDOUT)
            ;
        a->kick = false;
        pthread_mutex_unlock(&a->lock);
    }
    return NULL;
}

int kos_agent_start(const struct agent_config *cfg, const struct kos_client_config *cc,
                    struct kos_agent **ret, struct kos_error **err)
{
    struct kos_agent *a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->cfg = *cfg;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    int r;

    if ((r = kos_mkdir_p(cfg->root_dir, 0700)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "cannot create root dir %s: %s", cfg->root_dir,
                          strerror(-r));
        goto fail;
    }
    if ((r = agent_machine_read(cfg->root_dir, &a->machine)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "cannot read the machine's facts: %s",
                          strerror(-r));
        goto fail;
    }
    if (cfg->node_ip[0])
        kos_strlcpy(a->host_ip, cfg->node_ip, sizeof(a->host_ip));
    else
        agent_host_ip(a->host_ip, sizeof(a->host_ip));
    if (agent_runtime_version(cfg->container_runtime, a->runtime_version,
                              sizeof(a->runtime_version)) < 0)
        snprintf(a->runtime_version, sizeof(a->runtime_version), "%s://unknown",
                 cfg->container_runtime);

    a->capacity = (struct node_resources){.milli_cpu = a->machine.milli_cpu,
                                          .memory = a->machine.memory,
                                          .ephemeral_storage = a->machine.ephemeral_storage,
                                          .pods = cfg->max_pods,
                                          .pid = pid_max()};
    if ((r = agent_allocatable(&a->capacity, &cfg->kube_reserved, &cfg->system_reserved,
                               &cfg->eviction_hard, &a->allocatable, err)) < 0)
        goto fail;

    struct cg_host host;
    if ((r = cg_host_detect(&host)) < 0) {
        r = kos_error_set(err, 500, "InternalError", "no cgroup filesystem is mounted");
        goto fail;
    }
    if ((r = cg_manager_new(&host, cfg->cgroup_root, &a->cgroups)) < 0) {
        r = kos_error_set(err, 400, "BadRequest", "--cgroup-root: invalid cgroup path %s",
                          cfg->cgroup_root);
        goto fail;
    }
    /* enforce-node-allocatable=pods: kubepods gets capacity − kube − system reserved (the
     * hard eviction reservation is not subtracted here, as in the kubelet) */
    struct cg_resources kubepods;
    int64_t pid_resv = cfg->kube_reserved.pid + cfg->system_reserved.pid;
    cg_node_resources(
        a->capacity.milli_cpu - cfg->kube_reserved.milli_cpu - cfg->system_reserved.milli_cpu,
        a->capacity.memory - cfg->kube_reserved.memory - cfg->system_reserved.memory,
        pid_resv > 0 && pid_resv < a->capacity.pid ? a->capacity.pid - pid_resv : 0, &kubepods);
    if ((r = cg_manager_ensure_node(a->cgroups, &kubepods)) < 0) {
        r = kos_error_set(err, 500, "InternalError",
                          "cannot create the kubepods cgroups under %s (%s host): %s",
                          cfg->cgroup_root, cg_mode_name(host.mode), strerror(-r));
        goto fail;
    }

    if ((r = kos_client_new(cc, &a->client)) < 0)
        goto fail;
    if (cc->ca_pem) {
        if (!(a->ca_pem = strdup(cc->ca_pem))) {
            r = -ENOMEM;
            goto fail;
        }
    } else if (cc->ca_file) {
        size_t len = 0;
        if ((r = kos_read_file(cc->ca_file, 1 << 20, &a->ca_pem, &len)) < 0) {
            r = kos_error_set(err, 500, "InternalError", "cannot read the CA file %s: %s",
                              cc->ca_file, strerror(-r));
            goto fail;
        }
    }

    if (cfg->pod_network) {
        struct kos_client *nc = a->client;
        if (cfg->network_client) {
            if ((r = kos_client_new(cfg->network_client, &a->network_client)) < 0)
                goto fail;
            nc = a->network_client;
        }
        const struct kos_podnet_config pn = {.client = nc,
                                             .node_name = a->cfg.node_name,
                                             .root_dir = a->cfg.root_dir,
                                             .bridge = a->cfg.bridge_name};
        if ((r = kos_podnet_new(&pn, &a->network)) < 0) {
            r = kos_error_set(err, 500, "InternalError", "starting the pod network failed: %s",
                              strerror(-r));
            goto fail;
        }
    }

    a->env = (struct pod_runtime_env){.client = a->client,
                                      .node_name = a->cfg.node_name,
                                      .host_ip = a->host_ip,
                                      .root_dir = a->cfg.root_dir,
                                      .pod_log_dir = a->cfg.pod_log_dir,
                                      .container_runtime = a->cfg.container_runtime,
                                      .ca_pem = a->ca_pem,
                                      .cgroups = a->cgroups,
                                      .memory_capacity = a->capacity.memory,
                                      .network = a->network,
                                      .requeue = agent_requeue,
                                      .agent = a};
    if (pod_runtime_new) {
        if ((r = pod_runtime_new(&a->env, &a->runtime, &a->runtime_ctx)) < 0) {
            r = kos_error_set(err, 500, "InternalError", "starting the pod runtime failed: %s",
                              strerror(-r));
            goto fail;
        }
    }

    struct evict_manager_config ec = {.cfg = cfg->eviction,
                                      .node_name = a->cfg.node_name,
                                      .client = a->client,
                                      .cgroups = a->cgroups,
                                      .memory_capacity = a->capacity.memory,
                                      .root_dir = a->cfg.root_dir,
                                      .pod_log_dir = a->cfg.pod_log_dir,
                                      .reclaim_disk = reclaim_disk,
                                      .reclaim_ctx = a,
                                      .on_change = pressure_changed,
                                      .ctx = a};
    if ((r = evict_manager_new(&ec, &a->eviction)) < 0)
        goto fail;

    struct agent_pods_config pc = {.client = a->client,
                                   .node_name = a->cfg.node_name,
                                   .cgroups = a->cgroups,
                                   .allocatable = a->allocatable,
                                   .runtime = a->runtime,
                                   .runtime_ctx = a->runtime_ctx,
                                   .admit_hook = evict_manager_admit,
                                   .admit_ctx = a->eviction};
    struct agent_pods *pods = NULL;
    if ((r = agent_pods_start(&pc, &pods)) < 0)
        goto fail;
    __atomic_store_n(&a->pods, pods, __ATOMIC_RELEASE);
    if ((r = evict_manager_start(a->eviction, pods)) < 0)
        goto fail;

    if (strcmp(a->cfg.proxy_mode, "nftables") == 0) {
        struct agent_proxy_config prc = {
            .client = a->client,
            .cluster_cidr = a->cfg.cluster_cidr[0] ? a->cfg.cluster_cidr : "10.42.0.0/16",
            .state_dir = a->cfg.root_dir};
        if ((r = agent_proxy_start(&prc, &a->proxy)) < 0) {
            r = kos_error_set(err, 500, "InternalError", "starting the Service proxy failed: %s",
                              strerror(-r));
            goto fail;
        }
    }
    if ((r = -pthread_create(&a->node_thread, NULL, node_loop, a)) < 0)
        goto fail;
    a->node_thread_started = true;

    char cpu[32], mem[48];
    agent_format_milli_cpu(a->allocatable.milli_cpu, cpu, sizeof(cpu));
    agent_format_bytes(a->allocatable.memory, mem, sizeof(mem));
    log_info("agent", "node %s: %s cgroups under %s, runtime %s, allocatable cpu %s memory %s",
             cfg->node_name, cg_mode_name(host.mode), cfg->cgroup_root, a->runtime_version, cpu,
             mem);
    *ret = a;
    return 0;
fail:
    kos_agent_stop(a);
    return r;
}

void kos_agent_stop(struct kos_agent *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    if (a->node_thread_started)
        pthread_join(a->node_thread, NULL);
    /* before the pods: it may be waiting for one to be torn down */
    evict_manager_free(a->eviction);
    a->eviction = NULL;
    /* no sync after this; the runtime's threads may still requeue until it is freed */
    agent_pods_shutdown(a->pods);
    if (a->runtime && a->runtime->free)
        a->runtime->free(a->runtime_ctx);
    agent_pods_stop(a->pods);
    agent_proxy_stop(a->proxy);
    kos_podnet_free(a->network);
    kos_client_free(a->network_client);
    kos_client_free(a->client);
    free(a->ca_pem);
    cg_manager_free(a->cgroups);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

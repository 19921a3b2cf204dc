/* Agent flags: one table and one parser for `kos agent` and `kos server`. */
#include "agent/flags.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/cgroups/cgroups.h"
#include "agent/node/machine.h"
#include "util/strutil.h"

enum {
    O_NODE_NAME = AGENT_OPT_BASE,
    O_MAX_PODS,
    O_KUBE_RESERVED,
    O_SYSTEM_RESERVED,
    O_EVICTION_HARD,
    O_CGROUP_ROOT,
    O_RUNTIME,
    O_ROOT_DIR,
    O_POD_LOG_DIR,
    O_NODE_IP,
    O_EVICTION_SOFT,
    O_EVICTION_SOFT_GRACE,
    O_EVICTION_MIN_RECLAIM,
    O_EVICTION_MAX_POD_GRACE,
    O_EVICTION_TRANSITION,
    O_HOUSEKEEPING,
    O_EVICTION_RANKING,
    O_NETWORK_PLUGIN,
    O_BRIDGE_NAME,
    O_PROXY_MODE,
};

const struct option agent_flag_options[AGENT_OPT_COUNT] = {
    {"node-name", required_argument, NULL, O_NODE_NAME},
    {"max-pods", required_argument, NULL, O_MAX_PODS},
    {"kube-reserved", required_argument, NULL, O_KUBE_RESERVED},
    {"system-reserved", required_argument, NULL, O_SYSTEM_RESERVED},
    {"eviction-hard", required_argument, NULL, O_EVICTION_HARD},
    {"cgroup-root", required_argument, NULL, O_CGROUP_ROOT},
    {"container-runtime", required_argument, NULL, O_RUNTIME},
    {"root-dir", required_argument, NULL, O_ROOT_DIR},
    {"pod-log-dir", required_argument, NULL, O_POD_LOG_DIR},
    {"node-ip", required_argument, NULL, O_NODE_IP},
    {"eviction-soft", required_argument, NULL, O_EVICTION_SOFT},
    {"eviction-soft-grace-period", required_argument, NULL, O_EVICTION_SOFT_GRACE},
    {"eviction-minimum-reclaim", required_argument, NULL, O_EVICTION_MIN_RECLAIM},
    {"eviction-max-pod-grace-period", required_argument, NULL, O_EVICTION_MAX_POD_GRACE},
    {"eviction-pressure-transition-period", required_argument, NULL, O_EVICTION_TRANSITION},
    {"housekeeping-interval", required_argument, NULL, O_HOUSEKEEPING},
    {"eviction-ranking", required_argument, NULL, O_EVICTION_RANKING},
    {"network-plugin", required_argument, NULL, O_NETWORK_PLUGIN},
    {"bridge-name", required_argument, NULL, O_BRIDGE_NAME}, /* hidden: tests */
    {"proxy-mode", required_argument, NULL, O_PROXY_MODE},
};

bool agent_flags_take(struct agent_flags *f, int opt, const char *arg)
{
    const char **slot[] = {&f->node_name,
                           &f->max_pods,
                           &f->kube_reserved,
                           &f->system_reserved,
                           &f->eviction_hard,
                           &f->cgroup_root,
                           &f->container_runtime,
                           &f->root_dir,
                           &f->pod_log_dir,
                           &f->node_ip,
                           &f->eviction.soft,
                           &f->eviction.soft_grace,
                           &f->eviction.min_reclaim,
                           &f->eviction.max_pod_grace,
                           &f->eviction.transition,
                           &f->eviction.housekeeping,
                           &f->eviction.ranking,
                           &f->network_plugin,
                           &f->bridge_name,
                           &f->proxy_mode};
    if (opt < AGENT_OPT_BASE || opt >= AGENT_OPT_BASE + AGENT_OPT_COUNT)
        return false;
    *slot[opt - AGENT_OPT_BASE] = arg;
    return true;
}

void agent_flags_usage(FILE *out)
{
    fputs("Node agent flags:\n"
          "      --node-name NAME               the Node's name (default: the hostname)\n"
          "      --node-ip IP                   the Node's InternalIP (default: the address of "
          "the default route)\n"
          "      --max-pods N                   pods this node runs at most (default 110)\n"
          "      --kube-reserved LIST           reserved for kos, e.g. cpu=100m,memory=100Mi,"
          "ephemeral-storage=1Gi,pid=1000\n"
          "      --system-reserved LIST         reserved for the OS (same syntax)\n"
          "      --eviction-hard LIST           hard eviction thresholds (default "
          "memory.available<100Mi,nodefs.available<10%,nodefs.inodesFree<5%,"
          "imagefs.available<15%)\n"
          "      --cgroup-root PATH             cgroup under which kubepods is made (default "
          "/)\n"
          "      --container-runtime NAME       runc or crun (default: crun on a unified "
          "cgroup v2 host, runc otherwise)\n"
          "      --root-dir DIR                 agent state (default DATA/agent embedded, "
          "/var/lib/kos/agent standalone)\n"
          "      --pod-log-dir DIR              container logs (default /var/log/pods)\n"
          "      --eviction-soft LIST           soft eviction thresholds (e.g. "
          "memory.available<1.5Gi)\n"
          "      --eviction-soft-grace-period LIST  grace per soft threshold (e.g. "
          "memory.available=1m30s)\n"
          "      --eviction-minimum-reclaim LIST    reclaim past a threshold (e.g. "
          "nodefs.available=500Mi)\n"
          "      --eviction-max-pod-grace-period S  grace of a soft eviction at most (default "
          "0)\n"
          "      --eviction-pressure-transition-period D  a pressure condition stays this long "
          "(default 5m0s)\n"
          "      --housekeeping-interval D      how often eviction signals are read (default "
          "10s)\n"
          "      --eviction-ranking MODE        default (requests, priority, usage) or legacy "
          "(QoS class first, as kubelets before 1.9)\n"
          "      --network-plugin NAME          kubenet: each pod in its own network namespace on\n"
          "                                     the node's bridge with an address from the Node's\n"
          "                                     podCIDR (default); none: pods share the node's\n"
          "                                     network\n"
          "      --proxy-mode MODE              the Service proxy: nftables (a table kos-proxy)\n"
          "                                     or none (default nftables)\n",
          out);
}

/* RFC 1123 subdomain, as a Node name must be. */
static bool valid_node_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '.'))
            return false;
    }
    return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static bool on_path(const char *bin)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char p[1024];
        if (n > 0 && n < 900) {
            snprintf(p, sizeof(p), "%.*s/%s", (int)n, path, bin);
            struct stat st;
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
                return true;
        }
        path += n;
        if (*path == ':')
            path++;
    }
    return false;
}

static int copy_flag(const char *flag, const char *v, char *out, size_t size,
                     struct kos_error **err)
{
    if (strlen(v) >= size)
        return kos_error_set(err, 400, "BadRequest", "%s: value too long", flag);
    kos_strlcpy(out, v, size);
    return 0;
}

int agent_flags_resolve(const struct agent_flags *f, const char *default_root_dir,
                        struct agent_config *ret, struct kos_error **err)
{
    struct agent_config c = {.max_pods = 110};
    int r;
    if (f->node_name) {
        if ((r = copy_flag("--node-name", f->node_name, c.node_name, sizeof(c.node_name), err)) < 0)
            return r;
    } else {
        struct agent_machine m;
        if (agent_machine_read("/", &m) == 0)
            kos_strlcpy(c.node_name, m.hostname, sizeof(c.node_name));
    }
    if (!valid_node_name(c.node_name))
        return kos_error_set(err, 400, "BadRequest",
                             "--node-name: \"%s\" is not a valid node name: a lowercase RFC 1123 "
                             "subdomain must consist of lower case alphanumeric characters, '-' "
                             "or '.', and must start and end with an alphanumeric character",
                             c.node_name);
    if (f->max_pods) {
        if (kos_parse_int64(f->max_pods, &c.max_pods) < 0 || c.max_pods < 1 || c.max_pods > 1000000)
            return kos_error_set(err, 400, "BadRequest",
                                 "invalid value \"%s\" for --max-pods (want 1..1000000)",
                                 f->max_pods);
    }
    if ((r = agent_parse_reserved("--kube-reserved", f->kube_reserved, &c.kube_reserved, err)) <
            0 ||
        (r = agent_parse_reserved("--system-reserved", f->system_reserved, &c.system_reserved,
                                  err)) < 0 ||
        (r = agent_parse_eviction("--eviction-hard",
                                  f->eviction_hard ? f->eviction_hard : AGENT_EVICTION_HARD_DEFAULT,
                                  &c.eviction_hard, err)) < 0)
        return r;
    struct evict_flags ef = f->eviction;
    ef.hard = f->eviction_hard;
    if ((r = evict_config_parse(&ef, &c.eviction, err)) < 0)
        return r;
    const char *root = f->cgroup_root ? f->cgroup_root : "/";
    if (root[0] != '/' || strstr(root, "/../") || strstr(root, "/./") ||
        kos_str_has_suffix(root, "/..") || kos_str_has_suffix(root, "/."))
        return kos_error_set(err, 400, "BadRequest",
                             "--cgroup-root: \"%s\" must be an absolute cgroup path", root);
    if ((r = copy_flag("--cgroup-root", root, c.cgroup_root, sizeof(c.cgroup_root), err)) < 0)
        return r;
    if (f->container_runtime) {
        if (strcmp(f->container_runtime, "runc") != 0 && strcmp(f->container_runtime, "crun") != 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "--container-runtime: \"%s\" is not supported (runc or crun)",
                                 f->container_runtime);
        kos_strlcpy(c.container_runtime, f->container_runtime, sizeof(c.container_runtime));
    } else {
        /* crun cannot drive v1 controllers on a v1 or hybrid host; runc can drive both */
        struct cg_host host;
        bool unified = cg_host_detect(&host) == 0 && host.mode == CG_MODE_UNIFIED;
        kos_strlcpy(c.container_runtime, unified && on_path("crun") ? "crun" : "runc",
                    sizeof(c.container_runtime));
    }
    const char *rd = f->root_dir ? f->root_dir : default_root_dir;
    if (!rd || rd[0] != '/')
        return kos_error_set(err, 400, "BadRequest", "--root-dir: \"%s\" must be absolute",
                             rd ? rd : "");
    if ((r = copy_flag("--root-dir", rd, c.root_dir, sizeof(c.root_dir), err)) < 0)
        return r;
    const char *ld = f->pod_log_dir ? f->pod_log_dir : "/var/log/pods";
    if (ld[0] != '/')
        return kos_error_set(err, 400, "BadRequest", "--pod-log-dir: \"%s\" must be absolute", ld);
    if ((r = copy_flag("--pod-log-dir", ld, c.pod_log_dir, sizeof(c.pod_log_dir), err)) < 0)
        return r;
    if (f->node_ip) {
        unsigned char addr[16];
        if (inet_pton(AF_INET, f->node_ip, addr) != 1 && inet_pton(AF_INET6, f->node_ip, addr) != 1)
            return kos_error_set(err, 400, "BadRequest",
                                 "--node-ip: \"%s\" is not a valid IP address", f->node_ip);
        if ((r = copy_flag("--node-ip", f->node_ip, c.node_ip, sizeof(c.node_ip), err)) < 0)
            return r;
    }
    const char *np = f->network_plugin ? f->network_plugin : "kubenet";
    if (strcmp(np, "kubenet") != 0 && strcmp(np, "none") != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "--network-plugin: \"%s\" is not supported (kubenet or none)", np);
    c.pod_network = strcmp(np, "kubenet") == 0;
    const char *br = f->bridge_name ? f->bridge_name : "kos0";
    if (!*br || strlen(br) >= 16 || strchr(br, '/') || strchr(br, ' ') || !strcmp(br, ".") ||
        !strcmp(br, ".."))
        return kos_error_set(err, 400, "BadRequest",
                             "--bridge-name: \"%s\" is not a valid interface name", br);
    kos_strlcpy(c.bridge_name, br, sizeof(c.bridge_name));
    const char *pm = f->proxy_mode ? f->proxy_mode : "nftables";
    if (strcmp(pm, "nftables") != 0 && strcmp(pm, "none") != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "--proxy-mode: \"%s\" is not supported (nftables or none)", pm);
    kos_strlcpy(c.proxy_mode, pm, sizeof(c.proxy_mode));
    *ret = c;
    return 0;
}

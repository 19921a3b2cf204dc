/* `kos server`: the control plane process (API server today; scheduler, controllers and the
 * node agent join it as they land). Flags follow kube-apiserver's names. */
#include "cmd/commands.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/flags.h"
#include "agent/streaming/streaming.h"
#include "apiserver/apiserver.h"
#include "apiserver/authorization.h"
#include "apiserver/authz/chain.h"
#include "apiserver/http.h"
#include "apiserver/local_client.h"
#include "apiserver/services/service_alloc.h"
#include "apiserver/services/service_registry.h"
#include "auth/authn.h"
#include "cmd/server_keystone.h"
#include "auth/token_file.h"
#include "cmd/server_webhook.h"
#include "client/client.h"
#include "controllers/cidr_set.h"
#include "controllers/controllers.h"
#include "pki/pki.h"
#include "scheduler/scheduler.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/signals.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strutil.h"

struct server_flags {
    const char *data_dir;
    const char *bind_address;
    int64_t port;
    bool disable_agent;
    bool disable_scheduler;
    bool disable_controller_manager;
    int64_t compaction_interval_s;
    int64_t compaction_retain;
    int64_t watch_cache_events;
    const char *authorization_mode;
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *client_ca_file;
    const char *token_auth_file;
    bool anonymous_auth;
    struct keystone_inprocess_options keystone; /* --keystone-* */
    char *tls_sans[PKI_MAX_SANS];               /* --tls-san, split at commas, owned */
    size_t ntls_sans;
    struct server_webhook_flags webhook;
    struct agent_flags agent;
    /* node IPAM (kube-controller-manager's flags, k3s's defaults) */
    bool allocate_node_cidrs;
    struct kos_cidr cluster_cidr;
    int64_t node_cidr_mask_size;
    const char *service_cidr;       /* --service-cluster-ip-range */
    const char *service_node_ports; /* --service-node-port-range */
    const char *advertise_address;  /* --advertise-address */
};

static void server_flags_clear(struct server_flags *f)
{
    for (size_t i = 0; i < f->ntls_sans; i++)
        free(f->tls_sans[i]);
    f->ntls_sans = 0;
    server_webhook_flags_clear(&f->webhook);
}

static void server_flags_clearp(struct server_flags *f)
{
    server_flags_clear(f);
}

/* --tls-san is repeatable and each value may be a comma-separated list (kube's StringSlice). */
static int add_tls_sans(struct server_flags *f, const char *value)
{
    const char *p = value;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n > 0) {
            if (f->ntls_sans >= PKI_MAX_SANS - 3) {
                fprintf(stderr, "kos server: too many --tls-san values (at most %d)\n",
                        PKI_MAX_SANS - 3);
                return -E2BIG;
            }
            char *san = kos_strndup(p, n);
            if (!san)
                return -ENOMEM;
            f->tls_sans[f->ntls_sans++] = san;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

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
          "      --secure-port PORT             port to serve HTTPS on (default 6443; 0 picks a "
          "free one)\n"
          "      --tls-san NAME[,NAME...]       extra IP address or DNS name for the generated\n"
          "                                     serving certificate (repeatable)\n"
          "      --tls-cert-file FILE           serve this certificate (leaf, then intermediates)\n"
          "                                     instead of DATA_DIR/tls/server.crt\n"
          "      --tls-private-key-file FILE    its private key\n"
          "      --client-ca-file FILE          also trust these CAs for client certificates\n"
          "      --token-auth-file FILE         static bearer tokens, CSV: token,user,uid,groups\n"
          "      --anonymous-auth[=BOOL]        treat requests without credentials as\n"
          "                                     system:anonymous (default false)\n"
          "      --service-cluster-ip-range CIDR  Service cluster IPs (default 10.43.0.0/16)\n"
          "      --service-node-port-range LO-HI  Service node ports (default 30000-32767)\n"
          "      --advertise-address IP         the address the kubernetes Service's endpoints\n"
          "                                     name (default: the bind address, else the host's\n"
          "                                     first non-loopback IPv4 address)\n"
          "      --disable-agent                do not run the node agent in this process\n"
          "      --disable-scheduler            do not run the scheduler in this process\n"
          "      --disable-controller-manager   do not run the controllers in this process (as\n"
          "                                     k3s's flag: another process runs them)\n"
          "      --compaction-interval SECONDS  how often old revisions are compacted "
          "(default 300, 0 = never)\n"
          "      --compaction-retain N          revisions kept by compaction (default 10000)\n"
          "      --watch-cache-size N           events kept in memory for watches (default "
          "10000)\n"
          "      --authorization-mode MODES     ordered authorizers: Node, RBAC, Webhook, "
          "AlwaysAllow,\n"
          "                                     AlwaysDeny (default Node,RBAC)\n"
          "      --cluster-cidr CIDR            the pods' addresses; each Node gets a subnet of "
          "it\n"
          "                                     in spec.podCIDR (default 10.42.0.0/16)\n"
          "      --node-cidr-mask-size N        prefix length of a Node's subnet (default 24)\n"
          "      --allocate-node-cidrs[=BOOL]   give Nodes their podCIDR (default true)\n"
          "  -v, --v LEVEL                      log verbosity (0-4)\n"
          "  -h, --help                         show this help\n"
          "\n",
          out);
    server_webhook_usage(out);
    server_keystone_usage(out);
    agent_flags_usage(out);
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
    enum {
        F_DATA = 256,
        F_BIND,
        F_PORT,
        F_NOAGENT,
        F_NOSCHED,
        F_NOCONTROLLERS,
        F_COMPACT,
        F_RETAIN,
        F_WATCH,
        F_AUTHZ_MODE,
        F_TLS_SAN,
        F_TLS_CERT,
        F_TLS_KEY,
        F_CLIENT_CA,
        F_TOKEN_FILE,
        F_ANONYMOUS,
        F_CLUSTER_CIDR,
        F_NODE_MASK,
        F_ALLOCATE_CIDRS,
        F_SVC_CIDR,
        F_SVC_PORTS,
        F_ADVERTISE,
    };
    static const struct option server_opts[] = {
        {"data-dir", required_argument, NULL, F_DATA},
        {"bind-address", required_argument, NULL, F_BIND},
        {"secure-port", required_argument, NULL, F_PORT},
        {"disable-agent", no_argument, NULL, F_NOAGENT},
        {"disable-scheduler", no_argument, NULL, F_NOSCHED},
        {"disable-controller-manager", no_argument, NULL, F_NOCONTROLLERS},
        {"compaction-interval", required_argument, NULL, F_COMPACT},
        {"compaction-retain", required_argument, NULL, F_RETAIN},
        {"watch-cache-size", required_argument, NULL, F_WATCH},
        {"authorization-mode", required_argument, NULL, F_AUTHZ_MODE},
        {"tls-san", required_argument, NULL, F_TLS_SAN},
        {"tls-cert-file", required_argument, NULL, F_TLS_CERT},
        {"tls-private-key-file", required_argument, NULL, F_TLS_KEY},
        {"client-ca-file", required_argument, NULL, F_CLIENT_CA},
        {"token-auth-file", required_argument, NULL, F_TOKEN_FILE},
        {"anonymous-auth", optional_argument, NULL, F_ANONYMOUS},
        {"cluster-cidr", required_argument, NULL, F_CLUSTER_CIDR},
        {"node-cidr-mask-size", required_argument, NULL, F_NODE_MASK},
        {"allocate-node-cidrs", optional_argument, NULL, F_ALLOCATE_CIDRS},
        {"service-cluster-ip-range", required_argument, NULL, F_SVC_CIDR},
        {"service-node-port-range", required_argument, NULL, F_SVC_PORTS},
        {"advertise-address", required_argument, NULL, F_ADVERTISE},
        SERVER_WEBHOOK_OPTIONS,
        {"v", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        SERVER_KEYSTONE_OPTIONS,
    };
    /* the server's own flags, then every agent flag for the embedded agent */
    struct option opts[ARRAY_SIZE(server_opts) + AGENT_OPT_COUNT + 1];
    memcpy(opts, server_opts, sizeof(server_opts));
    memcpy(opts + ARRAY_SIZE(server_opts), agent_flag_options, sizeof(agent_flag_options));
    opts[ARRAY_SIZE(opts) - 1] = (struct option){NULL, 0, NULL, 0};
    *f = (struct server_flags){.data_dir = "/var/lib/kos",
                               .bind_address = "0.0.0.0",
                               .port = 6443,
                               .compaction_interval_s = 300,
                               .compaction_retain = 10000,
                               .watch_cache_events = 10000,
                               .authorization_mode = APISERVER_DEFAULT_AUTHZ_MODES,
                               .allocate_node_cidrs = true,
                               .cluster_cidr = {.addr = 0x0a2a0000u, .prefix = 16},
                               .node_cidr_mask_size = 24,
                               .service_cidr = KOS_DEFAULT_SERVICE_CIDR,
                               .service_node_ports = KOS_DEFAULT_SERVICE_NODE_PORTS};
    server_webhook_flags_init(&f->webhook);
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "hv:", opts, NULL);
        if (c == -1)
            break;
        int64_t level;
        if (agent_flags_take(&f->agent, c, optarg))
            continue;
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
        case F_NOCONTROLLERS:
            f->disable_controller_manager = true;
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
        case F_AUTHZ_MODE:
            f->authorization_mode = optarg;
            break;
        case F_TLS_SAN:
            if (add_tls_sans(f, optarg) < 0)
                return -EINVAL;
            break;
        case F_TLS_CERT:
            f->tls_cert_file = optarg;
            break;
        case F_TLS_KEY:
            f->tls_key_file = optarg;
            break;
        case F_CLIENT_CA:
            f->client_ca_file = optarg;
            break;
        case F_SVC_CIDR:
            f->service_cidr = optarg;
            break;
        case F_SVC_PORTS:
            f->service_node_ports = optarg;
            break;
        case F_ADVERTISE:
            f->advertise_address = optarg;
            break;
        case F_TOKEN_FILE:
            f->token_auth_file = optarg;
            break;
        case F_ANONYMOUS:
            if (!optarg) {
                f->anonymous_auth = true;
            } else if (kos_parse_bool(optarg, &f->anonymous_auth) < 0) {
                fprintf(stderr,
                        "kos server: invalid argument \"%s\" for \"--anonymous-auth\" flag: "
                        "strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                        optarg, optarg);
                return -EINVAL;
            }
            break;
        case F_CLUSTER_CIDR:
            if (kos_cidr_parse(optarg, false, &f->cluster_cidr) < 0) {
                fprintf(stderr, "kos server: --cluster-cidr: invalid CIDR address: %s\n", optarg);
                return -EINVAL;
            }
            break;
        case F_NODE_MASK:
            if (parse_number("--node-cidr-mask-size", optarg, 1, 30, &f->node_cidr_mask_size) < 0)
                return -EINVAL;
            break;
        case F_ALLOCATE_CIDRS:
            if (!optarg) {
                f->allocate_node_cidrs = true;
            } else if (kos_parse_bool(optarg, &f->allocate_node_cidrs) < 0) {
                fprintf(stderr,
                        "kos server: invalid argument \"%s\" for \"--allocate-node-cidrs\" "
                        "flag: strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                        optarg, optarg);
                return -EINVAL;
            }
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
            if (server_keystone_is_opt(c)) { /* before the webhook's open-ended range */
                server_keystone_flag(&f->keystone, c, optarg);
                break;
            }
            if (c >= SERVER_WEBHOOK_OPT_BASE) {
                if (server_webhook_flag(&f->webhook, c, optarg) < 0)
                    return -EINVAL;
                break;
            }
            fprintf(stderr, "kos server: unknown flag: %s\n", argv[optind - 1]);
            fprintf(stderr, "Run 'kos server --help' for usage.\n");
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kos server: unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    /* kube-controller-manager's checks of the node CIDR size against the cluster CIDR */
    if (f->allocate_node_cidrs && f->node_cidr_mask_size < f->cluster_cidr.prefix) {
        fprintf(stderr,
                "kos server: --node-cidr-mask-size %lld is smaller than the mask of "
                "--cluster-cidr (/%d)\n",
                (long long)f->node_cidr_mask_size, f->cluster_cidr.prefix);
        return -EINVAL;
    }
    if (f->allocate_node_cidrs &&
        f->node_cidr_mask_size - f->cluster_cidr.prefix > KOS_CIDR_SET_MAX_BITS) {
        fprintf(stderr, "kos server: New CIDR set failed; the node CIDR size is too big\n");
        return -EINVAL;
    }
    return 0;
}

/* The address clients of this process dial: the bind address, or loopback when it binds every
 * address (the serving certificate always names 127.0.0.1). IPv6 literals get brackets. */
static void client_host(const char *bind, char *out, size_t size)
{
    if (strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0 || strcmp(bind, "[::]") == 0)
        snprintf(out, size, "127.0.0.1");
    else if (strchr(bind, ':') && bind[0] != '[')
        snprintf(out, size, "[%s]", bind);
    else
        snprintf(out, size, "%s", bind);
}

/* The address the kubernetes Service's endpoints name, as kube-apiserver picks its advertise
 * address: the flag, else the bind address, else the host's first non-loopback IPv4. */
static void advertise_ip(const struct server_flags *f, char *out, size_t size)
{
    snprintf(out, size, "127.0.0.1");
    if (f->advertise_address) {
        snprintf(out, size, "%s", f->advertise_address);
        return;
    }
    if (strcmp(f->bind_address, "0.0.0.0") != 0 && strcmp(f->bind_address, "::") != 0) {
        snprintf(out, size, "%s", f->bind_address);
        return;
    }
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) < 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK))
            continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)size))
            break;
    }
    freeifaddrs(ifs);
}

/* The in-process controllers and scheduler authenticate as kube's components do, with
 * client certificates from the cluster CA (issued per start, kept in memory only). */
static int component_client(const struct pki_material *m, const char *url, const char *user,
                            const char *const *groups, size_t ngroups, const char *user_agent,
                            struct pki_keypair *kp, struct kos_client_config *ret)
{
    const struct pki_keypair ca = {.cert_pem = m->ca_cert_pem, .key_pem = m->ca_key_pem};
    const struct pki_cert_spec spec = {.kind = PKI_CERT_CLIENT,
                                       .common_name = user,
                                       .organizations = groups,
                                       .norganizations = ngroups};
    _cleanup_error_ struct kos_error *err = NULL;
    int r = pki_issue(&spec, &ca, kp, &err);
    if (r < 0) {
        log_error("server", "issuing the client certificate for %s failed: %s", user,
                  err ? err->message : strerror(-r));
        return r;
    }
    /* A user-provided serving certificate is not from our CA: trust exactly what is served
     * (libcurl accepts a non-self-signed anchor). */
    *ret = (struct kos_client_config){
        .server = url,
        .ca_pem = m->serving_user_provided ? m->serving_cert_pem : m->ca_cert_pem,
        .cert_pem = kp->cert_pem,
        .key_pem = kp->key_pem,
        .user_agent = user_agent,
    };
    return 0;
}

static int use_local_requests(struct apiserver *api, const struct pki_material *m,
                              struct kos_client_config *c, struct apiserver_local **ret)
{
    _cleanup_error_ struct kos_error *err = NULL;
    int r = apiserver_local_new(api, m->ca_cert_pem, c->cert_pem, ret, &err);
    if (r < 0) {
        log_error("server", "the in-process transport for %s: %s", c->user_agent,
                  err ? err->message : strerror(-r));
        return r;
    }
    c->local_request = apiserver_local_request;
    c->local_request_ctx = *ret;
    return 0;
}

/* The components whose requests run in process (see use_local_requests). */
#define IN_PROCESS_CLIENTS 9

static void locals_free(struct apiserver_local *(*l)[IN_PROCESS_CLIENTS])
{
    for (size_t i = 0; i < IN_PROCESS_CLIENTS; i++)
        apiserver_local_free((*l)[i]);
}

/* The embedded agent's client: a node certificate (CN system:node:<name>, O system:nodes) as
 * the Node authorizer expects of a kubelet. */
static int make_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* The authenticator chain: client certificates (always), --token-auth-file, then the other
 * token authenticators (webhook, service accounts, Keystone) as they register here. A token
 * file that does not parse stops the start, as in kube-apiserver. */
static int build_authn(const struct server_flags *f, struct keystone_inprocess *ks,
                       struct kos_authn **ret)
{
    const struct kos_authn_options ao = {.anonymous = f->anonymous_auth};
    struct kos_authn *a = NULL;
    if (kos_authn_new(&ao, &a) < 0) {
        fprintf(stderr, "kos server: out of memory\n");
        return -ENOMEM;
    }
    if (f->token_auth_file) {
        _cleanup_error_ struct kos_error *err = NULL;
        struct kos_token_file *tf = NULL;
        int r = kos_token_file_load(f->token_auth_file, &tf, &err);
        if (r < 0) {
            fprintf(stderr, "kos server: --token-auth-file: %s\n",
                    err ? err->message : strerror(-r));
            kos_authn_free(a);
            return r;
        }
        struct kos_token_authenticator ta;
        kos_token_file_authenticator(tf, &ta);
        r = kos_authn_add_token_authenticator(a, &ta);
        if (r < 0) {
            kos_authn_free(a);
            return r;
        }
    }
    /* registered after the service-account authenticator (cmd_server): a Keystone that is
     * down must not turn away tokens that are checked locally */
    int r = server_keystone_setup(&f->keystone, ks);
    if (r < 0) {
        kos_authn_free(a);
        return r;
    }
    *ret = a;
    return 0;
}

/* glibc gives each thread that meets a locked arena a new one, up to 8 per CPU: the request
 * threads of a burst of writes each leave an arena of freed, unreturned pages behind (with
 * 10,000 pods created, ~35 MB more than the same store after a restart). Two per CPU keep
 * contention low and that memory small. MALLOC_ARENA_MAX in the environment still decides.
 * The Makefile links jemalloc (configured in main.c), where this call does nothing; it is kept
 * for a build against glibc's malloc. */
static void limit_malloc_arenas(void)
{
    if (getenv("MALLOC_ARENA_MAX"))
        return;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    mallopt(M_ARENA_MAX, cpus > 0 && cpus < 64 ? (int)(2 * cpus) : 8);
}

int cmd_server(int argc, char **argv)
{
    limit_malloc_arenas();
    _cleanup_(server_flags_clearp) struct server_flags f = {0};
    int r = parse_flags(argc, argv, &f);
    if (r != 0)
        return r > 0 ? 0 : 2;

    if (make_dir(f.data_dir) < 0) {
        fprintf(stderr, "kos server: cannot create data dir %s: %s\n", f.data_dir, strerror(errno));
        return 1;
    }
    /* Agent flags are checked before anything is served; its state lives in DATA/agent. */
    struct agent_config agent_cfg;
    if (!f.disable_agent) {
        char abs_data[PATH_MAX], root_dir[PATH_MAX + 16];
        if (!realpath(f.data_dir, abs_data)) {
            fprintf(stderr, "kos server: data dir %s: %s\n", f.data_dir, strerror(errno));
            return 1;
        }
        snprintf(root_dir, sizeof(root_dir), "%s/agent", abs_data);
        struct kos_error *aerr = NULL;
        if (agent_flags_resolve(&f.agent, root_dir, &agent_cfg, &aerr) < 0) {
            fprintf(stderr, "kos server: %s\n",
                    aerr && aerr->message ? aerr->message : "bad flags");
            kos_error_free(aerr);
            return 2;
        }
        /* the Service proxy masquerades what comes from outside the pods' range */
        kos_cidr_format(&f.cluster_cidr, agent_cfg.cluster_cidr, sizeof(agent_cfg.cluster_cidr));
    }
    char tls_dir[4096];
    snprintf(tls_dir, sizeof(tls_dir), "%s/tls", f.data_dir);
    const struct pki_options po = {
        .dir = tls_dir,
        .extra_sans = (const char *const *)f.tls_sans,
        .nextra_sans = f.ntls_sans,
        .tls_cert_file = f.tls_cert_file,
        .tls_key_file = f.tls_key_file,
        .client_ca_file = f.client_ca_file,
    };
    _cleanup_(pki_material_clear) struct pki_material pki = {0};
    _cleanup_error_ struct kos_error *perr = NULL;
    r = pki_ensure(&po, &pki, &perr);
    if (r < 0) {
        fprintf(stderr, "kos server: %s\n", perr ? perr->message : strerror(-r));
        return 1;
    }

    /* kube-apiserver's --kubelet-client-certificate: how it reaches other nodes' kubelet
     * endpoints (apiserver/kubelet_proxy.h); issued per start, kept in memory */
    _cleanup_(pki_keypair_clear) struct pki_keypair kubelet_kp = {0};
    {
        static const char *const masters[] = {PKI_ADMIN_GROUP};
        const struct pki_keypair ca = {.cert_pem = pki.ca_cert_pem, .key_pem = pki.ca_key_pem};
        const struct pki_cert_spec spec = {.kind = PKI_CERT_CLIENT,
                                           .common_name = PKI_KUBELET_CLIENT_USER,
                                           .organizations = masters,
                                           .norganizations = 1};
        if (pki_issue(&spec, &ca, &kubelet_kp, &perr) < 0) {
            fprintf(stderr, "kos server: the kubelet client certificate: %s\n",
                    perr ? perr->message : "error");
            return 1;
        }
    }

    struct kos_authn *authn = NULL;
    _cleanup_(keystone_inprocess_free_policy) struct keystone_inprocess keystone = {0};
    if (build_authn(&f, &keystone, &authn) < 0)
        return 1;

    /* Signals are taken by sigwait in this thread only; every thread inherits the mask. */
    sigset_t sigs;
    kos_signals_block_stop(&sigs);

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
        kos_authn_free(authn);
        return 1;
    }

    char address[96];
    struct apiserver api;
    r = apiserver_init(&api, store, "");
    if (r < 0) {
        log_error("server", "initialising the API server failed: %s", strerror(-r));
        kos_authn_free(authn);
        store_close(store);
        return 1;
    }
    api.kubelet_client_cert_pem = kubelet_kp.cert_pem;
    api.kubelet_client_key_pem = kubelet_kp.key_pem;
    /* pods of the embedded agent's node are served in process, all others by their kubelet */
    if (!f.disable_agent)
        api.streaming_node = agent_cfg.node_name;
    struct kos_error *serr = NULL;
    r = apiserver_services_setup(&api, f.service_cidr, f.service_node_ports, &serr);
    if (r < 0) {
        fprintf(stderr, "kos server: %s\n", serr && serr->message ? serr->message : strerror(-r));
        kos_error_free(serr);
        kos_authn_free(authn);
        apiserver_done(&api);
        store_close(store);
        return 2;
    }
    /* service-account tokens, then the TokenReview webhook, after the token file (kube's
     * order); webhook outlives api.authn, which holds its service-account authenticator */
    _cleanup_(server_webhook_done) struct server_webhook webhook = {0};
    struct authz_modes modes;
    char authz_err[512];
    r = authz_modes_parse(f.authorization_mode, &modes, authz_err, sizeof(authz_err));
    if (r < 0)
        fprintf(stderr, "kos server: %s\n", authz_err);
    else
        r = server_webhook_setup(&f.webhook, tls_dir, authz_modes_has(&modes, AUTHZ_MODE_WEBHOOK),
                                 apiserver_sa_lookup, &api, &webhook);
    if (r == 0)
        r = server_webhook_register(&webhook, authn);
    if (r == 0 && keystone.authenticator.authenticate) {
        r = kos_authn_add_token_authenticator(authn, &keystone.authenticator);
        keystone.authenticator = (struct kos_token_authenticator){0}; /* the chain's now */
    }
    if (r < 0) {
        kos_authn_free(authn);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    api.sa = webhook.sa;
    api.authn = authn; /* owned by api from here on */
    struct authz_authorizer webhook_authorizer;
    if (webhook.authz)
        webhook_authorizer = authz_webhook_as_authorizer(webhook.authz);
    r = apiserver_authz_start(&api, f.authorization_mode,
                              webhook.authz ? &webhook_authorizer : NULL, authz_err,
                              sizeof(authz_err));
    /* The in-process Keystone policy decides after the configured modes, where
     * k8s-keystone-auth's webhook sits in a kube-apiserver chain (Node,RBAC,Webhook). */
    if (r == 0 && keystone.has_authorizer &&
        apiserver_authz_append(&api, keystone.authorizer) < 0) {
        snprintf(authz_err, sizeof(authz_err), "too many authorizers for the Keystone policy");
        r = -E2BIG;
    }
    if (r < 0) {
        fprintf(stderr, "kos server: %s\n", authz_err);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    struct http_server_options ho = {.bind_address = f.bind_address,
                                     .port = (uint16_t)f.port,
                                     .handler = apiserver_handle,
                                     .handler_ctx = &api,
                                     .tls_cert_pem = pki.serving_cert_pem,
                                     .tls_key_pem = pki.serving_key_pem,
                                     .client_ca_pem = pki.client_ca_pem};
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
    /* pods/log reads the embedded agent's log files (agent_cfg lives as long as api) */
    if (!f.disable_agent)
        api.pod_log_dir = agent_cfg.pod_log_dir;
    /* exec, attach and port-forward reach the embedded agent in process */
    struct kos_agent_streaming *streaming = NULL;
    struct kos_stream_backend streaming_backend;
    if (!f.disable_agent && kos_agent_streaming_new(&agent_cfg, &streaming) == 0) {
        kos_agent_streaming_backend(streaming, &streaming_backend);
        api.streaming = &streaming_backend;
    }

    /* The controllers and kubectl reach the API as any client would, over loopback when the
     * server binds every address. */
    char host[80], api_url[160], kubeconfig[4096];
    client_host(f.bind_address, host, sizeof(host));
    snprintf(api_url, sizeof(api_url), "https://%s:%u", host, port);
    snprintf(kubeconfig, sizeof(kubeconfig), "%s/admin.kubeconfig", f.data_dir);
    r = apiserver_bootstrap(&api);
    if (r == 0)
        r = apiserver_bootstrap_rbac(&api);
    char adv[64];
    advertise_ip(&f, adv, sizeof(adv));
    if (r == 0)
        r = apiserver_services_bootstrap(&api, adv, port);
    if (r < 0) {
        log_error("server", "bootstrap failed: %s", strerror(-r));
    } else {
        r = pki_write_kubeconfig(kubeconfig, api_url,
                                 pki.serving_user_provided ? pki.serving_cert_pem : pki.ca_cert_pem,
                                 pki.admin_cert_pem, pki.admin_key_pem, &perr);
        if (r < 0)
            log_error("server", "writing %s failed: %s", kubeconfig,
                      perr ? perr->message : strerror(-r));
    }
    _cleanup_(pki_keypair_clear) struct pki_keypair cm_kp = {0}, sched_kp = {0}, gc_kp = {0},
                                                    ns_kp = {0}, rca_kp = {0}, agg_kp = {0},
                                                    agent_kp = {0}, ipam_kp = {0}, proxy_kp = {0},
                                                    ep_kp = {0}, eps_kp = {0};
    struct kos_client_config cc, sc, gcc, nsc, rcac, aggc, agc, ipamc, proxyc, epc, epsc;
    /* Each controller writes as its kube-system service account, as kube-controller-manager
     * with --use-service-account-credentials does, so RBAC grants it its controller role. */
    static const char *const sa_groups[] = {"system:serviceaccounts",
                                            "system:serviceaccounts:kube-system"};
    if (r == 0)
        r = component_client(&pki, api_url, "system:kube-controller-manager", NULL, 0,
                             "kos-controller-manager", &cm_kp, &cc);
    if (r == 0)
        r = component_client(
            &pki, api_url, "system:serviceaccount:kube-system:generic-garbage-collector", sa_groups,
            2, "kos-controller-manager/generic-garbage-collector", &gc_kp, &gcc);
    if (r == 0)
        r = component_client(&pki, api_url,
                             "system:serviceaccount:kube-system:namespace-controller", sa_groups, 2,
                             "kos-controller-manager/namespace-controller", &ns_kp, &nsc);
    if (r == 0)
        r = component_client(&pki, api_url,
                             "system:serviceaccount:kube-system:root-ca-cert-publisher", sa_groups,
                             2, "kos-controller-manager/root-ca-cert-publisher", &rca_kp, &rcac);
    if (r == 0)
        r = component_client(
            &pki, api_url, "system:serviceaccount:kube-system:clusterrole-aggregation-controller",
            sa_groups, 2, "kos-controller-manager/clusterrole-aggregation-controller", &agg_kp,
            &aggc);
    if (r == 0)
        r = component_client(&pki, api_url, "system:serviceaccount:kube-system:node-controller",
                             sa_groups, 2, "kos-controller-manager/node-ipam-controller", &ipam_kp,
                             &ipamc);
    if (r == 0)
        r = component_client(&pki, api_url, "system:serviceaccount:kube-system:endpoint-controller",
                             sa_groups, 2, "kos-controller-manager/endpoint-controller", &ep_kp,
                             &epc);
    if (r == 0)
        r = component_client(
            &pki, api_url, "system:serviceaccount:kube-system:endpointslice-controller", sa_groups,
            2, "kos-controller-manager/endpointslice-controller", &eps_kp, &epsc);
    if (r == 0)
        r = component_client(&pki, api_url, "system:kube-scheduler", NULL, 0, "kos-scheduler",
                             &sched_kp, &sc);
    /* the embedded agent logs in as its node: CN system:node:<name>, O system:nodes */
    if (r == 0 && !f.disable_agent) {
        static const char *const node_groups[] = {"system:nodes"};
        char node_user[300];
        snprintf(node_user, sizeof(node_user), "system:node:%s", agent_cfg.node_name);
        r = component_client(&pki, api_url, node_user, node_groups, 1, "kos-agent", &agent_kp,
                             &agc);
        /* the pod network reads every Node (routes to their podCIDRs), which the Node
         * authorizer denies a node: it reads them as kube-proxy does (system:node-proxier) */
        if (r == 0)
            r = component_client(&pki, api_url, "system:kube-proxy", NULL, 0, "kos-agent/network",
                                 &proxy_kp, &proxyc);
        if (r == 0)
            agent_cfg.network_client = &proxyc;
    }
    if (r < 0) {
        http_server_stop(http);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    /* The components' informers take the in-process fast path to the store
     * (client/informer_local.c); their other requests (bindings, events, status, deletes)
     * run the API's handler in process as their certificate's identity
     * (apiserver/local_client.h): authenticated, authorized and admitted as any client's. */
    cc.local_store = store;
    sc.local_store = store;
    struct kos_client_config *in_process[IN_PROCESS_CLIENTS] = {&cc,    &sc,  &gcc,  &nsc, &aggc,
                                                                &ipamc, &epc, &epsc, &rcac};
    _cleanup_(locals_free) struct apiserver_local *locals[IN_PROCESS_CLIENTS] = {0};
    for (size_t i = 0; r == 0 && i < IN_PROCESS_CLIENTS; i++)
        r = use_local_requests(&api, &pki, in_process[i], &locals[i]);
    if (r < 0) {
        http_server_stop(http);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    /* /readyz is the API server's readiness, as kube-apiserver's is: the components below are
     * its clients and catch up by listing, which takes both cores for a moment with 10,000
     * objects stored, so they start once the API answers rather than delay it. */
    atomic_store(&api.ready, true);
    struct kos_controllers *controllers = NULL;
    const struct kos_controllers_config ctl = {.manager = &cc,
                                               .garbage_collector = &gcc,
                                               .namespace_controller = &nsc,
                                               .clusterrole_aggregation = &aggc,
                                               .node_ipam = &ipamc,
                                               .allocate_node_cidrs = f.allocate_node_cidrs,
                                               .cluster_cidr = f.cluster_cidr,
                                               .node_cidr_mask_size = (int)f.node_cidr_mask_size,
                                               .root_ca_publisher = &rcac,
                                               .endpoint_controller = &epc,
                                               .endpointslice_controller = &epsc};
    r = f.disable_controller_manager ? 0 : kos_controllers_start(&ctl, &controllers);
    if (r < 0) {
        log_error("server", "starting the controllers failed: %s", strerror(-r));
        http_server_stop(http);
        apiserver_done(&api);
        store_close(store);
        return 1;
    }
    struct kos_scheduler *scheduler = NULL;
    if (!f.disable_scheduler) {
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
    struct kos_agent *agent = NULL;
    if (!f.disable_agent) {
        struct kos_error *aerr = NULL;
        r = kos_agent_start(&agent_cfg, &agc, &agent, &aerr);
        if (r < 0) {
            log_error("server", "starting the node agent failed: %s",
                      aerr && aerr->message ? aerr->message : strerror(-r));
            kos_error_free(aerr);
            kos_scheduler_stop(scheduler);
            kos_controllers_stop(controllers);
            http_server_stop(http);
            apiserver_done(&api);
            store_close(store);
            return 1;
        }
    }
    /* the kubernetes Service's endpoints, kept from here on (a failure only logs: the next
     * round retries, and the API serves without it) */
    struct apiserver_services_reconciler *svc_reconciler = NULL;
    if (apiserver_services_reconciler_start(&api, adv, port, &svc_reconciler) < 0)
        log_warn("server", "cannot start the kubernetes Service reconciler");
    log_info("server", "serving the Kubernetes API on https://%s (data in %s)", address,
             f.data_dir);
    log_info("server", "kubectl --kubeconfig %s get namespaces", kubeconfig);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("server", "signal %d: shutting down", sig);
    atomic_store(&api.ready, false);
    kos_agent_stop(agent);
    kos_scheduler_stop(scheduler); /* while the API it uses still answers */
    kos_controllers_stop(controllers);
    apiserver_services_reconciler_stop(svc_reconciler);
    watch_window_shutdown(store_window(store));
    http_server_stop(http);
    kos_agent_streaming_free(streaming);
    apiserver_authz_stop(&api);
    store_close(store);
    apiserver_done(&api);
    return 0;
}

/* `kos agent`: the node agent alone, joining a kos server on another machine (as the kubelet
 * joins kube-apiserver): --kubeconfig gives its credentials, --server may override the URL. */
#include "cmd/commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/flags.h"
#include "agent/node/machine.h"
#include "agent/streaming/kubelet_server.h"
#include "client/kubeconfig.h"
#include "util/signals.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"

#define AGENT_DEFAULT_ROOT_DIR "/var/lib/kos/agent"

static void usage(FILE *out)
{
    fputs("Usage: kos agent --kubeconfig FILE [--server URL] [flags]\n"
          "\n"
          "Runs the kos node agent: registers this machine as a Node with the kos server and\n"
          "runs the pods bound to it. Needs root.\n"
          "\n"
          "Flags:\n"
          "      --kubeconfig FILE              credentials and server of the cluster\n"
          "      --server URL                   the API server (overrides the kubeconfig's)\n"
          "      --address IP                   where the kubelet endpoint listens (default "
          "0.0.0.0)\n"
          "      --port N                       the kubelet endpoint's port (default 10250; 0: "
          "off)\n"
          "      --tls-cert-file FILE           its serving certificate (default: self-signed "
          "in ROOT/pki)\n"
          "      --tls-private-key-file FILE    the key of --tls-cert-file\n"
          "      --client-ca-file FILE          CA of the API server's client certificate\n"
          "                                     (default: the kubeconfig's CA)\n"
          "  -v, --v LEVEL                      log verbosity (0-4)\n"
          "  -h, --help                         show this help\n"
          "\n",
          out);
    agent_flags_usage(out);
}

int cmd_agent(int argc, char **argv)
{
    enum { F_KUBECONFIG = 256, F_SERVER, F_ADDRESS, F_PORT, F_TLS_CERT, F_TLS_KEY, F_CLIENT_CA };
    static const struct option own[] = {
        {"kubeconfig", required_argument, NULL, F_KUBECONFIG},
        {"server", required_argument, NULL, F_SERVER},
        {"address", required_argument, NULL, F_ADDRESS},
        {"port", required_argument, NULL, F_PORT},
        {"tls-cert-file", required_argument, NULL, F_TLS_CERT},
        {"tls-private-key-file", required_argument, NULL, F_TLS_KEY},
        {"client-ca-file", required_argument, NULL, F_CLIENT_CA},
        {"v", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
    };
    struct option opts[ARRAY_SIZE(own) + AGENT_OPT_COUNT + 1];
    memcpy(opts, own, sizeof(own));
    memcpy(opts + ARRAY_SIZE(own), agent_flag_options, sizeof(agent_flag_options));
    opts[ARRAY_SIZE(opts) - 1] = (struct option){NULL, 0, NULL, 0};

    struct agent_flags af = {0};
    const char *kubeconfig = NULL, *server = NULL;
    const char *address = "0.0.0.0", *tls_cert = NULL, *tls_key = NULL, *client_ca = NULL;
    int64_t kubelet_port = 10250;
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "hv:", opts, NULL);
        if (c == -1)
            break;
        if (agent_flags_take(&af, c, optarg))
            continue;
        int64_t level;
        switch (c) {
        case F_KUBECONFIG:
            kubeconfig = optarg;
            break;
        case F_SERVER:
            server = optarg;
            break;
        case F_ADDRESS:
            address = optarg;
            break;
        case F_PORT:
            if (kos_parse_int64(optarg, &kubelet_port) < 0 || kubelet_port < 0 ||
                kubelet_port > 65535) {
                fprintf(stderr, "kos agent: invalid value \"%s\" for --port (want 0..65535)\n",
                        optarg);
                return 2;
            }
            break;
        case F_TLS_CERT:
            tls_cert = optarg;
            break;
        case F_TLS_KEY:
            tls_key = optarg;
            break;
        case F_CLIENT_CA:
            client_ca = optarg;
            break;
        case 'v':
            if (kos_parse_int64(optarg, &level) < 0 || level < 0 || level > 10) {
                fprintf(stderr, "kos agent: invalid value \"%s\" for --v (want 0..10)\n", optarg);
                return 2;
            }
            kos_log_set_level(level >= 4 ? KOS_LOG_DEBUG : KOS_LOG_INFO);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "kos agent: unknown flag: %s\n", argv[optind - 1]);
            fprintf(stderr, "Run 'kos agent --help' for usage.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kos agent: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (!kubeconfig && !server) {
        fprintf(stderr, "kos agent: --kubeconfig or --server is required\n");
        return 2;
    }

    struct agent_config cfg;
    struct kos_error *err = NULL;
    if (agent_flags_resolve(&af, AGENT_DEFAULT_ROOT_DIR, &cfg, &err) < 0) {
        fprintf(stderr, "kos agent: %s\n", err && err->message ? err->message : "bad flags");
        kos_error_free(err);
        return 2;
    }
    _cleanup_(kos_kubeconfig_clear) struct kos_kubeconfig kc = {0};
    if (kubeconfig && kos_kubeconfig_load(kubeconfig, &kc, &err) < 0) {
        fprintf(stderr, "kos agent: %s\n", err && err->message ? err->message : "bad kubeconfig");
        kos_error_free(err);
        return 1;
    }
    struct kos_client_config cc;
    kos_kubeconfig_client_config(&kc, "kos-agent", &cc);
    if (server)
        cc.server = server;
    if (!cc.server || !*cc.server) {
        fprintf(stderr, "kos agent: the kubeconfig names no server; give --server\n");
        return 1;
    }

    sigset_t sigs;
    kos_signals_block_stop(&sigs);

    /* The kubelet endpoint first: its port goes into the Node's status, and a port that is
     * taken stops the agent as it stops a kubelet. */
    struct kos_kubelet_server *kubelet = NULL;
    if (kubelet_port > 0) {
        _cleanup_free_ char *ca = NULL;
        const char *ca_path = client_ca ? client_ca : cc.ca_file;
        size_t ca_len = 0;
        if (ca_path && kos_read_file(ca_path, 1 << 20, &ca, &ca_len) < 0) {
            fprintf(stderr, "kos agent: cannot read the CA file %s\n", ca_path);
            return 1;
        }
        char host_ip[64] = "";
        if (cfg.node_ip[0])
            kos_strlcpy(host_ip, cfg.node_ip, sizeof(host_ip));
        else
            agent_host_ip(host_ip, sizeof(host_ip));
        const struct kos_kubelet_server_config kc_cfg = {
            .address = address,
            .port = (uint16_t)kubelet_port,
            .tls_cert_file = tls_cert,
            .tls_key_file = tls_key,
            .client_ca_pem = ca ? ca : cc.ca_pem,
            .agent = &cfg,
            .host_ip = host_ip,
            .cc = &cc,
        };
        if (kos_kubelet_server_start(&kc_cfg, &kubelet, &err) < 0) {
            log_error("agent", "starting the kubelet endpoint failed: %s",
                      err && err->message ? err->message : "error");
            kos_error_free(err);
            return 1;
        }
        cfg.kubelet_port = kos_kubelet_server_port(kubelet);
        log_info("agent", "kubelet endpoint on https://%s:%d", address, cfg.kubelet_port);
    }

    struct kos_agent *agent = NULL;
    if (kos_agent_start(&cfg, &cc, &agent, &err) < 0) {
        log_error("agent", "starting the node agent failed: %s",
                  err && err->message ? err->message : "error");
        kos_error_free(err);
        kos_kubelet_server_stop(kubelet);
        return 1;
    }
    log_info("agent", "node agent for %s joined %s", cfg.node_name, cc.server);
    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("agent", "signal %d: shutting down", sig);
    kos_agent_stop(agent);
    kos_kubelet_server_stop(kubelet);
    return 0;
}

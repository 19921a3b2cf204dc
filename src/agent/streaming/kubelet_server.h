/* A standalone agent's kubelet endpoint: HTTPS on --address:--port (kubelet's 10250) with
 * the kubelet's paths (kubelet_paths.h): container logs from the agent's files, exec,
 * attach and port-forward through the agent's streaming backend, /healthz. The API server
 * proxies pods/log, exec, attach and portforward here (apiserver/kubelet_proxy.h).
 *
 * Only the API server gets in: every request must come with a client certificate that
 * chains to client_ca (the cluster CA) and names PKI_KUBELET_CLIENT_USER; no certificate or
 * a bad one is 401, anyone else 403, with the kubelet's texts. */
#pragma once

#include <stdint.h>

#include "agent/agent.h"
#include "client/client.h"
#include "util/error.h"

struct kos_kubelet_server_config {
    const char *address; /* --address (kubelet default 0.0.0.0) */
    uint16_t port;       /* --port; 0: off (no server) */
    /* --tls-cert-file / --tls-private-key-file; NULL: self-signed in <root_dir>/pki */
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *client_ca_pem;          /* whom client certificates must chain to */
    const struct agent_config *agent;   /* root dir, log dir, runtime, node name and IP */
    const char *host_ip;                /* for the self-signed certificate's SANs */
    const struct kos_client_config *cc; /* to read the pods it is asked about */
};

struct kos_kubelet_server;

int kos_kubelet_server_start(const struct kos_kubelet_server_config *cfg,
                             struct kos_kubelet_server **ret, struct kos_error **err);
uint16_t kos_kubelet_server_port(const struct kos_kubelet_server *s);
/* Stops serving (sessions in progress end) and frees; accepts NULL. */
void kos_kubelet_server_stop(struct kos_kubelet_server *s);

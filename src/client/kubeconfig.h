/* Reading a kubeconfig file (clientcmd's v1 Config) into what kos_client needs: the current
 * context's cluster (server, certificate-authority[-data], insecure-skip-tls-verify) and user
 * (client-certificate[-data], client-key[-data], token, tokenFile). Relative file paths are
 * taken relative to the kubeconfig's directory, as clientcmd does. */
#pragma once

#include <stdbool.h>

#include "client/client.h"
#include "util/error.h"

/* Largest kubeconfig and referenced file read. */
#define KOS_KUBECONFIG_MAX (1u << 20)

struct kos_kubeconfig {
    char *server;
    char *ca_pem, *cert_pem, *key_pem; /* file contents or decoded *-data */
    char *token;
    bool insecure_skip_tls_verify;
};

int kos_kubeconfig_load(const char *path, struct kos_kubeconfig *ret, struct kos_error **err);
void kos_kubeconfig_clear(struct kos_kubeconfig *k);
/* A client config pointing into k (which must outlive it). */
void kos_kubeconfig_client_config(const struct kos_kubeconfig *k, const char *user_agent,
                                  struct kos_client_config *ret);

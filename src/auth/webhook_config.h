/* The kubeconfig-format file that tells kube-apiserver how to reach a webhook
 * (--authentication-token-webhook-config-file, --authorization-webhook-config-file): the
 * cluster of the current context gives the URL and the CA, its user the client credentials.
 *
 *   clusters: [{name, cluster: {server, certificate-authority(-data), insecure-skip-tls-verify}}]
 *   users:    [{name, user: {client-certificate(-data), client-key(-data), token, tokenFile}}]
 *   contexts: [{name, context: {cluster, user}}]
 *   current-context: NAME
 *
 * YAML or JSON. File paths are relative to the config file's directory, as client-go resolves
 * them. Without a current-context, a file with exactly one cluster (and at most one user) is
 * taken as is. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define KOS_WEBHOOK_CONFIG_MAX_FILE (1024u * 1024) /* the config and each file it names */

struct kos_webhook_config {
    char *server; /* https://host:port/path */
    char *ca_pem; /* NULL: the system trust store */
    size_t ca_len;
    bool insecure_skip_tls_verify;
    char *client_cert_pem; /* both or neither */
    size_t client_cert_len;
    char *client_key_pem;
    size_t client_key_len;
    char *token; /* bearer token, may be NULL */
};

void kos_webhook_config_clear(struct kos_webhook_config *c);

/* Parses the config text; base_dir resolves relative file paths (NULL: the working
 * directory). Errors are 400s naming the field at fault. */
int kos_webhook_config_parse(const char *data, size_t len, const char *base_dir,
                             struct kos_webhook_config *ret, struct kos_error **err);
/* Reads and parses a file. */
int kos_webhook_config_load(const char *path, struct kos_webhook_config *ret,
                            struct kos_error **err);

/* `kos keystone-auth`: k8s-keystone-auth as a kos sub-command. An HTTPS server whose one route,
 * POST /webhook, answers TokenReview from Keystone and SubjectAccessReview from the policy
 * file; kube-apiserver (or `kos server`) points --authentication-token-webhook-config-file and
 * --authorization-webhook-config-file at it. */
#include "cmd/commands.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver/http.h"
#include "client/client.h"
#include "codec/yaml.h"
#include "openstack/keystone/webhook.h"
#include "util/signals.h"
#include "util/fs.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define PROG "kos keystone-auth"

struct ka_flags {
    const char *keystone_url;
    const char *policy_file;
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    const char *keystone_ca;
    const char *sync_config;
    const char *kubeconfig;
    int64_t cache_ttl_ms;
    int64_t keystone_timeout_ms;
};

static void usage(FILE *out)
{
    fputs("Usage: kos keystone-auth [flags]\n"
          "\n"
          "Serves k8s-keystone-auth's webhook (POST /webhook) over HTTPS: TokenReview validated\n"
          "against Keystone v3 with the user's own token, SubjectAccessReview answered from the\n"
          "policy file.\n"
          "\n"
          "Flags:\n"
          "      --keystone-url URL                 Keystone identity endpoint (required)\n"
          "      --policy-file FILE                 authorization policy (v1 or v2 format);\n"
          "                                         also --keystone-policy-file\n"
          "      --listen HOST:PORT                 address to serve on (default :8443)\n"
          "      --tls-cert-file FILE               serving certificate (PEM, required)\n"
          "      --tls-private-key-file FILE        its private key (PEM, required)\n"
          "      --keystone-ca-file FILE            CA bundle that verifies Keystone\n"
          "      --keystone-sync-config-file FILE   syncConfig (role mappings, data sync);\n"
          "                                         also --sync-config-file\n"
          "      --kubeconfig FILE                  cluster the data sync writes to\n"
          "      --token-cache-ttl DURATION         how long a validation is cached (default 2m,\n"
          "                                         never past the token's expiry; 0 = off)\n"
          "      --keystone-timeout DURATION        per Keystone request (default 10s)\n"
          "  -v, --v LEVEL                          log verbosity (0-4)\n"
          "  -h, --help                             show this help\n",
          out);
}

/* kos_parse_duration_ms, without negative durations (none of these flags takes one). */
static int parse_duration_ms(const char *s, int64_t *ret)
{
    int64_t v;
    int r = kos_parse_duration_ms(s, &v);
    if (r < 0)
        return r;
    if (v < 0)
        return -EINVAL;
    *ret = v;
    return 0;
}

static int parse_flags(int argc, char **argv, struct ka_flags *f)
{
    enum {
        F_URL = 256,
        F_POLICY,
        F_LISTEN,
        F_CERT,
        F_KEY,
        F_CA,
        F_SYNC,
        F_KUBECONFIG,
        F_TTL,
        F_TMO
    };
    static const struct option opts[] = {
        {"keystone-url", required_argument, NULL, F_URL},
        {"policy-file", required_argument, NULL, F_POLICY},
        {"keystone-policy-file", required_argument, NULL, F_POLICY},
        {"listen", required_argument, NULL, F_LISTEN},
        {"tls-cert-file", required_argument, NULL, F_CERT},
        {"tls-private-key-file", required_argument, NULL, F_KEY},
        {"keystone-ca-file", required_argument, NULL, F_CA},
        {"keystone-sync-config-file", required_argument, NULL, F_SYNC},
        {"sync-config-file", required_argument, NULL, F_SYNC},
        {"kubeconfig", required_argument, NULL, F_KUBECONFIG},
        {"token-cache-ttl", required_argument, NULL, F_TTL},
        {"keystone-timeout", required_argument, NULL, F_TMO},
        {"v", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *f = (struct ka_flags){.listen = ":8443",
                           .cache_ttl_ms = KEYSTONE_CACHE_DEFAULT_TTL_MS,
                           .keystone_timeout_ms = 10000};
    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, "hv:", opts, NULL);
        if (c == -1)
            break;
        int64_t level;
        switch (c) {
        case F_URL:
            f->keystone_url = optarg;
            break;
        case F_POLICY:
            f->policy_file = optarg;
            break;
        case F_LISTEN:
            f->listen = optarg;
            break;
        case F_CERT:
            f->tls_cert = optarg;
            break;
        case F_KEY:
            f->tls_key = optarg;
            break;
        case F_CA:
            f->keystone_ca = optarg;
            break;
        case F_SYNC:
            f->sync_config = optarg;
            break;
        case F_KUBECONFIG:
            f->kubeconfig = optarg;
            break;
        case F_TTL:
        case F_TMO: {
            int64_t *dst = c == F_TTL ? &f->cache_ttl_ms : &f->keystone_timeout_ms;
            if (parse_duration_ms(optarg, dst) < 0 || (c == F_TMO && *dst <= 0) ||
                *dst > 86400000) {
                fprintf(stderr, PROG ": invalid duration \"%s\" for --%s\n", optarg,
                        c == F_TTL ? "token-cache-ttl" : "keystone-timeout");
                return -EINVAL;
            }
            break;
        }
        case 'v':
            if (kos_parse_int64(optarg, &level) < 0 || level < 0 || level > 10) {
                fprintf(stderr, PROG ": invalid value \"%s\" for --v\n", optarg);
                return -EINVAL;
            }
            kos_log_set_level(level >= 4 ? KOS_LOG_DEBUG : KOS_LOG_INFO);
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            fprintf(stderr, PROG ": unknown flag: %s\n", argv[optind - 1]);
            fprintf(stderr, "Run '" PROG " --help' for usage.\n");
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
        return -EINVAL;
    }
    if (!f->keystone_url) {
        fprintf(stderr, PROG ": --keystone-url is required\n");
        return -EINVAL;
    }
    if (!f->tls_cert || !f->tls_key) {
        fprintf(stderr, PROG ": --tls-cert-file and --tls-private-key-file are required (the "
                             "webhook is served over HTTPS only)\n");
        return -EINVAL;
    }
    return 0;
}

static char *read_small_file(const char *path, size_t limit)
{
    char *data = NULL;
    return kos_read_file(path, limit, &data, NULL) == 0 ? data : NULL;
}

/* ---- --kubeconfig (for the data sync) ----------------------------------------------------- */

/* Inline *-data decoded to PEM text (the API client takes it as libcurl blobs). */
struct kubeconfig_pems {
    char *v[3];
};

static const char *decode_pem(struct kubeconfig_pems *kp, int i, const char *b64)
{
    char *data = NULL;
    size_t len = 0;
    if (kos_base64_decode(b64, strlen(b64), &data, &len) < 0)
        return NULL;
    char *s = kos_strndup(data, len);
    free(data);
    kp->v[i] = s;
    return s;
}

static const json_t *named(const json_t *list, const char *name, const char *member)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i,
                       e) if (name && strcmp(json_string_value(json_object_get(e, "name")) ?: "",
                                             name) == 0) return json_object_get(e, member);
    return json_array_size(list) == 1 ? json_object_get(json_array_get(list, 0), member) : NULL;
}

static int load_kubeconfig(const char *path, struct kubeconfig_pems *kp, struct kos_client **ret)
{
    _cleanup_free_ char *text = read_small_file(path, 1024 * 1024);
    if (!text) {
        fprintf(stderr, PROG ": cannot read --kubeconfig %s\n", path);
        return -EINVAL;
    }
    _cleanup_json_ json_t *cfg = NULL;
    _cleanup_error_ struct kos_error *err = NULL;
    if (kos_yaml_decode(text, strlen(text), &cfg, &err) < 0 || !json_is_object(cfg)) {
        fprintf(stderr, PROG ": --kubeconfig %s is not valid YAML\n", path);
        return -EINVAL;
    }
    const char *cur = json_string_value(json_object_get(cfg, "current-context"));
    const json_t *ctx = named(json_object_get(cfg, "contexts"), cur, "context");
    const json_t *cluster = named(json_object_get(cfg, "clusters"),
                                  json_string_value(json_object_get(ctx, "cluster")), "cluster");
    const json_t *user = named(json_object_get(cfg, "users"),
                               json_string_value(json_object_get(ctx, "user")), "user");
    struct kos_client_config cc = {.user_agent = "kos-keystone-auth"};
    cc.server = json_string_value(json_object_get(cluster, "server"));
    if (!cc.server) {
        fprintf(stderr, PROG ": --kubeconfig %s names no cluster server\n", path);
        return -EINVAL;
    }
    const char *v;
    cc.ca_file = json_string_value(json_object_get(cluster, "certificate-authority"));
    if ((v = json_string_value(json_object_get(cluster, "certificate-authority-data"))))
        cc.ca_pem = decode_pem(kp, 0, v);
    cc.insecure_skip_tls_verify =
        json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
    cc.cert_file = json_string_value(json_object_get(user, "client-certificate"));
    if ((v = json_string_value(json_object_get(user, "client-certificate-data"))))
        cc.cert_pem = decode_pem(kp, 1, v);
    cc.key_file = json_string_value(json_object_get(user, "client-key"));
    if ((v = json_string_value(json_object_get(user, "client-key-data"))))
        cc.key_pem = decode_pem(kp, 2, v);
    cc.bearer_token = json_string_value(json_object_get(user, "token"));
    int r = kos_client_new(&cc, ret); /* copies the config */
    for (int i = 0; i < 3; i++)
        if (kp->v[i]) {
            explicit_bzero(kp->v[i], strlen(kp->v[i]));
            free(kp->v[i]);
        }
    if (r < 0) {
        fprintf(stderr, PROG ": cannot create the API client from %s\n", path);
        return -EINVAL;
    }
    return 0;
}

/* ---- serving ------------------------------------------------------------------------------- */

static void handle(void *ctx, struct http_request *req, struct http_reply *rep)
{
    struct keystone_webhook *w = ctx;
    if (strcmp(req->path, "/webhook") != 0) {
        char *b = strdup("404 page not found\n");
        http_reply_set_body(rep, 404, "text/plain; charset=utf-8", b, b ? strlen(b) : 0);
        return;
    }
    if (strcmp(req->method, "POST") != 0) {
        char *b = strdup("Method Not Allowed\n");
        http_reply_set_body(rep, 405, "text/plain; charset=utf-8", b, b ? strlen(b) : 0);
        return;
    }
    if (req->body_too_large) {
        char *b = strdup("request body too large\n");
        http_reply_set_body(rep, 413, "text/plain; charset=utf-8", b, b ? strlen(b) : 0);
        return;
    }
    int status = 500;
    char *out = NULL, *note = NULL;
    size_t len = 0;
    if (keystone_webhook_handle(w, req->body.data ? req->body.data : "", req->body.len, &status,
                                &out, &len, &note) < 0) {
        char *b = strdup("out of memory\n");
        http_reply_set_body(rep, 500, "text/plain; charset=utf-8", b, b ? strlen(b) : 0);
        return;
    }
    if (note) {
        log_info("keystone-auth", "%s", note);
        free(note);
    }
    http_reply_set_body(rep, status,
                        out && out[0] == '{' ? "application/json" : "text/plain; charset=utf-8",
                        out, len);
}

static int split_listen(const char *listen, char *host, size_t hsize, uint16_t *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -EINVAL;
    size_t hl = (size_t)(colon - listen);
    const char *h = listen;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
        h++, hl -= 2;
    if (hl >= hsize)
        return -EINVAL;
    if (hl == 0)
        kos_strlcpy(host, "0.0.0.0", hsize);
    else {
        memcpy(host, h, hl);
        host[hl] = '\0';
    }
    int64_t p;
    if (kos_parse_int64(colon + 1, &p) < 0 || p < 0 || p > 65535)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

int cmd_keystone_auth(int argc, char **argv)
{
    struct ka_flags f;
    int r = parse_flags(argc, argv, &f);
    if (r != 0)
        return r > 0 ? 0 : 2;
    char host[256];
    uint16_t port;
    if (split_listen(f.listen, host, sizeof(host), &port) < 0) {
        fprintf(stderr, PROG ": invalid --listen \"%s\" (want HOST:PORT or :PORT)\n", f.listen);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);

    _cleanup_error_ struct kos_error *err = NULL;
    struct keystone_policy *policy = NULL;
    if (f.policy_file && keystone_policy_load(f.policy_file, &policy, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err->message);
        return 1;
    }
    struct keystone_authenticator_options ao = {
        .keystone = {.url = f.keystone_url,
                     .ca_file = f.keystone_ca,
                     .timeout_ms = (int)f.keystone_timeout_ms},
        .cache_ttl_ms = f.cache_ttl_ms,
        .sync_config = f.sync_config,
    };
    struct keystone_authenticator *authn = NULL;
    if (keystone_authenticator_new(&ao, &authn, &err) < 0) {
        fprintf(stderr, PROG ": %s\n", err->message);
        keystone_policy_free(policy);
        return 1;
    }
    struct kubeconfig_pems kp = {0};
    struct kos_client *client = NULL;
    if (f.kubeconfig && load_kubeconfig(f.kubeconfig, &kp, &client) < 0) {
        keystone_authenticator_free(authn);
        keystone_policy_free(policy);
        return 1;
    }
    _cleanup_free_ char *cert = read_small_file(f.tls_cert, 1024 * 1024);
    _cleanup_free_ char *key = read_small_file(f.tls_key, 1024 * 1024);
    if (!cert || !key) {
        fprintf(stderr, PROG ": cannot read %s\n", !cert ? f.tls_cert : f.tls_key);
        return 1;
    }

    sigset_t sigs;
    kos_signals_block_stop(&sigs);

    struct keystone_webhook w = {.authn = authn, .policy = policy, .sync_client = client};
    struct http_server_options ho = {.bind_address = host,
                                     .port = port,
                                     .handler = handle,
                                     .handler_ctx = &w,
                                     .tls_cert_pem = cert,
                                     .tls_key_pem = key};
    struct http_server *http = NULL;
    r = http_server_start(&ho, &http);
    explicit_bzero(key, strlen(key));
    if (r < 0) {
        fprintf(stderr, PROG ": cannot serve on %s: %s\n", f.listen, strerror(-r));
        keystone_authenticator_free(authn);
        keystone_policy_free(policy);
        kos_client_free(client);
        return 1;
    }
    log_info("keystone-auth", "serving https://%s:%u/webhook (Keystone %s, %zu policies)", host,
             http_server_port(http), f.keystone_url, policy ? keystone_policy_count(policy) : 0);
    /* A line tests and scripts can wait for when they asked for port 0. */
    printf("listening on %s:%u\n", host, http_server_port(http));
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    http_server_stop(http);
    keystone_authenticator_free(authn);
    keystone_policy_free(policy);
    kos_client_free(client);
    return 0;
}

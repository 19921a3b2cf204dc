/* `kos keystone-login`: a kubectl exec credential plugin (client-keystone-auth's role). Reads
 * the usual OpenStack variables, gets a project-scoped token from Keystone (POST
 * /v3/auth/tokens) and prints an ExecCredential with the token and its expiry, in the
 * apiVersion kubectl asked for in KUBERNETES_EXEC_INFO. Errors: one line on stderr, exit 1. */
#include "cmd/commands.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "openstack/keystone/client.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

#define PROG "kos keystone-login"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const char *env2(const char *a, const char *b)
{
    return env(a) ? env(a) : env(b);
}

/* client.authentication.k8s.io/v1 or v1beta1, as kubectl announces it. */
static int exec_api_version(const char **ret)
{
    const char *info = env("KUBERNETES_EXEC_INFO");
    *ret = "client.authentication.k8s.io/v1beta1";
    if (!info)
        return 0;
    _cleanup_json_ json_t *j = NULL;
    if (kos_json_decode(info, strlen(info), &j, NULL) < 0 || !json_is_object(j)) {
        fprintf(stderr, PROG ": KUBERNETES_EXEC_INFO is not a JSON object\n");
        return -1;
    }
    const char *v = json_string_value(json_object_get(j, "apiVersion"));
    if (v && strcmp(v, "client.authentication.k8s.io/v1") == 0)
        *ret = "client.authentication.k8s.io/v1";
    else if (v && strcmp(v, "client.authentication.k8s.io/v1beta1") != 0) {
        fprintf(stderr, PROG ": unsupported ExecCredential apiVersion \"%s\"\n", v);
        return -1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fputs("Usage: kos keystone-login\n"
          "\n"
          "kubectl exec credential plugin: prints an ExecCredential holding a Keystone token.\n"
          "Reads OS_AUTH_URL, OS_USERNAME (or OS_USER_ID), OS_PASSWORD (or OS_TOKEN),\n"
          "OS_PROJECT_NAME (or OS_PROJECT_ID), OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME\n"
          "(OS_DOMAIN_NAME for both; default \"Default\"), OS_CACERT.\n",
          out);
}

int cmd_keystone_login(int argc, char **argv)
{
    if (argc > 1) {
        if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[1]);
        return 2;
    }
    const char *api_version;
    if (exec_api_version(&api_version) < 0)
        return 1;
    const char *url = env("OS_AUTH_URL");
    if (!url) {
        fprintf(stderr, PROG ": OS_AUTH_URL is not set\n");
        return 1;
    }
    struct keystone_credentials cr = {
        .user_id = env("OS_USER_ID"),
        .user_name = env("OS_USERNAME"),
        .user_domain_name = env2("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
        .user_domain_id = env2("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID"),
        .password = env("OS_PASSWORD"),
        .token = env("OS_TOKEN"),
        .project_id = env2("OS_PROJECT_ID", "OS_TENANT_ID"),
        .project_name = env2("OS_PROJECT_NAME", "OS_TENANT_NAME"),
        .project_domain_name = env2("OS_PROJECT_DOMAIN_NAME", "OS_DOMAIN_NAME"),
        .project_domain_id = env2("OS_PROJECT_DOMAIN_ID", "OS_DOMAIN_ID"),
    };
    if (!cr.password && !cr.token) {
        fprintf(stderr, PROG ": set OS_PASSWORD (with OS_USERNAME) or OS_TOKEN\n");
        return 1;
    }
    if (cr.password && !cr.user_id && !cr.user_name) {
        fprintf(stderr, PROG ": OS_USERNAME or OS_USER_ID is not set\n");
        return 1;
    }
    if (cr.password && !cr.user_id && !cr.user_domain_name && !cr.user_domain_id)
        cr.user_domain_name = "Default";
    if (cr.project_name && !cr.project_domain_name && !cr.project_domain_id)
        cr.project_domain_name = "Default";
    if (!cr.project_id && !cr.project_name) {
        fprintf(stderr, PROG ": OS_PROJECT_NAME or OS_PROJECT_ID is not set (kos needs a "
                             "project-scoped token)\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    _cleanup_error_ struct kos_error *err = NULL;
    struct keystone_client *c = NULL;
    struct keystone_client_options o = {
        .url = url, .ca_file = env("OS_CACERT"), .timeout_ms = 30000};
    if (keystone_client_new(&o, &c, &err) < 0) {
        fprintf(stderr, PROG ": OS_AUTH_URL: %s\n", err->message);
        return 1;
    }
    _cleanup_free_ char *token = NULL;
    struct keystone_token info = {0};
    int r = keystone_client_issue(c, &cr, &token, &info, &err);
    keystone_client_free(c);
    if (r < 0) {
        if (err && err->code == 401)
            fprintf(stderr, PROG ": Invalid user credentials were provided (Keystone: %s)\n",
                    err->message);
        else
            fprintf(stderr, PROG ": %s\n", err && err->message ? err->message : "failed");
        return 1;
    }
    char expiry[64];
    kos_time_rfc3339(info.expires_at, expiry, sizeof(expiry));
    keystone_token_clear(&info);
    _cleanup_json_ json_t *out =
        json_pack("{s:s,s:s,s:{},s:{s:s,s:s}}", "apiVersion", api_version, "kind", "ExecCredential",
                  "spec", "status", "token", token, "expirationTimestamp", expiry);
    _cleanup_free_ char *text = out ? kos_json_encode(out, NULL) : NULL;
    if (!text) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    explicit_bzero(token, strlen(token));
    explicit_bzero(text, strlen(text));
    return fflush(stdout) == 0 ? 0 : 1;
}

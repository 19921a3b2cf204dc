#include "auth/webhook_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/yaml.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

void kos_webhook_config_clear(struct kos_webhook_config *c)
{
    if (!c)
        return;
    free(c->server);
    free(c->ca_pem);
    free(c->client_cert_pem);
    if (c->client_key_pem) {
        explicit_bzero(c->client_key_pem, c->client_key_len);
        free(c->client_key_pem);
    }
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    memset(c, 0, sizeof(*c));
}

static int bad(struct kos_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct kos_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kos_error_setv(err, 400, "BadRequest", fmt, ap);
    va_end(ap);
    return r;
}

/* Reads a whole regular file of at most KOS_WEBHOOK_CONFIG_MAX_FILE bytes, NUL-terminated. */
static int read_bounded(const char *path, char **ret, size_t *ret_len, struct kos_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bad(err, "unable to read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return bad(err, "unable to read %s: not a regular file", path);
    if ((size_t)st.st_size > KOS_WEBHOOK_CONFIG_MAX_FILE)
        return bad(err, "unable to read %s: larger than %u bytes", path,
                   KOS_WEBHOOK_CONFIG_MAX_FILE);
    _cleanup_free_ char *data = malloc((size_t)st.st_size + 1);
    if (!data)
        return -ENOMEM;
    size_t len = 0;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, data + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return bad(err, "unable to read %s: %s", path, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
    }
    data[len] = '\0';
    *ret_len = len;
    *ret = TAKE_PTR(data);
    return 0;
}

/* An optional string field; a present field of another type is an error. */
static int opt_str(const json_t *obj, const char *key, const char *where, const char **ret,
                   struct kos_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return bad(err, "invalid webhook config: %s.%s must be a string", where, key);
    *ret = json_string_value(v);
    return 0;
}

/* Finds the entry called name in a list of {name, <field>: {...}} and returns its <field>. */
static int find_named(const json_t *root, const char *list, const char *field, const char *name,
                      json_t **ret, struct kos_error **err)
{
    json_t *arr = json_object_get(root, list);
    if (arr && !json_is_null(arr) && !json_is_array(arr))
        return bad(err, "invalid webhook config: %s must be a list", list);
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            return bad(err, "invalid webhook config: %s[%zu] must be an object", list, i);
        const char *n = json_string_value(json_object_get(e, "name"));
        if (!n || (name && strcmp(n, name) != 0))
            continue;
        json_t *inner = json_object_get(e, field);
        if (inner && !json_is_null(inner) && !json_is_object(inner))
            return bad(err, "invalid webhook config: %s[%zu].%s must be an object", list, i, field);
        *ret = inner;
        return 1;
    }
    return 0;
}

/* Either inline base64 (<key>-data) or a file (<key>) into *pem; neither leaves it NULL. */
static int load_material(const json_t *obj, const char *where, const char *key,
                         const char *base_dir, char **pem, size_t *len, struct kos_error **err)
{
    char data_key[64];
    snprintf(data_key, sizeof(data_key), "%s-data", key);
    const char *data = NULL, *file = NULL;
    int r = opt_str(obj, data_key, where, &data, err);
    if (r < 0 || (r = opt_str(obj, key, where, &file, err)) < 0)
        return r;
    if (data && data[0]) {
        char *out = NULL;
        size_t n = 0;
        if (kos_base64_decode(data, strlen(data), &out, &n) < 0)
            return bad(err, "invalid webhook config: %s.%s is not valid base64", where, data_key);
        *pem = out;
        *len = n;
        return 0;
    }
    if (!file || !file[0])
        return 0;
    if (strlen(file) > 4000)
        return bad(err, "invalid webhook config: %s.%s is too long", where, key);
    char path[8192];
    if (file[0] == '/' || !base_dir)
        snprintf(path, sizeof(path), "%s", file);
    else
        snprintf(path, sizeof(path), "%s/%s", base_dir, file);
    return read_bounded(path, pem, len, err);
}

static int dup_str(const char *s, char **ret)
{
    if (!s)
        return 0;
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
}

int kos_webhook_config_parse(const char *data, size_t len, const char *base_dir,
                             struct kos_webhook_config *ret, struct kos_error **err)
{
    _cleanup_json_ json_t *root = NULL;
    _cleanup_error_ struct kos_error *perr = NULL;
    if (kos_yaml_decode(data, len, &root, &perr) < 0)
        return bad(err, "invalid webhook config: %s",
                   perr && perr->message ? perr->message : "not YAML");
    if (!json_is_object(root))
        return bad(err, "invalid webhook config: not a kubeconfig (want a mapping)");

    const char *current = NULL;
    int r = opt_str(root, "current-context", "config", &current, err);
    if (r < 0)
        return r;
    const char *cluster_name = NULL, *user_name = NULL;
    if (current && current[0]) {
        json_t *ctx = NULL;
        r = find_named(root, "contexts", "context", current, &ctx, err);
        if (r < 0)
            return r;
        if (r == 0 || !ctx)
            return bad(err, "invalid webhook config: context \"%s\" not found", current);
        if ((r = opt_str(ctx, "cluster", "context", &cluster_name, err)) < 0 ||
            (r = opt_str(ctx, "user", "context", &user_name, err)) < 0)
            return r;
        if (!cluster_name || !cluster_name[0])
            return bad(err, "invalid webhook config: context \"%s\" names no cluster", current);
    } else {
        json_t *clusters = json_object_get(root, "clusters");
        json_t *users = json_object_get(root, "users");
        if (json_array_size(clusters) != 1 || json_array_size(users) > 1)
            return bad(err, "invalid webhook config: no current-context, and not exactly one "
                            "cluster and at most one user");
    }

    json_t *cluster = NULL;
    r = find_named(root, "clusters", "cluster", cluster_name, &cluster, err);
    if (r < 0)
        return r;
    if (r == 0 || !cluster)
        return bad(err, "invalid webhook config: cluster \"%s\" not found",
                   cluster_name ? cluster_name : "");
    json_t *user = NULL;
    if (!current || !current[0] || (user_name && user_name[0])) {
        r = find_named(root, "users", "user", user_name, &user, err);
        if (r < 0)
            return r;
        if (r == 0 && user_name && user_name[0])
            return bad(err, "invalid webhook config: user \"%s\" not found", user_name);
    }

    _cleanup_(kos_webhook_config_clear) struct kos_webhook_config c = {0};
    const char *server = NULL;
    if ((r = opt_str(cluster, "server", "cluster", &server, err)) < 0)
        return r;
    if (!server || !server[0])
        return bad(err, "invalid webhook config: cluster has no server");
    if (!kos_str_has_prefix(server, "https://") && !kos_str_has_prefix(server, "http://"))
        return bad(err, "invalid webhook config: server \"%s\" is not an http(s) URL", server);
    if (strlen(server) > 4096)
        return bad(err, "invalid webhook config: server URL is too long");
    json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
    if (insecure && !json_is_null(insecure) && !json_is_boolean(insecure))
        return bad(err, "invalid webhook config: cluster.insecure-skip-tls-verify must be a "
                        "boolean");
    c.insecure_skip_tls_verify = json_is_true(insecure);
    if ((r = dup_str(server, &c.server)) < 0)
        return r;
    r = load_material(cluster, "cluster", "certificate-authority", base_dir, &c.ca_pem, &c.ca_len,
                      err);
    if (r < 0)
        return r;
    if (c.ca_pem && c.insecure_skip_tls_verify)
        return bad(err, "invalid webhook config: specifying a root certificates file with the "
                        "insecure flag is not allowed");

    if (user) {
        r = load_material(user, "user", "client-certificate", base_dir, &c.client_cert_pem,
                          &c.client_cert_len, err);
        if (r < 0)
            return r;
        r = load_material(user, "user", "client-key", base_dir, &c.client_key_pem,
                          &c.client_key_len, err);
        if (r < 0)
            return r;
        if (!c.client_cert_pem != !c.client_key_pem)
            return bad(err, "invalid webhook config: client-cert data and client-key data must "
                            "both be given or neither");
        const char *token = NULL;
        if ((r = opt_str(user, "token", "user", &token, err)) < 0)
            return r;
        if (token && token[0]) {
            if ((r = dup_str(token, &c.token)) < 0)
                return r;
        } else {
            char *tok = NULL;
            size_t toklen = 0;
            r = load_material(user, "user", "tokenFile", base_dir, &tok, &toklen, err);
            if (r < 0)
                return r;
            if (tok) {
                /* client-go trims surrounding whitespace from a token file. */
                while (toklen > 0 && strchr(" \t\r\n", tok[toklen - 1]))
                    tok[--toklen] = '\0';
                c.token = tok;
            }
        }
        if (c.token && strpbrk(c.token, "\r\n"))
            return bad(err, "invalid webhook config: user token contains a line break");
    }
    *ret = c;
    memset(&c, 0, sizeof(c));
    return 0;
}

int kos_webhook_config_load(const char *path, struct kos_webhook_config *ret,
                            struct kos_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = read_bounded(path, &data, &len, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    return kos_webhook_config_parse(data, len, slash ? (dir[0] ? dir : "/") : NULL, ret, err);
}

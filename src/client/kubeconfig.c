/* kubeconfig → kos_client_config. */
#include "client/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/yaml.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

static int read_all(const char *path, char **ret, size_t *ret_len)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (st.st_size > (off_t)KOS_KUBECONFIG_MAX)
        return -EFBIG;
    _cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return -ENOMEM;
    size_t used = 0;
    while (used < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    *ret = TAKE_PTR(buf);
    if (ret_len)
        *ret_len = used;
    return 0;
}

/* The entry of a named list ("clusters", "users", "contexts") called name: its inner object. */
static const json_t *named(const json_t *cfg, const char *list, const char *inner, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(cfg, list), i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && name && !strcmp(n, name))
            return json_object_get(e, inner);
    }
    return NULL;
}

/* data (base64) wins over the file, as clientcmd does. */
static int load_pem(const json_t *obj, const char *data_key, const char *file_key,
                    const char *base_dir, char **ret, struct kos_error **err)
{
    const char *data = json_string_value(json_object_get(obj, data_key));
    const char *file = json_string_value(json_object_get(obj, file_key));
    if (data && *data) {
        char *out = NULL;
        size_t len = 0;
        if (kos_base64_decode(data, strlen(data), &out, &len) < 0)
            return kos_error_set(err, 400, "BadRequest", "kubeconfig: %s is not valid base64",
                                 data_key);
        *ret = out;
        return 0;
    }
    if (file && *file) {
        char path[4096];
        if (file[0] == '/')
            snprintf(path, sizeof(path), "%s", file);
        else
            snprintf(path, sizeof(path), "%s/%s", base_dir, file);
        int r = read_all(path, ret, NULL);
        if (r < 0)
            return kos_error_set(err, 400, "BadRequest", "kubeconfig: cannot read %s %s: %s",
                                 file_key, path, strerror(-r));
    }
    return 0;
}

int kos_kubeconfig_load(const char *path, struct kos_kubeconfig *ret, struct kos_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_all(path, &text, &len);
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "cannot read kubeconfig %s: %s", path,
                             strerror(-r));
    _cleanup_json_ json_t *cfg = NULL;
    if ((r = kos_yaml_decode(text, len, &cfg, err)) < 0)
        return r;
    if (!json_is_object(cfg))
        return kos_error_set(err, 400, "BadRequest", "kubeconfig %s is not a Config object", path);
    char base_dir[4096];
    kos_strlcpy(base_dir, path, sizeof(base_dir));
    char *slash = strrchr(base_dir, '/');
    if (slash)
        *slash = '\0';
    else
        kos_strlcpy(base_dir, ".", sizeof(base_dir));

    const char *cur = json_string_value(json_object_get(cfg, "current-context"));
    const json_t *ctx = named(cfg, "contexts", "context", cur);
    if (!ctx && json_array_size(json_object_get(cfg, "contexts")) == 1)
        ctx = json_object_get(json_array_get(json_object_get(cfg, "contexts"), 0), "context");
    if (!ctx)
        return kos_error_set(err, 400, "BadRequest", "kubeconfig %s: context \"%s\" does not exist",
                             path, cur ? cur : "");
    const char *cname = json_string_value(json_object_get(ctx, "cluster"));
    const char *uname = json_string_value(json_object_get(ctx, "user"));
    const json_t *cluster = named(cfg, "clusters", "cluster", cname);
    const json_t *user = named(cfg, "users", "user", uname);
    if (!cluster)
        return kos_error_set(err, 400, "BadRequest", "kubeconfig %s: cluster \"%s\" does not exist",
                             path, cname ? cname : "");

    struct kos_kubeconfig k = {0};
    const char *server = json_string_value(json_object_get(cluster, "server"));
    if (server && !(k.server = strdup(server)))
        r = -ENOMEM;
    k.insecure_skip_tls_verify = json_is_true(json_object_get(cluster, "insecure-skip-tls-verify"));
    if (r == 0)
        r = load_pem(cluster, "certificate-authority-data", "certificate-authority", base_dir,
                     &k.ca_pem, err);
    if (r == 0 && user)
        r = load_pem(user, "client-certificate-data", "client-certificate", base_dir, &k.cert_pem,
                     err);
    if (r == 0 && user)
        r = load_pem(user, "client-key-data", "client-key", base_dir, &k.key_pem, err);
    if (r == 0 && user) {
        const char *tok = json_string_value(json_object_get(user, "token"));
        if (tok && *tok) {
            if (!(k.token = strdup(tok)))
                r = -ENOMEM;
        } else {
            r = load_pem(user, "__none__", "tokenFile", base_dir, &k.token, err);
            if (r == 0 && k.token)
                k.token[strcspn(k.token, "\r\n")] = '\0';
        }
    }
    if (r < 0) {
        kos_kubeconfig_clear(&k);
        return r;
    }
    *ret = k;
    return 0;
}

void kos_kubeconfig_clear(struct kos_kubeconfig *k)
{
    if (!k)
        return;
    free(k->server);
    free(k->ca_pem);
    free(k->cert_pem);
    free(k->key_pem);
    free(k->token);
    memset(k, 0, sizeof(*k));
}

void kos_kubeconfig_client_config(const struct kos_kubeconfig *k, const char *user_agent,
                                  struct kos_client_config *ret)
{
    *ret = (struct kos_client_config){
        .server = k->server,
        .bearer_token = k->token,
        .ca_pem = k->ca_pem,
        .cert_pem = k->cert_pem,
        .key_pem = k->key_pem,
        .insecure_skip_tls_verify = k->insecure_skip_tls_verify,
        .user_agent = user_agent,
    };
}

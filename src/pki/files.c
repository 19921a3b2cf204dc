/* Key and certificate files, and the kubeconfig that embeds them. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/pki_internal.h"
#include "util/fs.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define KUBECONFIG_MAX (64u * 1024)
#define URL_MAX        2048

int pki_read_file(const char *path, char **ret, size_t *ret_len, struct kos_error **err)
{
    int r = kos_read_file(path, PKI_MAX_FILE, ret, ret_len);
    if (r == -ENOENT || r == -ENOMEM)
        return r;
    if (r == -EFBIG)
        return pki_fail(err, r, "%s is larger than %u bytes", path, PKI_MAX_FILE);
    if (r < 0)
        return pki_fail(err, r, "cannot read %s: %s", path, strerror(-r));
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_parent(const char *path)
{
    _cleanup_free_ char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    _cleanup_close_ int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        return -errno;
    return 0;
}

int pki_write_file(const char *path, const void *data, size_t len, mode_t mode,
                   struct kos_error **err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return pki_fail(err, -ENAMETOOLONG, "path too long: %s", path);
    /* mkostemp creates with O_EXCL and mode 0600: a key is never readable by others, not even
     * for a moment; certificates are opened up with fchmod afterwards. */
    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return pki_fail(err, -errno, "cannot create a file next to %s: %s", path, strerror(errno));
    int r = write_all(fd, data, len);
    if (r == 0 && mode != 0600 && fchmod(fd, mode) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return pki_fail(err, r, "cannot write %s: %s", path, strerror(-r));
    }
    r = fsync_parent(path);
    if (r < 0)
        return pki_fail(err, r, "cannot sync the directory of %s: %s", path, strerror(-r));
    return 0;
}

/* The URL goes into a double-quoted YAML scalar: refuse what would need escaping. */
static bool safe_url(const char *url)
{
    size_t len = strnlen(url, URL_MAX + 1);
    if (len == 0 || len > URL_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static int append_b64(struct kos_buf *b, const char *key, const char *pem)
{
    _cleanup_free_ char *enc = kos_base64_encode(pem, strlen(pem));
    if (!enc)
        return -ENOMEM;
    return kos_buf_printf(b, "    %s: %s\n", key, enc);
}

int pki_write_kubeconfig(const char *path, const char *server_url, const char *ca_pem,
                         const char *client_cert_pem, const char *client_key_pem,
                         struct kos_error **err)
{
    if (!path || !server_url || !safe_url(server_url))
        return pki_fail(err, -EINVAL, "kubeconfig: invalid server URL");
    if (!client_cert_pem != !client_key_pem)
        return pki_fail(err, -EINVAL, "kubeconfig: a client certificate needs its key");
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, KUBECONFIG_MAX);
    int r = kos_buf_printf(&b,
                           "apiVersion: v1\n"
                           "kind: Config\n"
                           "clusters:\n"
                           "- name: kos\n"
                           "  cluster:\n"
                           "    server: \"%s\"\n",
                           server_url);
    if (r == 0 && ca_pem)
        r = append_b64(&b, "certificate-authority-data", ca_pem);
    if (r == 0)
        r = kos_buf_append_str(&b, "contexts:\n"
                                   "- name: kos\n"
                                   "  context:\n"
                                   "    cluster: kos\n"
                                   "    user: admin\n"
                                   "    namespace: default\n"
                                   "current-context: kos\n"
                                   "preferences: {}\n"
                                   "users:\n"
                                   "- name: admin\n");
    if (r == 0 && client_cert_pem) {
        r = kos_buf_append_str(&b, "  user:\n");
        if (r == 0)
            r = append_b64(&b, "client-certificate-data", client_cert_pem);
        if (r == 0)
            r = append_b64(&b, "client-key-data", client_key_pem);
    } else if (r == 0) {
        r = kos_buf_append_str(&b, "  user: {}\n");
    }
    if (r < 0)
        return pki_fail(err, r, "kubeconfig: %s", strerror(-r));
    return pki_write_file(path, b.data, b.len, 0600, err);
}

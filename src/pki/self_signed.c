/* The serving pair a kubelet makes for itself when given none (kubelet's
 * cert.GenerateSelfSignedCertKey): a throwaway CA "<host>-ca@<unix time>" and a serving
 * certificate from it, the file holding the leaf followed by that CA. Made once and kept:
 * a restart serves the same certificate. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pki/pki_internal.h"
#include "util/buf.h"
#include "util/cleanup.h"

static int load_existing(const char *crt_path, const char *key_path, struct pki_keypair *ret)
{
    _cleanup_free_ char *crt = NULL, *key = NULL;
    size_t crt_len = 0, key_len = 0;
    if (pki_read_file(crt_path, &crt, &crt_len, NULL) < 0 ||
        pki_read_file(key_path, &key, &key_len, NULL) < 0)
        return -ENOENT;
    if (pki_check_keypair(crt, crt_len, key, key_len, "kubelet", NULL) < 0)
        return -EINVAL;
    ret->cert_pem = TAKE_PTR(crt);
    ret->key_pem = TAKE_PTR(key);
    return 0;
}

int pki_ensure_self_signed(const char *dir, const char *name, const char *host,
                           const char *const *sans, size_t nsans, struct pki_keypair *ret,
                           struct kos_error **err)
{
    char crt_path[4096], key_path[4096];
    if (snprintf(crt_path, sizeof(crt_path), "%s/%s.crt", dir, name) >= (int)sizeof(crt_path) ||
        snprintf(key_path, sizeof(key_path), "%s/%s.key", dir, name) >= (int)sizeof(key_path))
        return pki_fail(err, -ENAMETOOLONG, "%s: path too long", dir);
    if (load_existing(crt_path, key_path, ret) == 0)
        return 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return pki_fail(err, -errno, "cannot create %s: %s", dir, strerror(errno));

    char ca_cn[PKI_MAX_NAME];
    snprintf(ca_cn, sizeof(ca_cn), "%s-ca@%lld", host, (long long)time(NULL));
    const struct pki_cert_spec ca_spec = {.kind = PKI_CERT_CA, .common_name = ca_cn};
    _cleanup_keypair_ struct pki_keypair ca = {0}, leaf = {0};
    int r = pki_issue(&ca_spec, NULL, &ca, err);
    if (r < 0)
        return r;
    char leaf_cn[PKI_MAX_NAME];
    snprintf(leaf_cn, sizeof(leaf_cn), "%s@%lld", host, (long long)time(NULL));
    const struct pki_cert_spec spec = {
        .kind = PKI_CERT_SERVER, .common_name = leaf_cn, .sans = sans, .nsans = nsans};
    if ((r = pki_issue(&spec, &ca, &leaf, err)) < 0)
        return r;
    struct kos_buf chain;
    kos_buf_init(&chain, PKI_MAX_FILE);
    kos_buf_append_str(&chain, leaf.cert_pem);
    kos_buf_append_str(&chain, ca.cert_pem);
    _cleanup_free_ char *chain_pem = kos_buf_steal(&chain, NULL);
    if (!chain_pem)
        return pki_fail(err, -ENOMEM, "out of memory");
    if ((r = pki_write_file(key_path, leaf.key_pem, strlen(leaf.key_pem), 0600, err)) < 0 ||
        (r = pki_write_file(crt_path, chain_pem, strlen(chain_pem), 0644, err)) < 0)
        return r;
    ret->cert_pem = TAKE_PTR(chain_pem);
    ret->key_pem = TAKE_PTR(leaf.key_pem);
    return 0;
}

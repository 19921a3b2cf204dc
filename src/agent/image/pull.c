/* image_pull / image_lookup: the pull policy, resolving a reference to a platform manifest,
 * fetching what is missing into the store, unpacking layers, and the kubelet's error texts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/image/digest.h"
#include "agent/image/manifest.h"
#include "agent/image/registry.h"
#include "agent/image/store.h"
#include "util/cleanup.h"
#include "util/strutil.h"

#define PLATFORM_OS   "linux"
#define PLATFORM_ARCH "amd64"

/* Puts `prefix` before the message already in *err. */
static void prefix_error(struct kos_error **err, const char *fmt, const char *a, const char *b)
{
    if (!err || !*err)
        return;
    char pre[1024];
    snprintf(pre, sizeof(pre), fmt, a, b);
    char *msg = NULL;
    if (asprintf(&msg, "%s%s", pre, (*err)->message ? (*err)->message : "") < 0)
        return;
    free((*err)->message);
    (*err)->message = msg;
}

static void manifest_info_layers(const struct image_manifest *m, struct image_info *info)
{
    info->n_layers = m->n_layers;
    info->size = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        memcpy(info->layers[i], m->layers[i].digest, IMAGE_DIGEST_MAX);
        info->size += m->layers[i].size;
    }
}

/* Reads the image manifest for top (an index or a manifest) from the store. */
static int local_manifest(struct image_store *s, const char *top, struct image_manifest *m,
                          struct kos_error **err)
{
    _cleanup_buf_ struct kos_buf b;
    kos_buf_init(&b, IMAGE_MANIFEST_MAX_BYTES);
    int r = image_store_read_blob(s, top, IMAGE_MANIFEST_MAX_BYTES, &b, err);
    if (r < 0)
        return r;
    r = image_manifest_parse(b.data, b.len, NULL, PLATFORM_OS, PLATFORM_ARCH, m, err);
    if (r < 0)
        return r;
    if (m->kind == IMAGE_MANIFEST_INDEX) {
        char pd[IMAGE_DIGEST_MAX];
        memcpy(pd, m->platform.digest, sizeof(pd));
        r = image_store_read_blob(s, pd, IMAGE_MANIFEST_MAX_BYTES, &b, err);
        if (r < 0)
            return r;
        r = image_manifest_parse(b.data, b.len, NULL, PLATFORM_OS, PLATFORM_ARCH, m, err);
        if (r < 0)
            return r;
        if (m->kind != IMAGE_MANIFEST_IMAGE) {
            image_manifest_clear(m);
            return kos_error_set(err, 502, "ErrImagePull", "index %s: nested index", top);
        }
    }
    return 0;
}

/* Fills info from the store. -ENOENT (no *err) when anything is missing. */
static int build_info(struct image_store *s, const char *ref, const char *top,
                      struct image_info *out, struct kos_error **err)
{
    struct image_manifest m = {0};
    _cleanup_error_ struct kos_error *lerr = NULL;
    int r = local_manifest(s, top, &m, &lerr);
    if (r == -ENOENT)
        return -ENOENT;
    if (r < 0) {
        if (err && !*err)
            *err = TAKE_PTR(lerr);
        return r;
    }
    struct image_info info = {0};
    kos_strlcpy(info.ref, ref, sizeof(info.ref));
    kos_strlcpy(info.digest, top, sizeof(info.digest));
    kos_strlcpy(info.config_digest, m.config.digest, sizeof(info.config_digest));
    {
        struct image_ref pr;
        if (image_ref_parse(ref, &pr, NULL) == 0)
            snprintf(info.repo_digest, sizeof(info.repo_digest), "%s/%s@%s", pr.domain, pr.path,
                     top);
    }
    info.layers = calloc(m.n_layers ? m.n_layers : 1, sizeof(*info.layers));
    if (!info.layers) {
        image_manifest_clear(&m);
        return -ENOMEM;
    }
    manifest_info_layers(&m, &info);
    image_manifest_clear(&m);
    for (size_t i = 0; i < info.n_layers; i++) {
        if (image_store_has_layer(s, info.layers[i]))
            continue;
        if (!image_store_has_blob(s, info.layers[i])) {
            image_info_clear(&info);
            return -ENOENT;
        }
        r = image_store_unpack_layer(s, info.layers[i], err);
        if (r < 0) {
            image_info_clear(&info);
            return r;
        }
    }
    _cleanup_buf_ struct kos_buf cfg;
    kos_buf_init(&cfg, IMAGE_CONFIG_MAX_BYTES);
    r = image_store_read_blob(s, info.config_digest, IMAGE_CONFIG_MAX_BYTES, &cfg, err);
    if (r >= 0)
        r = image_config_parse(cfg.data, cfg.len, &info, err);
    if (r < 0) {
        image_info_clear(&info);
        return r;
    }
    *out = info;
    return 0;
}

static int lookup_ref(struct image_store *s, const struct image_ref *ref, const char *norm,
                      char top[IMAGE_DIGEST_MAX])
{
    if (ref->digest[0]) {
        if (!image_store_has_blob(s, ref->digest))
            return -ENOENT;
        memcpy(top, ref->digest, IMAGE_DIGEST_MAX);
        return 0;
    }
    return image_store_ref_get(s, norm, top);
}

/* Downloads a blob unless present; verified before it gets its name. */
static int fetch_blob(struct image_store *s, struct registry *reg, const char *digest,
                      uint64_t size, struct kos_error **err)
{
    if (image_store_has_blob(s, digest))
        return 0;
    char lockname[80];
    snprintf(lockname, sizeof(lockname), "blob-%s", image_digest_hex(digest));
    _cleanup_close_ int lk = image_store_lock(s, lockname);
    if (lk < 0)
        return kos_error_set(err, 500, "ErrImagePull", "cannot lock blob %s: %s", digest,
                             strerror(-lk));
    if (image_store_has_blob(s, digest))
        return 0;
    char tmp[4096];
    _cleanup_close_ int fd = image_store_tmpfile(s, tmp, sizeof(tmp));
    if (fd < 0)
        return kos_error_set(err, 500, "ErrImagePull", "cannot create a temp file: %s",
                             strerror(-fd));
    int r = registry_get_blob(reg, digest, size, fd, err);
    if (r >= 0 && fsync(fd) < 0)
        r = kos_error_set(err, 500, "ErrImagePull", "fsync: %s", strerror(errno));
    if (r >= 0)
        r = image_store_commit_blob(s, tmp, digest);
    if (r < 0)
        unlink(tmp);
    return r;
}

static int remote_pull(struct image_store *s, const struct image_ref *ref, const char *norm,
                       const struct image_credentials *creds, char top[IMAGE_DIGEST_MAX],
                       struct kos_error **err)
{
    struct registry *reg = NULL;
    int r = registry_open(ref, creds, &reg, err);
    if (r < 0)
        return r;
    _cleanup_buf_ struct kos_buf body;
    kos_buf_init(&body, IMAGE_MANIFEST_MAX_BYTES);
    char ct[128], dg[IMAGE_DIGEST_MAX];
    struct image_manifest m = {0};
    r = registry_get_manifest(reg, ref->digest[0] ? ref->digest : ref->tag, &body, ct, sizeof(ct),
                              dg, err);
    if (r < 0) {
        prefix_error(err, "failed to resolve reference \"%s\": %s", norm, "");
        goto out;
    }
    r = image_manifest_parse(body.data, body.len, ct, PLATFORM_OS, PLATFORM_ARCH, &m, err);
    if (r < 0)
        goto out;
    r = image_store_put_blob(s, dg, body.data, body.len);
    if (r < 0)
        goto io;
    memcpy(top, dg, IMAGE_DIGEST_MAX);
    if (m.kind == IMAGE_MANIFEST_INDEX) {
        char pd[IMAGE_DIGEST_MAX];
        memcpy(pd, m.platform.digest, sizeof(pd));
        r = registry_get_manifest(reg, pd, &body, ct, sizeof(ct), dg, err);
        if (r < 0)
            goto out;
        r = image_manifest_parse(body.data, body.len, ct, PLATFORM_OS, PLATFORM_ARCH, &m, err);
        if (r < 0)
            goto out;
        if (m.kind != IMAGE_MANIFEST_IMAGE) {
            r = kos_error_set(err, 502, "ErrImagePull", "index %s: nested index", top);
            goto out;
        }
        r = image_store_put_blob(s, dg, body.data, body.len);
        if (r < 0)
            goto io;
    }
    r = fetch_blob(s, reg, m.config.digest, m.config.size, err);
    for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
        if (!image_store_has_layer(s, m.layers[i].digest))
            r = fetch_blob(s, reg, m.layers[i].digest, m.layers[i].size, err);
    for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
        r = image_store_unpack_layer(s, m.layers[i].digest, err);
    if (r < 0)
        goto out;
    if (!ref->digest[0]) {
        r = image_store_ref_set(s, norm, top);
        if (r < 0)
            goto io;
    }
    goto out;
io:
    r = kos_error_set(err, 500, "ErrImagePull", "cannot write to the image store: %s",
                      strerror(-r));
out:
    image_manifest_clear(&m);
    registry_close(reg);
    return r;
}

int image_pull(struct image_store *s, const char *image, enum image_pull_policy policy,
               const struct image_credentials *credentials, struct image_info *out,
               struct kos_error **err)
{
    struct image_ref ref;
    int r = image_ref_parse(image, &ref, err);
    if (r < 0)
        return r;
    char norm[IMAGE_REF_MAX];
    if (image_ref_format(&ref, norm, sizeof(norm)) < 0)
        return kos_error_set(err, 400, "InvalidImageName", "image name too long");
    if (policy == IMAGE_PULL_DEFAULT)
        policy = image_pull_policy_default(image);

    char top[IMAGE_DIGEST_MAX];
    if (policy != IMAGE_PULL_ALWAYS && lookup_ref(s, &ref, norm, top) == 0) {
        /* A damaged local copy (its bad blob is dropped by the read) is pulled again unless
         * the policy forbids it. */
        _cleanup_error_ struct kos_error *lerr = NULL;
        r = build_info(s, norm, top, out, &lerr);
        if (r >= 0)
            return r;
        if (r != -ENOENT && policy == IMAGE_PULL_NEVER) {
            if (err && !*err)
                *err = TAKE_PTR(lerr);
            return r;
        }
    }
    if (policy == IMAGE_PULL_NEVER)
        return kos_error_set(err, 404, "ErrImageNeverPull",
                             "Container image \"%s\" is not present with pull policy of Never",
                             image);

    r = remote_pull(s, &ref, norm, credentials, top, err);
    if (r >= 0) {
        r = build_info(s, norm, top, out, err);
        if (r == -ENOENT)
            r = kos_error_set(err, 500, "ErrImagePull", "image vanished from the store");
    }
    if (r < 0) {
        if (err && *err && strcmp((*err)->reason, "ErrImagePull") != 0)
            kos_strlcpy((*err)->reason, "ErrImagePull", sizeof((*err)->reason));
        else if (err && !*err)
            kos_error_set(err, 500, "ErrImagePull", "%s", strerror(-r));
        prefix_error(err, "Failed to pull image \"%s\": %s", image, "");
    }
    return r;
}

int image_lookup(struct image_store *s, const char *image, struct image_info *out,
                 struct kos_error **err)
{
    struct image_ref ref;
    int r = image_ref_parse(image, &ref, err);
    if (r < 0)
        return r;
    char norm[IMAGE_REF_MAX], top[IMAGE_DIGEST_MAX];
    if (image_ref_format(&ref, norm, sizeof(norm)) < 0)
        return kos_error_set(err, 400, "InvalidImageName", "image name too long");
    if (lookup_ref(s, &ref, norm, top) < 0)
        return -ENOENT;
    return build_info(s, norm, top, out, err);
}

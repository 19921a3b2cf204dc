#include "agent/image/manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/image/digest.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define MT_OCI_INDEX      "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST   "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_MANIF   "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1"

static int bad(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 502, "ErrImagePull", "%s", what);
}

static int parse_descriptor(json_t *o, struct image_descriptor *d, struct kos_error **err)
{
    if (!json_is_object(o))
        return bad(err, "invalid manifest: descriptor is not an object");
    const char *mt = json_string_value(json_object_get(o, "mediaType"));
    const char *dg = json_string_value(json_object_get(o, "digest"));
    json_t *sz = json_object_get(o, "size");
    if (!dg || !image_digest_valid(dg))
        return bad(err, "invalid manifest: descriptor digest is missing or not a sha256 digest");
    if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
        (uint64_t)json_integer_value(sz) > IMAGE_LAYER_MAX_BYTES)
        return bad(err, "invalid manifest: descriptor size is missing or out of range");
    memset(d, 0, sizeof(*d));
    if (mt && strlen(mt) >= sizeof(d->media_type))
        return bad(err, "invalid manifest: media type too long");
    kos_strlcpy(d->media_type, mt ? mt : "", sizeof(d->media_type));
    kos_strlcpy(d->digest, dg, sizeof(d->digest));
    d->size = (uint64_t)json_integer_value(sz);
    return 0;
}

static bool layer_type_ok(const char *mt)
{
    /* An empty media type is tolerated: the layer's bytes are sniffed when unpacked. */
    static const char *const ok[] = {
        "",
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
        if (strcmp(mt, ok[i]) == 0)
            return true;
    return false;
}

static int parse_index(json_t *root, const char *os, const char *arch, struct image_manifest *m,
                       struct kos_error **err)
{
    json_t *list = json_object_get(root, "manifests");
    if (!json_is_array(list))
        return bad(err, "invalid index: \"manifests\" is not a list");
    if (json_array_size(list) > IMAGE_MAX_INDEX_ENTRIES)
        return bad(err, "invalid index: too many manifests");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        json_t *pl = json_object_get(e, "platform");
        const char *pos = json_string_value(json_object_get(pl, "os"));
        const char *parch = json_string_value(json_object_get(pl, "architecture"));
        if (!pos || !parch || strcmp(pos, os) != 0 || strcmp(parch, arch) != 0)
            continue;
        struct image_descriptor d;
        int r = parse_descriptor(e, &d, err);
        if (r < 0)
            return r;
        m->kind = IMAGE_MANIFEST_INDEX;
        m->platform = d;
        return 0;
    }
    return kos_error_set(err, 404, "ErrImagePull",
                         "no match for platform in manifest: %s/%s: not found", os, arch);
}

static int parse_image_manifest(json_t *root, struct image_manifest *m, struct kos_error **err)
{
    json_t *cfg = json_object_get(root, "config");
    json_t *layers = json_object_get(root, "layers");
    if (!cfg || !json_is_array(layers))
        return bad(err, "invalid manifest: \"config\" or \"layers\" missing");
    size_t n = json_array_size(layers);
    if (n > IMAGE_MAX_LAYERS)
        return bad(err, "invalid manifest: too many layers");
    int r = parse_descriptor(cfg, &m->config, err);
    if (r < 0)
        return r;
    m->layers = calloc(n ? n : 1, sizeof(*m->layers));
    if (!m->layers)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        r = parse_descriptor(json_array_get(layers, i), &m->layers[i], err);
        if (r < 0)
            goto fail;
        if (!layer_type_ok(m->layers[i].media_type)) {
            r = kos_error_set(err, 415, "ErrImagePull", "unsupported layer media type %s",
                              m->layers[i].media_type);
            goto fail;
        }
    }
    m->n_layers = n;
    m->kind = IMAGE_MANIFEST_IMAGE;
    return 0;
fail:
    free(m->layers);
    m->layers = NULL;
    return r;
}

int image_manifest_parse(const void *data, size_t len, const char *content_type, const char *os,
                         const char *arch, struct image_manifest *out, struct kos_error **err)
{
    if (len > IMAGE_MANIFEST_MAX_BYTES)
        return bad(err, "manifest too large");
    json_error_t jerr;
    _cleanup_json_ json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root))
        return bad(err, "invalid manifest: not a JSON object");
    json_t *sv = json_object_get(root, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1)
        return kos_error_set(err, 415, "ErrImagePull",
                             "unsupported manifest: Docker schema 1 manifests are not supported");
    const char *mt = json_string_value(json_object_get(root, "mediaType"));
    if (!mt || !*mt)
        mt = content_type;
    struct image_manifest m = {0};
    int r;
    if (mt && (kos_str_has_prefix(mt, MT_OCI_INDEX) || kos_str_has_prefix(mt, MT_DOCKER_LIST)))
        r = parse_index(root, os, arch, &m, err);
    else if (mt &&
             (kos_str_has_prefix(mt, MT_OCI_MANIFEST) || kos_str_has_prefix(mt, MT_DOCKER_MANIF)))
        r = parse_image_manifest(root, &m, err);
    else if (mt && kos_str_has_prefix(mt, MT_DOCKER_SCHEMA1))
        r = kos_error_set(err, 415, "ErrImagePull",
                          "unsupported manifest: Docker schema 1 manifests are not supported");
    else if (json_is_array(json_object_get(root, "manifests")))
        r = parse_index(root, os, arch, &m, err);
    else if (json_is_array(json_object_get(root, "layers")))
        r = parse_image_manifest(root, &m, err);
    else
        r = kos_error_set(err, 415, "ErrImagePull", "unsupported manifest media type %s",
                          mt ? mt : "(none)");
    if (r < 0)
        return r;
    *out = m;
    return 0;
}

void image_manifest_clear(struct image_manifest *m)
{
    if (!m)
        return;
    free(m->layers);
    m->layers = NULL;
    m->n_layers = 0;
}

static void strv_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* A JSON list of strings -> NULL-terminated vector; NULL (and 0) for null/absent. */
static int strv_from_json(json_t *a, char ***out, struct kos_error **err)
{
    *out = NULL;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) > 65536)
        return bad(err, "invalid image config: expected a list of strings");
    size_t n = json_array_size(a);
    char **v = calloc(n + 1, sizeof(char *));
    if (!v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s) {
            strv_free(v);
            return bad(err, "invalid image config: expected a list of strings");
        }
        v[i] = strdup(s);
        if (!v[i]) {
            strv_free(v);
            return -ENOMEM;
        }
    }
    *out = v;
    return 0;
}

static int dup_opt(json_t *s, char **out)
{
    const char *v = json_string_value(s);
    *out = NULL;
    if (!v || !*v)
        return 0;
    *out = strdup(v);
    return *out ? 0 : -ENOMEM;
}

int image_config_parse(const void *data, size_t len, struct image_info *info,
                       struct kos_error **err)
{
    if (len > IMAGE_CONFIG_MAX_BYTES)
        return bad(err, "image config too large");
    json_error_t jerr;
    _cleanup_json_ json_t *root = json_loadb(data, len, 0, &jerr);
    if (!json_is_object(root))
        return bad(err, "invalid image config: not a JSON object");
    json_t *cfg = json_object_get(root, "config");
    if (cfg && !json_is_null(cfg) && !json_is_object(cfg))
        return bad(err, "invalid image config: \"config\" is not an object");
    char **ep = NULL, **cmd = NULL, **env = NULL;
    char *wd = NULL, *user = NULL, *stop = NULL;
    int r = strv_from_json(json_object_get(cfg, "Entrypoint"), &ep, err);
    if (r >= 0)
        r = strv_from_json(json_object_get(cfg, "Cmd"), &cmd, err);
    if (r >= 0)
        r = strv_from_json(json_object_get(cfg, "Env"), &env, err);
    if (r >= 0)
        r = dup_opt(json_object_get(cfg, "WorkingDir"), &wd);
    if (r >= 0)
        r = dup_opt(json_object_get(cfg, "User"), &user);
    if (r >= 0)
        r = dup_opt(json_object_get(cfg, "StopSignal"), &stop);
    if (r < 0) {
        strv_free(ep);
        strv_free(cmd);
        strv_free(env);
        free(wd);
        free(user);
        free(stop);
        return r;
    }
    info->entrypoint = ep;
    info->cmd = cmd;
    info->env = env;
    info->working_dir = wd;
    info->user = user;
    info->stop_signal = stop;
    return 0;
}

void image_info_clear(struct image_info *info)
{
    if (!info)
        return;
    strv_free(info->entrypoint);
    strv_free(info->cmd);
    strv_free(info->env);
    free(info->working_dir);
    free(info->user);
    free(info->stop_signal);
    free(info->layers);
    memset(info, 0, sizeof(*info));
}

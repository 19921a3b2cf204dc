/* The Kubernetes protobuf envelope: the magic "k8s\0" and a runtime.Unknown message
 *   {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
 * whose raw bytes are the object's message, decoded by proto_decode.c with the table of the
 * kind the TypeMeta names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/proto_decode.h"
#include "codec/protobuf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

static const char magic[4] = {'k', '8', 's', '\0'};

/* What reading the envelope needs: the field budget and where errors go. */
struct env_ctx {
    struct pb_budget budget;
    struct kos_error **err;
};

/* Kinds kos decodes from protobuf without serving a resource for them, or that any group
 * version carries (DeleteOptions is registered in every one). */
static const struct {
    const char *group; /* NULL: any */
    const char *kind;
    const char *schema;
} extra_kinds[] = {
    {"authorization.k8s.io", "SelfSubjectAccessReview",
     "io.k8s.api.authorization.v1.SelfSubjectAccessReview"},
    {"authorization.k8s.io", "SubjectAccessReview",
     "io.k8s.api.authorization.v1.SubjectAccessReview"},
    {"authorization.k8s.io", "LocalSubjectAccessReview",
     "io.k8s.api.authorization.v1.LocalSubjectAccessReview"},
    {"authorization.k8s.io", "SelfSubjectRulesReview",
     "io.k8s.api.authorization.v1.SelfSubjectRulesReview"},
    {"authentication.k8s.io", "SelfSubjectReview",
     "io.k8s.api.authentication.v1.SelfSubjectReview"},
    {"authentication.k8s.io", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest"},
    {"batch", "CronJob", "io.k8s.api.batch.v1.CronJob"},
    {"", "ResourceQuota", "io.k8s.api.core.v1.ResourceQuota"},
    {NULL, "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"},
};

const struct schema_struct *proto_schema_for(const char *api_version, const char *kind)
{
    char group[256] = "";
    const char *version = api_version, *slash;

    if (!api_version || !kind)
        return NULL;
    slash = strrchr(api_version, '/');
    if (slash) {
        size_t n = (size_t)(slash - api_version);
        if (n == 0 || n >= sizeof(group))
            return NULL;
        memcpy(group, api_version, n);
        group[n] = '\0';
        version = slash + 1;
    }
    if (strcmp(version, "v1") != 0)
        return NULL;
    const struct schema_struct *s = schema_for_group_kind(group, version, kind);
    if (s)
        return s;
    for (size_t i = 0; i < ARRAY_SIZE(extra_kinds); i++)
        if (strcmp(extra_kinds[i].kind, kind) == 0 &&
            (!extra_kinds[i].group || strcmp(extra_kinds[i].group, group) == 0))
            return schema_struct_by_name(extra_kinds[i].schema);
    return NULL;
}

/* A length for "%.*s" that keeps at most max bytes of s without splitting a UTF-8 sequence,
 * so that echoing client strings keeps error messages short and valid. */
static int clip(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return (int)len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return (int)max;
}

struct envelope {
    struct pb_field raw, encoding, content_type;
    char *api_version, *kind;
};

static void envelope_done(struct envelope *e)
{
    free(e->api_version);
    free(e->kind);
}

/* A string of the envelope into *ret (malloc'd). */
static int envelope_string(struct env_ctx *d, const struct pb_field *f, const char *what,
                           char **ret)
{
    if (f->wire != PB_WIRE_LEN)
        return kos_error_set(d->err, 400, "BadRequest",
                             "protobuf: the envelope's %s at offset %zu is a %s, expected a %s",
                             what, f->offset, pb_wire_name(f->wire), pb_wire_name(PB_WIRE_LEN));
    if (!proto_text_ok(f->data, f->len))
        return kos_error_set(d->err, 400, "BadRequest",
                             "protobuf: the envelope's %s at offset %zu is not valid UTF-8 or "
                             "holds a NUL byte",
                             what, f->offset);
    char *s = strndup((const char *)f->data, f->len);
    if (!s)
        return -ENOMEM;
    free(*ret);
    *ret = s;
    return 0;
}

static int read_envelope(struct env_ctx *d, const uint8_t *data, size_t len, struct envelope *e)
{
    struct pb_reader r, tm;
    struct pb_field f, g;
    int n;

    pb_reader_init(&r, &d->budget, data + sizeof(magic), len - sizeof(magic), sizeof(magic));
    while ((n = pb_next(&r, &f, d->err)) > 0) {
        if (f.number < 1 || f.number > 4)
            continue;
        if (f.wire != PB_WIRE_LEN)
            return kos_error_set(d->err, 400, "BadRequest",
                                 "protobuf: field %u of the envelope (runtime.Unknown) at offset "
                                 "%zu is a %s, expected a %s",
                                 (unsigned)f.number, f.offset, pb_wire_name(f.wire),
                                 pb_wire_name(PB_WIRE_LEN));
        if (f.number == 1) {
            if ((n = pb_reader_sub(&r, &f, &tm, d->err)) < 0)
                return n;
            while ((n = pb_next(&tm, &g, d->err)) > 0) {
                if (g.number == 1)
                    n = envelope_string(d, &g, "apiVersion", &e->api_version);
                else if (g.number == 2)
                    n = envelope_string(d, &g, "kind", &e->kind);
                if (n < 0)
                    return n;
            }
            if (n < 0)
                return n;
        } else if (f.number == 2) {
            e->raw = f;
        } else if (f.number == 3) {
            e->encoding = f;
        } else {
            e->content_type = f;
        }
    }
    return n;
}

int proto_decode_body(const void *data, size_t len, json_t **ret, struct kos_error **err)
{
    _cleanup_error_ struct kos_error *inner = NULL;
    struct env_ctx d = {.err = &inner};
    struct envelope e = {0};
    _cleanup_json_ json_t *obj = NULL;
    int n;

    if (!data || len < sizeof(magic) || memcmp(data, magic, sizeof(magic)) != 0) {
        n = kos_error_set(&inner, 400, "BadRequest",
                          "protobuf: the body does not start with the magic \"k8s\\x00\"");
        goto out;
    }
    n = read_envelope(&d, data, len, &e);
    if (n < 0)
        goto out;
    if (e.encoding.len > 0) {
        /* Unknown.ContentEncoding has never been set by any client; refuse rather than guess. */
        n = kos_error_set(&inner, 415, "UnsupportedMediaType",
                          "protobuf: the envelope's contentEncoding is set; kos supports none");
        goto out;
    }
    if (e.content_type.len > 0 &&
        (e.content_type.len != strlen(PROTO_MEDIA_TYPE) ||
         memcmp(e.content_type.data, PROTO_MEDIA_TYPE, e.content_type.len) != 0)) {
        n = kos_error_set(&inner, 415, "UnsupportedMediaType",
                          "protobuf: the envelope holds content of another type than %s",
                          PROTO_MEDIA_TYPE);
        goto out;
    }
    if (!e.kind || !e.kind[0] || !e.api_version || !e.api_version[0]) {
        n = kos_error_set(&inner, 400, "BadRequest",
                          "Object 'Kind' or 'apiVersion' is missing in the protobuf envelope");
        goto out;
    }
    const struct schema_struct *s = proto_schema_for(e.api_version, e.kind);
    if (!s) {
        n = kos_error_set(err, 415, "UnsupportedMediaType",
                          "the body of the request was in an unknown format - kos does not "
                          "decode %.*s, Kind=%.*s from protobuf; accepted media types include: "
                          "application/json, application/yaml",
                          clip(e.api_version, strlen(e.api_version), 128), e.api_version,
                          clip(e.kind, strlen(e.kind), 128), e.kind);
        goto out;
    }
    obj = json_object();
    if (!obj || json_object_set_new(obj, "kind", json_string(e.kind)) < 0 ||
        json_object_set_new(obj, "apiVersion", json_string(e.api_version)) < 0) {
        n = -ENOMEM;
        goto out;
    }
    n = proto_decode_message_into(s, e.raw.data, e.raw.len,
                                  e.raw.data ? (size_t)(e.raw.data - (const uint8_t *)data) : 0,
                                  obj, &inner);
    if (n >= 0)
        *ret = TAKE_PTR(obj);
out:
    envelope_done(&e);
    if (n < 0 && inner)
        kos_error_set(err, inner->code, inner->reason, "error decoding body: %s", inner->message);
    return n;
}

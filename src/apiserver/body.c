/* Request bodies: the Content-Type decides the decoder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/patch.h"
#include "api/proto_decode.h"
#include "apiserver/resource.h"
#include "codec/json.h"
#include "codec/yaml.h"
#include "util/strutil.h"

static bool media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (!ct || strncasecmp(ct, type, n) != 0)
        return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int decode_as(const struct http_request *req, bool yaml, json_t **ret,
                     struct kos_error **err)
{
    if (req->body.len == 0)
        return kos_error_set(err, 400, "BadRequest", "the request body is empty");
    if (yaml)
        return kos_yaml_decode(req->body.data, req->body.len, ret, err);
    return kos_json_decode(req->body.data, req->body.len, ret, err);
}

int body_decode(const struct http_request *req, json_t **ret, struct kos_error **err)
{
    const char *ct = http_header(req, "Content-Type");
    if (!ct || media_is(ct, "application/json") || media_is(ct, "*/*"))
        return decode_as(req, false, ret, err);
    if (media_is(ct, "application/yaml") || media_is(ct, "application/x-yaml") ||
        media_is(ct, "text/yaml"))
        return decode_as(req, true, ret, err);
    /* kubectl 1.32+ sends typed creates, access reviews and DeleteOptions as protobuf. */
    if (media_is(ct, PROTO_MEDIA_TYPE)) {
        if (req->body.len == 0)
            return kos_error_set(err, 400, "BadRequest", "the request body is empty");
        return proto_decode_body(req->body.data, req->body.len, ret, err);
    }
    return kos_error_set(err, 415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - accepted media "
                         "types include: application/json, application/yaml, " PROTO_MEDIA_TYPE);
}

/* Go decodes duplicate fields with the last one winning; kube-apiserver then fails the
 * request under fieldValidation=Strict and warns under Warn. */
int body_decode_object(const struct http_request *req, struct http_reply *rep, json_t **ret,
                       struct kos_error **err)
{
    const char *ct = http_header(req, "Content-Type");
    if (ct && !media_is(ct, "application/json") && !media_is(ct, "*/*"))
        return body_decode(req, ret, err);
    if (req->body.len == 0)
        return kos_error_set(err, 400, "BadRequest", "the request body is empty");
    char *dup = NULL;
    int r = kos_json_decode_allow_duplicates(req->body.data, req->body.len, ret, &dup, err);
    if (r < 0 || !dup)
        return r;
    const char *mode = http_query(req, "fieldValidation");
    if (mode && strcmp(mode, "Strict") == 0) {
        json_decref(*ret);
        *ret = NULL;
        r = kos_error_set(err, 400, "BadRequest", "strict decoding error: duplicate field %s", dup);
    } else if (!mode || strcmp(mode, "Ignore") != 0) {
        char warning[512];
        snprintf(warning, sizeof(warning), "duplicate field %s", dup);
        http_reply_add_warning(rep, warning);
    }
    free(dup);
    return r;
}

int body_decode_patch(const struct http_request *req, int *ret_type, json_t **ret,
                      struct kos_error **err)
{
    const char *ct = http_header(req, "Content-Type");
    int type;
    bool yaml = false;
    if (media_is(ct, "application/json-patch+json"))
        type = PATCH_JSON;
    else if (media_is(ct, "application/merge-patch+json"))
        type = PATCH_MERGE;
    else if (media_is(ct, "application/strategic-merge-patch+json"))
        type = PATCH_STRATEGIC;
    else if (media_is(ct, "application/apply-patch+yaml") ||
             media_is(ct, "application/apply-patch+cbor")) {
        type = PATCH_APPLY;
        yaml = true;
    } else
        return kos_error_set(err, 415, "UnsupportedMediaType",
                             "the body of the request was in an unknown format - accepted media "
                             "types include: application/json-patch+json, "
                             "application/merge-patch+json, application/apply-patch+yaml, "
                             "application/strategic-merge-patch+json");
    int r = decode_as(req, yaml, ret, err);
    if (r < 0)
        return r;
    *ret_type = type;
    return 0;
}

bool query_bool(const struct http_request *req, const char *key, bool *ret_valid)
{
    const char *v = http_query(req, key);
    bool b = false;
    if (ret_valid)
        *ret_valid = true;
    if (!v)
        return false;
    if (kos_parse_bool(v, &b) < 0) {
        if (ret_valid)
            *ret_valid = false;
        return false;
    }
    return b;
}

bool query_dry_run(const struct http_request *req)
{
    const char *v = http_query(req, "dryRun");
    return v && strcmp(v, "All") == 0;
}

#include "apiserver/respond.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

void reply_json(struct http_reply *rep, int status, const json_t *obj)
{
    size_t len = 0;
    char *body = kos_json_encode(obj, &len);
    if (!body) {
        reply_errorf(rep, 500, "InternalError", "failed to encode the response");
        return;
    }
    http_reply_set_body(rep, status, CT_JSON, body, len);
}

static void value_unref_cb(void *ctx)
{
    kos_value_unref(ctx);
}

void reply_value(struct http_reply *rep, int status, struct kos_value *v)
{
    struct iovec *iov = calloc(kos_value_iovcnt(v), sizeof(*iov));
    if (!iov) {
        reply_errorf(rep, 500, "InternalError", "out of memory");
        return;
    }
    size_t n = kos_value_iov(v, iov);
    free(rep->body);
    rep->body = NULL;
    rep->status = status;
    rep->content_type = CT_JSON;
    rep->iov = iov;
    rep->iovcnt = n;
    rep->iov_free = value_unref_cb;
    rep->iov_ctx = kos_value_ref(v);
}

void reply_error(struct http_reply *rep, const struct kos_error *err)
{
    json_t *status = kos_error_to_status(err);
    int code = err ? err->code : 500;
    if (!status) {
        http_reply_set_body(rep, 500, CT_TEXT, strdup("internal error"), 14);
        return;
    }
    reply_json(rep, code, status);
    json_decref(status);
}

void reply_errorf(struct http_reply *rep, int code, const char *reason, const char *fmt, ...)
{
    struct kos_error *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    kos_error_setv(&err, code, reason, fmt, ap);
    va_end(ap);
    reply_error(rep, err);
    kos_error_free(err);
}

void reply_store_error(struct http_reply *rep, int r, const char *plural, const char *group,
                       const char *name)
{
    struct kos_error *err = NULL;
    char what[320];
    if (group && group[0])
        snprintf(what, sizeof(what), "%s.%s", plural, group);
    else
        snprintf(what, sizeof(what), "%s", plural);
    switch (r) {
    case -ENOENT:
        kos_error_set(&err, 404, "NotFound", "%s \"%s\" not found", what, name);
        break;
    case -EEXIST:
        kos_error_set(&err, 409, "AlreadyExists", "%s \"%s\" already exists", what, name);
        break;
    case -ECANCELED:
        kos_error_set(&err, 409, "Conflict",
                      "Operation cannot be fulfilled on %s \"%s\": the object has been "
                      "modified; please apply your changes to the latest version and try again",
                      what, name);
        break;
    case -ESTALE:
        kos_error_set(&err, 410, "Expired", "the requested revision has been compacted");
        break;
    default:
        kos_error_set(&err, 500, "InternalError", "storage error: %s", strerror(-r));
        break;
    }
    if (r == -ENOENT || r == -EEXIST || r == -ECANCELED)
        kos_error_set_details(err, name, group && group[0] ? group : NULL, plural);
    reply_error(rep, err);
    kos_error_free(err);
}

void reply_text(struct http_reply *rep, int status, const char *text)
{
    char *body = strdup(text);
    if (!body) {
        rep->status = 500;
        return;
    }
    http_reply_set_body(rep, status, CT_TEXT, body, strlen(text));
}

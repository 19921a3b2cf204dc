#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kos_error_errno_for_code(int code)
{
    switch (code) {
    case 400:
    case 422:
        return -EINVAL;
    case 401:
    case 403:
        return -EACCES;
    case 404:
        return -ENOENT;
    case 405:
        return -EOPNOTSUPP;
    case 406:
    case 415:
        return -ENOTSUP;
    case 409:
        return -EEXIST;
    case 410:
        return -ESTALE;
    case 413:
        return -E2BIG;
    case 429:
        return -EBUSY;
    case 504:
        return -ETIMEDOUT;
    default:
        return -EIO;
    }
}

const char *kos_error_reason_for_code(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Expired";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 504:
        return "Timeout";
    default:
        return "InternalError";
    }
}

int kos_error_setv(struct kos_error **err, int code, const char *reason, const char *fmt,
                   va_list ap)
{
    int r = kos_error_errno_for_code(code);

    if (!err || *err)
        return r;

    struct kos_error *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->code = code;
    snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : kos_error_reason_for_code(code));
    if (vasprintf(&e->message, fmt, ap) < 0)
        e->message = NULL;
    *err = e;
    return r;
}

int kos_error_set(struct kos_error **err, int code, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = kos_error_setv(err, code, reason, fmt, ap);
    va_end(ap);
    return r;
}

static json_t *details_of(struct kos_error *err)
{
    if (!err->details)
        err->details = json_object();
    return err->details;
}

void kos_error_set_details(struct kos_error *err, const char *name, const char *group,
                           const char *kind)
{
    if (!err)
        return;
    json_t *d = details_of(err);
    if (!d)
        return;
    if (name)
        json_object_set_new(d, "name", json_string(name));
    if (group)
        json_object_set_new(d, "group", json_string(group));
    if (kind)
        json_object_set_new(d, "kind", json_string(kind));
}

void kos_error_add_cause(struct kos_error *err, const char *reason, const char *message,
                         const char *field)
{
    if (!err)
        return;
    json_t *d = details_of(err);
    if (!d)
        return;
    json_t *causes = json_object_get(d, "causes");
    if (!causes) {
        causes = json_array();
        if (json_object_set_new(d, "causes", causes) < 0)
            return;
    }
    json_t *c = json_object();
    if (!c)
        return;
    if (reason)
        json_object_set_new(c, "reason", json_string(reason));
    if (message)
        json_object_set_new(c, "message", json_string(message));
    if (field)
        json_object_set_new(c, "field", json_string(field));
    json_array_append_new(causes, c);
}

json_t *kos_error_to_status(const struct kos_error *err)
{
    int code = err ? err->code : 500;
    const char *reason = err ? err->reason : "InternalError";
    const char *message = err && err->message ? err->message : "internal error";

    json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
                          "metadata", "status", "Failure", "message", message, "reason", reason);
    if (!s)
        return NULL;
    if (err && err->details && json_object_size(err->details) > 0)
        json_object_set(s, "details", err->details);
    json_object_set_new(s, "code", json_integer(code));
    return s;
}

void kos_error_free(struct kos_error *err)
{
    if (!err)
        return;
    free(err->message);
    json_decref(err->details);
    free(err);
}

/* Building replies: JSON objects, stored values sent without re-encoding, Status errors. */
#pragma once

#include <jansson.h>

#include "apiserver/http.h"
#include "store/value.h"
#include "util/error.h"

#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"

/* Serializes obj (borrowed) as the body. */
void reply_json(struct http_reply *rep, int status, const json_t *obj);
/* Sends a stored value as-is (takes a new reference). */
void reply_value(struct http_reply *rep, int status, struct kos_value *v);
/* A Status body for err (NULL err: 500 InternalError). */
void reply_error(struct http_reply *rep, const struct kos_error *err);
void reply_errorf(struct http_reply *rep, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A Status for a failed store operation on one object (NotFound, AlreadyExists, Conflict). */
void reply_store_error(struct http_reply *rep, int r, const char *plural, const char *group,
                       const char *name);
void reply_text(struct http_reply *rep, int status, const char *text);

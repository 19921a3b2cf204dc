/* The error object that travels out of library code and becomes a Kubernetes Status.
 *
 * Functions return 0 (or a count) on success and a negative errno on failure. Where a person
 * must read the reason, they also fill a `struct kos_error **err` (crun's pattern): the HTTP
 * code, the Status reason ("NotFound", "Invalid", ...), a message and optional details.
 * Library code never logs; the handler turns the error into a Status body. */
#pragma once

#include <jansson.h>
#include <stdarg.h>

struct kos_error {
    int code;        /* HTTP status code: 400, 404, 409, 422, 500, ... */
    char reason[40]; /* Kubernetes StatusReason, e.g. "NotFound" */
    char *message;   /* human-readable, as kube-apiserver words it */
    json_t *details; /* optional StatusDetails object (name, group, kind, causes[]) */
};

/* Fills *err (when err is not NULL and *err is still NULL: the first error wins) and returns
 * the negative errno that matches the HTTP code (404 -> -ENOENT, 409 -> -EEXIST, ...). */
int kos_error_set(struct kos_error **err, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int kos_error_setv(struct kos_error **err, int code, const char *reason, const char *fmt,
                   va_list ap);

/* Sets details.name/group/kind (any may be NULL). */
void kos_error_set_details(struct kos_error *err, const char *name, const char *group,
                           const char *kind);

/* Appends details.causes[] = {reason, message, field}. */
void kos_error_add_cause(struct kos_error *err, const char *reason, const char *message,
                         const char *field);

/* Builds the meta/v1 Status object for the error (new reference). */
json_t *kos_error_to_status(const struct kos_error *err);

/* The negative errno kos_error_set returns for an HTTP code. */
int kos_error_errno_for_code(int code);

/* Standard reason for an HTTP code ("NotFound" for 404, ...). */
const char *kos_error_reason_for_code(int code);

void kos_error_free(struct kos_error *err);

static inline void kos_error_freep(struct kos_error **err)
{
    kos_error_free(*err);
}
#define _cleanup_error_ __attribute__((cleanup(kos_error_freep)))

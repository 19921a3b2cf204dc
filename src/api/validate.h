/* Validation with kube-apiserver's 422 messages. On failure returns -EINVAL and sets err to
 * 422 Invalid with message `<Kind> "<name>" is invalid: <field>: <detail>[, <field>: ...]`
 * (several errors joined as "[a, b]" the way apimachinery's ToAggregate prints them),
 * details {name, group, kind, causes[{reason: FieldValueRequired|FieldValueInvalid|
 * FieldValueNotSupported|FieldValueForbidden|FieldValueDuplicate|FieldValueTooLong, message,
 * field}]}. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "api/kinds.h"
#include "util/error.h"

/* Validates a new object (after defaulting). */
int kos_validate_create(const struct kos_kind *kind, const json_t *obj, struct kos_error **err);
/* Validates an update: the new object plus the immutability rules against the old one. */
int kos_validate_update(const struct kos_kind *kind, const json_t *obj, const json_t *old,
                        struct kos_error **err);

/* Name validators (return NULL if valid, else the apimachinery message, e.g.
 * "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or
 * '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used
 * for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')") */
const char *kos_validate_name(enum kos_name_rule rule, const char *name);

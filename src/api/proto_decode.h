/* Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) to JSON trees.
 *
 * kubectl 1.32+ (client-go 0.32 typed clients) sends creates, access reviews and DeleteOptions
 * this way. A body is the magic "k8s\0" and a runtime.Unknown message
 *   {1: TypeMeta{1: apiVersion, 2: kind}, 2: raw (the object's message),
 *    3: contentEncoding, 4: contentType}
 * and the object's message is decoded by the field tables of src/api/schema*.c into the JSON
 * the same object would have had, so that the request continues down the JSON path.
 *
 * Go's gogo-protobuf code writes every non-pointer field, zero or not, and Go cannot tell such
 * a zero from an absent field either. The JSON is what Go's encoder would write for the
 * decoded struct, which is what kubectl <= 1.31 sent: a zero scalar (empty string, 0, false)
 * is dropped when its JSON tag has omitempty, unless the Go field is a pointer (an explicit
 * replicas: 0 stays); messages are kept, empty or not ("spec": {}, as Go writes a non-pointer
 * struct); the zero metav1.Time is null. Slices and maps with no elements are absent. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/schema.h"
#include "util/error.h"

#define PROTO_MEDIA_TYPE "application/vnd.kubernetes.protobuf"

/* Decodes a whole body into a new JSON object whose "kind" and "apiVersion" come from the
 * envelope. Errors: 400 BadRequest "error decoding body: ..." for malformed input (with the
 * offset of the offending byte), 415 UnsupportedMediaType for a kind kos has no table for or a
 * content encoding it does not speak; -ENOMEM. */
int proto_decode_body(const void *data, size_t len, json_t **ret, struct kos_error **err);

/* Decodes one message of struct s (no envelope) into a new JSON object. Errors as above,
 * without the "error decoding body: " prefix. */
int proto_decode_message(const struct schema_struct *s, const void *data, size_t len, json_t **ret,
                         struct kos_error **err);

/* The table that decodes an envelope's kind: apiVersion "v1" or "<group>/v1"; NULL if none. */
const struct schema_struct *proto_schema_for(const char *api_version, const char *kind);

/* ---- internal to proto_*.c (exposed for tests) ------------------------------------------- */

/* Decodes a message of s into obj (which may already hold keys); offsets in messages count
 * from base. */
int proto_decode_message_into(const struct schema_struct *s, const void *data, size_t len,
                              size_t base, json_t *obj, struct kos_error **err);
/* UTF-8 as jansson accepts it, and no NUL byte. */
bool proto_text_ok(const void *data, size_t len);

enum {
    PROTO_FIELD_POINTER = 1 << 0,      /* a Go pointer: a zero value on the wire was set */
    PROTO_FIELD_NO_OMITEMPTY = 1 << 1, /* Go's JSON encoder writes its zero value */
    PROTO_FIELD_MICRO_TIME = 1 << 2,   /* metav1.MicroTime: RFC 3339 with microseconds */
};

struct proto_field_info {
    const char *owner; /* schema struct name */
    const char *field; /* JSON name */
    unsigned flags;
};

/* Flags of field `field` of struct `owner` (0 for most fields). */
unsigned proto_field_flags(const char *owner, const char *field);
/* The whole table, sorted by owner then field. */
const struct proto_field_info *proto_field_table(size_t *ret_count);

/* A strict reader of the protobuf wire format, for untrusted request bodies.
 *
 * It knows fields, not messages: pb_next() yields one field of a message at a time (number,
 * wire type, and the varint value or the bytes), pb_reader_sub() opens a length-delimited
 * field as a nested message. Every read is bounded by what is left of the input; overlong
 * varints, field number 0 or past 2^29-1, groups (wire types 3 and 4) and the unused wire
 * types 6 and 7 are errors; nesting depth and the total number of fields read are capped
 * through a budget shared by all readers of one input.
 *
 * Errors are 400 BadRequest with the offset into the whole input, e.g.
 * "protobuf: field 2 length 300 exceeds the 12 bytes left at offset 40". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define PB_MAX_DEPTH  100
#define PB_MAX_FIELDS (256u * 1024) /* fields and packed elements of one input */

enum pb_wire {
    PB_WIRE_VARINT = 0,
    PB_WIRE_FIXED64 = 1,
    PB_WIRE_LEN = 2,
    PB_WIRE_FIXED32 = 5,
};

/* Shared by a reader and every reader opened below it. */
struct pb_budget {
    size_t fields;      /* fields read so far */
    size_t max_fields;  /* 0: PB_MAX_FIELDS */
    unsigned max_depth; /* 0: PB_MAX_DEPTH */
};

struct pb_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t base;    /* offset of data[0] in the whole input, for messages */
    unsigned depth; /* 1 for the outermost message */
    struct pb_budget *budget;
};

struct pb_field {
    uint32_t number;
    enum pb_wire wire;
    uint64_t value;      /* VARINT, FIXED64, FIXED32 */
    const uint8_t *data; /* LEN: the payload */
    size_t len;
    size_t offset; /* of the field's key in the whole input */
};

/* A reader of the whole of data[0..len) as one message. */
void pb_reader_init(struct pb_reader *r, struct pb_budget *budget, const void *data, size_t len,
                    size_t base);
/* Opens a LEN field of parent's message as a nested message, one level deeper (400 past the
 * depth limit). */
int pb_reader_sub(const struct pb_reader *parent, const struct pb_field *f, struct pb_reader *ret,
                  struct kos_error **err);
/* Reads the next field: 1 and *f filled, 0 at the end of the message, or a negative errno
 * with err filled (and the reader left where it failed). */
int pb_next(struct pb_reader *r, struct pb_field *f, struct kos_error **err);
bool pb_at_end(const struct pb_reader *r);

/* Elements of a packed repeated scalar (a LEN field holding varints, fixed32s or fixed64s):
 * opens the payload with pb_reader_sub, then pb_next_packed yields one element per call (1),
 * 0 at the end or a negative errno. Each element counts against the field budget. */
int pb_next_packed(struct pb_reader *r, enum pb_wire wire, uint64_t *ret, struct kos_error **err);

/* Decodes one varint from p[0..len): the number of bytes used (1..10), 0 if p ends first,
 * -EOVERFLOW if it runs past 10 bytes or 64 bits. */
int pb_varint(const uint8_t *p, size_t len, uint64_t *ret);

/* The wire type's name for messages ("varint", "fixed64", "length-delimited", ...). */
const char *pb_wire_name(unsigned wire);

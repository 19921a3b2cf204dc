/* The protobuf wire format, read strictly (see protobuf.h). Offsets in messages count from the
 * start of the whole input, so that a client can find the byte we refused. */
#include "codec/protobuf.h"

#include <errno.h>
#include <string.h>

/* Field numbers are 29 bits (protobuf's FieldNumber max, 2^29 - 1). */
#define PB_MAX_NUMBER ((1u << 29) - 1)

const char *pb_wire_name(unsigned wire)
{
    switch (wire) {
    case 0:
        return "varint";
    case 1:
        return "fixed64";
    case 2:
        return "length-delimited";
    case 3:
        return "start group";
    case 4:
        return "end group";
    case 5:
        return "fixed32";
    default:
        return "invalid";
    }
}

int pb_varint(const uint8_t *p, size_t len, uint64_t *ret)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i == len)
            return 0;
        uint8_t b = p[i];
        /* The tenth byte holds only bit 63: anything more is a value past 64 bits. */
        if (i == 9 && b > 1)
            return -EOVERFLOW;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *ret = v;
            return (int)i + 1;
        }
    }
    return -EOVERFLOW;
}

static size_t max_fields(const struct pb_budget *b)
{
    return b->max_fields ? b->max_fields : PB_MAX_FIELDS;
}

static unsigned max_depth(const struct pb_budget *b)
{
    return b->max_depth ? b->max_depth : PB_MAX_DEPTH;
}

void pb_reader_init(struct pb_reader *r, struct pb_budget *budget, const void *data, size_t len,
                    size_t base)
{
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->base = base;
    r->depth = 1;
    r->budget = budget;
}

bool pb_at_end(const struct pb_reader *r)
{
    return r->pos >= r->len;
}

int pb_reader_sub(const struct pb_reader *parent, const struct pb_field *f, struct pb_reader *ret,
                  struct kos_error **err)
{
    if (f->wire != PB_WIRE_LEN)
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: field %u at offset %zu is a %s, not a message",
                             (unsigned)f->number, f->offset, pb_wire_name(f->wire));
    if (parent->depth >= max_depth(parent->budget))
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: messages nested deeper than %u at offset %zu",
                             max_depth(parent->budget), f->offset);
    pb_reader_init(ret, parent->budget, f->data, f->len,
                   parent->base + (size_t)(f->data - parent->data));
    ret->depth = parent->depth + 1;
    return 0;
}

static int count_field(struct pb_reader *r, size_t offset, struct kos_error **err)
{
    if (r->budget->fields >= max_fields(r->budget))
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: more than %zu fields in the body at offset %zu",
                             max_fields(r->budget), offset);
    r->budget->fields++;
    return 0;
}

/* Reads a varint at the reader's position; what names the value in messages. */
static int read_varint(struct pb_reader *r, const char *what, uint32_t number, uint64_t *ret,
                       struct kos_error **err)
{
    size_t at = r->base + r->pos;
    int n = pb_varint(r->data + r->pos, r->len - r->pos, ret);
    if (n == 0)
        return number ? kos_error_set(err, 400, "BadRequest",
                                      "protobuf: field %u %s is truncated at offset %zu",
                                      (unsigned)number, what, at)
                      : kos_error_set(err, 400, "BadRequest",
                                      "protobuf: %s is truncated at offset %zu", what, at);
    if (n < 0)
        return number ? kos_error_set(err, 400, "BadRequest",
                                      "protobuf: field %u %s at offset %zu overflows 64 bits",
                                      (unsigned)number, what, at)
                      : kos_error_set(err, 400, "BadRequest",
                                      "protobuf: %s at offset %zu overflows 64 bits", what, at);
    r->pos += (size_t)n;
    return 0;
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int read_fixed(struct pb_reader *r, uint32_t number, size_t n, uint64_t *ret,
                      struct kos_error **err)
{
    size_t left = r->len - r->pos;
    if (left < n && number)
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: field %u needs %zu bytes, %zu left at offset %zu",
                             (unsigned)number, n, left, r->base + r->pos);
    if (left < n)
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: packed element needs %zu bytes, %zu left at offset %zu", n,
                             left, r->base + r->pos);
    *ret = load_le(r->data + r->pos, n);
    r->pos += n;
    return 0;
}

int pb_next(struct pb_reader *r, struct pb_field *f, struct kos_error **err)
{
    if (pb_at_end(r))
        return 0;
    size_t offset = r->base + r->pos;
    uint64_t key;
    int ret = count_field(r, offset, err);
    if (ret < 0)
        return ret;
    ret = read_varint(r, "field key", 0, &key, err);
    if (ret < 0)
        return ret;
    uint64_t number = key >> 3;
    unsigned wire = (unsigned)(key & 7);
    if (number == 0 || number > PB_MAX_NUMBER)
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: invalid field number %llu at offset %zu",
                             (unsigned long long)number, offset);
    struct pb_field out = {.number = (uint32_t)number, .wire = wire, .offset = offset};
    switch (wire) {
    case PB_WIRE_VARINT:
        ret = read_varint(r, "varint", out.number, &out.value, err);
        break;
    case PB_WIRE_FIXED64:
        ret = read_fixed(r, out.number, 8, &out.value, err);
        break;
    case PB_WIRE_FIXED32:
        ret = read_fixed(r, out.number, 4, &out.value, err);
        break;
    case PB_WIRE_LEN: {
        uint64_t len;
        ret = read_varint(r, "length", out.number, &len, err);
        if (ret < 0)
            break;
        size_t left = r->len - r->pos;
        if (len > left) {
            ret = kos_error_set(err, 400, "BadRequest",
                                "protobuf: field %u length %llu exceeds the %zu bytes left at "
                                "offset %zu",
                                (unsigned)out.number, (unsigned long long)len, left,
                                r->base + r->pos);
            break;
        }
        out.data = r->data + r->pos;
        out.len = (size_t)len;
        r->pos += (size_t)len;
        break;
    }
    case 3:
    case 4:
        /* Groups are deprecated and never produced by Kubernetes' gogo-protobuf code. */
        ret = kos_error_set(err, 400, "BadRequest",
                            "protobuf: field %u at offset %zu uses wire type %u (%s), which is "
                            "not supported",
                            (unsigned)out.number, offset, wire, pb_wire_name(wire));
        break;
    default:
        ret = kos_error_set(err, 400, "BadRequest",
                            "protobuf: field %u at offset %zu has the invalid wire type %u",
                            (unsigned)out.number, offset, wire);
    }
    if (ret < 0)
        return ret;
    *f = out;
    return 1;
}

int pb_next_packed(struct pb_reader *r, enum pb_wire wire, uint64_t *ret, struct kos_error **err)
{
    if (pb_at_end(r))
        return 0;
    size_t offset = r->base + r->pos;
    uint64_t v;
    int rc = count_field(r, offset, err);
    if (rc < 0)
        return rc;
    switch (wire) {
    case PB_WIRE_VARINT:
        rc = read_varint(r, "packed varint", 0, &v, err);
        break;
    case PB_WIRE_FIXED64:
        rc = read_fixed(r, 0, 8, &v, err);
        break;
    case PB_WIRE_FIXED32:
        rc = read_fixed(r, 0, 4, &v, err);
        break;
    default:
        return -EINVAL;
    }
    if (rc < 0)
        return rc;
    *ret = v;
    return 1;
}

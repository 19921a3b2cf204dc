/* Schema-driven decoding of Kubernetes protobuf messages into JSON (see proto_decode.h).
 *
 * The encodings follow k8s.io/api's generated.proto (gogo-protobuf, proto2):
 *   string, []byte         length-delimited (bytes become base64 strings, as in JSON)
 *   int32, int64, bool     varint (a negative int32 is a 10-byte varint)
 *   float64                fixed64
 *   struct                 a nested message; a struct embedded inline in Go is a nested
 *                          message too, whose fields land in the enclosing JSON object
 *   slice                  one occurrence per element (packed scalars are accepted too)
 *   map                    one entry message {1: key, 2: value} per element
 *   resource.Quantity      {1: string}
 *   metav1.Time            {1: int64 seconds, 2: int32 nanos}; zero length for the zero time
 *   intstr.IntOrString     {1: type (0 int, 1 string), 2: intVal, 3: strVal}
 *   runtime.RawExtension   {1: raw JSON bytes} (also metav1.FieldsV1)
 *   a map value that is a slice (authentication's ExtraValue): {1: repeated element}
 * Unknown field numbers are skipped, as Go's decoder does. */
#include "api/proto_decode.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec/json.h"
#include "codec/protobuf.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

struct dec {
    struct pb_budget budget;
    struct kos_error **err;
};

/* The field being decoded, for messages and for the pointer/MicroTime table. */
struct site {
    const struct schema_struct *owner;
    const struct schema_field *field;
};

static int decode_struct(struct dec *d, const struct schema_struct *s, struct pb_reader *r,
                         json_t *obj);

static int fail(struct dec *d, const struct site *at, const struct pb_field *f, const char *what)
{
    return kos_error_set(d->err, 400, "BadRequest",
                         "protobuf: field %u (%s of %s) at offset %zu: %s", (unsigned)f->number,
                         at->field->name, at->owner->name, f->offset, what);
}

static int wrong_wire(struct dec *d, const struct site *at, const struct pb_field *f,
                      enum pb_wire want)
{
    return kos_error_set(d->err, 400, "BadRequest",
                         "protobuf: field %u (%s of %s) at offset %zu is a %s, expected a %s",
                         (unsigned)f->number, at->field->name, at->owner->name, f->offset,
                         pb_wire_name(f->wire), pb_wire_name(want));
}

/* RFC 3629 UTF-8, as jansson accepts it (no overlongs, surrogates or code points past
 * U+10FFFF). NUL is refused too: the JSON decoder refuses \u0000 and C strings end there. */
bool proto_text_ok(const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t i = 0;
    while (i < len) {
        uint8_t c = p[i];
        size_t n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static int make_text(struct dec *d, const struct site *at, const struct pb_field *f, json_t **ret)
{
    if (!proto_text_ok(f->data, f->len))
        return fail(d, at, f, "the string is not valid UTF-8 or holds a NUL byte");
    json_t *v = json_stringn((const char *)f->data, f->len);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

/* metav1.Time renders as RFC 3339 in seconds, MicroTime with six fraction digits; Go's JSON
 * encoder refuses years outside 0000-9999, and the zero time (year 1) is null. */
static int make_time(struct dec *d, const struct site *at, const struct pb_reader *parent,
                     const struct pb_field *f, json_t **ret)
{
    struct pb_reader r;
    struct pb_field g;
    int64_t sec = 0, nsec = 0;
    int n;

    if (f->len == 0) {
        *ret = json_null();
        return 0;
    }
    if ((n = pb_reader_sub(parent, f, &r, d->err)) < 0)
        return n;
    while ((n = pb_next(&r, &g, d->err)) > 0) {
        if ((g.number == 1 || g.number == 2) && g.wire != PB_WIRE_VARINT)
            return wrong_wire(d, at, &g, PB_WIRE_VARINT);
        if (g.number == 1)
            sec = (int64_t)g.value;
        else if (g.number == 2)
            nsec = (int32_t)(uint32_t)g.value;
    }
    if (n < 0)
        return n;
    if (sec == -62135596800 && nsec == 0) {
        *ret = json_null();
        return 0;
    }
    /* Years 1..9999: what Go's JSON encoder accepts, less year 0, which no client sends. */
    if (sec < -62135596800 || sec > 253402300799 || nsec < 0 || nsec > 999999999)
        return fail(d, at, f, "the time is out of range");
    time_t t = (time_t)sec;
    struct tm tm;
    char buf[48];
    if (!gmtime_r(&t, &tm))
        return fail(d, at, f, "the time is out of range");
    int len = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (len < 0 || (size_t)len >= sizeof(buf))
        return -EINVAL;
    if (proto_field_flags(at->owner->name, at->field->name) & PROTO_FIELD_MICRO_TIME)
        snprintf(buf + len, sizeof(buf) - (size_t)len, ".%06dZ", (int)(nsec / 1000));
    else
        snprintf(buf + len, sizeof(buf) - (size_t)len, "Z");
    json_t *v = json_string(buf);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

static int make_quantity(struct dec *d, const struct site *at, const struct pb_reader *parent,
                         const struct pb_field *f, json_t **ret)
{
    struct pb_reader r;
    struct pb_field g, s = {0};
    int n;

    if ((n = pb_reader_sub(parent, f, &r, d->err)) < 0)
        return n;
    while ((n = pb_next(&r, &g, d->err)) > 0) {
        if (g.number != 1)
            continue;
        if (g.wire != PB_WIRE_LEN)
            return wrong_wire(d, at, &g, PB_WIRE_LEN);
        s = g;
    }
    if (n < 0)
        return n;
    if (!s.data) {
        /* The zero Quantity marshals as "0". */
        *ret = json_string("0");
        return *ret ? 0 : -ENOMEM;
    }
    return make_text(d, at, &s, ret);
}

static int make_int_or_string(struct dec *d, const struct site *at, const struct pb_reader *parent,
                              const struct pb_field *f, json_t **ret)
{
    struct pb_reader r;
    struct pb_field g, str = {0};
    uint64_t type = 0, ival = 0;
    int n;

    if ((n = pb_reader_sub(parent, f, &r, d->err)) < 0)
        return n;
    while ((n = pb_next(&r, &g, d->err)) > 0) {
        if ((g.number == 1 || g.number == 2) && g.wire != PB_WIRE_VARINT)
            return wrong_wire(d, at, &g, PB_WIRE_VARINT);
        if (g.number == 3 && g.wire != PB_WIRE_LEN)
            return wrong_wire(d, at, &g, PB_WIRE_LEN);
        if (g.number == 1)
            type = g.value;
        else if (g.number == 2)
            ival = g.value;
        else if (g.number == 3)
            str = g;
    }
    if (n < 0)
        return n;
    if (type == 1) {
        if (str.data)
            return make_text(d, at, &str, ret);
        *ret = json_string("");
    } else {
        *ret = json_integer((int32_t)(uint32_t)ival);
    }
    return *ret ? 0 : -ENOMEM;
}

/* RawExtension and FieldsV1: {1: raw JSON}. */
static int make_raw(struct dec *d, const struct site *at, const struct pb_reader *parent,
                    const struct pb_field *f, json_t **ret)
{
    struct pb_reader r;
    struct pb_field g, raw = {0};
    int n;

    if ((n = pb_reader_sub(parent, f, &r, d->err)) < 0)
        return n;
    while ((n = pb_next(&r, &g, d->err)) > 0)
        if (g.number == 1 && g.wire == PB_WIRE_LEN)
            raw = g;
    if (n < 0)
        return n;
    if (!raw.data || raw.len == 0) {
        *ret = json_null();
        return 0;
    }
    _cleanup_error_ struct kos_error *inner = NULL;
    int rc = kos_json_decode((const char *)raw.data, raw.len, ret, &inner);
    if (rc < 0 && inner)
        return fail(d, at, f, inner->message);
    return rc;
}

static int decode_value(struct dec *d, const struct site *at, const struct schema_node *node,
                        const struct pb_reader *parent, const struct pb_field *f, json_t **ret);

/* A slice used as a map value: the value is a message {1: repeated element}. */
static int make_wrapped_array(struct dec *d, const struct site *at, const struct schema_node *node,
                              const struct pb_reader *parent, const struct pb_field *f,
                              json_t **ret)
{
    struct pb_reader r;
    struct pb_field g;
    int n = pb_reader_sub(parent, f, &r, d->err);
    if (n < 0)
        return n;
    _cleanup_json_ json_t *arr = json_array();
    if (!arr)
        return -ENOMEM;
    while ((n = pb_next(&r, &g, d->err)) > 0) {
        json_t *v = NULL;
        if (g.number != 1)
            continue;
        n = decode_value(d, at, node->items, &r, &g, &v);
        if (n < 0)
            return n;
        if (json_array_append_new(arr, v) < 0)
            return -ENOMEM;
    }
    if (n < 0)
        return n;
    *ret = TAKE_PTR(arr);
    return 0;
}

static int decode_value(struct dec *d, const struct site *at, const struct schema_node *node,
                        const struct pb_reader *parent, const struct pb_field *f, json_t **ret)
{
    json_t *v = NULL;
    enum pb_wire want = PB_WIRE_LEN;

    switch (node->type) {
    case SCHEMA_INTEGER:
    case SCHEMA_BOOLEAN:
        want = PB_WIRE_VARINT;
        break;
    case SCHEMA_NUMBER:
        want = PB_WIRE_FIXED64;
        break;
    default:
        break;
    }
    if (f->wire != want)
        return wrong_wire(d, at, f, want);

    switch (node->type) {
    case SCHEMA_STRING:
        if (node->format && strcmp(node->format, "byte") == 0) {
            char *b64 = kos_base64_encode(f->data, f->len);
            if (!b64)
                return -ENOMEM;
            v = json_string(b64);
            free(b64);
            break;
        }
        return make_text(d, at, f, ret);
    case SCHEMA_INTEGER:
        if (node->format && strcmp(node->format, "int32") == 0)
            v = json_integer((int32_t)(uint32_t)f->value);
        else
            v = json_integer((json_int_t)(int64_t)f->value);
        break;
    case SCHEMA_BOOLEAN:
        v = json_boolean(f->value != 0);
        break;
    case SCHEMA_NUMBER: {
        double x;
        memcpy(&x, &f->value, sizeof(x));
        if (!isfinite(x))
            return fail(d, at, f, "the number is not finite");
        v = json_real(x);
        break;
    }
    case SCHEMA_OBJECT: {
        struct pb_reader r;
        int n = pb_reader_sub(parent, f, &r, d->err);
        if (n < 0)
            return n;
        _cleanup_json_ json_t *obj = json_object();
        if (!obj)
            return -ENOMEM;
        n = decode_struct(d, node->ref, &r, obj);
        if (n < 0)
            return n;
        *ret = TAKE_PTR(obj);
        return 0;
    }
    case SCHEMA_QUANTITY:
        return make_quantity(d, at, parent, f, ret);
    case SCHEMA_INT_OR_STRING:
        return make_int_or_string(d, at, parent, f, ret);
    case SCHEMA_TIME:
        return make_time(d, at, parent, f, ret);
    case SCHEMA_ANY:
        return make_raw(d, at, parent, f, ret);
    case SCHEMA_ARRAY:
        return make_wrapped_array(d, at, node, parent, f, ret);
    case SCHEMA_MAP:
    default:
        return fail(d, at, f, "kos cannot decode this type from protobuf");
    }
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

/* The value of a map entry whose value field is absent: Go's zero value. */
static json_t *zero_value(const struct schema_node *node)
{
    switch (node->type) {
    case SCHEMA_STRING:
        return json_string("");
    case SCHEMA_INTEGER:
        return json_integer(0);
    case SCHEMA_NUMBER:
        return json_real(0);
    case SCHEMA_BOOLEAN:
        return json_false();
    case SCHEMA_OBJECT:
    case SCHEMA_MAP:
        return json_object();
    case SCHEMA_QUANTITY:
        return json_string("0");
    case SCHEMA_INT_OR_STRING:
        return json_integer(0);
    case SCHEMA_ARRAY:
        return json_array();
    default:
        return json_null();
    }
}

static bool is_zero(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) == 0;
    case JSON_INTEGER:
        return json_integer_value(v) == 0;
    case JSON_REAL:
        return json_real_value(v) == 0;
    case JSON_FALSE:
    case JSON_NULL:
        return true;
    default:
        return false;
    }
}

/* The container at key `name` of obj, made (or replaced, if some other type is there). */
static json_t *container_at(json_t *obj, const char *name, bool array)
{
    json_t *c = json_object_get(obj, name);
    if (array ? json_is_array(c) : json_is_object(c))
        return c;
    c = array ? json_array() : json_object();
    if (!c || json_object_set_new(obj, name, c) < 0)
        return NULL;
    return c;
}

static bool packable(const struct schema_node *n)
{
    return n->type == SCHEMA_INTEGER || n->type == SCHEMA_BOOLEAN || n->type == SCHEMA_NUMBER;
}

static int decode_array_field(struct dec *d, const struct site *at, const struct pb_reader *parent,
                              const struct pb_field *f, json_t *obj)
{
    const struct schema_node *items = at->field->node.items;
    json_t *arr = container_at(obj, at->field->name, true);
    int n;

    if (!arr)
        return -ENOMEM;
    if (f->wire == PB_WIRE_LEN && packable(items)) {
        enum pb_wire w = items->type == SCHEMA_NUMBER ? PB_WIRE_FIXED64 : PB_WIRE_VARINT;
        struct pb_reader r;
        struct pb_field g = {.number = f->number, .wire = w, .offset = f->offset};
        n = pb_reader_sub(parent, f, &r, d->err);
        while (n >= 0 && (n = pb_next_packed(&r, w, &g.value, d->err)) > 0) {
            json_t *v = NULL;
            n = decode_value(d, at, items, &r, &g, &v);
            if (n >= 0 && json_array_append_new(arr, v) < 0)
                n = -ENOMEM;
        }
        return n;
    }
    json_t *v = NULL;
    n = decode_value(d, at, items, parent, f, &v);
    if (n < 0)
        return n;
    return json_array_append_new(arr, v) < 0 ? -ENOMEM : 0;
}

/* One map entry {1: key, 2: value}; the last entry of a key wins, as in Go. */
static int decode_map_field(struct dec *d, const struct site *at, const struct pb_reader *parent,
                            const struct pb_field *f, json_t *obj)
{
    const struct schema_node *items = at->field->node.items;
    struct pb_reader r;
    struct pb_field g, key = {0};
    _cleanup_json_ json_t *value = NULL;
    int n = pb_reader_sub(parent, f, &r, d->err);

    if (n < 0)
        return n;
    while ((n = pb_next(&r, &g, d->err)) > 0) {
        if (g.number == 1) {
            if (g.wire != PB_WIRE_LEN)
                return wrong_wire(d, at, &g, PB_WIRE_LEN);
            if (!proto_text_ok(g.data, g.len))
                return fail(d, at, &g, "the map key is not valid UTF-8 or holds a NUL byte");
            key = g;
        } else if (g.number == 2) {
            json_decref(TAKE_PTR(value));
            n = decode_value(d, at, items, &r, &g, &value);
            if (n < 0)
                return n;
        }
    }
    if (n < 0)
        return n;
    if (!value && !(value = zero_value(items)))
        return -ENOMEM;
    json_t *map = container_at(obj, at->field->name, false);
    if (!map)
        return -ENOMEM;
    return json_object_setn_new(map, key.data ? (const char *)key.data : "", key.len,
                                TAKE_PTR(value)) < 0
               ? -ENOMEM
               : 0;
}

static int decode_field(struct dec *d, const struct schema_struct *s,
                        const struct schema_field *field, const struct pb_reader *parent,
                        const struct pb_field *f, json_t *obj)
{
    const struct site at = {s, field};
    const struct schema_node *node = &field->node;
    json_t *v = NULL;
    int n;

    if (node->type == SCHEMA_ARRAY)
        return decode_array_field(d, &at, parent, f, obj);
    if (node->type == SCHEMA_MAP)
        return decode_map_field(d, &at, parent, f, obj);
    if (node->type == SCHEMA_OBJECT) {
        /* A message seen twice merges, as protobuf decoding does. */
        struct pb_reader r;
        json_t *o;
        if (f->wire != PB_WIRE_LEN)
            return wrong_wire(d, &at, f, PB_WIRE_LEN);
        n = pb_reader_sub(parent, f, &r, d->err);
        if (n < 0)
            return n;
        o = container_at(obj, field->name, false);
        return o ? decode_struct(d, node->ref, &r, o) : -ENOMEM;
    }
    n = decode_value(d, &at, node, parent, f, &v);
    if (n < 0)
        return n;
    bool scalar = node->type == SCHEMA_STRING || node->type == SCHEMA_INTEGER ||
                  node->type == SCHEMA_NUMBER || node->type == SCHEMA_BOOLEAN;
    if (scalar && is_zero(v) &&
        !(proto_field_flags(s->name, field->name) &
          (PROTO_FIELD_POINTER | PROTO_FIELD_NO_OMITEMPTY))) {
        json_decref(v);
        json_object_del(obj, field->name);
        return 0;
    }
    return json_object_set_new(obj, field->name, v) < 0 ? -ENOMEM : 0;
}

static const struct schema_field *field_by_tag(const struct schema_struct *s, unsigned inline_tag,
                                               unsigned tag)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].proto_tag == tag && s->fields[i].proto_inline == inline_tag)
            return &s->fields[i];
    return NULL;
}

static bool has_inline(const struct schema_struct *s, unsigned inline_tag)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].proto_inline == inline_tag)
            return true;
    return false;
}

/* The fields of s that sit in the message of inline struct `outer` (its field number). */
static int decode_inline(struct dec *d, const struct schema_struct *s, unsigned outer,
                         struct pb_reader *r, json_t *obj)
{
    struct pb_field f;
    int n;

    while ((n = pb_next(r, &f, d->err)) > 0) {
        const struct schema_field *field = field_by_tag(s, outer, f.number);
        if (field && (n = decode_field(d, s, field, r, &f, obj)) < 0)
            return n;
    }
    return n;
}

static int decode_struct(struct dec *d, const struct schema_struct *s, struct pb_reader *r,
                         json_t *obj)
{
    struct pb_field f;
    int n;

    while ((n = pb_next(r, &f, d->err)) > 0) {
        const struct schema_field *field = field_by_tag(s, 0, f.number);
        if (field) {
            n = decode_field(d, s, field, r, &f, obj);
        } else if (has_inline(s, f.number)) {
            struct pb_reader sub;
            if (f.wire != PB_WIRE_LEN)
                return kos_error_set(d->err, 400, "BadRequest",
                                     "protobuf: field %u of %s at offset %zu is a %s, expected "
                                     "a %s",
                                     (unsigned)f.number, s->name, f.offset, pb_wire_name(f.wire),
                                     pb_wire_name(PB_WIRE_LEN));
            n = pb_reader_sub(r, &f, &sub, d->err);
            if (n >= 0)
                n = decode_inline(d, s, f.number, &sub, obj);
        }
        if (n < 0)
            return n;
    }
    return n;
}

int proto_decode_message_into(const struct schema_struct *s, const void *data, size_t len,
                              size_t base, json_t *obj, struct kos_error **err)
{
    struct dec d = {.err = err};
    struct pb_reader r;
    int n;

    pb_reader_init(&r, &d.budget, data, len, base);
    n = decode_struct(&d, s, &r, obj);
    if (n < 0)
        return n;
    /* Tables hold no recursive types, but RawExtension JSON may sit deep inside. */
    if (kos_json_depth(obj) > KOS_JSON_MAX_DEPTH)
        return kos_error_set(err, 400, "BadRequest",
                             "protobuf: the object is nested deeper than %d levels",
                             KOS_JSON_MAX_DEPTH);
    return 0;
}

int proto_decode_message(const struct schema_struct *s, const void *data, size_t len, json_t **ret,
                         struct kos_error **err)
{
    _cleanup_json_ json_t *obj = NULL;
    int n;

    if (!s)
        return -EINVAL;
    obj = json_object();
    if (!obj)
        return -ENOMEM;
    n = proto_decode_message_into(s, data, len, 0, obj, err);
    if (n < 0)
        return n;
    *ret = TAKE_PTR(obj);
    return 0;
}

/* Decoding stored objects for Table rows. A server-side-applied object's metadata.managedFields
 * is often most of its bytes and a great many tiny JSON objects, which are what jansson spends
 * its time on; no printer looks at it. So the stored text (our own compact encoding) is
 * scanned without allocating, managedFields is skipped, and every other member is parsed as
 * usual. PartialObjectMetadata rows copy the stored metadata text as it is, managedFields
 * included, instead of re-encoding it. Anything unexpected falls back to a full parse. */
#include <errno.h>
#include <string.h>

#include "apiserver/table.h"
#include "apiserver/table_internal.h"
#include "codec/json.h"
#include "codec/json_scan.h"
#include "util/cleanup.h"

struct member {
    const char *key; /* inside the quotes; keys with escapes are not handled */
    size_t key_len;
    const char *value, *value_end;
};

/* Steps through the members of the object whose text starts at *p ('{' on the first call).
 * Returns 1 with *m filled, 0 at the end, -1 when the text is not understood. */
static int next_member(const char **p, const char *end, bool first, struct member *m)
{
    const char *q = kos_json_skip_ws(*p + (first ? 1 : 0), end);
    if (q < end && *q == '}') {
        *p = q + 1;
        return 0;
    }
    if (!first) {
        if (q >= end || *q != ',')
            return -1;
        q = kos_json_skip_ws(q + 1, end);
    }
    if (q >= end || *q != '"')
        return -1;
    const char *key_end = kos_json_skip_string(q, end);
    if (!key_end || memchr(q, '\\', (size_t)(key_end - q)))
        return -1;
    m->key = q + 1;
    m->key_len = (size_t)(key_end - q - 2);
    q = kos_json_skip_ws(key_end, end);
    if (q >= end || *q != ':')
        return -1;
    m->value = kos_json_skip_ws(q + 1, end);
    m->value_end = kos_json_skip_value(m->value, end);
    if (!m->value_end)
        return -1;
    *p = m->value_end;
    return 1;
}

static bool key_is(const struct member *m, const char *key)
{
    return m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0;
}

/* Parses the members of the object text [p, end) into a new object, leaving out `skip`. */
static json_t *parse_members(const char *p, const char *end, const char *skip)
{
    json_t *obj = json_object();
    struct member m;
    int r;
    for (bool first = true; obj && (r = next_member(&p, end, first, &m)) == 1; first = false) {
        if (skip && key_is(&m, skip))
            continue;
        json_t *v = json_loadb(m.value, (size_t)(m.value_end - m.value), JSON_DECODE_ANY, NULL);
        if (!v || json_object_setn_new_nocheck(obj, m.key, m.key_len, v) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    if (obj && r < 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *table_decode(const struct kos_value *v)
{
    _cleanup_free_ char *tmp = NULL;
    const char *data = kos_value_bytes(v, &tmp);
    if (!data)
        return NULL;
    const char *p = kos_json_skip_ws(data, data + v->len), *end = data + v->len;
    json_t *obj = p < end && *p == '{' ? json_object() : NULL;
    struct member m;
    int r = obj ? 1 : -1;
    for (bool first = true; obj && (r = next_member(&p, end, first, &m)) == 1; first = false) {
        json_t *val =
            key_is(&m, "metadata") && *m.value == '{'
                ? parse_members(m.value, m.value_end, "managedFields")
                : json_loadb(m.value, (size_t)(m.value_end - m.value), JSON_DECODE_ANY, NULL);
        if (!val || json_object_setn_new_nocheck(obj, m.key, m.key_len, val) < 0) {
            r = -1;
            break;
        }
    }
    if (r == 0)
        return obj;
    json_decref(obj);
    return json_loadb(data, v->len, 0, NULL);
}

int table_raw_metadata(const char *data, size_t len, const char **ret, size_t *ret_len)
{
    const char *p = kos_json_skip_ws(data, data + len), *end = data + len;
    if (p >= end || *p != '{')
        return -EINVAL;
    struct member m;
    int r;
    for (bool first = true; (r = next_member(&p, end, first, &m)) == 1; first = false) {
        if (key_is(&m, "metadata") && *m.value == '{') {
            *ret = m.value;
            *ret_len = (size_t)(m.value_end - m.value);
            return 0;
        }
    }
    return r < 0 ? -EINVAL : -ENOENT;
}

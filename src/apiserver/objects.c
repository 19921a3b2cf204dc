#include "apiserver/objects.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/apply.h"
#include "codec/json.h"
#include "codec/json_fast.h"
#include "util/cleanup.h"
#include "util/random.h"
#include "util/timeutil.h"

json_t *obj_meta(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (json_is_object(m))
        return m;
    m = json_object();
    if (!m || json_object_set_new(obj, "metadata", m) < 0)
        return NULL;
    return m;
}

json_t *obj_path(const json_t *obj, const char *path)
{
    char part[128];
    const json_t *cur = obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= sizeof(part))
            return NULL;
        memcpy(part, p, len);
        part[len] = '\0';
        if (!json_is_object(cur))
            return NULL;
        cur = json_object_get(cur, part);
        p += len;
        if (*p == '.')
            p++;
    }
    return (json_t *)cur;
}

const char *obj_str(const json_t *obj, const char *path)
{
    return json_string_value(obj_path(obj, path));
}

int obj_set_str(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value)) < 0 ? -ENOMEM : 0;
}

int obj_render(void *ctx, int64_t rev, struct kos_value **ret)
{
    json_t *obj = ctx;
    json_t *meta = obj_meta(obj);
    char rv[24];
    if (!meta)
        return -ENOMEM;
    snprintf(rv, sizeof(rv), "%" PRId64, rev);
    if (obj_set_str(meta, "resourceVersion", rv) < 0)
        return -ENOMEM;
    size_t len = 0;
    char *data = kos_json_encode(obj, &len);
    if (!data)
        return -ENOMEM;
    struct kos_value *v = kos_value_from_malloc(data, len);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

/* The placeholder: random per process, so that no client can write the same text into an
 * object; found exactly once in the encoding, or the object is rendered by the writer. */
static char rv_marker[40];
static size_t rv_marker_len;
static pthread_once_t rv_marker_once = PTHREAD_ONCE_INIT;

static void rv_marker_init(void)
{
    char rnd[24];
    if (kos_random_suffix(rnd, 20) < 0)
        return;
    int n = snprintf(rv_marker, sizeof(rv_marker), "kos-rv-%s", rnd);
    if (n > 0 && (size_t)n < sizeof(rv_marker))
        rv_marker_len = (size_t)n;
}

/* The stored bytes of obj. A create's managedFields entry from the create memo shares its
 * fieldsV1 with the memo, which keeps that tree's bytes: they are spliced in (~40% of a
 * pod's bytes, many small objects) rather than encoded again. */
static char *encode_stored(const json_t *obj, const json_t *meta, size_t *ret_len)
{
    const json_t *mf = json_object_get(meta, "managedFields");
    const json_t *fields =
        json_array_size(mf) == 1 ? json_object_get(json_array_get(mf, 0), "fieldsV1") : NULL;
    _cleanup_free_ char *fields_json = NULL;
    size_t fields_len = 0;
    if (json_is_object(fields) &&
        kos_managed_fields_memo_json(fields, &fields_json, &fields_len) == 0)
        return kos_json_encode_splice(obj, fields, fields_json, fields_len, ret_len);
    return kos_json_encode(obj, ret_len);
}

int obj_prepare(json_t *obj, struct obj_prepared *ret)
{
    pthread_once(&rv_marker_once, rv_marker_init);
    if (!rv_marker_len)
        return -EIO;
    json_t *meta = obj_meta(obj);
    if (!meta || obj_set_str(meta, "resourceVersion", rv_marker) < 0)
        return -ENOMEM;
    size_t len = 0;
    char *data = encode_stored(obj, meta, &len);
    if (!data)
        return -ENOMEM;
    const char *at = memmem(data, len, rv_marker, rv_marker_len);
    size_t off = at ? (size_t)(at - data) : 0;
    if (!at || memmem(data + off + 1, len - off - 1, rv_marker, rv_marker_len)) {
        free(data);
        return -EEXIST;
    }
    *ret = (struct obj_prepared){
        .obj = obj, .data = data, .len = len, .at = off, .marker_len = rv_marker_len};
    return 0;
}

int obj_render_prepared(void *ctx, int64_t rev, struct kos_value **ret)
{
    struct obj_prepared *p = ctx;
    char rv[24];
    int n = snprintf(rv, sizeof(rv), "%" PRId64, rev);
    if (n <= 0)
        return -ENOMEM;
    if (p->obj) {
        json_t *meta = obj_meta(p->obj);
        if (!meta || obj_set_str(meta, "resourceVersion", rv) < 0)
            return -ENOMEM;
    }
    size_t tail = p->at + p->marker_len;
    const struct iovec parts[3] = {
        {p->data, p->at}, {rv, (size_t)n}, {p->data + tail, p->len - tail}};
    struct kos_value *v = kos_value_concat(parts, 3);
    if (!v)
        return -ENOMEM;
    *ret = v;
    return 0;
}

void obj_prepared_clear(struct obj_prepared *p)
{
    free(p->data);
    *p = (struct obj_prepared){0};
}

static int write_object(struct store *st, enum store_write_type type, const char *key,
                        int64_t expected_mod_rev, json_t *obj, bool consume,
                        struct store_write_result *ret)
{
    struct obj_prepared pre = {0};
    bool prepared = obj_prepare(obj, &pre) == 0;
    if (prepared && consume) {
        pre.obj = NULL;
        json_object_clear(obj);
    }
    const struct store_write w = {.type = type,
                                  .key = key,
                                  .expected_mod_rev = expected_mod_rev,
                                  .render = prepared ? obj_render_prepared : obj_render,
                                  .render_ctx = prepared ? (void *)&pre : obj};
    int r = store_write(st, &w, ret);
    obj_prepared_clear(&pre);
    return r;
}

int obj_store_write(struct store *st, enum store_write_type type, const char *key,
                    int64_t expected_mod_rev, json_t *obj, struct store_write_result *ret)
{
    return write_object(st, type, key, expected_mod_rev, obj, false, ret);
}

int obj_store_write_consume(struct store *st, enum store_write_type type, const char *key,
                            int64_t expected_mod_rev, json_t *obj, struct store_write_result *ret)
{
    return write_object(st, type, key, expected_mod_rev, obj, true, ret);
}

json_t *obj_decode_value(const struct kos_value *v, struct kos_error **err)
{
    json_error_t jerr;
    _cleanup_free_ char *tmp = NULL;
    const char *data = kos_value_bytes(v, &tmp);
    if (!data) {
        kos_error_set(err, 500, "InternalError", "out of memory");
        return NULL;
    }
    json_t *obj = kos_json_loadb(data, v->len, 0, &jerr);
    if (!obj)
        kos_error_set(err, 500, "InternalError", "stored object is not valid JSON: %s", jerr.text);
    return obj;
}

int obj_check_type(json_t *obj, const struct kos_kind *kind, struct kos_error **err)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (meta && !json_is_object(meta) && !json_is_null(meta))
        return kos_error_set(err, 400, "BadRequest",
                             "%s in version \"%s\" cannot be handled as a %s: json: cannot "
                             "unmarshal %s into Go struct field %s.metadata of type v1.ObjectMeta",
                             kind->kind, kind->version, kind->kind,
                             json_is_string(meta)    ? "string"
                             : json_is_array(meta)   ? "array"
                             : json_is_boolean(meta) ? "bool"
                                                     : "number",
                             kind->kind);
    char api_version[160];
    kos_kind_api_version(kind, api_version, sizeof(api_version));
    const char *av = obj_str(obj, "apiVersion");
    const char *k = obj_str(obj, "kind");
    if (av && av[0] && strcmp(av, api_version) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the API version in the data (%s) does not match the expected API "
                             "version (%s)",
                             av, api_version);
    if (k && k[0] && strcmp(k, kind->kind) != 0)
        return kos_error_set(err, 400, "BadRequest",
                             "the kind in the data (%s) does not match the expected kind (%s)", k,
                             kind->kind);
    if (!av || !av[0])
        if (obj_set_str(obj, "apiVersion", api_version) < 0)
            return -ENOMEM;
    if (!k || !k[0])
        if (obj_set_str(obj, "kind", kind->kind) < 0)
            return -ENOMEM;
    return 0;
}

void obj_now_rfc3339(char *out, size_t size)
{
    kos_time_rfc3339(time(NULL), out, size);
}

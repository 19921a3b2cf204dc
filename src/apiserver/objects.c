#include "apiserver/objects.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "codec/json.h"
#include "util/cleanup.h"
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

json_t *obj_decode_value(const struct kos_value *v, struct kos_error **err)
{
    json_error_t jerr;
    json_t *obj = json_loadb(v->data, v->len, 0, &jerr);
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

/* Container environment (see env.h). */
#include "agent/pods/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/runtime/oci_spec.h"
#include "api/quantity.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define CONFIG_ERR "CreateContainerConfigError"

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* validation.IsEnvVarName: [-._a-zA-Z][-._a-zA-Z0-9]* */
static bool env_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* "metadata.labels['key']" -> key */
static char *subscript(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0 || path[pl] != '[' || path[pl + 1] != '\'')
        return NULL;
    const char *start = path + pl + 2;
    size_t n = strlen(start);
    if (n < 2 || start[n - 1] != ']' || start[n - 2] != '\'')
        return NULL;
    return kos_strndup(start, n - 2);
}

static char *join_map(const json_t *m)
{
    /* fieldpath.FormatMap: sorted key="value" lines */
    size_t n = json_object_size(m);
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    if (!keys)
        return NULL;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) keys[i++] = k;
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
            const char *t = keys[b];
            keys[b] = keys[b - 1];
            keys[b - 1] = t;
        }
    struct kos_buf out;
    kos_buf_init(&out, 1 << 20);
    kos_buf_append(&out, "", 0);
    for (i = 0; i < n; i++) {
        const char *val = json_string_value(json_object_get(m, keys[i]));
        if (kos_buf_printf(&out, "%s%s=", i ? "\n" : "", keys[i]) < 0 ||
            kos_buf_append_json_string(&out, val ? val : "") < 0) {
            free(keys);
            return NULL;
        }
    }
    free(keys);
    return kos_buf_steal(&out, NULL);
}

int kos_pod_field_value(const struct kos_env_ctx *ctx, const char *path, char **ret,
                        struct kos_error **err)
{
    const json_t *meta = json_object_get(ctx->pod, "metadata");
    const json_t *spec = json_object_get(ctx->pod, "spec");
    const char *v = NULL;
    _cleanup_free_ char *key = NULL;
    char *out = NULL;
    if (!path)
        path = "";
    if (strcmp(path, "metadata.name") == 0)
        v = jstr(meta, "name");
    else if (strcmp(path, "metadata.namespace") == 0)
        v = jstr(meta, "namespace");
    else if (strcmp(path, "metadata.uid") == 0)
        v = jstr(meta, "uid");
    else if (strcmp(path, "spec.nodeName") == 0)
        v = jstr(spec, "nodeName");
    else if (strcmp(path, "spec.serviceAccountName") == 0)
        v = jstr(spec, "serviceAccountName");
    else if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0)
        v = ctx->host_ip;
    else if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0)
        v = ctx->pod_ip;
    else if ((key = subscript(path, "metadata.labels")))
        v = jstr(json_object_get(meta, "labels"), key);
    else if ((key = subscript(path, "metadata.annotations")))
        v = jstr(json_object_get(meta, "annotations"), key);
    else if (strcmp(path, "metadata.labels") == 0 || strcmp(path, "metadata.annotations") == 0) {
        out = join_map(json_object_get(meta, path + 9));
        if (!out)
            return -ENOMEM;
        *ret = out;
        return 0;
    } else
        return kos_error_set(err, 422, CONFIG_ERR, "unsupported fieldPath: %s", path);
    out = strdup(v ? v : "");
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}

int kos_pod_resource_value(const struct kos_env_ctx *ctx, const json_t *container,
                           const char *resource, const char *divisor, char **ret,
                           struct kos_error **err)
{
    if (!resource)
        resource = "";
    const char *dot = strchr(resource, '.');
    if (!dot || (strncmp(resource, "limits", (size_t)(dot - resource)) != 0 &&
                 strncmp(resource, "requests", (size_t)(dot - resource)) != 0))
        return kos_error_set(err, 422, CONFIG_ERR, "unsupported container resource: %s", resource);
    bool limits = resource[0] == 'l';
    const char *name = dot + 1;
    bool cpu = strcmp(name, "cpu") == 0;
    bool mem = strcmp(name, "memory") == 0;
    if (!cpu && !mem && strcmp(name, "ephemeral-storage") != 0 &&
        strncmp(name, "hugepages-", 10) != 0)
        return kos_error_set(err, 422, CONFIG_ERR, "unsupported container resource: %s", resource);
    const json_t *res =
        json_object_get(json_object_get(container, "resources"), limits ? "limits" : "requests");
    const char *qs = jstr(res, name);
    struct kos_quantity q = {0};
    if (qs && kos_quantity_parse(qs, &q) < 0)
        return kos_error_set(err, 422, CONFIG_ERR, "invalid quantity %s", qs);
    int64_t milli = kos_quantity_milli_value(&q);
    /* Unset limits are the node's allocatable (MergeContainerResourceLimits). */
    if (!qs && limits && cpu)
        milli = ctx->node_milli_cpu;
    else if (!qs && limits && mem)
        milli = ctx->node_memory * 1000;
    struct kos_quantity d = {.milli = 1000};
    if (divisor && *divisor && (kos_quantity_parse(divisor, &d) < 0 || d.milli <= 0))
        return kos_error_set(err, 422, CONFIG_ERR, "invalid divisor %s", divisor);
    int64_t dm = kos_quantity_milli_value(&d);
    /* ceil(value / divisor), both in milli-units */
    int64_t v = dm > 0 ? (milli + dm - 1) / dm : 0;
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    char *out = strdup(buf);
    if (!out)
        return -ENOMEM;
    *ret = out;
    return 0;
}

static int fetch(const struct kos_env_ctx *ctx, const char *kind, const char *name, bool optional,
                 json_t **ret, struct kos_error **err)
{
    const char *ns = jstr(json_object_get(ctx->pod, "metadata"), "namespace");
    json_t *obj = NULL;
    int r = ctx->lookup ? ctx->lookup(ctx->ud, kind, ns, name, &obj) : -ENOENT;
    if (r == -ENOENT) {
        if (optional) {
            *ret = NULL;
            return 0;
        }
        return kos_error_set(err, 422, CONFIG_ERR, "%s \"%s\" not found",
                             strcmp(kind, "Secret") == 0 ? "secret" : "configmap", name);
    }
    if (r < 0)
        return kos_error_set(err, 503, CONFIG_ERR, "cannot read %s %s/%s: %s", kind, ns, name,
                             strerror(-r));
    *ret = obj;
    return 0;
}

/* The string value of a ConfigMap or Secret key (Secret data decoded). NULL when absent. */
static int data_value(const char *kind, const json_t *obj, const char *key, char **ret)
{
    const char *v = jstr(json_object_get(obj, "data"), key);
    *ret = NULL;
    if (!v)
        return 0;
    if (strcmp(kind, "Secret") == 0) {
        size_t n;
        if (kos_base64_decode(v, strlen(v), ret, &n) < 0)
            return -EINVAL;
        return 0;
    }
    *ret = strdup(v);
    return *ret ? 0 : -ENOMEM;
}

static int set_var(json_t *map, json_t *order, const char *k, const char *v)
{
    if (!json_object_get(map, k) && json_array_append_new(order, json_string(k)) < 0)
        return -ENOMEM;
    return json_object_set_new(map, k, json_string(v ? v : "")) < 0 ? -ENOMEM : 0;
}

static int env_from(const struct kos_env_ctx *ctx, const json_t *container, json_t *map,
                    json_t *order, struct kos_error **err)
{
    size_t i;
    json_t *src;
    json_array_foreach(json_object_get(container, "envFrom"), i, src)
    {
        const json_t *ref = json_object_get(src, "configMapRef");
        const char *kind = "ConfigMap";
        if (!ref) {
            ref = json_object_get(src, "secretRef");
            kind = "Secret";
        }
        if (!ref)
            continue;
        const char *name = jstr(ref, "name");
        bool optional = json_is_true(json_object_get(ref, "optional"));
        _cleanup_json_ json_t *obj = NULL;
        int r = fetch(ctx, kind, name ? name : "", optional, &obj, err);
        if (r < 0)
            return r;
        if (!obj)
            continue;
        const char *prefix = jstr(src, "prefix");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(obj, "data"), k, v)
        {
            char full[512];
            snprintf(full, sizeof(full), "%s%s", prefix ? prefix : "", k);
            if (!env_name_ok(full))
                continue; /* the kubelet skips them (and reports an event) */
            _cleanup_free_ char *val = NULL;
            if (data_value(kind, obj, k, &val) < 0)
                return kos_error_set(err, 422, CONFIG_ERR, "bad data for key %s in %s %s", k, kind,
                                     name);
            if (set_var(map, order, full, val) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

static int key_ref(const struct kos_env_ctx *ctx, const char *kind, const json_t *ref, char **ret,
                   struct kos_error **err)
{
    const char *name = jstr(ref, "name"), *key = jstr(ref, "key");
    bool optional = json_is_true(json_object_get(ref, "optional"));
    _cleanup_json_ json_t *obj = NULL;
    int r = fetch(ctx, kind, name ? name : "", optional, &obj, err);
    if (r < 0)
        return r;
    *ret = NULL;
    if (!obj)
        return 0;
    if (data_value(kind, obj, key ? key : "", ret) < 0)
        return kos_error_set(err, 422, CONFIG_ERR, "bad data for key %s", key ? key : "");
    if (!*ret && !optional) {
        const char *ns = jstr(json_object_get(ctx->pod, "metadata"), "namespace");
        return kos_error_set(err, 422, CONFIG_ERR, "couldn't find key %s in %s %s/%s",
                             key ? key : "", kind, ns ? ns : "", name ? name : "");
    }
    return 0;
}

int kos_pod_env(const struct kos_env_ctx *ctx, const json_t *container, const json_t *image_env,
                json_t **ret_env, json_t **ret_map, struct kos_error **err)
{
    _cleanup_json_ json_t *map = json_object();
    _cleanup_json_ json_t *order = json_array();
    if (!map || !order)
        return -ENOMEM;
    int r = env_from(ctx, container, map, order, err);
    if (r < 0)
        return r;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(container, "env"), i, e)
    {
        const char *name = jstr(e, "name");
        if (!name)
            continue;
        const json_t *from = json_object_get(e, "valueFrom");
        _cleanup_free_ char *val = NULL;
        if (!from) {
            val = kos_oci_expand(jstr(e, "value"), map);
            if (!val)
                return -ENOMEM;
        } else if (json_object_get(from, "fieldRef")) {
            r = kos_pod_field_value(ctx, jstr(json_object_get(from, "fieldRef"), "fieldPath"), &val,
                                    err);
        } else if (json_object_get(from, "resourceFieldRef")) {
            const json_t *rf = json_object_get(from, "resourceFieldRef");
            r = kos_pod_resource_value(ctx, container, jstr(rf, "resource"), jstr(rf, "divisor"),
                                       &val, err);
        } else if (json_object_get(from, "configMapKeyRef")) {
            r = key_ref(ctx, "ConfigMap", json_object_get(from, "configMapKeyRef"), &val, err);
            if (r == 0 && !val)
                continue; /* optional and missing: not set at all */
        } else if (json_object_get(from, "secretKeyRef")) {
            r = key_ref(ctx, "Secret", json_object_get(from, "secretKeyRef"), &val, err);
            if (r == 0 && !val)
                continue;
        }
        if (r < 0)
            return r;
        if (set_var(map, order, name, val) < 0)
            return -ENOMEM;
    }

    /* The image's variables first, overridden in place by the pod's; then the pod's new
     * ones in the order they were defined. */
    _cleanup_json_ json_t *out = json_array();
    _cleanup_json_ json_t *seen = json_object();
    if (!out || !seen)
        return -ENOMEM;
    json_array_foreach(image_env, i, e)
    {
        const char *kv = json_string_value(e);
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!eq)
            continue;
        _cleanup_free_ char *k = kos_strndup(kv, (size_t)(eq - kv));
        if (!k)
            return -ENOMEM;
        const char *pv = jstr(map, k);
        if (pv) {
            char *s = NULL;
            if (asprintf(&s, "%s=%s", k, pv) < 0)
                return -ENOMEM;
            json_array_append_new(out, json_string(s));
            free(s);
            json_object_set_new(seen, k, json_true());
        } else {
            json_array_append(out, e);
        }
    }
    json_array_foreach(order, i, e)
    {
        const char *k = json_string_value(e);
        if (json_object_get(seen, k))
            continue;
        char *s = NULL;
        if (asprintf(&s, "%s=%s", k, jstr(map, k)) < 0)
            return -ENOMEM;
        json_array_append_new(out, json_string(s));
        free(s);
    }
    *ret_env = TAKE_PTR(out);
    if (ret_map)
        *ret_map = TAKE_PTR(map);
    return 0;
}

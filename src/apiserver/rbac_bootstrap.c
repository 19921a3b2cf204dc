/* Stores kube's bootstrap ClusterRoles and ClusterRoleBindings at start, and reconciles the
 * ones that exist and allow it (annotation rbac.authorization.kubernetes.io/autoupdate=true),
 * as kube-apiserver's rbac/bootstrap-roles post-start hook does. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apiserver/authz/bootstrap_roles.h"
#include "apiserver/authz/reconcile.h"
#include "apiserver/authorization.h"
#include "apiserver/objects.h"
#include "util/json_cleanup.h"
#include "util/random.h"

static int create(struct store *store, const char *key, json_t *obj)
{
    char uid[40], now[32];
    int r = kos_uuid_v4(uid, sizeof(uid));
    if (r < 0)
        return r;
    obj_now_rfc3339(now, sizeof(now));
    json_t *meta = obj_meta(obj);
    if (!meta || obj_set_str(meta, "uid", uid) < 0 ||
        obj_set_str(meta, "creationTimestamp", now) < 0)
        return -ENOMEM;
    struct store_write w = {
        .type = STORE_CREATE, .key = key, .render = obj_render, .render_ctx = obj};
    struct store_write_result res = {0};
    r = store_write(store, &w, &res);
    kos_value_unref(res.value);
    return r == -EEXIST ? 0 : r; /* another server got there first */
}

static int reconcile(struct store *store, const char *key, const struct store_kv *kv,
                     const json_t *expected, bool role)
{
    _cleanup_json_ json_t *existing = obj_decode_value(kv->value, NULL);
    _cleanup_json_ json_t *updated = NULL;
    if (!existing)
        return -EINVAL;
    if (!authz_reconcile_wanted(existing))
        return 0;
    int r = role ? authz_reconcile_cluster_role(existing, expected, &updated)
                 : authz_reconcile_cluster_role_binding(existing, expected, &updated);
    if (r <= 0)
        return r;
    struct store_write w = {.type = STORE_UPDATE,
                            .key = key,
                            .expected_mod_rev = kv->mod_rev,
                            .render = obj_render,
                            .render_ctx = updated};
    struct store_write_result res = {0};
    r = store_write(store, &w, &res);
    kos_value_unref(res.value);
    return r == -ECANCELED ? 0 : r; /* changed meanwhile: someone else owns it now */
}

int apiserver_bootstrap_rbac(struct apiserver *srv)
{
    _cleanup_json_ json_t *objs = authz_bootstrap_objects();
    if (!objs)
        return -ENOMEM;
    size_t i;
    json_t *obj;
    json_array_foreach(objs, i, obj)
    {
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        const char *name = obj_str(obj, "metadata.name");
        bool role = kind && strcmp(kind, "ClusterRole") == 0;
        char key[512];
        int n = snprintf(key, sizeof(key), "/registry/rbac.authorization.k8s.io/%s/%s",
                         role ? "clusterroles" : "clusterrolebindings", name ? name : "");
        if (!name || n < 0 || (size_t)n >= sizeof(key))
            return -EINVAL;
        struct store_kv kv = {0};
        int r = store_get(srv->store, key, &kv);
        if (r == -ENOENT)
            r = create(srv->store, key, obj);
        else if (r == 0)
            r = reconcile(srv->store, key, &kv, obj, role);
        store_kv_clear(&kv);
        if (r < 0)
            return r;
    }
    return 0;
}

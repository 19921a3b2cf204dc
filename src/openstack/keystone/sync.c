#include "openstack/keystone/sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/kinds.h"
#include "client/client.h"
#include "codec/yaml.h"
#include "openstack/keystone/map.h"
#include "openstack/keystone/token.h"
#include "util/fs.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

#define MAX_LIST 1024

static void role_map_clear(struct keystone_role_map *m)
{
    free(m->keystone_role);
    free(m->username);
    keystone_strv_free(m->groups, m->ngroups);
}

void keystone_sync_config_free(struct keystone_sync_config *c)
{
    if (!c)
        return;
    free(c->namespace_format);
    keystone_strv_free(c->project_blacklist, c->nproject_blacklist);
    keystone_strv_free(c->project_name_blacklist, c->nproject_name_blacklist);
    for (size_t i = 0; i < c->nrole_maps; i++)
        role_map_clear(&c->role_maps[i]);
    free(c->role_maps);
    free(c);
}

static int bad(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 400, "BadRequest", "sync config: %s", what);
}

/* A list of strings (missing/null: empty). -EINVAL on any other shape. */
static int str_list(const json_t *v, char ***ret, size_t *n)
{
    *ret = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v) || json_array_size(v) > MAX_LIST)
        return -EINVAL;
    char **out = calloc(json_array_size(v) + 1, sizeof(char *));
    if (!out)
        return -ENOMEM;
    size_t i, k = 0;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s) || !(out[k] = strdup(json_string_value(s)))) {
            keystone_strv_free(out, k);
            return json_is_string(s) ? -ENOMEM : -EINVAL;
        }
        k++;
    }
    *ret = out;
    *n = k;
    return 0;
}

static bool valid_format(const char *fmt)
{
    /* Each %i/%n/%d counts as "aa"; the rest must make a DNS-ish name, as Go's check. */
    struct kos_buf b;
    kos_buf_init(&b, 4096);
    for (const char *p = fmt; *p; p++) {
        if (p[0] == '%' && (p[1] == 'i' || p[1] == 'n' || p[1] == 'd')) {
            kos_buf_append_str(&b, "aa");
            p++;
        } else
            kos_buf_append(&b, p, 1);
    }
    bool ok = b.data && b.len >= 2;
    for (size_t i = 0; ok && i < b.len; i++) {
        char ch = b.data[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if ((i == 0 || i == b.len - 1) ? !alnum : !(alnum || ch == '_' || ch == '.' || ch == '-'))
            ok = false;
    }
    kos_buf_free(&b);
    return ok;
}

static int parse_tree(const json_t *root, struct keystone_sync_config *c, struct kos_error **err)
{
    if (!json_is_object(root))
        return bad(err, "must be a YAML mapping");
    char **types = NULL;
    size_t ntypes = 0;
    int r = str_list(json_object_get(root, "data-types-to-sync"), &types, &ntypes);
    if (r < 0)
        return bad(err, "data-types-to-sync must be a list of strings");
    for (size_t i = 0; i < ntypes; i++) {
        if (strcmp(types[i], "projects") == 0)
            c->sync_projects = true;
        else if (strcmp(types[i], "role_assignments") == 0)
            c->sync_role_assignments = true;
        else {
            kos_error_set(err, 400, "BadRequest",
                          "unsupported data type to sync: %s. Available values: "
                          "projects,role_assignments",
                          types[i]);
            keystone_strv_free(types, ntypes);
            return -EINVAL;
        }
    }
    keystone_strv_free(types, ntypes);

    const json_t *fmt = json_object_get(root, "namespace-format");
    const char *f = "%i";
    if (fmt && !json_is_null(fmt)) {
        if (!json_is_string(fmt) || json_string_length(fmt) > 253)
            return bad(err, "namespace-format must be a string");
        if (json_string_length(fmt) > 0)
            f = json_string_value(fmt);
    }
    if (!strstr(f, "%i"))
        return bad(err, "format string should comprise a %i substring (keystone project id)");
    if (!valid_format(f))
        return bad(err, "namespace name must consist of alphanumeric characters, '-', '_' or '.', "
                        "and must start and end with an alphanumeric character");
    if (!(c->namespace_format = strdup(f)))
        return -ENOMEM;

    if (str_list(json_object_get(root, "projects-blacklist"), &c->project_blacklist,
                 &c->nproject_blacklist) < 0 ||
        str_list(json_object_get(root, "projects-name-blacklist"), &c->project_name_blacklist,
                 &c->nproject_name_blacklist) < 0)
        return bad(err, "projects-blacklist and projects-name-blacklist must be lists of strings");

    const json_t *maps = json_object_get(root, "role-mappings");
    if (maps && !json_is_null(maps)) {
        if (!json_is_array(maps) || json_array_size(maps) > MAX_LIST)
            return bad(err, "role-mappings must be a list");
        c->role_maps = calloc(json_array_size(maps) + 1, sizeof(*c->role_maps));
        if (!c->role_maps)
            return -ENOMEM;
        size_t i;
        json_t *m;
        json_array_foreach(maps, i, m)
        {
            struct keystone_role_map *rm = &c->role_maps[c->nrole_maps];
            const json_t *kr = json_object_get(m, "keystone-role");
            const json_t *un = json_object_get(m, "username");
            if (!json_is_object(m) || (kr && !json_is_string(kr) && !json_is_null(kr)) ||
                (un && !json_is_string(un) && !json_is_null(un)))
                return bad(err, "each role mapping needs string keystone-role and username");
            c->nrole_maps++;
            if (json_is_string(kr) && !(rm->keystone_role = strdup(json_string_value(kr))))
                return -ENOMEM;
            if (json_is_string(un) && json_string_length(un) > 0 &&
                !(rm->username = strdup(json_string_value(un))))
                return -ENOMEM;
            if (str_list(json_object_get(m, "groups"), &rm->groups, &rm->ngroups) < 0)
                return bad(err, "role mapping groups must be a list of strings");
        }
    }
    return 0;
}

int keystone_sync_config_parse(const char *data, size_t len, struct keystone_sync_config **ret,
                               struct kos_error **err)
{
    if (len > KEYSTONE_SYNC_MAX_BYTES)
        return bad(err, "larger than 256 KiB");
    _cleanup_json_ json_t *root = NULL;
    _cleanup_error_ struct kos_error *yerr = NULL;
    if (kos_yaml_decode(data, len, &root, &yerr) < 0)
        return kos_error_set(err, 400, "BadRequest", "sync config is not valid YAML: %s",
                             yerr && yerr->message ? yerr->message : "parse error");
    struct keystone_sync_config *c = calloc(1, sizeof(*c));
    if (!c)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    int r = parse_tree(root, c, err);
    if (r < 0) {
        keystone_sync_config_free(c);
        return r == -ENOMEM ? kos_error_set(err, 500, "InternalError", "out of memory") : r;
    }
    *ret = c;
    return 0;
}

int keystone_sync_config_load(const char *path, struct keystone_sync_config **ret,
                              struct kos_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = kos_read_file(path, KEYSTONE_SYNC_MAX_BYTES, &data, &len);
    if (r == -EFBIG)
        return kos_error_set(err, 400, "BadRequest", "the sync config %s is over 256 KiB", path);
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "cannot read the sync config %s: %s", path,
                             strerror(-r));
    return keystone_sync_config_parse(data, len, ret, err);
}

int keystone_sync_apply_role_maps(const struct keystone_sync_config *c, struct kos_user_info *u)
{
    if (!c || c->nrole_maps == 0)
        return 0;
    const struct kos_user_extra *roles = keystone_user_extra(u, KEYSTONE_EXTRA_ROLES);
    if (!roles)
        return 0;
    for (size_t i = 0; i < c->nrole_maps; i++) {
        const struct keystone_role_map *m = &c->role_maps[i];
        bool has = false;
        for (size_t k = 0; m->keystone_role && !has && k < roles->nvalues; k++)
            has = strcmp(roles->values[k], m->keystone_role) == 0;
        if (!has)
            continue;
        for (size_t g = 0; g < m->ngroups; g++) {
            int r = kos_user_info_add_group(u, m->groups[g]);
            if (r < 0)
                return r;
        }
        if (m->username) {
            char *n = strdup(m->username);
            if (!n)
                return -ENOMEM;
            free(u->name);
            u->name = n;
        }
    }
    return 0;
}

static int replace_all(struct kos_buf *b, const char *fmt, const char *id, const char *name,
                       const char *domain)
{
    int r = 0;
    for (const char *p = fmt; *p && r == 0; p++) {
        if (p[0] == '%' && (p[1] == 'i' || p[1] == 'n' || p[1] == 'd')) {
            r = kos_buf_append_str(b, p[1] == 'i' ? id : p[1] == 'n' ? name : domain);
            p++;
        } else
            r = kos_buf_append(b, p, 1);
    }
    return r;
}

int keystone_sync_namespace_name(const struct keystone_sync_config *c, const char *id,
                                 const char *name, const char *domain, char *out, size_t size)
{
    struct kos_buf b;
    kos_buf_init(&b, 8192);
    int r = replace_all(&b, c->namespace_format, id, name ? name : "", domain ? domain : "");
    const char *res = (r < 0 || b.len > 63) ? id : b.data;
    size_t n = strlen(res);
    if (n >= size) {
        kos_buf_free(&b);
        return -ENAMETOOLONG;
    }
    memcpy(out, res, n + 1);
    kos_buf_free(&b);
    return 0;
}

static const char *first_extra(const struct kos_user_info *u, const char *key)
{
    const struct kos_user_extra *e = keystone_user_extra(u, key);
    return e && e->nvalues > 0 ? e->values[0] : NULL;
}

static bool in_list(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static int sync_namespace(struct kos_client *client, const char *ns, struct kos_error **err)
{
    struct kos_ref ref = {.kind = kos_kind_by_kind("", "Namespace"), .name = ns};
    if (!ref.kind)
        return kos_error_set(err, 500, "InternalError", "no Namespace kind");
    int r = kos_client_get(client, &ref, NULL, err);
    if (r != -ENOENT)
        return r;
    kos_error_free(*err);
    *err = NULL;
    _cleanup_json_ json_t *obj = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind",
                                           "Namespace", "metadata", "name", ns);
    if (!obj)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    ref.name = NULL;
    r = kos_client_create(client, &ref, obj, NULL, err);
    if (r == -EEXIST) { /* another login won the race */
        kos_error_free(*err);
        *err = NULL;
        r = 0;
    }
    return r;
}

static int sync_role_bindings(struct kos_client *client, const char *ns,
                              const struct kos_user_info *u, struct kos_error **err)
{
    struct kos_ref ref = {.kind = kos_kind_by_kind("rbac.authorization.k8s.io", "RoleBinding"),
                          .ns = ns};
    if (!ref.kind)
        return kos_error_set(err, 500, "InternalError", "no RoleBinding kind");
    const struct kos_user_extra *roles = keystone_user_extra(u, KEYSTONE_EXTRA_ROLES);
    size_t nroles = roles ? roles->nvalues : 0;
    _cleanup_json_ json_t *list = NULL;
    int r = kos_client_list(client, &ref, &(struct kos_list_options){0}, &list, err);
    if (r < 0)
        return r;
    const char *uid = u->uid ? u->uid : "";
    size_t uid_len = strlen(uid);
    json_t *items = json_object_get(list, "items");
    size_t i;
    json_t *item;
    /* Delete the user's bindings for roles Keystone no longer grants. */
    json_array_foreach(items, i, item)
    {
        const char *name =
            json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
        if (!name || strncmp(name, uid, uid_len) != 0 || name[uid_len] != '_')
            continue;
        bool keep = false;
        for (size_t k = 0; !keep && k < nroles; k++)
            keep = strcmp(name + uid_len + 1, roles->values[k]) == 0;
        if (keep)
            continue;
        struct kos_ref del = ref;
        del.name = name;
        r = kos_client_delete(client, &del, NULL, NULL, err);
        if (r < 0 && r != -ENOENT)
            return r;
        if (r == -ENOENT) {
            kos_error_free(*err);
            *err = NULL;
        }
    }
    for (size_t k = 0; k < nroles; k++) {
        char name[2 * KOS_USER_MAX_STRING + 2];
        snprintf(name, sizeof(name), "%s_%s", uid, roles->values[k]);
        bool exists = false;
        json_array_foreach(items, i, item)
        {
            const char *n =
                json_string_value(json_object_get(json_object_get(item, "metadata"), "name"));
            if (n && strcmp(n, name) == 0)
                exists = true;
        }
        if (exists)
            continue;
        _cleanup_json_ json_t *rb =
            json_pack("{s:s,s:s,s:{s:s},s:[{s:s,s:s,s:s}],s:{s:s,s:s,s:s}}", "apiVersion",
                      "rbac.authorization.k8s.io/v1", "kind", "RoleBinding", "metadata", "name",
                      name, "subjects", "apiGroup", "rbac.authorization.k8s.io", "kind", "User",
                      "name", u->name ? u->name : "", "roleRef", "apiGroup",
                      "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", roles->values[k]);
        if (!rb)
            return kos_error_set(err, 500, "InternalError", "out of memory");
        r = kos_client_create(client, &ref, rb, NULL, err);
        if (r == -EEXIST) {
            kos_error_free(*err);
            *err = NULL;
            r = 0;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int keystone_sync_user(const struct keystone_sync_config *c, struct kos_client *client,
                       const struct kos_user_info *u, struct kos_error **err)
{
    if (!c || (!c->sync_projects && !c->sync_role_assignments))
        return 0;
    const char *pid = first_extra(u, KEYSTONE_EXTRA_PROJECT_ID);
    const char *pname = first_extra(u, KEYSTONE_EXTRA_PROJECT_NAME);
    if (!pid)
        return 0;
    if (in_list(c->project_blacklist, c->nproject_blacklist, pid) ||
        in_list(c->project_name_blacklist, c->nproject_name_blacklist, pname))
        return 0;
    if (!client)
        return kos_error_set(err, 500, "InternalError",
                             "cannot sync data because the Kubernetes client is not initialized "
                             "(--kubeconfig)");
    char ns[256];
    if (keystone_sync_namespace_name(c, pid, pname, first_extra(u, KEYSTONE_EXTRA_DOMAIN_ID), ns,
                                     sizeof(ns)) < 0)
        return kos_error_set(err, 500, "InternalError", "project id too long for a namespace");
    int r = 0;
    if (c->sync_projects)
        r = sync_namespace(client, ns, err);
    if (r == 0 && c->sync_role_assignments)
        r = sync_role_bindings(client, ns, u, err);
    return r;
}

#include "openstack/keystone/policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/json.h"
#include "openstack/keystone/map.h"
#include "util/fs.h"
#include "util/buf.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

/* Validated once at load; matching then walks the tree read-only (safe from many threads). */
struct keystone_policy {
    json_t *entries;
};

void keystone_policy_free(struct keystone_policy *p)
{
    if (!p)
        return;
    json_decref(p->entries);
    free(p);
}

size_t keystone_policy_count(const struct keystone_policy *p)
{
    return json_array_size(p->entries);
}

/* ---- validation ------------------------------------------------------------------------ */

static int invalid(struct kos_error **err, size_t i, const char *what)
{
    return kos_error_set(err, 400, "BadRequest", "policy entry %zu: %s", i, what);
}

static bool is_string_list(const json_t *v)
{
    if (!json_is_array(v))
        return false;
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s) if (!json_is_string(s)) return false;
    return true;
}

/* Go decodes a missing or null list as an empty one. */
static bool opt_string_list(const json_t *v)
{
    return !v || json_is_null(v) || is_string_list(v);
}

static bool is_string_list_map(const json_t *v)
{
    if (!json_is_object(v))
        return false;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)v, k, val) if (!opt_string_list(val)) return false;
    return true;
}

static bool present(const json_t *v)
{
    return v && !json_is_null(v);
}

static int validate_entry(const json_t *e, size_t i, struct kos_error **err)
{
    if (!json_is_object(e))
        return invalid(err, i, "must be a JSON object");
    const json_t *res = json_object_get(e, "resource");
    if (present(res)) {
        if (!json_is_object(res))
            return invalid(err, i, "\"resource\" must be an object");
        if (!opt_string_list(json_object_get(res, "verbs")) ||
            !opt_string_list(json_object_get(res, "resources")))
            return invalid(err, i, "\"resource\" verbs and resources must be lists of strings");
        if (!json_is_string(json_object_get(res, "version")) ||
            !json_is_string(json_object_get(res, "namespace")))
            return invalid(err, i,
                           "\"resource\" needs \"version\" (API group or \"*\") and "
                           "\"namespace\" (name or \"*\") strings");
    }
    const json_t *nres = json_object_get(e, "nonresource");
    if (present(nres)) {
        if (!json_is_object(nres))
            return invalid(err, i, "\"nonresource\" must be an object");
        if (!opt_string_list(json_object_get(nres, "verbs")))
            return invalid(err, i, "\"nonresource\" verbs must be a list of strings");
        if (!json_is_string(json_object_get(nres, "path")))
            return invalid(err, i, "\"nonresource\" needs a \"path\" string");
    }
    const json_t *match = json_object_get(e, "match");
    if (present(match)) {
        if (!json_is_array(match))
            return invalid(err, i, "\"match\" must be a list of {\"type\", \"values\"}");
        size_t j;
        json_t *m;
        json_array_foreach(match, j, m)
        {
            const json_t *type = json_object_get(m, "type");
            if (!json_is_object(m) || !json_is_string(type) ||
                !opt_string_list(json_object_get(m, "values")))
                return invalid(err, i, "each \"match\" item needs a \"type\" and \"values\" list");
            const char *t = json_string_value(type);
            if (strcmp(t, "user") != 0 && strcmp(t, "group") != 0 && strcmp(t, "project") != 0 &&
                strcmp(t, "role") != 0)
                return invalid(err, i,
                               "unknown \"match\" type (want user, group, project or role)");
        }
    }
    static const char *const maps[] = {"resource_permissions", "nonresource_permissions", "users"};
    for (size_t k = 0; k < ARRAY_SIZE(maps); k++) {
        const json_t *v = json_object_get(e, maps[k]);
        if (present(v) && !is_string_list_map(v)) {
            char msg[128];
            snprintf(msg, sizeof(msg), "\"%s\" must map strings to lists of strings", maps[k]);
            return invalid(err, i, msg);
        }
    }
    return 0;
}

int keystone_policy_parse(const char *data, size_t len, struct keystone_policy **ret,
                          struct kos_error **err)
{
    if (len > KEYSTONE_POLICY_MAX_BYTES)
        return kos_error_set(err, 400, "BadRequest", "the policy is larger than %u bytes",
                             KEYSTONE_POLICY_MAX_BYTES);
    _cleanup_json_ json_t *root = NULL;
    _cleanup_error_ struct kos_error *jerr = NULL;
    if (kos_json_decode(data, len, &root, &jerr) < 0)
        return kos_error_set(err, 400, "BadRequest", "the policy is not valid JSON: %s",
                             jerr && jerr->message ? jerr->message : "parse error");
    if (!json_is_array(root))
        return kos_error_set(err, 400, "BadRequest", "the policy must be a JSON array of entries");
    if (json_array_size(root) > KEYSTONE_POLICY_MAX_ENTRIES)
        return kos_error_set(err, 400, "BadRequest", "the policy has more than %d entries",
                             KEYSTONE_POLICY_MAX_ENTRIES);
    size_t i;
    json_t *e;
    json_array_foreach(root, i, e)
    {
        int r = validate_entry(e, i, err);
        if (r < 0)
            return r;
    }
    struct keystone_policy *p = calloc(1, sizeof(*p));
    if (!p)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    p->entries = TAKE_PTR(root);
    *ret = p;
    return 0;
}

int keystone_policy_load(const char *path, struct keystone_policy **ret, struct kos_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    int r = kos_read_file(path, KEYSTONE_POLICY_MAX_BYTES, &data, &len);
    if (r == -EFBIG)
        return kos_error_set(err, 400, "BadRequest", "the policy file %s is larger than %u bytes",
                             path, KEYSTONE_POLICY_MAX_BYTES);
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "cannot read the policy file %s: %s", path,
                             strerror(-r));
    _cleanup_error_ struct kos_error *perr = NULL;
    r = keystone_policy_parse(data, len, ret, &perr);
    if (r < 0)
        return kos_error_set(err, 400, "BadRequest", "policy file %s: %s", path,
                             perr && perr->message ? perr->message : "invalid");
    return 0;
}

/* ---- matching -------------------------------------------------------------------------- */

static bool list_has(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) if (strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static bool extra_in_list(const struct kos_user_info *u, const char *key, const json_t *list)
{
    const struct kos_user_extra *e = keystone_user_extra(u, key);
    for (size_t i = 0; e && i < e->nvalues; i++)
        if (list_has(list, e->values[i]))
            return true;
    return false;
}

static bool v1_match(const json_t *match, const struct kos_user_info *u)
{
    size_t i;
    json_t *m;
    json_array_foreach(match, i, m)
    {
        const char *type = json_string_value(json_object_get(m, "type"));
        json_t *values = json_object_get(m, "values");
        if (!json_is_array(values))
            values = NULL;
        if (values && list_has(values, "*"))
            continue;
        if (!values)
            return false;
        if (strcmp(type, "group") == 0) {
            bool found = false;
            for (size_t g = 0; !found && g < u->ngroups; g++)
                found = list_has(values, u->groups[g]);
            if (!found)
                return false;
        } else if (strcmp(type, "user") == 0) {
            if (!list_has(values, u->name ? u->name : "") &&
                !list_has(values, u->uid ? u->uid : ""))
                return false;
        } else if (strcmp(type, "project") == 0) {
            if (!extra_in_list(u, KEYSTONE_EXTRA_PROJECT_ID, values) &&
                !extra_in_list(u, KEYSTONE_EXTRA_PROJECT_NAME, values))
                return false;
        } else if (strcmp(type, "role") == 0) {
            if (!extra_in_list(u, KEYSTONE_EXTRA_ROLES, values))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

static bool v1_resource(const json_t *spec, const json_t *match, const struct kos_user_info *u,
                        const struct authz_attributes *a)
{
    const char *group = json_string_value(json_object_get(spec, "version"));
    const char *ns = json_string_value(json_object_get(spec, "namespace"));
    const json_t *resources = json_object_get(spec, "resources");
    const json_t *verbs = json_object_get(spec, "verbs");
    if (!json_is_array(resources) || !json_is_array(verbs))
        return false;
    if (strcmp(group, "*") != 0 && strcmp(group, authz_str(a->api_group)) != 0)
        return false;
    if (strcmp(ns, "*") != 0 && strcmp(ns, authz_str(a->namespace_)) != 0)
        return false;
    const char *res = authz_str(a->resource);
    if (a->subresource && *a->subresource) {
        char any[KOS_USER_MAX_STRING * 2], exact[KOS_USER_MAX_STRING * 2];
        snprintf(any, sizeof(any), "%s/*", res);
        snprintf(exact, sizeof(exact), "%s/%s", res, a->subresource);
        if (!list_has(resources, "*") && !list_has(resources, any) && !list_has(resources, exact))
            return false;
    } else if (!list_has(resources, "*") && !list_has(resources, res)) {
        return false;
    }
    if (!list_has(verbs, "*") && !list_has(verbs, authz_str(a->verb)))
        return false;
    return !json_is_array(match) || v1_match(match, u); /* no clauses: all hold */
}

static bool v1_nonresource(const json_t *spec, const json_t *match, const struct kos_user_info *u,
                           const struct authz_attributes *a)
{
    const json_t *verbs = json_object_get(spec, "verbs");
    const char *ppath = json_string_value(json_object_get(spec, "path"));
    const char *path = authz_str(a->path);
    if (!json_is_array(verbs) || list_has(verbs, ""))
        return false;
    if (!list_has(verbs, "*") && !list_has(verbs, authz_str(a->verb)))
        return false;
    if (strcmp(ppath, "*") != 0 && strcmp(ppath, path) != 0) {
        size_t n = strlen(ppath);
        if (n == 0 || ppath[n - 1] != '*')
            return false;
        while (n > 0 && ppath[n - 1] == '*')
            n--;
        if (strncmp(path, ppath, n) != 0)
            return false;
    }
    return !json_is_array(match) || v1_match(match, u); /* no clauses: all hold */
}

/* ['a', 'b'] as k8s-keystone-auth reads it: single quotes become double, then JSON. */
static json_t *parse_quoted_list(const char *def)
{
    size_t n = strlen(def);
    _cleanup_free_ char *copy = kos_strndup(def, n);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (copy[i] == '\'')
            copy[i] = '"';
    json_t *v = json_loadb(copy, n, 0, NULL);
    if (v && !is_string_list(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

/* Is str in the set getAllowed(def, str) builds? */
static bool v2_allowed(const char *def, const char *str)
{
    size_t n = strlen(def);
    const char *lb = strchr(def, '[');
    const char *rb = strchr(def, ']');
    bool list_at_end = rb && (size_t)(rb - def) == n - 1;
    if (strcmp(def, str) == 0 || strcmp(def, "*") == 0 || *str == '\0')
        return true;
    if (def[0] == '!' && !(lb && lb - def == 1))
        return !(strcmp(def + 1, str) == 0 || strcmp(def + 1, "*") == 0);
    if (def[0] == '[' && list_at_end) {
        _cleanup_json_ json_t *items = parse_quoted_list(def);
        return items && (list_has(items, str) || list_has(items, "*"));
    }
    if (def[0] == '!' && lb && lb - def == 1 && list_at_end) {
        _cleanup_json_ json_t *items = parse_quoted_list(def + 1);
        return items && !(list_has(items, str) || list_has(items, "*"));
    }
    return false;
}

static char *lower_trim(const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s))
        s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    char *r = kos_strndup(s, n);
    for (size_t i = 0; r && i < n; i++)
        r[i] = (char)tolower((unsigned char)r[i]);
    return r;
}

static bool verbs_allow(const json_t *verbs, const char *verb, bool lower)
{
    size_t i;
    json_t *v;
    json_array_foreach(verbs, i, v)
    {
        const char *s = json_string_value(v);
        if (strcmp(s, "*") == 0)
            return true;
        if (lower ? strcasecmp(s, verb) == 0 && !strpbrk(verb, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                  : strcmp(s, verb) == 0)
            return true;
    }
    return false;
}

static bool v2_resource(const json_t *perms, const struct authz_attributes *a)
{
    const char *ns = authz_str(a->namespace_), *res = authz_str(a->resource);
    const char *verb = authz_str(a->verb);
    const char *key;
    json_t *verbs;
    json_object_foreach((json_t *)perms, key, verbs)
    {
        if (!json_is_array(verbs))
            continue;
        const char *slash = strchr(key, '/');
        if (!slash || strchr(slash + 1, '/'))
            continue; /* not exactly "ns/res" */
        _cleanup_free_ char *ns_def = lower_trim(key, (size_t)(slash - key));
        _cleanup_free_ char *res_def = lower_trim(slash + 1, strlen(slash + 1));
        if (!ns_def || !res_def)
            continue;
        if (strcmp(ns_def, "*") != 0 && *ns == '\0')
            continue; /* namespaced rules never cover cluster-scoped requests */
        if (v2_allowed(ns_def, ns) && v2_allowed(res_def, res) && verbs_allow(verbs, verb, true))
            return true;
    }
    return false;
}

static bool v2_nonresource(const json_t *perms, const struct authz_attributes *a)
{
    const char *key;
    json_t *verbs;
    json_object_foreach((json_t *)perms, key, verbs)
    {
        if (json_is_array(verbs) && strcmp(key, authz_str(a->path)) == 0 &&
            verbs_allow(verbs, authz_str(a->verb), false))
            return true;
    }
    return false;
}

static bool users_match(const json_t *users, const struct kos_user_info *u)
{
    const json_t *roles = json_object_get(users, "roles");
    const json_t *projects = json_object_get(users, "projects");
    const struct kos_user_extra *ur = keystone_user_extra(u, KEYSTONE_EXTRA_ROLES);
    size_t i;
    json_t *v;
    if (json_is_array(roles))
        json_array_foreach(roles, i, v)
        {
            bool has = false;
            for (size_t k = 0; !has && ur && k < ur->nvalues; k++)
                has = strcmp(ur->values[k], json_string_value(v)) == 0;
            if (!has)
                return false;
        }
    if (!json_is_array(projects))
        return false;
    return extra_in_list(u, KEYSTONE_EXTRA_PROJECT_ID, projects) ||
           extra_in_list(u, KEYSTONE_EXTRA_PROJECT_NAME, projects);
}

bool keystone_policy_allows(const struct keystone_policy *p, const struct kos_user_info *user,
                            const struct authz_attributes *attrs)
{
    if (!p || !user || user->nextra == 0)
        return false; /* no Keystone identity: "No auth info found." */
    size_t i;
    json_t *e;
    json_array_foreach(p->entries, i, e)
    {
        const json_t *users = json_object_get(e, "users");
        if (present(users) && !users_match(users, user))
            continue;
        const json_t *match = json_object_get(e, "match");
        if (attrs->resource_request) {
            const json_t *perms = json_object_get(e, "resource_permissions");
            const json_t *spec = json_object_get(e, "resource");
            if (present(perms)) {
                if (v2_resource(perms, attrs))
                    return true;
            } else if (present(spec) && v1_resource(spec, match, user, attrs)) {
                return true;
            }
        } else {
            const json_t *perms = json_object_get(e, "nonresource_permissions");
            const json_t *spec = json_object_get(e, "nonresource");
            if (present(perms)) {
                if (v2_nonresource(perms, attrs))
                    return true;
            } else if (present(spec) && v1_nonresource(spec, match, user, attrs)) {
                return true;
            }
        }
    }
    return false;
}

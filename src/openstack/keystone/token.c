#include "openstack/keystone/token.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

void keystone_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void keystone_token_clear(struct keystone_token *t)
{
    if (!t)
        return;
    free(t->user_id);
    free(t->user_name);
    free(t->user_domain_id);
    free(t->user_domain_name);
    free(t->project_id);
    free(t->project_name);
    free(t->project_domain_id);
    free(t->project_domain_name);
    keystone_strv_free(t->roles, t->nroles);
    memset(t, 0, sizeof(*t));
}

static int bad(struct kos_error **err, const char *what)
{
    return kos_error_set(err, 500, "InternalError", "Keystone answered with a malformed %s", what);
}

/* A bounded string member (optional: absent or null gives NULL; any other type is an error). */
static int get_str(const json_t *obj, const char *key, bool required, char **ret)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required)
            return -EBADMSG;
        *ret = NULL;
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) > KEYSTONE_MAX_STRING ||
        strlen(json_string_value(v)) != json_string_length(v))
        return -EBADMSG;
    char *s = strdup(json_string_value(v));
    if (!s)
        return -ENOMEM;
    *ret = s;
    return 0;
}

static int parse_domain(const json_t *owner, char **id, char **name)
{
    json_t *d = json_object_get(owner, "domain");
    if (!d || json_is_null(d))
        return 0;
    if (!json_is_object(d))
        return -EBADMSG;
    int r = get_str(d, "id", false, id);
    if (r < 0)
        return r;
    return get_str(d, "name", false, name);
}

static int parse_token_object(const json_t *tok, struct keystone_token *t)
{
    const json_t *user = json_object_get(tok, "user");
    if (!json_is_object(user))
        return -EBADMSG;
    int r = get_str(user, "id", true, &t->user_id);
    if (r < 0)
        return r;
    r = get_str(user, "name", true, &t->user_name);
    if (r < 0)
        return r;
    r = parse_domain(user, &t->user_domain_id, &t->user_domain_name);
    if (r < 0)
        return r;

    const json_t *project = json_object_get(tok, "project");
    if (project && !json_is_null(project)) {
        if (!json_is_object(project))
            return -EBADMSG;
        r = get_str(project, "id", true, &t->project_id);
        if (r < 0)
            return r;
        r = get_str(project, "name", false, &t->project_name);
        if (r < 0)
            return r;
        r = parse_domain(project, &t->project_domain_id, &t->project_domain_name);
        if (r < 0)
            return r;
    }

    const json_t *roles = json_object_get(tok, "roles");
    if (roles && !json_is_null(roles)) {
        if (!json_is_array(roles) || json_array_size(roles) > KEYSTONE_MAX_ROLES)
            return -EBADMSG;
        t->roles = calloc(json_array_size(roles) + 1, sizeof(char *));
        if (!t->roles)
            return -ENOMEM;
        size_t i;
        json_t *role;
        json_array_foreach(roles, i, role)
        {
            if (!json_is_object(role))
                return -EBADMSG;
            r = get_str(role, "name", true, &t->roles[t->nroles]);
            if (r < 0)
                return r;
            t->nroles++;
        }
    }

    const json_t *exp = json_object_get(tok, "expires_at");
    if (!json_is_string(exp) || json_string_length(exp) > 64 ||
        kos_time_parse_rfc3339(json_string_value(exp), &t->expires_at) < 0)
        return -EBADMSG;
    return 0;
}

int keystone_token_parse(const char *body, size_t len, struct keystone_token *ret,
                         struct kos_error **err)
{
    if (len > KEYSTONE_MAX_BODY)
        return kos_error_set(err, 500, "InternalError",
                             "Keystone's token response is larger than %u bytes",
                             KEYSTONE_MAX_BODY);
    _cleanup_json_ json_t *root = NULL;
    if (kos_json_decode(body, len, &root, NULL) < 0 || !json_is_object(root))
        return bad(err, "token response (not a JSON object)");
    const json_t *tok = json_object_get(root, "token");
    if (!json_is_object(tok))
        return bad(err, "token response (no \"token\" object)");
    struct keystone_token t = {0};
    int r = parse_token_object(tok, &t);
    if (r < 0) {
        keystone_token_clear(&t);
        if (r == -ENOMEM)
            return kos_error_set(err, 500, "InternalError", "out of memory");
        return bad(err, "token response (user, project, roles or expires_at)");
    }
    *ret = t;
    return 0;
}

int keystone_groups_parse(const char *body, size_t len, char ***ret, size_t *ret_n,
                          struct kos_error **err)
{
    if (len > KEYSTONE_MAX_BODY)
        return bad(err, "group list (too large)");
    _cleanup_json_ json_t *root = NULL;
    if (kos_json_decode(body, len, &root, NULL) < 0 || !json_is_object(root))
        return bad(err, "group list (not a JSON object)");
    const json_t *groups = json_object_get(root, "groups");
    if (!json_is_array(groups))
        return bad(err, "group list (no \"groups\" array)");
    if (json_array_size(groups) > KEYSTONE_MAX_GROUPS)
        return kos_error_set(err, 500, "InternalError",
                             "the user is in more than %d Keystone groups", KEYSTONE_MAX_GROUPS);
    size_t n = 0;
    char **v = calloc(json_array_size(groups) + 1, sizeof(char *));
    if (!v)
        return kos_error_set(err, 500, "InternalError", "out of memory");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        int r = json_is_object(g) ? get_str(g, "name", true, &v[n]) : -EBADMSG;
        if (r < 0) {
            keystone_strv_free(v, n);
            return r == -ENOMEM ? kos_error_set(err, 500, "InternalError", "out of memory")
                                : bad(err, "group list (a group without a name)");
        }
        n++;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

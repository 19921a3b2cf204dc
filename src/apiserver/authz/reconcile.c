#include "apiserver/authz/reconcile.h"

#include <errno.h>
#include <string.h>

#include "apiserver/authz/rbac_internal.h"
#include "util/json_cleanup.h"

#define AUTOUPDATE "rbac.authorization.kubernetes.io/autoupdate"

bool authz_reconcile_wanted(const json_t *existing)
{
    const json_t *ann = json_object_get(json_object_get(existing, "metadata"), "annotations");
    const char *v = json_string_value(json_object_get(ann, AUTOUPDATE));
    return v && strcmp(v, "true") == 0;
}

/* Expected labels and annotations win over existing ones of the same key (kube's merge). */
static int merge_meta(json_t *result, const json_t *expected, bool *changed)
{
    json_t *meta = json_object_get(result, "metadata");
    const json_t *emeta = json_object_get(expected, "metadata");
    if (!json_is_object(meta))
        return -EINVAL;
    static const char *const fields[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *want = json_object_get(emeta, fields[i]);
        if (!json_is_object(want))
            continue;
        json_t *have = json_object_get(meta, fields[i]);
        if (!json_is_object(have)) {
            have = json_object();
            if (!have || json_object_set_new(meta, fields[i], have) < 0)
                return -ENOMEM;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            if (json_equal(json_object_get(have, k), v))
                continue;
            if (json_object_set(have, k, v) < 0)
                return -ENOMEM;
            *changed = true;
        }
    }
    return 0;
}

static json_t *subrule_json(const struct rbac_subrule *s)
{
    if (s->url)
        return json_pack("{s:[s], s:[s]}", "verbs", s->verb, "nonResourceURLs", s->url);
    json_t *o = json_pack("{s:[s], s:[s], s:[s]}", "verbs", s->verb, "apiGroups", s->api_group,
                          "resources", s->resource);
    if (o && s->resource_name &&
        json_object_set_new(o, "resourceNames", json_pack("[s]", s->resource_name)) < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int add_missing_rules(json_t *result, const json_t *expected, bool *changed)
{
    struct rbac_rules have = {0}, want = {0};
    struct rbac_subrules missing = {0};
    int r = rbac_rules_parse(json_object_get(result, "rules"), &have);
    if (r == 0)
        r = rbac_rules_parse(json_object_get(expected, "rules"), &want);
    if (r == 0)
        r = rbac_covers((const struct rbac_rule *const *)have.v, have.n, &want, &missing);
    if (r == 0 && missing.n > 0) {
        json_t *rules = json_object_get(result, "rules");
        if (!json_is_array(rules)) {
            rules = json_array();
            if (!rules || json_object_set_new(result, "rules", rules) < 0)
                r = -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < missing.n; i++)
            if (json_array_append_new(rules, subrule_json(&missing.v[i])) < 0)
                r = -ENOMEM;
        *changed = true;
    }
    rbac_subrules_free(&missing);
    rbac_rules_free(&have);
    rbac_rules_free(&want);
    return r;
}

static int add_missing_selectors(json_t *result, const json_t *expected, bool *changed)
{
    const json_t *want =
        json_object_get(json_object_get(expected, "aggregationRule"), "clusterRoleSelectors");
    if (!json_is_array(want))
        return 0;
    json_t *agg = json_object_get(result, "aggregationRule");
    if (!json_is_object(agg)) {
        agg = json_object();
        if (!agg || json_object_set_new(result, "aggregationRule", agg) < 0)
            return -ENOMEM;
    }
    json_t *have = json_object_get(agg, "clusterRoleSelectors");
    if (!json_is_array(have)) {
        have = json_array();
        if (!have || json_object_set_new(agg, "clusterRoleSelectors", have) < 0)
            return -ENOMEM;
    }
    size_t i, j;
    json_t *w, *h;
    json_array_foreach(want, i, w)
    {
        bool found = false;
        json_array_foreach(have, j, h) found = found || json_equal(w, h);
        if (!found) {
            if (json_array_append(have, w) < 0)
                return -ENOMEM;
            *changed = true;
        }
    }
    return 0;
}

int authz_reconcile_cluster_role(const json_t *existing, const json_t *expected, json_t **ret)
{
    _cleanup_json_ json_t *result = json_deep_copy(existing);
    bool changed = false;
    if (!result)
        return -ENOMEM;
    int r = merge_meta(result, expected, &changed);
    if (r == 0)
        r = add_missing_rules(result, expected, &changed);
    if (r == 0 && !json_object_get(expected, "aggregationRule") &&
        json_object_get(result, "aggregationRule")) {
        json_object_del(result, "aggregationRule");
        changed = true;
    } else if (r == 0) {
        r = add_missing_selectors(result, expected, &changed);
    }
    if (r < 0)
        return r;
    if (!changed)
        return 0;
    *ret = TAKE_PTR(result);
    return 1;
}

static bool same_subject(const json_t *a, const json_t *b)
{
    static const char *const keys[] = {"kind", "apiGroup", "name", "namespace"};
    for (size_t i = 0; i < 4; i++) {
        const char *x = json_string_value(json_object_get(a, keys[i]));
        const char *y = json_string_value(json_object_get(b, keys[i]));
        if (strcmp(x ? x : "", y ? y : "") != 0)
            return false;
    }
    return true;
}

int authz_reconcile_cluster_role_binding(const json_t *existing, const json_t *expected,
                                         json_t **ret)
{
    _cleanup_json_ json_t *result = json_deep_copy(existing);
    bool changed = false;
    if (!result)
        return -ENOMEM;
    int r = merge_meta(result, expected, &changed);
    if (r < 0)
        return r;
    const json_t *ref = json_object_get(expected, "roleRef");
    if (ref && !json_equal(ref, json_object_get(result, "roleRef"))) {
        if (json_object_set(result, "roleRef", (json_t *)ref) < 0)
            return -ENOMEM;
        changed = true;
    }
    const json_t *want = json_object_get(expected, "subjects");
    json_t *have = json_object_get(result, "subjects");
    if (json_is_array(want) && json_array_size(want) > 0 && !json_is_array(have)) {
        have = json_array();
        if (!have || json_object_set_new(result, "subjects", have) < 0)
            return -ENOMEM;
    }
    size_t i, j;
    json_t *w, *h;
    json_array_foreach(want, i, w)
    {
        bool found = false;
        json_array_foreach(have, j, h) found = found || same_subject(w, h);
        if (!found) {
            if (json_array_append(have, w) < 0)
                return -ENOMEM;
            changed = true;
        }
    }
    if (!changed)
        return 0;
    *ret = TAKE_PTR(result);
    return 1;
}

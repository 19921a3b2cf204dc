/* PolicyRule evaluation: parsing, RuleAllows (pkg/apis/rbac/v1/evaluation_helpers.go) and
 * Covers (k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go). */
#include "apiserver/authz/rbac_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/strutil.h"

/* Chains h with the bytes' hash. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t len)
{
    return kos_hash_mix64(h ^ kos_hash_bytes(s, len));
}

static uint64_t hash_list(uint64_t h, const struct rbac_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        h = hash_bytes(h, l->v[i], strlen(l->v[i]) + 1); /* the NUL separates elements */
    return hash_bytes(h, "\x01", 1);                     /* and this separates fields */
}

static int parse_list(const json_t *rule, const char *field, struct rbac_strlist *out)
{
    const json_t *a = json_object_get(rule, field);
    out->v = NULL;
    out->n = 0;
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a))
        return -EINVAL;
    size_t n = json_array_size(a);
    if (n == 0)
        return 0;
    out->v = calloc(n, sizeof(*out->v));
    if (!out->v)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s)
            return -EINVAL;
        out->v[out->n++] = s;
    }
    return 0;
}

static void rule_free(struct rbac_rule *rule)
{
    if (!rule)
        return;
    free(rule->verbs.v);
    free(rule->api_groups.v);
    free(rule->resources.v);
    free(rule->resource_names.v);
    free(rule->urls.v);
    json_decref(rule->json);
    free(rule);
}

static void rule_unref(struct rbac_rule *rule)
{
    if (rule && --rule->refs == 0)
        rule_free(rule);
}

/* Takes ownership of json (a private copy). A JSON null is an empty rule, as Go decodes it. */
static int rule_new(json_t *json, struct rbac_rule **ret)
{
    struct rbac_rule *rule = calloc(1, sizeof(*rule));
    if (!rule) {
        json_decref(json);
        return -ENOMEM;
    }
    rule->refs = 1;
    rule->json = json;
    int r = 0;
    if (!json_is_null(json)) {
        if (!json_is_object(json))
            r = -EINVAL;
        if (r == 0)
            r = parse_list(json, "verbs", &rule->verbs);
        if (r == 0)
            r = parse_list(json, "apiGroups", &rule->api_groups);
        if (r == 0)
            r = parse_list(json, "resources", &rule->resources);
        if (r == 0)
            r = parse_list(json, "resourceNames", &rule->resource_names);
        if (r == 0)
            r = parse_list(json, "nonResourceURLs", &rule->urls);
    }
    if (r < 0) {
        rule_free(rule);
        return r;
    }
    uint64_t h = 0xcbf29ce484222325ULL;
    h = hash_list(h, &rule->verbs);
    h = hash_list(h, &rule->api_groups);
    h = hash_list(h, &rule->resources);
    h = hash_list(h, &rule->resource_names);
    rule->hash = hash_list(h, &rule->urls);
    *ret = rule;
    return 0;
}

int rbac_rules_append_ref(struct rbac_rules *rs, struct rbac_rule *rule)
{
    /* Grow by doubling: capacity is implied by n (powers of two from 4). */
    if (rs->n == 0 || (rs->n >= 4 && (rs->n & (rs->n - 1)) == 0)) {
        size_t cap = rs->n ? rs->n * 2 : 4;
        if (cap > SIZE_MAX / sizeof(*rs->v))
            return -ENOMEM;
        struct rbac_rule **v = realloc(rs->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        rs->v = v;
    }
    rule->refs++;
    rs->v[rs->n++] = rule;
    return 0;
}

void rbac_rules_free(struct rbac_rules *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        rule_unref(rs->v[i]);
    free(rs->v);
    rs->v = NULL;
    rs->n = 0;
}

int rbac_rules_parse(const json_t *rules, struct rbac_rules *out)
{
    struct rbac_rules rs = {0};
    if (rules && !json_is_null(rules)) {
        if (!json_is_array(rules))
            return -EINVAL;
        for (size_t i = 0; i < json_array_size(rules); i++) {
            json_t *copy = json_deep_copy(json_array_get(rules, i));
            struct rbac_rule *rule = NULL;
            int r = copy ? rule_new(copy, &rule) : -ENOMEM;
            if (r == 0) {
                r = rbac_rules_append_ref(&rs, rule);
                rule_unref(rule);
            }
            if (r < 0) {
                rbac_rules_free(&rs);
                return r;
            }
        }
    }
    *out = rs;
    return 0;
}

static bool list_equal(const struct rbac_strlist *a, const struct rbac_strlist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

/* equality.Semantic.DeepEqual: nil and empty slices are equal. */
bool rbac_rule_equal(const struct rbac_rule *a, const struct rbac_rule *b)
{
    return a == b ||
           (a->hash == b->hash && list_equal(&a->verbs, &b->verbs) &&
            list_equal(&a->api_groups, &b->api_groups) &&
            list_equal(&a->resources, &b->resources) &&
            list_equal(&a->resource_names, &b->resource_names) && list_equal(&a->urls, &b->urls));
}

bool rbac_rules_equal(const struct rbac_rules *a, const struct rbac_rules *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!rbac_rule_equal(a->v[i], b->v[i]))
            return false;
    return true;
}

static bool has(const struct rbac_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static bool has_or_all(const struct rbac_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], "*") == 0 || strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

/* ResourceMatches: "*", the exact "resource[/subresource]", or "*\/subresource". */
static bool resource_matches(const struct rbac_rule *rule, const char *resource,
                             const char *subresource)
{
    size_t rlen = strlen(resource), slen = strlen(subresource);
    for (size_t i = 0; i < rule->resources.n; i++) {
        const char *rr = rule->resources.v[i];
        if (strcmp(rr, "*") == 0)
            return true;
        size_t len = strlen(rr);
        if (slen == 0) {
            if (strcmp(rr, resource) == 0)
                return true;
            continue;
        }
        /* combined "resource/subresource" without building it */
        if (len == rlen + 1 + slen && strncmp(rr, resource, rlen) == 0 && rr[rlen] == '/' &&
            strcmp(rr + rlen + 1, subresource) == 0)
            return true;
        if (len == slen + 2 && rr[0] == '*' && rr[1] == '/' && strcmp(rr + 2, subresource) == 0)
            return true;
    }
    return false;
}

static bool url_matches(const struct rbac_rule *rule, const char *path)
{
    for (size_t i = 0; i < rule->urls.n; i++) {
        const char *u = rule->urls.v[i];
        if (strcmp(u, "*") == 0 || strcmp(u, path) == 0)
            return true;
        /* strings.TrimRight(u, "*"): every trailing star goes */
        size_t len = strlen(u);
        if (len > 0 && u[len - 1] == '*') {
            while (len > 0 && u[len - 1] == '*')
                len--;
            if (strncmp(path, u, len) == 0)
                return true;
        }
    }
    return false;
}

bool rbac_rule_allows(const struct rbac_rule *rule, const struct authz_attributes *a)
{
    if (!has_or_all(&rule->verbs, authz_str(a->verb)))
        return false;
    if (!a->resource_request)
        return url_matches(rule, authz_str(a->path));
    return has_or_all(&rule->api_groups, authz_str(a->api_group)) &&
           resource_matches(rule, authz_str(a->resource), authz_str(a->subresource)) &&
           (rule->resource_names.n == 0 || has(&rule->resource_names, authz_str(a->name)));
}

bool rbac_rules_allow(const struct rbac_rules *rs, const struct authz_attributes *a)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rbac_rule_allows(rs->v[i], a))
            return true;
    return false;
}

/* ---- Covers ---- */

static bool resource_covers(const struct rbac_strlist *owner, const char *res)
{
    if (has(owner, "*") || has(owner, res))
        return true;
    const char *slash = strchr(res, '/');
    if (!slash)
        return false;
    /* "pods/log" is also covered by "*\/log" */
    for (size_t i = 0; i < owner->n; i++) {
        const char *o = owner->v[i];
        if (o[0] == '*' && o[1] == '/' && strcmp(o + 2, slash + 1) == 0)
            return true;
    }
    return false;
}

static bool url_covers(const struct rbac_strlist *owner, const char *url)
{
    for (size_t i = 0; i < owner->n; i++) {
        const char *o = owner->v[i];
        if (strcmp(o, url) == 0)
            return true;
        size_t len = strlen(o);
        if (len > 0 && o[len - 1] == '*') {
            while (len > 0 && o[len - 1] == '*')
                len--;
            if (strncmp(url, o, len) == 0)
                return true;
        }
    }
    return false;
}

/* ruleCovers for one atom. An atom's empty fields are trivially covered (hasAll of nothing),
 * except resourceNames: an atom without a name needs an owner without names. */
static bool rule_covers(const struct rbac_rule *owner, const struct rbac_subrule *sub)
{
    if (!has_or_all(&owner->verbs, sub->verb))
        return false;
    if (sub->api_group && !has_or_all(&owner->api_groups, sub->api_group))
        return false;
    if (sub->resource && !resource_covers(&owner->resources, sub->resource))
        return false;
    if (sub->url && !url_covers(&owner->urls, sub->url))
        return false;
    if (!sub->resource_name)
        return owner->resource_names.n == 0;
    return owner->resource_names.n == 0 || has(&owner->resource_names, sub->resource_name);
}

static int subrules_push(struct rbac_subrules *s, struct rbac_subrule sub)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof(*s->v))
            return -ENOMEM;
        struct rbac_subrule *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = sub;
    return 0;
}

static int check_atom(const struct rbac_rule *const *owner, size_t nowner, struct rbac_subrule sub,
                      struct rbac_subrules *missing)
{
    for (size_t i = 0; i < nowner; i++)
        if (rule_covers(owner[i], &sub))
            return 0;
    return subrules_push(missing, sub);
}

/* BreakdownRule order: group, resource, verb, name; then URL, verb. */
static int breakdown_check(const struct rbac_rule *const *owner, size_t nowner,
                           const struct rbac_rule *s, struct rbac_subrules *missing)
{
    int r = 0;
    for (size_t g = 0; r == 0 && g < s->api_groups.n; g++)
        for (size_t res = 0; r == 0 && res < s->resources.n; res++)
            for (size_t v = 0; r == 0 && v < s->verbs.n; v++) {
                struct rbac_subrule sub = {.api_group = s->api_groups.v[g],
                                           .resource = s->resources.v[res],
                                           .verb = s->verbs.v[v]};
                if (s->resource_names.n == 0) {
                    r = check_atom(owner, nowner, sub, missing);
                    continue;
                }
                for (size_t n = 0; r == 0 && n < s->resource_names.n; n++) {
                    sub.resource_name = s->resource_names.v[n];
                    r = check_atom(owner, nowner, sub, missing);
                }
            }
    for (size_t u = 0; r == 0 && u < s->urls.n; u++)
        for (size_t v = 0; r == 0 && v < s->verbs.n; v++)
            r = check_atom(owner, nowner,
                           (struct rbac_subrule){.url = s->urls.v[u], .verb = s->verbs.v[v]},
                           missing);
    return r;
}

int rbac_covers(const struct rbac_rule *const *owner, size_t nowner,
                const struct rbac_rules *servant, struct rbac_subrules *missing)
{
    for (size_t i = 0; i < servant->n; i++) {
        int r = breakdown_check(owner, nowner, servant->v[i], missing);
        if (r < 0)
            return r;
    }
    return 0;
}

void rbac_subrules_free(struct rbac_subrules *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ---- aggregated errors ---- */

int rbac_errlist_add(struct rbac_errlist *l, const char *msg)
{
    if (l->n >= 1024) /* enough to explain; a client must not make us hoard texts */
        return 0;
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    l->v = v;
    if (!(l->v[l->n] = strdup(msg)))
        return -ENOMEM;
    l->n++;
    return 0;
}

int rbac_errlist_format(const struct rbac_errlist *l, struct kos_buf *b)
{
    if (l->n == 1)
        return kos_buf_append_str(b, l->v[0]);
    size_t uniq = 0;
    struct kos_buf inner;
    kos_buf_init(&inner, AUTHZ_MESSAGE_MAX);
    int r = 0;
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(l->v[i], l->v[j]) == 0;
        if (seen)
            continue;
        if (uniq++ > 0)
            r = kos_buf_append_str(&inner, ", ");
        if (r == 0)
            r = kos_buf_append_str(&inner, l->v[i]);
    }
    if (r == 0 && uniq > 1)
        r = kos_buf_printf(b, "[%s]", inner.data);
    else if (r == 0 && uniq == 1)
        r = kos_buf_append_str(b, inner.data);
    kos_buf_free(&inner);
    return r;
}

void rbac_errlist_free(struct rbac_errlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

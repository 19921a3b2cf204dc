/* ClusterRole aggregation (pkg/controller/clusterroleaggregation): an aggregated role's rules
 * are the union of the rules of the ClusterRoles its selectors match. */
#include "apiserver/authz/rbac_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* A small set of rules keyed by their hash, for kube's ruleExists without quadratic cost. */
struct rule_set {
    const struct rbac_rule **slots;
    size_t cap;
    size_t n;
};

static int rule_set_grow(struct rule_set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    const struct rbac_rule **slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i])
            continue;
        size_t j = s->slots[i]->hash & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

/* Returns 1 when inserted, 0 when an equal rule is present, or -ENOMEM. */
static int rule_set_add(struct rule_set *s, const struct rbac_rule *rule)
{
    if ((s->n + 1) * 2 > s->cap && rule_set_grow(s) < 0)
        return -ENOMEM;
    size_t j = rule->hash & (s->cap - 1);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (rbac_rule_equal(s->slots[j], rule))
            return 0;
    s->slots[j] = rule;
    s->n++;
    return 1;
}

static int cmp_role_name(const void *a, const void *b)
{
    return strcmp((*(struct rbac_role *const *)a)->name, (*(struct rbac_role *const *)b)->name);
}

/* syncClusterRole for one role: the union of the rules of every other ClusterRole its selectors
 * match, selector by selector, roles by name, without duplicates. */
static int aggregate_one(struct rbac_role *role, struct rbac_role **sorted, size_t n,
                         struct rbac_rules *out)
{
    struct rule_set seen = {0};
    struct rbac_rules rules = {0};
    int r = 0;
    for (size_t s = 0; r == 0 && s < role->nselectors; s++) {
        for (size_t i = 0; r == 0 && i < n; i++) {
            if (sorted[i] == role || !label_selector_matches(role->selectors[s], sorted[i]->labels))
                continue;
            const struct rbac_rules *src = rbac_role_rules(sorted[i]);
            for (size_t j = 0; r == 0 && j < src->n; j++) {
                r = rule_set_add(&seen, src->v[j]);
                if (r == 1)
                    r = rbac_rules_append_ref(&rules, src->v[j]);
            }
        }
    }
    free(seen.slots);
    if (r < 0) {
        rbac_rules_free(&rules);
        return r;
    }
    *out = rules;
    return 0;
}

/* Recomputes every aggregated ClusterRole to the least fixpoint, so chains (admin <- edit <-
 * view) resolve in one call and cycles cannot keep revoked rules alive. */
int rbac_aggregate_all(struct rbac_authorizer *r)
{
    size_t n = r->cluster_roles.size, nagg = 0;
    if (n == 0)
        return 0;
    _cleanup_free_ struct rbac_role **sorted = calloc(n, sizeof(*sorted));
    if (!sorted)
        return -ENOMEM;
    struct authz_map_iter it;
    void *v;
    size_t k = 0;
    authz_map_iter_init(&r->cluster_roles, &it);
    while (authz_map_iter_next(&r->cluster_roles, &it, NULL, &v)) {
        sorted[k] = v;
        if (sorted[k]->aggregated) {
            rbac_rules_free(&sorted[k]->agg);
            nagg++;
        }
        k++;
    }
    qsort(sorted, n, sizeof(*sorted), cmp_role_name);

    int ret = 0;
    for (size_t round = 0; ret == 0 && round <= nagg + 1; round++) {
        bool changed = false;
        for (size_t i = 0; ret == 0 && i < n; i++) {
            if (!sorted[i]->aggregated)
                continue;
            struct rbac_rules next;
            ret = aggregate_one(sorted[i], sorted, n, &next);
            if (ret < 0)
                break;
            if (rbac_rules_equal(&next, &sorted[i]->agg)) {
                rbac_rules_free(&next);
                continue;
            }
            rbac_rules_free(&sorted[i]->agg);
            sorted[i]->agg = next;
            changed = true;
        }
        if (!changed)
            break;
    }
    if (ret < 0) /* fail closed: no aggregated role keeps rules we could not recompute */
        for (size_t i = 0; i < n; i++)
            rbac_rules_free(&sorted[i]->agg);
    return ret;
}

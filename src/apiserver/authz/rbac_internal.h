/* RBAC internals shared by rbac.c (state, authorize), rbac_rules.c (PolicyRule evaluation and
 * coverage) and rbac_escalation.c. Not for use outside src/apiserver/authz/. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/selector.h"
#include "apiserver/authz/authz.h"
#include "apiserver/authz/map.h"
#include "apiserver/authz/rbac.h"

/* A string slice pointing into the rule's own JSON (which never changes once parsed). */
struct rbac_strlist {
    const char **v;
    size_t n;
};

/* One PolicyRule. Immutable and reference-counted so that aggregated ClusterRoles share the
 * rules of the roles they aggregate; counts change only under the write lock. */
struct rbac_rule {
    unsigned refs;
    uint64_t hash; /* of the five lists, for the aggregation's duplicate check */
    json_t *json;  /* our private copy of the rule object (or JSON null) */
    struct rbac_strlist verbs;
    struct rbac_strlist api_groups;
    struct rbac_strlist resources;
    struct rbac_strlist resource_names;
    struct rbac_strlist urls;
};

struct rbac_rules {
    struct rbac_rule **v;
    size_t n;
};

/* Parses a "rules" value (array, null or NULL) into rules; -EINVAL on a wrong type. */
int rbac_rules_parse(const json_t *rules, struct rbac_rules *out);
void rbac_rules_free(struct rbac_rules *rs);
int rbac_rules_append_ref(struct rbac_rules *rs, struct rbac_rule *rule);
bool rbac_rule_equal(const struct rbac_rule *a, const struct rbac_rule *b);
bool rbac_rules_equal(const struct rbac_rules *a, const struct rbac_rules *b);

/* RuleAllows (plugin/pkg/auth/authorizer/rbac/rbac.go). */
bool rbac_rule_allows(const struct rbac_rule *rule, const struct authz_attributes *a);
bool rbac_rules_allow(const struct rbac_rules *rs, const struct authz_attributes *a);

/* One atom of BreakdownRule: at most one of each field, pointing into the servant rule. */
struct rbac_subrule {
    const char *api_group; /* NULL for a non-resource subrule */
    const char *resource;
    const char *verb;
    const char *resource_name; /* NULL when the rule names none */
    const char *url;           /* set for a non-resource subrule only */
};

struct rbac_subrules {
    struct rbac_subrule *v;
    size_t n;
    size_t cap;
};

/* validation.Covers: appends to *missing every atom of the servant rules that no owner rule
 * covers. The owner rules are borrowed pointers. Returns 0 or -ENOMEM. */
int rbac_covers(const struct rbac_rule *const *owner, size_t nowner,
                const struct rbac_rules *servant, struct rbac_subrules *missing);
void rbac_subrules_free(struct rbac_subrules *s);

struct rbac_role {
    char *namespace_; /* NULL for a ClusterRole */
    char *name;
    json_t *labels; /* private copy of metadata.labels, or NULL */
    struct rbac_rules own;
    /* aggregationRule: the effective rules are computed from the matching ClusterRoles. */
    bool aggregated;
    struct label_selector **selectors;
    size_t nselectors;
    struct rbac_rules agg;
};

static inline const struct rbac_rules *rbac_role_rules(const struct rbac_role *role)
{
    return role->aggregated ? &role->agg : &role->own;
}

enum rbac_subject_kind {
    RBAC_SUBJECT_OTHER,
    RBAC_SUBJECT_USER,
    RBAC_SUBJECT_GROUP,
    RBAC_SUBJECT_SERVICE_ACCOUNT,
};

struct rbac_subject {
    enum rbac_subject_kind kind;
    char *kind_str;
    char *name;
    char *namespace_; /* "" when unset */
};

struct rbac_binding {
    char *namespace_; /* NULL for a ClusterRoleBinding */
    char *name;
    char *ref_api_group;
    char *ref_kind;
    char *ref_name;
    struct rbac_subject *subjects;
    size_t nsubjects;
    /* The subject-index keys this binding is filed under (duplicates allowed). */
    char **keys;
    size_t nkeys;
};

struct rbac_authorizer {
    pthread_rwlock_t lock;
    struct authz_map roles;            /* index key of (namespace, name) -> rbac_role */
    struct authz_map cluster_roles;    /* name -> rbac_role */
    struct authz_map bindings;         /* index key of (namespace, name) -> rbac_binding */
    struct authz_map cluster_bindings; /* name -> rbac_binding */
    struct authz_map subjects;         /* subject key -> authz_ptrvec of rbac_binding */
};

/* VisitRulesFor's visitor: rule is NULL when err (the resolution error text) is set. Return
 * false to stop. */
typedef bool (*rbac_visitor)(void *ctx, const struct rbac_binding *binding,
                             const struct rbac_subject *subject, const struct rbac_rule *rule,
                             const char *err);

/* DefaultRuleResolver.VisitRulesFor under a read lock the caller holds, except that a role's
 * rules are visited once however many bindings grant them (the first binding by name reports).
 * registry_errors picks the texts of the registry-backed resolver ("roles.rbac..." ) over the
 * listers' ("role.rbac..."). Returns 0, or -ENOMEM when a resolution error text could not be built.
 */
int rbac_visit_rules_locked(struct rbac_authorizer *r, const struct kos_user *user, const char *ns,
                            bool registry_errors, rbac_visitor visit, void *ctx);

/* GetRoleReferenceRules under the read lock: *ret borrows the role's rules. On failure returns
 * -ENOENT (missing role) or -EINVAL (unsupported kind) and fills err with kube's text. */
int rbac_role_ref_rules_locked(struct rbac_authorizer *r, const char *kind, const char *name,
                               const char *ns, bool registry_errors, const struct rbac_rules **ret,
                               struct kos_buf *err);

/* Go's utilerrors.NewAggregate(errs).Error(): one text as is, several deduplicated in [a, b]. */
struct rbac_errlist {
    char **v;
    size_t n;
};
int rbac_errlist_add(struct rbac_errlist *l, const char *msg);
int rbac_errlist_format(const struct rbac_errlist *l, struct kos_buf *b);
void rbac_errlist_free(struct rbac_errlist *l);

/* ---- rbac_objects.c ---- */

/* Map keys are built into a stack buffer when they fit; rbac_key_free() releases a heap one. */
struct rbac_key {
    char stack[192];
    char *s;
};

const char *rbac_key_fmt(struct rbac_key *k, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rbac_key_free(struct rbac_key *k);
/* (namespace, name) with a length prefix, so no name can forge another's key. */
const char *rbac_ns_key(struct rbac_key *k, const char *ns, const char *name);
/* The subject index key: ns NULL for ClusterRoleBindings; kind 'u' (user) or 'g' (group). */
const char *rbac_subject_key(struct rbac_key *k, const char *ns, char kind, const char *name);

/* metadata.name (and .namespace when namespaced), both required non-empty; -EINVAL. */
int rbac_get_meta(const json_t *obj, bool namespaced, const char **ns, const char **name);
/* Parse an object of the kind into a new structure: -EINVAL when malformed, or -ENOMEM. */
int rbac_role_parse(enum rbac_kind kind, const json_t *obj, struct rbac_role **ret);
int rbac_binding_parse(enum rbac_kind kind, const json_t *obj, struct rbac_binding **ret);
void rbac_role_free(struct rbac_role *role);
void rbac_binding_free(struct rbac_binding *b);
/* appliesToUser (rule.go) for one subject of the binding. */
bool rbac_subject_applies(const struct rbac_binding *b, const struct rbac_subject *s,
                          const struct kos_user *u);

/* ---- rbac_aggregate.c ---- */

/* Recomputes every aggregated ClusterRole (under the write lock); on failure all aggregated
 * roles are left empty (fail closed) and -ENOMEM is returned. */
int rbac_aggregate_all(struct rbac_authorizer *r);

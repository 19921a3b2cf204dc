/* spec.nodeSelector and spec.affinity.nodeAffinity, parsed once per pod and matched against
 * node labels as component-helpers/scheduling/corev1/nodeaffinity does:
 * - required terms are ORed, the requirements inside one term ANDed;
 * - a term with neither matchExpressions nor matchFields, or with an invalid requirement
 *   (In/NotIn without values, Exists/DoesNotExist with values, Gt/Lt without exactly one
 *   integer, an unknown operator, matchFields other than metadata.name In/NotIn with one
 *   value) matches nothing;
 * - preferred terms with weight 0 or an empty/invalid preference are dropped. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_TERMS  128
#define SCHED_MAX_REQS   128
#define SCHED_MAX_VALUES 1024

enum sched_ns_op {
    SCHED_NS_IN,
    SCHED_NS_NOT_IN,
    SCHED_NS_EXISTS,
    SCHED_NS_DOES_NOT_EXIST,
    SCHED_NS_GT,
    SCHED_NS_LT,
};

struct sched_ns_req {
    char *key;
    enum sched_ns_op op;
    char **values;
    size_t n_values;
    int64_t num; /* Gt / Lt operand */
};

struct sched_ns_term {
    struct sched_ns_req *exprs; /* matchExpressions, on labels */
    size_t n_exprs;
    struct sched_ns_req *fields; /* matchFields, on metadata.name */
    size_t n_fields;
};

struct sched_pref_term {
    int64_t weight;
    struct sched_ns_term term;
};

struct sched_node_affinity {
    json_t *node_selector;          /* shared (intern.h) spec.nodeSelector, NULL when empty */
    bool has_required;              /* requiredDuringSchedulingIgnoredDuringExecution is set */
    struct sched_ns_term *required; /* the valid, non-empty terms */
    size_t n_required;
    struct sched_pref_term *preferred;
    size_t n_preferred;
    /* NodeAffinity PreFilter: when every required term pins metadata.name with In, only
     * the union of those names can fit (DaemonSet pods); names_conflict = the union is
     * empty. */
    bool restricts_names;
    bool names_conflict;
    char **names;
    size_t n_names;
};

/* From a PodSpec. -EINVAL on malformed structure (not on invalid requirements, which only
 * make their term match nothing), -E2BIG past the bounds. */
int sched_node_affinity_from_spec(const json_t *spec, struct sched_node_affinity *ret);
void sched_node_affinity_clear(struct sched_node_affinity *a);

bool sched_ns_term_match(const struct sched_ns_term *t, const char *node_name,
                         const json_t *labels);
/* nodeSelector and required affinity (the NodeAffinity Filter). */
bool sched_node_affinity_match(const struct sched_node_affinity *a, const char *node_name,
                               const json_t *labels);
/* Σ weights of the matching preferred terms (the NodeAffinity Score, before normalizing). */
int64_t sched_node_affinity_score(const struct sched_node_affinity *a, const char *node_name,
                                  const json_t *labels);
/* Whether name is in the PreFilter set (always true when the pod does not restrict). */
bool sched_node_affinity_allows_name(const struct sched_node_affinity *a, const char *name);

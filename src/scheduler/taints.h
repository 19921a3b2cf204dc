/* Node taints and pod tolerations, matched as k8s.io/api core/v1 Toleration.ToleratesTaint
 * does: an effect and a key on the toleration must equal the taint's when set (empty key
 * with Exists tolerates every taint), operator "" / Equal compares values, Exists does
 * not, any other operator tolerates nothing. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SCHED_MAX_TAINTS      256
#define SCHED_MAX_TOLERATIONS 256

#define SCHED_TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

enum sched_effect {
    SCHED_EFFECT_ANY = 0, /* toleration without an effect */
    SCHED_EFFECT_NO_SCHEDULE,
    SCHED_EFFECT_PREFER_NO_SCHEDULE,
    SCHED_EFFECT_NO_EXECUTE,
    SCHED_EFFECT_UNKNOWN,
};

enum sched_toleration_op {
    SCHED_TOL_EQUAL,
    SCHED_TOL_EXISTS,
    SCHED_TOL_INVALID,
};

struct sched_taint {
    char *key;
    char *value; /* "" when absent */
    enum sched_effect effect;
};

struct sched_toleration {
    char *key;   /* "" when absent */
    char *value; /* "" when absent */
    enum sched_toleration_op op;
    enum sched_effect effect;
};

/* node.spec.taints / pod.spec.tolerations arrays (NULL = none). -EINVAL on a malformed
 * entry, -E2BIG past the bounds. */
int sched_taints_from_json(const json_t *arr, struct sched_taint **ret, size_t *ret_n);
int sched_tolerations_from_json(const json_t *arr, struct sched_toleration **ret, size_t *ret_n);
void sched_taints_free(struct sched_taint *t, size_t n);
void sched_tolerations_free(struct sched_toleration *t, size_t n);

bool sched_toleration_tolerates(const struct sched_toleration *tol,
                                const struct sched_taint *taint);
bool sched_tolerations_tolerate(const struct sched_toleration *tols, size_t n,
                                const struct sched_taint *taint);

#include "scheduler/taints.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static enum sched_effect parse_effect(const json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s)
        return SCHED_EFFECT_ANY;
    if (strcmp(s, "NoSchedule") == 0)
        return SCHED_EFFECT_NO_SCHEDULE;
    if (strcmp(s, "PreferNoSchedule") == 0)
        return SCHED_EFFECT_PREFER_NO_SCHEDULE;
    if (strcmp(s, "NoExecute") == 0)
        return SCHED_EFFECT_NO_EXECUTE;
    return SCHED_EFFECT_UNKNOWN;
}

static char *dup_field(const json_t *obj, const char *name, int *err)
{
    const json_t *v = json_object_get(obj, name);
    if (v && !json_is_null(v) && !json_is_string(v)) {
        *err = -EINVAL;
        return NULL;
    }
    char *s = strdup(json_is_string(v) ? json_string_value(v) : "");
    if (!s)
        *err = -ENOMEM;
    return s;
}

void sched_taints_free(struct sched_taint *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].key);
        free(t[i].value);
    }
    free(t);
}

void sched_tolerations_free(struct sched_toleration *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].key);
        free(t[i].value);
    }
    free(t);
}

/* The length of a taints or tolerations array: 0 for null, absent or empty, -EINVAL for
 * anything but an array, -E2BIG past max. */
static int object_array_size(const json_t *arr, size_t max, size_t *ret)
{
    if (!arr || json_is_null(arr)) {
        *ret = 0;
        return 0;
    }
    if (!json_is_array(arr))
        return -EINVAL;
    size_t n = json_array_size(arr);
    if (n > max)
        return -E2BIG;
    *ret = n;
    return 0;
}

/* The key and value of one taint or toleration (an object); -EINVAL for anything else. */
static int key_and_value(const json_t *e, char **key, char **value)
{
    if (!json_is_object(e))
        return -EINVAL;
    int err = 0;
    *key = dup_field(e, "key", &err);
    if (!err)
        *value = dup_field(e, "value", &err);
    return err;
}

int sched_taints_from_json(const json_t *arr, struct sched_taint **ret, size_t *ret_n)
{
    size_t n;
    int r = object_array_size(arr, SCHED_MAX_TAINTS, &n);
    if (r < 0)
        return r;
    if (n == 0) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    struct sched_taint *t = calloc(n, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int err = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const json_t *e = json_array_get(arr, i);
        err = key_and_value(e, &t[i].key, &t[i].value);
        t[i].effect = parse_effect(json_object_get(e, "effect"));
    }
    if (err) {
        sched_taints_free(t, n);
        return err;
    }
    *ret = t;
    *ret_n = n;
    return 0;
}

int sched_tolerations_from_json(const json_t *arr, struct sched_toleration **ret, size_t *ret_n)
{
    size_t n;
    int r = object_array_size(arr, SCHED_MAX_TOLERATIONS, &n);
    if (r < 0)
        return r;
    if (n == 0) {
        *ret = NULL;
        *ret_n = 0;
        return 0;
    }
    struct sched_toleration *t = calloc(n, sizeof(*t));
    if (!t)
        return -ENOMEM;
    int err = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const json_t *e = json_array_get(arr, i);
        err = key_and_value(e, &t[i].key, &t[i].value);
        const char *op = json_string_value(json_object_get(e, "operator"));
        if (!op || !*op || strcmp(op, "Equal") == 0)
            t[i].op = SCHED_TOL_EQUAL;
        else if (strcmp(op, "Exists") == 0)
            t[i].op = SCHED_TOL_EXISTS;
        else
            t[i].op = SCHED_TOL_INVALID;
        t[i].effect = parse_effect(json_object_get(e, "effect"));
    }
    if (err) {
        sched_tolerations_free(t, n);
        return err;
    }
    *ret = t;
    *ret_n = n;
    return 0;
}

bool sched_toleration_tolerates(const struct sched_toleration *tol, const struct sched_taint *taint)
{
    if (tol->effect != SCHED_EFFECT_ANY && tol->effect != taint->effect)
        return false;
    if (tol->key[0] && strcmp(tol->key, taint->key) != 0)
        return false;
    switch (tol->op) {
    case SCHED_TOL_EQUAL:
        return strcmp(tol->value, taint->value) == 0;
    case SCHED_TOL_EXISTS:
        return true;
    default:
        return false;
    }
}

bool sched_tolerations_tolerate(const struct sched_toleration *tols, size_t n,
                                const struct sched_taint *taint)
{
    for (size_t i = 0; i < n; i++)
        if (sched_toleration_tolerates(&tols[i], taint))
            return true;
    return false;
}

#include "scheduler/affinity.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/intern.h"
#include "util/strutil.h"

static void req_clear(struct sched_ns_req *r)
{
    free(r->key);
    for (size_t i = 0; i < r->n_values; i++)
        free(r->values[i]);
    free(r->values);
    memset(r, 0, sizeof(*r));
}

static void term_clear(struct sched_ns_term *t)
{
    for (size_t i = 0; i < t->n_exprs; i++)
        req_clear(&t->exprs[i]);
    for (size_t i = 0; i < t->n_fields; i++)
        req_clear(&t->fields[i]);
    free(t->exprs);
    free(t->fields);
    memset(t, 0, sizeof(*t));
}

void sched_node_affinity_clear(struct sched_node_affinity *a)
{
    if (!a)
        return;
    sched_intern_release(a->node_selector);
    for (size_t i = 0; i < a->n_required; i++)
        term_clear(&a->required[i]);
    free(a->required);
    for (size_t i = 0; i < a->n_preferred; i++)
        term_clear(&a->preferred[i].term);
    free(a->preferred);
    for (size_t i = 0; i < a->n_names; i++)
        free(a->names[i]);
    free(a->names);
    memset(a, 0, sizeof(*a));
}

/* Returns 0 (valid), 1 (invalid requirement: the term matches nothing), or -errno. */
static int parse_req(const json_t *e, bool field, struct sched_ns_req *r)
{
    memset(r, 0, sizeof(*r));
    if (!json_is_object(e))
        return -EINVAL;
    const char *key = json_string_value(json_object_get(e, "key"));
    const char *op = json_string_value(json_object_get(e, "operator"));
    const json_t *vals = json_object_get(e, "values");
    if (vals && !json_is_null(vals) && !json_is_array(vals))
        return -EINVAL;
    size_t nv = json_array_size(vals);
    if (nv > SCHED_MAX_VALUES)
        return -E2BIG;
    if (!key || !op)
        return 1;
    if (strcmp(op, "In") == 0)
        r->op = SCHED_NS_IN;
    else if (strcmp(op, "NotIn") == 0)
        r->op = SCHED_NS_NOT_IN;
    else if (!field && strcmp(op, "Exists") == 0)
        r->op = SCHED_NS_EXISTS;
    else if (!field && strcmp(op, "DoesNotExist") == 0)
        r->op = SCHED_NS_DOES_NOT_EXIST;
    else if (!field && strcmp(op, "Gt") == 0)
        r->op = SCHED_NS_GT;
    else if (!field && strcmp(op, "Lt") == 0)
        r->op = SCHED_NS_LT;
    else
        return 1;
    if (field && (strcmp(key, "metadata.name") != 0 || nv != 1))
        return 1;
    switch (r->op) {
    case SCHED_NS_IN:
    case SCHED_NS_NOT_IN:
        if (nv == 0)
            return 1;
        break;
    case SCHED_NS_EXISTS:
    case SCHED_NS_DOES_NOT_EXIST:
        if (nv != 0)
            return 1;
        break;
    case SCHED_NS_GT:
    case SCHED_NS_LT:
        if (nv != 1 || !json_is_string(json_array_get(vals, 0)) ||
            kos_parse_int64(json_string_value(json_array_get(vals, 0)), &r->num) < 0)
            return 1;
        break;
    }
    for (size_t i = 0; i < nv; i++)
        if (!json_is_string(json_array_get(vals, i)))
            return 1;
    r->key = strdup(key);
    if (!r->key)
        return -ENOMEM;
    if (nv) {
        r->values = calloc(nv, sizeof(char *));
        if (!r->values) {
            req_clear(r);
            return -ENOMEM;
        }
        for (size_t i = 0; i < nv; i++) {
            r->values[i] = strdup(json_string_value(json_array_get(vals, i)));
            r->n_values = i + 1;
            if (!r->values[i]) {
                req_clear(r);
                return -ENOMEM;
            }
        }
    }
    return 0;
}

static int parse_reqs(const json_t *arr, bool field, struct sched_ns_req **ret, size_t *ret_n)
{
    *ret = NULL;
    *ret_n = 0;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return -EINVAL;
    size_t n = json_array_size(arr);
    if (n > SCHED_MAX_REQS)
        return -E2BIG;
    if (n == 0)
        return 0;
    struct sched_ns_req *reqs = calloc(n, sizeof(*reqs));
    if (!reqs)
        return -ENOMEM;
    int r = 0;
    size_t done = 0;
    for (; done < n; done++) {
        r = parse_req(json_array_get(arr, done), field, &reqs[done]);
        if (r != 0)
            break;
    }
    if (r != 0) {
        for (size_t i = 0; i < done; i++)
            req_clear(&reqs[i]);
        free(reqs);
        return r;
    }
    *ret = reqs;
    *ret_n = n;
    return 0;
}

/* 0: parsed, 1: empty or invalid (matches nothing), <0: error. */
static int parse_term(const json_t *t, struct sched_ns_term *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!json_is_object(t))
        return -EINVAL;
    struct sched_ns_term term = {0};
    int r = parse_reqs(json_object_get(t, "matchExpressions"), false, &term.exprs, &term.n_exprs);
    if (r == 0)
        r = parse_reqs(json_object_get(t, "matchFields"), true, &term.fields, &term.n_fields);
    if (r != 0) {
        term_clear(&term);
        return r;
    }
    if (term.n_exprs == 0 && term.n_fields == 0)
        return 1;
    *ret = term;
    return 0;
}

static int add_name(struct sched_node_affinity *a, const char *name)
{
    for (size_t i = 0; i < a->n_names; i++)
        if (strcmp(a->names[i], name) == 0)
            return 0;
    char **nn = realloc(a->names, (a->n_names + 1) * sizeof(char *));
    if (!nn)
        return -ENOMEM;
    a->names = nn;
    if (!(nn[a->n_names] = strdup(name)))
        return -ENOMEM;
    a->n_names++;
    return 0;
}

static bool is_name_in(const json_t *f)
{
    const char *k = json_string_value(json_object_get(f, "key"));
    const char *op = json_string_value(json_object_get(f, "operator"));
    return k && op && strcmp(k, "metadata.name") == 0 && strcmp(op, "In") == 0;
}

static bool values_contain(const json_t *f, const char *name)
{
    const json_t *vals = json_object_get(f, "values");
    for (size_t i = 0; i < json_array_size(vals); i++) {
        const char *s = json_string_value(json_array_get(vals, i));
        if (s && strcmp(s, name) == 0)
            return true;
    }
    return false;
}

/* kube's NodeAffinity PreFilter: a term without a metadata.name In requirement lets every
 * node through; otherwise the term's names are the intersection of its In values, and the
 * pod's set is the union over terms. */
static int compute_names(const json_t *terms, struct sched_node_affinity *a)
{
    size_t n = json_array_size(terms);
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *fields = json_object_get(json_array_get(terms, i), "matchFields");
        bool pins = false;
        for (size_t j = 0; j < json_array_size(fields); j++)
            pins |= is_name_in(json_array_get(fields, j));
        if (!pins)
            return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *fields = json_object_get(json_array_get(terms, i), "matchFields");
        const json_t *first = NULL;
        for (size_t j = 0; j < json_array_size(fields) && !first; j++)
            if (is_name_in(json_array_get(fields, j)))
                first = json_array_get(fields, j);
        const json_t *vals = json_object_get(first, "values");
        for (size_t v = 0; v < json_array_size(vals); v++) {
            const char *name = json_string_value(json_array_get(vals, v));
            bool all = name != NULL;
            for (size_t q = 0; q < json_array_size(fields) && all; q++) {
                const json_t *g = json_array_get(fields, q);
                if (is_name_in(g))
                    all = values_contain(g, name);
            }
            if (all) {
                int r = add_name(a, name);
                if (r < 0)
                    return r;
            }
        }
    }
    a->restricts_names = true;
    a->names_conflict = a->n_names == 0;
    return 0;
}

int sched_node_affinity_from_spec(const json_t *spec, struct sched_node_affinity *ret)
{
    struct sched_node_affinity a = {0};
    int r = 0;

    const json_t *ns = json_object_get(spec, "nodeSelector");
    if (ns && !json_is_null(ns)) {
        if (!json_is_object(ns))
            return -EINVAL;
        if (json_object_size(ns) > SCHED_MAX_REQS)
            return -E2BIG;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)ns, k, v)
        {
            if (!json_is_string(v))
                return -EINVAL;
        }
        if (json_object_size(ns) > 0 && !(a.node_selector = sched_intern_object(ns)))
            return -ENOMEM;
    }

    const json_t *na = json_object_get(json_object_get(spec, "affinity"), "nodeAffinity");
    const json_t *req = json_object_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
    if (req && !json_is_null(req)) {
        const json_t *terms = json_object_get(req, "nodeSelectorTerms");
        if (terms && !json_is_null(terms) && !json_is_array(terms)) {
            r = -EINVAL;
            goto fail;
        }
        size_t n = json_array_size(terms);
        if (n > SCHED_MAX_TERMS) {
            r = -E2BIG;
            goto fail;
        }
        a.has_required = true;
        if (n && !(a.required = calloc(n, sizeof(*a.required)))) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            r = parse_term(json_array_get(terms, i), &a.required[a.n_required]);
            if (r < 0)
                goto fail;
            if (r == 0)
                a.n_required++;
        }
        if ((r = compute_names(terms, &a)) < 0)
            goto fail;
    }

    const json_t *pref = json_object_get(na, "preferredDuringSchedulingIgnoredDuringExecution");
    if (pref && !json_is_null(pref)) {
        if (!json_is_array(pref)) {
            r = -EINVAL;
            goto fail;
        }
        size_t n = json_array_size(pref);
        if (n > SCHED_MAX_TERMS) {
            r = -E2BIG;
            goto fail;
        }
        if (n && !(a.preferred = calloc(n, sizeof(*a.preferred)))) {
            r = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < n; i++) {
            const json_t *p = json_array_get(pref, i);
            json_int_t w = json_integer_value(json_object_get(p, "weight"));
            if (w == 0)
                continue;
            struct sched_pref_term *pt = &a.preferred[a.n_preferred];
            r = parse_term(json_object_get(p, "preference"), &pt->term);
            if (r < 0)
                goto fail;
            if (r == 0) {
                pt->weight = w;
                a.n_preferred++;
            }
        }
    }
    *ret = a;
    return 0;
fail:
    sched_node_affinity_clear(&a);
    return r;
}

static bool has_value(const struct sched_ns_req *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i], v) == 0)
            return true;
    return false;
}

static bool req_match(const struct sched_ns_req *r, const json_t *labels)
{
    const char *v = json_string_value(json_object_get(labels, r->key));
    int64_t n;
    switch (r->op) {
    case SCHED_NS_IN:
        return v && has_value(r, v);
    case SCHED_NS_NOT_IN:
        return !v || !has_value(r, v);
    case SCHED_NS_EXISTS:
        return v != NULL;
    case SCHED_NS_DOES_NOT_EXIST:
        return v == NULL;
    case SCHED_NS_GT:
        return v && kos_parse_int64(v, &n) == 0 && n > r->num;
    case SCHED_NS_LT:
        return v && kos_parse_int64(v, &n) == 0 && n < r->num;
    }
    return false;
}

bool sched_ns_term_match(const struct sched_ns_term *t, const char *node_name, const json_t *labels)
{
    for (size_t i = 0; i < t->n_exprs; i++)
        if (!req_match(&t->exprs[i], labels))
            return false;
    for (size_t i = 0; i < t->n_fields; i++) {
        bool eq = strcmp(t->fields[i].values[0], node_name) == 0;
        if (eq != (t->fields[i].op == SCHED_NS_IN))
            return false;
    }
    return true;
}

bool sched_node_affinity_match(const struct sched_node_affinity *a, const char *node_name,
                               const json_t *labels)
{
    if (a->node_selector) {
        const char *k;
        json_t *v;
        json_object_foreach(a->node_selector, k, v)
        {
            const char *have = json_string_value(json_object_get(labels, k));
            if (!have || strcmp(have, json_string_value(v)) != 0)
                return false;
        }
    }
    if (!a->has_required)
        return true;
    for (size_t i = 0; i < a->n_required; i++)
        if (sched_ns_term_match(&a->required[i], node_name, labels))
            return true;
    return false;
}

int64_t sched_node_affinity_score(const struct sched_node_affinity *a, const char *node_name,
                                  const json_t *labels)
{
    int64_t s = 0;
    for (size_t i = 0; i < a->n_preferred; i++)
        if (sched_ns_term_match(&a->preferred[i].term, node_name, labels))
            s += a->preferred[i].weight;
    return s;
}

bool sched_node_affinity_allows_name(const struct sched_node_affinity *a, const char *name)
{
    if (!a->restricts_names)
        return true;
    for (size_t i = 0; i < a->n_names; i++)
        if (strcmp(a->names[i], name) == 0)
            return true;
    return false;
}

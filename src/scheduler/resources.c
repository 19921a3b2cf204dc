#include "scheduler/resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"
#include "util/cleanup.h"
#include "util/strutil.h"

bool sched_resource_is_scalar(const char *name)
{
    if (kos_str_has_prefix(name, "hugepages-") || kos_str_has_prefix(name, "attachable-volumes-"))
        return true;
    /* Extended names are prefix/name; "requests.*" is a quota key, never a resource. */
    return strchr(name, '/') && !kos_str_has_prefix(name, "requests.");
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* Quantity.Value() from milli-units: rounded up, like kube rounds the exact sum. */
static int64_t milli_to_units(int64_t m)
{
    if (m > 0)
        return m / 1000 + (m % 1000 != 0);
    return m / 1000;
}

void sched_resources_clear(struct sched_resources *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_scalar; i++)
        free(r->scalar[i].name);
    free(r->scalar);
    memset(r, 0, sizeof(*r));
}

int sched_resources_copy(struct sched_resources *dst, const struct sched_resources *src)
{
    struct sched_resources t = *src;
    t.scalar = NULL;
    t.n_scalar = 0;
    if (src->n_scalar) {
        t.scalar = calloc(src->n_scalar, sizeof(*t.scalar));
        if (!t.scalar)
            return -ENOMEM;
        for (size_t i = 0; i < src->n_scalar; i++) {
            t.scalar[i].value = src->scalar[i].value;
            t.scalar[i].name = strdup(src->scalar[i].name);
            t.n_scalar = i + 1;
            if (!t.scalar[i].name) {
                t.n_scalar = i;
                sched_resources_clear(&t);
                return -ENOMEM;
            }
        }
    }
    *dst = t;
    return 0;
}

static struct sched_scalar *find_scalar(const struct sched_resources *r, const char *name)
{
    for (size_t i = 0; i < r->n_scalar; i++)
        if (strcmp(r->scalar[i].name, name) == 0)
            return &r->scalar[i];
    return NULL;
}

int64_t sched_resources_scalar(const struct sched_resources *r, const char *name)
{
    const struct sched_scalar *s = find_scalar(r, name);
    return s ? s->value : 0;
}

int sched_resources_add(struct sched_resources *acc, const struct sched_resources *r)
{
    size_t missing = 0;
    for (size_t i = 0; i < r->n_scalar; i++)
        if (!find_scalar(acc, r->scalar[i].name))
            missing++;
    if (missing) {
        /* Grow and name the new entries first so that a failure changes nothing. */
        struct sched_scalar *ns = realloc(acc->scalar, (acc->n_scalar + missing) * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        acc->scalar = ns;
        size_t n = acc->n_scalar;
        for (size_t i = 0; i < r->n_scalar; i++) {
            bool have = false;
            for (size_t j = 0; j < n && !have; j++)
                have = strcmp(ns[j].name, r->scalar[i].name) == 0;
            if (have)
                continue;
            ns[n].name = strdup(r->scalar[i].name);
            ns[n].value = 0;
            if (!ns[n].name) {
                for (size_t j = acc->n_scalar; j < n; j++)
                    free(ns[j].name);
                return -ENOMEM;
            }
            n++;
        }
        acc->n_scalar = n;
    }
    acc->milli_cpu = sat_add(acc->milli_cpu, r->milli_cpu);
    acc->memory = sat_add(acc->memory, r->memory);
    acc->ephemeral_storage = sat_add(acc->ephemeral_storage, r->ephemeral_storage);
    acc->pods = sat_add(acc->pods, r->pods);
    for (size_t i = 0; i < r->n_scalar; i++) {
        struct sched_scalar *s = find_scalar(acc, r->scalar[i].name);
        s->value = sat_add(s->value, r->scalar[i].value);
    }
    return 0;
}

void sched_resources_sub(struct sched_resources *acc, const struct sched_resources *r)
{
    acc->milli_cpu = sat_add(acc->milli_cpu, -r->milli_cpu);
    acc->memory = sat_add(acc->memory, -r->memory);
    acc->ephemeral_storage = sat_add(acc->ephemeral_storage, -r->ephemeral_storage);
    acc->pods = sat_add(acc->pods, -r->pods);
    for (size_t i = 0; i < r->n_scalar; i++) {
        struct sched_scalar *s = find_scalar(acc, r->scalar[i].name);
        if (s)
            s->value = sat_add(s->value, -r->scalar[i].value);
    }
}

/* ---- aggregation in milli-units ------------------------------------------------------
 * Kubernetes adds and compares exact Quantities and rounds once at the end; summing
 * milli-units (each rounded up to the milli) matches that for every value a manifest can
 * realistically hold. The names are borrowed from the pod JSON for the duration. */

enum { ML_CPU, ML_MEM, ML_EPH, ML_FIXED };
#define ML_MAX (ML_FIXED + SCHED_MAX_SCALAR)

struct mlist {
    size_t n;
    const char *name[ML_MAX];
    int64_t milli[ML_MAX];
    /* Non-zero cpu / memory (milli-units) for scoring. */
    int64_t nz_cpu;
    int64_t nz_mem;
};

static void ml_init(struct mlist *m)
{
    memset(m, 0, sizeof(*m));
    m->n = ML_FIXED;
}

static int ml_slot(struct mlist *m, const char *name)
{
    for (size_t i = ML_FIXED; i < m->n; i++)
        if (strcmp(m->name[i], name) == 0)
            return (int)i;
    if (m->n >= ML_MAX)
        return -E2BIG;
    m->name[m->n] = name;
    m->milli[m->n] = 0;
    return (int)m->n++;
}

static int ml_index(struct mlist *m, const char *name)
{
    if (strcmp(name, "cpu") == 0)
        return ML_CPU;
    if (strcmp(name, "memory") == 0)
        return ML_MEM;
    if (strcmp(name, "ephemeral-storage") == 0)
        return ML_EPH;
    if (sched_resource_is_scalar(name))
        return ml_slot(m, name);
    return -ENOENT; /* "pods" and unknown native names are not requests */
}

static int parse_milli(const json_t *v, int64_t *ret)
{
    struct kos_quantity q;
    if (!json_is_string(v) || kos_quantity_parse(json_string_value(v), &q) < 0)
        return -EINVAL;
    *ret = kos_quantity_milli_value(&q);
    return 0;
}

/* with_defaults: apply the scoring defaults to a container that omits cpu / memory. */
static int ml_from_json(const json_t *list, bool with_defaults, struct mlist *m)
{
    ml_init(m);
    bool has_cpu = false, has_mem = false;
    if (list && !json_is_null(list)) {
        if (!json_is_object(list))
            return -EINVAL;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)list, key, val)
        {
            int64_t milli;
            if (parse_milli(val, &milli) < 0)
                return -EINVAL;
            int i = ml_index(m, key);
            if (i == -ENOENT)
                continue;
            if (i < 0)
                return i;
            m->milli[i] = sat_add(m->milli[i], milli);
            has_cpu |= i == ML_CPU;
            has_mem |= i == ML_MEM;
        }
    }
    m->nz_cpu = m->milli[ML_CPU];
    m->nz_mem = m->milli[ML_MEM];
    if (with_defaults && !has_cpu)
        m->nz_cpu = SCHED_DEFAULT_MILLI_CPU_REQUEST;
    if (with_defaults && !has_mem)
        m->nz_mem = SCHED_DEFAULT_MEMORY_REQUEST * 1000;
    return 0;
}

static int ml_add(struct mlist *dst, const struct mlist *src)
{
    for (size_t i = 0; i < ML_FIXED; i++)
        dst->milli[i] = sat_add(dst->milli[i], src->milli[i]);
    for (size_t i = ML_FIXED; i < src->n; i++) {
        int j = ml_slot(dst, src->name[i]);
        if (j < 0)
            return j;
        dst->milli[j] = sat_add(dst->milli[j], src->milli[i]);
    }
    dst->nz_cpu = sat_add(dst->nz_cpu, src->nz_cpu);
    dst->nz_mem = sat_add(dst->nz_mem, src->nz_mem);
    return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int ml_max(struct mlist *dst, const struct mlist *src)
{
    for (size_t i = 0; i < ML_FIXED; i++)
        dst->milli[i] = max64(dst->milli[i], src->milli[i]);
    for (size_t i = ML_FIXED; i < src->n; i++) {
        size_t before = dst->n;
        int j = ml_slot(dst, src->name[i]);
        if (j < 0)
            return j;
        /* A name new to dst takes src's value (kube's maxResourceList copies it). */
        dst->milli[j] = (size_t)j >= before ? src->milli[i] : max64(dst->milli[j], src->milli[i]);
    }
    dst->nz_cpu = max64(dst->nz_cpu, src->nz_cpu);
    dst->nz_mem = max64(dst->nz_mem, src->nz_mem);
    return 0;
}

static int ml_to_resources(const struct mlist *m, struct sched_resources *ret)
{
    struct sched_resources r = {0};
    r.milli_cpu = m->milli[ML_CPU];
    r.memory = milli_to_units(m->milli[ML_MEM]);
    r.ephemeral_storage = milli_to_units(m->milli[ML_EPH]);
    size_t n = 0;
    for (size_t i = ML_FIXED; i < m->n; i++)
        n += milli_to_units(m->milli[i]) != 0;
    if (n) {
        r.scalar = calloc(n, sizeof(*r.scalar));
        if (!r.scalar)
            return -ENOMEM;
        for (size_t i = ML_FIXED; i < m->n; i++) {
            int64_t v = milli_to_units(m->milli[i]);
            if (!v)
                continue;
            r.scalar[r.n_scalar].name = strdup(m->name[i]);
            if (!r.scalar[r.n_scalar].name) {
                sched_resources_clear(&r);
                return -ENOMEM;
            }
            r.scalar[r.n_scalar++].value = v;
        }
    }
    *ret = r;
    return 0;
}

int sched_resources_from_list(const json_t *list, struct sched_resources *ret)
{
    struct mlist m;
    int r = ml_from_json(list, false, &m);
    if (r < 0)
        return r;
    return ml_to_resources(&m, ret);
}

int sched_node_allocatable(const json_t *node, struct sched_resources *ret)
{
    const json_t *alloc = json_object_get(json_object_get(node, "status"), "allocatable");
    struct sched_resources r = {0};
    if (alloc && !json_is_null(alloc)) {
        if (!json_is_object(alloc))
            return -EINVAL;
        /* Allocatable is converted per resource (no sums), so take Value() directly. */
        struct mlist m;
        int k = ml_from_json(alloc, false, &m);
        if (k < 0)
            return k;
        k = ml_to_resources(&m, &r);
        if (k < 0)
            return k;
        const json_t *pods = json_object_get(alloc, "pods");
        if (pods) {
            struct kos_quantity q;
            if (!json_is_string(pods) || kos_quantity_parse(json_string_value(pods), &q) < 0) {
                sched_resources_clear(&r);
                return -EINVAL;
            }
            r.pods = kos_quantity_value(&q);
        }
    }
    *ret = r;
    return 0;
}

void sched_pod_resources_clear(struct sched_pod_resources *r)
{
    if (!r)
        return;
    sched_resources_clear(&r->req);
    r->nonzero_milli_cpu = 0;
    r->nonzero_memory = 0;
}

int sched_pod_resources_copy(struct sched_pod_resources *dst, const struct sched_pod_resources *src)
{
    struct sched_pod_resources t = *src;
    int r = sched_resources_copy(&t.req, &src->req);
    if (r < 0)
        return r;
    *dst = t;
    return 0;
}

static const json_t *container_requests(const json_t *c)
{
    return json_object_get(json_object_get(c, "resources"), "requests");
}

static bool restartable(const json_t *c)
{
    const json_t *p = json_object_get(c, "restartPolicy");
    return json_is_string(p) && strcmp(json_string_value(p), "Always") == 0;
}

int sched_pod_resources_from_spec(const json_t *spec, struct sched_pod_resources *ret)
{
    const json_t *containers = json_object_get(spec, "containers");
    const json_t *inits = json_object_get(spec, "initContainers");
    if ((containers && !json_is_array(containers)) || (inits && !json_is_array(inits)))
        return -EINVAL;
    if (json_array_size(containers) + json_array_size(inits) > SCHED_MAX_CONTAINERS)
        return -E2BIG;

    /* Large (several KiB each): keep them off the caller's stack frame budget. */
    _cleanup_free_ struct mlist *ml = calloc(5, sizeof(*ml));
    if (!ml)
        return -ENOMEM;
    struct mlist *reqs = &ml[0], *sidecars = &ml[1], *init_max = &ml[2], *c = &ml[3], *tmp = &ml[4];
    ml_init(reqs);
    ml_init(sidecars);
    ml_init(init_max);

    size_t i;
    const json_t *ct;
    int r;
    json_array_foreach(containers, i, ct)
    {
        if ((r = ml_from_json(container_requests(ct), true, c)) < 0 || (r = ml_add(reqs, c)) < 0)
            return r;
    }
    /* Sidecars (restartable init containers) run alongside everything started after them,
     * so each init step costs its own request plus the sidecars already running. */
    json_array_foreach(inits, i, ct)
    {
        if ((r = ml_from_json(container_requests(ct), true, c)) < 0)
            return r;
        if (restartable(ct)) {
            if ((r = ml_add(reqs, c)) < 0 || (r = ml_add(sidecars, c)) < 0)
                return r;
            *tmp = *sidecars;
        } else {
            *tmp = *c;
            if ((r = ml_add(tmp, sidecars)) < 0)
                return r;
        }
        if ((r = ml_max(init_max, tmp)) < 0)
            return r;
    }
    if ((r = ml_max(reqs, init_max)) < 0)
        return r;

    /* Pod-level requests (PodLevelResources) replace the container aggregate for cpu and
     * memory only. */
    const json_t *plr = json_object_get(json_object_get(spec, "resources"), "requests");
    if (json_is_object(plr) && json_object_size(plr) > 0) {
        int64_t v;
        const json_t *q;
        if ((q = json_object_get(plr, "cpu"))) {
            if (parse_milli(q, &v) < 0)
                return -EINVAL;
            reqs->milli[ML_CPU] = v;
            reqs->nz_cpu = v;
        }
        if ((q = json_object_get(plr, "memory"))) {
            if (parse_milli(q, &v) < 0)
                return -EINVAL;
            reqs->milli[ML_MEM] = v;
            reqs->nz_mem = v;
        }
    }

    const json_t *overhead = json_object_get(spec, "overhead");
    if (overhead && !json_is_null(overhead)) {
        if ((r = ml_from_json(overhead, false, c)) < 0 || (r = ml_add(reqs, c)) < 0)
            return r;
    }

    struct sched_pod_resources out = {0};
    if ((r = ml_to_resources(reqs, &out.req)) < 0)
        return r;
    out.nonzero_milli_cpu = reqs->nz_cpu;
    out.nonzero_memory = milli_to_units(reqs->nz_mem);
    *ret = out;
    return 0;
}

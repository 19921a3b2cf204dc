#include "scheduler/cache_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "api/selector.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* ---- nodes --------------------------------------------------------------------------- */

static void node_free(struct sched_node *n)
{
    if (!n)
        return;
    free(n->name);
    json_decref(n->labels);
    sched_taints_free(n->taints, n->n_taints);
    sched_resources_clear(&n->allocatable);
    sched_resources_clear(&n->requested);
    free(n->pods);
    free(n->nominated);
    free(n);
}

static struct sched_node *node_new(const char *name)
{
    struct sched_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->name = strdup(name);
    n->labels = json_object();
    n->list_pos = SIZE_MAX;
    if (!n->name || !n->labels) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* The node entry for name, created as a placeholder when unknown. */
static struct sched_node *node_get_or_add(struct sched_cache *c, const char *name)
{
    struct sched_node *n = kos_strmap_get(&c->nodes, name);
    if (n)
        return n;
    n = node_new(name);
    if (!n)
        return NULL;
    if (kos_strmap_put(&c->nodes, n->name, n) < 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

static void list_remove(struct sched_cache *c, struct sched_node *n)
{
    if (n->list_pos == SIZE_MAX)
        return;
    size_t i = n->list_pos;
    /* Keep the order: it decides ties and where scans start, as the snapshot order does. */
    memmove(&c->list[i], &c->list[i + 1], (c->n_list - i - 1) * sizeof(c->list[0]));
    c->n_list--;
    for (size_t j = i; j < c->n_list; j++)
        c->list[j]->list_pos = j;
    n->list_pos = SIZE_MAX;
    if (c->next_start >= c->n_list)
        c->next_start = 0;
}

static int list_append(struct sched_cache *c, struct sched_node *n)
{
    if (c->n_list == c->cap_list) {
        size_t ncap = c->cap_list ? c->cap_list * 2 : 64;
        struct sched_node **nl = realloc(c->list, ncap * sizeof(*nl));
        if (!nl)
            return -ENOMEM;
        c->list = nl;
        c->cap_list = ncap;
    }
    n->list_pos = c->n_list;
    c->list[c->n_list++] = n;
    return 0;
}

/* Drops a placeholder nobody refers to any more. */
static void node_maybe_drop(struct sched_cache *c, struct sched_node *n)
{
    if (n->exists || n->n_pods || n->n_nominated)
        return;
    kos_strmap_remove(&c->nodes, n->name);
    node_free(n);
}

static int node_add_pod(struct sched_node *n, struct sched_cache_pod *cp)
{
    if (n->n_pods == n->cap_pods) {
        size_t ncap = n->cap_pods ? n->cap_pods * 2 : 8;
        struct sched_cache_pod **np = realloc(n->pods, ncap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        n->pods = np;
        n->cap_pods = ncap;
    }
    int r = sched_resources_add(&n->requested, &cp->pod->res.req);
    if (r < 0)
        return r;
    n->nonzero_milli_cpu += cp->pod->res.nonzero_milli_cpu;
    n->nonzero_memory += cp->pod->res.nonzero_memory;
    cp->node = n;
    cp->pos = n->n_pods;
    n->pods[n->n_pods++] = cp;
    return 0;
}

static void node_remove_pod(struct sched_node *n, struct sched_cache_pod *cp)
{
    sched_resources_sub(&n->requested, &cp->pod->res.req);
    n->nonzero_milli_cpu -= cp->pod->res.nonzero_milli_cpu;
    n->nonzero_memory -= cp->pod->res.nonzero_memory;
    size_t i = cp->pos;
    n->pods[i] = n->pods[--n->n_pods];
    n->pods[i]->pos = i;
    cp->node = NULL;
}

int sched_cache_new(struct sched_cache **ret)
{
    struct sched_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return -ENOMEM;
    }
    c->rng = 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)c;
    *ret = c;
    return 0;
}

static void pdb_free(struct sched_pdb *p)
{
    if (!p)
        return;
    free(p->namespace);
    free(p->name);
    label_selector_free(p->selector);
    for (size_t i = 0; i < p->n_disrupted; i++)
        free(p->disrupted[i]);
    free(p->disrupted);
    free(p);
}

void sched_cache_free(struct sched_cache *c)
{
    if (!c)
        return;
    size_t it = 0;
    void *v;
    while (kos_strmap_next(&c->pods, &it, NULL, &v)) {
        struct sched_cache_pod *cp = v;
        sched_pod_unref(cp->pod);
        free(cp);
    }
    it = 0;
    while (kos_strmap_next(&c->nominations, &it, NULL, &v)) {
        struct sched_nomination *nm = v;
        sched_pod_unref(nm->pod);
        free(nm);
    }
    it = 0;
    while (kos_strmap_next(&c->nodes, &it, NULL, &v))
        node_free(v);
    kos_strmap_free(&c->pods);
    kos_strmap_free(&c->nominations);
    kos_strmap_free(&c->nodes);
    for (size_t i = 0; i < c->n_pdbs; i++)
        pdb_free(c->pdbs[i]);
    free(c->pdbs);
    free(c->list);
    free(c->scratch_nodes);
    free(c->scratch_scores);
    free(c->scratch_codes);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

uint32_t sched_cache_rand(struct sched_cache *c, uint32_t n)
{
    /* xorshift64*: plenty for tie-breaking; tests inject their own source instead. */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (uint32_t)(((x * 0x2545F4914F6CDD1DULL) >> 32) % n);
}

int sched_cache_scratch(struct sched_cache *c, size_t n)
{
    if (n <= c->scratch_cap)
        return 0;
    size_t ncap = c->scratch_cap ? c->scratch_cap : 64;
    while (ncap < n)
        ncap *= 2;
    struct sched_node **sn = realloc(c->scratch_nodes, ncap * 2 * sizeof(*sn));
    if (!sn)
        return -ENOMEM;
    c->scratch_nodes = sn;
    int64_t *ss = realloc(c->scratch_scores, ncap * 4 * sizeof(*ss));
    if (!ss)
        return -ENOMEM;
    c->scratch_scores = ss;
    uint8_t *sc = realloc(c->scratch_codes, ncap);
    if (!sc)
        return -ENOMEM;
    c->scratch_codes = sc;
    c->scratch_cap = ncap;
    return 0;
}

int sched_cache_upsert_node(struct sched_cache *c, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name || !*name)
        return -EINVAL;
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *labels = json_object_get(meta, "labels");
    if (labels && !json_is_null(labels) && !json_is_object(labels))
        return -EINVAL;

    /* Parse everything first: a malformed update leaves the node as it was. */
    struct sched_resources alloc;
    int r = sched_node_allocatable(obj, &alloc);
    if (r < 0)
        return r;
    struct sched_taint *taints;
    size_t n_taints;
    r = sched_taints_from_json(json_object_get(spec, "taints"), &taints, &n_taints);
    if (r < 0) {
        sched_resources_clear(&alloc);
        return r;
    }
    json_t *lc = json_is_object(labels) ? json_deep_copy(labels) : json_object();
    if (!lc) {
        sched_resources_clear(&alloc);
        sched_taints_free(taints, n_taints);
        return -ENOMEM;
    }

    pthread_mutex_lock(&c->lock);
    struct sched_node *n = node_get_or_add(c, name);
    if (!n || (!n->exists && list_append(c, n) < 0)) {
        if (n)
            node_maybe_drop(c, n);
        pthread_mutex_unlock(&c->lock);
        json_decref(lc);
        sched_resources_clear(&alloc);
        sched_taints_free(taints, n_taints);
        return -ENOMEM;
    }
    n->exists = true;
    json_decref(n->labels);
    n->labels = lc;
    sched_taints_free(n->taints, n->n_taints);
    n->taints = taints;
    n->n_taints = n_taints;
    n->has_hard_taints = n->has_prefer_taints = false;
    for (size_t i = 0; i < n_taints; i++) {
        n->has_hard_taints |= taints[i].effect == SCHED_EFFECT_NO_SCHEDULE ||
                              taints[i].effect == SCHED_EFFECT_NO_EXECUTE;
        n->has_prefer_taints |= taints[i].effect == SCHED_EFFECT_PREFER_NO_SCHEDULE;
    }
    sched_resources_clear(&n->allocatable);
    n->allocatable = alloc;
    n->unschedulable = json_is_true(json_object_get(spec, "unschedulable"));
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int sched_cache_remove_node(struct sched_cache *c, const char *name)
{
    pthread_mutex_lock(&c->lock);
    struct sched_node *n = kos_strmap_get(&c->nodes, name);
    if (!n || !n->exists) {
        pthread_mutex_unlock(&c->lock);
        return -ENOENT;
    }
    list_remove(c, n);
    n->exists = false;
    /* Pods still bound to it keep counting (kube keeps a NodeInfo without a Node). */
    node_maybe_drop(c, n);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/* ---- nominations --------------------------------------------------------------------- */

void sched_cache_clear_nomination_locked(struct sched_cache *c, const char *uid)
{
    struct sched_nomination *nm = kos_strmap_remove(&c->nominations, uid);
    if (!nm)
        return;
    struct sched_node *n = nm->node;
    size_t i = nm->pos;
    n->nominated[i] = n->nominated[--n->n_nominated];
    n->nominated[i]->pos = i;
    node_maybe_drop(c, n);
    sched_pod_unref(nm->pod);
    free(nm);
}

int sched_cache_nominate_locked(struct sched_cache *c, struct sched_pod *pod, const char *node_name)
{
    sched_cache_clear_nomination_locked(c, pod->uid);
    struct sched_node *n = node_get_or_add(c, node_name);
    if (!n)
        return -ENOMEM;
    struct sched_nomination *nm = calloc(1, sizeof(*nm));
    if (!nm)
        goto oom;
    if (n->n_nominated == n->cap_nominated) {
        size_t ncap = n->cap_nominated ? n->cap_nominated * 2 : 4;
        struct sched_nomination **nn = realloc(n->nominated, ncap * sizeof(*nn));
        if (!nn)
            goto oom;
        n->nominated = nn;
        n->cap_nominated = ncap;
    }
    nm->pod = sched_pod_ref(pod);
    nm->node = n;
    if (kos_strmap_put(&c->nominations, nm->pod->uid, nm) < 0) {
        sched_pod_unref(nm->pod);
        goto oom;
    }
    nm->pos = n->n_nominated;
    n->nominated[n->n_nominated++] = nm;
    return 0;
oom:
    free(nm);
    node_maybe_drop(c, n);
    return -ENOMEM;
}

int sched_cache_nominate(struct sched_cache *c, struct sched_pod *pod, const char *node_name)
{
    if (!node_name || !*node_name)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    int r = sched_cache_nominate_locked(c, pod, node_name);
    pthread_mutex_unlock(&c->lock);
    return r;
}

int sched_cache_clear_nomination(struct sched_cache *c, const char *uid)
{
    pthread_mutex_lock(&c->lock);
    bool had = kos_strmap_get(&c->nominations, uid) != NULL;
    sched_cache_clear_nomination_locked(c, uid);
    pthread_mutex_unlock(&c->lock);
    return had ? 0 : -ENOENT;
}

/* ---- pods ---------------------------------------------------------------------------- */

static void pod_remove_locked(struct sched_cache *c, struct sched_cache_pod *cp)
{
    kos_strmap_remove(&c->pods, cp->pod->uid);
    struct sched_node *n = cp->node;
    node_remove_pod(n, cp);
    node_maybe_drop(c, n);
    sched_pod_unref(cp->pod);
    free(cp);
}

/* Counts pod on node_name as a new entry. */
static int pod_add_locked(struct sched_cache *c, struct sched_pod *pod, const char *node_name,
                          bool assumed)
{
    struct sched_node *n = node_get_or_add(c, node_name);
    if (!n)
        return -ENOMEM;
    struct sched_cache_pod *cp = calloc(1, sizeof(*cp));
    if (!cp) {
        node_maybe_drop(c, n);
        return -ENOMEM;
    }
    cp->pod = sched_pod_ref(pod);
    cp->assumed = assumed;
    int r = node_add_pod(n, cp);
    if (r == 0 && (r = kos_strmap_put(&c->pods, cp->pod->uid, cp)) < 0)
        node_remove_pod(n, cp);
    if (r < 0) {
        sched_pod_unref(cp->pod);
        free(cp);
        node_maybe_drop(c, n);
        return r;
    }
    return 0;
}

int sched_cache_upsert_pod(struct sched_cache *c, struct sched_pod *pod)
{
    int r = 0;
    pthread_mutex_lock(&c->lock);
    struct sched_cache_pod *cp = kos_strmap_get(&c->pods, pod->uid);
    if (pod->terminal) {
        /* The scheduler's informer never sees Succeeded/Failed pods: they hold nothing. */
        if (cp)
            pod_remove_locked(c, cp);
        sched_cache_clear_nomination_locked(c, pod->uid);
    } else if (!pod->node_name) {
        /* Pending (or assumed, its binding not yet observed): only the nomination. */
        if (pod->nominated_node_name && !cp)
            r = sched_cache_nominate_locked(c, pod, pod->nominated_node_name);
        else
            sched_cache_clear_nomination_locked(c, pod->uid);
    } else {
        sched_cache_clear_nomination_locked(c, pod->uid);
        if (cp && strcmp(cp->node->name, pod->node_name) == 0) {
            /* Same node: swap the object in, re-counting its requests. */
            struct sched_node *n = cp->node;
            struct sched_pod *old = cp->pod;
            node_remove_pod(n, cp);
            cp->pod = sched_pod_ref(pod);
            r = node_add_pod(n, cp);
            if (r < 0) {
                sched_pod_unref(cp->pod);
                cp->pod = old;
                if (node_add_pod(n, cp) < 0) {
                    kos_strmap_remove(&c->pods, old->uid);
                    sched_pod_unref(old);
                    free(cp);
                }
            } else {
                /* The map key pointed at the old object's uid. */
                kos_strmap_put(&c->pods, cp->pod->uid, cp);
                sched_pod_unref(old);
                cp->assumed = false;
            }
        } else {
            if (cp)
                pod_remove_locked(c, cp);
            r = pod_add_locked(c, pod, pod->node_name, false);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int sched_cache_upsert_pod_json(struct sched_cache *c, const json_t *obj)
{
    _cleanup_sched_pod_ struct sched_pod *p = NULL;
    int r = sched_pod_from_json(obj, &p);
    if (r < 0)
        return r;
    return sched_cache_upsert_pod(c, p);
}

int sched_cache_remove_pod(struct sched_cache *c, const char *uid)
{
    pthread_mutex_lock(&c->lock);
    struct sched_cache_pod *cp = kos_strmap_get(&c->pods, uid);
    bool had = cp || kos_strmap_get(&c->nominations, uid);
    if (cp)
        pod_remove_locked(c, cp);
    sched_cache_clear_nomination_locked(c, uid);
    pthread_mutex_unlock(&c->lock);
    return had ? 0 : -ENOENT;
}

int sched_cache_assume_pod(struct sched_cache *c, struct sched_pod *pod, const char *node_name)
{
    pthread_mutex_lock(&c->lock);
    int r;
    struct sched_node *n = kos_strmap_get(&c->nodes, node_name);
    if (kos_strmap_get(&c->pods, pod->uid))
        r = -EEXIST;
    else if (!n || !n->exists)
        r = -ENOENT;
    else {
        sched_cache_clear_nomination_locked(c, pod->uid);
        r = pod_add_locked(c, pod, node_name, true);
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int sched_cache_finish_binding(struct sched_cache *c, const char *uid)
{
    pthread_mutex_lock(&c->lock);
    struct sched_cache_pod *cp = kos_strmap_get(&c->pods, uid);
    if (cp && cp->assumed)
        cp->binding_finished = true;
    pthread_mutex_unlock(&c->lock);
    return cp && cp->assumed ? 0 : -ENOENT;
}

int sched_cache_forget_pod(struct sched_cache *c, const char *uid)
{
    pthread_mutex_lock(&c->lock);
    struct sched_cache_pod *cp = kos_strmap_get(&c->pods, uid);
    bool assumed = cp && cp->assumed;
    if (assumed)
        pod_remove_locked(c, cp);
    pthread_mutex_unlock(&c->lock);
    return assumed ? 0 : -ENOENT;
}

/* ---- PDBs ---------------------------------------------------------------------------- */

static int pdb_from_json(const json_t *obj, struct sched_pdb **ret)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (!name || !*name)
        return -EINVAL;
    struct sched_pdb *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->namespace = strdup(ns && *ns ? ns : "default");
    p->name = strdup(name);
    if (!p->namespace || !p->name) {
        pdb_free(p);
        return -ENOMEM;
    }
    const json_t *sel = json_object_get(json_object_get(obj, "spec"), "selector");
    if (sel && !json_is_null(sel)) {
        struct kos_error *err = NULL;
        struct label_selector *ls = NULL;
        /* An invalid selector matches nothing, as kube skips PDBs it cannot convert. */
        if (label_selector_from_json(sel, &ls, &err) == 0 && !label_selector_empty(ls))
            p->selector = ls;
        else
            label_selector_free(ls);
        kos_error_free(err);
    }
    const json_t *status = json_object_get(obj, "status");
    json_int_t da = json_integer_value(json_object_get(status, "disruptionsAllowed"));
    p->disruptions_allowed = da > INT32_MAX ? INT32_MAX : da < INT32_MIN ? INT32_MIN : (int32_t)da;
    const json_t *dp = json_object_get(status, "disruptedPods");
    if (json_is_object(dp) && json_object_size(dp) > 0) {
        size_t n = json_object_size(dp);
        p->disrupted = calloc(n, sizeof(char *));
        if (!p->disrupted) {
            pdb_free(p);
            return -ENOMEM;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)dp, k, v)
        {
            if (!(p->disrupted[p->n_disrupted] = strdup(k))) {
                pdb_free(p);
                return -ENOMEM;
            }
            p->n_disrupted++;
        }
    }
    *ret = p;
    return 0;
}

static ssize_t pdb_find(struct sched_cache *c, const char *ns, const char *name)
{
    for (size_t i = 0; i < c->n_pdbs; i++)
        if (strcmp(c->pdbs[i]->namespace, ns) == 0 && strcmp(c->pdbs[i]->name, name) == 0)
            return (ssize_t)i;
    return -1;
}

int sched_cache_upsert_pdb(struct sched_cache *c, const json_t *obj)
{
    struct sched_pdb *p;
    int r = pdb_from_json(obj, &p);
    if (r < 0)
        return r;
    pthread_mutex_lock(&c->lock);
    ssize_t i = pdb_find(c, p->namespace, p->name);
    if (i >= 0) {
        pdb_free(c->pdbs[i]);
        c->pdbs[i] = p;
    } else {
        struct sched_pdb **np = realloc(c->pdbs, (c->n_pdbs + 1) * sizeof(*np));
        if (!np) {
            pthread_mutex_unlock(&c->lock);
            pdb_free(p);
            return -ENOMEM;
        }
        c->pdbs = np;
        c->pdbs[c->n_pdbs++] = p;
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int sched_cache_remove_pdb(struct sched_cache *c, const char *namespace, const char *name)
{
    pthread_mutex_lock(&c->lock);
    ssize_t i = pdb_find(c, namespace, name);
    if (i >= 0) {
        pdb_free(c->pdbs[i]);
        c->pdbs[i] = c->pdbs[--c->n_pdbs];
    }
    pthread_mutex_unlock(&c->lock);
    return i >= 0 ? 0 : -ENOENT;
}

/* ---- introspection ------------------------------------------------------------------- */

size_t sched_cache_node_count(struct sched_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->n_list;
    pthread_mutex_unlock(&c->lock);
    return n;
}

size_t sched_cache_pod_count(struct sched_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->pods.len;
    pthread_mutex_unlock(&c->lock);
    return n;
}

int sched_cache_node_usage(struct sched_cache *c, const char *name, struct sched_resources *ret,
                           size_t *ret_pods)
{
    pthread_mutex_lock(&c->lock);
    struct sched_node *n = kos_strmap_get(&c->nodes, name);
    int r = -ENOENT;
    if (n && (r = sched_resources_copy(ret, &n->requested)) == 0 && ret_pods)
        *ret_pods = n->n_pods;
    pthread_mutex_unlock(&c->lock);
    return r;
}

int sched_cache_pod_node(struct sched_cache *c, const char *uid, char *buf, size_t size,
                         bool *ret_assumed)
{
    pthread_mutex_lock(&c->lock);
    struct sched_cache_pod *cp = kos_strmap_get(&c->pods, uid);
    if (cp) {
        kos_strlcpy(buf, cp->node->name, size);
        if (ret_assumed)
            *ret_assumed = cp->assumed;
    }
    pthread_mutex_unlock(&c->lock);
    return cp ? 0 : -ENOENT;
}

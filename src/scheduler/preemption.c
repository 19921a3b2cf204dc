#include "scheduler/preemption.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/selector.h"
#include "scheduler/cache_internal.h"
#include "scheduler/filters.h"
#include "util/cleanup.h"

/* ---- choosing among candidates ------------------------------------------------------- */

/* GetEarliestPodStartTime: the earliest start among the highest-priority victims. */
static int64_t earliest_start(const struct sched_candidate *c)
{
    int32_t maxp = c->victims[0]->priority;
    int64_t t = c->victims[0]->start_ms;
    for (size_t i = 0; i < c->n_victims; i++) {
        const struct sched_pod *p = c->victims[i];
        if (p->priority == maxp && p->start_ms < t)
            t = p->start_ms;
        else if (p->priority > maxp) {
            maxp = p->priority;
            t = p->start_ms;
        }
    }
    return t;
}

/* Higher is better for every criterion. */
static int64_t criterion(const struct sched_candidate *c, int which)
{
    switch (which) {
    case 0:
        return -c->num_pdb_violations;
    case 1:
        return -(int64_t)c->victims[0]->priority;
    case 2: {
        /* +2^31 keeps every term non-negative, so many negative-priority victims do not
         * look cheap. */
        int64_t sum = 0;
        for (size_t i = 0; i < c->n_victims; i++)
            sum += (int64_t)c->victims[i]->priority + ((int64_t)INT32_MAX + 1);
        return -sum;
    }
    case 3:
        return -(int64_t)c->n_victims;
    default:
        return earliest_start(c);
    }
}

size_t sched_pick_preemption_candidate(const struct sched_candidate *cands, size_t n)
{
    if (n <= 1)
        return 0;
    _cleanup_free_ bool *alive = malloc(n * sizeof(bool));
    if (!alive)
        return 0; /* out of memory: "the first", as the last tie-break would */
    for (size_t i = 0; i < n; i++)
        alive[i] = true;
    for (int which = 0; which < 5; which++) {
        int64_t best = INT64_MIN;
        size_t left = 0, last = 0;
        for (size_t i = 0; i < n; i++)
            if (alive[i] && criterion(&cands[i], which) > best)
                best = criterion(&cands[i], which);
        for (size_t i = 0; i < n; i++) {
            if (alive[i] && criterion(&cands[i], which) != best)
                alive[i] = false;
            if (alive[i]) {
                left++;
                last = i;
            }
        }
        if (left == 1)
            return last;
    }
    for (size_t i = 0; i < n; i++)
        if (alive[i])
            return i;
    return 0;
}

/* ---- victims on one node ------------------------------------------------------------- */

struct ranked {
    struct sched_pod *pod;
    size_t idx;
};

static int cmp_importance(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (sched_pod_more_important(x->pod, y->pod))
        return -1;
    if (sched_pod_more_important(y->pod, x->pod))
        return 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static bool pdb_covers(const struct sched_pdb *pdb, const struct sched_pod *p)
{
    if (!pdb->selector || strcmp(pdb->namespace, p->namespace) != 0 ||
        !label_selector_matches(pdb->selector, p->labels))
        return false;
    /* Already in disruptedPods: the API server has counted it. */
    for (size_t i = 0; i < pdb->n_disrupted; i++)
        if (strcmp(pdb->disrupted[i], p->name) == 0)
            return false;
    return true;
}

static bool fits(const struct sched_pod *pod, const struct sched_node *node,
                 const struct sched_resources *used, int64_t used_pods)
{
    struct sched_status st;
    return sched_filter_resources(&pod->res, &node->allocatable, used, used_pods, &st);
}

/* SelectVictimsOnNode. Returns 1 with *cand filled, 0 with *st saying why the node is no
 * candidate, or -errno. Only NodeResourcesFit needs re-running: the node passed every other
 * filter, and none of them looks at the pods on it. */
static int select_victims(struct sched_cache *c, const struct sched_pod *pod,
                          struct sched_node *node, struct sched_candidate *cand,
                          struct sched_status *st)
{
    _cleanup_free_ struct ranked *pot = calloc(node->n_pods ? node->n_pods : 1, sizeof(*pot));
    _cleanup_free_ bool *violating = calloc(node->n_pods ? node->n_pods : 1, sizeof(bool));
    _cleanup_free_ int32_t *allowed = calloc(c->n_pdbs ? c->n_pdbs : 1, sizeof(int32_t));
    if (!pot || !violating || !allowed)
        return -ENOMEM;
    size_t np = 0;
    for (size_t i = 0; i < node->n_pods; i++) {
        struct sched_pod *p = node->pods[i]->pod;
        if (p->priority < pod->priority) {
            pot[np].pod = p;
            pot[np].idx = np;
            np++;
        }
    }
    if (np == 0) {
        st->code = SCHED_CODE_UNRESOLVABLE;
        st->n = 1;
        st->reasons[0] = (struct sched_reason){.kind = SCHED_R_NO_VICTIMS};
        return 0;
    }

    struct sched_resources used;
    int n_nom = sched_nominated_usage(pod, node, &used);
    if (n_nom < 0)
        return n_nom;
    int r = sched_resources_add(&used, &node->requested);
    if (r < 0)
        goto out;
    int64_t used_pods = (int64_t)node->n_pods + n_nom;
    for (size_t i = 0; i < np; i++) {
        sched_resources_sub(&used, &pot[i].pod->res.req);
        used_pods--;
    }
    if (!sched_filter_resources(&pod->res, &node->allocatable, &used, used_pods, st)) {
        r = 0;
        goto out;
    }

    qsort(pot, np, sizeof(*pot), cmp_importance);
    for (size_t k = 0; k < c->n_pdbs; k++)
        allowed[k] = c->pdbs[k]->disruptions_allowed;
    for (size_t i = 0; i < np; i++) {
        /* A pod without labels matches no PDB. */
        if (json_object_size(pot[i].pod->labels) == 0)
            continue;
        for (size_t k = 0; k < c->n_pdbs; k++)
            if (pdb_covers(c->pdbs[k], pot[i].pod) && --allowed[k] < 0)
                violating[i] = true;
    }

    struct sched_pod **victims = calloc(np, sizeof(*victims));
    if (!victims) {
        r = -ENOMEM;
        goto out;
    }
    size_t nv = 0;
    int64_t violations = 0;
    /* Reprieve the PDB-violating pods first, then the others, most important first. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < np; i++) {
            if (violating[i] != (pass == 0))
                continue;
            struct sched_pod *p = pot[i].pod;
            if ((r = sched_resources_add(&used, &p->res.req)) < 0) {
                free(victims);
                goto out;
            }
            if (fits(pod, node, &used, used_pods + 1)) {
                used_pods++;
                continue;
            }
            sched_resources_sub(&used, &p->res.req);
            victims[nv++] = p;
            violations += pass == 0;
        }
    }
    /* Both groups were taken in importance order; merge them back into one. */
    if (violations && nv > (size_t)violations) {
        struct ranked *tmp = pot; /* reuse: np ≥ nv */
        for (size_t i = 0; i < nv; i++)
            tmp[i] = (struct ranked){.pod = victims[i], .idx = i};
        qsort(tmp, nv, sizeof(*tmp), cmp_importance);
        for (size_t i = 0; i < nv; i++)
            victims[i] = tmp[i].pod;
    }
    cand->node = node;
    cand->victims = victims;
    cand->n_victims = nv;
    cand->num_pdb_violations = violations;
    r = 1;
out:
    sched_resources_clear(&used);
    return r;
}

/* ---- the PostFilter ------------------------------------------------------------------ */

static int copy_victim(struct sched_victim *v, const struct sched_pod *p)
{
    v->uid = strdup(p->uid);
    v->namespace = strdup(p->namespace);
    v->name = strdup(p->name);
    v->deleting = p->deleting;
    return v->uid && v->namespace && v->name ? 0 : -ENOMEM;
}

static bool eligible(struct sched_cache *c, const struct sched_pod *pod, const uint8_t *codes,
                     const char **why)
{
    if (pod->preempt_never) {
        *why = "not eligible due to preemptionPolicy=Never.";
        return false;
    }
    if (!pod->nominated_node_name)
        return true;
    struct sched_node *nn = kos_strmap_get(&c->nodes, pod->nominated_node_name);
    /* A nominated node that can never fit again is preempted for afresh. */
    if (!nn || !nn->exists || codes[nn->list_pos] == SCHED_CODE_UNRESOLVABLE)
        return true;
    for (size_t i = 0; i < nn->n_pods; i++) {
        const struct sched_pod *p = nn->pods[i]->pod;
        if (p->priority < pod->priority && p->preemption_victim) {
            *why = "not eligible due to a terminating pod on the nominated node.";
            return false;
        }
    }
    return true;
}

static void candidates_free(struct sched_candidate *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        free(c[i].victims);
    free(c);
}

static int no_candidate(struct sched_cache *c, struct sched_pod *pod, struct sched_histogram *h,
                        size_t explicit_nodes, struct sched_result *res, struct kos_buf *msg)
{
    res->clear_nominated_node = true;
    sched_cache_clear_nomination_locked(c, pod->uid);
    struct sched_reason absent = {.kind = SCHED_R_NOT_HELPFUL};
    int r = 0;
    if (c->n_list > explicit_nodes)
        r = sched_histogram_add(h, &absent, c->n_list - explicit_nodes);
    if (r == 0)
        r = kos_buf_printf(msg, "preemption: 0/%zu nodes are available: ", c->n_list);
    if (r == 0)
        r = sched_histogram_format(h, msg);
    if (r == 0)
        r = kos_buf_append_str(msg, ".");
    return r;
}

static int nominate(struct sched_cache *c, struct sched_pod *pod, const struct sched_candidate *w,
                    struct sched_result *res)
{
    struct sched_node *node = w->node;
    if (!(res->nominated_node_name = strdup(node->name)))
        return -ENOMEM;
    res->num_pdb_violations = w->num_pdb_violations;
    if (!(res->victims = calloc(w->n_victims ? w->n_victims : 1, sizeof(*res->victims))))
        return -ENOMEM;
    for (size_t i = 0; i < w->n_victims; i++) {
        res->n_victims = i + 1;
        if (copy_victim(&res->victims[i], w->victims[i]) < 0)
            return -ENOMEM;
    }
    /* Lower-priority pods nominated to the node may no longer fit there: their nomination
     * is cleared so they go looking elsewhere. */
    size_t nl = 0;
    for (size_t i = 0; i < node->n_nominated; i++)
        nl += node->nominated[i]->pod->priority < pod->priority;
    if (nl) {
        if (!(res->lower_nominated = calloc(nl, sizeof(*res->lower_nominated))))
            return -ENOMEM;
        for (size_t i = 0; i < node->n_nominated; i++) {
            const struct sched_pod *p = node->nominated[i]->pod;
            if (p->priority >= pod->priority)
                continue;
            if (copy_victim(&res->lower_nominated[res->n_lower_nominated++], p) < 0)
                return -ENOMEM;
        }
        for (size_t i = 0; i < res->n_lower_nominated; i++)
            sched_cache_clear_nomination_locked(c, res->lower_nominated[i].uid);
    }
    return sched_cache_nominate_locked(c, pod, node->name);
}

int sched_preempt_locked(struct sched_cache *c, const struct sched_config *cfg,
                         struct sched_pod *pod, const uint8_t *codes, struct sched_result *res,
                         struct kos_buf *msg)
{
    const char *why = NULL;
    if (!eligible(c, pod, codes, &why))
        return kos_buf_printf(msg, "preemption: %s", why);

    struct sched_node **potential = c->scratch_nodes;
    size_t np = 0;
    for (size_t i = 0; i < c->n_list; i++)
        if (codes[i] == SCHED_CODE_UNSCHEDULABLE)
            potential[np++] = c->list[i];

    struct sched_histogram hist = {0};
    struct sched_candidate *cands = NULL;
    size_t n_good = 0, n_bad = 0, explicit_nodes = 0;
    int r = 0;
    if (np) {
        cands = calloc(np, sizeof(*cands));
        if (!cands)
            return -ENOMEM;
        /* Non-violating candidates fill from the front, violating ones from the back. */
        int64_t want = (int64_t)np * cfg->min_candidate_nodes_percentage / 100;
        if (want < cfg->min_candidate_nodes_absolute)
            want = cfg->min_candidate_nodes_absolute;
        if (want > (int64_t)np)
            want = (int64_t)np;
        size_t offset = cfg->rand ? cfg->rand(cfg->rand_ctx, (uint32_t)np) % np
                                  : sched_cache_rand(c, (uint32_t)np);
        for (size_t i = 0; i < np; i++) {
            struct sched_node *node = potential[(offset + i) % np];
            struct sched_candidate cand = {0};
            struct sched_status st;
            r = select_victims(c, pod, node, &cand, &st);
            if (r < 0)
                goto out;
            if (r == 0) {
                explicit_nodes++;
                for (size_t k = 0; k < st.n && r == 0; k++)
                    r = sched_histogram_add(&hist, &st.reasons[k], 1);
                if (r < 0)
                    goto out;
                continue;
            }
            if (cand.num_pdb_violations == 0)
                cands[n_good++] = cand;
            else
                cands[np - 1 - n_bad++] = cand;
            if (n_good > 0 && (int64_t)(n_good + n_bad) >= want)
                break;
        }
        /* Violating candidates after the others, in the order they were found: reverse the
         * tail, slide it down, and clear the slots it left. */
        struct sched_candidate *tail = &cands[np - n_bad];
        for (size_t i = 0; i < n_bad / 2; i++) {
            struct sched_candidate t = tail[i];
            tail[i] = tail[n_bad - 1 - i];
            tail[n_bad - 1 - i] = t;
        }
        memmove(&cands[n_good], tail, n_bad * sizeof(*cands));
        memset(&cands[n_good + n_bad], 0, (np - n_good - n_bad) * sizeof(*cands));
    }
    r = 0;
    if (n_good + n_bad == 0) {
        r = no_candidate(c, pod, &hist, explicit_nodes, res, msg);
        goto out;
    }
    size_t w = sched_pick_preemption_candidate(cands, n_good + n_bad);
    r = nominate(c, pod, &cands[w], res);
out:
    candidates_free(cands, np);
    sched_histogram_clear(&hist);
    return r;
}

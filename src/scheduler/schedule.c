#include "scheduler/schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/cache_internal.h"
#include "scheduler/filters.h"
#include "scheduler/preemption.h"
#include "util/cleanup.h"

/* kube's minFeasibleNodesToFind / minFeasibleNodesPercentageToFind. */
#define MIN_FEASIBLE_NODES            100
#define MIN_FEASIBLE_NODES_PERCENTAGE 5
#define MESSAGE_LIMIT                 (1 << 20)

void sched_config_init(struct sched_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    sched_weights_default(&cfg->weights);
    cfg->min_candidate_nodes_percentage = 10;
    cfg->min_candidate_nodes_absolute = 100;
}

static void victims_free(struct sched_victim *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].uid);
        free(v[i].namespace);
        free(v[i].name);
    }
    free(v);
}

void sched_result_clear(struct sched_result *res)
{
    if (!res)
        return;
    free(res->node_name);
    free(res->message);
    free(res->nominated_node_name);
    victims_free(res->victims, res->n_victims);
    victims_free(res->lower_nominated, res->n_lower_nominated);
    memset(res, 0, sizeof(*res));
}

size_t sched_num_feasible_nodes_to_find(int32_t percentage, size_t n_nodes)
{
    if (n_nodes < MIN_FEASIBLE_NODES)
        return n_nodes;
    int64_t p = percentage;
    if (p <= 0) {
        p = 50 - (int64_t)n_nodes / 125;
        if (p < MIN_FEASIBLE_NODES_PERCENTAGE)
            p = MIN_FEASIBLE_NODES_PERCENTAGE;
    }
    size_t n = (size_t)((int64_t)n_nodes * p / 100);
    return n < MIN_FEASIBLE_NODES ? MIN_FEASIBLE_NODES : n;
}

/* ---- reason histogram ---------------------------------------------------------------- */

int sched_histogram_add(struct sched_histogram *h, const struct sched_reason *r, size_t count)
{
    for (size_t i = 0; i < h->n; i++) {
        if (sched_reason_equal(&h->reasons[i], r)) {
            h->counts[i] += count;
            return 0;
        }
    }
    if (h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 8;
        struct sched_reason *nr = realloc(h->reasons, ncap * sizeof(*nr));
        if (!nr)
            return -ENOMEM;
        h->reasons = nr;
        size_t *nc = realloc(h->counts, ncap * sizeof(*nc));
        if (!nc)
            return -ENOMEM;
        h->counts = nc;
        h->cap = ncap;
    }
    h->reasons[h->n] = *r;
    h->counts[h->n++] = count;
    return 0;
}

void sched_histogram_clear(struct sched_histogram *h)
{
    free(h->reasons);
    free(h->counts);
    memset(h, 0, sizeof(*h));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sched_histogram_format(const struct sched_histogram *h, struct kos_buf *out)
{
    if (h->n == 0)
        return 0;
    /* Go's sort.Strings over "<count> <reason>": plain byte order, so "10 …" < "2 …". */
    _cleanup_free_ char **items = calloc(h->n, sizeof(char *));
    if (!items)
        return -ENOMEM;
    int r = 0;
    size_t made = 0;
    for (; made < h->n; made++) {
        struct kos_buf b;
        kos_buf_init(&b, MESSAGE_LIMIT);
        if ((r = kos_buf_printf(&b, "%zu ", h->counts[made])) < 0 ||
            (r = sched_reason_format(&h->reasons[made], &b)) < 0) {
            kos_buf_free(&b);
            break;
        }
        items[made] = kos_buf_steal(&b, NULL);
        if (!items[made]) {
            r = -ENOMEM;
            break;
        }
    }
    if (r == 0) {
        qsort(items, h->n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < h->n && r == 0; i++) {
            if (i)
                r = kos_buf_append_str(out, ", ");
            if (r == 0)
                r = kos_buf_append_str(out, items[i]);
        }
    }
    for (size_t i = 0; i < made; i++)
        free(items[i]);
    return r;
}

/* ---- the cycle ----------------------------------------------------------------------- */

static uint32_t pick(struct sched_cache *c, const struct sched_config *cfg, uint32_t n)
{
    if (n <= 1)
        return 0;
    return cfg->rand ? cfg->rand(cfg->rand_ctx, n) % n : sched_cache_rand(c, n);
}

static int scheduled(struct sched_result *res, const struct sched_node *node)
{
    res->outcome = SCHED_SCHEDULED;
    res->node_name = strdup(node->name);
    return res->node_name ? 0 : -ENOMEM;
}

static struct sched_node *select_host(struct sched_cache *c, const struct sched_config *cfg,
                                      const struct sched_pod *pod, struct sched_node **feasible,
                                      size_t nf)
{
    int64_t *s = c->scratch_scores;
    bool balanced = sched_balanced_applies(pod);
    int64_t max_taint = 0, max_aff = 0;
    for (size_t j = 0; j < nf; j++) {
        int64_t *sj = &s[4 * j];
        sj[0] = sched_score_least_allocated(pod, feasible[j]);
        sj[1] = balanced ? sched_score_balanced(pod, feasible[j]) : 0;
        sj[2] = sched_score_taint_raw(pod, feasible[j]);
        sj[3] = sched_score_affinity_raw(pod, feasible[j]);
        max_taint = sj[2] > max_taint ? sj[2] : max_taint;
        max_aff = sj[3] > max_aff ? sj[3] : max_aff;
    }

    /* DefaultNormalizeScore inline (reversed for TaintToleration), then the weighted sum;
     * one pass keeps a 1000-node cycle cheap. */
    const struct sched_weights *w = &cfg->weights;
    int64_t best = INT64_MIN;
    size_t sel = 0;
    uint32_t ties = 0;
    for (size_t j = 0; j < nf; j++) {
        const int64_t *sj = &s[4 * j];
        int64_t taint = max_taint ? SCHED_MAX_NODE_SCORE - SCHED_MAX_NODE_SCORE * sj[2] / max_taint
                                  : SCHED_MAX_NODE_SCORE;
        int64_t aff = max_aff ? SCHED_MAX_NODE_SCORE * sj[3] / max_aff : 0;
        int64_t total = w->fit * sj[0] + w->balanced * sj[1] + w->taint_toleration * taint +
                        w->node_affinity * aff;
        if (total > best) {
            best = total;
            sel = j;
            ties = 1;
        } else if (total == best) {
            /* Reservoir sampling: each of the tied nodes ends up chosen with equal odds. */
            if (pick(c, cfg, ++ties) == 0)
                sel = j;
        }
    }
    return feasible[sel];
}

static int fail(struct sched_cache *c, const struct sched_config *cfg, struct sched_pod *pod,
                const struct sched_histogram *hist, const char *prefilter_msg,
                struct sched_result *res)
{
    struct kos_buf msg;
    kos_buf_init(&msg, MESSAGE_LIMIT);
    int r = kos_buf_printf(&msg, "0/%zu nodes are available:", c->n_list);
    if (r == 0 && prefilter_msg)
        r = kos_buf_printf(&msg, " %s.", prefilter_msg);
    else if (r == 0 && hist->n) {
        if ((r = kos_buf_append_str(&msg, " ")) == 0 &&
            (r = sched_histogram_format(hist, &msg)) == 0)
            r = kos_buf_append_str(&msg, ".");
    }
    res->outcome = SCHED_UNSCHEDULABLE;
    if (r == 0 && !cfg->disable_preemption) {
        struct kos_buf post;
        kos_buf_init(&post, MESSAGE_LIMIT);
        r = sched_preempt_locked(c, cfg, pod, c->scratch_codes, res, &post);
        if (r == 0 && post.len)
            r = kos_buf_printf(&msg, " %s", post.data);
        kos_buf_free(&post);
    }
    if (r == 0 && !(res->message = kos_buf_steal(&msg, NULL)))
        r = -ENOMEM;
    kos_buf_free(&msg);
    return r;
}

static int schedule_locked(struct sched_cache *c, const struct sched_config *cfg,
                           struct sched_pod *pod, struct sched_result *res)
{
    size_t n_all = c->n_list;
    if (n_all == 0) {
        res->outcome = SCHED_ERROR;
        res->message = strdup("no nodes available to schedule pods");
        return res->message ? 0 : -ENOMEM;
    }
    int r = sched_cache_scratch(c, n_all);
    if (r < 0)
        return r;
    memset(c->scratch_codes, SCHED_CODE_UNRESOLVABLE, n_all);

    struct sched_histogram hist = {0};
    const struct sched_node_affinity *aff = &pod->affinity;
    if (aff->names_conflict) {
        /* PreFilter rejected the pod: every node shares that status. */
        res->unschedulable_plugins = SCHED_PLUGIN_NODE_AFFINITY;
        return fail(c, cfg, pod, &hist, "pod affinity terms conflict", res);
    }

    struct sched_node **nodes = c->list;
    size_t n_nodes = n_all;
    if (aff->restricts_names) {
        nodes = c->scratch_nodes;
        n_nodes = 0;
        for (size_t i = 0; i < aff->n_names; i++) {
            struct sched_node *n = kos_strmap_get(&c->nodes, aff->names[i]);
            if (n && n->exists)
                nodes[n_nodes++] = n;
        }
    }
    struct sched_node **feasible = c->scratch_nodes + c->scratch_cap;
    struct sched_status st;

    /* A pod nominated by an earlier preemption tries that node first, alone. */
    if (pod->nominated_node_name) {
        struct sched_node *nn = kos_strmap_get(&c->nodes, pod->nominated_node_name);
        if (nn && nn->exists && sched_node_affinity_allows_name(aff, nn->name)) {
            r = sched_filter_node(pod, nn, &st);
            if (r < 0)
                return r;
            if (r == SCHED_CODE_SUCCESS) {
                res->evaluated_nodes = res->feasible_nodes = 1;
                return scheduled(res, nn);
            }
        }
    }

    size_t to_find = sched_num_feasible_nodes_to_find(cfg->percentage_of_nodes_to_score, n_nodes);
    size_t start = n_nodes ? c->next_start % n_nodes : 0;
    size_t nf = 0, processed = 0;
    uint32_t plugins = 0;
    for (size_t i = 0, at = start; i < n_nodes && nf < to_find;
         i++, at = at + 1 == n_nodes ? 0 : at + 1) {
        struct sched_node *node = nodes[at];
        processed++;
        r = sched_filter_node(pod, node, &st);
        if (r < 0)
            goto out;
        if (r == SCHED_CODE_SUCCESS) {
            feasible[nf++] = node;
            continue;
        }
        c->scratch_codes[node->list_pos] = (uint8_t)r;
        plugins |= st.plugin;
        for (size_t k = 0; k < st.n; k++)
            if ((r = sched_histogram_add(&hist, &st.reasons[k], 1)) < 0)
                goto out;
    }
    c->next_start = (c->next_start + processed) % n_all;
    res->evaluated_nodes = processed;
    res->feasible_nodes = nf;
    res->unschedulable_plugins = plugins;

    if (nf == 0) {
        if (aff->restricts_names && processed < n_all) {
            struct sched_reason absent = {.kind = SCHED_R_PREFILTER_AFFINITY};
            res->unschedulable_plugins |= SCHED_PLUGIN_NODE_AFFINITY;
            if ((r = sched_histogram_add(&hist, &absent, n_all - processed)) < 0)
                goto out;
        }
        r = fail(c, cfg, pod, &hist, NULL, res);
        goto out;
    }
    r = scheduled(res, nf == 1 ? feasible[0] : select_host(c, cfg, pod, feasible, nf));
out:
    sched_histogram_clear(&hist);
    return r;
}

int sched_schedule_one(struct sched_cache *c, const struct sched_config *cfg, struct sched_pod *pod,
                       struct sched_result *res)
{
    memset(res, 0, sizeof(*res));
    pthread_mutex_lock(&c->lock);
    int r = schedule_locked(c, cfg, pod, res);
    pthread_mutex_unlock(&c->lock);
    if (r < 0)
        sched_result_clear(res);
    return r;
}

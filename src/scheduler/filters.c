#include "scheduler/filters.h"

#include <errno.h>
#include <string.h>

static bool reject(struct sched_status *st, enum sched_plugin plugin, enum sched_code code,
                   enum sched_reason_kind kind, const char *a, const char *b)
{
    st->code = code;
    st->plugin = plugin;
    st->n = 1;
    st->reasons[0] = (struct sched_reason){.kind = kind, .a = a, .b = b};
    return false;
}

int sched_reason_format(const struct sched_reason *r, struct kos_buf *b)
{
    switch (r->kind) {
    case SCHED_R_NODE_UNSCHEDULABLE:
        return kos_buf_append_str(b, "node(s) were unschedulable");
    case SCHED_R_NODE_NAME:
        return kos_buf_append_str(b, "node(s) didn't match the requested node name");
    case SCHED_R_TAINT:
        return kos_buf_printf(b, "node(s) had untolerated taint {%s: %s}", r->a, r->b);
    case SCHED_R_AFFINITY:
        return kos_buf_append_str(b, "node(s) didn't match Pod's node affinity/selector");
    case SCHED_R_TOO_MANY_PODS:
        return kos_buf_append_str(b, "Too many pods");
    case SCHED_R_CPU:
        return kos_buf_append_str(b, "Insufficient cpu");
    case SCHED_R_MEMORY:
        return kos_buf_append_str(b, "Insufficient memory");
    case SCHED_R_EPHEMERAL:
        return kos_buf_append_str(b, "Insufficient ephemeral-storage");
    case SCHED_R_SCALAR:
        return kos_buf_printf(b, "Insufficient %s", r->a);
    case SCHED_R_PREFILTER_AFFINITY:
        return kos_buf_append_str(b, "node(s) didn't satisfy plugin(s) [NodeAffinity]");
    case SCHED_R_AFFINITY_CONFLICT:
        return kos_buf_append_str(b, "pod affinity terms conflict");
    case SCHED_R_NO_VICTIMS:
        return kos_buf_append_str(b, "No preemption victims found for incoming pod");
    case SCHED_R_NOT_HELPFUL:
        return kos_buf_append_str(b, "Preemption is not helpful for scheduling");
    }
    return -EINVAL;
}

static bool streq0(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

bool sched_reason_equal(const struct sched_reason *x, const struct sched_reason *y)
{
    return x->kind == y->kind && streq0(x->a, y->a) && streq0(x->b, y->b);
}

bool sched_filter_node_unschedulable(const struct sched_pod *pod, const struct sched_node *node,
                                     struct sched_status *st)
{
    /* A pod that tolerates the unschedulable taint also tolerates spec.unschedulable. */
    if (!node->unschedulable || pod->tolerates_unschedulable)
        return true;
    return reject(st, SCHED_PLUGIN_NODE_UNSCHEDULABLE, SCHED_CODE_UNRESOLVABLE,
                  SCHED_R_NODE_UNSCHEDULABLE, NULL, NULL);
}

bool sched_filter_node_name(const struct sched_pod *pod, const struct sched_node *node,
                            struct sched_status *st)
{
    if (!pod->node_name || strcmp(pod->node_name, node->name) == 0)
        return true;
    return reject(st, SCHED_PLUGIN_NODE_NAME, SCHED_CODE_UNRESOLVABLE, SCHED_R_NODE_NAME, NULL,
                  NULL);
}

bool sched_filter_taint_toleration(const struct sched_pod *pod, const struct sched_node *node,
                                   struct sched_status *st)
{
    if (!node->has_hard_taints)
        return true;
    /* FindMatchingUntoleratedTaint: the first NoSchedule/NoExecute taint, in node order,
     * that no toleration tolerates. */
    for (size_t i = 0; i < node->n_taints; i++) {
        const struct sched_taint *t = &node->taints[i];
        if (t->effect != SCHED_EFFECT_NO_SCHEDULE && t->effect != SCHED_EFFECT_NO_EXECUTE)
            continue;
        if (!sched_tolerations_tolerate(pod->tolerations, pod->n_tolerations, t))
            return reject(st, SCHED_PLUGIN_TAINT_TOLERATION, SCHED_CODE_UNRESOLVABLE, SCHED_R_TAINT,
                          t->key, t->value);
    }
    return true;
}

bool sched_filter_node_affinity(const struct sched_pod *pod, const struct sched_node *node,
                                struct sched_status *st)
{
    const struct sched_node_affinity *a = &pod->affinity;
    if (!a->node_selector && !a->has_required)
        return true;
    if (sched_node_affinity_match(a, node->name, node->labels))
        return true;
    return reject(st, SCHED_PLUGIN_NODE_AFFINITY, SCHED_CODE_UNRESOLVABLE, SCHED_R_AFFINITY, NULL,
                  NULL);
}

static void insufficient(struct sched_status *st, enum sched_reason_kind kind, const char *a,
                         bool unresolvable)
{
    if (st->n < SCHED_MAX_REASONS)
        st->reasons[st->n++] = (struct sched_reason){.kind = kind, .a = a};
    if (unresolvable)
        st->code = SCHED_CODE_UNRESOLVABLE;
}

bool sched_filter_resources(const struct sched_pod_resources *preq,
                            const struct sched_resources *alloc, const struct sched_resources *used,
                            int64_t used_pods, struct sched_status *st)
{
    const struct sched_resources *req = &preq->req;
    st->n = 0;
    st->code = SCHED_CODE_UNSCHEDULABLE;
    st->plugin = SCHED_PLUGIN_NODE_RESOURCES_FIT;
    if (used_pods + 1 > alloc->pods)
        insufficient(st, SCHED_R_TOO_MANY_PODS, NULL, false);
    if (req->milli_cpu == 0 && req->memory == 0 && req->ephemeral_storage == 0 &&
        req->n_scalar == 0)
        return st->n == 0;
    /* Unresolvable: more than the whole node, so no preemption can make room. */
    if (req->milli_cpu > 0 && req->milli_cpu > alloc->milli_cpu - used->milli_cpu)
        insufficient(st, SCHED_R_CPU, NULL, req->milli_cpu > alloc->milli_cpu);
    if (req->memory > 0 && req->memory > alloc->memory - used->memory)
        insufficient(st, SCHED_R_MEMORY, NULL, req->memory > alloc->memory);
    if (req->ephemeral_storage > 0 &&
        req->ephemeral_storage > alloc->ephemeral_storage - used->ephemeral_storage)
        insufficient(st, SCHED_R_EPHEMERAL, NULL,
                     req->ephemeral_storage > alloc->ephemeral_storage);
    for (size_t i = 0; i < req->n_scalar; i++) {
        const struct sched_scalar *s = &req->scalar[i];
        if (s->value == 0)
            continue;
        int64_t a = sched_resources_scalar(alloc, s->name);
        if (s->value > a - sched_resources_scalar(used, s->name))
            insufficient(st, SCHED_R_SCALAR, s->name, s->value > a);
    }
    return st->n == 0;
}

bool sched_filter_node_static(const struct sched_pod *pod, const struct sched_node *node,
                              struct sched_status *st)
{
    return sched_filter_node_unschedulable(pod, node, st) &&
           sched_filter_node_name(pod, node, st) && sched_filter_taint_toleration(pod, node, st) &&
           sched_filter_node_affinity(pod, node, st);
}

int sched_nominated_usage(const struct sched_pod *pod, const struct sched_node *node,
                          struct sched_resources *ret)
{
    memset(ret, 0, sizeof(*ret));
    int n = 0;
    for (size_t i = 0; i < node->n_nominated; i++) {
        const struct sched_pod *np = node->nominated[i]->pod;
        if (np->priority < pod->priority || strcmp(np->uid, pod->uid) == 0)
            continue;
        int r = sched_resources_add(ret, &np->res.req);
        if (r < 0) {
            sched_resources_clear(ret);
            return r;
        }
        n++;
    }
    return n;
}

int sched_filter_node(const struct sched_pod *pod, const struct sched_node *node,
                      struct sched_status *st)
{
    if (!sched_filter_node_static(pod, node, st))
        return st->code;
    if (node->n_nominated == 0) {
        if (sched_filter_resources(&pod->res, &node->allocatable, &node->requested,
                                   (int64_t)node->n_pods, st))
            return SCHED_CODE_SUCCESS;
        return st->code;
    }
    /* With nominated pods added first; without them the node can only fit better, and the
     * filters here do not otherwise depend on other pods, so one pass decides. */
    struct sched_resources used;
    int n = sched_nominated_usage(pod, node, &used);
    if (n < 0)
        return n;
    int r = sched_resources_add(&used, &node->requested);
    if (r < 0) {
        sched_resources_clear(&used);
        return r;
    }
    bool ok =
        sched_filter_resources(&pod->res, &node->allocatable, &used, (int64_t)node->n_pods + n, st);
    sched_resources_clear(&used);
    return ok ? SCHED_CODE_SUCCESS : (int)st->code;
}

/* The kubelet's orderedBy(cmp...) sorts as qsort comparators. Every comparator returns < 0
 * when a goes before b (is evicted first). */
#include "agent/eviction/rank.h"

#include <stdlib.h>

typedef int (*cmp_fn)(const struct evict_candidate *a, const struct evict_candidate *b);

/* cmpBool: true first */
static int cmp_bool(bool a, bool b)
{
    return a == b ? 0 : a ? -1 : 1;
}

static int cmp_i64_desc(int64_t a, int64_t b)
{
    return a == b ? 0 : a > b ? -1 : 1;
}

/* A pod without stats goes first in every stats comparator. */
static int no_stats(const struct evict_candidate *a, const struct evict_candidate *b)
{
    return cmp_bool(!a->has_stats, !b->has_stats);
}

static int priority(const struct evict_candidate *a, const struct evict_candidate *b)
{
    return a->priority == b->priority ? 0 : a->priority < b->priority ? -1 : 1;
}

static int exceed_memory_requests(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_bool(a->memory > a->memory_request, b->memory > b->memory_request);
}

static int memory(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->memory - a->memory_request, b->memory - b->memory_request);
}

static int process(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->processes, b->processes);
}

/* exceedDiskRequests for ephemeral-storage; for inodes the request is that of "inodes",
 * which no pod can have, so any use exceeds it */
static int exceed_disk(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_bool(a->disk > a->disk_request, b->disk > b->disk_request);
}

static int exceed_inodes(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_bool(a->inodes > 0, b->inodes > 0);
}

static int disk(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->disk - a->disk_request, b->disk - b->disk_request);
}

/* disk() with the inodes resource still subtracts the ephemeral-storage request (the
 * kubelet's code does exactly that) */
static int inodes(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->inodes - a->disk_request, b->inodes - b->disk_request);
}

/* qosComparator (pre-1.9): BestEffort, then Burstable, then Guaranteed */
static int qos(const struct evict_candidate *a, const struct evict_candidate *b)
{
    static const int order[] = {
        [AGENT_QOS_BEST_EFFORT] = 0, [AGENT_QOS_BURSTABLE] = 1, [AGENT_QOS_GUARANTEED] = 2};
    return order[a->qos] - order[b->qos];
}

/* pre-1.9 disk(): absolute usage, larger first */
static int disk_abs(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->disk, b->disk);
}

static int inodes_abs(const struct evict_candidate *a, const struct evict_candidate *b)
{
    if (!a->has_stats || !b->has_stats)
        return no_stats(a, b);
    return cmp_i64_desc(a->inodes, b->inodes);
}

/* qsort has no context argument: the chain of the current sort lives here (the manager
 * ranks from one thread; tests likewise) */
static __thread const cmp_fn *chain;

static int run_chain(const void *pa, const void *pb)
{
    const struct evict_candidate *a = pa, *b = pb;
    for (const cmp_fn *f = chain; *f; f++) {
        int r = (*f)(a, b);
        if (r)
            return r;
    }
    return a->index < b->index ? -1 : a->index > b->index;
}

void evict_rank(struct evict_candidate *c, size_t n, enum evict_resource res,
                enum evict_ranking ranking)
{
    static const cmp_fn mem_default[] = {exceed_memory_requests, priority, memory, NULL};
    static const cmp_fn pid_default[] = {priority, process, NULL};
    static const cmp_fn disk_default[] = {exceed_disk, priority, disk, NULL};
    static const cmp_fn inode_default[] = {exceed_inodes, priority, inodes, NULL};
    static const cmp_fn mem_legacy[] = {qos, memory, NULL};
    static const cmp_fn pid_legacy[] = {qos, process, NULL};
    static const cmp_fn disk_legacy[] = {qos, disk_abs, NULL};
    static const cmp_fn inode_legacy[] = {qos, inodes_abs, NULL};
    bool legacy = ranking == EVICT_RANK_LEGACY;
    switch (res) {
    case EVICT_RES_MEMORY:
        chain = legacy ? mem_legacy : mem_default;
        break;
    case EVICT_RES_PIDS:
        chain = legacy ? pid_legacy : pid_default;
        break;
    case EVICT_RES_INODES:
        chain = legacy ? inode_legacy : inode_default;
        break;
    default:
        chain = legacy ? disk_legacy : disk_default;
        break;
    }
    if (n > 1)
        qsort(c, n, sizeof(*c), run_chain);
    chain = NULL;
}

/* Eviction flags -> thresholds (helpers.go ParseThresholdConfig, addAllocatableThresholds). */
#include "agent/eviction/thresholds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define FLAG_MAX 4096

static const char *const signal_names[EVICT_SIG_COUNT] = {
    [EVICT_SIG_MEMORY] = "memory.available",
    [EVICT_SIG_ALLOCATABLE_MEMORY] = "allocatableMemory.available",
    [EVICT_SIG_NODEFS] = "nodefs.available",
    [EVICT_SIG_NODEFS_INODES] = "nodefs.inodesFree",
    [EVICT_SIG_IMAGEFS] = "imagefs.available",
    [EVICT_SIG_IMAGEFS_INODES] = "imagefs.inodesFree",
    [EVICT_SIG_CONTAINERFS] = "containerfs.available",
    [EVICT_SIG_CONTAINERFS_INODES] = "containerfs.inodesFree",
    [EVICT_SIG_PID] = "pid.available",
};

const char *evict_signal_name(enum evict_signal s)
{
    return s < EVICT_SIG_COUNT ? signal_names[s] : "";
}

int evict_signal_from_name(const char *name, enum evict_signal *ret)
{
    for (int i = 0; i < EVICT_SIG_COUNT; i++)
        if (name && !strcmp(signal_names[i], name)) {
            *ret = (enum evict_signal)i;
            return 0;
        }
    return -EINVAL;
}

enum evict_resource evict_signal_resource(enum evict_signal s)
{
    switch (s) {
    case EVICT_SIG_MEMORY:
    case EVICT_SIG_ALLOCATABLE_MEMORY:
        return EVICT_RES_MEMORY;
    case EVICT_SIG_NODEFS_INODES:
    case EVICT_SIG_IMAGEFS_INODES:
    case EVICT_SIG_CONTAINERFS_INODES:
        return EVICT_RES_INODES;
    case EVICT_SIG_PID:
        return EVICT_RES_PIDS;
    default:
        return EVICT_RES_EPHEMERAL_STORAGE;
    }
}

enum evict_condition evict_signal_condition(enum evict_signal s)
{
    switch (evict_signal_resource(s)) {
    case EVICT_RES_MEMORY:
        return EVICT_COND_MEMORY;
    case EVICT_RES_PIDS:
        return EVICT_COND_PID;
    default:
        return EVICT_COND_DISK;
    }
}

const char *evict_resource_name(enum evict_resource r)
{
    static const char *const names[] = {"memory", "ephemeral-storage", "inodes", "pids"};
    return (size_t)r < ARRAY_SIZE(names) ? names[r] : "";
}

/* parseGracePeriods: "memory.available=1m30s,nodefs.available=2m". */
static int parse_grace_periods(const char *value, int64_t grace[EVICT_SIG_COUNT],
                               bool found[EVICT_SIG_COUNT], struct kos_error **err)
{
    const char *flag = "--eviction-soft-grace-period";
    if (!value || !*value)
        return 0;
    _cleanup_(kos_kv_iter_done) struct kos_kv_iter it = {0};
    int r = kos_kv_iter_init(&it, value, '=', FLAG_MAX);
    if (r == -E2BIG)
        return kos_error_set(err, 400, "BadRequest", "%s: value too long", flag);
    if (r < 0)
        return r;
    char *kv, *v;
    while (kos_kv_iter_next(&it, &kv, &v)) {
        if (!v)
            return kos_error_set(err, 400, "BadRequest",
                                 "invalid argument \"%s\" for \"%s\" flag: malformed pair, "
                                 "expect string=string",
                                 value, flag);
        enum evict_signal s;
        if (!agent_eviction_signal_valid(kv) || evict_signal_from_name(kv, &s) < 0)
            return kos_error_set(err, 400, "BadRequest", "%s: unsupported eviction signal %s", flag,
                                 kv);
        int64_t ms;
        r = kos_parse_duration_ms(v, &ms);
        if (r < 0)
            return kos_error_set(err, 400, "BadRequest", "%s: time: invalid duration \"%s\"", flag,
                                 v);
        if (ms < 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "%s: invalid eviction grace period specified: %s, must be a "
                                 "positive value",
                                 flag, v);
        grace[s] = ms;
        found[s] = true;
    }
    return 0;
}

static int parse_period(const char *flag, const char *v, int64_t def, bool positive, int64_t *ret,
                        struct kos_error **err)
{
    if (!v) {
        *ret = def;
        return 0;
    }
    int64_t ms;
    if (kos_parse_duration_ms(v, &ms) < 0)
        return kos_error_set(err, 400, "BadRequest",
                             "invalid argument \"%s\" for \"%s\" flag: time: invalid duration "
                             "\"%s\"",
                             v, flag, v);
    if (ms < 0 || (positive && ms == 0))
        return kos_error_set(err, 400, "BadRequest", "%s: %s must be %s", flag, v,
                             positive ? "positive" : "non-negative");
    *ret = ms;
    return 0;
}

static int add(struct evict_config *c, const struct eviction_threshold *v, int64_t grace_ms,
               struct kos_error **err)
{
    enum evict_signal s;
    if (evict_signal_from_name(v->signal, &s) < 0)
        return kos_error_set(err, 400, "BadRequest", "unsupported eviction signal %s", v->signal);
    /* UpdateContainerFsThresholds: containerfs.* is derived, never taken from the user; on
     * one filesystem it is nodefs itself */
    if (s == EVICT_SIG_CONTAINERFS || s == EVICT_SIG_CONTAINERFS_INODES)
        return 0;
    if (c->n >= EVICT_MAX_THRESHOLDS)
        return kos_error_set(err, 400, "BadRequest", "too many eviction thresholds");
    c->t[c->n++] = (struct evict_threshold){.signal = s, .value = *v, .grace_ms = grace_ms};
    return 0;
}

int evict_config_parse(const struct evict_flags *f, struct evict_config *ret,
                       struct kos_error **err)
{
    _cleanup_free_ struct evict_config *c = calloc(1, sizeof(*c));
    _cleanup_free_ struct eviction_thresholds *hard = calloc(1, sizeof(*hard));
    _cleanup_free_ struct eviction_thresholds *soft = calloc(1, sizeof(*soft));
    _cleanup_free_ struct eviction_thresholds *reclaim = calloc(1, sizeof(*reclaim));
    if (!c || !hard || !soft || !reclaim)
        return -ENOMEM;
    int r;
    if ((r = agent_parse_eviction(
             "--eviction-hard", f->hard ? f->hard : AGENT_EVICTION_HARD_DEFAULT, hard, err)) < 0 ||
        (r = agent_parse_eviction("--eviction-soft", f->soft, soft, err)) < 0 ||
        (r = agent_parse_eviction_reclaim("--eviction-minimum-reclaim", f->min_reclaim, reclaim,
                                          err)) < 0)
        return r;
    int64_t grace[EVICT_SIG_COUNT] = {0};
    bool has_grace[EVICT_SIG_COUNT] = {0};
    if ((r = parse_grace_periods(f->soft_grace, grace, has_grace, err)) < 0)
        return r;

    for (size_t i = 0; i < hard->n; i++)
        if ((r = add(c, &hard->t[i], 0, err)) < 0)
            return r;
    for (size_t i = 0; i < soft->n; i++) {
        enum evict_signal s;
        if (evict_signal_from_name(soft->t[i].signal, &s) < 0 || !has_grace[s])
            return kos_error_set(err, 400, "BadRequest",
                                 "--eviction-soft: grace period must be specified for the soft "
                                 "eviction threshold %s",
                                 soft->t[i].signal);
        if ((r = add(c, &soft->t[i], grace[s], err)) < 0)
            return r;
    }
    for (size_t i = 0; i < c->n; i++) {
        const struct eviction_threshold *m =
            agent_eviction_find(reclaim, evict_signal_name(c->t[i].signal));
        if (m) {
            c->t[i].has_min_reclaim = true;
            c->t[i].min_reclaim = *m;
        }
    }
    /* addAllocatableThresholds: enforce-node-allocatable=pods copies each hard
     * memory.available threshold onto the kubepods cgroup */
    size_t n = c->n;
    for (size_t i = 0; i < n; i++) {
        if (c->t[i].signal != EVICT_SIG_MEMORY || c->t[i].grace_ms != 0)
            continue;
        if (c->n >= EVICT_MAX_THRESHOLDS)
            return kos_error_set(err, 400, "BadRequest", "too many eviction thresholds");
        struct evict_threshold t = c->t[i];
        t.signal = EVICT_SIG_ALLOCATABLE_MEMORY;
        kos_strlcpy(t.value.signal, evict_signal_name(t.signal), sizeof(t.value.signal));
        c->t[c->n++] = t;
    }

    if (f->max_pod_grace) {
        if (kos_parse_int64(f->max_pod_grace, &c->max_pod_grace_s) < 0 ||
            c->max_pod_grace_s > 1000000000 || c->max_pod_grace_s < -1000000000)
            return kos_error_set(err, 400, "BadRequest",
                                 "invalid argument \"%s\" for \"--eviction-max-pod-grace-period\" "
                                 "flag: strconv.ParseInt: parsing \"%s\": invalid syntax",
                                 f->max_pod_grace, f->max_pod_grace);
    }
    if ((r = parse_period("--eviction-pressure-transition-period", f->transition,
                          EVICT_TRANSITION_DEFAULT_MS, false, &c->transition_ms, err)) < 0 ||
        (r = parse_period("--housekeeping-interval", f->housekeeping, EVICT_HOUSEKEEPING_DEFAULT_MS,
                          true, &c->housekeeping_ms, err)) < 0)
        return r;
    if (!f->ranking || !strcmp(f->ranking, "default"))
        c->ranking = EVICT_RANK_DEFAULT;
    else if (!strcmp(f->ranking, "legacy"))
        c->ranking = EVICT_RANK_LEGACY;
    else
        return kos_error_set(err, 400, "BadRequest",
                             "--eviction-ranking: \"%s\" is not supported (legacy or default)",
                             f->ranking);
    *ret = *c;
    return 0;
}

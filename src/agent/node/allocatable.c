/* --kube-reserved / --system-reserved / --eviction-hard parsing and the allocatable
 * arithmetic (pkg/kubelet/cm/node_container_manager_linux.go, helpers.go
 * hardEvictionReservation, eviction/api ParseThresholdConfig). */
#include "agent/node/allocatable.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/quantity.h"
#include "util/cleanup.h"
#include "util/strutil.h"

/* Most bytes a flag value may hold (a command line is bounded anyway). */
#define FLAG_MAX 4096

static int parse_quantity(const char *s, struct kos_quantity *q)
{
    if (strlen(s) > KOS_QUANTITY_MAX_LEN)
        return -EINVAL;
    return kos_quantity_parse(s, q);
}

int agent_parse_reserved(const char *flag, const char *value, struct node_resources *ret,
                         struct kos_error **err)
{
    struct node_resources r = {0};
    _cleanup_(kos_kv_iter_done) struct kos_kv_iter it = {0};
    int rc = kos_kv_iter_init(&it, value, '=', FLAG_MAX);
    if (rc == -E2BIG)
        return kos_error_set(err, 400, "BadRequest", "%s: value too long", flag);
    if (rc < 0)
        return rc;
    char *k, *v;
    while (kos_kv_iter_next(&it, &k, &v)) {
        if (!v)
            return kos_error_set(err, 400, "BadRequest",
                                 "invalid argument \"%s\" for \"%s\" flag: missing value in %s",
                                 value, flag, k);
        int64_t *slot;
        bool milli = false;
        if (!strcmp(k, "cpu")) {
            slot = &r.milli_cpu;
            milli = true;
        } else if (!strcmp(k, "memory")) {
            slot = &r.memory;
        } else if (!strcmp(k, "ephemeral-storage")) {
            slot = &r.ephemeral_storage;
        } else if (!strcmp(k, "pid")) {
            slot = &r.pid;
        } else {
            return kos_error_set(err, 400, "BadRequest", "%s: cannot reserve \"%s\" resource", flag,
                                 k);
        }
        struct kos_quantity q;
        if (parse_quantity(v, &q) < 0)
            return kos_error_set(err, 400, "BadRequest",
                                 "%s: failed to parse quantity \"%s\" for \"%s\" resource: %s",
                                 flag, v, k, KOS_QUANTITY_ERR_MSG);
        if (q.negative && (q.milli != 0 || q.nano_short != 0))
            return kos_error_set(err, 400, "BadRequest",
                                 "%s: resource quantity for \"%s\" cannot be negative: %s", flag, k,
                                 v);
        *slot = milli ? kos_quantity_milli_value(&q) : kos_quantity_value(&q);
    }
    *ret = r;
    return 0;
}

bool agent_eviction_signal_valid(const char *s)
{
    static const char *const signals[] = {
        "memory.available",       "nodefs.available",
        "nodefs.inodesFree",      "imagefs.available",
        "imagefs.inodesFree",     "containerfs.available",
        "containerfs.inodesFree", "allocatableMemory.available",
        "pid.available",
    };
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
        if (!strcmp(signals[i], s))
            return true;
    return false;
}

/* ParseQuantity keeps the suffix's format and String() prints in it: "100Mi" stays binary,
 * "1G" or "500000000" decimal. */
static bool binary_suffix(const char *v)
{
    return kos_str_has_suffix(v, "i");
}

/* One parser for every "signal<value" / "signal=value" list of eviction flags:
 * parseThresholdStatement (reclaim false: 0% and 100% ignored, a quantity must be > 0) and
 * parseMinimumReclaims (reclaim true: a percentage must be > 0, a quantity >= 0). */
static int parse_signal_values(const char *flag, const char *value, char sep, bool reclaim,
                               struct eviction_thresholds *ret, struct kos_error **err)
{
    struct eviction_thresholds th = {0};
    _cleanup_(kos_kv_iter_done) struct kos_kv_iter it = {0};
    int r = kos_kv_iter_init(&it, value, sep, FLAG_MAX);
    if (r == -E2BIG)
        return kos_error_set(err, 400, "BadRequest", "%s: value too long", flag);
    if (r < 0)
        return r;
    char *sig, *v;
    while (kos_kv_iter_next(&it, &sig, &v)) {
        if (!v)
            return kos_error_set(err, 400, "BadRequest",
                                 "invalid argument \"%s\" for \"%s\" flag: malformed pair, "
                                 "expect string%cstring",
                                 value, flag, sep);
        if (!agent_eviction_signal_valid(sig))
            return kos_error_set(err, 400, "BadRequest", "%s: unsupported eviction signal %s", flag,
                                 sig);
        for (size_t i = 0; i < th.n; i++)
            if (!strcmp(th.t[i].signal, sig))
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: found duplicate eviction threshold for signal %s", flag,
                                     sig);
        struct eviction_threshold t = {0};
        kos_strlcpy(t.signal, sig, sizeof(t.signal));
        size_t vlen = strlen(v);
        if (vlen > 0 && v[vlen - 1] == '%') {
            if (!reclaim && (!strcmp(v, "0%") || !strcmp(v, "100%")))
                continue; /* the kubelet ignores both */
            char num[64];
            if (vlen - 1 == 0 || vlen - 1 >= sizeof(num))
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: invalid percentage %s for signal %s", flag, v, sig);
            memcpy(num, v, vlen - 1);
            num[vlen - 1] = '\0';
            char *end = NULL;
            errno = 0;
            double d = strtod(num, &end);
            if (errno || !end || *end || end == num || d != d)
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: invalid percentage %s for signal %s", flag, v, sig);
            float pct = (float)d / 100.0f;
            if (reclaim && pct <= 0)
                return kos_error_set(
                    err, 400, "BadRequest",
                    "%s: eviction percentage minimum reclaim %s must be positive: %s", flag, sig,
                    v);
            if (pct < 0)
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: eviction percentage threshold %s must be >= 0%%: %s",
                                     flag, sig, v);
            if (pct > 1)
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: eviction percentage threshold %s must be <= 100%%: %s",
                                     flag, sig, v);
            if (pct == 0)
                continue; /* "0.0%": no threshold */
            t.is_percent = true;
            t.percentage = pct;
        } else {
            struct kos_quantity q;
            if (parse_quantity(v, &q) < 0)
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: failed to parse quantity \"%s\" for signal %s: %s", flag,
                                     v, sig, KOS_QUANTITY_ERR_MSG);
            bool zero = q.milli == 0 && q.nano_short == 0 && !q.overflow;
            if (reclaim && q.negative && !zero)
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: negative eviction minimum reclaim specified for %s", flag,
                                     sig);
            if (!reclaim && (q.negative || zero))
                return kos_error_set(err, 400, "BadRequest",
                                     "%s: eviction threshold %s must be positive: %s", flag, sig,
                                     v);
            t.quantity = kos_quantity_value(&q);
            t.binary = binary_suffix(v);
        }
        if (th.n >= AGENT_MAX_THRESHOLDS)
            return kos_error_set(err, 400, "BadRequest", "%s: too many thresholds", flag);
        th.t[th.n++] = t;
    }
    *ret = th;
    return 0;
}

int agent_parse_eviction(const char *flag, const char *value, struct eviction_thresholds *ret,
                         struct kos_error **err)
{
    return parse_signal_values(flag, value, '<', false, ret, err);
}

int agent_parse_eviction_reclaim(const char *flag, const char *value,
                                 struct eviction_thresholds *ret, struct kos_error **err)
{
    return parse_signal_values(flag, value, '=', true, ret, err);
}

int64_t agent_threshold_quantity(const struct eviction_threshold *t, int64_t capacity)
{
    if (!t->is_percent)
        return t->quantity;
    return (int64_t)((double)capacity * (double)t->percentage);
}

const struct eviction_threshold *agent_eviction_find(const struct eviction_thresholds *th,
                                                     const char *signal)
{
    for (size_t i = 0; th && i < th->n; i++)
        if (!strcmp(th->t[i].signal, signal))
            return &th->t[i];
    return NULL;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

int agent_allocatable(const struct node_resources *cap, const struct node_resources *kube,
                      const struct node_resources *sys, const struct eviction_thresholds *hard,
                      struct node_resources *ret, struct kos_error **err)
{
    static const struct node_resources zero;
    if (!kube)
        kube = &zero;
    if (!sys)
        sys = &zero;
    struct node_resources resv = {
        .milli_cpu = sat_add(kube->milli_cpu, sys->milli_cpu),
        .memory = sat_add(kube->memory, sys->memory),
        .ephemeral_storage = sat_add(kube->ephemeral_storage, sys->ephemeral_storage),
        .pid = sat_add(kube->pid, sys->pid),
    };
    const struct eviction_threshold *t;
    if ((t = agent_eviction_find(hard, "memory.available")))
        resv.memory = sat_add(resv.memory, agent_threshold_quantity(t, cap->memory));
    if ((t = agent_eviction_find(hard, "nodefs.available")))
        resv.ephemeral_storage =
            sat_add(resv.ephemeral_storage, agent_threshold_quantity(t, cap->ephemeral_storage));

    /* validateNodeAllocatable: a reservation above capacity is a configuration error */
    char a[48], b[48];
    const char *bad = NULL;
    if (resv.milli_cpu > cap->milli_cpu) {
        bad = "cpu";
        agent_format_milli_cpu(resv.milli_cpu, a, sizeof(a));
        agent_format_milli_cpu(cap->milli_cpu, b, sizeof(b));
    } else if (resv.memory > cap->memory) {
        bad = "memory";
        agent_format_bytes(resv.memory, a, sizeof(a));
        agent_format_bytes(cap->memory, b, sizeof(b));
    } else if (resv.ephemeral_storage > cap->ephemeral_storage) {
        bad = "ephemeral-storage";
        agent_format_bytes(resv.ephemeral_storage, a, sizeof(a));
        agent_format_bytes(cap->ephemeral_storage, b, sizeof(b));
    }
    if (bad)
        return kos_error_set(err, 400, "BadRequest",
                             "invalid Node Allocatable configuration. Resource \"%s\" has a "
                             "reservation of %s but capacity of %s. Expected capacity >= "
                             "reservation.",
                             bad, a, b);
    struct node_resources out = {
        .milli_cpu = cap->milli_cpu - resv.milli_cpu,
        .memory = cap->memory - resv.memory,
        .ephemeral_storage = cap->ephemeral_storage - resv.ephemeral_storage,
        .pods = cap->pods,
        .pid = cap->pid > resv.pid ? cap->pid - resv.pid : 0,
    };
    *ret = out;
    return 0;
}

void agent_format_milli_cpu(int64_t milli, char *out, size_t size)
{
    if (milli % 1000 == 0)
        snprintf(out, size, "%" PRId64, milli / 1000);
    else
        snprintf(out, size, "%" PRId64 "m", milli);
}

void agent_format_bytes(int64_t bytes, char *out, size_t size)
{
    static const char *const suffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    size_t i = 0;
    int64_t v = bytes;
    while (v != 0 && i + 1 < ARRAY_SIZE(suffix) && v % 1024 == 0) {
        v /= 1024;
        i++;
    }
    snprintf(out, size, "%" PRId64 "%s", v, suffix[i]);
}

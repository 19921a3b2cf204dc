/* Probe worker state (see probe_state.h). */
#include "agent/prober/probe_state.h"

#include <string.h>

#include "util/strutil.h"

const char *kos_probe_type_name(enum kos_probe_type t)
{
    switch (t) {
    case KOS_PROBE_LIVENESS:
        return "Liveness";
    case KOS_PROBE_READINESS:
        return "Readiness";
    case KOS_PROBE_STARTUP:
        return "Startup";
    }
    return "Unknown";
}

const char *kos_probe_result_name(enum kos_probe_result r)
{
    switch (r) {
    case KOS_PROBE_RESULT_SUCCESS:
        return "Success";
    case KOS_PROBE_RESULT_FAILURE:
        return "Failure";
    case KOS_PROBE_RESULT_UNKNOWN:
        break;
    }
    return "UNKNOWN";
}

enum kos_probe_result kos_probe_initial_result(enum kos_probe_type t)
{
    switch (t) {
    case KOS_PROBE_LIVENESS:
        return KOS_PROBE_RESULT_SUCCESS; /* alive until shown otherwise */
    case KOS_PROBE_READINESS:
        return KOS_PROBE_RESULT_FAILURE; /* not ready before the first success */
    case KOS_PROBE_STARTUP:
        break;
    }
    return KOS_PROBE_RESULT_UNKNOWN;
}

static bool set_result(struct kos_probe_state *st, enum kos_probe_result r)
{
    bool changed = !st->has_result || st->result != r;
    st->has_result = true;
    st->result = r;
    return changed;
}

enum kos_probe_action kos_probe_state_tick(struct kos_probe_state *st, enum kos_probe_type t,
                                           const struct kos_probe_container_info *c,
                                           int64_t initial_delay_s, int64_t now_ms, bool *changed)
{
    *changed = false;
    if (!c->container_id || !c->container_id[0])
        return KOS_PROBE_WAIT; /* not created yet */
    if (strcmp(st->container_id, c->container_id) != 0) {
        kos_strlcpy(st->container_id, c->container_id, sizeof(st->container_id));
        st->has_result = false;
        *changed = set_result(st, kos_probe_initial_result(t));
        st->on_hold = false; /* a new container: probe it again */
    }
    if (st->on_hold)
        return KOS_PROBE_WAIT;
    if (!c->running) {
        if (set_result(st, KOS_PROBE_RESULT_FAILURE))
            *changed = true;
        /* a container that will not come back needs no more probing */
        return c->terminated && c->restart_never ? KOS_PROBE_STOP : KOS_PROBE_WAIT;
    }
    if (c->deleting && (t == KOS_PROBE_LIVENESS || t == KOS_PROBE_STARTUP)) {
        /* graceful shutdown: no restarts for a container that is being stopped anyway */
        if (set_result(st, KOS_PROBE_RESULT_SUCCESS))
            *changed = true;
        return KOS_PROBE_STOP;
    }
    /* the kubelet compares whole seconds since the start */
    if ((now_ms - c->started_at_ms) / 1000 < initial_delay_s)
        return KOS_PROBE_WAIT_DELAY;
    if (c->started ? t == KOS_PROBE_STARTUP : t != KOS_PROBE_STARTUP)
        return KOS_PROBE_WAIT; /* startup is done; or the others wait for it */
    return KOS_PROBE_RUN;
}

bool kos_probe_state_observe(struct kos_probe_state *st, enum kos_probe_type t,
                             enum kos_probe_result outcome, int64_t success_threshold,
                             int64_t failure_threshold)
{
    if (st->last == outcome && st->run > 0) {
        st->run++;
    } else {
        st->last = outcome;
        st->run = 1;
    }
    if ((outcome == KOS_PROBE_RESULT_FAILURE && st->run < failure_threshold) ||
        (outcome == KOS_PROBE_RESULT_SUCCESS && st->run < success_threshold))
        return false; /* below the threshold: the cached result stays */
    bool changed = set_result(st, outcome);
    if ((t == KOS_PROBE_LIVENESS || t == KOS_PROBE_STARTUP) &&
        outcome == KOS_PROBE_RESULT_FAILURE) {
        /* the container will be restarted; nothing to probe until the new one runs */
        st->on_hold = true;
        st->run = 0;
    }
    return changed;
}

bool kos_probe_state_get(const struct kos_probe_state *st, const char *container_id,
                         enum kos_probe_result *ret)
{
    if (!st->has_result || !container_id || strcmp(st->container_id, container_id) != 0)
        return false;
    *ret = st->result;
    return true;
}

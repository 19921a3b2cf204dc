/* synchronize()'s threshold and condition bookkeeping. */
#include "agent/eviction/decide.h"

#include <string.h>

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

bool evict_threshold_met(const struct evict_threshold *t, const struct evict_observation *o,
                         bool enforce_min_reclaim)
{
    if (!o || !o->present)
        return false; /* "no observation found for eviction signal" */
    int64_t q = agent_threshold_quantity(&t->value, o->capacity);
    if (enforce_min_reclaim && t->has_min_reclaim)
        q = sat_add(q, agent_threshold_quantity(&t->min_reclaim, o->capacity));
    return q > o->available;
}

static int cond_index(enum evict_condition c)
{
    return c == EVICT_COND_MEMORY ? 0 : c == EVICT_COND_DISK ? 1 : 2;
}

int evict_decide(struct evict_state *st, const struct evict_config *c,
                 const struct evict_observations *obs, int64_t now_ms)
{
    bool met[EVICT_MAX_THRESHOLDS] = {0};
    for (size_t i = 0; i < c->n; i++) {
        const struct evict_observation *o = &obs->o[c->t[i].signal];
        /* met now, or met last round and not yet recovered past threshold + min reclaim */
        met[i] = evict_threshold_met(&c->t[i], o, false) ||
                 (st->met[i] && evict_threshold_met(&c->t[i], o, true));
    }
    /* thresholdsFirstObservedAt: the first time each still-met threshold was seen */
    for (size_t i = 0; i < c->n; i++) {
        if (met[i] && !st->seen[i]) {
            st->seen[i] = true;
            st->first_seen_ms[i] = now_ms;
        } else if (!met[i]) {
            st->seen[i] = false;
        }
    }
    /* conditions on at once, off a transition period after they were last seen */
    for (size_t i = 0; i < c->n; i++) {
        if (!met[i])
            continue;
        int k = cond_index(evict_signal_condition(c->t[i].signal));
        st->cond_seen[k] = true;
        st->cond_last_ms[k] = now_ms;
    }
    static const enum evict_condition conds[] = {EVICT_COND_MEMORY, EVICT_COND_DISK,
                                                 EVICT_COND_PID};
    st->conditions = 0;
    for (int k = 0; k < 3; k++)
        if (st->cond_seen[k] && now_ms - st->cond_last_ms[k] < c->transition_ms)
            st->conditions |= conds[k];
    /* thresholdsMetGracePeriod */
    int pick = -1;
    for (size_t i = 0; i < c->n; i++) {
        st->met[i] = met[i] && now_ms - st->first_seen_ms[i] >= c->t[i].grace_ms;
        if (!st->met[i])
            continue;
        bool mem = evict_signal_resource(c->t[i].signal) == EVICT_RES_MEMORY;
        if (pick < 0 || (mem && evict_signal_resource(c->t[pick].signal) != EVICT_RES_MEMORY))
            pick = (int)i;
    }
    return pick;
}

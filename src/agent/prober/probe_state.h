/* The state of one probe worker (one probe of one container of one pod), as the kubelet's
 * prober worker keeps it (pkg/kubelet/prober/worker.go): the cached result for the current
 * container, the run of equal results that the thresholds count, and the hold after a failed
 * liveness or startup probe. Pure: no I/O, unit tested. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum kos_probe_type {
    KOS_PROBE_LIVENESS,
    KOS_PROBE_READINESS,
    KOS_PROBE_STARTUP,
};

/* results.Result: what the status and the restart decision read */
enum kos_probe_result {
    KOS_PROBE_RESULT_UNKNOWN,
    KOS_PROBE_RESULT_SUCCESS,
    KOS_PROBE_RESULT_FAILURE,
};

#define KOS_PROBE_CONTAINER_ID_MAX 600

struct kos_probe_state {
    char container_id[KOS_PROBE_CONTAINER_ID_MAX]; /* "" before the first container */
    bool has_result;                               /* result holds for container_id */
    enum kos_probe_result result;
    enum kos_probe_result last; /* the last probe's outcome */
    int run;                    /* how many probes in a row gave `last` */
    bool on_hold;               /* liveness/startup failed: no probing until a new container */
};

/* What the worker knows about its container at a tick. */
struct kos_probe_container_info {
    const char *container_id; /* "" or NULL: not created yet */
    bool running;
    bool terminated;
    int64_t started_at_ms; /* wall clock, of the running attempt */
    bool started;          /* containerStatuses[].started (the startup probe passed) */
    bool restart_never;    /* spec.restartPolicy Never */
    bool deleting;         /* metadata.deletionTimestamp set */
};

enum kos_probe_action {
    KOS_PROBE_WAIT,       /* nothing to do at this tick */
    KOS_PROBE_WAIT_DELAY, /* initialDelaySeconds not over yet */
    KOS_PROBE_RUN,        /* run the probe now */
    KOS_PROBE_STOP,       /* the worker has nothing left to do (until a new container) */
};

const char *kos_probe_type_name(enum kos_probe_type t);     /* "Liveness", "Readiness", "Startup" */
const char *kos_probe_result_name(enum kos_probe_result r); /* "Success" ... */

/* The result a new container starts with: liveness Success, readiness Failure, startup
 * Unknown. */
enum kos_probe_result kos_probe_initial_result(enum kos_probe_type t);

/* Sees the container at a tick (worker.doProbe up to the probe itself): a new container id
 * resets the cached result to the initial one and lifts the hold; a container that is not
 * running fails; a pod being deleted passes its liveness and startup probes. Returns what to
 * do; *changed tells whether the cached result changed. */
enum kos_probe_action kos_probe_state_tick(struct kos_probe_state *st, enum kos_probe_type t,
                                           const struct kos_probe_container_info *c,
                                           int64_t initial_delay_s, int64_t now_ms, bool *changed);

/* Counts one probe's outcome against the thresholds (worker.doProbe after the probe). Returns
 * true when the cached result changed. A failed liveness or startup probe that reaches its
 * threshold puts the worker on hold until a new container appears. */
bool kos_probe_state_observe(struct kos_probe_state *st, enum kos_probe_type t,
                             enum kos_probe_result outcome, int64_t success_threshold,
                             int64_t failure_threshold);

/* The cached result for container_id; false when there is none for it. */
bool kos_probe_state_get(const struct kos_probe_state *st, const char *container_id,
                         enum kos_probe_result *ret);

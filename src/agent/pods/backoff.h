/* The kubelet's CrashLoopBackOff (util/flowcontrol.Backoff with 10 s initial and 300 s max):
 * a restart after an exit waits 10 s, then 20 s, 40 s ... up to 5 min; an exit more than
 * twice the maximum (10 min) after the previous one starts again at 10 s. Times in ms. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KOS_CRASH_BACKOFF_INITIAL_MS 10000
#define KOS_CRASH_BACKOFF_MAX_MS     300000

struct kos_crash_backoff {
    int64_t backoff_ms;     /* 0: no entry */
    int64_t last_update_ms; /* the event time of the last Next */
};

/* flowcontrol.Backoff.IsInBackOffSince(key, event): still waiting at now? */
bool kos_crash_backoff_in_backoff(const struct kos_crash_backoff *b, int64_t event_ms,
                                  int64_t now_ms);
/* flowcontrol.Backoff.Next(key, event). */
void kos_crash_backoff_next(struct kos_crash_backoff *b, int64_t event_ms);
/* How long until the backoff since event_ms ends (0 when not backing off). */
int64_t kos_crash_backoff_remaining(const struct kos_crash_backoff *b, int64_t event_ms,
                                    int64_t now_ms);
/* Go's time.Duration.String() for whole seconds: "10s", "1m20s", "5m0s". */
void kos_go_duration(int64_t ms, char *out, size_t size);

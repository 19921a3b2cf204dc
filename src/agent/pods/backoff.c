/* CrashLoopBackOff as pkg/util/flowcontrol/backoff.go computes it (see backoff.h). */
#include "agent/pods/backoff.h"

#include <stdio.h>

static bool has_expired(int64_t event_ms, int64_t last_update_ms)
{
    /* "consider stable if it's ok for twice the maxDuration" */
    return event_ms - last_update_ms > 2 * (int64_t)KOS_CRASH_BACKOFF_MAX_MS;
}

bool kos_crash_backoff_in_backoff(const struct kos_crash_backoff *b, int64_t event_ms,
                                  int64_t now_ms)
{
    if (b->backoff_ms == 0 || has_expired(event_ms, b->last_update_ms))
        return false;
    return now_ms - event_ms < b->backoff_ms;
}

void kos_crash_backoff_next(struct kos_crash_backoff *b, int64_t event_ms)
{
    if (b->backoff_ms == 0 || has_expired(event_ms, b->last_update_ms)) {
        b->backoff_ms = KOS_CRASH_BACKOFF_INITIAL_MS;
    } else {
        b->backoff_ms *= 2;
        if (b->backoff_ms > KOS_CRASH_BACKOFF_MAX_MS)
            b->backoff_ms = KOS_CRASH_BACKOFF_MAX_MS;
    }
    b->last_update_ms = event_ms;
}

int64_t kos_crash_backoff_remaining(const struct kos_crash_backoff *b, int64_t event_ms,
                                    int64_t now_ms)
{
    if (!kos_crash_backoff_in_backoff(b, event_ms, now_ms))
        return 0;
    return event_ms + b->backoff_ms - now_ms;
}

void kos_go_duration(int64_t ms, char *out, size_t size)
{
    int64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(out, size, "%lldh%lldm%llds", (long long)(s / 3600), (long long)(s % 3600 / 60),
                 (long long)(s % 60));
    else if (s >= 60)
        snprintf(out, size, "%lldm%llds", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, size, "%llds", (long long)s);
}

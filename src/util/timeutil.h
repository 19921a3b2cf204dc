/* Wall-clock and monotonic time, and RFC 3339 formatting as Kubernetes writes it. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "2025-01-01T00:00:00Z" into out (at least 21 bytes). */
void kos_time_rfc3339(time_t t, char *out, size_t size);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (fraction and numeric offsets accepted). */
int kos_time_parse_rfc3339(const char *s, time_t *ret);
int64_t kos_now_ms_monotonic(void);
int64_t kos_now_us_monotonic(void);
/* now + ms on clock: the absolute deadline pthread_cond_timedwait takes (CLOCK_MONOTONIC for a
 * condition variable set to it, CLOCK_REALTIME for one with the default clock). */
struct timespec kos_deadline_after_ms(clockid_t clock, int64_t ms);
/* Go's time.ParseDuration, in milliseconds: "10s", "1m30s", "1.5h", "500ms", "-5m", "0";
 * units ns, us (µs), ms, s, m, h; sub-millisecond remainders are truncated. -EINVAL on bad
 * text, -ERANGE past ±100 years. */
int kos_parse_duration_ms(const char *s, int64_t *ret);

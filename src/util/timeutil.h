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

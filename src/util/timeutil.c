#include "util/timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void kos_time_rfc3339(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int kos_time_parse_rfc3339(const char *s, time_t *ret)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return -EINVAL;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int hh = (p[1] - '0') * 10 + (p[2] - '0');
        int mm = (p[4] - '0') * 10 + (p[5] - '0');
        offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p)
        return -EINVAL;
    *ret = timegm(&tm) - offset;
    return 0;
}

struct timespec kos_deadline_after_ms(clockid_t clock, int64_t ms)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

int64_t kos_now_ms_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kos_now_us_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int kos_parse_duration_ms(const char *s, int64_t *ret)
{
    static const struct {
        const char *name;
        double ms;
    } units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
                 {"ms", 1},    {"s", 1e3},   {"m", 6e4},          {"h", 3.6e6}};
    const double limit = 100.0 * 366 * 24 * 3600 * 1000;
    if (!s || !*s)
        return -EINVAL;
    const char *p = s;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (!strcmp(p, "0")) {
        *ret = 0;
        return 0;
    }
    if (!*p)
        return -EINVAL;
    double total = 0;
    while (*p) {
        /* digits with an optional fraction; no exponent, sign or hex as strtod would take */
        const char *num = p;
        while (*p >= '0' && *p <= '9')
            p++;
        bool int_digits = p > num;
        bool frac_digits = false;
        if (*p == '.') {
            p++;
            const char *f = p;
            while (*p >= '0' && *p <= '9')
                p++;
            frac_digits = p > f;
        }
        if (!int_digits && !frac_digits)
            return -EINVAL;
        char tmp[64];
        if ((size_t)(p - num) >= sizeof(tmp))
            return -ERANGE;
        memcpy(tmp, num, (size_t)(p - num));
        tmp[p - num] = '\0';
        double v = strtod(tmp, NULL);
        size_t i;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].name);
            /* "m" must not take the "m" of "ms" */
            if (!strncmp(p, units[i].name, n) && !(n == 1 && p[0] == 'm' && p[1] == 's'))
                break;
        }
        if (i == sizeof(units) / sizeof(units[0]))
            return -EINVAL; /* Go: missing unit */
        p += strlen(units[i].name);
        total += v * units[i].ms;
        if (total > limit)
            return -ERANGE;
    }
    *ret = (int64_t)(neg ? -total : total);
    return 0;
}

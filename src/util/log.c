#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum kos_log_level current_level = KOS_LOG_INFO;

void kos_log_set_level(enum kos_log_level level)
{
    current_level = level;
}

void kos_log(enum kos_log_level level, const char *component, const char *fmt, ...)
{
    static const char *const names[] = {"E", "W", "I", "D"};
    if (level > current_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%s%02d%02d %02d:%02d:%02d.%03ld %s: %s\n", names[level], tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, component, line);
}

/* Process logging for main programs, handlers and controllers (library code returns errors
 * instead). Lines go to stderr as "<level> <component>: message". */
#pragma once

enum kos_log_level { KOS_LOG_ERROR, KOS_LOG_WARN, KOS_LOG_INFO, KOS_LOG_DEBUG };

void kos_log_set_level(enum kos_log_level level);
void kos_log(enum kos_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(c, ...) kos_log(KOS_LOG_ERROR, c, __VA_ARGS__)
#define log_warn(c, ...)  kos_log(KOS_LOG_WARN, c, __VA_ARGS__)
#define log_info(c, ...)  kos_log(KOS_LOG_INFO, c, __VA_ARGS__)
#define log_debug(c, ...) kos_log(KOS_LOG_DEBUG, c, __VA_ARGS__)

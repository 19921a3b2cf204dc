/* util/timeutil's deadline for pthread_cond_timedwait: now + ms on the clock asked for, with
 * tv_nsec normalised. Bounded by clock readings taken around the call, so load cannot fail
 * it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "util/timeutil.h"

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static void check(clockid_t clock, int64_t ms)
{
    struct timespec before, after;
    clock_gettime(clock, &before);
    struct timespec d = kos_deadline_after_ms(clock, ms);
    clock_gettime(clock, &after);
    assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
    assert_true(ns_of(&d) >= ns_of(&before) + ms * 1000000LL);
    assert_true(ns_of(&d) <= ns_of(&after) + ms * 1000000LL);
}

static void test_deadline(void **state)
{
    static const int64_t ms[] = {0, 1, 999, 1000, 1500, 30000, 86400000};
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        check(CLOCK_MONOTONIC, ms[i]);
        check(CLOCK_REALTIME, ms[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

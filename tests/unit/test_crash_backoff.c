/* Unit tests for src/agent/pods/backoff.c: the kubelet's CrashLoopBackOff sequence, its cap
 * and its reset after ten stable minutes (flowcontrol/backoff_test.go's cases). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agent/pods/backoff.h"

static void test_sequence_and_cap(void **state)
{
    struct kos_crash_backoff b = {0};
    int64_t t = 1000000;
    assert_false(kos_crash_backoff_in_backoff(&b, t, t)); /* no entry: restart at once */
    const int64_t want[] = {10000, 20000, 40000, 80000, 160000, 300000, 300000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        kos_crash_backoff_next(&b, t);
        assert_int_equal(b.backoff_ms, want[i]);
        assert_true(kos_crash_backoff_in_backoff(&b, t, t + want[i] - 1));
        assert_false(kos_crash_backoff_in_backoff(&b, t, t + want[i]));
        assert_int_equal(kos_crash_backoff_remaining(&b, t, t + 1000), want[i] - 1000);
        t += want[i] + 1000; /* the next exit comes right after the restart */
    }
}

static void test_reset_after_stable_run(void **state)
{
    struct kos_crash_backoff b = {0};
    int64_t t = 0;
    kos_crash_backoff_next(&b, t);
    kos_crash_backoff_next(&b, t + 20000);
    assert_int_equal(b.backoff_ms, 20000);
    /* the next exit exactly 10 min later still doubles; later than that resets */
    kos_crash_backoff_next(&b, t + 20000 + 600000);
    assert_int_equal(b.backoff_ms, 40000);
    int64_t last = t + 20000 + 600000;
    assert_false(kos_crash_backoff_in_backoff(&b, last + 600001, last + 600001));
    kos_crash_backoff_next(&b, last + 600001);
    assert_int_equal(b.backoff_ms, 10000);
}

static void test_go_duration(void **state)
{
    char s[32];
    kos_go_duration(10000, s, sizeof(s));
    assert_string_equal(s, "10s");
    kos_go_duration(80000, s, sizeof(s));
    assert_string_equal(s, "1m20s");
    kos_go_duration(300000, s, sizeof(s));
    assert_string_equal(s, "5m0s");
    kos_go_duration(3600000 + 61000, s, sizeof(s));
    assert_string_equal(s, "1h1m1s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequence_and_cap),
        cmocka_unit_test(test_reset_after_stable_run),
        cmocka_unit_test(test_go_duration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

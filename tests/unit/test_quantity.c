/* Unit tests for src/api/quantity.c: kube's ParseQuantity cases (quantity_test.go) and the
 * rounding, comparison and saturation rules. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/quantity.h"

static struct kos_quantity parse_ok(const char *s)
{
    struct kos_quantity q;
    int r = kos_quantity_parse(s, &q);
    if (r != 0)
        print_error("unexpected parse failure for \"%s\"\n", s);
    assert_int_equal(r, 0);
    return q;
}

static void check_milli(const char *s, int64_t milli)
{
    struct kos_quantity q = parse_ok(s);
    if (q.milli != milli || q.overflow)
        print_error("%s: milli %lld, want %lld\n", s, (long long)q.milli, (long long)milli);
    assert_false(q.overflow);
    assert_int_equal(q.milli, milli);
}

static void test_suffixes(void **state)
{
    check_milli("0", 0);
    check_milli("0Ki", 0);
    check_milli("-0", 0);
    check_milli("1", 1000);
    check_milli("1Ki", 1024000);
    check_milli("8Ki", 8 * 1024000);
    check_milli("7Mi", 7LL * 1024 * 1024 * 1000);
    check_milli("6Gi", 6LL * 1024 * 1024 * 1024 * 1000);
    check_milli("5Ti", 5LL * 1024 * 1024 * 1024 * 1024 * 1000);
    check_milli("4Pi", 4LL * 1024 * 1024 * 1024 * 1024 * 1024 * 1000);
    check_milli("5n", 1);
    check_milli("4u", 1);
    check_milli("3m", 3);
    check_milli("8k", 8000000);
    check_milli("7M", 7000000000LL);
    check_milli("6G", 6000000000000LL);
    check_milli("5T", 5000000000000000LL);
    check_milli("2P", 2000000000000000000LL);
    check_milli("1e3", 1000000);
    check_milli("1E3", 1000000);
    check_milli("1E-3", 1);
    check_milli("1.3E+6", 1300000000);
    check_milli("0.5e-1", 50);
    check_milli("100.035k", 100035000);
    check_milli("10.035M", 10035000000LL);
    check_milli(".001", 1);
    check_milli("1.", 1000);
    check_milli("1.G", 1000000000000LL);
    check_milli("+1", 1000);
    check_milli("-1", -1000);
    check_milli("-1.5", -1500);
    check_milli("0.5Mi", 524288000);
    check_milli("100.035Ki", 102435840);
    check_milli("0e2147483647", 0);
    check_milli("1e-2147483647", 1); /* a positive fraction of a nano rounds up */
    check_milli("0000000000000000000000000000000000000000000001", 1000);
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        ".",
        "-",
        "+",
        "Mi",
        "1.2.3",
        "1.1.M",
        "1+1.0M",
        "0.1mi",
        "0.1am",
        "aoeu",
        ".5i",
        "1i",
        "-3.01i",
        "-3.01e-",
        " 1",
        "1 ",
        "1 Mi",
        "1Kb",
        "1K",
        "1e",
        "1e+",
        "1Ee3",
        "1k3",
        "1-3",
        "1e1.5",
        "--1",
        "1e4294967297",
        "1E2147483648",
        "1E-2147483648",
        "1mm",
        "1KiB",
        "1\n",
        "0x10",
    };
    struct kos_quantity q = {.milli = 42};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = kos_quantity_parse(bad[i], &q);
        if (r != -EINVAL)
            print_error("\"%s\" parsed unexpectedly\n", bad[i]);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(q.milli, 42); /* out-param untouched on failure */
    }
    assert_int_equal(kos_quantity_parse(NULL, &q), -EINVAL);

    char longs[KOS_QUANTITY_MAX_LEN + 2];
    memset(longs, '1', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    assert_int_equal(kos_quantity_parse(longs, &q), -EINVAL);
    longs[KOS_QUANTITY_MAX_LEN] = '\0'; /* exactly the limit: accepted, saturates */
    assert_int_equal(kos_quantity_parse(longs, &q), 0);
    assert_true(q.overflow);
}

static void test_value_rounding(void **state)
{
    struct kos_quantity q = parse_ok("0.1m");
    assert_int_equal(kos_quantity_milli_value(&q), 1);
    assert_int_equal(kos_quantity_value(&q), 1);
    q = parse_ok("1.0001");
    assert_int_equal(kos_quantity_milli_value(&q), 1001);
    assert_int_equal(kos_quantity_value(&q), 2);
    q = parse_ok("1000m");
    assert_int_equal(kos_quantity_value(&q), 1);
    q = parse_ok("1001m");
    assert_int_equal(kos_quantity_value(&q), 2);
    q = parse_ok("-1.5");
    assert_int_equal(kos_quantity_value(&q), -2); /* away from zero, like inf.RoundUp */
    assert_int_equal(kos_quantity_milli_value(&q), -1500);
    q = parse_ok("-0.1m");
    assert_int_equal(kos_quantity_milli_value(&q), -1);
    assert_true(q.negative);
    q = parse_ok("3.001n");
    assert_int_equal(kos_quantity_milli_value(&q), 1);
    q = parse_ok("0.000000000001Ki"); /* 1.024e-9 -> 2n */
    assert_int_equal(q.milli, 1);
    assert_int_equal(q.nano_short, 999998);
    q = parse_ok("128974848");
    assert_int_equal(kos_quantity_value(&q), 128974848);
    q = parse_ok("129e6");
    assert_int_equal(kos_quantity_value(&q), 129000000);
    q = parse_ok("123Mi");
    assert_int_equal(kos_quantity_value(&q), 128974848);
    q = parse_ok("1Pi");
    assert_false(q.overflow);
    assert_int_equal(kos_quantity_value(&q), 1125899906842624LL);
    /* Beyond INT64_MAX milli-units: milli saturates, Value() stays exact. */
    q = parse_ok("1Ei");
    assert_true(q.overflow);
    assert_int_equal(kos_quantity_milli_value(&q), INT64_MAX);
    assert_int_equal(kos_quantity_value(&q), 1152921504606846976LL);
    q = parse_ok("-1.5Ei");
    assert_true(q.overflow);
    assert_int_equal(kos_quantity_milli_value(&q), INT64_MIN);
    assert_int_equal(kos_quantity_value(&q), -1729382256910270464LL);
}

static void test_overflow(void **state)
{
    struct kos_quantity q = parse_ok("9Ei");
    assert_true(q.overflow);
    assert_int_equal(kos_quantity_value(&q), INT64_MAX);
    assert_int_equal(kos_quantity_milli_value(&q), INT64_MAX);
    q = parse_ok("-9Ei");
    assert_true(q.overflow);
    assert_true(q.negative);
    assert_int_equal(kos_quantity_value(&q), INT64_MIN);
    q = parse_ok("1e2147483647");
    assert_true(q.overflow);
    q = parse_ok("9223372036854775807Ki");
    assert_true(q.overflow);
    /* The largest exact value: INT64_MAX milli-units. */
    q = parse_ok("9223372036854775807m");
    assert_false(q.overflow);
    assert_int_equal(q.milli, INT64_MAX);
    assert_int_equal(kos_quantity_value(&q), 9223372036854776LL);
    q = parse_ok("9223372036854775808m");
    assert_true(q.overflow);
    q = parse_ok("9223372036854775.807");
    assert_false(q.overflow);
    assert_int_equal(q.milli, INT64_MAX);
    /* 12E = 1.2e19 units: beyond int64 milli-units */
    q = parse_ok("12E");
    assert_true(q.overflow);
    assert_int_equal(kos_quantity_value(&q), INT64_MAX);
    q = parse_ok("9223372036854775807");
    assert_true(q.overflow);
    assert_int_equal(kos_quantity_value(&q), INT64_MAX);
    q = parse_ok("9223372036854775806.5");
    assert_int_equal(kos_quantity_value(&q), INT64_MAX);
    q = parse_ok("9223372036854775807.5"); /* rounds past INT64_MAX: saturates */
    assert_int_equal(kos_quantity_value(&q), INT64_MAX);
}

static int cmp(const char *a, const char *b)
{
    struct kos_quantity qa = parse_ok(a), qb = parse_ok(b);
    int r = kos_quantity_cmp(&qa, &qb);
    assert_int_equal(kos_quantity_cmp(&qb, &qa), -r);
    return r;
}

static void test_cmp(void **state)
{
    assert_int_equal(cmp("0", "0"), 0);
    assert_int_equal(cmp("0", "-0"), 0);
    assert_int_equal(cmp("100m", "50m"), 1);
    assert_int_equal(cmp("50m", "100m"), -1);
    assert_int_equal(cmp("10000T", "100Gi"), 1);
    assert_int_equal(cmp("1Gi", "1024Mi"), 0);
    assert_int_equal(cmp("1G", "1000M"), 0);
    assert_int_equal(cmp("1", "1000m"), 0);
    assert_int_equal(cmp("1e3", "1k"), 0);
    assert_int_equal(cmp("1.0001", "1.0002"), -1); /* exact below a milli */
    assert_int_equal(cmp("-1.0001", "-1.0002"), 1);
    assert_int_equal(cmp("-1", "1"), -1);
    assert_int_equal(cmp("-1", "0"), -1);
    assert_int_equal(cmp("0.5n", "1n"), 0); /* both round up to one nano */
    assert_int_equal(cmp("9Ei", "1Ei"), 1);
    assert_int_equal(cmp("9Ei", "10Ei"), 0); /* both saturate, as kube caps at INT64_MAX */
    assert_int_equal(cmp("2Ei", "1Ei"), 1);
    assert_int_equal(cmp("-2Ei", "-1Ei"), -1);
    assert_int_equal(cmp("1Ei", "1024Pi"), 0);
    assert_int_equal(cmp("1Ei", "8Pi"), 1);
    assert_int_equal(cmp("-9Ei", "-1"), -1);
    assert_int_equal(cmp("9223372036854775807m", "9223372036854775808m"), -1);

    struct kos_quantity hand = {.milli = 2000};
    struct kos_quantity two = parse_ok("2");
    assert_int_equal(kos_quantity_cmp(&hand, &two), 0);
}

/* The shortcut for plain quantities gives the general parser's answer for every sign, digit
 * count (up to past its 15) and suffix (those it takes and those it leaves), up to and past
 * the saturation at INT64_MAX milli-units. */
static void test_shortcut_agrees(void **state)
{
    (void)state;
    static const char *signs[] = {"", "+", "-"};
    static const char *digits[] = {"0",
                                   "00",
                                   "1",
                                   "7",
                                   "0250",
                                   "999",
                                   "1000",
                                   "123456789012345",
                                   "999999999999999",
                                   "1000000000000000",
                                   "9223372036854775",
                                   "9223372036854775807",
                                   "9223372036854776",
                                   "8589934591",
                                   "8589934592",
                                   "8796093022207",
                                   "8796093022208",
                                   "1.5",
                                   ".5",
                                   "1."};
    static const char *suffixes[] = {"",   "m",  "k",  "M",  "G",  "T",  "P",   "E", "n",
                                     "u",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",  "K", "mi",
                                     "ki", "i",  "e3", "E2", "e",  "Mx", "MiB", " ", "m "};
    for (size_t a = 0; a < sizeof(signs) / sizeof(signs[0]); a++)
        for (size_t b = 0; b < sizeof(digits) / sizeof(digits[0]); b++)
            for (size_t c = 0; c < sizeof(suffixes) / sizeof(suffixes[0]); c++) {
                char in[64];
                snprintf(in, sizeof(in), "%s%s%s", signs[a], digits[b], suffixes[c]);
                struct kos_quantity x, y;
                memset(&x, 0x5a, sizeof(x));
                memset(&y, 0x5a, sizeof(y));
                int rx = kos_quantity_parse(in, &x), ry = kos_quantity_parse_general(in, &y);
                if (rx != ry)
                    fail_msg("%s: %d vs %d", in, rx, ry);
                if (rx < 0)
                    continue;
                if (x.milli != y.milli || x.overflow != y.overflow || x.negative != y.negative ||
                    x.nano_short != y.nano_short || (x.overflow && x.big_value != y.big_value))
                    fail_msg("%s: %lld/%d/%d/%u vs %lld/%d/%d/%u", in, (long long)x.milli,
                             x.overflow, x.negative, x.nano_short, (long long)y.milli, y.overflow,
                             y.negative, y.nano_short);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_value_rounding),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_cmp),
        cmocka_unit_test(test_shortcut_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

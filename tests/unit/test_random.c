/* Random identifiers: the v4 UUID's form, suffixes from kube's alphabet, no repeats among
 * many, and a forked child never repeats its parent's bytes (each thread keeps a pool). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/random.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_uuid_form_and_uniqueness(void **state)
{
    (void)state;
    enum { N = 5000 };
    char **all = calloc(N, sizeof(*all));
    assert_non_null(all);
    char small[36];
    assert_int_equal(kos_uuid_v4(small, sizeof(small)), -ENOBUFS);
    for (size_t i = 0; i < N; i++) {
        char u[37];
        assert_int_equal(kos_uuid_v4(u, sizeof(u)), 0);
        assert_int_equal(strlen(u), 36);
        for (size_t k = 0; k < 36; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23)
                assert_int_equal(u[k], '-');
            else
                assert_non_null(strchr("0123456789abcdef", u[k]));
        }
        assert_int_equal(u[14], '4');           /* version 4 */
        assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
        all[i] = strdup(u);
        assert_non_null(all[i]);
    }
    qsort(all, N, sizeof(*all), cmp_str);
    for (size_t i = 1; i < N; i++)
        assert_true(strcmp(all[i - 1], all[i]) != 0);
    for (size_t i = 0; i < N; i++)
        free(all[i]);
    free(all);
}

static void test_suffix(void **state)
{
    (void)state;
    char s[64];
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(kos_random_suffix(s, 5), 0);
        assert_int_equal(strlen(s), 5);
        for (size_t k = 0; k < 5; k++)
            assert_non_null(strchr("bcdfghjklmnpqrstvwxz2456789", s[k]));
    }
    assert_int_equal(kos_random_suffix(s, 64), -EINVAL);
}

/* The parent has a pool with bytes left when it forks: the child's next UUID must not be
 * the one the parent takes next. */
static void test_fork_does_not_repeat(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        char u[37], mine[37], theirs[37] = {0};
        assert_int_equal(kos_uuid_v4(u, sizeof(u)), 0); /* the pool now has bytes left */
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char c[37];
            int ok = kos_uuid_v4(c, sizeof(c)) == 0 && write(fds[1], c, 37) == 37;
            _exit(ok ? 0 : 1);
        }
        close(fds[1]);
        assert_int_equal(kos_uuid_v4(mine, sizeof(mine)), 0);
        assert_int_equal(read(fds[0], theirs, 37), 37);
        close(fds[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_string_not_equal(mine, theirs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_form_and_uniqueness),
        cmocka_unit_test(test_suffix),
        cmocka_unit_test(test_fork_does_not_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

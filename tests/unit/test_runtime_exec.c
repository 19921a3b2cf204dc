/* Unit tests for src/agent/runtime/runtime_exec.c with a fake runtime (a shell script): the
 * global flags before the command's, the exit status passed back, and GOMAXPROCS=1 in the
 * runtime's environment unless the caller's sets it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/runtime/container.h"
#include "agent/runtime/runtime_exec.h"
#include "util/cleanup.h"
#include "util/fs.h"

struct fake {
    char dir[64];
    char script[128];
    char out[128];
};

static int setup(void **state)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/kos-rtexec-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->script, sizeof(f->script), "%s/fake-runc", f->dir);
    snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
    FILE *s = fopen(f->script, "w");
    assert_non_null(s);
    /* records its environment's GOMAXPROCS and its arguments; exits with $EXIT_WITH */
    fprintf(s,
            "#!/bin/sh\necho \"GOMAXPROCS=${GOMAXPROCS-unset}\" > '%s'\necho \"$*\" >> '%s'\n"
            "exit ${EXIT_WITH:-0}\n",
            f->out, f->out);
    fclose(s);
    assert_int_equal(chmod(f->script, 0755), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fake *f = *state;
    unlink(f->script);
    unlink(f->out);
    char p[256];
    snprintf(p, sizeof(p), "%s/runtime.log", f->dir);
    unlink(p);
    rmdir(f->dir);
    free(f);
    unsetenv("GOMAXPROCS");
    unsetenv("EXIT_WITH");
    return 0;
}

static char *read_out(const struct fake *f)
{
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(kos_read_file(f->out, 4096, &data, &len), 0);
    return data;
}

static void test_flags_env_and_status(void **state)
{
    struct fake *f = *state;
    const struct kos_runtime rt = {.runtime = f->script, .runtime_root = "/run/fake-root"};
    unsetenv("GOMAXPROCS");
    assert_int_equal(kos_runtime_exec(&rt, f->dir, NULL, 0, "delete", "--force", "c1", NULL), 0);
    _cleanup_free_ char *out = read_out(f);
    char want[512];
    snprintf(want, sizeof(want),
             "GOMAXPROCS=1\n--root /run/fake-root --log %s/runtime.log --log-format json delete "
             "--force c1\n",
             f->dir);
    assert_string_equal(out, want);

    setenv("EXIT_WITH", "3", 1);
    assert_int_equal(kos_runtime_exec(&rt, f->dir, NULL, 0, "state", "c1", NULL), 3);
}

static void test_callers_gomaxprocs_kept(void **state)
{
    struct fake *f = *state;
    const struct kos_runtime rt = {.runtime = f->script, .runtime_root = "/run/fake-root"};
    setenv("GOMAXPROCS", "3", 1);
    assert_int_equal(kos_runtime_exec(&rt, f->dir, NULL, 0, "state", "c1", NULL), 0);
    _cleanup_free_ char *out = read_out(f);
    assert_non_null(strstr(out, "GOMAXPROCS=3\n"));
    assert_null(strstr(out, "GOMAXPROCS=1"));
}

static void test_missing_runtime(void **state)
{
    struct fake *f = *state;
    const struct kos_runtime rt = {.runtime = "/nonexistent/kos-fake-runc",
                                   .runtime_root = "/run/fake-root"};
    assert_int_equal(kos_runtime_exec(&rt, f->dir, NULL, 0, "state", "c1", NULL), 127);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flags_env_and_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callers_gomaxprocs_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_runtime, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

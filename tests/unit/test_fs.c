/* Unit tests for src/util/fs.c: kos_file_has, the check that lets writers of files rewritten
 * on every sync leave an unchanged file alone, and kos_write_file_replace, their writer.
 * Works in a temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

#include "util/fs.h"
#include "tmpdir_helpers.h"

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof(tmp), "/tmp/kos-fs-XXXXXX");
    assert_non_null(mkdtemp(tmp));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tmpdir_remove(tmp);
    return 0;
}

static void put(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, mode), 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_file_has(void **state)
{
    (void)state;
    char a[512], b[512], big_path[512];
    snprintf(a, sizeof(a), "%s/a", tmp);
    snprintf(b, sizeof(b), "%s/b", tmp);
    put(a, "hello\n", 6, 0644);
    assert_true(kos_file_has(a, "hello\n", 6, 0644));
    assert_false(kos_file_has(a, "hello\n", 6, 0600));  /* mode differs */
    assert_false(kos_file_has(a, "hellO\n", 6, 0644));  /* content differs */
    assert_false(kos_file_has(a, "hello", 5, 0644));    /* shorter */
    assert_false(kos_file_has(a, "hello\n!", 7, 0644)); /* longer */
    assert_false(kos_file_has(b, "", 0, 0644));         /* missing */
    put(b, "", 0, 0400);
    assert_true(kos_file_has(b, "", 0, 0400));
    assert_false(kos_file_has(tmp, "", 0, 0755)); /* a directory is no file */
    /* a symlink is not followed */
    char l[512];
    snprintf(l, sizeof(l), "%s/l", tmp);
    assert_int_equal(symlink(a, l), 0);
    assert_false(kos_file_has(l, "hello\n", 6, 0644));
    /* larger than one read chunk, differing only in its last byte */
    size_t n = 100000;
    char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    snprintf(big_path, sizeof(big_path), "%s/big", tmp);
    put(big_path, data, n, 0644);
    assert_true(kos_file_has(big_path, data, n, 0644));
    data[n - 1] ^= 1;
    assert_false(kos_file_has(big_path, data, n, 0644));
    free(data);
}

static void test_write_file_replace(void **state)
{
    (void)state;
    char a[512], tmpfile[600], dir[512];
    snprintf(a, sizeof(a), "%s/a", tmp);
    snprintf(tmpfile, sizeof(tmpfile), "%s.tmp", a);
    /* a new file, then a replaced one: a new inode each time, the mode as asked */
    assert_int_equal(kos_write_file_replace(a, "one", 3, 0600), 0);
    assert_true(kos_file_has(a, "one", 3, 0600));
    struct stat before, after;
    assert_int_equal(stat(a, &before), 0);
    assert_int_equal(kos_write_file_replace(a, "two!", 4, 0644), 0);
    assert_true(kos_file_has(a, "two!", 4, 0644));
    assert_int_equal(stat(a, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    assert_int_equal(access(tmpfile, F_OK), -1);
    /* a symlink where the temporary file goes is not followed */
    char target[512];
    snprintf(target, sizeof(target), "%s/target", tmp);
    put(target, "keep", 4, 0644);
    assert_int_equal(symlink(target, tmpfile), 0);
    assert_int_equal(kos_write_file_replace(a, "three", 5, 0644), -ELOOP);
    assert_true(kos_file_has(target, "keep", 4, 0644));
    assert_true(kos_file_has(a, "two!", 4, 0644));
    unlink(tmpfile);
    /* a missing directory is the open's error, and nothing is left behind */
    snprintf(dir, sizeof(dir), "%s/missing/a", tmp);
    assert_int_equal(kos_write_file_replace(dir, "x", 1, 0644), -ENOENT);
}

static void test_rm_rf(void **state)
{
    (void)state;
    char d[512], sub[600], f[700], outside[512], link[600];
    snprintf(d, sizeof(d), "%s/tree", tmp);
    snprintf(sub, sizeof(sub), "%s/sub", d);
    snprintf(f, sizeof(f), "%s/file", sub);
    snprintf(outside, sizeof(outside), "%s/outside", tmp);
    snprintf(link, sizeof(link), "%s/link", d);
    assert_int_equal(kos_mkdir_p(sub, 0755), 0);
    put(f, "x", 1, 0644);
    put(outside, "keep", 4, 0644);
    assert_int_equal(symlink(outside, link), 0);
    kos_rm_rf(d);
    assert_int_equal(access(d, F_OK), -1);
    /* the symlink went, not what it pointed to */
    assert_true(kos_file_has(outside, "keep", 4, 0644));
    kos_rm_rf(d); /* already gone: nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_has, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_file_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rm_rf, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

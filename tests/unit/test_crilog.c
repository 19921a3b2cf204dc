/* Unit tests for src/agent/runtime/crilog.c: the CRI record format, line splitting (F/P),
 * rotation by size, and reading back with tail, timestamps and since. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/runtime/crilog.h"
#include "util/cleanup.h"
#include "tmpdir_helpers.h"

static int64_t fake_now = 1795770302000000000LL; /* 2026-11-27T09:05:02Z */

static int64_t clock_fn(void)
{
    return fake_now;
}

struct tmp {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct tmp *t = calloc(1, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/kos-crilog-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/0.log", t->dir);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmp *t = *state;
    tmpdir_remove(t->dir);
    free(t);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_format_time(void **state)
{
    char ts[48];
    kos_crilog_format_time(1795770302000000005LL, ts, sizeof(ts));
    assert_string_equal(ts, "2026-11-27T09:05:02.000000005Z");
    kos_crilog_format_time(0, ts, sizeof(ts));
    assert_string_equal(ts, "1970-01-01T00:00:00.000000000Z");
}

static void test_lines_and_partials(void **state)
{
    struct tmp *t = *state;
    struct kos_crilog *l = NULL;
    assert_int_equal(kos_crilog_open(t->path, 0, 1, &l), 0);
    kos_crilog_set_clock(l, clock_fn);
    assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, "one\ntw", 6), 0);
    assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDERR, "err\n", 4), 0);
    assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, "o\n\nend", 6), 0);
    assert_int_equal(kos_crilog_flush(l, KOS_CRILOG_STDOUT), 0);
    assert_int_equal(kos_crilog_flush(l, KOS_CRILOG_STDERR), 0); /* nothing pending */
    kos_crilog_close(l);
    _cleanup_free_ char *got = slurp(t->path);
    assert_string_equal(got, "2026-11-27T09:05:02.000000000Z stdout F one\n"
                             "2026-11-27T09:05:02.000000000Z stderr F err\n"
                             "2026-11-27T09:05:02.000000000Z stdout F two\n"
                             "2026-11-27T09:05:02.000000000Z stdout F \n"
                             "2026-11-27T09:05:02.000000000Z stdout F end\n");
}

static void test_long_line_is_split(void **state)
{
    struct tmp *t = *state;
    struct kos_crilog *l = NULL;
    assert_int_equal(kos_crilog_open(t->path, 0, 1, &l), 0);
    kos_crilog_set_clock(l, clock_fn);
    size_t n = KOS_CRILOG_MAX_LINE * 2 + 10;
    _cleanup_free_ char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\n';
    assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, big, n + 1), 0);
    /* exactly the limit followed by a newline is one full record */
    memset(big, 'y', KOS_CRILOG_MAX_LINE);
    big[KOS_CRILOG_MAX_LINE] = '\n';
    assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, big, KOS_CRILOG_MAX_LINE + 1), 0);
    kos_crilog_close(l);
    _cleanup_free_ char *got = slurp(t->path);
    char *line = got;
    const char tags[] = {'P', 'P', 'F', 'F'};
    size_t lens[] = {KOS_CRILOG_MAX_LINE, KOS_CRILOG_MAX_LINE, 10, KOS_CRILOG_MAX_LINE};
    for (int i = 0; i < 4; i++) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        struct kos_crilog_entry e;
        assert_int_equal(kos_crilog_parse(line, (size_t)(nl - line), &e), 0);
        assert_int_equal(e.partial, tags[i] == 'P');
        assert_int_equal(e.content_len, lens[i]);
        line = nl + 1;
    }
    assert_int_equal(*line, '\0');
    /* reading joins the partial records into one line */
    struct kos_log_options o = {.tail_lines = -1};
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    assert_int_equal(b.len, n + 1 + KOS_CRILOG_MAX_LINE + 1);
    kos_buf_free(&b);
}

static void test_parse(void **state)
{
    struct kos_crilog_entry e;
    const char *ok = "2026-11-27T09:05:02.1Z stderr P part";
    assert_int_equal(kos_crilog_parse(ok, strlen(ok), &e), 0);
    assert_string_equal(e.timestamp, "2026-11-27T09:05:02.1Z");
    assert_int_equal(e.stream, KOS_CRILOG_STDERR);
    assert_true(e.partial);
    assert_int_equal(e.content_len, 4);
    assert_memory_equal(e.content, "part", 4);
    const char *empty = "2026-11-27T09:05:02Z stdout F";
    assert_int_equal(kos_crilog_parse(empty, strlen(empty), &e), 0);
    assert_int_equal(e.content_len, 0);
    const char *bad[] = {"",           "nospace", "ts stdin F x", "ts stdout X x", "ts stdout Fx",
                         " stdout F x"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(kos_crilog_parse(bad[i], strlen(bad[i]), &e), -EINVAL);
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    fputs(s, f);
    fclose(f);
}

static void test_read_options(void **state)
{
    struct tmp *t = *state;
    write_file(t->path, "2026-11-27T09:05:02.100000000Z stdout F a\n"
                        "garbage line\n"
                        "2026-11-27T09:05:03.000000000Z stderr P b1\n"
                        "2026-11-27T09:05:03.500000000Z stderr F b2\n"
                        "2026-11-27T09:05:04.000000010Z stdout F c\n"
                        "2026-11-27T09:05:05.000000000Z stdout F incomplete");
    struct kos_buf b;
    kos_buf_init(&b, 1 << 20);
    struct kos_log_options o = {.tail_lines = -1};
    int64_t off = 0;
    assert_int_equal(kos_crilog_read(t->path, &o, &b, &off), 0);
    assert_string_equal(b.data, "a\nb1b2\nc\n");
    kos_buf_reset(&b);

    o.tail_lines = 2;
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    assert_string_equal(b.data, "b1b2\nc\n");
    kos_buf_reset(&b);

    o.tail_lines = 0;
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    assert_int_equal(b.len, 0);
    kos_buf_reset(&b);

    o.tail_lines = 100;
    o.timestamps = true;
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    /* Go's RFC3339Nano drops trailing zeros; a partial line gets one timestamp */
    assert_string_equal(b.data, "2026-11-27T09:05:02.1Z a\n"
                                "2026-11-27T09:05:03Z b1b2\n"
                                "2026-11-27T09:05:04.00000001Z c\n");
    kos_buf_reset(&b);

    o.timestamps = false;
    o.tail_lines = -1;
    o.since_ns = 1795770303000000000LL + 500000000LL; /* 09:05:03.5 */
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    assert_string_equal(b.data, "b2\nc\n");
    kos_buf_reset(&b);

    o.since_ns = 0;
    o.limit_bytes = 3;
    assert_int_equal(kos_crilog_read(t->path, &o, &b, NULL), 0);
    assert_string_equal(b.data, "a\nb");
    kos_buf_reset(&b);

    /* follow: the incomplete last record is picked up once its newline arrives */
    FILE *f = fopen(t->path, "a");
    fputs("\n2026-11-27T09:05:06.000000000Z stdout F d\n", f);
    fclose(f);
    o.limit_bytes = 0;
    bool line_start = true;
    int n = kos_crilog_read_from(t->path, &o, &off, &line_start, &b);
    assert_int_equal(n, (int)strlen("incomplete\nd\n"));
    assert_string_equal(b.data, "incomplete\nd\n");
    kos_buf_reset(&b);
    assert_int_equal(kos_crilog_read_from(t->path, &o, &off, &line_start, &b), 0);
    kos_buf_free(&b);

    assert_int_equal(kos_crilog_read("/nonexistent/kos/0.log", &o, &b, NULL), -ENOENT);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void test_rotation(void **state)
{
    struct tmp *t = *state;
    struct kos_crilog *l = NULL;
    /* each record is 30 + 1 + 6 + 1 + 1 + 1 + 5 + 1 = 46 bytes */
    assert_int_equal(kos_crilog_open(t->path, 100, 3, &l), 0);
    kos_crilog_set_clock(l, clock_fn);
    char line[16];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof(line), "l%04d\n", i);
        assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, line, strlen(line)), 0);
        fake_now += 1000;
    }
    kos_crilog_close(l);
    assert_int_equal(count_files(t->dir), 3);
    _cleanup_free_ char *live = slurp(t->path);
    /* two records fit in 100 bytes: the live file holds the last two */
    assert_non_null(strstr(live, "l0018\n"));
    assert_non_null(strstr(live, "l0019\n"));
    assert_int_equal(strlen(live), 92);

    /* max_files 1: no rotated files are kept */
    snprintf(t->path, sizeof(t->path), "%s/1.log", t->dir);
    assert_int_equal(kos_crilog_open(t->path, 100, 1, &l), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(kos_crilog_write(l, KOS_CRILOG_STDOUT, "abcde\n", 6), 0);
    kos_crilog_close(l);
    assert_int_equal(count_files(t->dir), 4);

    assert_int_equal(kos_crilog_open(t->path, 100, 0, &l), -EINVAL);
    assert_int_equal(kos_crilog_open("/nonexistent/kos/x.log", 0, 1, &l), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_time),
        cmocka_unit_test_setup_teardown(test_lines_and_partials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_is_split, setup, teardown),
        cmocka_unit_test(test_parse),
        cmocka_unit_test_setup_teardown(test_read_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

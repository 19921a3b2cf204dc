/* The SQLite store: etcd write semantics, list order, compare-and-swap under contention,
 * group commit, recovery after restart, compaction, and the in-memory index at scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/index.h"
#include "store/store.h"
#include "store/walbuf.h"
#include "store/watch.h"
#include "util/strutil.h"

struct fixture {
    char dir[64];
    char path[96];
    struct store *s;
};

static int open_store(struct fixture *f, int interval_s, int64_t retain)
{
    struct store_sqlite_options o = {
        .path = f->path,
        .watch_window_events = 1000,
        .compaction_retain = retain,
        .compaction_interval_s = interval_s,
    };
    return store_sqlite_open(&o, &f->s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kos_strlcpy(f->dir, "/tmp/kos-store-test-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/db.sqlite", f->dir);
    assert_int_equal(open_store(f, 0, 0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void reopen(struct fixture *f)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(open_store(f, 0, 0), 0);
}

/* ---- rendering ---- */

struct render_ctx {
    const char *data;
    int fail; /* negative errno to fail with */
};

/* Stores "<data>@<rev>" so that tests can see which revision rendered the bytes. */
static int render(void *ctx, int64_t rev, struct kos_value **ret)
{
    struct render_ctx *c = ctx;
    if (c->fail)
        return c->fail;
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s@%lld", c->data, (long long)rev);
    *ret = kos_value_new(buf, (size_t)n);
    return *ret ? 0 : -ENOMEM;
}

static int do_write(struct store *s, enum store_write_type t, const char *key, const char *data,
                    int64_t expected, struct store_write_result *res)
{
    struct render_ctx c = {.data = data};
    struct store_write w = {
        .type = t, .key = key, .expected_mod_rev = expected, .render = render, .render_ctx = &c};
    struct store_write_result tmp;
    int r = store_write(s, &w, &tmp);
    if (r == 0) {
        if (res)
            *res = tmp;
        else
            kos_value_unref(tmp.value);
    }
    return r;
}

static int64_t write_ok(struct store *s, enum store_write_type t, const char *key, const char *data)
{
    struct store_write_result res;
    assert_int_equal(do_write(s, t, key, data, 0, &res), 0);
    kos_value_unref(res.value);
    return res.rev;
}

static int64_t count_rows(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM kine", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* prev_revision of the row with the given id (the revision), -1 if there is none. */
static int64_t row_prev(const char *path, int64_t id)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT prev_revision FROM kine WHERE id = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    int64_t prev = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return prev;
}

/* ---- semantics ---- */

static void test_crud(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    struct store_write_result res;
    struct store_kv kv;

    assert_int_equal(store_current_rev(s), 0);
    assert_int_equal(do_write(s, STORE_CREATE, "/a", "v1", 0, &res), 0);
    assert_int_equal(res.rev, 1);
    assert_int_equal(res.create_rev, 1);
    assert_string_equal(res.value->data, "v1@1");
    kos_value_unref(res.value);
    assert_int_equal(do_write(s, STORE_CREATE, "/a", "again", 0, NULL), -EEXIST);

    assert_int_equal(store_get(s, "/a", &kv), 0);
    assert_string_equal(kv.key, "/a");
    assert_int_equal(kv.mod_rev, 1);
    assert_int_equal(kv.create_rev, 1);
    assert_string_equal(kv.value->data, "v1@1");
    store_kv_clear(&kv);
    assert_int_equal(store_get(s, "/nope", &kv), -ENOENT);

    assert_int_equal(do_write(s, STORE_UPDATE, "/a", "v2", 7, NULL), -ECANCELED);
    assert_int_equal(do_write(s, STORE_UPDATE, "/a", "v2", 1, &res), 0);
    assert_int_equal(res.rev, 2);
    assert_int_equal(res.create_rev, 1);
    kos_value_unref(res.value);
    assert_int_equal(do_write(s, STORE_UPDATE, "/a", "v3", 0, &res), 0);
    assert_int_equal(res.rev, 3);
    kos_value_unref(res.value);
    assert_int_equal(do_write(s, STORE_UPDATE, "/b", "x", 0, NULL), -ENOENT);
    assert_int_equal(do_write(s, STORE_DELETE, "/b", "x", 0, NULL), -ENOENT);
    assert_int_equal(do_write(s, STORE_DELETE, "/a", "final", 2, NULL), -ECANCELED);
    assert_int_equal(do_write(s, STORE_DELETE, "/a", "final", 3, &res), 0);
    assert_int_equal(res.rev, 4);
    assert_string_equal(res.value->data, "final@4");
    kos_value_unref(res.value);
    assert_int_equal(store_get(s, "/a", &kv), -ENOENT);
    assert_int_equal(do_write(s, STORE_UPDATE, "/a", "x", 0, NULL), -ENOENT);

    /* re-create after delete: a new create revision */
    assert_int_equal(do_write(s, STORE_CREATE, "/a", "again", 0, &res), 0);
    assert_int_equal(res.rev, 5);
    assert_int_equal(res.create_rev, 5);
    kos_value_unref(res.value);
    assert_int_equal(store_current_rev(s), 5);
    /* rows chain through the tombstone (UNIQUE(name, prev_revision)); a new name starts at 0 */
    assert_int_equal(row_prev(f->path, 1), 0);
    assert_int_equal(row_prev(f->path, 4), 3);
    assert_int_equal(row_prev(f->path, 5), 4);
    assert_int_equal(do_write(s, STORE_DELETE, "/a", "gone", 0, NULL), 0);  /* 6 */
    assert_int_equal(do_write(s, STORE_CREATE, "/a", "third", 0, NULL), 0); /* 7 */
    assert_int_equal(row_prev(f->path, 7), 6);
    assert_int_equal(do_write(s, STORE_CREATE, "/a", "fourth", 0, NULL), -EEXIST);
    assert_int_equal(store_get(s, "/a", &kv), 0);
    assert_string_equal(kv.value->data, "third@7");
    assert_int_equal(kv.create_rev, 7);
    store_kv_clear(&kv);

    struct store_write bad = {.type = STORE_CREATE, .key = "", .render = render};
    assert_int_equal(store_write(s, &bad, &res), -EINVAL);
    bad.key = "/k";
    bad.render = NULL;
    assert_int_equal(store_write(s, &bad, &res), -EINVAL);
    assert_int_equal(store_current_rev(s), 7);
}

static void test_render_failure(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    write_ok(s, STORE_CREATE, "/a", "v");
    struct render_ctx c = {.data = "x", .fail = -EPERM};
    struct store_write w = {.type = STORE_UPDATE, .key = "/a", .render = render, .render_ctx = &c};
    struct store_write_result res;
    assert_int_equal(store_write(s, &w, &res), -EPERM);
    w.type = STORE_CREATE;
    w.key = "/b";
    assert_int_equal(store_write(s, &w, &res), -EPERM);
    assert_int_equal(store_current_rev(s), 1);
    struct store_kv kv;
    assert_int_equal(store_get(s, "/b", &kv), -ENOENT);
    assert_int_equal(write_ok(s, STORE_UPDATE, "/a", "v2"), 2);
}

static void test_list(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    static const char *const keys[] = {
        "/registry/pods/ns2/b", "/registry/pods/ns1/c", "/registry/podsx/x",
        "/registry/pods/ns1/a", "/registry/pod",        "/registry/pods/ns1/b",
        "/registry/pods/ns2/a", "/registry/services/a",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        write_ok(s, STORE_CREATE, keys[i], keys[i]);

    static const char *const want[] = {
        "/registry/pods/ns1/a", "/registry/pods/ns1/b", "/registry/pods/ns1/c",
        "/registry/pods/ns2/a", "/registry/pods/ns2/b",
    };
    struct store_list l;
    assert_int_equal(store_list(s, "/registry/pods/", NULL, 0, &l), 0);
    assert_int_equal(l.count, 5);
    assert_false(l.more);
    assert_int_equal(l.rev, 8);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(l.items[i].key, want[i]);
    store_list_clear(&l);

    /* pages of two, continuing after the last key */
    const char *after = NULL;
    char last[64] = "";
    size_t seen = 0;
    for (int page = 0; page < 3; page++) {
        assert_int_equal(store_list(s, "/registry/pods/", after, 2, &l), 0);
        for (size_t i = 0; i < l.count; i++)
            assert_string_equal(l.items[i].key, want[seen++]);
        assert_int_equal(l.more, page < 2);
        if (l.count)
            kos_strlcpy(last, l.items[l.count - 1].key, sizeof(last));
        after = last;
        store_list_clear(&l);
    }
    assert_int_equal(seen, 5);

    assert_int_equal(store_list(s, "/registry/pods/", "/registry/pods/ns1/bb", 0, &l), 0);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[0].key, "/registry/pods/ns1/c");
    store_list_clear(&l);
    /* exactly `limit` left: no more */
    assert_int_equal(store_list(s, "/registry/pods/ns2/", NULL, 2, &l), 0);
    assert_int_equal(l.count, 2);
    assert_false(l.more);
    store_list_clear(&l);
    assert_int_equal(store_list(s, "/nothing/", NULL, 0, &l), 0);
    assert_int_equal(l.count, 0);
    store_list_clear(&l);
    assert_int_equal(store_list(s, "", NULL, 0, &l), 0);
    assert_int_equal(l.count, 8);
    assert_string_equal(l.items[0].key, "/registry/pod");
    store_list_clear(&l);

    size_t n;
    assert_int_equal(store_count(s, "/registry/pods/", &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(store_count(s, "/registry/pods", &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(store_count(s, "", &n), 0);
    assert_int_equal(n, 8);
}

/* ---- concurrency ---- */

struct worker {
    struct store *s;
    int idx;
    int n;
    int wins;
    int errors;
};

static void *increment_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < w->n;) {
        struct store_kv kv;
        if (store_get(w->s, "/counter", &kv) < 0) {
            w->errors++;
            return NULL;
        }
        long long v = strtoll(kv.value->data, NULL, 10);
        char data[32];
        snprintf(data, sizeof(data), "%lld", v + 1);
        int r = do_write(w->s, STORE_UPDATE, "/counter", data, kv.mod_rev, NULL);
        store_kv_clear(&kv);
        if (r == 0)
            i++;
        else if (r != -ECANCELED) {
            w->errors++;
            return NULL;
        }
    }
    return NULL;
}

static void test_cas_increments(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 4, EACH = 40 };
    write_ok(f->s, STORE_CREATE, "/counter", "0");
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = EACH};
        assert_int_equal(pthread_create(&th[i], NULL, increment_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].errors, 0);
    }
    struct store_kv kv;
    assert_int_equal(store_get(f->s, "/counter", &kv), 0);
    assert_int_equal(strtoll(kv.value->data, NULL, 10), THREADS * EACH);
    assert_int_equal(kv.mod_rev, 1 + THREADS * EACH);
    store_kv_clear(&kv);
}

static void *create_worker(void *arg)
{
    struct worker *w = arg;
    char key[32];
    for (int i = 0; i < w->n; i++) {
        snprintf(key, sizeof(key), "/race/%d", i);
        int r = do_write(w->s, STORE_CREATE, key, "x", 0, NULL);
        if (r == 0)
            w->wins++;
        else if (r != -EEXIST)
            w->errors++;
    }
    return NULL;
}

static void test_concurrent_create(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 16, KEYS = 10 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = KEYS};
        assert_int_equal(pthread_create(&th[i], NULL, create_worker, &w[i]), 0);
    }
    int wins = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].errors, 0);
        wins += w[i].wins;
    }
    assert_int_equal(wins, KEYS);
    assert_int_equal(store_current_rev(f->s), KEYS);
}

static void *churn_worker(void *arg)
{
    struct worker *w = arg;
    char key[32];
    snprintf(key, sizeof(key), "/churn/%02d", w->idx);
    if (do_write(w->s, STORE_CREATE, key, "c", 0, NULL) < 0)
        w->errors++;
    for (int i = 0; i < w->n; i++)
        if (do_write(w->s, STORE_UPDATE, key, "u", 0, NULL) < 0)
            w->errors++;
    return NULL;
}

struct mixed {
    struct store *s;
    int idx;
    int rc;
    int64_t rev;
};

static void *mixed_worker(void *arg)
{
    struct mixed *m = arg;
    char key[32];
    snprintf(key, sizeof(key), "/mixed/%02d", m->idx);
    struct render_ctx c = {.data = "x", .fail = m->idx % 2 ? -EPERM : 0};
    struct store_write w = {.type = STORE_CREATE, .key = key, .render = render, .render_ctx = &c};
    struct store_write_result res;
    m->rc = store_write(m->s, &w, &res);
    if (m->rc == 0) {
        m->rev = res.rev;
        kos_value_unref(res.value);
    }
    return NULL;
}

/* Failed renders in a shared batch fail only themselves and consume no revision. */
static void test_render_failure_concurrent(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 16 };
    struct mixed m[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        m[i] = (struct mixed){.s = f->s, .idx = i};
        assert_int_equal(pthread_create(&th[i], NULL, mixed_worker, &m[i]), 0);
    }
    bool seen[THREADS / 2 + 1] = {false};
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        if (i % 2) {
            assert_int_equal(m[i].rc, -EPERM);
            continue;
        }
        assert_int_equal(m[i].rc, 0);
        assert_true(m[i].rev >= 1 && m[i].rev <= THREADS / 2);
        assert_false(seen[m[i].rev]);
        seen[m[i].rev] = true;
    }
    assert_int_equal(store_current_rev(f->s), THREADS / 2);
    size_t n;
    assert_int_equal(store_count(f->s, "/mixed/", &n), 0);
    assert_int_equal(n, THREADS / 2);
}

/* 32 writers share commits; then a compaction over more than one chunk keeps one row a key. */
static void test_group_commit_and_compaction(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 32, EACH = 40 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = EACH};
        assert_int_equal(pthread_create(&th[i], NULL, churn_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].errors, 0);
    }
    uint64_t commits, writes;
    store_sqlite_stats(f->s, &commits, &writes);
    assert_int_equal(writes, THREADS * (EACH + 1));
    assert_true(commits < writes);
    int64_t rev = store_current_rev(f->s);
    assert_int_equal(rev, THREADS * (EACH + 1));
    assert_int_equal(count_rows(f->path), rev);

    assert_int_equal(store_compact(f->s, rev + 1), -EINVAL);
    assert_int_equal(store_compact(f->s, rev), 0);
    assert_int_equal(store_compacted_rev(f->s), rev);
    assert_int_equal(count_rows(f->path), THREADS);
    assert_int_equal(store_compact(f->s, rev), 0);
    size_t n;
    assert_int_equal(store_count(f->s, "/churn/", &n), 0);
    assert_int_equal(n, THREADS);
}

/* ---- compaction and recovery ---- */

static void test_compaction(void **state)
{
    struct fixture *f = *state;
    struct store *s = f->s;
    write_ok(s, STORE_CREATE, "/k1", "a"); /* 1 */
    write_ok(s, STORE_CREATE, "/k2", "a"); /* 2 */
    write_ok(s, STORE_CREATE, "/k3", "a"); /* 3 */
    write_ok(s, STORE_UPDATE, "/k1", "b"); /* 4 */
    write_ok(s, STORE_UPDATE, "/k1", "c"); /* 5 */
    write_ok(s, STORE_DELETE, "/k2", "z"); /* 6 */
    assert_int_equal(write_ok(s, STORE_UPDATE, "/k3", "b"), 7);
    assert_int_equal(count_rows(f->path), 7);

    /* compacting at 5 keeps the history needed above it: k3@3 is superseded only at 7 */
    assert_int_equal(store_compact(s, 5), 0);
    assert_int_equal(count_rows(f->path), 5); /* k1@5 k2@2 k2@6 k3@3 k3@7 */
    assert_int_equal(store_compact(s, 7), 0);
    assert_int_equal(count_rows(f->path), 2); /* k1@5 k3@7 */
    assert_int_equal(store_compacted_rev(s), 7);

    struct store_kv kv;
    assert_int_equal(store_get(s, "/k1", &kv), 0);
    assert_string_equal(kv.value->data, "c@5");
    store_kv_clear(&kv);
    assert_int_equal(store_get(s, "/k2", &kv), -ENOENT);

    struct watch_sub *sub;
    assert_int_equal(watch_window_subscribe(store_window(s), "", 6, &sub), -ESTALE);
    assert_int_equal(watch_window_subscribe(store_window(s), "", 7, &sub), 0);
    write_ok(s, STORE_CREATE, "/k2", "again");
    struct watch_event e;
    assert_int_equal(watch_sub_next(sub, 1000, &e), 1);
    assert_int_equal(e.rev, 8);
    assert_int_equal(e.type, WATCH_ADDED);
    watch_event_clear(&e);
    watch_sub_close(sub);

    reopen(f);
    assert_int_equal(store_compacted_rev(f->s), 7);
    assert_int_equal(store_current_rev(f->s), 8);
    assert_int_equal(store_get(f->s, "/k1", &kv), 0);
    assert_int_equal(kv.mod_rev, 5);
    assert_int_equal(kv.create_rev, 1);
    store_kv_clear(&kv);
    assert_int_equal(watch_window_subscribe(store_window(f->s), "", 6, &sub), -ESTALE);
}

static void test_recovery(void **state)
{
    struct fixture *f = *state;
    write_ok(f->s, STORE_CREATE, "/a", "a1"); /* 1 */
    write_ok(f->s, STORE_CREATE, "/b", "b1"); /* 2 */
    write_ok(f->s, STORE_UPDATE, "/a", "a2"); /* 3 */
    write_ok(f->s, STORE_DELETE, "/b", "b9"); /* 4 */
    reopen(f);

    assert_int_equal(store_current_rev(f->s), 4);
    struct store_kv kv;
    assert_int_equal(store_get(f->s, "/a", &kv), 0);
    assert_int_equal(kv.mod_rev, 3);
    assert_int_equal(kv.create_rev, 1);
    assert_string_equal(kv.value->data, "a2@3");
    store_kv_clear(&kv);
    assert_int_equal(store_get(f->s, "/b", &kv), -ENOENT);

    /* a watcher that last saw revision 1 resumes after the restart */
    struct watch_sub *sub;
    assert_int_equal(watch_window_subscribe(store_window(f->s), "", 1, &sub), 0);
    struct watch_event e;
    assert_int_equal(watch_sub_next(sub, 0, &e), 1);
    assert_int_equal(e.rev, 2);
    assert_int_equal(e.type, WATCH_ADDED);
    assert_null(e.prev_value);
    watch_event_clear(&e);
    assert_int_equal(watch_sub_next(sub, 0, &e), 1);
    assert_int_equal(e.rev, 3);
    assert_int_equal(e.type, WATCH_MODIFIED);
    assert_string_equal(e.value->data, "a2@3");
    assert_string_equal(e.prev_value->data, "a1@1");
    watch_event_clear(&e);
    assert_int_equal(watch_sub_next(sub, 0, &e), 1);
    assert_int_equal(e.rev, 4);
    assert_int_equal(e.type, WATCH_DELETED);
    assert_string_equal(e.value->data, "b9@4");
    assert_string_equal(e.prev_value->data, "b1@2");
    watch_event_clear(&e);
    assert_int_equal(watch_sub_next(sub, 0, &e), 0);

    assert_int_equal(write_ok(f->s, STORE_CREATE, "/b", "b2"), 5);
    assert_int_equal(watch_sub_next(sub, 1000, &e), 1);
    assert_int_equal(e.rev, 5);
    watch_event_clear(&e);
    watch_sub_close(sub);
}

/* The index is loaded unordered from SQLite and sorted in memory: after a restart a LIST is in
 * key order and every key is found, whatever order the keys were written in. */
static void test_reload_sorts_keys(void **state)
{
    struct fixture *f = *state;
    enum { N = 500 };
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "/k/%03d", (i * 7) % N);
        write_ok(f->s, STORE_CREATE, key, "v");
    }
    write_ok(f->s, STORE_UPDATE, "/k/000", "w");
    write_ok(f->s, STORE_DELETE, "/k/001", "d");
    reopen(f);
    struct store_list l;
    assert_int_equal(store_list(f->s, "/k/", NULL, 0, &l), 0);
    assert_int_equal(l.count, N - 1);
    for (size_t i = 1; i < l.count; i++)
        assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
    store_list_clear(&l);
    struct store_kv kv;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "/k/%03d", i);
        assert_int_equal(store_get(f->s, key, &kv), i == 1 ? -ENOENT : 0);
        if (i == 0)
            assert_int_equal(strncmp(kv.value->data, "w@", 2), 0);
        store_kv_clear(&kv);
    }
}

/* The newest row is a tombstone; compaction deletes it, yet revisions must not go back. */
static void test_revisions_survive_compaction_restart(void **state)
{
    struct fixture *f = *state;
    write_ok(f->s, STORE_CREATE, "/a", "x");
    write_ok(f->s, STORE_DELETE, "/a", "x");
    assert_int_equal(store_compact(f->s, 2), 0);
    assert_int_equal(count_rows(f->path), 0);
    reopen(f);
    assert_int_equal(store_current_rev(f->s), 2);
    struct watch_sub *sub;
    assert_int_equal(watch_window_subscribe(store_window(f->s), "", 1, &sub), -ESTALE);
    assert_int_equal(watch_window_subscribe(store_window(f->s), "", 2, &sub), 0);
    watch_sub_close(sub);
    assert_int_equal(write_ok(f->s, STORE_CREATE, "/a", "y"), 3);
}

static void test_window_overflow_after_restart(void **state)
{
    struct fixture *f = *state;
    /* the fixture's window holds 1000 events; write more with concurrent writers */
    enum { THREADS = 16, EACH = 70 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = EACH - 1};
        assert_int_equal(pthread_create(&th[i], NULL, churn_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int64_t rev = store_current_rev(f->s);
    assert_int_equal(rev, THREADS * EACH);
    reopen(f);
    struct watch_window *ww = store_window(f->s);
    assert_int_equal(watch_window_oldest_rev(ww), rev - 1000);
    assert_int_equal(watch_window_current_rev(ww), rev);
    struct watch_sub *sub;
    assert_int_equal(watch_window_subscribe(ww, "", rev - 1001, &sub), -ESTALE);
    assert_int_equal(watch_window_subscribe(ww, "/churn/", rev - 1000, &sub), 0);
    struct watch_event e;
    for (int64_t r = rev - 999; r <= rev; r++) {
        assert_int_equal(watch_sub_next(sub, 0, &e), 1);
        assert_int_equal(e.rev, r);
        assert_true(e.type == WATCH_ADDED || e.prev_value != NULL);
        watch_event_clear(&e);
    }
    watch_sub_close(sub);
}

static void test_periodic_compaction(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    assert_int_equal(open_store(f, 1, 1), 0);
    write_ok(f->s, STORE_CREATE, "/p", "1");
    write_ok(f->s, STORE_UPDATE, "/p", "2");
    write_ok(f->s, STORE_UPDATE, "/p", "3");
    for (int i = 0; i < 600 && store_compacted_rev(f->s) < 2; i++) /* 30 s: a loaded machine */
        usleep(50 * 1000);
    assert_int_equal(store_compacted_rev(f->s), 2);
    assert_int_equal(count_rows(f->path), 2);
}

/* ---- the index on its own, at the scale of a large LIST ---- */

static void test_index_scale(void **state)
{
    enum { N = 20000 };
    struct store_index *ix;
    assert_int_equal(store_index_new(&ix), 0);
    struct kos_value *v = kos_value_new("{}", 2);
    char key[64];
    /* insert in a scrambled order */
    for (int i = 0; i < N; i++) {
        int k = (int)(((int64_t)i * 7919) % N);
        snprintf(key, sizeof(key), "/registry/pods/%s/p%05d", k % 2 ? "a" : "b", k);
        struct store_index_entry *e = store_index_entry_new(key, i + 1, i + 1, v);
        assert_non_null(e);
        assert_int_equal(store_index_reserve(ix, 1), 0);
        store_index_write_lock(ix);
        store_index_insert(ix, e);
        store_index_write_unlock(ix);
    }
    kos_value_unref(v);
    assert_int_equal(store_index_size(ix), N);
    struct store_list l;
    assert_int_equal(store_index_list(ix, "/registry/pods/a/", NULL, 0, &l), 0);
    assert_int_equal(l.count, N / 2);
    for (size_t i = 1; i < l.count; i++)
        assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
    assert_ptr_equal(l.items[0].value, l.items[1].value); /* shared, not copied */
    store_list_clear(&l);
    size_t n;
    assert_int_equal(store_index_count(ix, "/registry/pods/b/", &n), 0);
    assert_int_equal(n, N / 2);
    store_index_write_lock(ix);
    store_index_remove(ix, "/registry/pods/b/p00000");
    store_index_write_unlock(ix);
    struct store_kv kv;
    assert_int_equal(store_index_get(ix, "/registry/pods/b/p00000", &kv), -ENOENT);
    assert_int_equal(store_index_get(ix, "/registry/pods/b/p00002", &kv), 0);
    store_kv_clear(&kv);
    store_index_free(ix);
}

/* Creates and deletes of a few names from many threads: group commit puts a re-create in the
 * same transaction as the delete before it, where the row chain must still hold. */
static void *recreate_worker(void *arg)
{
    struct worker *w = arg;
    char key[32];
    for (int i = 0; i < w->n; i++) {
        snprintf(key, sizeof(key), "/cycle/%d", (w->idx + i) % 4);
        int r = do_write(w->s, STORE_CREATE, key, "c", 0, NULL);
        if (r == 0)
            w->wins++;
        else if (r != -EEXIST)
            w->errors++;
        r = do_write(w->s, STORE_DELETE, key, "d", 0, NULL);
        if (r < 0 && r != -ENOENT)
            w->errors++;
    }
    return NULL;
}

static void test_recreate_churn(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 16, EACH = 60 };
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = EACH};
        assert_int_equal(pthread_create(&th[i], NULL, recreate_worker, &w[i]), 0);
    }
    int wins = 0, errors = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        errors += w[i].errors;
        wins += w[i].wins;
    }
    assert_int_equal(errors, 0);
    assert_true(wins >= 4);
    int64_t rev = store_current_rev(f->s);
    assert_int_equal(count_rows(f->path), rev);
    size_t live;
    assert_int_equal(store_count(f->s, "/cycle/", &live), 0);
    reopen(f);
    size_t after;
    assert_int_equal(store_count(f->s, "/cycle/", &after), 0);
    assert_int_equal(after, live);
    assert_int_equal(store_current_rev(f->s), rev);
    assert_int_equal(store_compact(f->s, rev), 0);
    assert_int_equal(count_rows(f->path), (int64_t)live);
}

/* Acknowledged writes survive the process dying without closing the store. The writer's WAL
 * writes are held in memory until SQLite syncs (walbuf.c): one left there at acknowledgement
 * would be lost here. Large values make SQLite spill pages mid-transaction and rewrite
 * frames, the writes the buffer treats specially. Runs without the fixture: a child forked
 * while another store's threads hold SQLite's locks could deadlock. */
#define CRASH_THREADS 24
#define CRASH_EACH    40
#define CRASH_VALUE   (96 * 1024)

struct crash_worker {
    struct store *s;
    int idx;
    atomic_int *acked;
    int errors;
};

static int render_pattern(void *ctx, int64_t rev, struct kos_value **ret)
{
    const char *key = ctx;
    static __thread char buf[CRASH_VALUE];
    /* Every byte depends on the key, so a torn or misplaced page shows. */
    size_t klen = strlen(key);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (char)('a' + (key[i % klen] + i / 4096) % 26);
    *ret = kos_value_new(buf, sizeof(buf));
    return *ret ? 0 : -ENOMEM;
}

static void *crash_writer(void *arg)
{
    struct crash_worker *w = arg;
    char key[32];
    for (int i = 0; i < CRASH_EACH; i++) {
        snprintf(key, sizeof(key), "/crash/%02d/%03d", w->idx, i);
        struct store_write wr = {
            .type = STORE_CREATE, .key = key, .render = render_pattern, .render_ctx = key};
        if (store_write(w->s, &wr, NULL) < 0) {
            w->errors++;
            break;
        }
        atomic_fetch_add(w->acked, 1);
    }
    return NULL;
}

static void test_acknowledged_writes_survive_crash(void **state)
{
    char dir[64], path[96];
    kos_strlcpy(dir, "/tmp/kos-store-crash-XXXXXX", sizeof(dir));
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db.sqlite", dir);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        struct store_sqlite_options o = {.path = path, .max_batch = 64};
        struct store *s;
        int errors = 1;
        atomic_int acked = 0;
        if (store_sqlite_open(&o, &s) == 0) {
            struct crash_worker w[CRASH_THREADS];
            pthread_t th[CRASH_THREADS];
            for (int i = 0; i < CRASH_THREADS; i++) {
                w[i] = (struct crash_worker){.s = s, .idx = i, .acked = &acked};
                pthread_create(&th[i], NULL, crash_writer, &w[i]);
            }
            errors = 0;
            for (int i = 0; i < CRASH_THREADS; i++) {
                pthread_join(th[i], NULL);
                errors += w[i].errors;
            }
        }
        int report[2] = {atomic_load(&acked), errors};
        ssize_t n = write(fds[1], report, sizeof(report));
        _exit(n == (ssize_t)sizeof(report) ? 0 : 1); /* no store_close: a crash */
    }
    close(fds[1]);
    int report[2] = {0, 0};
    assert_int_equal(read(fds[0], report, sizeof(report)), sizeof(report));
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(report[1], 0);
    assert_int_equal(report[0], CRASH_THREADS * CRASH_EACH);

    struct store_sqlite_options o = {.path = path};
    struct store *s;
    assert_int_equal(store_sqlite_open(&o, &s), 0);
    size_t n;
    assert_int_equal(store_count(s, "/crash/", &n), 0);
    assert_int_equal(n, CRASH_THREADS * CRASH_EACH);
    char key[32];
    for (int t = 0; t < CRASH_THREADS; t++)
        for (int i = 0; i < CRASH_EACH; i++) {
            snprintf(key, sizeof(key), "/crash/%02d/%03d", t, i);
            struct store_kv kv;
            assert_int_equal(store_get(s, key, &kv), 0);
            struct kos_value *want;
            assert_int_equal(render_pattern(key, 0, &want), 0);
            assert_int_equal(kv.value->len, want->len);
            assert_memory_equal(kv.value->data, want->data, want->len);
            kos_value_unref(want);
            store_kv_clear(&kv);
        }
    store_close(s);
    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The WAL-gathering VFS under SQLite's awkward writes: a page cache far too small for the
 * transaction makes SQLite spill pages to the WAL before the commit and then overwrite
 * those frames, some still held in the buffer and some already written. Another connection
 * (the default VFS, reading the file) must find exactly what was committed. */
static void test_walbuf_spills_and_rewrites(void **state)
{
    char dir[64], path[96];
    kos_strlcpy(dir, "/tmp/kos-walbuf-XXXXXX", sizeof(dir));
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db.sqlite", dir);
    const char *vfs = walbuf_vfs_name();
    assert_non_null(vfs);
    assert_string_equal(walbuf_vfs_name(), vfs); /* registered once */

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                  " PRAGMA cache_size=8; PRAGMA wal_autocheckpoint=0;"
                                  " CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB, n INTEGER);"
                                  " CREATE INDEX t_n ON t (n);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_stmt *ins;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO t (k, v, n) VALUES (?1, ?2, ?3)", -1, &ins, NULL),
        SQLITE_OK);
    char key[32], val[700];
    for (int txn = 0; txn < 4; txn++) {
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        for (int i = 0; i < 1500; i++) {
            int id = txn * 1500 + i;
            /* keys out of order, so that the same index pages are dirtied again and again */
            snprintf(key, sizeof(key), "k%07d", (id * 7919) % 100000);
            memset(val, 'a' + id % 26, sizeof(val));
            sqlite3_bind_text(ins, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(ins, 2, val, sizeof(val), SQLITE_STATIC);
            sqlite3_bind_int(ins, 3, id % 97);
            assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    }
    sqlite3_finalize(ins);

    /* Read through the file while the writer still has it open (nothing checkpointed). */
    sqlite3 *rd;
    assert_int_equal(sqlite3_open_v2(path, &rd, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(rd, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(
        sqlite3_prepare_v2(rd, "SELECT COUNT(*), SUM(n), SUM(LENGTH(v)) FROM t", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), 6000);
    int64_t sum = 0;
    for (int id = 0; id < 6000; id++)
        sum += id % 97;
    assert_int_equal(sqlite3_column_int64(q, 1), sum);
    assert_int_equal(sqlite3_column_int64(q, 2), 6000LL * (int64_t)sizeof(val));
    sqlite3_finalize(q);
    sqlite3_close(rd);
    sqlite3_close(db);

    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* The buffer's bookkeeping, driven directly through the VFS against a model of the file:
 * appends, a rewrite of bytes still held, a write elsewhere, one too big to hold. */
static void test_walbuf_file(void **state)
{
    char dir[64], db[96], wal[112];
    kos_strlcpy(dir, "/tmp/kos-walbuf-XXXXXX", sizeof(dir));
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", db);
    FILE *dbf = fopen(db, "w"); /* the VFS takes a WAL file's mode from its database */
    assert_non_null(dbf);
    fclose(dbf);

    sqlite3_vfs *vfs = sqlite3_vfs_find(walbuf_vfs_name());
    assert_non_null(vfs);
    sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
    assert_non_null(f);
    int out = 0;
    assert_int_equal(
        vfs->xOpen(vfs, wal, f, SQLITE_OPEN_WAL | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE, &out),
        SQLITE_OK);
    const sqlite3_io_methods *m = f->pMethods;

    enum { SIZE = 300000 };
    static unsigned char model[SIZE], got[SIZE], chunk[80000];
    memset(model, 0, sizeof(model));
    size_t end = 0;
#define WRITE(off, len, byte)                                                                      \
    do {                                                                                           \
        memset(chunk, (byte), (len));                                                              \
        assert_int_equal(m->xWrite(f, chunk, (int)(len), (off)), SQLITE_OK);                       \
        memset(model + (off), (byte), (len));                                                      \
        end = (size_t)(off) + (len) > end ? (size_t)(off) + (len) : end;                           \
    } while (0)
    WRITE(0, 32, 'h');    /* a WAL header */
    WRITE(32, 24, 'f');   /* a frame header */
    WRITE(56, 4096, 'p'); /* its page */
    WRITE(4152, 24, 'g'); /* the next frame, all gathered */
    WRITE(4176, 4096, 'q');
    WRITE(1000, 100, 'r');     /* rewrites bytes still held */
    WRITE(200000, 4096, 's');  /* elsewhere: the held bytes go out first */
    WRITE(100, 50, 't');       /* before what is held */
    WRITE(120000, 70000, 'u'); /* too big to hold */
    WRITE(204096, 24, 'v');    /* appends to nothing held: starts again */
#undef WRITE
    sqlite3_int64 size = 0;
    assert_int_equal(m->xFileSize(f, &size), SQLITE_OK);
    assert_int_equal(size, end);
    assert_int_equal(m->xRead(f, got, (int)end, 0), SQLITE_OK);
    assert_memory_equal(got, model, end);

    /* held bytes are readable (written out first), and a sync writes them too */
    memset(chunk, 'w', 4096);
    assert_int_equal(m->xWrite(f, chunk, 4096, (sqlite3_int64)end), SQLITE_OK);
    assert_int_equal(m->xRead(f, got, 4096, (sqlite3_int64)end), SQLITE_OK);
    assert_memory_equal(got, chunk, 4096);
    assert_int_equal(m->xWrite(f, chunk, 24, 0), SQLITE_OK);
    assert_int_equal(m->xSync(f, SQLITE_SYNC_NORMAL), SQLITE_OK);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_size, end + 4096);
    assert_int_equal(m->xTruncate(f, 0), SQLITE_OK);
    assert_int_equal(m->xFileSize(f, &size), SQLITE_OK);
    assert_int_equal(size, 0);
    assert_int_equal(m->xWrite(f, chunk, 24, 0), SQLITE_OK); /* close writes it out */
    assert_int_equal(m->xClose(f), SQLITE_OK);
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_size, 24);
    free(f);
    unlink(wal);
    unlink(db);
    rmdir(dir);
}

/* ---- checkpoints ---- */

static long long wal_bytes(const struct fixture *f)
{
    char p[128];
    snprintf(p, sizeof(p), "%s-wal", f->path);
    struct stat sb;
    return stat(p, &sb) == 0 ? (long long)sb.st_size : 0;
}

static char big_value[8192];

static int render_big(void *ctx, int64_t rev, struct kos_value **ret)
{
    *ret = kos_value_new(big_value, sizeof(big_value));
    return *ret ? 0 : -ENOMEM;
}

static void *big_worker(void *arg)
{
    struct worker *w = arg;
    char key[32];
    for (int i = 0; i < w->n; i++) {
        snprintf(key, sizeof(key), "/big/%02d/%04d", w->idx, i);
        struct store_write wr = {.type = STORE_CREATE, .key = key, .render = render_big};
        if (store_write(w->s, &wr, NULL) < 0)
            w->errors++;
    }
    return NULL;
}

/* SQLite's auto-checkpoint is off on the writer; the checkpointer thread must keep the WAL
 * from growing with the data (it starts over once copied, at ~16 MB), and truncate it after
 * a compaction. 12,800 writes of 8 KB put ~150 MB through the WAL. On a quiet machine it
 * stays near 16 MB; on a loaded one the checkpointer may be starved, and then the writer's
 * own checkpoints (CKPT_HARD_PAGES, 64 MB) are the bound this test holds it to. */
static void test_wal_checkpoints(void **state)
{
    struct fixture *f = *state;
    enum { THREADS = 16, EACH = 800 };
    memset(big_value, 'x', sizeof(big_value));
    struct worker w[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.s = f->s, .idx = i, .n = EACH};
        assert_int_equal(pthread_create(&th[i], NULL, big_worker, &w[i]), 0);
    }
    long long most = 0;
    int errors = 0;
    for (int i = 0; i < THREADS; i++) { /* all joined before any assert leaves the frame */
        pthread_join(th[i], NULL);
        errors += w[i].errors;
        long long b = wal_bytes(f);
        most = b > most ? b : most;
    }
    assert_int_equal(errors, 0);
    size_t n;
    assert_int_equal(store_count(f->s, "/big/", &n), 0);
    assert_int_equal(n, THREADS * EACH);
    most = wal_bytes(f) > most ? wal_bytes(f) : most;
    assert_true(most < 80LL * 1024 * 1024);

    int64_t rev = store_current_rev(f->s);
    for (int i = 0; i < THREADS; i++) {
        char key[32];
        snprintf(key, sizeof(key), "/big/%02d/0000", i);
        assert_int_equal(do_write(f->s, STORE_DELETE, key, "gone", 0, NULL), 0);
    }
    assert_int_equal(store_compact(f->s, rev + THREADS), 0);
    /* the truncation runs on the checkpointer, after the compaction has answered */
    for (int i = 0; i < 3000 && wal_bytes(f) > 0; i++) /* up to 30 s on a loaded machine */
        usleep(10 * 1000);
    assert_int_equal(wal_bytes(f), 0);

    reopen(f);
    assert_int_equal(store_count(f->s, "/big/", &n), 0);
    assert_int_equal(n, THREADS * (EACH - 1));
    assert_int_equal(store_current_rev(f->s), rev + THREADS);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_crud),
        T(test_render_failure),
        T(test_render_failure_concurrent),
        T(test_list),
        T(test_cas_increments),
        T(test_concurrent_create),
        T(test_group_commit_and_compaction),
        T(test_compaction),
        T(test_recovery),
        T(test_reload_sorts_keys),
        T(test_revisions_survive_compaction_restart),
        T(test_window_overflow_after_restart),
        T(test_periodic_compaction),
        T(test_recreate_churn),
        T(test_wal_checkpoints),
        cmocka_unit_test(test_acknowledged_writes_survive_crash),
        cmocka_unit_test(test_walbuf_spills_and_rewrites),
        cmocka_unit_test(test_walbuf_file),
        cmocka_unit_test(test_index_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The SQLite store: kine's table layout, one writer thread with group commit, reads served
 * from the in-memory index (index.c), watches from the in-memory window (watch.c).
 *
 * Every write is appended as a row whose id is its revision. Callers queue their writes and
 * block; the writer thread takes everything queued, runs it in one transaction and commits it
 * with one fsync, then publishes the batch to the index and the watch window and wakes the
 * callers. Because only this thread writes, revisions are assigned in memory, there is no
 * "database is locked" between our own writers, and watch needs no polling or gap filling.
 *
 * The writer is the serial path every write goes through, so it does as little as it can:
 * each caller is woken by its own semaphore (a broadcast woke all 32 request threads per
 * batch to find their own result), sleeping watchers are woken once per batch after the
 * callers, its WAL writes go out in one system call per commit (walbuf.h), and checkpoints
 * run on a second thread and connection (sqlite_checkpoint.c) instead of SQLite's
 * auto-checkpoint inline after a commit. */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite_internal.h"
#include "store/walbuf.h"
#include "util/cleanup.h"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS kine ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, created INTEGER, deleted INTEGER,"
    " create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB,"
    " old_value BLOB);"
    "CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex"
    " ON kine (name, prev_revision);"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

static const char *const stmt_sql[ST_MAX] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_INSERT] = "INSERT INTO kine (id, name, created, deleted, create_revision,"
                  " prev_revision, lease, value, old_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0,"
                  " ?7, ?8)",
    [ST_LAST_ID] = "SELECT MAX(id) FROM kine WHERE name = ?1",
    [ST_SET_META] = "INSERT OR REPLACE INTO meta (k, v) VALUES (?1, ?2)",
    /* kine's CompactSQL restricted to one id range (lo, hi]: rows superseded by a row in the
     * range, and tombstones in the range. Chunks in id order, so after the chunk ending at hi
     * everything superseded at or below hi is gone and compact_rev = hi is exact. */
    [ST_COMPACT] = "DELETE FROM kine WHERE id IN ("
                   " SELECT prev_revision FROM kine WHERE id > ?1 AND id <= ?2"
                   " AND prev_revision != 0"
                   " UNION SELECT id FROM kine WHERE id > ?1 AND id <= ?2 AND deleted != 0)",
};

static const struct store_ops sqlite_ops;

/* ---- caller side ---------------------------------------------------------------------- */

static int submit_and_wait(struct sqlite_store *st, struct pending *p)
{
    if (sem_init(&p->done, 0, 0) != 0)
        return -errno;
    pthread_mutex_lock(&st->qlock);
    if (st->stopping) {
        pthread_mutex_unlock(&st->qlock);
        sem_destroy(&p->done);
        return -ECANCELED;
    }
    if (st->qtail)
        st->qtail->next = p;
    else
        st->qhead = p;
    st->qtail = p;
    pthread_cond_signal(&st->qcond);
    pthread_mutex_unlock(&st->qlock);
    while (sem_wait(&p->done) != 0)
        ; /* EINTR only: the semaphore is valid and ours */
    sem_destroy(&p->done);
    return p->rc;
}

static int sqlite_write(struct store *s, const struct store_write *w,
                        struct store_write_result *ret)
{
    struct sqlite_store *st = (struct sqlite_store *)s;
    if (!w || !w->key || !w->key[0] || !w->render)
        return -EINVAL;
    if (w->type != STORE_CREATE && w->type != STORE_UPDATE && w->type != STORE_DELETE)
        return -EINVAL;
    struct pending p = {.kind = PENDING_WRITE, .w = w};
    int r = submit_and_wait(st, &p);
    if (r < 0)
        return r;
    if (ret)
        *ret = p.res;
    else
        kos_value_unref(p.res.value);
    return 0;
}

static int sqlite_get(struct store *s, const char *key, struct store_kv *ret)
{
    if (!key)
        return -EINVAL;
    return store_index_get(((struct sqlite_store *)s)->ix, key, ret);
}

static int sqlite_list(struct store *s, const char *prefix, const char *start_after, size_t limit,
                       struct store_list *ret)
{
    return store_index_list(((struct sqlite_store *)s)->ix, prefix, start_after, limit, ret);
}

static int sqlite_count(struct store *s, const char *prefix, size_t *ret)
{
    return store_index_count(((struct sqlite_store *)s)->ix, prefix, ret);
}

static int64_t sqlite_current_rev(struct store *s)
{
    return store_index_rev(((struct sqlite_store *)s)->ix);
}

static int64_t sqlite_compacted_rev(struct store *s)
{
    return atomic_load(&((struct sqlite_store *)s)->compact_rev);
}

static int sqlite_compact(struct store *s, int64_t rev)
{
    struct sqlite_store *st = (struct sqlite_store *)s;
    if (rev > sqlite_current_rev(s))
        return -EINVAL;
    if (rev <= sqlite_compacted_rev(s))
        return 0;
    struct pending p = {.kind = PENDING_COMPACT, .compact_rev = rev};
    return submit_and_wait(st, &p);
}

static struct watch_window *sqlite_window(struct store *s)
{
    return ((struct sqlite_store *)s)->ww;
}

void store_sqlite_stats(struct store *s, uint64_t *commits, uint64_t *writes)
{
    uint64_t c = 0, w = 0;
    if (s && s->ops == &sqlite_ops) {
        struct sqlite_store *st = (struct sqlite_store *)s;
        c = atomic_load(&st->commits);
        w = atomic_load(&st->writes);
    }
    if (commits)
        *commits = c;
    if (writes)
        *writes = w;
}

/* ---- open / close ---------------------------------------------------------------------- */

static void store_destroy(struct sqlite_store *st)
{
    if (st->writer_started) {
        pthread_mutex_lock(&st->qlock);
        st->stopping = true;
        pthread_cond_signal(&st->qcond);
        pthread_mutex_unlock(&st->qlock);
        pthread_join(st->writer, NULL);
    }
    /* After the writer, which may still signal the checkpointer while draining its queue. */
    if (st->ck_started) {
        pthread_mutex_lock(&st->ck_lock);
        st->ck_stop = true;
        pthread_cond_signal(&st->ck_cond);
        pthread_mutex_unlock(&st->ck_lock);
        pthread_join(st->ck_thread, NULL);
    }
    sqlite3_close_v2(st->ckdb);
    for (size_t i = 0; i < ST_MAX; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close_v2(st->db); /* the last connection: checkpoints and removes the WAL */
    store_index_free(st->ix);
    watch_window_free(st->ww);
    if (st->sync_ready) {
        pthread_cond_destroy(&st->qcond);
        pthread_mutex_destroy(&st->qlock);
    }
    if (st->ck_ready) {
        pthread_cond_destroy(&st->ck_cond);
        pthread_mutex_destroy(&st->ck_lock);
    }
    free(st->batch);
    free(st->ops);
    free(st);
}

static void sqlite_close(struct store *s)
{
    if (s)
        store_destroy((struct sqlite_store *)s);
}

static int init_sync(struct sqlite_store *st)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&st->qcond, &attr);
    pthread_condattr_destroy(&attr);
    if (r != 0)
        return -r;
    if (pthread_mutex_init(&st->qlock, NULL) != 0) {
        pthread_cond_destroy(&st->qcond);
        return -ENOMEM;
    }
    st->sync_ready = true;
    if (pthread_cond_init(&st->ck_cond, NULL) != 0)
        return -ENOMEM;
    if (pthread_mutex_init(&st->ck_lock, NULL) != 0) {
        pthread_cond_destroy(&st->ck_cond);
        return -ENOMEM;
    }
    st->ck_ready = true;
    return 0;
}

static int open_db(struct sqlite_store *st, const char *path)
{
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    /* The writer's connection gathers its WAL writes (walbuf.h); it runs synchronous=FULL,
     * which that requires. Without the VFS it works as well, only with more system calls. */
    const char *vfs = walbuf_vfs_name();
    int rc = sqlite3_open_v2(path, &st->db, flags, vfs);
    if (rc != SQLITE_OK && vfs) {
        sqlite3_close_v2(st->db);
        st->db = NULL;
        rc = sqlite3_open_v2(path, &st->db, flags, NULL);
    }
    if (rc != SQLITE_OK)
        return sql_errno(rc);
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    char pragmas[160];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=%d;"
             " PRAGMA wal_autocheckpoint=0;",
             JOURNAL_SIZE_LIMIT);
    rc = sqlite3_exec(st->db, pragmas, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < ST_MAX; i++)
        rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                                NULL);
    if (rc != SQLITE_OK)
        return sql_errno(rc);
    /* Replaces SQLite's auto-checkpoint hook: checkpoints move to the checkpointer. */
    sqlite3_wal_hook(st->db, sqlite_wal_hook, st);

    /* The checkpointer's connection. It never reads or writes rows; the statement makes it
     * open the WAL, which a checkpoint on a fresh connection would otherwise skip. */
    rc = sqlite3_open_v2(path, &st->ckdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->ckdb,
                          "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
                          " SELECT COUNT(*) FROM meta;",
                          NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sql_errno(rc);
}

static void stmt_finalizep(sqlite3_stmt **s)
{
    sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

static int prepare(struct sqlite_store *st, const char *sql, sqlite3_stmt **ret)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, ret, NULL);
    return rc == SQLITE_OK ? 0 : sql_errno(rc);
}

static struct kos_value *column_value(sqlite3_stmt *stmt, int col)
{
    const void *data = sqlite3_column_blob(stmt, col);
    int len = sqlite3_column_bytes(stmt, col);
    return kos_value_new_shared(data, len > 0 ? (size_t)len : 0);
}

static int load_meta(struct sqlite_store *st)
{
    _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
    int r = prepare(st,
                    "SELECT (SELECT v FROM meta WHERE k = 'current_rev'),"
                    " (SELECT v FROM meta WHERE k = 'compact_rev'), (SELECT MAX(id) FROM kine)",
                    &stmt);
    if (r < 0)
        return r;
    if (sqlite3_step(stmt) != SQLITE_ROW)
        return -EIO;
    int64_t cur = sqlite3_column_int64(stmt, 0);
    int64_t compact = sqlite3_column_int64(stmt, 1);
    int64_t max_id = sqlite3_column_int64(stmt, 2);
    st->wrev = cur > max_id ? cur : max_id;
    atomic_store(&st->compact_rev, compact);
    st->compact_target = compact;
    store_index_set_rev(st->ix, st->wrev);
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    const struct store_index_entry *x = *(struct store_index_entry *const *)a;
    const struct store_index_entry *y = *(struct store_index_entry *const *)b;
    return strcmp(x->key, y->key);
}

struct loaded_entries {
    struct store_index_entry **v;
    size_t n;
};

static void loaded_entries_clear(struct loaded_entries *l)
{
    for (size_t i = 0; i < l->n; i++)
        store_index_entry_free(l->v[i]);
    free(l->v);
}

/* The rows come in no particular order and are sorted here: with ORDER BY name, SQLite sorts
 * whole rows, values included, in a temporary b-tree (most of the start-up time with 10,000
 * pods stored). */
static int load_index(struct sqlite_store *st)
{
    _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
    int r = prepare(st,
                    "SELECT k.id, k.name, k.create_revision, k.value FROM kine AS k"
                    " JOIN (SELECT MAX(id) AS mid FROM kine GROUP BY name) AS m ON k.id = m.mid"
                    " WHERE k.deleted = 0",
                    &stmt);
    if (r < 0)
        return r;
    _cleanup_(loaded_entries_clear) struct loaded_entries l = {0};
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        _cleanup_value_ struct kos_value *v = column_value(stmt, 3);
        if (!name || !v)
            return -ENOMEM;
        if (l.n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct store_index_entry **nv = realloc(l.v, ncap * sizeof(*nv));
            if (!nv)
                return -ENOMEM;
            l.v = nv;
            cap = ncap;
        }
        struct store_index_entry *e = store_index_entry_new(name, sqlite3_column_int64(stmt, 2),
                                                            sqlite3_column_int64(stmt, 0), v);
        if (!e)
            return -ENOMEM;
        l.v[l.n++] = e;
    }
    if (rc != SQLITE_DONE)
        return sql_errno(rc);
    if (l.n > 0)
        qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
    if (store_index_reserve(st->ix, l.n) < 0)
        return -ENOMEM;
    /* in key order, each insert lands at the end: no moves, and it cannot fail */
    for (size_t i = 0; i < l.n; i++)
        store_index_insert(st->ix, l.v[i]);
    l.n = 0; /* the index owns them now */
    return 0;
}

struct loaded_rev {
    int64_t id;
    struct kos_value *value;
};

static struct kos_value *find_loaded(const struct loaded_rev *l, size_t n, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && l[lo].id == id ? l[lo].value : NULL;
}

static int fill_window(struct sqlite_store *st, sqlite3_stmt *stmt, size_t cap)
{
    _cleanup_free_ struct loaded_rev *seen = calloc(cap, sizeof(*seen));
    if (!seen)
        return -ENOMEM;
    size_t n = 0;
    int rc = SQLITE_DONE, r = 0;
    while (r == 0 && n < cap && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(stmt, 0);
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        bool created = sqlite3_column_int(stmt, 2) != 0;
        bool deleted = sqlite3_column_int(stmt, 3) != 0;
        int64_t prev_rev = sqlite3_column_int64(stmt, 4);
        if (!name) {
            r = -ENOMEM;
            break;
        }
        /* Share bytes with the index and with earlier events, as live writes do, so a
         * restart does not double the memory held for recent objects. */
        const struct store_index_entry *e = store_index_lookup(st->ix, name);
        struct kos_value *value =
            e && e->mod_rev == id ? kos_value_ref(e->value) : column_value(stmt, 5);
        struct kos_value *prev = NULL;
        if (!created) {
            prev = kos_value_ref(find_loaded(seen, n, prev_rev));
            if (!prev)
                prev = column_value(stmt, 6);
        }
        if (!value || (!created && !prev)) {
            kos_value_unref(value);
            kos_value_unref(prev);
            r = -ENOMEM;
            break;
        }
        enum watch_event_type t = created ? WATCH_ADDED : deleted ? WATCH_DELETED : WATCH_MODIFIED;
        r = watch_window_append(st->ww, id, t, name, value, prev);
        kos_value_unref(prev);
        seen[n++] = (struct loaded_rev){.id = id, .value = value};
    }
    if (r == 0 && n < cap && rc != SQLITE_DONE)
        r = sql_errno(rc);
    for (size_t i = 0; i < n; i++)
        kos_value_unref(seen[i].value);
    return r;
}

/* Refills the watch window with the newest events above the compacted revision, so a watcher
 * that reconnects after a restart resumes where it was instead of getting 410. */
static int load_window(struct sqlite_store *st, size_t cap)
{
    int64_t start = atomic_load(&st->compact_rev);
    _cleanup_stmt_ sqlite3_stmt *edge = NULL;
    int r =
        prepare(st, "SELECT id FROM kine WHERE id > ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2", &edge);
    if (r < 0)
        return r;
    sqlite3_bind_int64(edge, 1, start);
    sqlite3_bind_int64(edge, 2, (sqlite3_int64)cap);
    int rc = sqlite3_step(edge);
    if (rc == SQLITE_ROW)
        start = sqlite3_column_int64(edge, 0); /* more rows than fit: start after this one */
    else if (rc != SQLITE_DONE)
        return sql_errno(rc);

    r = watch_window_new(cap, start, &st->ww);
    if (r < 0)
        return r;
    _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
    r = prepare(st,
                "SELECT id, name, created, deleted, prev_revision, value, old_value FROM kine"
                " WHERE id > ?1 ORDER BY id",
                &stmt);
    if (r < 0)
        return r;
    sqlite3_bind_int64(stmt, 1, start);
    return fill_window(st, stmt, cap);
}

int store_sqlite_open(const struct store_sqlite_options *opts, struct store **ret)
{
    if (!opts || !opts->path || !opts->path[0] || !ret)
        return -EINVAL;
    struct sqlite_store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->base.ops = &sqlite_ops;
    st->max_batch = opts->max_batch ? opts->max_batch : DEFAULT_MAX_BATCH;
    st->retain = opts->compaction_retain > 0 ? opts->compaction_retain : DEFAULT_RETAIN;
    st->interval_ms =
        opts->compaction_interval_s > 0 ? (int64_t)opts->compaction_interval_s * 1000 : 0;
    st->next_periodic_ms = kos_now_ms_monotonic() + st->interval_ms;
    size_t window = opts->watch_window_events ? opts->watch_window_events : DEFAULT_WINDOW_EVENTS;

    int r = init_sync(st);
    if (r == 0) {
        st->batch = calloc(st->max_batch, sizeof(*st->batch));
        st->ops = calloc(st->max_batch, sizeof(*st->ops));
        if (!st->batch || !st->ops)
            r = -ENOMEM;
    }
    if (r == 0)
        r = store_index_new(&st->ix);
    if (r == 0)
        r = open_db(st, opts->path);
    if (r == 0)
        r = load_meta(st);
    if (r == 0)
        r = load_index(st);
    if (r == 0)
        r = load_window(st, window);
    if (r == 0) {
        r = -pthread_create(&st->ck_thread, NULL, sqlite_checkpointer_main, st);
        st->ck_started = r == 0;
    }
    if (r == 0) {
        r = -pthread_create(&st->writer, NULL, sqlite_writer_main, st);
        st->writer_started = r == 0;
    }
    if (r < 0) {
        store_destroy(st);
        return r;
    }
    *ret = &st->base;
    return 0;
}

static const struct store_ops sqlite_ops = {
    .get = sqlite_get,
    .list = sqlite_list,
    .write = sqlite_write,
    .count = sqlite_count,
    .current_rev = sqlite_current_rev,
    .compacted_rev = sqlite_compacted_rev,
    .compact = sqlite_compact,
    .window = sqlite_window,
    .close = sqlite_close,
};

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
 * run on a second thread and connection (checkpointer_main) instead of SQLite's
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

#include "store/index.h"
#include "store/walbuf.h"
#include "store/watch.h"
#include "util/cleanup.h"

#define DEFAULT_WINDOW_EVENTS 10000
#define DEFAULT_RETAIN        10000
#define DEFAULT_MAX_BATCH     512
#define COMPACT_CHUNK         1000 /* revisions per compaction transaction */
#define BUSY_TIMEOUT_MS       5000
/* WAL frames (pages) after which the checkpointer copies the WAL into the database: 16 MB
 * with 4 KB pages. Each time, the writer pays for the last few frames and two fsyncs (see
 * writer_checkpoint), so fewer, larger checkpoints cost it less; the WAL file is reused
 * rather than grown, so its size costs only disk space. */
#define CKPT_PAGES 4096
/* If the checkpointer falls this far behind, the writer checkpoints before its next batch
 * rather than let the WAL grow without bound. */
#define CKPT_HARD_PAGES (4 * CKPT_PAGES)
/* The WAL is reset once a checkpoint has copied all of it, and truncated to this size if it
 * grew beyond it (it only does when checkpoints fall behind). */
#define JOURNAL_SIZE_LIMIT (64 * 1024 * 1024)
#define CKPT_PASSES        4   /* at most, per request (see ck_passes) */
#define CKPT_REST_PAGES    128 /* few enough frames to leave to the writer */
#define TRUNCATE_ATTEMPTS  5
#define TRUNCATE_BUSY_MS   20

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS kine ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, created INTEGER, deleted INTEGER,"
    " create_revision INTEGER, prev_revision INTEGER, lease INTEGER, value BLOB,"
    " old_value BLOB);"
    "CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS kine_name_prev_revision_uindex"
    " ON kine (name, prev_revision);"
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_INSERT,
    ST_LAST_ID,
    ST_SET_META,
    ST_COMPACT,
    ST_MAX,
};

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

enum pending_kind { PENDING_WRITE, PENDING_COMPACT };

/* A caller's request; lives on the caller's stack until the writer posts `done`, after
 * which the writer no longer touches it. */
struct pending {
    struct pending *next;
    enum pending_kind kind;
    const struct store_write *w;
    int64_t compact_rev;
    sem_t done;
    int rc;
    struct store_write_result res;
};

/* The writer's scratch for one write of the batch being built. */
struct op_state {
    struct pending *p;
    int rc;
    int64_t rev;
    int64_t create_rev;
    struct kos_value *value;         /* rendered (owned) */
    struct kos_value *prev_value;    /* the key's value before this write (owned) */
    struct store_index_entry *entry; /* creates: allocated before commit */
};

struct sqlite_store {
    struct store base;
    size_t max_batch;
    int64_t retain;
    int64_t interval_ms;

    sqlite3 *db;
    sqlite3_stmt *stmt[ST_MAX];
    struct store_index *ix;
    struct watch_window *ww;

    bool sync_ready;
    pthread_mutex_t qlock;
    pthread_cond_t qcond; /* work for the writer (CLOCK_MONOTONIC) */
    struct pending *qhead, *qtail;
    bool stopping;
    bool writer_started;
    pthread_t writer;

    /* Owned by the writer thread. */
    int64_t wrev; /* last committed revision */
    int64_t compact_target;
    struct pending *compact_waiters;
    int64_t next_periodic_ms;
    struct pending **batch;
    struct op_state *ops;

    _Atomic int64_t compact_rev;
    _Atomic uint64_t commits;
    _Atomic uint64_t writes;

    /* Checkpoints (checkpointer_main), on their own connection so that copying the WAL into
     * the database and its fsyncs overlap the writer's commits instead of following them. */
    sqlite3 *ckdb;
    bool ck_ready;
    bool ck_started;
    pthread_t ck_thread;
    pthread_mutex_t ck_lock;
    pthread_cond_t ck_cond;
    bool ck_truncate;      /* under ck_lock: compaction finished, shrink the WAL */
    bool ck_stop;          /* under ck_lock */
    atomic_bool ck_wanted; /* the WAL passed CKPT_PAGES */
    atomic_bool tail_ckpt; /* the writer should copy the last few frames, so the WAL resets */
    bool wal_too_big;      /* writer only: the checkpointer is CKPT_HARD_PAGES behind */
};

static const struct store_ops sqlite_ops;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec ms_to_timespec(int64_t ms)
{
    return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = ms_to_timespec(ms);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int sql_errno(int rc)
{
    return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static int step_reset(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static int set_meta(struct sqlite_store *st, const char *k, int64_t v)
{
    sqlite3_stmt *stmt = st->stmt[ST_SET_META];
    sqlite3_bind_text(stmt, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, v);
    return step_reset(stmt) == SQLITE_DONE ? 0 : -EIO;
}

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

/* ---- writer: one batch ----------------------------------------------------------------- */

/* The key's state as the batch has left it so far: the last successful earlier write of the
 * same key in this batch wins over the index, so writes in one batch see each other. */
static void key_state(struct sqlite_store *st, const struct op_state *ops, size_t i, bool *live,
                      int64_t *create_rev, int64_t *mod_rev, struct kos_value **value)
{
    const char *key = ops[i].p->w->key;
    for (size_t j = i; j-- > 0;) {
        if (ops[j].rc != 0 || strcmp(ops[j].p->w->key, key) != 0)
            continue;
        *live = ops[j].p->w->type != STORE_DELETE;
        *create_rev = ops[j].create_rev;
        *mod_rev = ops[j].rev;
        *value = ops[j].value;
        return;
    }
    const struct store_index_entry *e = store_index_lookup(st->ix, key);
    *live = e != NULL;
    *create_rev = e ? e->create_rev : 0;
    *mod_rev = e ? e->mod_rev : 0;
    *value = e ? e->value : NULL;
}

static void op_release(struct op_state *op)
{
    kos_value_unref(op->value);
    kos_value_unref(op->prev_value);
    store_index_entry_free(op->entry);
    op->value = op->prev_value = NULL;
    op->entry = NULL;
}

static int last_row_id(struct sqlite_store *st, const char *key, int64_t *ret)
{
    sqlite3_stmt *stmt = st->stmt[ST_LAST_ID];
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_ROW)
        return -EIO;
    *ret = id;
    return 0;
}

static int bind_value(sqlite3_stmt *stmt, int col, const struct kos_value *v)
{
    if (!v)
        return sqlite3_bind_null(stmt, col);
    return sqlite3_bind_blob64(stmt, col, v->data, v->len, SQLITE_STATIC);
}

/* Returns the SQLite result; a constraint failure undoes only this statement. */
static int insert_row(struct sqlite_store *st, const struct store_write *w, int64_t rev,
                      int64_t create_rev, int64_t prev_rev, const struct kos_value *value,
                      const struct kos_value *cur)
{
    sqlite3_stmt *stmt = st->stmt[ST_INSERT];
    sqlite3_bind_int64(stmt, 1, rev);
    sqlite3_bind_text(stmt, 2, w->key, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, w->type == STORE_CREATE);
    sqlite3_bind_int(stmt, 4, w->type == STORE_DELETE);
    sqlite3_bind_int64(stmt, 5, create_rev);
    sqlite3_bind_int64(stmt, 6, prev_rev);
    bind_value(stmt, 7, value);
    bind_value(stmt, 8, cur);
    return step_reset(stmt);
}

/* Checks, renders and inserts write i at revision `rev`. The outcome of the write goes to
 * ops[i].rc; the return value is -EIO only when the transaction itself is broken. */
static int prepare_op(struct sqlite_store *st, struct op_state *ops, size_t i, int64_t rev)
{
    struct op_state *op = &ops[i];
    const struct store_write *w = op->p->w;
    bool live;
    int64_t create_rev, prev_rev;
    struct kos_value *cur;
    key_state(st, ops, i, &live, &create_rev, &prev_rev, &cur);

    if (w->type == STORE_CREATE) {
        if (live) {
            op->rc = -EEXIST;
            return 0;
        }
        /* A key's first row has prev_revision 0. A key that had rows before (it was
         * deleted) continues from its last one, as kine does, to keep UNIQUE(name,
         * prev_revision): insert_row finds out when the insert fails, so that the common
         * case, a new name, costs no extra lookup. */
        prev_rev = 0;
        create_rev = rev;
        cur = NULL;
    } else if (!live) {
        op->rc = -ENOENT;
        return 0;
    } else if (w->expected_mod_rev != 0 && w->expected_mod_rev != prev_rev) {
        op->rc = -ECANCELED;
        return 0;
    }

    struct kos_value *value = NULL;
    int r = w->render(w->render_ctx, rev, &value);
    if (r < 0 || !value) {
        kos_value_unref(value);
        op->rc = r < 0 ? r : -EINVAL;
        return 0;
    }
    op->value = value;
    if (w->type == STORE_CREATE) {
        op->entry = store_index_entry_new(w->key, rev, rev, value);
        if (!op->entry) {
            op_release(op);
            op->rc = -ENOMEM;
            return 0;
        }
    }

    int rc = insert_row(st, w, rev, create_rev, prev_rev, value, cur);
    if (rc == SQLITE_CONSTRAINT && w->type == STORE_CREATE) {
        if (last_row_id(st, w->key, &prev_rev) < 0) {
            op_release(op);
            op->rc = -EIO;
            return -EIO;
        }
        rc = insert_row(st, w, rev, create_rev, prev_rev, value, cur);
    }
    if (rc != SQLITE_DONE) {
        op_release(op);
        op->rc = -EIO;
        /* A constraint failure undoes only this statement; anything else may have rolled
         * back the whole transaction. */
        return rc == SQLITE_CONSTRAINT ? 0 : -EIO;
    }
    op->rev = rev;
    op->create_rev = create_rev;
    op->prev_value = kos_value_ref(cur);
    return 0;
}

static enum watch_event_type event_type(enum store_write_type t)
{
    return t == STORE_CREATE ? WATCH_ADDED : t == STORE_DELETE ? WATCH_DELETED : WATCH_MODIFIED;
}

/* Publishes a committed batch: index first, so that a client which sees revision R in a LIST
 * and then watches from R gets every later event from the window. Sleeping watchers are
 * woken later, after the callers (complete_batch). */
static void publish(struct sqlite_store *st, struct op_state *ops, size_t n, int64_t rev)
{
    store_index_write_lock(st->ix);
    for (size_t i = 0; i < n; i++) {
        struct op_state *op = &ops[i];
        if (op->rc != 0)
            continue;
        const char *key = op->p->w->key;
        switch (op->p->w->type) {
        case STORE_CREATE:
            store_index_insert(st->ix, TAKE_PTR(op->entry));
            break;
        case STORE_UPDATE:
            store_index_update(st->ix, key, op->rev, op->value);
            break;
        case STORE_DELETE:
            store_index_remove(st->ix, key);
            break;
        }
    }
    store_index_set_rev(st->ix, rev);
    store_index_write_unlock(st->ix);

    /* A failed append expires every watcher (see watch.c), so its result needs no handling. */
    for (size_t i = 0; i < n; i++) {
        struct op_state *op = &ops[i];
        if (op->rc == 0)
            (void)watch_window_append_quiet(st->ww, op->rev, event_type(op->p->w->type),
                                            op->p->w->key, op->value, op->prev_value);
    }
}

/* Hands results to the callers, each woken alone, then the watchers when the batch
 * published events. A `pending` may vanish once posted. */
static void complete_batch(struct sqlite_store *st, struct op_state *ops, size_t n, bool watchers)
{
    for (size_t i = 0; i < n; i++) {
        struct op_state *op = &ops[i];
        struct pending *p = TAKE_PTR(op->p);
        p->rc = op->rc;
        if (op->rc == 0)
            p->res = (struct store_write_result){
                .rev = op->rev,
                .create_rev = op->create_rev,
                .value = TAKE_PTR(op->value),
            };
        op_release(op);
        sem_post(&p->done);
    }
    if (watchers)
        watch_window_notify(st->ww);
}

static void run_batch(struct sqlite_store *st, size_t n)
{
    struct op_state *ops = st->ops;
    memset(ops, 0, n * sizeof(*ops));
    for (size_t i = 0; i < n; i++)
        ops[i].p = st->batch[i];

    int64_t rev = st->wrev;
    int fail = store_index_reserve(st->ix, n);
    if (fail == 0 && step_reset(st->stmt[ST_BEGIN]) != SQLITE_DONE)
        fail = -EIO;
    if (fail == 0) {
        for (size_t i = 0; i < n && fail == 0; i++) {
            fail = prepare_op(st, ops, i, rev + 1);
            if (fail == 0 && ops[i].rc == 0)
                rev++;
        }
        if (fail == 0 && step_reset(st->stmt[ST_COMMIT]) != SQLITE_DONE)
            fail = -EIO;
        if (fail < 0)
            step_reset(st->stmt[ST_ROLLBACK]);
    }
    if (fail < 0) {
        for (size_t i = 0; i < n; i++) {
            op_release(&ops[i]);
            if (ops[i].rc == 0)
                ops[i].rc = fail;
        }
        complete_batch(st, ops, n, false);
        return;
    }

    uint64_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += ops[i].rc == 0;
    if (done > 0) {
        publish(st, ops, n, rev);
        st->wrev = rev;
        atomic_fetch_add(&st->commits, 1);
        atomic_fetch_add(&st->writes, done);
    }
    complete_batch(st, ops, n, done > 0);
}

/* ---- writer: compaction ---------------------------------------------------------------- */

static void notify_compaction(struct sqlite_store *st, int rc)
{
    for (struct pending *p = TAKE_PTR(st->compact_waiters), *next; p; p = next) {
        next = p->next;
        p->rc = rc;
        sem_post(&p->done);
    }
}

/* ---- checkpoints ----------------------------------------------------------------------- */

static void ck_signal(struct sqlite_store *st, bool truncate)
{
    if (!st->ck_started)
        return;
    pthread_mutex_lock(&st->ck_lock);
    if (truncate)
        st->ck_truncate = true;
    pthread_cond_signal(&st->ck_cond);
    pthread_mutex_unlock(&st->ck_lock);
}

/* Runs on the writer after each commit (sqlite3_wal_hook, which also turns SQLite's
 * auto-checkpoint off for the connection): hands the copying to the checkpointer. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_store *st = arg;
    /* Not while the writer still owes the tail of the last pass: a second pass would only
     * collide with it, and the WAL could not start over. */
    if (pages >= CKPT_PAGES && !atomic_load(&st->tail_ckpt) &&
        !atomic_exchange(&st->ck_wanted, true))
        ck_signal(st, false);
    st->wal_too_big = pages >= CKPT_HARD_PAGES;
    return SQLITE_OK;
}

/* Writer, between batches. A WAL can only start over from its beginning when a transaction
 * begins with every frame copied; with a steady stream of commits the checkpointer never
 * quite catches up, so after it has copied the bulk the writer copies the few frames of the
 * last commits itself (two fsyncs, every CKPT_PAGES). It also does the whole job when the
 * checkpointer is far behind, so the WAL stays bounded whatever happens. */
static void writer_checkpoint(struct sqlite_store *st)
{
    if (!atomic_load(&st->tail_ckpt) && !st->wal_too_big)
        return;
    /* PASSIVE never waits: if the checkpointer is busy, try again before the next batch. */
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && copied == log) {
        /* The WAL starts over with the next transaction; a request made before that is
         * stale, and must not stop the next one from reaching the checkpointer. */
        atomic_store(&st->ck_wanted, false);
        atomic_store(&st->tail_ckpt, false);
        st->wal_too_big = false;
    }
}

/* Truncates the WAL after a compaction (which freed pages and wrote many frames). TRUNCATE
 * has to wait for a moment between two of the writer's transactions and then holds the
 * writer off while it resets the log, so copy everything first (PASSIVE, in parallel with
 * the writer) to leave it little to do, try a few times, and settle for the passive one. */
static void ck_truncate(struct sqlite_store *st)
{
    (void)sqlite3_wal_checkpoint_v2(st->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_busy_timeout(st->ckdb, TRUNCATE_BUSY_MS);
    int rc = SQLITE_BUSY;
    for (int attempt = 0; attempt < TRUNCATE_ATTEMPTS && rc == SQLITE_BUSY; attempt++) {
        if (attempt > 0)
            sleep_ms(10LL << attempt);
        rc = sqlite3_wal_checkpoint_v2(st->ckdb, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    sqlite3_busy_timeout(st->ckdb, 0);
}

/* Copies the WAL in passes until what the writer added during the last one is small, then
 * leaves that small rest to the writer (writer_checkpoint), so that its share is a batch or
 * two of frames rather than everything committed while the first pass ran. */
static void ck_passes(struct sqlite_store *st)
{
    int before = 0;
    for (int pass = 0; pass < CKPT_PASSES; pass++) {
        int log = 0, copied = 0;
        int rc =
            sqlite3_wal_checkpoint_v2(st->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc != SQLITE_OK || copied != log)
            return; /* busy (the writer is at it) or could not copy it all: ask again later */
        if (log - before < CKPT_REST_PAGES)
            break;
        before = log;
    }
    atomic_store(&st->tail_ckpt, true);
}

static void *checkpointer_main(void *arg)
{
    struct sqlite_store *st = arg;
    pthread_setname_np(pthread_self(), "kos-checkpoint");
    pthread_mutex_lock(&st->ck_lock);
    for (;;) {
        /* A pass while the writer still owes its tail would only make one of them busy. */
        while (!st->ck_stop && !st->ck_truncate &&
               !(atomic_load(&st->ck_wanted) && !atomic_load(&st->tail_ckpt)))
            pthread_cond_wait(&st->ck_cond, &st->ck_lock);
        if (st->ck_stop)
            break;
        bool truncate = st->ck_truncate;
        st->ck_truncate = false;
        pthread_mutex_unlock(&st->ck_lock);

        if (truncate) {
            ck_truncate(st);
        } else {
            atomic_store(&st->ck_wanted, false);
            ck_passes(st);
        }
        pthread_mutex_lock(&st->ck_lock);
    }
    pthread_mutex_unlock(&st->ck_lock);
    return NULL;
}

static bool compaction_active(struct sqlite_store *st)
{
    return st->compact_target > atomic_load(&st->compact_rev);
}

/* One short transaction of compaction, so that writes queued meanwhile wait for at most one
 * chunk. */
static void compact_step(struct sqlite_store *st)
{
    int64_t lo = atomic_load(&st->compact_rev);
    int64_t hi = st->compact_target - lo > COMPACT_CHUNK ? lo + COMPACT_CHUNK : st->compact_target;

    bool ok = step_reset(st->stmt[ST_BEGIN]) == SQLITE_DONE;
    if (ok) {
        sqlite3_stmt *stmt = st->stmt[ST_COMPACT];
        sqlite3_bind_int64(stmt, 1, lo);
        sqlite3_bind_int64(stmt, 2, hi);
        /* MAX(id) is the current revision unless compaction deletes the newest row (a
         * tombstone), and only compaction deletes rows: so record the revision here, where
         * it costs one row per compaction, rather than in every batch (two pages more in
         * each commit). load_meta takes the larger of the two. */
        ok = step_reset(stmt) == SQLITE_DONE && set_meta(st, "compact_rev", hi) == 0 &&
             set_meta(st, "current_rev", st->wrev) == 0 &&
             step_reset(st->stmt[ST_COMMIT]) == SQLITE_DONE;
        if (!ok)
            step_reset(st->stmt[ST_ROLLBACK]);
    }
    if (!ok) {
        /* Give up this round; the state on disk is consistent at `lo`, and the next request
         * (or periodic run) starts again from there. */
        st->compact_target = lo;
        notify_compaction(st, -EIO);
        return;
    }
    atomic_store(&st->compact_rev, hi);
    watch_window_compact(st->ww, hi);
    if (hi >= st->compact_target) {
        ck_signal(st, true);
        notify_compaction(st, 0);
    }
}

static void schedule_periodic(struct sqlite_store *st)
{
    if (st->interval_ms <= 0)
        return;
    int64_t now = now_ms();
    if (now < st->next_periodic_ms)
        return;
    st->next_periodic_ms = now + st->interval_ms;
    int64_t target = st->wrev - st->retain;
    if (target > st->compact_target)
        st->compact_target = target;
}

static void *writer_main(void *arg)
{
    struct sqlite_store *st = arg;
    /* Named so that top -H and perf show the store's serial path at a glance. */
    pthread_setname_np(pthread_self(), "kos-writer");
    for (;;) {
        size_t n = 0;
        pthread_mutex_lock(&st->qlock);
        while (!st->qhead && !st->stopping && !compaction_active(st)) {
            if (st->interval_ms <= 0) {
                pthread_cond_wait(&st->qcond, &st->qlock);
                continue;
            }
            if (now_ms() >= st->next_periodic_ms)
                break;
            struct timespec ts = ms_to_timespec(st->next_periodic_ms);
            pthread_cond_timedwait(&st->qcond, &st->qlock, &ts);
        }
        while (st->qhead && n < st->max_batch) {
            struct pending *p = st->qhead;
            st->qhead = p->next;
            if (!st->qhead)
                st->qtail = NULL;
            if (p->kind == PENDING_COMPACT) {
                p->next = st->compact_waiters;
                st->compact_waiters = p;
                if (p->compact_rev > st->compact_target)
                    st->compact_target = p->compact_rev;
            } else {
                p->next = NULL;
                st->batch[n++] = p;
            }
        }
        bool stop = st->stopping && !st->qhead;
        pthread_mutex_unlock(&st->qlock);

        writer_checkpoint(st);
        if (n > 0)
            run_batch(st, n);
        if (stop)
            break;
        schedule_periodic(st);
        if (compaction_active(st))
            compact_step(st);
        else
            notify_compaction(st, 0); /* requests that were already satisfied */
    }
    notify_compaction(st, -ECANCELED);
    return NULL;
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
    sqlite3_wal_hook(st->db, wal_hook, st);

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
    return kos_value_new(data, len > 0 ? (size_t)len : 0);
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

static int load_index(struct sqlite_store *st)
{
    _cleanup_stmt_ sqlite3_stmt *stmt = NULL;
    int r = prepare(st,
                    "SELECT k.id, k.name, k.create_revision, k.value FROM kine AS k"
                    " JOIN (SELECT MAX(id) AS mid FROM kine GROUP BY name) AS m ON k.id = m.mid"
                    " WHERE k.deleted = 0 ORDER BY k.name",
                    &stmt);
    if (r < 0)
        return r;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        _cleanup_value_ struct kos_value *v = column_value(stmt, 3);
        if (!name || !v)
            return -ENOMEM;
        struct store_index_entry *e = store_index_entry_new(name, sqlite3_column_int64(stmt, 2),
                                                            sqlite3_column_int64(stmt, 0), v);
        if (!e)
            return -ENOMEM;
        if (store_index_reserve(st->ix, 1) < 0) {
            store_index_entry_free(e);
            return -ENOMEM;
        }
        store_index_insert(st->ix, e);
    }
    return rc == SQLITE_DONE ? 0 : sql_errno(rc);
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
    st->next_periodic_ms = now_ms() + st->interval_ms;
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
        r = -pthread_create(&st->ck_thread, NULL, checkpointer_main, st);
        st->ck_started = r == 0;
    }
    if (r == 0) {
        r = -pthread_create(&st->writer, NULL, writer_main, st);
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

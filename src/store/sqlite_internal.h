/* The SQLite store's parts (sqlite.c: callers, open and close; sqlite_writer.c: the writer
 * thread, group commit and compaction; sqlite_checkpoint.c: WAL checkpoints): the state they
 * share and their small helpers. Internal to src/store. */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/index.h"
#include "store/store.h"
#include "store/watch.h"
#include "util/timeutil.h"

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

static inline struct timespec ms_to_timespec(int64_t ms)
{
    return (struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
}

static inline void sleep_ms(int64_t ms)
{
    struct timespec ts = ms_to_timespec(ms);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static inline int sql_errno(int rc)
{
    return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
}

static inline int step_reset(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static inline int set_meta(struct sqlite_store *st, const char *k, int64_t v)
{
    sqlite3_stmt *stmt = st->stmt[ST_SET_META];
    sqlite3_bind_text(stmt, 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, v);
    return step_reset(stmt) == SQLITE_DONE ? 0 : -EIO;
}

/* sqlite_writer.c */
void *sqlite_writer_main(void *arg);

/* sqlite_checkpoint.c */
int sqlite_wal_hook(void *arg, sqlite3 *db, const char *name, int pages);
void sqlite_ck_signal(struct sqlite_store *st, bool truncate);
void sqlite_writer_checkpoint(struct sqlite_store *st);
void *sqlite_checkpointer_main(void *arg);

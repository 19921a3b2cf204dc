/* The SQLite store's WAL checkpoints: a second thread and connection copy the WAL into the
 * database so that the copy and its fsyncs overlap the writer's commits; the writer only
 * copies the last few frames, so that the WAL resets. */
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

/* ---- checkpoints ----------------------------------------------------------------------- */

void sqlite_ck_signal(struct sqlite_store *st, bool truncate)
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
int sqlite_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_store *st = arg;
    /* Not while the writer still owes the tail of the last pass: a second pass would only
     * collide with it, and the WAL could not start over. */
    if (pages >= CKPT_PAGES && !atomic_load(&st->tail_ckpt) &&
        !atomic_exchange(&st->ck_wanted, true))
        sqlite_ck_signal(st, false);
    st->wal_too_big = pages >= CKPT_HARD_PAGES;
    return SQLITE_OK;
}

/* Writer, between batches. A WAL can only start over from its beginning when a transaction
 * begins with every frame copied; with a steady stream of commits the checkpointer never
 * quite catches up, so after it has copied the bulk the writer copies the few frames of the
 * last commits itself (two fsyncs, every CKPT_PAGES). It also does the whole job when the
 * checkpointer is far behind, so the WAL stays bounded whatever happens. */
void sqlite_writer_checkpoint(struct sqlite_store *st)
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

void *sqlite_checkpointer_main(void *arg)
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

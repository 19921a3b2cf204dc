/* The SQLite store's writer thread: it takes every queued write, runs them in one
 * transaction committed with one fsync (group commit), publishes the batch to the index and
 * the watch window, and wakes the callers; between batches it compacts in chunks. */
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
    if (kos_value_is_flat(v))
        return sqlite3_bind_blob64(stmt, col, v->data, v->len, SQLITE_STATIC);
    char *tmp = NULL;
    if (!kos_value_bytes(v, &tmp))
        return SQLITE_NOMEM;
    return sqlite3_bind_blob64(stmt, col, tmp, v->len, free);
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

    _cleanup_value_ struct kos_value *value = NULL;
    int r = w->render(w->render_ctx, rev, &value);
    if (r < 0 || !value) {
        op->rc = r < 0 ? r : -EINVAL;
        return 0;
    }
    /* SQLite gets the rendered bytes; the index, the window and the caller the shared form
     * (store/value.h), which is what the store holds on to */
    op->value = kos_value_is_flat(value) ? kos_value_new_shared(value->data, value->len) : NULL;
    if (!op->value)
        op->value = kos_value_ref(value);
    if (w->type == STORE_CREATE) {
        op->entry = store_index_entry_new(w->key, rev, rev, op->value);
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
        sqlite_ck_signal(st, true);
        notify_compaction(st, 0);
    }
}

static void schedule_periodic(struct sqlite_store *st)
{
    if (st->interval_ms <= 0)
        return;
    int64_t now = kos_now_ms_monotonic();
    if (now < st->next_periodic_ms)
        return;
    st->next_periodic_ms = now + st->interval_ms;
    int64_t target = st->wrev - st->retain;
    if (target > st->compact_target)
        st->compact_target = target;
}

void *sqlite_writer_main(void *arg)
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
            if (kos_now_ms_monotonic() >= st->next_periodic_ms)
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

        sqlite_writer_checkpoint(st);
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

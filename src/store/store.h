/* The revisioned key/value store with etcd semantics that every API object lives in.
 *
 * Keys are laid out as kube-apiserver lays them in etcd ("/registry/pods/default/web").
 * Every write gets the next revision of one global counter; an object's resourceVersion is
 * the revision of its last write (its mod revision). The interface is a table of operations
 * so that an etcd backend can implement it beside SQLite (store_sqlite.c).
 *
 * Error returns (negative errno):
 *   -ENOENT     key absent (get, update, delete)
 *   -EEXIST     create on a live key
 *   -ECANCELED  update/delete whose expected mod revision is not the key's current one
 *   -ESTALE     a read or watch at a revision older than the compacted revision
 *   -EIO        the backend failed (the write is NOT acknowledged and did not happen)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/value.h"

struct store;
struct watch_window;

/* One live key, as returned by get and list. The value is a reference the caller owns. */
struct store_kv {
    char *key;
    int64_t create_rev;
    int64_t mod_rev;
    struct kos_value *value;
};

void store_kv_clear(struct store_kv *kv);

struct store_list {
    struct store_kv *items;
    size_t count;
    int64_t rev; /* the store revision the list was read at */
    bool more;   /* more keys after the last item (limit was reached) */
};

void store_list_clear(struct store_list *l);

enum store_write_type {
    STORE_CREATE, /* fails with -EEXIST if the key is live */
    STORE_UPDATE, /* fails with -ENOENT if absent, -ECANCELED if mod rev differs */
    STORE_DELETE, /* same checks as update; the stored tombstone value is the final object */
};

/* Produces the bytes to store once the write's revision is known. It runs on the store's
 * writer thread while the batch is being committed, so it must be quick and must not call
 * back into the store. `rev` is the revision this write will get; the API layer uses it to
 * set metadata.resourceVersion inside the object. Returns 0 and a new value, or a negative
 * errno to fail this one write (the others in the batch go on). */
typedef int (*store_render_fn)(void *ctx, int64_t rev, struct kos_value **ret);

struct store_write {
    enum store_write_type type;
    const char *key;
    /* update/delete: the mod revision the caller read; 0 means "whatever is current" */
    int64_t expected_mod_rev;
    store_render_fn render;
    void *render_ctx;
};

struct store_write_result {
    int64_t rev;             /* revision of this write */
    int64_t create_rev;      /* the key's create revision */
    struct kos_value *value; /* what was stored (reference owned by the caller) */
};

struct store_ops {
    int (*get)(struct store *s, const char *key, struct store_kv *ret);
    /* Live keys with the given prefix, in key order, starting after `start_after` (NULL or ""
     * for the beginning), at most `limit` items (0 = no limit). */
    int (*list)(struct store *s, const char *prefix, const char *start_after, size_t limit,
                struct store_list *ret);
    /* Blocks until the write is durable (or failed). Concurrent callers share one commit. */
    int (*write)(struct store *s, const struct store_write *w, struct store_write_result *ret);
    /* Count live keys under a prefix. */
    int (*count)(struct store *s, const char *prefix, size_t *ret);
    int64_t (*current_rev)(struct store *s);
    int64_t (*compacted_rev)(struct store *s);
    /* Deletes history at or below `rev` (superseded rows and tombstones). Blocks until done;
     * writes go on meanwhile. -EINVAL if rev is above the current revision; a revision at or
     * below the compacted one is a no-op. */
    int (*compact)(struct store *s, int64_t rev);
    struct watch_window *(*window)(struct store *s);
    void (*close)(struct store *s);
};

struct store {
    const struct store_ops *ops;
};

struct store_sqlite_options {
    const char *path;           /* database file */
    size_t watch_window_events; /* events kept in memory for watch (default 10000) */
    int64_t compaction_retain;  /* revisions kept by the periodic compaction (default 10000) */
    int compaction_interval_s;  /* seconds between compactions, 0 = never (default 300) */
    size_t max_batch;           /* most writes in one group commit (default 512) */
};

int store_sqlite_open(const struct store_sqlite_options *opts, struct store **ret);

/* Group-commit figures since open: transactions committed and writes that succeeded in them.
 * Both stay 0 when s is not a SQLite store. */
void store_sqlite_stats(struct store *s, uint64_t *commits, uint64_t *writes);

static inline int store_get(struct store *s, const char *key, struct store_kv *ret)
{
    return s->ops->get(s, key, ret);
}
static inline int store_list(struct store *s, const char *prefix, const char *start_after,
                             size_t limit, struct store_list *ret)
{
    return s->ops->list(s, prefix, start_after, limit, ret);
}
static inline int store_write(struct store *s, const struct store_write *w,
                              struct store_write_result *ret)
{
    return s->ops->write(s, w, ret);
}
static inline int store_count(struct store *s, const char *prefix, size_t *ret)
{
    return s->ops->count(s, prefix, ret);
}
static inline int64_t store_current_rev(struct store *s)
{
    return s->ops->current_rev(s);
}
static inline int64_t store_compacted_rev(struct store *s)
{
    return s->ops->compacted_rev(s);
}
static inline int store_compact(struct store *s, int64_t rev)
{
    return s->ops->compact(s, rev);
}
static inline struct watch_window *store_window(struct store *s)
{
    return s->ops->window(s);
}
static inline void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}

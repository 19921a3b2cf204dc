/* The in-memory current state of the store: every live key with its revisions and a shared
 * reference to its value. GET, LIST and COUNT are served from here and never touch SQLite.
 *
 * Keys sit in one array sorted by strcmp: a GET is a binary search, a prefix LIST is a binary
 * search plus a walk, and inserting a key moves pointers only (8 bytes per key).
 *
 * Threads: any thread may call the reader functions (they take the read lock). Exactly one
 * thread (the store's writer) mutates; it may call store_index_lookup without locking because
 * nobody else changes the index, and it wraps its mutations in write_lock/write_unlock. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/value.h"

struct store_index;

struct store_index_entry {
    int64_t create_rev;
    int64_t mod_rev;
    struct kos_value *value;
    char key[];
};

int store_index_new(struct store_index **ret);
void store_index_free(struct store_index *ix);

/* Readers. */
int store_index_get(struct store_index *ix, const char *key, struct store_kv *ret);
int store_index_list(struct store_index *ix, const char *prefix, const char *start_after,
                     size_t limit, struct store_list *ret);
int store_index_count(struct store_index *ix, const char *prefix, size_t *ret);
size_t store_index_size(struct store_index *ix);
/* The revision the index reflects; LIST reports it as the revision it was read at. */
int64_t store_index_rev(struct store_index *ix);

/* Writer thread only. */
const struct store_index_entry *store_index_lookup(struct store_index *ix, const char *key);
/* Allocates an entry for a later insert (so that applying a committed batch cannot fail).
 * Takes a new reference to value. */
struct store_index_entry *store_index_entry_new(const char *key, int64_t create_rev,
                                                int64_t mod_rev, struct kos_value *value);
void store_index_entry_free(struct store_index_entry *e);
/* Makes room for `extra` more keys; takes the write lock itself if it has to grow. */
int store_index_reserve(struct store_index *ix, size_t extra);

void store_index_write_lock(struct store_index *ix);
void store_index_write_unlock(struct store_index *ix);
/* With the write lock held (or before any reader exists) and room reserved: */
void store_index_insert(struct store_index *ix, struct store_index_entry *e);
/* Replaces the value of a live key (takes a new reference). */
void store_index_update(struct store_index *ix, const char *key, int64_t mod_rev,
                        struct kos_value *value);
void store_index_remove(struct store_index *ix, const char *key);
void store_index_set_rev(struct store_index *ix, int64_t rev);

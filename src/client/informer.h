/* An informer: list + watch of one kind through the API client, a local cache of the objects
 * keyed by namespace/name, and callbacks on every change, as client-go's shared informer.
 *
 * A thread of its own lists (paged) and then watches from the list's resourceVersion. When a
 * watch stream ends it watches again from the last resourceVersion seen; on 410 Expired (or
 * after an error) it lists again and reports the difference between the old cache and the
 * new list as adds, updates and deletes, so handlers never miss a change for long.
 *
 * When the client has a local store (kos_client_config.local_store, inside `kos server`) and
 * no selector is set, the informer reads that store instead: it lists the store's index and
 * follows its watch window, parsing each event's stored bytes once, and its cache keeps
 * references to the stored bytes rather than parsed trees (get and snapshot parse on
 * demand). Events, their order and the re-list on falling out of the window are the same.
 *
 * Handlers run on the informer's thread, one at a time, without any informer lock held;
 * the objects they get are borrowed, read-only, and valid during the call (json_incref to
 * keep one). Objects from kos_informer_get/snapshot are shared too: never modify them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client.h"

#define KOS_INFORMER_MAX_HANDLERS 8

struct kos_informer_handlers {
    void (*on_add)(void *ctx, const json_t *obj);
    void (*on_update)(void *ctx, const json_t *old_obj, const json_t *obj);
    /* obj: the last state known (the watch's DELETED object, or the cached one after a
     * re-list found it gone) */
    void (*on_delete)(void *ctx, const json_t *obj);
    void *ctx;
    /* on_update never reads old_obj: it may then get NULL, which saves the local source a
     * parse of the previous state */
    bool ignores_old;
    /* with ignores_old: when set, asked before each update whether on_update reads old_obj
     * for this new state after all (the local source parses the previous state only then) */
    bool (*needs_old)(void *ctx, const json_t *obj);
};

struct kos_informer_options {
    const struct kos_kind *kind;
    const char *ns; /* NULL: every namespace */
    const char *label_selector;
    const char *field_selector;
    /* cache only apiVersion, kind and metadata (without managedFields), as a metadata
     * informer does: what the garbage collector needs of every object */
    bool metadata_only;
    /* with metadata_only: keep only these metadata members (NULL-terminated), so that a
     * component that reads a few fields of every object does not hold every label and
     * annotation of the cluster; NULL keeps them all */
    const char *const *metadata_fields;
    /* cache full objects but without metadata.managedFields, as kube-scheduler's transform
     * does: they can be larger than the rest of a pod and no component reads them */
    bool drop_managed_fields;
    int64_t page_size; /* list page size (default 500) */
};

struct kos_informer;

/* The client must outlive the informer. */
int kos_informer_new(struct kos_client *c, const struct kos_informer_options *o,
                     struct kos_informer **ret);
/* Before kos_informer_start only. -ENOSPC beyond KOS_INFORMER_MAX_HANDLERS. */
int kos_informer_add_handlers(struct kos_informer *inf, const struct kos_informer_handlers *h);
int kos_informer_start(struct kos_informer *inf);
/* True once the first list has been delivered to the handlers. */
bool kos_informer_has_synced(struct kos_informer *inf);
/* 0 once synced, -ETIMEDOUT, or -ECANCELED when the informer is stopping. */
int kos_informer_wait_synced(struct kos_informer *inf, int timeout_ms);
/* The cached object (new reference) or NULL. ns is ignored for cluster-scoped kinds. */
json_t *kos_informer_get(struct kos_informer *inf, const char *ns, const char *name);
/* Every cached object, as a new array. NULL only when out of memory. */
json_t *kos_informer_snapshot(struct kos_informer *inf);
const struct kos_kind *kos_informer_kind(const struct kos_informer *inf);
/* Ends the thread promptly (an open watch is cancelled) and waits for it. Idempotent. */
void kos_informer_stop(struct kos_informer *inf);
/* Stops it first. Accepts NULL. */
void kos_informer_free(struct kos_informer *inf);

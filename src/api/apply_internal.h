/* Shared by apply.c and apply_entries.c: metadata.managedFields as a list of entries, one
 * per manager identifier. Not part of the module's interface. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

/* Returned inside apply.c when a write would change fields other managers own. */
#define MF_ECONFLICT (-EEXIST)

/* More entries than this in a managedFields list make it invalid (an object holds a few). */
#define MF_MAX_ENTRIES 1000

/* At most this many Update entries are kept (capManagersManager). */
#define MF_MAX_UPDATE_MANAGERS 10

struct mf_entry {
    char *id; /* BuildManagerIdentifier: the JSON of manager, operation, apiVersion (updates
               * only) and subresource; what entries are matched and conflicts sorted by */
    char *manager;
    bool apply; /* operation Apply, else Update */
    char *api_version;
    char *subresource; /* "" when none */
    char *time;        /* as stored; NULL when the entry has none */
    json_t *set;       /* fieldsV1 */
};

struct mf_entries {
    struct mf_entry *e;
    size_t n, cap;
};

void mf_entries_free(struct mf_entries *m);
/* DecodeManagedFields: NULL or null is the empty list; -EINVAL for anything kube refuses
 * (operation other than Apply/Update, no apiVersion, fieldsType other than FieldsV1, a
 * malformed fieldsV1); -ENOMEM. An identifier given twice keeps the last entry. */
int mf_entries_decode(const json_t *managed_fields, struct mf_entries *ret);
/* [] or [{}]: a client asking to clear managedFields. */
bool mf_is_reset(const json_t *managed_fields);
int mf_entries_copy(const struct mf_entries *m, struct mf_entries *ret);
struct mf_entry *mf_entries_find(const struct mf_entries *m, const char *id);
/* Sets the fields of an entry (taking set), creating it (without a time) if needed. */
int mf_entries_put(struct mf_entries *m, const char *manager, bool apply, const char *api_version,
                   const char *subresource, json_t *set);
/* Adds set (taken) to an entry's fields, creating it if needed, and sets its time. */
int mf_entries_record(struct mf_entries *m, const char *manager, bool apply,
                      const char *api_version, const char *subresource, json_t *set,
                      const char *time);
int mf_entry_set_time(struct mf_entry *e, const char *time);
void mf_entries_drop_empty(struct mf_entries *m);
/* capManagersManager: merges the oldest Update entries into "ancient-changes". */
int mf_entries_cap(struct mf_entries *m);
/* Sorted as kube sorts them into obj's metadata.managedFields (removed when empty). */
int mf_entries_store(const struct mf_entries *m, json_t *obj);
/* Allocated; NULL on allocation failure. api_version is ignored for Apply entries. */
char *mf_identifier(const char *manager, bool apply, const char *api_version,
                    const char *subresource);

/* Fields a write would take from other managers, per manager. */
struct mf_conflict {
    char *id;
    char *printed; /* printManager: "\"kubectl-label\" using v1" */
    json_t *set;
};
struct mf_conflicts {
    struct mf_conflict *v;
    size_t n, cap;
};
/* Takes set. */
int mf_conflicts_add(struct mf_conflicts *c, const struct mf_entry *e, json_t *set);
void mf_conflicts_clear(struct mf_conflicts *c);
/* The 409 of NewConflictError: "Apply failed with N conflict(s): ..." and one
 * FieldManagerConflict cause per field, managers in identifier order. */
int mf_conflict_error(struct mf_conflicts *c, struct kos_error **err);

/* ---- the managedFields of creates of one shape (managed_fields_memo.c) ---- */

struct kos_field_manager;
struct kos_buf;
/* A plain create: no live object, no subresource, no managedFields in the body. */
bool mf_memo_applies(const struct kos_field_manager *fm, const json_t *live, const json_t *obj);
/* The bytes that determine a create's field set; -E2BIG for an object too large to remember. */
int mf_memo_shape(const json_t *obj, struct kos_buf *ret);
/* Sets obj's metadata.managedFields from a create of the same shape: 0, or -ENOENT. */
int mf_memo_get(const struct kos_field_manager *fm, const struct kos_buf *shape, json_t *obj);
/* Remembers the managedFields the full computation gave obj. */
void mf_memo_put(const struct kos_field_manager *fm, const struct kos_buf *shape,
                 const json_t *obj);

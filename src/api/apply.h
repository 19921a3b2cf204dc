/* Server-side apply and metadata.managedFields, as kube-apiserver's field manager
 * (k8s.io/apimachinery/pkg/util/managedfields/internal) drives structured-merge-diff's
 * merge.Updater:
 *
 *  - kos_apply merges an applied configuration into the live object, owning exactly the
 *    fields the configuration sets (an "Apply" entry), removing fields this manager applied
 *    before and no longer does (unless someone else owns them), and refusing with 409 when it
 *    would change a field another manager owns, unless forced;
 *  - kos_managed_fields_update records, for any other write (create, update, patch, status),
 *    the fields it changed as owned by its manager (an "Update" entry) and takes them away
 *    from every other manager.
 *
 * Entries are one per (manager, operation, apiVersion for updates, subresource), sorted as
 * kube sorts them (Apply before Update, then by time, manager, apiVersion, subresource);
 * entries that own nothing are dropped; at most 10 Update entries are kept (the oldest merge
 * into "ancient-changes"). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "api/kinds.h"
#include "util/error.h"

/* The annotation client-side apply keeps its last configuration in. */
#define KOS_LAST_APPLIED_ANNOTATION "kubectl.kubernetes.io/last-applied-configuration"

/* Who writes, and where. */
struct kos_field_manager {
    const struct kos_kind *kind;
    const char *manager;     /* the fieldManager */
    const char *subresource; /* NULL or "" for the object itself, "status", ... */
    time_t now;              /* recorded as the time of the entries this write touches */
};

/* Applies `config` (the decoded apply-patch body) to `live` (NULL when the object does not
 * exist yet) and stores the merged object with its new metadata.managedFields in *ret.
 * name and ns are the URL's (ns NULL for cluster-scoped kinds).
 * Errors, with kube-apiserver's messages: 400 for a body that is not an object of the
 * URL's kind ("invalid object type: /v1, Kind=Service"), that carries managedFields, names
 * another object, or has keyed-list items without keys or twice the same key; 409 Conflict
 * with one FieldManagerConflict cause per conflicting field; 500 when the live
 * managedFields cannot be decoded. With manager "kubectl", conflicts over fields the live
 * last-applied-configuration annotation still matches are forced (upgrading from
 * client-side apply), and that annotation, when present, is rewritten to `config`. */
int kos_apply(const struct kos_field_manager *fm, const json_t *live, const json_t *config,
              bool force, const char *name, const char *ns, json_t **ret, struct kos_error **err);

/* Sets obj's metadata.managedFields for a non-apply write of obj over live (NULL for a
 * create). The base entries are obj's own managedFields when it carries valid non-empty
 * ones (a client may edit them; [] or [{}] resets them), else live's; subresource writes
 * always use live's. An object whose live version has no managedFields stays untracked.
 * Never fails the write: on error (-ENOMEM) obj gets live's managedFields back. */
int kos_managed_fields_update(const struct kos_field_manager *fm, const json_t *live, json_t *obj);

/* The encoding (kos_json_encode) of `fields` when it is the fieldsV1 of an entry the create
 * memo handed out (shared by the creates of one shape, never changed): 0 with a copy in *ret
 * (free it), -ENOENT for any other object, -ENOMEM. */
int kos_managed_fields_memo_json(const json_t *fields, char **ret, size_t *ret_len);

/* Small helpers the controllers share: reading metadata of API objects (JSON trees from the
 * client or an informer) and the read-modify-write of metadata through the API client. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "client/client.h"

#define KOS_FINALIZER_ORPHAN     "orphan"
#define KOS_FINALIZER_FOREGROUND "foregroundDeletion"

/* metadata.<field> as a string, or NULL. */
const char *ctl_meta_str(const json_t *obj, const char *field);
/* Whether the array at metadata.finalizers (or spec.finalizers with spec=true) has name. */
bool ctl_has_finalizer(const json_t *obj, const char *name, bool spec);
/* The reference of obj: its kind from apiVersion/kind, namespace and name (pointers into
 * obj). -ENOENT when kos does not serve the kind. */
int ctl_ref_of(const json_t *obj, struct kos_ref *ref);
/* A live read of obj's current state that is still the same object (same uid): 0 and *ret,
 * -ENOENT when it is gone or was replaced, another negative errno on failure. */
int ctl_get_same(struct kos_client *c, const json_t *obj, json_t **ret);
/* Removes finalizer `name` from metadata.finalizers (or spec.finalizers when spec is true)
 * of obj's live state, retrying on conflicts. 0 also when the object or the finalizer is
 * already gone. */
int ctl_remove_finalizer(struct kos_client *c, const json_t *obj, const char *name, bool spec);

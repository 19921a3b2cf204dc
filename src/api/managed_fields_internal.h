/* Shared by the typed walks of server-side apply (managed_fields_*.c): the schema types the
 * walks follow, the path of the walk, and the identities of list items. Not part of the
 * module's interface. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/kinds.h"
#include "api/managed_fields.h"
#include "api/schema.h"
#include "util/error.h"

#define TYPE_PATH_MAX 256
#define MAX_KEYS      2

enum mft_shape { SH_STRUCT, SH_MAP, SH_ATOMIC_LIST, SH_SET, SH_ASSOC, SH_LEAF, SH_DEDUCED };

struct mft_type {
    enum mft_shape shape;
    const struct schema_struct *st; /* SH_STRUCT */
    const struct schema_node *elem; /* SH_MAP and lists: the element node, NULL if deduced */
    const char *keys[MAX_KEYS];     /* SH_ASSOC, sorted by name */
    const char *defaults[MAX_KEYS]; /* a key's default (a string) or NULL */
    size_t nkeys;
    bool known;               /* path below is valid for kos_patch_meta_lookup */
    char path[TYPE_PATH_MAX]; /* field names from the root, indices dropped */
};

/* The nodes of the last path inserted into one set: a depth-first walk inserts paths that
 * share their prefix with the previous one, so an insert starts below the shared part
 * instead of at the root. node[i] is valid for i < valid; a push at depth d cuts valid to d. */
struct mft_cursor {
    json_t *set;
    json_t *node[KOS_FIELDSET_MAX_DEPTH];
    size_t valid;
};

#define MFT_CURSORS 3 /* Compare fills added, modified and removed */

struct mft_walk {
    const struct kos_kind *kind;
    unsigned flags;
    struct kos_error **err;
    const char *path[KOS_FIELDSET_MAX_DEPTH];
    size_t depth;
    struct mft_cursor cursor[MFT_CURSORS];
};

void mft_root_type(const struct mft_walk *w, struct mft_type *t);
/* The type of a map entry or struct field. */
void mft_field_type(const struct mft_walk *w, const struct mft_type *parent, const char *name,
                    struct mft_type *t);
void mft_item_type(const struct mft_walk *w, const struct mft_type *parent, struct mft_type *t);
/* The schema field of a struct type, NULL for other types and unknown fields. */
const struct schema_field *mft_struct_field(const struct mft_type *t, const char *name);
bool mft_empty_container(const json_t *v);
/* How a pair of values at a type is walked (SH_LEAF, SH_STRUCT/SH_MAP, SH_SET/SH_ASSOC). */
enum mft_shape mft_pair_shape(const struct mft_type *t, const json_t *l, const json_t *r);

int mft_push(struct mft_walk *w, const char *pe);
void mft_pop(struct mft_walk *w);
/* Inserts the walk's current path into set (nothing at the root). */
int mft_insert_here(struct mft_walk *w, json_t *set);
/* prefix + s, allocated. */
char *mft_prefixed(const char *prefix, const char *s);

/* Path elements of every item of a keyed list or set (NULL entries for items without one:
 * an error under KOS_FIELDSET_STRICT, skipped otherwise) and a count per element. */
struct mft_items {
    char **pe;
    size_t n;
    json_t *count; /* element -> number of items */
    json_t *first; /* element -> index of its first item */
};

void mft_items_free(struct mft_items *it);
/* no_dups: under KOS_FIELDSET_STRICT, an element given twice is an error. */
int mft_items_index(struct mft_walk *w, const struct mft_type *t, const json_t *list, bool no_dups,
                    struct mft_items *it);
json_int_t mft_items_count(const struct mft_items *it, const char *pe);
const json_t *mft_items_first(const struct mft_items *it, const json_t *list, const char *pe);

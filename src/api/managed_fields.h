/* Field sets of server-side apply (sigs.k8s.io/structured-merge-diff "fieldpath.Set"), kept in
 * the very JSON shape kube-apiserver stores in metadata.managedFields[].fieldsV1:
 *
 *   {"f:metadata":{"f:labels":{"f:app":{}}},
 *    "f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}}}
 *
 * Each key is a path element: "f:<field>", "k:<JSON object of the list-map keys>" (an item of
 * a list with merge keys), "v:<JSON value>" (an item of a set), "i:<index>". A path is in the
 * set (a "member") when its node is {} or holds "."; a node with other keys has children.
 * Sets built here are normalized: no empty non-member nodes, "." only beside children.
 *
 * managed_fields.c holds the set algebra; managed_fields_typed.c the walks that need the
 * kind's schema (which fields are struct fields, map entries, atomic, keyed lists). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/kinds.h"
#include "util/error.h"

/* Paths are arrays of path element strings ("f:spec", "k:{\"name\":\"c\"}"). No path is
 * longer than this (objects are at most ~100 levels deep; the walks stop past it). */
#define KOS_FIELDSET_MAX_DEPTH 128

/* ---- set algebra (managed_fields.c) -------------------------------------------------------- */

/* 0 when `fields` is a well-formed fieldsV1 tree (as a client may send in managedFields),
 * -EINVAL otherwise. */
int kos_fieldset_validate(const json_t *fields);
/* A normalized deep copy of a valid fieldsV1 tree (NULL on allocation failure). */
json_t *kos_fieldset_normalize(const json_t *fields);

bool kos_fieldset_empty(const json_t *set);

/* New sets; NULL only on allocation failure. They may share subtrees with a and b, so sets
 * must not be changed once built (insert only into a set of one's own). Semantics of
 * fieldpath.Set:
 * difference removes members only ("a" - "a.b" = "a", "a.b" - "a" = "a.b"); the recursive
 * difference also drops everything below a member of b ("a.b.c" - "a.b" = {}). */
json_t *kos_fieldset_union(const json_t *a, const json_t *b);
json_t *kos_fieldset_intersection(const json_t *a, const json_t *b);
json_t *kos_fieldset_difference(const json_t *a, const json_t *b);
json_t *kos_fieldset_recursive_difference(const json_t *a, const json_t *b);

/* Adds a path as a member (its parents are not made members); set must be one being built
 * (not the result of a set operation, which may share nodes). 0, -EINVAL for n == 0 or
 * too deep, -ENOMEM. */
int kos_fieldset_insert(json_t *set, const char *const *path, size_t n);
bool kos_fieldset_has(const json_t *set, const char *const *path, size_t n);

/* The members in structured-merge-diff's order (at each level the members first, then the
 * children; field names before keys before values before indices). fn returning non-zero
 * stops the walk and is returned. */
typedef int (*kos_fieldset_fn)(void *ctx, const char *const *path, size_t n);
int kos_fieldset_iterate(const json_t *set, kos_fieldset_fn fn, void *ctx);

/* A copy with every object's keys in that order (what goes into fieldsV1). */
json_t *kos_fieldset_sorted(const json_t *set);

/* fieldpath.Path.String(): ".spec.containers[name=\"nginx\"].image", "[=\"x\"]" for set items,
 * "[3]" for indices. Allocated (the caller frees); NULL on allocation failure. */
char *kos_fieldset_path_string(const char *const *path, size_t n);

/* Appends s quoted as Go's %q does (strconv.Quote for the ASCII range; other bytes, valid
 * UTF-8, pass through): how kube-apiserver quotes names in its messages. */
struct kos_buf;
int kos_fieldset_append_quoted(struct kos_buf *b, const char *s);

/* ---- typed walks (managed_fields_typed.c) -------------------------------------------------- */

/* Report malformed keyed-list items of the object (no key at all, duplicates in an applied
 * configuration) as errors instead of skipping them. */
#define KOS_FIELDSET_STRICT 1u

/* typed.ToFieldSet: every leaf field and list item obj sets. Struct fields are members only
 * when they are leaves (or null or {}); map entries are always members; keyed and set list
 * items are members with their fields below; atomic lists and structs are single leaves.
 * kind may be NULL (then every object is a map and every list atomic). */
int kos_fieldset_from_object(const struct kos_kind *kind, const json_t *obj, unsigned flags,
                             json_t **ret, struct kos_error **err);

/* typed.Compare of two versions of an object. */
struct kos_fieldset_diff {
    json_t *added, *modified, *removed;
};
int kos_fieldset_compare(const struct kos_kind *kind, const json_t *lhs, const json_t *rhs,
                         struct kos_fieldset_diff *ret);
void kos_fieldset_diff_clear(struct kos_fieldset_diff *d);

/* typed.Merge: rhs (an applied configuration) onto lhs: maps merge, keyed lists and sets
 * merge item by item in structured-merge-diff's order, atomic values are replaced. rhs is
 * checked strictly (400 for items without keys or duplicated). New tree in *ret. */
int kos_fieldset_merge(const struct kos_kind *kind, const json_t *lhs, const json_t *rhs,
                       json_t **ret, struct kos_error **err);

/* typed.RemoveItems: a copy of obj without every member of set (a member takes its whole
 * subtree along); maps and lists left empty by it disappear. */
int kos_fieldset_remove_items(const struct kos_kind *kind, const json_t *obj, const json_t *set,
                              json_t **ret);

/* Set.EnsureNamedFieldsAreMembers: also makes every struct field that has children a member. */
int kos_fieldset_ensure_named(const struct kos_kind *kind, const json_t *set, json_t **ret);

/* The zero value of the kind's Go type as it serializes, restricted to what obj uses: the
 * non-pointer structs (metadata, spec, status, templates, strategies...) as {} and the
 * non-omitempty "containers" list as null. Comparing it with a new object gives the fields a
 * create sets exactly as kube-apiserver's field manager sees them. */
json_t *kos_fieldset_zero_object(const struct kos_kind *kind, const json_t *obj);

/* The schema side of the typed walks of server-side apply (managed_fields_internal.h).
 *
 * The schema comes from the field tables (api/schema.h) and the strategic merge patch
 * metadata (kos_patch_meta_lookup), which is what kube-openapi's schemaconv derives the
 * structured-merge-diff schema from: a list with patchStrategy merge and a merge key is an
 * associative list keyed by it (x-kubernetes-list-map-keys, where kube declares more keys,
 * come from a small table below), merge without a key is a set, every other list is atomic;
 * free-form values (SCHEMA_ANY, unknown fields, kinds without tables) are "deduced": objects
 * are maps and lists are atomic. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/managed_fields_internal.h"
#include "api/patch.h"
#include "api/schema.h"
#include "codec/json.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"

/* x-kubernetes-list-map-keys beyond the patch merge key (k8s.io/api core/v1 types.go), with
 * the +default that structured-merge-diff fills in for a missing key. */
static const struct {
    const char *merge_key;
    const char *keys[MAX_KEYS];
    const char *defaults[MAX_KEYS];
} list_map_keys[] = {
    {"containerPort", {"containerPort", "protocol"}, {NULL, "TCP"}}, /* Container.ports */
    {"port", {"port", "protocol"}, {NULL, "TCP"}},                   /* ServiceSpec.ports */
    {"topologyKey", {"topologyKey", "whenUnsatisfiable"}, {NULL, NULL}},
};

/* Structs marked +structType=atomic (x-kubernetes-map-type: atomic): owned as one leaf. */
static const char *const atomic_structs[] = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.core.v1.TypedObjectReference",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ConfigMapEnvSource",
    "io.k8s.api.core.v1.SecretEnvSource",
};

/* ---- types --------------------------------------------------------------------------------- */

static void set_path(struct mft_type *t, const struct mft_type *parent, const char *name)
{
    t->known = false;
    if (!parent->known)
        return;
    size_t a = strlen(parent->path), b = strlen(name), dot = a ? 1 : 0;
    if (a + dot + b == 0 || a + dot + b >= sizeof(t->path))
        return;
    memcpy(t->path, parent->path, a);
    t->path[a] = '.';
    memcpy(t->path + a + dot, name, b + 1);
    t->known = true;
}

static void list_type(const struct mft_walk *w, struct mft_type *t)
{
    struct kos_patch_meta m = {0};
    const struct schema_node *e = t->elem;
    bool scalar_items = e && e->type != SCHEMA_OBJECT && e->type != SCHEMA_ARRAY &&
                        e->type != SCHEMA_MAP && e->type != SCHEMA_ANY;
    t->shape = SH_ATOMIC_LIST;
    if (t->known)
        kos_patch_meta_lookup(w->kind, t->path, &m);
    if (!(m.strategy & KOS_PATCH_STRATEGY_MERGE))
        return;
    if (!m.merge_key) {
        if (scalar_items)
            t->shape = SH_SET;
        return;
    }
    if (!e || e->type != SCHEMA_OBJECT)
        return;
    t->shape = SH_ASSOC;
    t->keys[0] = m.merge_key;
    t->nkeys = 1;
    for (size_t i = 0; i < ARRAY_SIZE(list_map_keys); i++) {
        if (strcmp(list_map_keys[i].merge_key, m.merge_key) != 0)
            continue;
        for (t->nkeys = 0; t->nkeys < MAX_KEYS && list_map_keys[i].keys[t->nkeys]; t->nkeys++) {
            t->keys[t->nkeys] = list_map_keys[i].keys[t->nkeys];
            t->defaults[t->nkeys] = list_map_keys[i].defaults[t->nkeys];
        }
    }
}

static bool atomic_struct(const struct schema_struct *s)
{
    for (size_t i = 0; s->name && i < ARRAY_SIZE(atomic_structs); i++)
        if (strcmp(s->name, atomic_structs[i]) == 0)
            return true;
    return false;
}

/* Fills the shape of t from a schema node (t->path already set). */
static void node_type(const struct mft_walk *w, const struct schema_node *n, struct mft_type *t)
{
    t->shape = SH_DEDUCED;
    if (!n)
        return;
    switch (n->type) {
    case SCHEMA_OBJECT:
        if (n->ref) {
            t->shape = atomic_struct(n->ref) ? SH_LEAF : SH_STRUCT;
            t->st = n->ref;
        }
        break;
    case SCHEMA_MAP:
        t->shape = SH_MAP;
        t->elem = n->items;
        break;
    case SCHEMA_ARRAY:
        t->elem = n->items;
        list_type(w, t);
        break;
    case SCHEMA_ANY:
        break;
    default:
        t->shape = SH_LEAF;
    }
}

void mft_root_type(const struct mft_walk *w, struct mft_type *t)
{
    memset(t, 0, sizeof(*t));
    t->known = true;
    t->st = w->kind ? schema_for_kind(w->kind) : NULL;
    t->shape = t->st ? SH_STRUCT : SH_DEDUCED;
}

const struct schema_field *mft_struct_field(const struct mft_type *t, const char *name)
{
    return t->shape == SH_STRUCT ? schema_struct_field(t->st, name) : NULL;
}

/* The type of a map entry or struct field. */
void mft_field_type(const struct mft_walk *w, const struct mft_type *parent, const char *name,
                    struct mft_type *t)
{
    memset(t, 0, sizeof(*t));
    /* map keys are data, not field names: keep them out of the strategic-merge lookups */
    set_path(t, parent, parent->shape == SH_STRUCT ? name : "*");
    if (parent->shape == SH_STRUCT) {
        const struct schema_field *f = mft_struct_field(parent, name);
        t->shape = SH_DEDUCED;
        if (f)
            node_type(w, &f->node, t);
    } else if (parent->shape == SH_MAP) {
        node_type(w, parent->elem, t);
    } else {
        t->shape = SH_DEDUCED;
    }
}

void mft_item_type(const struct mft_walk *w, const struct mft_type *parent, struct mft_type *t)
{
    memset(t, 0, sizeof(*t));
    t->known = parent->known;
    memcpy(t->path, parent->path, sizeof(t->path));
    node_type(w, parent->elem, t);
}

bool mft_empty_container(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

/* How a pair of values at a type is walked. A value that does not fit the schema, and a pair
 * of empty containers (so that {} and null stay distinct), is one leaf. */
enum mft_shape mft_pair_shape(const struct mft_type *t, const json_t *l, const json_t *r)
{
    enum mft_shape sh = t->shape;
    const json_t *any = l ? l : r;
    if (sh == SH_DEDUCED) {
        if (l && r && json_typeof(l) != json_typeof(r))
            return SH_LEAF;
        sh = json_is_object(any) ? SH_MAP : SH_LEAF;
    }
    if (sh == SH_LEAF || sh == SH_ATOMIC_LIST)
        return SH_LEAF;
    bool is_map = sh == SH_STRUCT || sh == SH_MAP;
    const json_t *side[2] = {l, r};
    for (int i = 0; i < 2; i++) {
        const json_t *v = side[i];
        if (v && !json_is_null(v) && (is_map ? !json_is_object(v) : !json_is_array(v)))
            return SH_LEAF;
    }
    if (mft_empty_container(l) && mft_empty_container(r))
        return SH_LEAF;
    return sh;
}

/* ---- paths --------------------------------------------------------------------------------- */

int mft_push(struct mft_walk *w, const char *pe)
{
    if (w->depth >= KOS_FIELDSET_MAX_DEPTH)
        return -E2BIG;
    for (size_t i = 0; i < MFT_CURSORS; i++)
        if (w->cursor[i].valid > w->depth)
            w->cursor[i].valid = w->depth;
    w->path[w->depth++] = pe;
    return 0;
}

void mft_pop(struct mft_walk *w)
{
    w->depth--;
}

static struct mft_cursor *cursor_of(struct mft_walk *w, json_t *set)
{
    for (size_t i = 0; i < MFT_CURSORS; i++) {
        struct mft_cursor *c = &w->cursor[i];
        if (c->set == set || !c->set) {
            if (!c->set)
                *c = (struct mft_cursor){.set = set};
            return c;
        }
    }
    return NULL;
}

/* kos_fieldset_insert's rules, resumed from the cursor's nodes of the shared prefix. */
int mft_insert_here(struct mft_walk *w, json_t *set)
{
    size_t n = w->depth;
    struct mft_cursor *c = n ? cursor_of(w, set) : NULL;
    if (!c)
        return n ? kos_fieldset_insert(set, w->path, n) : 0;
    size_t k = c->valid < n ? c->valid : n;
    size_t i = k ? k - 1 : 0;
    json_t *cur = i ? c->node[i - 1] : set;
    for (; i < n; i++) {
        bool last = i + 1 == n;
        json_t *child = i < k ? c->node[i] : json_object_get(cur, w->path[i]);
        if (!child) {
            child = json_object();
            if (!child || json_object_set_new(cur, w->path[i], child) < 0) {
                c->valid = i;
                return -ENOMEM;
            }
        } else if (last) {
            if (json_object_size(child) != 0 && !json_object_get(child, ".") &&
                json_object_set_new(child, ".", json_object()) < 0)
                return -ENOMEM;
        } else if (json_object_size(child) == 0) {
            if (json_object_set_new(child, ".", json_object()) < 0)
                return -ENOMEM;
        }
        c->node[i] = child;
        cur = child;
    }
    c->valid = n;
    return 0;
}

char *mft_prefixed(const char *prefix, const char *s)
{
    size_t a = strlen(prefix), b = strlen(s);
    char *out = malloc(a + b + 1);
    if (out) {
        memcpy(out, prefix, a);
        memcpy(out + a, s, b + 1);
    }
    return out;
}

static int fail(struct mft_walk *w, size_t index, const char *why)
{
    _cleanup_free_ char *where = kos_fieldset_path_string(w->path, w->depth);
    return kos_error_set(w->err, 400, "BadRequest", "%s: element %zu: %s", where ? where : "",
                         index, why);
}

/* The path element of a list item: "k:{...}" for keyed lists, "v:..." for sets. NULL with
 * *why set when the item has no identity. */
static char *item_element(const struct mft_type *t, const json_t *item, char *why, size_t why_size)
{
    if (t->shape == SH_SET) {
        const char *bad = json_is_object(item)  ? "associative list without keys has an element "
                                                  "that's a map type"
                          : json_is_array(item) ? "not supported: associative list with lists "
                                                  "as elements"
                          : json_is_null(item)  ? "associative list without keys has an element "
                                                  "that's an explicit null"
                                                : NULL;
        if (bad) {
            snprintf(why, why_size, "%s", bad);
            return NULL;
        }
        _cleanup_free_ char *enc = kos_json_encode(item, NULL);
        return enc ? mft_prefixed("v:", enc) : NULL;
    }
    if (!json_is_object(item)) {
        snprintf(why, why_size, "%s",
                 json_is_null(item) ? "associative list with keys may not have a null element"
                                    : "associative list with keys may not have non-map elements");
        return NULL;
    }
    _cleanup_json_ json_t *key = json_object();
    for (size_t i = 0; key && i < t->nkeys; i++) {
        json_t *v = json_object_get(item, t->keys[i]);
        if (v)
            json_object_set(key, t->keys[i], v);
        else if (t->defaults[i])
            json_object_set_new(key, t->keys[i], json_string(t->defaults[i]));
    }
    if (!key)
        return NULL;
    if (json_object_size(key) == 0) {
        /* Go's %q of the []string of keys */
        char names[128] = "";
        size_t off = 0;
        for (size_t i = 0; i < t->nkeys && off < sizeof(names); i++)
            off += (size_t)snprintf(names + off, sizeof(names) - off, "%s\"%s\"", i ? " " : "",
                                    t->keys[i]);
        snprintf(why, why_size,
                 "associative list with keys has an element that omits all key fields [%s] (and "
                 "doesn't have default values for any key fields)",
                 names);
        return NULL;
    }
    _cleanup_free_ char *enc = kos_json_encode(key, NULL);
    return enc ? mft_prefixed("k:", enc) : NULL;
}

void mft_items_free(struct mft_items *it)
{
    for (size_t i = 0; it->pe && i < it->n; i++)
        free(it->pe[i]);
    free(it->pe);
    json_decref(it->count);
    json_decref(it->first);
    *it = (struct mft_items){0};
}

int mft_items_index(struct mft_walk *w, const struct mft_type *t, const json_t *list, bool no_dups,
                    struct mft_items *it)
{
    size_t n = json_array_size(list);
    char why[300];
    *it = (struct mft_items){0};
    it->count = json_object();
    it->first = json_object();
    it->pe = calloc(n ? n : 1, sizeof(char *));
    if (!it->count || !it->first || !it->pe)
        return -ENOMEM;
    it->n = n;
    for (size_t i = 0; i < n; i++) {
        why[0] = '\0';
        it->pe[i] = item_element(t, json_array_get(list, i), why, sizeof(why));
        if (!it->pe[i]) {
            if (!why[0])
                return -ENOMEM;
            if (w->flags & KOS_FIELDSET_STRICT)
                return fail(w, i, why);
            continue;
        }
        json_t *c = json_object_get(it->count, it->pe[i]);
        if (c && no_dups && (w->flags & KOS_FIELDSET_STRICT)) {
            _cleanup_free_ char *s = kos_fieldset_path_string((const char *const *)&it->pe[i], 1);
            snprintf(why, sizeof(why), "duplicate entries for key %s", s ? s : "");
            return fail(w, i, why);
        }
        if (json_object_set_new(it->count, it->pe[i],
                                json_integer(c ? json_integer_value(c) + 1 : 1)) < 0)
            return -ENOMEM;
        if (!c && json_object_set_new(it->first, it->pe[i], json_integer((json_int_t)i)) < 0)
            return -ENOMEM;
    }
    return 0;
}

json_int_t mft_items_count(const struct mft_items *it, const char *pe)
{
    return pe ? json_integer_value(json_object_get(it->count, pe)) : 0;
}

const json_t *mft_items_first(const struct mft_items *it, const json_t *list, const char *pe)
{
    json_t *i = pe ? json_object_get(it->first, pe) : NULL;
    return i ? json_array_get(list, (size_t)json_integer_value(i)) : NULL;
}

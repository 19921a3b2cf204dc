/* Schema lookups and the unknown-field walk behind fieldValidation=Strict/Warn.
 *
 * The walk reproduces what kube-apiserver's strict JSON decoding (sigs.k8s.io/json with
 * DisallowUnknownFields and CaseSensitive) reports: keys are matched exactly, each unknown key
 * is reported where it is met in document order as the dotted path of the keys above it
 * ("spec.containers[0].imagee"; map keys are path segments too: "spec.selector.matchLabels.x"),
 * nothing below an unknown key is looked at, free-form values (SCHEMA_ANY, Quantity, Time...)
 * are not entered, the same path is reported once and at most 100 are reported. */
#include "api/schema.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/schema_tables.h"
#include "util/buf.h"
#include "util/cleanup.h"

/* ---- lookups ------------------------------------------------------------------------------ */

struct kind_schema {
    const char *group;
    const char *kind;
    const struct schema_struct *schema;
};

static const struct kind_schema kind_schemas[] = {
    {"", "Namespace", &schema_core_namespace},
    {"", "Pod", &schema_core_pod},
    {"", "Node", &schema_core_node},
    {"", "ConfigMap", &schema_core_config_map},
    {"", "Secret", &schema_core_secret},
    {"", "ServiceAccount", &schema_core_service_account},
    {"", "Service", &schema_core_service},
    {"", "Endpoints", &schema_core_endpoints},
    {"", "Event", &schema_core_event},
    {"", "PersistentVolume", &schema_core_persistent_volume},
    {"", "PersistentVolumeClaim", &schema_core_persistent_volume_claim},
    {"", "Binding", &schema_core_binding},
    {"apps", "Deployment", &schema_apps_deployment},
    {"apps", "ReplicaSet", &schema_apps_replica_set},
    {"apps", "StatefulSet", &schema_apps_stateful_set},
    {"apps", "DaemonSet", &schema_apps_daemon_set},
    {"batch", "Job", &schema_batch_job},
    {"policy", "PodDisruptionBudget", &schema_policy_pod_disruption_budget},
    {"storage.k8s.io", "StorageClass", &schema_storage_storage_class},
    {"scheduling.k8s.io", "PriorityClass", &schema_scheduling_priority_class},
    {"coordination.k8s.io", "Lease", &schema_coordination_lease},
    {"discovery.k8s.io", "EndpointSlice", &schema_discovery_endpoint_slice},
    {"rbac.authorization.k8s.io", "Role", &schema_rbac_role},
    {"rbac.authorization.k8s.io", "RoleBinding", &schema_rbac_role_binding},
    {"rbac.authorization.k8s.io", "ClusterRole", &schema_rbac_cluster_role},
    {"rbac.authorization.k8s.io", "ClusterRoleBinding", &schema_rbac_cluster_role_binding},
    {"autoscaling", "Scale", &schema_autoscaling_scale},
};

const struct schema_struct *schema_for_group_kind(const char *group, const char *version,
                                                  const char *kind)
{
    if (!kind)
        return NULL;
    if (!group)
        group = "";
    if (version && strcmp(version, "v1") != 0)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(kind_schemas); i++)
        if (strcmp(kind_schemas[i].kind, kind) == 0 && strcmp(kind_schemas[i].group, group) == 0)
            return kind_schemas[i].schema;
    return NULL;
}

const struct schema_struct *schema_for_kind(const struct kos_kind *kind)
{
    if (!kind)
        return NULL;
    return schema_for_group_kind(kind->group, kind->version, kind->kind);
}

const struct schema_field *schema_struct_field(const struct schema_struct *s, const char *name)
{
    if (!s || !name)
        return NULL;
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return &s->fields[i];
    return NULL;
}

/* Like schema_struct_field for a key that need not be NUL-terminated (and may hold a NUL,
 * which then matches nothing). */
static const struct schema_field *struct_field_n(const struct schema_struct *s, const char *name,
                                                 size_t len)
{
    if (len == 0)
        return NULL; /* no field has an empty name */
    /* the first byte rules out most fields before a strncmp (a pod's walk asks ~70 times,
     * over structs of up to ~40 fields) */
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].name[0] == name[0] && strncmp(s->fields[i].name, name, len) == 0 &&
            s->fields[i].name[len] == '\0')
            return memchr(name, '\0', len) ? NULL : &s->fields[i];
    return NULL;
}

struct struct_list {
    const struct schema_struct *const *structs;
    const size_t *count;
};

static const struct struct_list struct_lists[] = {
    {schema_meta_structs, &schema_meta_nstructs},
    {schema_core_pod_structs, &schema_core_pod_nstructs},
    {schema_core_volume_structs, &schema_core_volume_nstructs},
    {schema_core_structs, &schema_core_nstructs},
    {schema_apps_structs, &schema_apps_nstructs},
    {schema_misc_structs, &schema_misc_nstructs},
    {schema_authz_structs, &schema_authz_nstructs},
};

size_t schema_struct_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(struct_lists); i++)
        n += *struct_lists[i].count;
    return n;
}

const struct schema_struct *schema_struct_at(size_t i)
{
    for (size_t l = 0; l < ARRAY_SIZE(struct_lists); l++) {
        if (i < *struct_lists[l].count)
            return struct_lists[l].structs[i];
        i -= *struct_lists[l].count;
    }
    return NULL;
}

const struct schema_struct *schema_struct_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t l = 0; l < ARRAY_SIZE(struct_lists); l++)
        for (size_t i = 0; i < *struct_lists[l].count; i++)
            if (strcmp(struct_lists[l].structs[i]->name, name) == 0)
                return struct_lists[l].structs[i];
    return NULL;
}

const struct schema_struct *schema_node_struct(const struct schema_node *n)
{
    while (n && (n->type == SCHEMA_ARRAY || n->type == SCHEMA_MAP))
        n = n->items;
    return n && n->type == SCHEMA_OBJECT ? n->ref : NULL;
}

const struct schema_field *schema_field_at_path(const struct schema_struct *s, const char *path)
{
    const struct schema_field *f = NULL;

    if (!s || !path || !*path)
        return NULL;
    for (const char *p = path;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);

        if (!s || len == 0)
            return NULL;
        f = struct_field_n(s, p, len);
        if (!f)
            return NULL;
        if (!dot)
            return f;
        s = schema_node_struct(&f->node);
        p = dot + 1;
    }
}

/* ---- unknown fields ----------------------------------------------------------------------- */

/* Longest path we build. Only the last segment of a reported path can be long (prefixes are
 * known field names, indices and map keys), so this is about the largest body a client may
 * send; past it the walk fails with -E2BIG. */
#define PATH_LIMIT (4 * 1024 * 1024)
/* Deeper than any tree our decoders build (KOS_JSON_MAX_DEPTH); past it: -E2BIG. */
#define WALK_MAX_DEPTH 256

/* One step of the path to the value being walked: a key, or a list index. The path is
 * rendered only for a field to report: building it at every step (an snprintf per list item)
 * was a third of the walk of a valid pod, which reports nothing. */
struct walk_seg {
    const char *key; /* NULL for an index */
    size_t len;      /* the key's length, or the index */
};

struct walk {
    struct walk_seg segs[WALK_MAX_DEPTH];
    size_t depth;
    char **paths;
    size_t npaths;
    int error;
    bool prune; /* remove unknown fields (and walk past the reporting limit) */
};

static void walk_free(struct walk *w)
{
    schema_paths_free(w->paths, w->npaths);
    w->paths = NULL;
    w->npaths = 0;
}

static bool walk_full(const struct walk *w)
{
    return w->error < 0 || (!w->prune && w->npaths >= SCHEMA_MAX_UNKNOWN_FIELDS);
}

static void path_truncate(struct walk *w, size_t depth)
{
    if (depth <= w->depth)
        w->depth = depth;
}

static int path_push(struct walk *w, const char *key, size_t len)
{
    if (w->depth == WALK_MAX_DEPTH)
        return -E2BIG;
    w->segs[w->depth++] = (struct walk_seg){key, len};
    return 0;
}

/* "key" at the root, ".key" after it (when the path so far is not empty), "[i]" for an
 * index. */
static int path_render(const struct walk *w, struct kos_buf *b)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < w->depth; i++) {
        const struct walk_seg *g = &w->segs[i];
        if (!g->key) {
            r = kos_buf_printf(b, "[%zu]", g->len);
            continue;
        }
        if (b->len > 0)
            r = kos_buf_append(b, ".", 1);
        if (r == 0)
            r = kos_buf_append(b, g->key, g->len);
    }
    return r;
}

static void report(struct walk *w)
{
    char **grown;

    if (w->npaths >= SCHEMA_MAX_UNKNOWN_FIELDS)
        return;
    _cleanup_buf_ struct kos_buf path;
    kos_buf_init(&path, PATH_LIMIT);
    int r = path_render(w, &path);
    if (r == 0)
        r = kos_buf_append(&path, "", 0); /* the NUL of an empty path */
    if (r < 0) {
        w->error = r;
        return;
    }
    for (size_t i = 0; i < w->npaths; i++)
        if (strcmp(w->paths[i], path.data) == 0)
            return;
    grown = reallocarray(w->paths, w->npaths + 1, sizeof(*w->paths));
    if (!grown) {
        w->error = -ENOMEM;
        return;
    }
    w->paths = grown;
    w->paths[w->npaths++] = kos_buf_steal(&path, NULL);
}

static bool node_has_fields(const struct schema_node *n)
{
    while (n->type == SCHEMA_ARRAY || n->type == SCHEMA_MAP)
        n = n->items;
    return n->type == SCHEMA_OBJECT && n->ref;
}

static void walk_node(struct walk *w, const struct schema_node *n, const json_t *v);

static void walk_struct(struct walk *w, const struct schema_struct *s, const json_t *obj)
{
    const char *key;
    size_t key_len;
    json_t *value;
    void *tmp;

    /* The _safe iteration lets pruning delete the current key. */
    json_object_keylen_foreach_safe((json_t *)obj, tmp, key, key_len, value)
    {
        const struct schema_field *f = struct_field_n(s, key, key_len);
        size_t mark = w->depth;

        if (walk_full(w))
            return;
        if (f && !node_has_fields(&f->node))
            continue;
        w->error = path_push(w, key, key_len);
        if (w->error < 0)
            return;
        if (f) {
            walk_node(w, &f->node, value);
        } else {
            report(w);
            if (w->prune)
                json_object_deln((json_t *)obj, key, key_len);
        }
        path_truncate(w, mark);
    }
}

static void walk_node(struct walk *w, const struct schema_node *n, const json_t *v)
{
    const char *key;
    size_t key_len, i;
    json_t *item;

    switch (n->type) {
    case SCHEMA_OBJECT:
        if (n->ref && json_is_object(v))
            walk_struct(w, n->ref, v);
        return;
    case SCHEMA_ARRAY:
        if (!json_is_array(v) || !node_has_fields(n->items))
            return;
        json_array_foreach(v, i, item)
        {
            size_t mark = w->depth;

            if (walk_full(w))
                return;
            w->error = path_push(w, NULL, i);
            if (w->error < 0)
                return;
            walk_node(w, n->items, item);
            path_truncate(w, mark);
        }
        return;
    case SCHEMA_MAP:
        if (!json_is_object(v) || !node_has_fields(n->items))
            return;
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            size_t mark = w->depth;

            if (walk_full(w))
                return;
            w->error = path_push(w, key, key_len);
            if (w->error < 0)
                return;
            walk_node(w, n->items, item);
            path_truncate(w, mark);
        }
        return;
    default:
        return;
    }
}

static int unknown_fields(const struct schema_struct *s, const json_t *obj, bool prune,
                          char ***ret_paths)
{
    struct walk w; /* the segments are written before they are read: not cleared */
    w.depth = 0;
    w.paths = NULL;
    w.npaths = 0;
    w.error = 0;
    w.prune = prune;

    if (!ret_paths)
        return -EINVAL;
    if (s && json_is_object(obj))
        walk_struct(&w, s, obj);
    if (w.error < 0) {
        int r = w.error;

        walk_free(&w);
        return r;
    }
    *ret_paths = w.paths;
    return (int)w.npaths;
}

int schema_unknown_fields_in(const struct schema_struct *s, const json_t *obj, char ***ret_paths)
{
    return unknown_fields(s, obj, false, ret_paths);
}

int schema_unknown_fields(const struct kos_kind *kind, const json_t *obj, char ***ret_paths)
{
    return unknown_fields(schema_for_kind(kind), obj, false, ret_paths);
}

int schema_prune_unknown_fields(const struct kos_kind *kind, json_t *obj, char ***ret_paths)
{
    return unknown_fields(schema_for_kind(kind), obj, true, ret_paths);
}

void schema_paths_free(char **paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

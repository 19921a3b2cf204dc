/* The Node authorizer: request dispatch (node_authorizer.go) over a reference-counted edge set
 * that stands in for kube's graph: "object X is used by a pod bound to node N". */
#include "apiserver/authz/node.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/selector.h"
#include "apiserver/authz/bootstrap_roles.h"
#include "apiserver/authz/map.h"
#include "apiserver/authz/rbac_internal.h"
#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define NODE_LEASE_NAMESPACE "kube-node-lease"
/* Filling the graph with 10,000 pods takes about half a second of CPU. */
#define NODE_GRAPH_SYNC_WAIT_MS 30000

/* Vertex types, as characters in the keys below. */
enum {
    V_POD = 'p',
    V_SECRET = 's',
    V_CONFIGMAP = 'c',
    V_PVC = 'v',
    V_SERVICEACCOUNT = 'a',
};

struct pod_entry {
    char **edges; /* full edge keys (object + node) this pod holds a count on */
    size_t nedges;
};

struct pv_entry {
    char *claim; /* object key of the bound PVC, or NULL */
    char **secrets;
    size_t nsecrets;
};

struct authz_node_authorizer {
    pthread_rwlock_t lock;
    /* see authz_node_set_synced; the mutex and condvar are only for waiting on it */
    atomic_bool synced;
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cond;
    bool with_selectors;
    struct rbac_rules node_rules;
    struct authz_map pods;  /* object key of the pod -> pod_entry */
    struct authz_map edges; /* edge key -> count (as a pointer-sized integer) */
    struct authz_map pvs;   /* name -> pv_entry */
    struct authz_map vas;   /* name -> node name (malloc'd) */
};

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Lengths make the keys unambiguous whatever the names contain; the node name is the rest. */
static char *object_key(char type, const char *ns, const char *name)
{
    return fmt("%c%zu:%s%zu:%s", type, strlen(ns), ns, strlen(name), name);
}

static char *edge_key(const char *object, const char *node)
{
    return fmt("%s%s", object, node);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strv_push(char ***v, size_t *n, char *s)
{
    if (!s)
        return -ENOMEM;
    char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
    if (!nv) {
        free(s);
        return -ENOMEM;
    }
    *v = nv;
    (*v)[(*n)++] = s;
    return 0;
}

static void pod_entry_free(void *p)
{
    struct pod_entry *e = p;
    if (!e)
        return;
    strv_free(e->edges, e->nedges);
    free(e);
}

static void pv_entry_free(void *p)
{
    struct pv_entry *e = p;
    if (!e)
        return;
    free(e->claim);
    strv_free(e->secrets, e->nsecrets);
    free(e);
}

int authz_node_new(bool with_selectors, struct authz_node_authorizer **ret)
{
    struct authz_node_authorizer *n = calloc(1, sizeof(*n));
    if (!n)
        return -ENOMEM;
    _cleanup_json_ json_t *rules = authz_bootstrap_node_rules();
    int k = rules ? rbac_rules_parse(rules, &n->node_rules) : -ENOMEM;
    if (k == 0) {
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        k = -pthread_rwlock_init(&n->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    if (k < 0) {
        rbac_rules_free(&n->node_rules);
        free(n);
        return k;
    }
    n->with_selectors = with_selectors;
    atomic_init(&n->synced, true);
    pthread_mutex_init(&n->sync_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->sync_cond, &ca);
    pthread_condattr_destroy(&ca);
    authz_map_init(&n->pods);
    authz_map_init(&n->edges);
    authz_map_init(&n->pvs);
    authz_map_init(&n->vas);
    *ret = n;
    return 0;
}

void authz_node_free(struct authz_node_authorizer *n)
{
    if (!n)
        return;
    authz_map_clear(&n->pods, pod_entry_free);
    authz_map_clear(&n->edges, NULL);
    authz_map_clear(&n->pvs, pv_entry_free);
    authz_map_clear(&n->vas, free);
    rbac_rules_free(&n->node_rules);
    pthread_rwlock_destroy(&n->lock);
    pthread_cond_destroy(&n->sync_cond);
    pthread_mutex_destroy(&n->sync_mu);
    free(n);
}

void authz_node_set_synced(struct authz_node_authorizer *n, bool synced)
{
    pthread_mutex_lock(&n->sync_mu);
    atomic_store(&n->synced, synced);
    if (synced)
        pthread_cond_broadcast(&n->sync_cond);
    pthread_mutex_unlock(&n->sync_mu);
}

int authz_node_wait_synced(struct authz_node_authorizer *n, int timeout_ms)
{
    if (atomic_load(&n->synced))
        return 0;
    struct timespec deadline = kos_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms);
    int r = 0;
    pthread_mutex_lock(&n->sync_mu);
    while (r == 0 && !atomic_load(&n->synced))
        if (pthread_cond_timedwait(&n->sync_cond, &n->sync_mu, &deadline) == ETIMEDOUT)
            r = atomic_load(&n->synced) ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&n->sync_mu);
    return r;
}

/* ---- edges ---- */

static uintptr_t edge_count(const struct authz_node_authorizer *n, const char *key)
{
    return (uintptr_t)authz_map_get(&n->edges, key);
}

static int edge_inc(struct authz_node_authorizer *n, const char *key)
{
    return authz_map_put(&n->edges, key, (void *)(edge_count(n, key) + 1), NULL);
}

static void edge_dec(struct authz_node_authorizer *n, const char *key)
{
    uintptr_t c = edge_count(n, key);
    if (c <= 1)
        authz_map_remove(&n->edges, key);
    else
        (void)authz_map_put(&n->edges, key, (void *)(c - 1), NULL); /* replaces: no allocation */
}

static void pod_remove_locked(struct authz_node_authorizer *n, const char *pod_key)
{
    struct pod_entry *e = authz_map_remove(&n->pods, pod_key);
    for (size_t i = 0; e && i < e->nedges; i++)
        edge_dec(n, e->edges[i]);
    pod_entry_free(e);
}

/* ---- pod references (podutil.VisitPodSecretNames / VisitPodConfigmapNames, PVCs) ---- */

struct refs {
    const char *ns;
    const char *node;
    char **v;
    size_t n;
    int error;
};

static void add_ref(struct refs *r, char type, const char *name)
{
    if (r->error < 0 || !name || !*name)
        return;
    _cleanup_free_ char *obj = object_key(type, r->ns, name);
    r->error = obj ? strv_push(&r->v, &r->n, edge_key(obj, r->node)) : -ENOMEM;
}

static const char *jstr(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v);
}

static void container_refs(struct refs *r, const json_t *containers)
{
    size_t i, j;
    const json_t *c, *e;
    json_array_foreach(containers, i, c)
    {
        json_array_foreach(json_object_get(c, "env"), j, e)
        {
            const json_t *from = json_object_get(e, "valueFrom");
            add_ref(r, V_SECRET, jstr(from, "secretKeyRef", "name"));
            add_ref(r, V_CONFIGMAP, jstr(from, "configMapKeyRef", "name"));
        }
        json_array_foreach(json_object_get(c, "envFrom"), j, e)
        {
            add_ref(r, V_SECRET, jstr(e, "secretRef", "name"));
            add_ref(r, V_CONFIGMAP, jstr(e, "configMapRef", "name"));
        }
    }
}

/* Volume sources that name a secret through secretRef. */
static const char *const secret_ref_sources[] = {
    "cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos",
};

static void volume_refs(struct refs *r, const char *pod_name, const json_t *volumes)
{
    size_t i, j;
    const json_t *v, *src;
    json_array_foreach(volumes, i, v)
    {
        add_ref(r, V_SECRET, jstr(v, "secret", "secretName"));
        add_ref(r, V_SECRET, jstr(v, "azureFile", "secretName"));
        for (size_t s = 0; s < ARRAY_SIZE(secret_ref_sources); s++)
            add_ref(r, V_SECRET,
                    json_string_value(json_object_get(
                        json_object_get(json_object_get(v, secret_ref_sources[s]), "secretRef"),
                        "name")));
        add_ref(r, V_SECRET, jstr(json_object_get(v, "csi"), "nodePublishSecretRef", "name"));
        add_ref(r, V_CONFIGMAP, jstr(v, "configMap", "name"));
        json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j, src)
        {
            add_ref(r, V_SECRET, jstr(src, "secret", "name"));
            add_ref(r, V_CONFIGMAP, jstr(src, "configMap", "name"));
        }
        add_ref(r, V_PVC, jstr(v, "persistentVolumeClaim", "claimName"));
        /* a generic ephemeral volume's claim is named <pod>-<volume> */
        const char *vname = json_string_value(json_object_get(v, "name"));
        if (json_is_object(json_object_get(v, "ephemeral")) && vname && r->error == 0) {
            _cleanup_free_ char *claim = fmt("%s-%s", pod_name, vname);
            if (!claim)
                r->error = -ENOMEM;
            add_ref(r, V_PVC, claim);
        }
    }
}

int authz_node_pod_set(struct authz_node_authorizer *n, const json_t *pod)
{
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *spec = json_object_get(pod, "spec");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    if (!ns || !name)
        return -EINVAL;
    _cleanup_free_ char *key = object_key(V_POD, ns, name);
    if (!key)
        return -ENOMEM;

    struct refs r = {.ns = ns, .node = node};
    if (node && *node) {
        add_ref(&r, V_POD, name);
        add_ref(&r, V_SERVICEACCOUNT, jstr(spec, "serviceAccountName", NULL));
        size_t i;
        const json_t *s;
        json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, s)
            add_ref(&r, V_SECRET, jstr(s, "name", NULL));
        container_refs(&r, json_object_get(spec, "initContainers"));
        container_refs(&r, json_object_get(spec, "containers"));
        container_refs(&r, json_object_get(spec, "ephemeralContainers"));
        volume_refs(&r, name, json_object_get(spec, "volumes"));
    }
    struct pod_entry *e = NULL;
    if (r.error == 0 && r.n > 0 && !(e = calloc(1, sizeof(*e))))
        r.error = -ENOMEM;

    pthread_rwlock_wrlock(&n->lock);
    pod_remove_locked(n, key); /* whatever follows, the old edges go: fail closed */
    if (r.error == 0 && e) {
        size_t i = 0;
        while (i < r.n && (r.error = edge_inc(n, r.v[i])) == 0)
            i++;
        if (r.error < 0) {
            while (i > 0)
                edge_dec(n, r.v[--i]);
            free(e);
        } else {
            e->edges = TAKE_PTR(r.v);
            e->nedges = r.n;
            r.n = 0;
            r.error = authz_map_put(&n->pods, key, e, NULL);
            if (r.error < 0) {
                for (size_t j = 0; j < e->nedges; j++)
                    edge_dec(n, e->edges[j]);
                pod_entry_free(e);
            }
        }
    } else {
        free(e);
    }
    pthread_rwlock_unlock(&n->lock);
    strv_free(r.v, r.n);
    return r.error;
}

int authz_node_pod_delete(struct authz_node_authorizer *n, const char *namespace_, const char *name)
{
    _cleanup_free_ char *key = object_key(V_POD, authz_str(namespace_), authz_str(name));
    if (!key)
        return -ENOMEM;
    pthread_rwlock_wrlock(&n->lock);
    bool found = authz_map_get(&n->pods, key) != NULL;
    pod_remove_locked(n, key);
    pthread_rwlock_unlock(&n->lock);
    return found ? 0 : -ENOENT;
}

/* ---- persistent volumes and attachments ---- */

/* PV sources whose secretRef carries its own namespace (defaulting to the claim's). */
static const char *const pv_secret_sources[] = {
    "cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos",
};

static int pv_add_secret(struct pv_entry *e, const json_t *ref, const char *default_ns)
{
    const char *name = json_string_value(json_object_get(ref, "name"));
    const char *ns = json_string_value(json_object_get(ref, "namespace"));
    if (!name || !*name)
        return 0;
    if (!ns || !*ns)
        ns = default_ns;
    return strv_push(&e->secrets, &e->nsecrets, object_key(V_SECRET, ns, name));
}

int authz_node_pv_set(struct authz_node_authorizer *n, const json_t *pv)
{
    const char *name = json_string_value(json_object_get(json_object_get(pv, "metadata"), "name"));
    if (!name)
        return -EINVAL;
    const json_t *spec = json_object_get(pv, "spec");
    const json_t *claim = json_object_get(spec, "claimRef");
    const char *cns = authz_str(jstr(claim, "namespace", NULL));
    const char *cname = jstr(claim, "name", NULL);

    struct pv_entry *e = calloc(1, sizeof(*e));
    int k = e ? 0 : -ENOMEM;
    if (k == 0 && cname && *cname && !(e->claim = object_key(V_PVC, cns, cname)))
        k = -ENOMEM;
    for (size_t s = 0; k == 0 && s < ARRAY_SIZE(pv_secret_sources); s++)
        k = pv_add_secret(
            e, json_object_get(json_object_get(spec, pv_secret_sources[s]), "secretRef"), cns);
    const json_t *csi = json_object_get(spec, "csi");
    static const char *const csi_refs[] = {"nodePublishSecretRef", "nodeStageSecretRef",
                                           "controllerPublishSecretRef",
                                           "controllerExpandSecretRef", "nodeExpandSecretRef"};
    for (size_t s = 0; k == 0 && s < ARRAY_SIZE(csi_refs); s++)
        k = pv_add_secret(e, json_object_get(csi, csi_refs[s]), cns);
    const json_t *azure = json_object_get(spec, "azureFile");
    if (k == 0 && jstr(azure, "secretName", NULL)) {
        const char *ans = jstr(azure, "secretNamespace", NULL);
        k = strv_push(
            &e->secrets, &e->nsecrets,
            object_key(V_SECRET, ans && *ans ? ans : "default", jstr(azure, "secretName", NULL)));
    }

    pthread_rwlock_wrlock(&n->lock);
    pv_entry_free(authz_map_remove(&n->pvs, name));
    if (k == 0)
        k = authz_map_put(&n->pvs, name, e, NULL);
    pthread_rwlock_unlock(&n->lock);
    if (k < 0)
        pv_entry_free(e);
    return k;
}

int authz_node_pv_delete(struct authz_node_authorizer *n, const char *name)
{
    pthread_rwlock_wrlock(&n->lock);
    struct pv_entry *e = authz_map_remove(&n->pvs, authz_str(name));
    pthread_rwlock_unlock(&n->lock);
    pv_entry_free(e);
    return e ? 0 : -ENOENT;
}

int authz_node_va_set(struct authz_node_authorizer *n, const json_t *va)
{
    const char *name = json_string_value(json_object_get(json_object_get(va, "metadata"), "name"));
    const char *node = jstr(json_object_get(va, "spec"), "nodeName", NULL);
    if (!name)
        return -EINVAL;
    char *copy = node && *node ? strdup(node) : NULL;
    int k = node && *node && !copy ? -ENOMEM : 0;
    pthread_rwlock_wrlock(&n->lock);
    free(authz_map_remove(&n->vas, name));
    if (k == 0 && copy)
        k = authz_map_put(&n->vas, name, copy, NULL);
    pthread_rwlock_unlock(&n->lock);
    if (k < 0)
        free(copy);
    return k;
}

int authz_node_va_delete(struct authz_node_authorizer *n, const char *name)
{
    pthread_rwlock_wrlock(&n->lock);
    char *node = authz_map_remove(&n->vas, authz_str(name));
    pthread_rwlock_unlock(&n->lock);
    free(node);
    return node ? 0 : -ENOENT;
}

/* ---- authorize ---- */

bool authz_node_identity(const struct kos_user *user, const char **node_name)
{
    if (!user || !user->name || !kos_str_has_prefix(user->name, AUTHZ_NODE_USER_PREFIX) ||
        !authz_user_in_group(user, AUTHZ_GROUP_NODES))
        return false;
    *node_name = user->name + strlen(AUTHZ_NODE_USER_PREFIX);
    return true;
}

enum target {
    T_SECRET,
    T_CONFIGMAP,
    T_PVC,
    T_PV,
    T_VA,
    T_SERVICEACCOUNT,
    T_POD,
};

static bool edge_exists(struct authz_node_authorizer *n, const char *object, const char *node,
                        int *err)
{
    _cleanup_free_ char *key = edge_key(object, node);
    if (!key)
        *err = -ENOMEM;
    return key && edge_count(n, key) > 0;
}

/* hasPathFrom: is the object used by a pod bound to this node (directly or through a PV)? */
static bool has_path_locked(struct authz_node_authorizer *n, enum target t, const char *ns,
                            const char *name, const char *node, int *err)
{
    static const char types[] = {
        [T_SECRET] = V_SECRET,
        [T_CONFIGMAP] = V_CONFIGMAP,
        [T_PVC] = V_PVC,
        [T_PV] = 0,
        [T_VA] = 0,
        [T_SERVICEACCOUNT] = V_SERVICEACCOUNT,
        [T_POD] = V_POD,
    };
    if (t == T_VA) {
        const char *va_node = authz_map_get(&n->vas, name);
        return va_node && strcmp(va_node, node) == 0;
    }
    if (t == T_PV) {
        const struct pv_entry *pv = authz_map_get(&n->pvs, name);
        return pv && pv->claim && edge_exists(n, pv->claim, node, err);
    }
    _cleanup_free_ char *obj = object_key(types[t], ns, name);
    if (!obj) {
        *err = -ENOMEM;
        return false;
    }
    if (edge_exists(n, obj, node, err))
        return true;
    if (t != T_SECRET)
        return false;
    /* secret <- pv <- pvc <- pod <- node */
    struct authz_map_iter it;
    void *v;
    authz_map_iter_init(&n->pvs, &it);
    while (authz_map_iter_next(&n->pvs, &it, NULL, &v)) {
        const struct pv_entry *pv = v;
        for (size_t i = 0; pv->claim && i < pv->nsecrets; i++)
            if (strcmp(pv->secrets[i], obj) == 0 && edge_exists(n, pv->claim, node, err))
                return true;
    }
    return false;
}

struct verdict {
    int decision;
    const char *reason; /* static text, or NULL */
    char *dyn;          /* or a built one */
};

static struct verdict no(const char *reason)
{
    return (struct verdict){.decision = AUTHZ_NO_OPINION, .reason = reason};
}

static struct verdict yes(void)
{
    return (struct verdict){.decision = AUTHZ_ALLOW};
}

static bool verb_in(const char *verb, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(verb, *set) == 0)
            return true;
    return false;
}

/* authorize(): a named object with a path to the node. */
static struct verdict related(struct authz_node_authorizer *n, const char *node, enum target t,
                              const struct authz_attributes *a)
{
    const char *name = authz_str(a->name);
    if (!*name)
        return no("No Object name found");
    /* Right after start the graph may still be filling (authz_node_set_synced): this request
     * waits for it rather than be refused for a relationship not loaded yet, or worse,
     * allowed by one whose removal is not loaded yet. */
    if (authz_node_wait_synced(n, NODE_GRAPH_SYNC_WAIT_MS) < 0)
        return no("the node authorizer's graph is not loaded yet");
    int err = 0;
    pthread_rwlock_rdlock(&n->lock);
    bool ok = has_path_locked(n, t, authz_str(a->namespace_), name, node, &err);
    pthread_rwlock_unlock(&n->lock);
    if (err < 0)
        return (struct verdict){.decision = err};
    if (ok)
        return yes();
    struct verdict v = {.decision = AUTHZ_NO_OPINION};
    if (!(v.dyn = fmt("no relationship found between node '%s' and this object", node)))
        v.decision = -ENOMEM;
    return v;
}

static struct verdict read_namespaced(struct authz_node_authorizer *n, const char *node,
                                      enum target t, const struct authz_attributes *a)
{
    static const char *const read[] = {"get", "list", "watch", NULL};
    if (!verb_in(authz_str(a->verb), read))
        return no("can only read resources of this type");
    if (a->subresource && *a->subresource)
        return no("cannot read subresource");
    if (!a->namespace_ || !*a->namespace_)
        return no("can only read namespaced object of this type");
    return related(n, node, t, a);
}

static struct verdict get_only(struct authz_node_authorizer *n, const char *node, enum target t,
                               const struct authz_attributes *a)
{
    if (strcmp(authz_str(a->verb), "get") != 0)
        return no("can only get individual resources of this type");
    if (a->subresource && *a->subresource)
        return no("cannot get subresource");
    return related(n, node, t, a);
}

static struct verdict status_update(struct authz_node_authorizer *n, const char *node,
                                    enum target t, const struct authz_attributes *a)
{
    static const char *const upd[] = {"update", "patch", NULL};
    if (!verb_in(authz_str(a->verb), upd))
        return no("can only get/update/patch this type");
    if (strcmp(authz_str(a->subresource), "status") != 0)
        return no("can only update status subresource");
    return related(n, node, t, a);
}

static struct verdict create_token(struct authz_node_authorizer *n, const char *node,
                                   const struct authz_attributes *a)
{
    if (strcmp(authz_str(a->verb), "create") != 0 || !a->name || !*a->name)
        return no("can only create tokens for individual service accounts");
    if (strcmp(authz_str(a->subresource), "token") != 0)
        return no("can only create token subresource of serviceaccount");
    return related(n, node, T_SERVICEACCOUNT, a);
}

static const char *const lease_verbs[] = {"get", "create", "update", "patch", "delete", NULL};

static struct verdict lease(const char *node, const struct authz_attributes *a)
{
    const char *verb = authz_str(a->verb);
    if (!verb_in(verb, lease_verbs))
        return no("can only get, create, update, patch, or delete a node lease");
    if (strcmp(authz_str(a->namespace_), NODE_LEASE_NAMESPACE) != 0)
        return no("can only access leases in the \"" NODE_LEASE_NAMESPACE "\" system namespace");
    /* on create the name is not known yet: NodeRestriction admission checks it */
    if (strcmp(verb, "create") != 0 && strcmp(authz_str(a->name), node) != 0)
        return no("can only access node lease with the same name as the requesting node");
    return yes();
}

static struct verdict csinode(const char *node, const struct authz_attributes *a)
{
    const char *verb = authz_str(a->verb);
    if (!verb_in(verb, lease_verbs))
        return no("can only get, create, update, patch, or delete a CSINode");
    if (a->subresource && *a->subresource)
        return no("cannot authorize CSINode subresources");
    if (strcmp(verb, "create") != 0 && strcmp(authz_str(a->name), node) != 0)
        return no("can only access CSINode with the same name as the requesting node");
    return yes();
}

/* authorizeNode (AuthorizeNodeWithSelectors) */
static struct verdict node_object(const char *node, const struct authz_attributes *a)
{
    static const char *const write[] = {"create", "update", "patch", NULL};
    static const char *const read[] = {"get", "list", "watch", NULL};
    const char *verb = authz_str(a->verb), *sub = authz_str(a->subresource);
    const char *name = authz_str(a->name);
    if (!*sub && verb_in(verb, write))
        return yes();
    if (!*sub && verb_in(verb, read)) {
        if (strcmp(name, node) == 0)
            return yes();
        struct verdict v = {.decision = AUTHZ_NO_OPINION};
        v.dyn = *name ? fmt("node '%s' cannot read '%s', only its own Node object", node, name)
                      : fmt("node '%s' cannot read all nodes, only its own Node object", node);
        if (!v.dyn)
            v.decision = -ENOMEM;
        return v;
    }
    if (strcmp(sub, "status") == 0 && (strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0))
        return yes();
    return no(NULL);
}

static bool selects_node(const struct authz_attributes *a, const char *node)
{
    if (!a->field_selector)
        return false;
    struct field_selector *fs = NULL;
    struct kos_error *err = NULL;
    bool ok = field_selector_parse(a->field_selector, &fs, &err) == 0 &&
              kos_streq_null(field_selector_required_value(fs, "spec.nodeName"), node);
    field_selector_free(fs);
    kos_error_free(err);
    return ok;
}

/* authorizePod (AuthorizeNodeWithSelectors) */
static struct verdict pod_object(struct authz_node_authorizer *n, const char *node,
                                 const struct authz_attributes *a)
{
    const char *verb = authz_str(a->verb), *sub = authz_str(a->subresource);
    if (!*sub) {
        if (strcmp(verb, "get") == 0)
            return get_only(n, node, T_POD, a);
        if (strcmp(verb, "list") == 0 || strcmp(verb, "watch") == 0) {
            if (selects_node(a, node))
                return yes();
            if (a->name && *a->name)
                return related(n, node, T_POD, a);
            return no("can only list/watch pods with spec.nodeName field selector");
        }
        if (strcmp(verb, "create") == 0 || strcmp(verb, "delete") == 0)
            return yes(); /* mirror pods; NodeRestriction admission limits them */
    } else if (strcmp(sub, "status") == 0) {
        if (strcmp(verb, "update") == 0 || strcmp(verb, "patch") == 0)
            return yes();
    } else if (strcmp(sub, "eviction") == 0 && strcmp(verb, "create") == 0) {
        return yes();
    }
    return no(NULL);
}

static struct verdict decide(struct authz_node_authorizer *n, const char *node,
                             const struct authz_attributes *a)
{
    if (a->resource_request) {
        const char *g = authz_str(a->api_group), *r = authz_str(a->resource);
        bool core = !*g, storage = strcmp(g, "storage.k8s.io") == 0;
        if (core && strcmp(r, "secrets") == 0)
            return read_namespaced(n, node, T_SECRET, a);
        if (core && strcmp(r, "configmaps") == 0)
            return read_namespaced(n, node, T_CONFIGMAP, a);
        if (core && strcmp(r, "persistentvolumeclaims") == 0)
            return strcmp(authz_str(a->subresource), "status") == 0
                       ? status_update(n, node, T_PVC, a)
                       : get_only(n, node, T_PVC, a);
        if (core && strcmp(r, "persistentvolumes") == 0)
            return get_only(n, node, T_PV, a);
        if (storage && strcmp(r, "volumeattachments") == 0)
            return get_only(n, node, T_VA, a);
        if (core && strcmp(r, "serviceaccounts") == 0)
            return create_token(n, node, a);
        if (strcmp(g, "coordination.k8s.io") == 0 && strcmp(r, "leases") == 0)
            return lease(node, a);
        if (storage && strcmp(r, "csinodes") == 0)
            return csinode(node, a);
        if (n->with_selectors && core && strcmp(r, "nodes") == 0)
            return node_object(node, a);
        if (n->with_selectors && core && strcmp(r, "pods") == 0)
            return pod_object(n, node, a);
    }
    /* everything else is not subdivided: NodeRules apply to every node alike */
    return rbac_rules_allow(&n->node_rules, a) ? yes() : no(NULL);
}

int authz_node_authorize(struct authz_node_authorizer *n, const struct authz_attributes *attrs,
                         char **reason)
{
    const char *node;
    if (reason)
        *reason = NULL;
    if (!authz_node_identity(attrs->user, &node))
        return AUTHZ_NO_OPINION;
    struct verdict v;
    if (!*node) {
        v.decision = AUTHZ_NO_OPINION;
        v.reason = NULL;
        struct kos_buf b;
        kos_buf_init(&b, AUTHZ_MESSAGE_MAX);
        if (kos_buf_append_str(&b, "unknown node for user ") < 0 ||
            authz_buf_go_quote(&b, attrs->user->name) < 0)
            v.decision = -ENOMEM;
        v.dyn = v.decision < 0 ? NULL : kos_buf_steal(&b, NULL);
        kos_buf_free(&b);
    } else {
        v = decide(n, node, attrs);
    }
    if (v.decision >= 0 && reason) {
        if (v.dyn)
            *reason = TAKE_PTR(v.dyn);
        else if (v.reason && !(*reason = strdup(v.reason)))
            v.decision = -ENOMEM;
    }
    free(v.dyn);
    return v.decision;
}

static int authorize_cb(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return authz_node_authorize(ctx, attrs, reason);
}

struct authz_authorizer authz_node_as_authorizer(struct authz_node_authorizer *n)
{
    return (struct authz_authorizer){.authorize = authorize_cb, .ctx = n};
}

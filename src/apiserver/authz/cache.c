/* The watch-fed cache behind the RBAC and Node authorizers. */
#include "apiserver/authz/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/authz/map.h"
#include "codec/json.h"
#include "codec/json_fast.h"
#include "codec/json_scan.h"
#include "store/watch.h"
#include "util/json_cleanup.h"
#include "util/timeutil.h"

enum source {
    SRC_ROLE,
    SRC_CLUSTER_ROLE,
    SRC_ROLE_BINDING,
    SRC_CLUSTER_ROLE_BINDING,
    SRC_POD,
    SRC_PV,
    SRC_VA,
};

/* Store key prefixes, as kos_kind_key_prefix lays them out (group-qualified outside core). */
static const struct {
    const char *prefix;
    enum source src;
    bool namespaced;
} sources[] = {
    {"/registry/rbac.authorization.k8s.io/roles/", SRC_ROLE, true},
    {"/registry/rbac.authorization.k8s.io/clusterroles/", SRC_CLUSTER_ROLE, false},
    {"/registry/rbac.authorization.k8s.io/rolebindings/", SRC_ROLE_BINDING, true},
    {"/registry/rbac.authorization.k8s.io/clusterrolebindings/", SRC_CLUSTER_ROLE_BINDING, false},
    {"/registry/pods/", SRC_POD, true},
    {"/registry/persistentvolumes/", SRC_PV, false},
    {"/registry/storage.k8s.io/volumeattachments/", SRC_VA, false},
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

struct authz_cache {
    struct store *store;
    struct rbac_authorizer *rbac;
    struct authz_node_authorizer *node;
    struct watch_sub *sub;
    /* store key -> mod revision applied (as intptr_t): lets a re-list drop what vanished and
     * lets replayed events older than the listed state be skipped */
    struct authz_map known;
    pthread_t thread;
    bool started;
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t applied; /* under mu */
};

static bool wanted(const struct authz_cache *c, enum source s)
{
    if (s <= SRC_CLUSTER_ROLE_BINDING)
        return c->rbac != NULL;
    return c->node != NULL;
}

/* Splits a key into its source, namespace and name (into buffers). */
static int classify(const char *key, enum source *src, char *ns, size_t nssize, const char **name)
{
    for (size_t i = 0; i < NSOURCES; i++) {
        size_t plen = strlen(sources[i].prefix);
        if (strncmp(key, sources[i].prefix, plen) != 0)
            continue;
        const char *rest = key + plen;
        ns[0] = '\0';
        if (sources[i].namespaced) {
            const char *slash = strchr(rest, '/');
            if (!slash || (size_t)(slash - rest) >= nssize)
                return -EINVAL;
            memcpy(ns, rest, (size_t)(slash - rest));
            ns[slash - rest] = '\0';
            rest = slash + 1;
        }
        if (!*rest || strchr(rest, '/'))
            return -EINVAL;
        *src = sources[i].src;
        *name = rest;
        return 0;
    }
    return -ENOENT;
}

/* What the Node authorizer's graph reads of a pod: metadata.namespace, metadata.name and spec.
 * A stored pod is mostly status and managedFields, and every pod is read at start-up before
 * /readyz, so only those members are parsed (the stored bytes are the server's own encoding).
 * NULL when the bytes are not what is expected: the caller parses the whole object then. */
static json_t *pod_for_graph(const char *data, size_t len)
{
    /* one pass for each object, stopping at the last member wanted: a stored pod is several
     * KB, and every pod write comes here. The last one found is not stepped over (its length
     * is the rest of the bytes): spec is read member by member next, and its end is found only
     * when it is parsed (a pod with a node). */
    static const char *const top_keys[] = {"metadata", "spec"};
    static const char *const meta_keys[] = {"namespace", "name"};
    const char *top[2], *id[2];
    size_t top_len[2], id_len[2];
    if (kos_json_members_open(data, len, top_keys, 2, top, top_len) < 0 || !top[0] ||
        kos_json_members(top[0], top_len[0], meta_keys, 2, id, id_len) != 2)
        return NULL;
    const char *ns = id[0], *name = id[1], *spec = top[1];
    size_t ns_len = id_len[0], name_len = id_len[1], spec_len = top_len[1];
    int has_spec = spec != NULL;
    json_t *pod = json_pack("{s:{s:o*, s:o*}}", "metadata", "namespace",
                            kos_json_loadb(ns, ns_len, JSON_DECODE_ANY, NULL), "name",
                            kos_json_loadb(name, name_len, JSON_DECODE_ANY, NULL));
    /* the graph has no edges for a pod without a node (kube's graph populator skips it):
     * the rest of its spec is not parsed, which the create of every new pod would pay */
    const char *node;
    size_t node_len;
    int has_node = has_spec ? kos_json_member(spec, spec_len, "nodeName", &node, &node_len) : 0;
    if (has_node < 0) {
        json_decref(pod);
        return NULL;
    }
    if (has_spec && (has_node == 0 || (node_len == 2 && node[0] == '"'))) {
        spec = "{}";
        spec_len = 2;
    } else if (has_spec) {
        const char *spec_end = kos_json_skip_value(spec, spec + spec_len);
        if (!spec_end) {
            json_decref(pod);
            return NULL;
        }
        spec_len = (size_t)(spec_end - spec);
    }
    json_t *spec_v = has_spec ? kos_json_loadb(spec, spec_len, 0, NULL) : NULL;
    if (!pod || (has_spec && (!spec_v || json_object_set_new(pod, "spec", spec_v) < 0))) {
        json_decref(pod);
        return NULL;
    }
    return pod;
}

static int apply(struct authz_cache *c, enum source src, const struct kos_value *v)
{
    _cleanup_free_ char *tmp = NULL;
    const char *data = kos_value_bytes(v, &tmp);
    if (!data)
        return -ENOMEM;
    _cleanup_json_ json_t *obj = src == SRC_POD ? pod_for_graph(data, v->len) : NULL;
    if (!obj) {
        int r = kos_json_decode(data, v->len, &obj, NULL);
        if (r < 0)
            return r;
    }
    switch (src) {
    case SRC_ROLE:
        return rbac_apply(c->rbac, RBAC_KIND_ROLE, obj);
    case SRC_CLUSTER_ROLE:
        return rbac_apply(c->rbac, RBAC_KIND_CLUSTER_ROLE, obj);
    case SRC_ROLE_BINDING:
        return rbac_apply(c->rbac, RBAC_KIND_ROLE_BINDING, obj);
    case SRC_CLUSTER_ROLE_BINDING:
        return rbac_apply(c->rbac, RBAC_KIND_CLUSTER_ROLE_BINDING, obj);
    case SRC_POD:
        return authz_node_pod_set(c->node, obj);
    case SRC_PV:
        return authz_node_pv_set(c->node, obj);
    case SRC_VA:
        return authz_node_va_set(c->node, obj);
    }
    return -EINVAL;
}

static void remove_obj(struct authz_cache *c, enum source src, const char *ns, const char *name)
{
    switch (src) {
    case SRC_ROLE:
        (void)rbac_delete(c->rbac, RBAC_KIND_ROLE, ns, name);
        break;
    case SRC_CLUSTER_ROLE:
        (void)rbac_delete(c->rbac, RBAC_KIND_CLUSTER_ROLE, NULL, name);
        break;
    case SRC_ROLE_BINDING:
        (void)rbac_delete(c->rbac, RBAC_KIND_ROLE_BINDING, ns, name);
        break;
    case SRC_CLUSTER_ROLE_BINDING:
        (void)rbac_delete(c->rbac, RBAC_KIND_CLUSTER_ROLE_BINDING, NULL, name);
        break;
    case SRC_POD:
        (void)authz_node_pod_delete(c->node, ns, name);
        break;
    case SRC_PV:
        (void)authz_node_pv_delete(c->node, name);
        break;
    case SRC_VA:
        (void)authz_node_va_delete(c->node, name);
        break;
    }
}

/* A put of one key at revision rev (value NULL: deleted). */
static void handle(struct authz_cache *c, const char *key, int64_t rev, const struct kos_value *v)
{
    enum source src;
    char ns[256];
    const char *name;
    if (classify(key, &src, ns, sizeof(ns), &name) < 0 || !wanted(c, src))
        return;
    void *seen = authz_map_get(&c->known, key);
    if (seen && (int64_t)(intptr_t)seen >= rev)
        return; /* a replayed event older than what a list already gave us */
    if (!v) {
        remove_obj(c, src, ns, name);
        authz_map_remove(&c->known, key);
        return;
    }
    /* A malformed object leaves it absent (rbac_apply drops the old version): a revoked
     * permission never survives a bad update. */
    if (apply(c, src, v) < 0) {
        remove_obj(c, src, ns, name);
        authz_map_remove(&c->known, key);
        return;
    }
    (void)authz_map_put(&c->known, key, (void *)(intptr_t)rev, NULL);
}

static void publish(struct authz_cache *c, int64_t rev)
{
    pthread_mutex_lock(&c->mu);
    if (rev > c->applied) {
        c->applied = rev;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->mu);
}

/* The sources fall in two parts: RBAC's objects are few and are listed before /readyz; the
 * Node authorizer's (every pod) are many and are listed by the cache's thread after start,
 * while the Node authorizer holds back the decisions that read its graph (node.h). */
enum { PART_RBAC = 1, PART_NODE = 2 };

static unsigned part_of(enum source s)
{
    return s <= SRC_CLUSTER_ROLE_BINDING ? PART_RBAC : PART_NODE;
}

/* Lists the wanted sources of `parts` (c->sub must already follow the store from a revision
 * at or before the list, so nothing written meanwhile is missed); objects of those parts that
 * vanished since the last list are removed, what the other parts hold stays. */
static int list_parts(struct authz_cache *c, unsigned parts)
{
    struct authz_map listed;
    authz_map_init(&listed);
    int r = 0;
    for (size_t i = 0; i < NSOURCES && r >= 0; i++) {
        if (!wanted(c, sources[i].src) || !(part_of(sources[i].src) & parts))
            continue;
        struct store_list l = {0};
        r = store_list(c->store, sources[i].prefix, NULL, 0, &l);
        for (size_t k = 0; r >= 0 && k < l.count; k++) {
            (void)authz_map_remove(&c->known, l.items[k].key);
            handle(c, l.items[k].key, l.items[k].mod_rev, l.items[k].value);
            r = authz_map_put(&listed, l.items[k].key, (void *)(intptr_t)l.items[k].mod_rev, NULL);
        }
        store_list_clear(&l);
    }
    struct authz_map_iter it;
    const char *key;
    void *val;
    authz_map_iter_init(&c->known, &it);
    while (r >= 0 && authz_map_iter_next(&c->known, &it, &key, &val)) {
        if (authz_map_get(&listed, key))
            continue;
        enum source src;
        char ns[256];
        const char *name;
        if (classify(key, &src, ns, sizeof(ns), &name) < 0)
            continue;
        if (part_of(src) & parts)
            remove_obj(c, src, ns, name);
        else
            r = authz_map_put(&listed, key, val, NULL);
    }
    if (r < 0) {
        authz_map_clear(&listed, NULL);
        return r;
    }
    authz_map_clear(&c->known, NULL);
    c->known = listed;
    return 0;
}

/* Subscribes from the current revision, then lists the sources of `parts`. */
static int sync_parts(struct authz_cache *c, unsigned parts)
{
    int64_t start = store_current_rev(c->store);
    struct watch_sub *sub = NULL;
    int r = watch_window_subscribe(store_window(c->store), "/registry/", start, &sub);
    if (r < 0)
        return r;
    struct watch_sub *old = c->sub;
    c->sub = sub;
    r = list_parts(c, parts);
    if (r < 0) {
        c->sub = old;
        watch_sub_close(sub);
        return r;
    }
    watch_sub_close(old);
    publish(c, start);
    return 0;
}

/* The thread's first task: the Node authorizer's part, then the events written meanwhile,
 * before the graph counts as synced. */
static int fill_node_graph(struct authz_cache *c)
{
    int r = list_parts(c, PART_NODE);
    struct watch_event evs[16];
    int n;
    while (r >= 0 && (n = watch_sub_next_batch(c->sub, 0, evs, 16)) > 0) {
        for (int i = 0; i < n; i++) {
            handle(c, evs[i].key, evs[i].rev, evs[i].type == WATCH_DELETED ? NULL : evs[i].value);
            watch_event_clear(&evs[i]);
        }
        publish(c, watch_sub_rev(c->sub));
    }
    if (r >= 0 && n < 0)
        r = n;
    return r;
}

#define BATCH 64

static void *run(void *arg)
{
    struct authz_cache *c = arg;
    struct watch_event evs[BATCH];
    if (c->node) {
        int r = fill_node_graph(c);
        while (r < 0 && !atomic_load(&c->stopping)) {
            /* Fell out of the window meanwhile (or ran out of memory): list everything. */
            r = sync_parts(c, PART_RBAC | PART_NODE);
            if (r < 0)
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
        }
        if (r == 0)
            authz_node_set_synced(c->node, true);
    }
    while (!atomic_load(&c->stopping)) {
        int n = watch_sub_next_batch(c->sub, 500, evs, BATCH);
        if (n == -ECANCELED)
            break;
        if (n < 0) {
            /* Fell out of the window: start over from a fresh list (retry until it works). */
            while (!atomic_load(&c->stopping) && sync_parts(c, PART_RBAC | PART_NODE) < 0)
                nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
            continue;
        }
        for (int i = 0; i < n; i++) {
            handle(c, evs[i].key, evs[i].rev, evs[i].type == WATCH_DELETED ? NULL : evs[i].value);
            watch_event_clear(&evs[i]);
        }
        publish(c, watch_sub_rev(c->sub));
    }
    /* Wake waiters: they get -ECANCELED. */
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int authz_cache_start(struct store *store, struct rbac_authorizer *rbac,
                      struct authz_node_authorizer *node, struct authz_cache **ret)
{
    struct authz_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->store = store;
    c->rbac = rbac;
    c->node = node;
    authz_map_init(&c->known);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    /* What RBAC decides from is loaded before the first request (it is small); the Node
     * authorizer's graph fills in the thread. */
    int r = sync_parts(c, PART_RBAC);
    if (r == 0 && node)
        authz_node_set_synced(node, false);
    if (r == 0) {
        r = -pthread_create(&c->thread, NULL, run, c);
        c->started = r == 0;
    }
    if (r < 0) {
        authz_cache_stop(c);
        return r;
    }
    *ret = c;
    return 0;
}

int64_t authz_cache_rev(struct authz_cache *c)
{
    pthread_mutex_lock(&c->mu);
    int64_t rev = c->applied;
    pthread_mutex_unlock(&c->mu);
    return rev;
}

int authz_cache_wait(struct authz_cache *c, int64_t rev, int timeout_ms)
{
    struct timespec deadline = kos_deadline_after_ms(CLOCK_MONOTONIC, timeout_ms);
    int r = 0;
    pthread_mutex_lock(&c->mu);
    while (c->applied < rev) {
        if (atomic_load(&c->stopping)) {
            r = -ECANCELED;
            break;
        }
        if (pthread_cond_timedwait(&c->cond, &c->mu, &deadline) == ETIMEDOUT) {
            r = c->applied < rev ? -ETIMEDOUT : 0;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

void authz_cache_stop(struct authz_cache *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    if (c->started)
        pthread_join(c->thread, NULL);
    watch_sub_close(c->sub);
    authz_map_clear(&c->known, NULL);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

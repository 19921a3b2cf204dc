/* The RBAC authorizer's state (roles, and bindings indexed by scope and subject), its changes,
 * and Authorize (plugin/pkg/auth/authorizer/rbac/rbac.go with
 * pkg/registry/rbac/validation/rule.go's DefaultRuleResolver). */
#include "apiserver/authz/rbac_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* ---- the subject index ---- */

static void unindex_binding(struct rbac_authorizer *r, struct rbac_binding *b, size_t nkeys)
{
    for (size_t i = 0; i < nkeys; i++) {
        struct authz_ptrvec *pv = authz_map_get(&r->subjects, b->keys[i]);
        if (!pv)
            continue;
        authz_ptrvec_remove(pv, b);
        if (pv->n == 0) {
            authz_map_remove(&r->subjects, b->keys[i]);
            authz_ptrvec_free(pv);
            free(pv);
        }
    }
}

static int index_binding(struct rbac_authorizer *r, struct rbac_binding *b)
{
    for (size_t i = 0; i < b->nkeys; i++) {
        struct authz_ptrvec *pv = authz_map_get(&r->subjects, b->keys[i]);
        int k = 0;
        if (!pv) {
            pv = calloc(1, sizeof(*pv));
            k = pv ? authz_map_put(&r->subjects, b->keys[i], pv, NULL) : -ENOMEM;
            if (k < 0)
                free(pv);
        }
        if (k == 0)
            k = authz_ptrvec_push(pv, b);
        if (k < 0) {
            if (pv && pv->n == 0) {
                authz_map_remove(&r->subjects, b->keys[i]);
                authz_ptrvec_free(pv);
                free(pv);
            }
            unindex_binding(r, b, i);
            return k;
        }
    }
    return 0;
}

/* ---- changes ---- */

int rbac_kind_from_string(const char *kind)
{
    static const char *const names[] = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"};
    for (size_t i = 0; kind && i < ARRAY_SIZE(names); i++)
        if (strcmp(kind, names[i]) == 0)
            return (int)i;
    return -EINVAL;
}

static struct authz_map *map_of(struct rbac_authorizer *r, enum rbac_kind kind)
{
    switch (kind) {
    case RBAC_KIND_ROLE:
        return &r->roles;
    case RBAC_KIND_CLUSTER_ROLE:
        return &r->cluster_roles;
    case RBAC_KIND_ROLE_BINDING:
        return &r->bindings;
    default:
        return &r->cluster_bindings;
    }
}

static bool namespaced(enum rbac_kind kind)
{
    return kind == RBAC_KIND_ROLE || kind == RBAC_KIND_ROLE_BINDING;
}

static int delete_locked(struct rbac_authorizer *r, enum rbac_kind kind, const char *ns,
                         const char *name)
{
    struct rbac_key k;
    const char *key = namespaced(kind) ? rbac_ns_key(&k, authz_str(ns), authz_str(name))
                                       : rbac_key_fmt(&k, "%s", authz_str(name));
    if (!key)
        return -ENOMEM;
    void *v = authz_map_remove(map_of(r, kind), key);
    rbac_key_free(&k);
    if (!v)
        return -ENOENT;
    if (kind == RBAC_KIND_ROLE || kind == RBAC_KIND_CLUSTER_ROLE) {
        rbac_role_free(v);
    } else {
        unindex_binding(r, v, ((struct rbac_binding *)v)->nkeys);
        rbac_binding_free(v);
    }
    return 0;
}

static int apply_locked(struct rbac_authorizer *r, int kind, const json_t *obj, bool *cr_changed)
{
    if (kind < 0) {
        kind = rbac_kind_from_string(json_string_value(json_object_get(obj, "kind")));
        if (kind < 0)
            return kind;
    }
    if (kind > RBAC_KIND_CLUSTER_ROLE_BINDING)
        return -EINVAL;
    if (kind == RBAC_KIND_CLUSTER_ROLE)
        *cr_changed = true;

    /* Whatever happens next, the previous version goes: fail closed. */
    const char *ns = NULL, *name = NULL;
    if (json_is_object(obj) && rbac_get_meta(obj, namespaced(kind), &ns, &name) == 0)
        (void)delete_locked(r, kind, ns, name);

    struct rbac_key k;
    void *item = NULL;
    int ret;
    if (kind == RBAC_KIND_ROLE || kind == RBAC_KIND_CLUSTER_ROLE)
        ret = rbac_role_parse(kind, obj, (struct rbac_role **)&item);
    else
        ret = rbac_binding_parse(kind, obj, (struct rbac_binding **)&item);
    if (ret < 0)
        return ret;

    const char *key = namespaced(kind) ? rbac_ns_key(&k, ns, name) : rbac_key_fmt(&k, "%s", name);
    ret = key ? authz_map_put(map_of(r, kind), key, item, NULL) : -ENOMEM;
    rbac_key_free(&k);
    if (ret == 0 && (kind == RBAC_KIND_ROLE_BINDING || kind == RBAC_KIND_CLUSTER_ROLE_BINDING)) {
        ret = index_binding(r, item);
        if (ret < 0) { /* index_binding undid its part; this removes and frees the rest */
            (void)delete_locked(r, kind, ns, name);
            item = NULL;
        }
    }
    if (ret < 0 && item) {
        if (kind == RBAC_KIND_ROLE || kind == RBAC_KIND_CLUSTER_ROLE)
            rbac_role_free(item);
        else
            rbac_binding_free(item);
    }
    return ret;
}

int rbac_new(struct rbac_authorizer **ret)
{
    struct rbac_authorizer *r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    /* Prefer writers: a steady stream of authorize() readers must not starve role updates. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int k = pthread_rwlock_init(&r->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (k != 0) {
        free(r);
        return -k;
    }
    authz_map_init(&r->roles);
    authz_map_init(&r->cluster_roles);
    authz_map_init(&r->bindings);
    authz_map_init(&r->cluster_bindings);
    authz_map_init(&r->subjects);
    *ret = r;
    return 0;
}

static void role_free_v(void *p)
{
    rbac_role_free(p);
}

static void binding_free_v(void *p)
{
    rbac_binding_free(p);
}

static void ptrvec_free_v(void *p)
{
    authz_ptrvec_free(p);
    free(p);
}

void rbac_free(struct rbac_authorizer *r)
{
    if (!r)
        return;
    authz_map_clear(&r->subjects, ptrvec_free_v);
    authz_map_clear(&r->bindings, binding_free_v);
    authz_map_clear(&r->cluster_bindings, binding_free_v);
    authz_map_clear(&r->roles, role_free_v);
    authz_map_clear(&r->cluster_roles, role_free_v);
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

int rbac_apply(struct rbac_authorizer *r, int kind, const json_t *obj)
{
    bool cr_changed = false;
    pthread_rwlock_wrlock(&r->lock);
    int ret = apply_locked(r, kind, obj, &cr_changed);
    if (cr_changed) {
        int k = rbac_aggregate_all(r);
        if (ret == 0)
            ret = k;
    }
    pthread_rwlock_unlock(&r->lock);
    return ret;
}

int rbac_apply_all(struct rbac_authorizer *r, const json_t *objs)
{
    if (!json_is_array(objs))
        return -EINVAL;
    bool cr_changed = false;
    int ret = 0, count = 0;
    pthread_rwlock_wrlock(&r->lock);
    for (size_t i = 0; i < json_array_size(objs); i++) {
        int k = apply_locked(r, -1, json_array_get(objs, i), &cr_changed);
        if (k < 0 && ret == 0)
            ret = k;
        count += k == 0;
    }
    if (cr_changed) {
        int k = rbac_aggregate_all(r);
        if (ret == 0)
            ret = k;
    }
    pthread_rwlock_unlock(&r->lock);
    return ret < 0 ? ret : count;
}

int rbac_delete(struct rbac_authorizer *r, enum rbac_kind kind, const char *namespace_,
                const char *name)
{
    if ((int)kind < 0 || kind > RBAC_KIND_CLUSTER_ROLE_BINDING)
        return -EINVAL;
    pthread_rwlock_wrlock(&r->lock);
    int ret = delete_locked(r, kind, namespace_, name);
    if (ret == 0 && kind == RBAC_KIND_CLUSTER_ROLE)
        ret = rbac_aggregate_all(r);
    pthread_rwlock_unlock(&r->lock);
    return ret;
}

/* ---- resolution ---- */

int rbac_role_ref_rules_locked(struct rbac_authorizer *r, const char *kind, const char *name,
                               const char *ns, bool registry_errors, const struct rbac_rules **ret,
                               struct kos_buf *err)
{
    const struct rbac_role *role = NULL;
    const char *what;
    int k;
    if (strcmp(kind, "Role") == 0) {
        struct rbac_key key;
        if (*ns) {
            if (!rbac_ns_key(&key, ns, name))
                return -ENOMEM;
            role = authz_map_get(&r->roles, key.s);
            rbac_key_free(&key);
        }
        what = registry_errors ? "roles" : "role";
    } else if (strcmp(kind, "ClusterRole") == 0) {
        role = authz_map_get(&r->cluster_roles, name);
        what = registry_errors ? "clusterroles" : "clusterrole";
    } else {
        if ((k = kos_buf_append_str(err, "unsupported role reference kind: ")) < 0 ||
            (k = authz_buf_go_quote(err, kind)) < 0)
            return k;
        return -EINVAL;
    }
    if (role) {
        *ret = rbac_role_rules(role);
        return 0;
    }
    if ((k = kos_buf_printf(err, "%s.rbac.authorization.k8s.io ", what)) < 0 ||
        (k = authz_buf_go_quote(err, name)) < 0 || (k = kos_buf_append_str(err, " not found")) < 0)
        return k;
    return -ENOENT;
}

/* The bindings filed under the user's name or groups in one scope, by name, each once. */
struct candidates {
    struct rbac_binding *stack[64];
    struct rbac_binding **v;
    size_t n;
    size_t cap;
};

static int cand_push_key(struct rbac_authorizer *r, struct candidates *c, const char *key)
{
    struct authz_ptrvec *pv = key ? authz_map_get(&r->subjects, key) : NULL;
    if (!key)
        return -ENOMEM;
    for (size_t i = 0; pv && i < pv->n; i++) {
        if (c->n == c->cap) {
            size_t cap = c->cap * 2;
            struct rbac_binding **v = malloc(cap * sizeof(*v));
            if (!v)
                return -ENOMEM;
            memcpy(v, c->v, c->n * sizeof(*v));
            if (c->v != c->stack)
                free(c->v);
            c->v = v;
            c->cap = cap;
        }
        c->v[c->n++] = pv->v[i];
    }
    return 0;
}

static int cmp_binding(const void *a, const void *b)
{
    const struct rbac_binding *x = *(struct rbac_binding *const *)a;
    const struct rbac_binding *y = *(struct rbac_binding *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x < y ? -1 : x > y);
}

static int gather(struct rbac_authorizer *r, const struct kos_user *u, const char *ns,
                  struct candidates *c)
{
    c->v = c->stack;
    c->cap = ARRAY_SIZE(c->stack);
    c->n = 0;
    struct rbac_key k;
    int ret = cand_push_key(r, c, rbac_subject_key(&k, ns, 'u', authz_str(u ? u->name : NULL)));
    rbac_key_free(&k);
    for (size_t i = 0; ret == 0 && u && i < u->ngroups; i++) {
        ret = cand_push_key(r, c, rbac_subject_key(&k, ns, 'g', authz_str(u->groups[i])));
        rbac_key_free(&k);
    }
    if (ret < 0)
        return ret;
    qsort(c->v, c->n, sizeof(*c->v), cmp_binding);
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++)
        if (w == 0 || c->v[w - 1] != c->v[i])
            c->v[w++] = c->v[i];
    c->n = w;
    return 0;
}

static void cand_free(struct candidates *c)
{
    if (c->v != c->stack)
        free(c->v);
}

/* The rule lists already visited: bindings to one role share its rules, and a rule that did not
 * allow (or was already collected) for one binding adds nothing for the next. Without this, a
 * group bound to "edit" by 100 RoleBindings would cost 100 passes over edit's rules. */
struct seen {
    const void *stack[64];
    const void **slots;
    size_t cap;
    size_t n;
};

static void seen_init(struct seen *s)
{
    memset(s->stack, 0, sizeof(s->stack));
    s->slots = s->stack;
    s->cap = ARRAY_SIZE(s->stack);
    s->n = 0;
}

static void seen_free(struct seen *s)
{
    if (s->slots != s->stack)
        free(s->slots);
}

static size_t ptr_slot(const void *p, size_t cap)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ULL;
    return (size_t)(h >> 7) & (cap - 1);
}

/* Returns 1 when p is new (and now recorded), 0 when seen, or -ENOMEM. */
static int seen_add(struct seen *s, const void *p)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap * 2;
        const void **slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i])
                continue;
            size_t j = ptr_slot(s->slots[i], cap);
            while (slots[j])
                j = (j + 1) & (cap - 1);
            slots[j] = s->slots[i];
        }
        seen_free(s);
        s->slots = slots;
        s->cap = cap;
    }
    size_t j = ptr_slot(p, s->cap);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (s->slots[j] == p)
            return 0;
    s->slots[j] = p;
    s->n++;
    return 1;
}

/* Visits one scope; returns 1 to go on, 0 when the visitor stopped, or a negative errno. */
static int visit_scope(struct rbac_authorizer *r, const struct kos_user *u, const char *ns,
                       bool registry_errors, struct seen *seen, rbac_visitor visit, void *ctx)
{
    struct candidates c;
    int ret = gather(r, u, ns, &c);
    if (ret < 0)
        return ret;
    ret = 1;
    for (size_t i = 0; ret == 1 && i < c.n; i++) {
        const struct rbac_binding *b = c.v[i];
        const struct rbac_subject *s = NULL;
        for (size_t j = 0; !s && j < b->nsubjects; j++)
            if (rbac_subject_applies(b, &b->subjects[j], u))
                s = &b->subjects[j];
        if (!s)
            continue;
        const struct rbac_rules *rules = NULL;
        struct kos_buf err;
        kos_buf_init(&err, AUTHZ_MESSAGE_MAX);
        int k = rbac_role_ref_rules_locked(r, b->ref_kind, b->ref_name, authz_str(ns),
                                           registry_errors, &rules, &err);
        if (k == -ENOENT || k == -EINVAL)
            ret = visit(ctx, NULL, NULL, NULL, err.data) ? 1 : 0;
        else if (k < 0)
            ret = k;
        kos_buf_free(&err);
        if (k == 0 && rules->n > 0) {
            int fresh = seen_add(seen, rules);
            if (fresh < 0)
                ret = fresh;
            if (fresh != 1)
                continue;
        }
        for (size_t j = 0; k == 0 && ret == 1 && j < rules->n; j++)
            if (!visit(ctx, b, s, rules->v[j], NULL))
                ret = 0;
    }
    cand_free(&c);
    return ret;
}

int rbac_visit_rules_locked(struct rbac_authorizer *r, const struct kos_user *user, const char *ns,
                            bool registry_errors, rbac_visitor visit, void *ctx)
{
    struct seen seen;
    seen_init(&seen);
    int k = visit_scope(r, user, NULL, registry_errors, &seen, visit, ctx);
    if (k == 1 && ns && *ns)
        k = visit_scope(r, user, ns, registry_errors, &seen, visit, ctx);
    seen_free(&seen);
    return k < 0 ? k : 0;
}

/* ---- authorize ---- */

struct authorizing {
    const struct authz_attributes *attrs;
    const struct rbac_binding *binding;
    const struct rbac_subject *subject;
    struct rbac_errlist errors;
    int error;
};

static bool authorizing_visit(void *ctx, const struct rbac_binding *b, const struct rbac_subject *s,
                              const struct rbac_rule *rule, const char *err)
{
    struct authorizing *v = ctx;
    if (rule && rbac_rule_allows(rule, v->attrs)) {
        v->binding = b;
        v->subject = s;
        return false;
    }
    if (err && v->error == 0)
        v->error = rbac_errlist_add(&v->errors, err);
    return true;
}

/* clusterRoleBindingDescriber / roleBindingDescriber */
static int describe(struct kos_buf *b, const struct rbac_binding *bind,
                    const struct rbac_subject *s)
{
    int r = kos_buf_append_str(b, bind->namespace_ ? "RBAC: allowed by RoleBinding "
                                                   : "RBAC: allowed by ClusterRoleBinding ");
    if (r == 0 && bind->namespace_) {
        struct rbac_key k;
        r = rbac_key_fmt(&k, "%s/%s", bind->name, bind->namespace_) ? authz_buf_go_quote(b, k.s)
                                                                    : -ENOMEM;
        rbac_key_free(&k);
    } else if (r == 0) {
        r = authz_buf_go_quote(b, bind->name);
    }
    if (r == 0)
        r = kos_buf_printf(b, " of %s ", bind->ref_kind);
    if (r == 0)
        r = authz_buf_go_quote(b, bind->ref_name);
    if (r == 0)
        r = kos_buf_printf(b, " to %s ", s->kind_str);
    if (r < 0)
        return r;
    if (s->kind != RBAC_SUBJECT_SERVICE_ACCOUNT)
        return authz_buf_go_quote(b, s->name);
    struct rbac_key k;
    const char *ns = *s->namespace_ ? s->namespace_ : authz_str(bind->namespace_);
    r = rbac_key_fmt(&k, "%s/%s", s->name, ns) ? authz_buf_go_quote(b, k.s) : -ENOMEM;
    rbac_key_free(&k);
    return r;
}

int rbac_authorize(struct rbac_authorizer *r, const struct authz_attributes *attrs, char **reason)
{
    struct authorizing v = {.attrs = attrs};
    struct kos_buf b;
    kos_buf_init(&b, AUTHZ_MESSAGE_MAX);

    pthread_rwlock_rdlock(&r->lock);
    int ret =
        rbac_visit_rules_locked(r, attrs->user, attrs->namespace_, false, authorizing_visit, &v);
    if (ret == 0 && v.error < 0)
        ret = v.error;
    if (ret == 0 && v.binding) {
        ret = AUTHZ_ALLOW;
        if (reason && describe(&b, v.binding, v.subject) < 0)
            ret = -ENOMEM;
    }
    pthread_rwlock_unlock(&r->lock);

    if (ret == 0 && reason && v.errors.n > 0) {
        if (kos_buf_append_str(&b, "RBAC: ") < 0 || rbac_errlist_format(&v.errors, &b) < 0)
            ret = -ENOMEM;
    }
    rbac_errlist_free(&v.errors);
    if (ret < 0) {
        kos_buf_free(&b);
        return ret;
    }
    if (reason)
        *reason = b.len ? kos_buf_steal(&b, NULL) : NULL;
    kos_buf_free(&b);
    return ret;
}

static int authorize_cb(void *ctx, const struct authz_attributes *attrs, char **reason)
{
    return rbac_authorize(ctx, attrs, reason);
}

struct authz_authorizer rbac_as_authorizer(struct rbac_authorizer *r)
{
    return (struct authz_authorizer){.authorize = authorize_cb, .ctx = r};
}

int rbac_cluster_role_rules(struct rbac_authorizer *r, const char *name, json_t **ret)
{
    json_t *a = json_array();
    if (!a)
        return -ENOMEM;
    int k = 0;
    pthread_rwlock_rdlock(&r->lock);
    const struct rbac_role *role = authz_map_get(&r->cluster_roles, authz_str(name));
    if (!role)
        k = -ENOENT;
    const struct rbac_rules *rules = role ? rbac_role_rules(role) : NULL;
    for (size_t i = 0; k == 0 && rules && i < rules->n; i++)
        if (json_array_append_new(a, json_deep_copy(rules->v[i]->json)) < 0)
            k = -ENOMEM;
    pthread_rwlock_unlock(&r->lock);
    if (k < 0) {
        json_decref(a);
        return k;
    }
    *ret = a;
    return 0;
}

/* Escalation prevention for RBAC writes (pkg/registry/rbac/{role,clusterrole,rolebinding,
 * clusterrolebinding}/policybased, escalation_check.go and validation.ConfirmNoEscalation):
 * a user may only write a role holding permissions they already have, unless they may
 * `escalate` it, and may only bind a role whose permissions they have, unless they may `bind`
 * it. system:masters bypasses both. */
#include "apiserver/authz/rbac_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* BreakdownRule multiplies list lengths; past this many atoms we refuse rather than spin. */
#define MAX_ATOMS 1000000

/* EscalationAllowed: system:masters is how the server's own loopback clients write. */
static bool escalation_allowed(const struct kos_user *user)
{
    return authz_user_in_group(user, AUTHZ_GROUP_MASTERS);
}

static bool ask(struct rbac_authorizer *r, const struct authz_authorizer *authz,
                const struct authz_attributes *attrs)
{
    struct authz_authorizer a = authz && authz->authorize ? *authz : rbac_as_authorizer(r);
    return a.authorize(a.ctx, attrs, NULL) == AUTHZ_ALLOW;
}

static const char *meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

/* IsOnlyMutatingGCFields: an update that only touches what the garbage collector needs is let
 * through, so GC can finish deleting objects whose rules it could not grant. Server-managed
 * bookkeeping (resourceVersion, generation, managedFields) is ignored as well. */
static bool only_gc_fields(const json_t *obj, const json_t *old)
{
    static const char *const gc[] = {"ownerReferences",
                                     "finalizers",
                                     "selfLink",
                                     "deletionTimestamp",
                                     "deletionGracePeriodSeconds",
                                     "resourceVersion",
                                     "generation",
                                     "managedFields"};
    if (!json_is_object(obj) || !json_is_object(old))
        return false;
    _cleanup_json_ json_t *a = json_deep_copy(obj);
    _cleanup_json_ json_t *b = json_deep_copy(old);
    if (!a || !b)
        return false;
    json_t *ma = json_object_get(a, "metadata"), *mb = json_object_get(b, "metadata");
    for (size_t i = 0; i < ARRAY_SIZE(gc); i++) {
        if (json_is_object(ma))
            json_object_del(ma, gc[i]);
        if (json_is_object(mb))
            json_object_del(mb, gc[i]);
    }
    return json_equal(a, b);
}

static int forbidden(struct kos_error **err, const char *resource, const char *name,
                     const char *msg)
{
    struct kos_buf b;
    kos_buf_init(&b, AUTHZ_MESSAGE_MAX + 1024);
    int k = kos_buf_printf(&b, "%s." RBAC_GROUP " ", resource);
    if (k == 0 && name && *name) {
        k = authz_buf_go_quote(&b, name);
        if (k == 0)
            k = kos_buf_append(&b, " ", 1);
    }
    if (k == 0)
        k = kos_buf_printf(&b, "is forbidden: %s", msg);
    if (k < 0) {
        kos_buf_free(&b);
        return k;
    }
    bool fresh = err && !*err; /* the first error wins: never decorate another's */
    k = kos_error_set(err, 403, "Forbidden", "%s", b.data);
    if (fresh && *err)
        kos_error_set_details(*err, name && *name ? name : NULL, RBAC_GROUP, resource);
    kos_buf_free(&b);
    return k;
}

/* ---- ConfirmNoEscalation ---- */

struct owner_rules {
    const struct rbac_rule **v;
    size_t n;
    size_t cap;
    struct rbac_errlist errors;
    int error;
};

static bool collect_visit(void *ctx, const struct rbac_binding *b, const struct rbac_subject *s,
                          const struct rbac_rule *rule, const char *err)
{
    struct owner_rules *o = ctx;
    if (o->error < 0)
        return false;
    if (err) {
        o->error = rbac_errlist_add(&o->errors, err);
        return true;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        const struct rbac_rule **v = realloc(o->v, cap * sizeof(*v));
        if (!v) {
            o->error = -ENOMEM;
            return false;
        }
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = rule;
    return true;
}

static size_t atoms(const struct rbac_rules *rules)
{
    size_t total = 0;
    for (size_t i = 0; i < rules->n; i++) {
        const struct rbac_rule *r = rules->v[i];
        size_t names = r->resource_names.n ? r->resource_names.n : 1;
        size_t n = r->api_groups.n;
        const size_t f[] = {r->resources.n, r->verbs.n, names};
        for (size_t j = 0; j < ARRAY_SIZE(f) && n; j++)
            n = f[j] && n > MAX_ATOMS / f[j] ? MAX_ATOMS + 1 : n * f[j];
        total += n + (r->urls.n && r->verbs.n > MAX_ATOMS / r->urls.n ? MAX_ATOMS + 1
                                                                      : r->urls.n * r->verbs.n);
        if (total > MAX_ATOMS)
            return total;
    }
    return total;
}

/* CompactString of one missing atom (or of a compacted simple rule when verbs has several). */
static int describe_atom(struct kos_buf *b, const struct rbac_subrule *s, const char *const *verbs,
                         size_t nverbs)
{
    int k = kos_buf_append(b, "{", 1);
    const char *sep = "";
    if (k == 0 && s->api_group) {
        k = kos_buf_append_str(b, "APIGroups:");
        if (k == 0)
            k = authz_buf_go_quote_list(b, &s->api_group, 1);
        sep = ", ";
    }
    if (k == 0 && s->resource) {
        k = kos_buf_printf(b, "%sResources:", sep);
        if (k == 0)
            k = authz_buf_go_quote_list(b, &s->resource, 1);
        sep = ", ";
    }
    if (k == 0 && s->url) {
        k = kos_buf_printf(b, "%sNonResourceURLs:", sep);
        if (k == 0)
            k = authz_buf_go_quote_list(b, &s->url, 1);
        sep = ", ";
    }
    if (k == 0 && s->resource_name) {
        k = kos_buf_printf(b, "%sResourceNames:", sep);
        if (k == 0)
            k = authz_buf_go_quote_list(b, &s->resource_name, 1);
        sep = ", ";
    }
    if (k == 0) {
        k = kos_buf_printf(b, "%sVerbs:", sep);
        if (k == 0)
            k = authz_buf_go_quote_list(b, verbs, nverbs);
    }
    return k < 0 ? k : kos_buf_append(b, "}", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* CompactRules, then one CompactString per rule, sorted and unique (sets.String.List()). */
static int describe_missing(const struct rbac_subrules *missing, struct kos_buf *out)
{
    size_t n = missing->n;
    char **descs = calloc(n ? n : 1, sizeof(*descs));
    const char **verbs = calloc(n ? n : 1, sizeof(*verbs));
    bool *done = calloc(n ? n : 1, sizeof(*done));
    size_t nd = 0;
    int k = descs && verbs && done ? 0 : -ENOMEM;

    for (size_t i = 0; k == 0 && i < n; i++) {
        if (done[i])
            continue;
        const struct rbac_subrule *s = &missing->v[i];
        size_t nv = 0;
        verbs[nv++] = s->verb;
        /* a simple rule (one group, one resource, no names) absorbs the verbs of its peers */
        if (s->resource && !s->resource_name)
            for (size_t j = i + 1; j < n; j++) {
                const struct rbac_subrule *t = &missing->v[j];
                if (!done[j] && t->resource && !t->resource_name &&
                    strcmp(t->api_group, s->api_group) == 0 &&
                    strcmp(t->resource, s->resource) == 0) {
                    verbs[nv++] = t->verb;
                    done[j] = true;
                }
            }
        struct kos_buf b;
        kos_buf_init(&b, AUTHZ_MESSAGE_MAX);
        k = describe_atom(&b, s, verbs, nv);
        if (k == 0)
            descs[nd++] = kos_buf_steal(&b, NULL);
        kos_buf_free(&b);
        if (k == 0 && !descs[nd - 1])
            k = -ENOMEM;
    }
    if (k == 0)
        qsort(descs, nd, sizeof(*descs), cmp_str);
    for (size_t i = 0; k == 0 && i < nd; i++) {
        if (i > 0 && strcmp(descs[i], descs[i - 1]) == 0)
            continue;
        size_t len = strlen(descs[i]);
        if (out->len + len + 8 > AUTHZ_MESSAGE_MAX) {
            k = kos_buf_append_str(out, "\n...");
            break;
        }
        if (i > 0)
            k = kos_buf_append(out, "\n", 1);
        if (k == 0)
            k = kos_buf_append(out, descs[i], len);
    }
    free_strv(descs, nd);
    free(verbs);
    free(done);
    return k;
}

/* Under the read lock. Returns 0 when the user's rules in ns cover `rules`, 1 with msg filled
 * with kube's explanation when they do not, or a negative errno. */
static int confirm_no_escalation_locked(struct rbac_authorizer *r, const struct kos_user *user,
                                        const char *ns, const struct rbac_rules *rules,
                                        struct kos_buf *msg)
{
    struct owner_rules o = {0};
    struct rbac_subrules missing = {0};
    bool too_many = atoms(rules) > MAX_ATOMS;
    int k = rbac_visit_rules_locked(r, user, ns, true, collect_visit, &o);
    if (k == 0)
        k = o.error;
    if (k == 0 && !too_many)
        k = rbac_covers(o.v, o.n, rules, &missing);
    if (k == 0 && (too_many || missing.n > 0)) {
        k = kos_buf_append_str(msg, "user ");
        if (k == 0)
            k = authz_buf_go_quote(msg, user ? user->name : "");
        if (k == 0)
            k = kos_buf_append_str(msg, " (groups=");
        if (k == 0)
            k = authz_buf_go_quote_list(msg, user ? user->groups : NULL, user ? user->ngroups : 0);
        if (k == 0)
            k = kos_buf_append_str(msg, ") is attempting to grant RBAC permissions not currently "
                                        "held:\n");
        if (k == 0 && too_many)
            k = kos_buf_printf(msg, "more than %d permission combinations to compare", MAX_ATOMS);
        else if (k == 0)
            k = describe_missing(&missing, msg);
        if (k == 0 && o.errors.n > 0) {
            k = kos_buf_append_str(msg, "; resolution errors: [");
            if (k == 0)
                k = rbac_errlist_format(&o.errors, msg);
            if (k == 0)
                k = kos_buf_append(msg, "]", 1);
        }
        if (k == 0)
            k = 1;
    }
    free(o.v);
    rbac_errlist_free(&o.errors);
    rbac_subrules_free(&missing);
    return k;
}

static const char full_authority_json[] =
    "[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]},"
    "{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}]";

static bool has_aggregation_rule(const json_t *obj)
{
    const json_t *sels =
        json_object_get(json_object_get(obj, "aggregationRule"), "clusterRoleSelectors");
    return json_array_size(sels) > 0;
}

int rbac_check_role_write(struct rbac_authorizer *r, const struct authz_authorizer *authz,
                          const struct kos_user *user, const char *resource, const char *namespace_,
                          const json_t *obj, const json_t *old, struct kos_error **err)
{
    bool cluster = kos_streq_null(resource, "clusterroles");
    if (!cluster && !kos_streq_null(resource, "roles"))
        return kos_error_set(err, 500, "InternalError", "not a role resource: %s",
                             authz_str(resource));
    if (escalation_allowed(user))
        return 0;

    const char *ns = cluster ? "" : authz_str(namespace_);
    const char *name = authz_str(meta_str(obj, "name"));
    /* RoleEscalationAuthorized asks with the request's own name: none on create */
    struct authz_attributes esc = {.user = user,
                                   .verb = "escalate",
                                   .resource_request = true,
                                   .namespace_ = ns,
                                   .api_group = RBAC_GROUP,
                                   .api_version = "*",
                                   .resource = resource,
                                   .name = old ? name : ""};
    if (ask(r, authz, &esc))
        return 0;
    if (old && only_gc_fields(obj, old))
        return 0;

    struct rbac_rules rules = {0}, full = {0};
    int k = rbac_rules_parse(json_object_get(obj, "rules"), &rules);
    if (k == -EINVAL)
        return kos_error_set(err, 400, "BadRequest", "%s: rules: invalid PolicyRule list",
                             resource);
    bool aggregation = cluster && (has_aggregation_rule(obj) || (old && has_aggregation_rule(old)));
    if (k == 0 && aggregation) {
        _cleanup_json_ json_t *fa = json_loads(full_authority_json, 0, NULL);
        k = fa ? rbac_rules_parse(fa, &full) : -ENOMEM;
    }
    struct kos_buf msg;
    kos_buf_init(&msg, AUTHZ_MESSAGE_MAX + 1024);
    bool agg_denied = false;
    if (k == 0) {
        pthread_rwlock_rdlock(&r->lock);
        k = confirm_no_escalation_locked(r, user, ns, &rules, &msg);
        if (k == 0 && aggregation) {
            struct kos_buf ignored;
            kos_buf_init(&ignored, AUTHZ_MESSAGE_MAX + 1024);
            k = confirm_no_escalation_locked(r, user, ns, &full, &ignored);
            kos_buf_free(&ignored);
            agg_denied = k == 1;
        }
        pthread_rwlock_unlock(&r->lock);
    }
    if (k == 1)
        k = forbidden(err, resource, name,
                      agg_denied ? "must have cluster-admin privileges to use the aggregationRule"
                                 : msg.data);
    kos_buf_free(&msg);
    rbac_rules_free(&rules);
    rbac_rules_free(&full);
    return k;
}

int rbac_check_binding_write(struct rbac_authorizer *r, const struct authz_authorizer *authz,
                             const struct kos_user *user, const char *resource,
                             const char *namespace_, const json_t *obj, const json_t *old,
                             struct kos_error **err)
{
    bool cluster = kos_streq_null(resource, "clusterrolebindings");
    if (!cluster && !kos_streq_null(resource, "rolebindings"))
        return kos_error_set(err, 500, "InternalError", "not a binding resource: %s",
                             authz_str(resource));
    if (escalation_allowed(user))
        return 0;
    const char *ns = cluster ? "" : authz_str(namespace_);
    if (!cluster && !*ns)
        return kos_error_set(err, 400, "BadRequest", "namespace is required");
    if (old && only_gc_fields(obj, old))
        return 0;

    const json_t *ref = json_object_get(obj, "roleRef");
    const char *kind = authz_str(json_string_value(json_object_get(ref, "kind")));
    const char *ref_name = authz_str(json_string_value(json_object_get(ref, "name")));
    const char *name = authz_str(meta_str(obj, "name"));
    /* BindingAuthorized: `bind` on the referenced role, asked in the binding's namespace */
    if (strcmp(kind, "ClusterRole") == 0 || strcmp(kind, "Role") == 0) {
        struct authz_attributes bind = {
            .user = user,
            .verb = "bind",
            .resource_request = true,
            .namespace_ = ns,
            .api_group = authz_str(json_string_value(json_object_get(ref, "apiGroup"))),
            .resource = strcmp(kind, "Role") == 0 ? "roles" : "clusterroles",
            .name = ref_name};
        if (ask(r, authz, &bind))
            return 0;
    }

    struct kos_buf msg, ref_err;
    kos_buf_init(&msg, AUTHZ_MESSAGE_MAX + 1024);
    kos_buf_init(&ref_err, AUTHZ_MESSAGE_MAX);
    pthread_rwlock_rdlock(&r->lock);
    const struct rbac_rules *rules = NULL;
    int k = rbac_role_ref_rules_locked(r, kind, ref_name, ns, true, &rules, &ref_err);
    if (k == 0)
        k = confirm_no_escalation_locked(r, user, ns, rules, &msg);
    pthread_rwlock_unlock(&r->lock);

    if (k == 1) {
        k = forbidden(err, resource, name, msg.data);
    } else if (k == -ENOENT) {
        bool fresh = err && !*err;
        k = kos_error_set(err, 404, "NotFound", "%s", ref_err.data);
        if (fresh && *err)
            kos_error_set_details(*err, ref_name, RBAC_GROUP,
                                  strcmp(kind, "Role") == 0 ? "roles" : "clusterroles");
    } else if (k == -EINVAL) {
        k = kos_error_set(err, 500, "InternalError", "Internal error occurred: %s", ref_err.data);
    }
    kos_buf_free(&msg);
    kos_buf_free(&ref_err);
    return k;
}

/* RBAC objects: parsing Role/ClusterRole/RoleBinding/ClusterRoleBinding JSON into the
 * authorizer's structures, the index keys they are filed under, and appliesToUser. */
#include "apiserver/authz/rbac_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

/* ---- keys ---- */

const char *rbac_key_fmt(struct rbac_key *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->stack, sizeof(k->stack), fmt, ap);
    va_end(ap);
    k->s = k->stack;
    if (n < 0)
        return NULL;
    if ((size_t)n >= sizeof(k->stack)) {
        va_start(ap, fmt);
        if (vasprintf(&k->s, fmt, ap) < 0)
            k->s = NULL;
        va_end(ap);
    }
    return k->s;
}

void rbac_key_free(struct rbac_key *k)
{
    if (k->s && k->s != k->stack)
        free(k->s);
    k->s = NULL;
}

/* Keys are built on every authorization (several per request), so without printf: the
 * pieces are concatenated into the stack buffer, or a heap one when they do not fit. */
struct key_piece {
    const char *s;
    size_t len;
};

static const char *key_cat(struct rbac_key *k, const struct key_piece *p, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += p[i].len;
    k->s = total <= sizeof(k->stack) ? k->stack : malloc(total);
    if (!k->s)
        return NULL;
    char *w = k->s;
    for (size_t i = 0; i < n; i++) {
        memcpy(w, p[i].s, p[i].len);
        w += p[i].len;
    }
    *w = '\0';
    return k->s;
}

/* Decimal digits of v into buf (at least 21 bytes); returns the piece. */
static struct key_piece key_num(char *buf, size_t v)
{
    char *end = buf + 21, *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return (struct key_piece){p, (size_t)(end - p)};
}

#define PIECE(str) ((struct key_piece){(str), strlen(str)})

/* (namespace, name) with a length prefix, so no name can forge another's key. */
const char *rbac_ns_key(struct rbac_key *k, const char *ns, const char *name)
{
    char num[21];
    size_t nslen = strlen(ns);
    const struct key_piece p[] = {key_num(num, nslen), {":", 1}, {ns, nslen}, PIECE(name)};
    return key_cat(k, p, ARRAY_SIZE(p));
}

/* Subject index: 'c' for ClusterRoleBindings, 'n'+namespace for RoleBindings; then 'u' (a user
 * name, service accounts resolved to theirs) or 'g' (a group). */
const char *rbac_subject_key(struct rbac_key *k, const char *ns, char kind, const char *name)
{
    char kind_colon[2] = {kind, ':'};
    if (!ns) {
        const struct key_piece p[] = {{"c", 1}, {kind_colon, 2}, PIECE(name)};
        return key_cat(k, p, ARRAY_SIZE(p));
    }
    char num[21];
    size_t nslen = strlen(ns);
    const struct key_piece p[] = {{"n", 1},    key_num(num, nslen), {":", 1},
                                  {ns, nslen}, {kind_colon, 2},     PIECE(name)};
    return key_cat(k, p, ARRAY_SIZE(p));
}

/* ---- objects ---- */

void rbac_role_free(struct rbac_role *role)
{
    if (!role)
        return;
    free(role->namespace_);
    free(role->name);
    json_decref(role->labels);
    rbac_rules_free(&role->own);
    rbac_rules_free(&role->agg);
    for (size_t i = 0; i < role->nselectors; i++)
        label_selector_free(role->selectors[i]);
    free(role->selectors);
    free(role);
}

static void role_freep(struct rbac_role **p)
{
    rbac_role_free(*p);
}

void rbac_binding_free(struct rbac_binding *b)
{
    if (!b)
        return;
    free(b->namespace_);
    free(b->name);
    free(b->ref_api_group);
    free(b->ref_kind);
    free(b->ref_name);
    for (size_t i = 0; i < b->nsubjects; i++) {
        free(b->subjects[i].kind_str);
        free(b->subjects[i].name);
        free(b->subjects[i].namespace_);
    }
    free(b->subjects);
    for (size_t i = 0; i < b->nkeys; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b);
}

static void binding_freep(struct rbac_binding **p)
{
    rbac_binding_free(*p);
}

/* A string field that may be absent or null ("" then); -EINVAL when it has another type. */
static int get_str(const json_t *obj, const char *field, const char **ret)
{
    const json_t *v = json_object_get(obj, field);
    if (!v || json_is_null(v)) {
        *ret = "";
        return 0;
    }
    if (!json_is_string(v))
        return -EINVAL;
    *ret = json_string_value(v);
    return 0;
}

int rbac_get_meta(const json_t *obj, bool namespaced, const char **ns, const char **name)
{
    const json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta) || get_str(meta, "name", name) < 0 || !**name)
        return -EINVAL;
    *ns = NULL;
    if (namespaced && (get_str(meta, "namespace", ns) < 0 || !**ns))
        return -EINVAL;
    return 0;
}

int rbac_role_parse(enum rbac_kind kind, const json_t *obj, struct rbac_role **ret)
{
    const char *ns, *name;
    if (!json_is_object(obj) || rbac_get_meta(obj, kind == RBAC_KIND_ROLE, &ns, &name) < 0)
        return -EINVAL;
    _cleanup_(role_freep) struct rbac_role *role = calloc(1, sizeof(*role));
    if (!role || !(role->name = strdup(name)) || (ns && !(role->namespace_ = strdup(ns))))
        return -ENOMEM;
    int r = rbac_rules_parse(json_object_get(obj, "rules"), &role->own);
    if (r < 0)
        return r;
    if (kind == RBAC_KIND_ROLE) {
        *ret = TAKE_PTR(role);
        return 0;
    }

    const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    if (labels && !json_is_null(labels)) {
        if (!json_is_object(labels))
            return -EINVAL;
        if (!(role->labels = json_deep_copy(labels)))
            return -ENOMEM;
    }
    const json_t *agg = json_object_get(obj, "aggregationRule");
    if (agg && !json_is_null(agg)) {
        if (!json_is_object(agg))
            return -EINVAL;
        role->aggregated = true;
        const json_t *sels = json_object_get(agg, "clusterRoleSelectors");
        if (sels && !json_is_null(sels)) {
            if (!json_is_array(sels))
                return -EINVAL;
            size_t n = json_array_size(sels);
            if (n && !(role->selectors = calloc(n, sizeof(*role->selectors))))
                return -ENOMEM;
            for (size_t i = 0; i < n; i++) {
                struct kos_error *err = NULL;
                r = label_selector_from_json(json_array_get(sels, i), &role->selectors[i], &err);
                kos_error_free(err);
                if (r < 0)
                    return r;
                role->nselectors++;
            }
        }
    }
    *ret = TAKE_PTR(role);
    return 0;
}

static int dup_field(const json_t *obj, const char *field, char **ret)
{
    const char *s;
    if (get_str(obj, field, &s) < 0)
        return -EINVAL;
    return (*ret = strdup(s)) ? 0 : -ENOMEM;
}

static int add_key(struct rbac_binding *b, const char *key)
{
    char **v = realloc(b->keys, (b->nkeys + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    b->keys = v;
    return (b->keys[b->nkeys] = strdup(key)) ? (b->nkeys++, 0) : -ENOMEM;
}

/* The index key a subject is found under; NULL key (returns 0) when it can never match. */
static int subject_index_key(const struct rbac_binding *b, const struct rbac_subject *s,
                             struct rbac_key *k, const char **ret)
{
    *ret = NULL;
    k->s = NULL; /* rbac_key_free() must be safe when no key is built */
    switch (s->kind) {
    case RBAC_SUBJECT_USER:
        *ret = rbac_subject_key(k, b->namespace_, 'u', s->name);
        break;
    case RBAC_SUBJECT_GROUP:
        *ret = rbac_subject_key(k, b->namespace_, 'g', s->name);
        break;
    case RBAC_SUBJECT_SERVICE_ACCOUNT: {
        /* an unqualified service account belongs to the RoleBinding's namespace */
        const char *sa_ns = *s->namespace_ ? s->namespace_ : authz_str(b->namespace_);
        if (!*sa_ns)
            return 0;
        struct rbac_key user;
        if (!rbac_key_fmt(&user, AUTHZ_SA_USER_PREFIX "%s:%s", sa_ns, s->name))
            return -ENOMEM;
        *ret = rbac_subject_key(k, b->namespace_, 'u', user.s);
        rbac_key_free(&user);
        break;
    }
    default:
        return 0;
    }
    return *ret ? 0 : -ENOMEM;
}

int rbac_binding_parse(enum rbac_kind kind, const json_t *obj, struct rbac_binding **ret)
{
    const char *ns, *name;
    if (!json_is_object(obj) || rbac_get_meta(obj, kind == RBAC_KIND_ROLE_BINDING, &ns, &name) < 0)
        return -EINVAL;
    const json_t *ref = json_object_get(obj, "roleRef");
    const json_t *subjects = json_object_get(obj, "subjects");
    if (!json_is_object(ref) || (subjects && !json_is_null(subjects) && !json_is_array(subjects)))
        return -EINVAL;

    _cleanup_(binding_freep) struct rbac_binding *b = calloc(1, sizeof(*b));
    if (!b || !(b->name = strdup(name)) || (ns && !(b->namespace_ = strdup(ns))))
        return -ENOMEM;
    int r = dup_field(ref, "apiGroup", &b->ref_api_group);
    if (r == 0)
        r = dup_field(ref, "kind", &b->ref_kind);
    if (r == 0)
        r = dup_field(ref, "name", &b->ref_name);
    if (r < 0)
        return r;

    size_t n = json_array_size(subjects);
    if (n && !(b->subjects = calloc(n, sizeof(*b->subjects))))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *js = json_array_get(subjects, i);
        struct rbac_subject *s = &b->subjects[i];
        if (!json_is_object(js) && !json_is_null(js))
            return -EINVAL;
        b->nsubjects++;
        if ((r = dup_field(js, "kind", &s->kind_str)) < 0 ||
            (r = dup_field(js, "name", &s->name)) < 0 ||
            (r = dup_field(js, "namespace", &s->namespace_)) < 0)
            return r;
        s->kind = strcmp(s->kind_str, "User") == 0             ? RBAC_SUBJECT_USER
                  : strcmp(s->kind_str, "Group") == 0          ? RBAC_SUBJECT_GROUP
                  : strcmp(s->kind_str, "ServiceAccount") == 0 ? RBAC_SUBJECT_SERVICE_ACCOUNT
                                                               : RBAC_SUBJECT_OTHER;
        struct rbac_key k;
        const char *key;
        if ((r = subject_index_key(b, s, &k, &key)) < 0)
            return r;
        if (key)
            r = add_key(b, key);
        rbac_key_free(&k);
        if (r < 0)
            return r;
    }
    *ret = TAKE_PTR(b);
    return 0;
}

/* appliesToUser (rule.go). */
bool rbac_subject_applies(const struct rbac_binding *b, const struct rbac_subject *s,
                          const struct kos_user *u)
{
    const char *uname = authz_str(u ? u->name : NULL);
    switch (s->kind) {
    case RBAC_SUBJECT_USER:
        return strcmp(uname, s->name) == 0;
    case RBAC_SUBJECT_GROUP:
        return authz_user_in_group(u, s->name);
    case RBAC_SUBJECT_SERVICE_ACCOUNT: {
        const char *ns = *s->namespace_ ? s->namespace_ : authz_str(b->namespace_);
        size_t plen = strlen(AUTHZ_SA_USER_PREFIX), nslen = strlen(ns);
        return *ns && strncmp(uname, AUTHZ_SA_USER_PREFIX, plen) == 0 &&
               strncmp(uname + plen, ns, nslen) == 0 && uname[plen + nslen] == ':' &&
               strcmp(uname + plen + nslen + 1, s->name) == 0;
    }
    default:
        return false;
    }
}

/* RBACAuthorizer.RulesFor: what a user may do in a namespace, for SelfSubjectRulesReview
 * (kubectl auth can-i --list). */
#include <errno.h>
#include <stdlib.h>

#include "apiserver/authz/rbac_internal.h"
#include "util/json_cleanup.h"

struct collect {
    json_t *res;
    json_t *nonres;
    struct rbac_errlist errors;
    int error;
};

static json_t *strlist(const struct rbac_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Sets key to the list unless it is empty (the Go fields are omitempty). */
static int set_list(json_t *o, const char *key, const struct rbac_strlist *l, bool always)
{
    if (l->n == 0 && !always)
        return 0;
    json_t *a = strlist(l);
    return a && json_object_set_new(o, key, a) == 0 ? 0 : -ENOMEM;
}

static bool visit(void *ctx, const struct rbac_binding *b, const struct rbac_subject *s,
                  const struct rbac_rule *rule, const char *err)
{
    struct collect *c = ctx;
    if (err) {
        if (c->error == 0)
            c->error = rbac_errlist_add(&c->errors, err);
        return c->error == 0;
    }
    if (rule->resources.n > 0) {
        json_t *o = json_object();
        if (!o || set_list(o, "verbs", &rule->verbs, true) < 0 ||
            set_list(o, "apiGroups", &rule->api_groups, false) < 0 ||
            set_list(o, "resources", &rule->resources, false) < 0 ||
            set_list(o, "resourceNames", &rule->resource_names, false) < 0 ||
            json_array_append_new(c->res, o) < 0) {
            c->error = -ENOMEM;
            return false;
        }
    }
    if (rule->urls.n > 0) {
        json_t *o = json_object();
        if (!o || set_list(o, "verbs", &rule->verbs, true) < 0 ||
            set_list(o, "nonResourceURLs", &rule->urls, false) < 0 ||
            json_array_append_new(c->nonres, o) < 0) {
            c->error = -ENOMEM;
            return false;
        }
    }
    return true;
}

int rbac_rules_for(struct rbac_authorizer *r, const struct kos_user *user, const char *ns,
                   json_t **resource_rules, json_t **non_resource_rules, char **eval_error)
{
    struct collect c = {.res = json_array(), .nonres = json_array()};
    _cleanup_json_ json_t *res = c.res, *nonres = c.nonres;
    if (!res || !nonres)
        return -ENOMEM;
    pthread_rwlock_rdlock(&r->lock);
    int k = rbac_visit_rules_locked(r, user, ns, false, visit, &c);
    pthread_rwlock_unlock(&r->lock);
    if (k == 0 && c.error < 0)
        k = c.error;
    char *text = NULL;
    if (k == 0 && c.errors.n > 0) {
        struct kos_buf b;
        kos_buf_init(&b, AUTHZ_MESSAGE_MAX);
        if (rbac_errlist_format(&c.errors, &b) < 0)
            k = -ENOMEM;
        else
            text = kos_buf_steal(&b, NULL);
        kos_buf_free(&b);
    }
    rbac_errlist_free(&c.errors);
    if (k < 0)
        return k;
    *resource_rules = TAKE_PTR(res);
    *non_resource_rules = TAKE_PTR(nonres);
    *eval_error = text;
    return 0;
}

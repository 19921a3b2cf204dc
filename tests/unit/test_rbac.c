/* Unit tests for src/apiserver/authz/rbac*.c: PolicyRule matching, bindings and subjects,
 * ClusterRole aggregation, the bootstrap policy, reason texts, and many bindings. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/authz/bootstrap_roles.h"
#include "apiserver/authz/rbac.h"
#include "apiserver/authz/rbac_internal.h"
#include "util/json_cleanup.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        print_error("bad test JSON: %s: %s\n", e.text, text);
    assert_non_null(j);
    return j;
}

static const char *const no_groups[] = {NULL};

#define USER(n, ...)                                                                               \
    (&(struct kos_user){.name = n,                                                                 \
                        .groups = (const char *const[]){__VA_ARGS__},                              \
                        .ngroups = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)})

static struct authz_attributes res(const struct kos_user *u, const char *verb, const char *ns,
                                   const char *group, const char *resource, const char *sub,
                                   const char *name)
{
    return (struct authz_attributes){.user = u,
                                     .verb = verb,
                                     .resource_request = true,
                                     .namespace_ = ns,
                                     .api_group = group,
                                     .api_version = "v1",
                                     .resource = resource,
                                     .subresource = sub,
                                     .name = name};
}

static struct authz_attributes url(const struct kos_user *u, const char *verb, const char *path)
{
    return (struct authz_attributes){.user = u, .verb = verb, .path = path};
}

/* ---- rule matching table ---- */

struct rule_case {
    const char *rule;
    const char *verb, *group, *resource, *sub, *name, *path; /* path set: non-resource */
    bool want;
};

static void test_rule_matching(void **state)
{
    static const struct rule_case cases[] = {
        /* verbs */
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", "get", "", "pods",
         "", "", NULL, true},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", "list", "", "pods",
         "", "", NULL, false},
        {"{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", "deletecollection",
         "", "pods", "", "", NULL, true},
        {"{\"verbs\":[],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", "get", "", "pods", "", "",
         NULL, false},
        {"{\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", "get", "", "pods", "", "", NULL, false},
        /* groups */
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"deployments\"]}", "get",
         "apps", "deployments", "", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],\"resources\":[\"deployments\"]}", "get",
         "apps", "deployments", "", "", NULL, true},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"apps\",\"extensions\"],\"resources\":"
         "[\"deployments\"]}",
         "get", "extensions", "deployments", "", "", NULL, true},
        {"{\"verbs\":[\"get\"],\"resources\":[\"pods\"]}", "get", "", "pods", "", "", NULL, false},
        /* resources and subresources */
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"*\"]}", "get", "", "pods",
         "log", "", NULL, true},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}", "get", "", "pods",
         "log", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", "get", "",
         "pods", "log", "", NULL, true},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", "get", "",
         "pods", "", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", "get", "",
         "pods", "logs", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/log\"]}", "get", "",
         "podsx", "log", "", NULL, false},
        {"{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}", "update",
         "apps", "deployments", "scale", "", NULL, true},
        {"{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}", "update",
         "apps", "deployments", "", "", NULL, false},
        {"{\"verbs\":[\"update\"],\"apiGroups\":[\"*\"],\"resources\":[\"*/scale\"]}", "update",
         "apps", "deployments", "status", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/*\"]}", "get", "", "pods",
         "log", "", NULL, false},
        {"{\"verbs\":[\"create\"],\"apiGroups\":[\"\"],\"resources\":[\"pods/exec\"]}", "create",
         "", "pods", "exec", "x", NULL, true},
        /* resourceNames */
        {"{\"verbs\":[\"get\",\"list\",\"create\"],\"apiGroups\":[\"\"],\"resources\":"
         "[\"configmaps\"],\"resourceNames\":[\"a\"]}",
         "get", "", "configmaps", "", "a", NULL, true},
        {"{\"verbs\":[\"get\",\"list\",\"create\"],\"apiGroups\":[\"\"],\"resources\":"
         "[\"configmaps\"],\"resourceNames\":[\"a\"]}",
         "get", "", "configmaps", "", "b", NULL, false},
        {"{\"verbs\":[\"get\",\"list\",\"create\"],\"apiGroups\":[\"\"],\"resources\":"
         "[\"configmaps\"],\"resourceNames\":[\"a\"]}",
         "list", "", "configmaps", "", "", NULL, false},
        {"{\"verbs\":[\"get\",\"list\",\"create\"],\"apiGroups\":[\"\"],\"resources\":"
         "[\"configmaps\"],\"resourceNames\":[\"a\"]}",
         "create", "", "configmaps", "", "", NULL, false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],"
         "\"resourceNames\":[]}",
         "get", "", "configmaps", "", "zzz", NULL, true},
        /* nonResourceURLs */
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}", "get", "", "", "", "",
         "/healthz", true},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}", "get", "", "", "", "",
         "/healthz/ping", false},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}", "post", "", "", "", "",
         "/healthz", false},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}", "get", "", "", "", "", "/api/v1",
         true},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}", "get", "", "", "", "", "/api",
         false},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}", "get", "", "", "", "",
         "/apis/apps", false},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api*\"]}", "get", "", "", "", "",
         "/apis/apps", true},
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/foo**\"]}", "get", "", "", "", "", "/foobar",
         true},
        {"{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}", "delete", "", "", "", "", "/anything",
         true},
        /* the two halves never mix */
        {"{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"*\"]}", "get", "", "pods", "", "", NULL,
         false},
        {"{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]}", "get", "", "", "", "",
         "/healthz", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct rule_case *c = &cases[i];
        _cleanup_json_ json_t *rule = J(c->rule);
        _cleanup_json_ json_t *arr = json_pack("[O]", rule);
        struct rbac_rules rs = {0};
        assert_int_equal(rbac_rules_parse(arr, &rs), 0);
        struct authz_attributes a =
            c->path ? url(USER("u", "g"), c->verb, c->path)
                    : res(USER("u", "g"), c->verb, "ns", c->group, c->resource, c->sub, c->name);
        bool got = rbac_rules_allow(&rs, &a);
        if (got != c->want)
            print_error("case %zu: %s %s %s/%s %s: got %d\n", i, c->rule, c->verb,
                        c->path ? c->path : c->resource, c->sub, c->name, got);
        assert_true(got == c->want);
        rbac_rules_free(&rs);
    }
}

static void test_rule_parse_errors(void **state)
{
    static const char *const bad[] = {
        "{}", "[1]", "[{\"verbs\":\"get\"}]", "[{\"verbs\":[1]}]", "[{\"apiGroups\":{}}]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_json_ json_t *j = J(bad[i]);
        struct rbac_rules rs = {0};
        assert_int_equal(rbac_rules_parse(j, &rs), -EINVAL);
    }
    /* null rules and null list fields are empty, as Go decodes them */
    _cleanup_json_ json_t *ok = J("[null,{\"verbs\":null,\"resources\":null}]");
    struct rbac_rules rs = {0};
    assert_int_equal(rbac_rules_parse(ok, &rs), 0);
    assert_int_equal(rs.n, 2);
    assert_true(rbac_rule_equal(rs.v[0], rs.v[1]));
    rbac_rules_free(&rs);
    assert_int_equal(rbac_rules_parse(json_null(), &rs), 0);
    assert_int_equal(rs.n, 0);
}

/* ---- an authorizer with objects ---- */

static struct rbac_authorizer *new_rbac(const char *objs)
{
    struct rbac_authorizer *r = NULL;
    assert_int_equal(rbac_new(&r), 0);
    if (objs) {
        _cleanup_json_ json_t *a = J(objs);
        int k = rbac_apply_all(r, a);
        if (k < 0)
            print_error("rbac_apply_all: %d\n", k);
        assert_int_equal(k, (int)json_array_size(a));
    }
    return r;
}

static void apply(struct rbac_authorizer *r, const char *obj)
{
    _cleanup_json_ json_t *o = J(obj);
    assert_int_equal(rbac_apply(r, -1, o), 0);
}

/* Authorizes and checks the decision, and the reason when want_reason is not NULL. */
static void check(struct rbac_authorizer *r, struct authz_attributes a, int want,
                  const char *want_reason)
{
    char *reason = (char *)0x1;
    int d = rbac_authorize(r, &a, &reason);
    bool reason_ok = !want_reason ||
                     (*want_reason ? reason && strcmp(reason, want_reason) == 0 : reason == NULL);
    if (d != want || !reason_ok)
        print_error("%s %s/%s in %s: got %d reason %s\n", a.verb, authz_str(a.resource),
                    authz_str(a.path), authz_str(a.namespace_), d, reason ? reason : "(null)");
    assert_int_equal(d, want);
    if (want_reason && !*want_reason)
        assert_null(reason);
    else if (want_reason)
        assert_string_equal(reason, want_reason);
    free(reason);
    assert_int_equal(rbac_authorize(r, &a, NULL), want);
}

#define ROLE(ns, name, rules)                                                                      \
    "{\"kind\":\"Role\",\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"metadata\":{\"name\":"   \
    "\"" name "\",\"namespace\":\"" ns "\"},\"rules\":" rules "}"
#define CROLE(name, rules)                                                                         \
    "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\"},\"rules\":" rules "}"
#define RB(ns, name, kind, role, subjects)                                                         \
    "{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"},"     \
    "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"" kind                     \
    "\",\"name\":\"" role "\"},\"subjects\":" subjects "}"
#define CRB(name, role, subjects)                                                                  \
    "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"" name "\"},\"roleRef\":{"          \
    "\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"" role "\"},"  \
    "\"subjects\":" subjects "}"
#define SUBJ(kind, name) "{\"kind\":\"" kind "\",\"name\":\"" name "\"}"
#define SA(ns, name)     "{\"kind\":\"ServiceAccount\",\"name\":\"" name "\",\"namespace\":\"" ns "\"}"
#define PODS_READ        "[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]"

static void test_cluster_role_binding(void **state)
{
    struct rbac_authorizer *r = new_rbac("[" CROLE("reader", PODS_READ) "," CRB(
        "read-all", "reader", "[" SUBJ("User", "alice") "," SUBJ("Group", "devs") "]") "]");
    const struct kos_user *alice = USER("alice", "system:authenticated");
    const struct kos_user *bob = USER("bob", "devs", "system:authenticated");
    const struct kos_user *carol = USER("carol", "system:authenticated");

    check(r, res(alice, "list", "default", "", "pods", "", ""), AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"read-all\" of ClusterRole \"reader\" to User "
          "\"alice\"");
    check(r, res(alice, "list", "", "", "pods", "", ""), AUTHZ_ALLOW, NULL);
    check(r, res(bob, "get", "kube-system", "", "pods", "", "x"), AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"read-all\" of ClusterRole \"reader\" to Group "
          "\"devs\"");
    check(r, res(carol, "get", "default", "", "pods", "", "x"), AUTHZ_NO_OPINION, "");
    check(r, res(alice, "delete", "default", "", "pods", "", "x"), AUTHZ_NO_OPINION, "");
    check(r, res(NULL, "get", "default", "", "pods", "", "x"), AUTHZ_NO_OPINION, "");
    /* a user named like a group is not in it */
    check(r, res(USER("devs"), "get", "default", "", "pods", "", "x"), AUTHZ_NO_OPINION, "");
    rbac_free(r);
}

static void test_role_binding_scope(void **state)
{
    struct rbac_authorizer *r = new_rbac("[" ROLE("dev", "pod-reader", PODS_READ) "," RB(
        "dev", "b1", "Role", "pod-reader",
        "[" SUBJ("User", "alice") "]") "," CROLE("cm-reader",
                                                 "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                                                 "\"resources\":[\"configmaps\"]"
                                                 "}]") "," RB("dev", "b2", "ClusterRole",
                                                              "cm-reader",
                                                              "[" SUBJ("User", "alice") "]") "]");
    const struct kos_user *alice = USER("alice");

    check(r, res(alice, "get", "dev", "", "pods", "", "p"), AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"b1/dev\" of Role \"pod-reader\" to User \"alice\"");
    check(r, res(alice, "get", "prod", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    check(r, res(alice, "list", "", "", "pods", "", ""), AUTHZ_NO_OPINION, "");
    /* a ClusterRole bound by a RoleBinding grants only in the binding's namespace */
    check(r, res(alice, "get", "dev", "", "configmaps", "", "c"), AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"b2/dev\" of ClusterRole \"cm-reader\" to User "
          "\"alice\"");
    check(r, res(alice, "get", "prod", "", "configmaps", "", "c"), AUTHZ_NO_OPINION, "");
    check(r, res(alice, "get", "", "", "configmaps", "", "c"), AUTHZ_NO_OPINION, "");

    /* a Role of another namespace with the same name is not this one */
    apply(r, RB("prod", "b1", "Role", "pod-reader", "[" SUBJ("User", "alice") "]"));
    check(r, res(alice, "get", "prod", "", "pods", "", "p"), AUTHZ_NO_OPINION,
          "RBAC: role.rbac.authorization.k8s.io \"pod-reader\" not found");
    rbac_free(r);
}

static void test_service_account_subjects(void **state)
{
    struct rbac_authorizer *r =
        new_rbac("[" ROLE("dev", "pod-reader", PODS_READ) "," CROLE("reader", PODS_READ) "," RB(
            "dev", "qualified", "Role", "pod-reader",
            "[" SA(
                "dev",
                "builder") "]") "," RB("dev", "local", "Role", "pod-reader",
                                       "[" SUBJ(
                                           "ServiceAccount",
                                           "deployer") "]") "," RB("dev", "foreign", "Role",
                                                                   "pod-reader",
                                                                   "[" SA(
                                                                       "ci",
                                                                       "runner") "]") "," CRB("clus"
                                                                                              "ter",
                                                                                              "read"
                                                                                              "er",
                                                                                              "[" SUBJ("ServiceAccount", "nowhere") "," SA(
                                                                                                  "kube-system",
                                                                                                  "kube-dns") "]") "]");

    check(r, res(USER("system:serviceaccount:dev:builder"), "get", "dev", "", "pods", "", "p"),
          AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"qualified/dev\" of Role \"pod-reader\" to "
          "ServiceAccount \"builder/dev\"");
    /* an unqualified service account is the binding's namespace's */
    check(r, res(USER("system:serviceaccount:dev:deployer"), "get", "dev", "", "pods", "", "p"),
          AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"local/dev\" of Role \"pod-reader\" to ServiceAccount "
          "\"deployer/dev\"");
    check(r, res(USER("system:serviceaccount:prod:deployer"), "get", "dev", "", "pods", "", "p"),
          AUTHZ_NO_OPINION, "");
    /* a service account of another namespace granted in this one */
    check(r, res(USER("system:serviceaccount:ci:runner"), "get", "dev", "", "pods", "", "p"),
          AUTHZ_ALLOW, NULL);
    /* in a ClusterRoleBinding, an unqualified service account matches nobody */
    check(r, res(USER("system:serviceaccount::nowhere"), "get", "x", "", "pods", "", "p"),
          AUTHZ_NO_OPINION, "");
    check(r,
          res(USER("system:serviceaccount:kube-system:kube-dns"), "list", "", "", "pods", "", ""),
          AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"cluster\" of ClusterRole \"reader\" to "
          "ServiceAccount \"kube-dns/kube-system\"");
    /* the SA name must match exactly, not as a prefix */
    check(r, res(USER("system:serviceaccount:dev:builder2"), "get", "dev", "", "pods", "", "p"),
          AUTHZ_NO_OPINION, "");
    check(r, res(USER("builder"), "get", "dev", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    /* unknown subject kinds match nobody, whatever their name */
    apply(r, RB("dev", "odd", "Role", "pod-reader",
                "[" SUBJ("Widget", "alice") "," SUBJ("user", "alice") "]"));
    check(r, res(USER("alice"), "get", "dev", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    rbac_free(r);
}

static void test_resolution_errors(void **state)
{
    struct rbac_authorizer *r =
        new_rbac("[" CRB("b1", "missing", "[" SUBJ("User", "alice") "]") "," RB(
            "dev", "b2", "Role", "gone", "[" SUBJ("Group", "devs") "]") "]");
    const struct kos_user *alice = USER("alice", "devs");
    check(r, res(alice, "get", "", "", "pods", "", "p"), AUTHZ_NO_OPINION,
          "RBAC: clusterrole.rbac.authorization.k8s.io \"missing\" not found");
    check(r, res(alice, "get", "dev", "", "pods", "", "p"), AUTHZ_NO_OPINION,
          "RBAC: [clusterrole.rbac.authorization.k8s.io \"missing\" not found, "
          "role.rbac.authorization.k8s.io \"gone\" not found]");
    apply(r, "{\"kind\":\"ClusterRoleBinding\",\"metadata\":{\"name\":\"b3\"},\"roleRef\":{"
             "\"kind\":\"Widget\",\"name\":\"w\"},\"subjects\":[" SUBJ("User", "bob") "]}");
    check(r, res(USER("bob"), "get", "", "", "pods", "", "p"), AUTHZ_NO_OPINION,
          "RBAC: unsupported role reference kind: \"Widget\"");
    /* the role appears: the error goes and the permission comes */
    apply(r, CROLE("missing", PODS_READ));
    check(r, res(alice, "get", "", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);
    rbac_free(r);
}

static void test_updates_and_deletes(void **state)
{
    struct rbac_authorizer *r = new_rbac(
        "[" CROLE("reader", PODS_READ) "," CRB("b", "reader", "[" SUBJ("User", "alice") "]") "]");
    const struct kos_user *alice = USER("alice"), *bob = USER("bob");
    check(r, res(alice, "get", "", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);

    /* the binding moves to bob */
    apply(r, CRB("b", "reader", "[" SUBJ("User", "bob") "]"));
    check(r, res(alice, "get", "", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    check(r, res(bob, "get", "", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);

    /* the role loses a verb */
    apply(r, CROLE("reader", "[{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":"
                             "[\"pods\"]}]"));
    check(r, res(bob, "get", "", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    check(r, res(bob, "list", "", "", "pods", "", ""), AUTHZ_ALLOW, NULL);

    /* a malformed update drops the previous version instead of keeping it */
    _cleanup_json_ json_t *bad = J(CROLE("reader", "\"oops\""));
    assert_int_equal(rbac_apply(r, RBAC_KIND_CLUSTER_ROLE, bad), -EINVAL);
    check(r, res(bob, "list", "", "", "pods", "", ""), AUTHZ_NO_OPINION,
          "RBAC: clusterrole.rbac.authorization.k8s.io \"reader\" not found");

    apply(r, CROLE("reader", PODS_READ));
    assert_int_equal(rbac_delete(r, RBAC_KIND_CLUSTER_ROLE_BINDING, NULL, "b"), 0);
    assert_int_equal(rbac_delete(r, RBAC_KIND_CLUSTER_ROLE_BINDING, NULL, "b"), -ENOENT);
    check(r, res(bob, "get", "", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");

    /* kinds: explicit, from the object, and wrong */
    _cleanup_json_ json_t *rb =
        J(RB("dev", "x", "ClusterRole", "reader", "[" SUBJ("User", "z") "]"));
    assert_int_equal(rbac_apply(r, RBAC_KIND_ROLE_BINDING, rb), 0);
    check(r, res(USER("z"), "get", "dev", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);
    assert_int_equal(rbac_delete(r, RBAC_KIND_ROLE_BINDING, "other", "x"), -ENOENT);
    assert_int_equal(rbac_delete(r, RBAC_KIND_ROLE_BINDING, "dev", "x"), 0);
    check(r, res(USER("z"), "get", "dev", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
    _cleanup_json_ json_t *nokind = J("{\"metadata\":{\"name\":\"x\"}}");
    assert_int_equal(rbac_apply(r, -1, nokind), -EINVAL);
    _cleanup_json_ json_t *nons = J("{\"kind\":\"Role\",\"metadata\":{\"name\":\"x\"}}");
    assert_int_equal(rbac_apply(r, -1, nons), -EINVAL);
    assert_int_equal(rbac_kind_from_string("ClusterRoleBinding"), RBAC_KIND_CLUSTER_ROLE_BINDING);
    assert_int_equal(rbac_kind_from_string("Pod"), -EINVAL);
    assert_int_equal(rbac_kind_from_string(NULL), -EINVAL);
    rbac_free(r);
}

/* ---- aggregation ---- */

#define AGG(name, labels, sel)                                                                     \
    "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\",\"labels\":" labels "},"        \
    "\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":" sel "}]}}"
#define LABELED(name, labels, rules)                                                               \
    "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"" name "\",\"labels\":" labels "},"        \
    "\"rules\":" rules "}"
#define WIDGETS                                                                                    \
    "[{\"verbs\":[\"get\"],\"apiGroups\":[\"example.com\"],\"resources\":[\"widgets\"]}]"

static struct rbac_authorizer *bootstrap(void)
{
    struct rbac_authorizer *r = NULL;
    assert_int_equal(rbac_new(&r), 0);
    _cleanup_json_ json_t *objs = authz_bootstrap_objects();
    assert_non_null(objs);
    assert_int_equal(rbac_apply_all(r, objs), (int)json_array_size(objs));
    return r;
}

static void test_aggregation_bootstrap(void **state)
{
    struct rbac_authorizer *r = bootstrap();
    apply(r, RB("dev", "editors", "ClusterRole", "edit", "[" SUBJ("User", "ed") "]"));
    apply(r, RB("dev", "admins", "ClusterRole", "admin", "[" SUBJ("User", "ad") "]"));
    apply(r, RB("dev", "viewers", "ClusterRole", "view", "[" SUBJ("User", "vi") "]"));
    const struct kos_user *ed = USER("ed"), *ad = USER("ad"), *vi = USER("vi");

    check(r, res(ed, "create", "dev", "apps", "deployments", "", ""), AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"editors/dev\" of ClusterRole \"edit\" to User \"ed\"");
    check(r, res(ed, "get", "dev", "", "secrets", "", "s"), AUTHZ_ALLOW, NULL);
    check(r, res(ed, "get", "dev", "", "pods", "log", "p"), AUTHZ_ALLOW, NULL); /* from view */
    check(r, res(ed, "create", "dev", "rbac.authorization.k8s.io", "rolebindings", "", ""),
          AUTHZ_NO_OPINION, "");
    check(r, res(ad, "create", "dev", "rbac.authorization.k8s.io", "rolebindings", "", ""),
          AUTHZ_ALLOW, NULL);
    check(r, res(ad, "delete", "dev", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);    /* from edit */
    check(r, res(ad, "list", "dev", "", "configmaps", "", ""), AUTHZ_ALLOW, NULL); /* from view */
    check(r, res(vi, "list", "dev", "", "pods", "", ""), AUTHZ_ALLOW, NULL);
    check(r, res(vi, "get", "dev", "", "secrets", "", "s"), AUTHZ_NO_OPINION, "");

    /* a CRD's role labeled aggregate-to-edit shows up in edit and, through edit, in admin */
    check(r, res(ed, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_NO_OPINION, "");
    apply(r, LABELED("widget-edit", "{\"rbac.authorization.k8s.io/aggregate-to-edit\":\"true\"}",
                     WIDGETS));
    check(r, res(ed, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_ALLOW, NULL);
    check(r, res(ad, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_ALLOW, NULL);
    check(r, res(vi, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_NO_OPINION, "");
    json_t *rules = NULL;
    assert_int_equal(rbac_cluster_role_rules(r, "edit", &rules), 0);
    _cleanup_json_ json_t *w = J(WIDGETS);
    bool found = false;
    for (size_t i = 0; i < json_array_size(rules); i++)
        found |= json_equal(json_array_get(rules, i), json_array_get(w, 0));
    assert_true(found);
    json_decref(rules);

    /* the label goes: so do the permissions */
    apply(r, LABELED("widget-edit", "{}", WIDGETS));
    check(r, res(ed, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_NO_OPINION, "");
    check(r, res(ad, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_NO_OPINION, "");
    apply(r, LABELED("widget-edit", "{\"rbac.authorization.k8s.io/aggregate-to-view\":\"true\"}",
                     WIDGETS));
    check(r, res(vi, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_ALLOW, NULL);
    check(r, res(ad, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_ALLOW, NULL);
    assert_int_equal(rbac_delete(r, RBAC_KIND_CLUSTER_ROLE, NULL, "widget-edit"), 0);
    check(r, res(ad, "get", "dev", "example.com", "widgets", "", "w"), AUTHZ_NO_OPINION, "");
    assert_int_equal(rbac_cluster_role_rules(r, "nope", &rules), -ENOENT);
    rbac_free(r);
}

static void test_aggregation_order_and_cycles(void **state)
{
    struct rbac_authorizer *r = new_rbac("[" AGG("agg", "{}", "{\"x\":\"1\"}") "," LABELED(
        "b-role", "{\"x\":\"1\"}",
        "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"b\"]},"
        "{\"verbs\":[\"get\"],\"apiGroups\":[\"example.com\"],\"resources\":[\"widgets\"]}"
        "]") "," LABELED("a-role", "{\"x\":\"1\"}",
                         "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"a\"]}"
                         ","
                         "{\"verbs\":[\"get\"],\"apiGroups\":[\"example.com\"],"
                         "\"resources\":[\"widgets\"],\"resourceNames\":null}]") "]");
    /* roles by name, rules in order, duplicates (nil == empty) dropped */
    json_t *rules = NULL;
    assert_int_equal(rbac_cluster_role_rules(r, "agg", &rules), 0);
    assert_int_equal(json_array_size(rules), 3);
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_array_get(rules, 0), "resources"), 0)),
                        "a");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(json_array_get(rules, 2), "resources"), 0)),
                        "b");
    json_decref(rules);

    /* a cycle: c1 gathers y, c2 gathers z; c1 is labeled z and c2 y; base feeds y */
    apply(r, AGG("c1", "{\"z\":\"1\"}", "{\"y\":\"1\"}"));
    apply(r, AGG("c2", "{\"y\":\"1\"}", "{\"z\":\"1\"}"));
    apply(r, LABELED("base", "{\"y\":\"1\"}", WIDGETS));
    apply(r, CRB("b1", "c1", "[" SUBJ("User", "u1") "]"));
    apply(r, CRB("b2", "c2", "[" SUBJ("User", "u2") "]"));
    check(r, res(USER("u1"), "get", "", "example.com", "widgets", "", ""), AUTHZ_ALLOW, NULL);
    check(r, res(USER("u2"), "get", "", "example.com", "widgets", "", ""), AUTHZ_ALLOW, NULL);
    /* the source goes: a cycle must not keep its rules alive */
    assert_int_equal(rbac_delete(r, RBAC_KIND_CLUSTER_ROLE, NULL, "base"), 0);
    check(r, res(USER("u1"), "get", "", "example.com", "widgets", "", ""), AUTHZ_NO_OPINION, "");
    check(r, res(USER("u2"), "get", "", "example.com", "widgets", "", ""), AUTHZ_NO_OPINION, "");

    /* an aggregated role's own rules are replaced by the aggregation */
    apply(r, "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"c1\"},\"aggregationRule\":"
             "{\"clusterRoleSelectors\":[]},"
             "\"rules\":" WIDGETS "}");
    check(r, res(USER("u1"), "get", "", "example.com", "widgets", "", ""), AUTHZ_NO_OPINION, "");
    /* an empty selector selects every other ClusterRole */
    apply(r, AGG("all", "{}", "{}"));
    apply(r, CRB("b3", "all", "[" SUBJ("User", "u3") "]"));
    check(r, res(USER("u3"), "get", "", "", "a", "", ""), AUTHZ_ALLOW, NULL);
    rbac_free(r);
}

/* ---- the bootstrap policy ---- */

static void test_bootstrap_objects(void **state)
{
    _cleanup_json_ json_t *objs = authz_bootstrap_objects();
    assert_non_null(objs);
    size_t roles = 0, bindings = 0;
    for (size_t i = 0; i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        const char *kind = json_string_value(json_object_get(o, "kind"));
        json_t *meta = json_object_get(o, "metadata");
        assert_string_equal(json_string_value(json_object_get(o, "apiVersion")),
                            "rbac.authorization.k8s.io/v1");
        assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"),
                                                              "kubernetes.io/bootstrapping")),
                            "rbac-defaults");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(meta, "annotations"),
                                              "rbac.authorization.kubernetes.io/autoupdate")),
            "true");
        if (strcmp(kind, "ClusterRole") == 0) {
            roles++;
            assert_true(json_is_array(json_object_get(o, "rules")));
        } else {
            assert_string_equal(kind, "ClusterRoleBinding");
            bindings++;
        }
    }
    assert_true(roles >= 25);
    assert_true(bindings >= 10);

    /* edit carries its aggregation rule, its aggregate-to-admin label and computed rules */
    json_t *edit = NULL;
    for (size_t i = 0; i < json_array_size(objs); i++) {
        json_t *o = json_array_get(objs, i);
        if (strcmp(json_string_value(json_object_get(o, "kind")), "ClusterRole") == 0 &&
            strcmp(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
                   "edit") == 0)
            edit = o;
    }
    assert_non_null(edit);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(json_object_get(json_object_get(edit, "aggregationRule"),
                                                           "clusterRoleSelectors"),
                                           0),
                            "matchLabels"),
            "rbac.authorization.k8s.io/aggregate-to-edit")),
        "true");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(edit, "metadata"), "labels"),
                            "rbac.authorization.k8s.io/aggregate-to-admin")),
                        "true");
    assert_true(json_array_size(json_object_get(edit, "rules")) > 10);

    _cleanup_json_ json_t *node = authz_bootstrap_node_rules();
    assert_true(json_array_size(node) > 10);
}

static void test_bootstrap_policy(void **state)
{
    struct rbac_authorizer *r = bootstrap();
    const struct kos_user *admin =
        USER("kubernetes-admin", "system:masters", "system:authenticated");
    const struct kos_user *alice = USER("alice", "system:authenticated");
    const struct kos_user *anon = USER("system:anonymous", "system:unauthenticated");

    check(r, res(admin, "delete", "", "", "nodes", "", "n1"), AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" "
          "to Group \"system:masters\"");
    check(r, url(admin, "post", "/anything"), AUTHZ_ALLOW, NULL);
    check(r, url(alice, "get", "/apis/apps/v1"), AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole "
          "\"system:discovery\" to Group \"system:authenticated\"");
    check(r, url(alice, "get", "/version"), AUTHZ_ALLOW, NULL);
    check(r, url(alice, "get", "/metrics"), AUTHZ_NO_OPINION, "");
    check(r, res(alice, "create", "", "authorization.k8s.io", "selfsubjectaccessreviews", "", ""),
          AUTHZ_ALLOW, NULL);
    check(r, res(alice, "list", "default", "", "pods", "", ""), AUTHZ_NO_OPINION, "");
    check(r, url(anon, "get", "/healthz"), AUTHZ_ALLOW,
          "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole "
          "\"system:public-info-viewer\" to Group \"system:unauthenticated\"");
    check(r, url(anon, "get", "/version/"), AUTHZ_ALLOW, NULL);
    check(r, url(anon, "get", "/api"), AUTHZ_NO_OPINION, "");
    check(r, url(USER("prom", "system:monitoring"), "get", "/metrics"), AUTHZ_ALLOW, NULL);

    const struct kos_user *sched = USER("system:kube-scheduler", "system:authenticated");
    check(r, res(sched, "create", "default", "", "pods", "binding", "p"), AUTHZ_ALLOW, NULL);
    check(
        r,
        res(sched, "update", "kube-system", "coordination.k8s.io", "leases", "", "kube-scheduler"),
        AUTHZ_ALLOW, NULL);
    check(r, res(sched, "update", "kube-system", "coordination.k8s.io", "leases", "", "other"),
          AUTHZ_NO_OPINION, "");
    check(r, res(sched, "list", "", "", "persistentvolumes", "", ""), AUTHZ_ALLOW, NULL);
    check(r, res(sched, "delete", "", "", "nodes", "", "n"), AUTHZ_NO_OPINION, "");
    const struct kos_user *kcm = USER("system:kube-controller-manager");
    check(r, res(kcm, "watch", "", "apps", "deployments", "", ""), AUTHZ_ALLOW, NULL);
    check(r, res(kcm, "create", "default", "", "serviceaccounts", "token", "default"), AUTHZ_ALLOW,
          NULL);
    const struct kos_user *proxy = USER("system:kube-proxy");
    check(r, res(proxy, "list", "", "discovery.k8s.io", "endpointslices", "", ""), AUTHZ_ALLOW,
          NULL);
    check(r, res(proxy, "create", "default", "events.k8s.io", "events", "", ""), AUTHZ_ALLOW, NULL);
    check(r,
          res(USER("system:serviceaccount:kube-system:kube-dns"), "watch", "", "", "services", "",
              ""),
          AUTHZ_ALLOW, NULL);
    check(
        r,
        url(USER("system:serviceaccount:x:y", "system:serviceaccounts"), "get", "/openid/v1/jwks"),
        AUTHZ_ALLOW, NULL);
    /* system:node is bound to nobody: the Node authorizer answers for kubelets */
    check(r, res(USER("system:node:n1", "system:nodes"), "get", "", "", "nodes", "", "n1"),
          AUTHZ_NO_OPINION, "");
    rbac_free(r);
}

/* ---- many bindings ---- */

static void test_many_role_bindings(void **state)
{
    struct rbac_authorizer *r = new_rbac("[" CROLE("reader", PODS_READ) "]");
    char buf[512];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"b%d\",\"namespace\":"
                 "\"ns%d\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"reader\"},"
                 "\"subjects\":[{\"kind\":\"User\",\"name\":\"u%d\"},{\"kind\":\"Group\","
                 "\"name\":\"g%d\"}]}",
                 i, i % 100, i, i % 7);
        apply(r, buf);
    }
    /* 1000 more in one namespace */
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"c%d\",\"namespace\":"
                 "\"busy\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"reader\"},"
                 "\"subjects\":[{\"kind\":\"User\",\"name\":\"v%d\"}]}",
                 i, i);
        apply(r, buf);
    }
    for (int i = 0; i < 1000; i += 37) {
        char user[32], ns[32], other[32], reason[256];
        snprintf(user, sizeof(user), "u%d", i);
        snprintf(ns, sizeof(ns), "ns%d", i % 100);
        snprintf(other, sizeof(other), "ns%d", (i + 1) % 100);
        snprintf(reason, sizeof(reason),
                 "RBAC: allowed by RoleBinding \"b%d/%s\" of ClusterRole \"reader\" to User "
                 "\"%s\"",
                 i, ns, user);
        check(r, res(USER(user), "get", ns, "", "pods", "", "p"), AUTHZ_ALLOW, reason);
        check(r, res(USER(user), "get", other, "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
        check(r, res(USER(user), "get", "busy", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");
        snprintf(user, sizeof(user), "v%d", i);
        check(r, res(USER(user), "get", "busy", "", "pods", "", "p"), AUTHZ_ALLOW, NULL);
    }
    /* a group shared by many bindings: the first by name reports */
    check(r, res(USER("nobody", "g3"), "get", "ns10", "", "pods", "", "p"), AUTHZ_ALLOW,
          "RBAC: allowed by RoleBinding \"b10/ns10\" of ClusterRole \"reader\" to Group \"g3\"");
    check(r, res(USER("nobody", "g99"), "get", "ns10", "", "pods", "", "p"), AUTHZ_NO_OPINION, "");

    /* a quick loop: not an assertion on time, just many requests through the indexes */
    struct authz_attributes a =
        res(USER("v999", "system:authenticated"), "get", "busy", "", "pods", "", "p");
    for (int i = 0; i < 20000; i++)
        assert_int_equal(rbac_authorize(r, &a, NULL), AUTHZ_ALLOW);

    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof(buf), "c%d", i);
        assert_int_equal(rbac_delete(r, RBAC_KIND_ROLE_BINDING, "busy", buf), 0);
    }
    check(r, a, AUTHZ_NO_OPINION, "");
    rbac_free(r);
}

/* ---- concurrency ---- */

struct reader_ctx {
    struct rbac_authorizer *r;
    int errors;
};

static void *reader(void *p)
{
    struct reader_ctx *c = p;
    struct authz_attributes stable = res(USER("alice"), "get", "dev", "", "pods", "", "x");
    struct authz_attributes flapping = res(USER("bob"), "get", "dev", "", "pods", "", "x");
    for (int i = 0; i < 20000; i++) {
        char *reason = NULL;
        if (rbac_authorize(c->r, &stable, &reason) != AUTHZ_ALLOW)
            c->errors++;
        free(reason);
        int d = rbac_authorize(c->r, &flapping, NULL);
        if (d != AUTHZ_ALLOW && d != AUTHZ_NO_OPINION)
            c->errors++;
    }
    return NULL;
}

static void test_concurrent_authorize(void **state)
{
    struct rbac_authorizer *r = new_rbac("[" CROLE("reader", PODS_READ) "," RB(
        "dev", "a", "ClusterRole", "reader", "[" SUBJ("User", "alice") "]") "]");
    pthread_t t[4];
    struct reader_ctx ctx[4];
    for (int i = 0; i < 4; i++) {
        ctx[i] = (struct reader_ctx){.r = r};
        assert_int_equal(pthread_create(&t[i], NULL, reader, &ctx[i]), 0);
    }
    for (int i = 0; i < 300; i++) {
        apply(r, RB("dev", "b", "ClusterRole", "reader", "[" SUBJ("User", "bob") "]"));
        apply(r, CROLE("other", PODS_READ));
        assert_int_equal(rbac_delete(r, RBAC_KIND_ROLE_BINDING, "dev", "b"), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(ctx[i].errors, 0);
    }
    rbac_free(r);
}

static void test_go_quote(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"alice", "\"alice\""},          {"", "\"\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},  {"tab\there\n", "\"tab\\there\\n\""},
        {"\x01\x7f", "\"\\x01\\x7f\""},  {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
        {"bad\xff", "\"bad\\xff\""},     {"\xc2\xa0", "\"\\u00a0\""},
        {"\xe2\x80\xa8", "\"\\u2028\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct kos_buf b;
        kos_buf_init(&b, 1024);
        assert_int_equal(authz_buf_go_quote(&b, cases[i].in), 0);
        assert_string_equal(b.data, cases[i].want);
        kos_buf_free(&b);
    }
    struct kos_buf b;
    kos_buf_init(&b, 1024);
    const char *const v[] = {"devs", "system:authenticated"};
    assert_int_equal(authz_buf_go_quote_list(&b, v, 2), 0);
    assert_string_equal(b.data, "[\"devs\" \"system:authenticated\"]");
    kos_buf_reset(&b);
    assert_int_equal(authz_buf_go_quote_list(&b, no_groups, 0), 0);
    assert_string_equal(b.data, "[]");
    kos_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_matching),
        cmocka_unit_test(test_rule_parse_errors),
        cmocka_unit_test(test_cluster_role_binding),
        cmocka_unit_test(test_role_binding_scope),
        cmocka_unit_test(test_service_account_subjects),
        cmocka_unit_test(test_resolution_errors),
        cmocka_unit_test(test_updates_and_deletes),
        cmocka_unit_test(test_aggregation_bootstrap),
        cmocka_unit_test(test_aggregation_order_and_cycles),
        cmocka_unit_test(test_bootstrap_objects),
        cmocka_unit_test(test_bootstrap_policy),
        cmocka_unit_test(test_many_role_bindings),
        cmocka_unit_test(test_concurrent_authorize),
        cmocka_unit_test(test_go_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for src/apiserver/authz/rbac_escalation.c: kube's escalation prevention on Role,
 * ClusterRole, RoleBinding and ClusterRoleBinding writes, with its exact 403 texts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/authz/rbac.h"
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

static const char *const alice_groups[] = {"devs", "system:authenticated"};
static const struct kos_user alice = {.name = "alice", .groups = alice_groups, .ngroups = 2};
static const char *const admin_groups[] = {"system:masters"};
static const struct kos_user root = {.name = "root", .groups = admin_groups, .ngroups = 1};

#define ROLE(ns, name, rules)                                                                      \
    "{\"kind\":\"Role\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns                   \
    "\"},\"rules\":" rules "}"
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
#define ALICE       "[{\"kind\":\"User\",\"name\":\"alice\"}]"
#define PODS(verbs) "[{\"verbs\":" verbs ",\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]"

/* alice reads pods in dev through a Role. */
static struct rbac_authorizer *setup(const char *extra)
{
    struct rbac_authorizer *r = NULL;
    assert_int_equal(rbac_new(&r), 0);
    _cleanup_json_ json_t *base =
        J("[" ROLE("dev", "pod-reader", PODS("[\"get\",\"list\",\"watch\"]")) "," RB(
            "dev", "alice-reads", "Role", "pod-reader", ALICE) "]");
    assert_int_equal(rbac_apply_all(r, base), 2);
    if (extra) {
        _cleanup_json_ json_t *more = J(extra);
        assert_int_equal(rbac_apply_all(r, more), (int)json_array_size(more));
    }
    return r;
}

static void expect_ok(int r, struct kos_error *err)
{
    if (r != 0)
        print_error("unexpected error %d: %s\n", r, err && err->message ? err->message : "");
    assert_int_equal(r, 0);
    assert_null(err);
}

static void expect_err(int r, struct kos_error *err, int code, const char *message)
{
    if (!err || !err->message || strcmp(err->message, message) != 0)
        print_error("got %d: %s\nwant: %s\n", r, err && err->message ? err->message : "(none)",
                    message);
    assert_non_null(err);
    assert_int_equal(err->code, code);
    assert_string_equal(err->message, message);
    assert_true(r < 0);
}

static int role_write(struct rbac_authorizer *r, const struct kos_user *u, const char *resource,
                      const char *ns, const char *obj, const char *old, struct kos_error **err)
{
    _cleanup_json_ json_t *o = J(obj);
    _cleanup_json_ json_t *p = old ? J(old) : NULL;
    return rbac_check_role_write(r, NULL, u, resource, ns, o, p, err);
}

static int binding_write(struct rbac_authorizer *r, const struct kos_user *u, const char *resource,
                         const char *ns, const char *obj, const char *old, struct kos_error **err)
{
    _cleanup_json_ json_t *o = J(obj);
    _cleanup_json_ json_t *p = old ? J(old) : NULL;
    return rbac_check_binding_write(r, NULL, u, resource, ns, o, p, err);
}

static void test_role_escalation(void **state)
{
    struct rbac_authorizer *r = setup(NULL);
    struct kos_error *err = NULL;

    /* holding the permissions: fine */
    expect_ok(
        role_write(r, &alice, "roles", "dev", ROLE("dev", "x", PODS("[\"get\"]")), NULL, &err),
        err);
    expect_ok(role_write(r, &alice, "roles", "dev", ROLE("dev", "x", "[]"), NULL, &err), err);

    /* more than held: kube's text, byte for byte */
    int k = role_write(r, &alice, "roles", "dev", ROLE("dev", "x", PODS("[\"get\",\"delete\"]")),
                       NULL, &err);
    expect_err(k, err, 403,
               "roles.rbac.authorization.k8s.io \"x\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}");
    assert_int_equal(k, -EACCES);
    assert_string_equal(err->reason, "Forbidden");
    assert_string_equal(json_string_value(json_object_get(err->details, "name")), "x");
    assert_string_equal(json_string_value(json_object_get(err->details, "group")),
                        "rbac.authorization.k8s.io");
    assert_string_equal(json_string_value(json_object_get(err->details, "kind")), "roles");
    kos_error_free(err);
    err = NULL;

    /* held in dev, not in prod */
    k = role_write(r, &alice, "roles", "prod", ROLE("prod", "x", PODS("[\"get\"]")), NULL, &err);
    expect_err(k, err, 403,
               "roles.rbac.authorization.k8s.io \"x\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}");
    kos_error_free(err);
    err = NULL;

    /* several missing: simple rules compact by group/resource, verbs in order; the rest sort */
    k = role_write(r, &alice, "roles", "dev",
                   ROLE("dev", "y",
                        "[{\"verbs\":[\"create\",\"get\",\"delete\"],\"apiGroups\":[\"\",\"apps\"],"
                        "\"resources\":[\"pods\",\"deployments/scale\"]},"
                        "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],"
                        "\"resourceNames\":[\"s1\",\"s2\"]},"
                        "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}]"),
                   NULL, &err);
    expect_err(k, err, 403,
               "roles.rbac.authorization.k8s.io \"y\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"deployments/scale\"], Verbs:[\"create\" \"get\" "
               "\"delete\"]}\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"create\" \"delete\"]}\n"
               "{APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"s1\"], "
               "Verbs:[\"get\"]}\n"
               "{APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"s2\"], "
               "Verbs:[\"get\"]}\n"
               "{APIGroups:[\"apps\"], Resources:[\"deployments/scale\"], Verbs:[\"create\" "
               "\"get\" \"delete\"]}\n"
               "{APIGroups:[\"apps\"], Resources:[\"pods\"], Verbs:[\"create\" \"get\" "
               "\"delete\"]}\n"
               "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}");
    kos_error_free(err);
    err = NULL;

    /* system:masters may do anything */
    expect_ok(role_write(r, &root, "roles", "dev", ROLE("dev", "x", PODS("[\"*\"]")), NULL, &err),
              err);
    rbac_free(r);
}

static void test_role_escalate_verb(void **state)
{
    /* alice may escalate roles in dev, and clusterroles named "mine" */
    struct rbac_authorizer *r = setup("[" ROLE(
        "dev", "escalator",
        "[{\"verbs\":[\"escalate\"],\"apiGroups\":[\"rbac.authorization.k8s.io\"],"
        "\"resources\":[\"roles\"]}]") "," RB("dev", "e", "Role", "escalator",
                                              ALICE) "," CROLE("named-escalator",
                                                               "[{\"verbs\":[\"escalate\"],"
                                                               "\"apiGroups\":[\"rbac."
                                                               "authorization.k8s.io\"],"
                                                               "\"resources\":["
                                                               "\"clusterroles\"],"
                                                               "\"resourceNames\":["
                                                               "\"mine\"]}]") "," CRB("ne",
                                                                                      "named-"
                                                                                      "escalator",
                                                                                      ALICE) "]");
    struct kos_error *err = NULL;
    expect_ok(role_write(r, &alice, "roles", "dev", ROLE("dev", "x", PODS("[\"*\"]")), NULL, &err),
              err);
    /* resourceNames scope the escalate verb: on update (named), not on create (unnamed) */
    const char *mine = CROLE("mine", PODS("[\"*\"]"));
    expect_ok(role_write(r, &alice, "clusterroles", "", mine, CROLE("mine", "[]"), &err), err);
    int k = role_write(r, &alice, "clusterroles", "", mine, NULL, &err);
    expect_err(k, err, 403,
               "clusterroles.rbac.authorization.k8s.io \"mine\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"*\"]}");
    kos_error_free(err);
    err = NULL;
    const char *other = CROLE("other", PODS("[\"*\"]"));
    k = role_write(r, &alice, "clusterroles", "", other, CROLE("other", "[]"), &err);
    assert_int_equal(k, -EACCES);
    kos_error_free(err);
    rbac_free(r);
}

static void test_aggregation_rule_needs_full_authority(void **state)
{
    struct rbac_authorizer *r = setup(NULL);
    struct kos_error *err = NULL;
    const char *agg = "{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"agg\"},"
                      "\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":"
                      "{\"a\":\"b\"}}]}}";
    int k = role_write(r, &alice, "clusterroles", "", agg, NULL, &err);
    expect_err(k, err, 403,
               "clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have "
               "cluster-admin privileges to use the aggregationRule");
    kos_error_free(err);
    err = NULL;
    /* dropping the rule of an aggregated role is checked against the old object too */
    const char *plain = CROLE("agg", "[]");
    k = role_write(r, &alice, "clusterroles", "", plain, agg, &err);
    assert_int_equal(k, -EACCES);
    kos_error_free(err);
    err = NULL;
    expect_ok(role_write(r, &root, "clusterroles", "", agg, NULL, &err), err);
    /* a plain clusterrole with nothing to grant is fine for anyone */
    expect_ok(role_write(r, &alice, "clusterroles", "", plain, NULL, &err), err);
    rbac_free(r);
}

static void test_gc_only_update(void **state)
{
    struct rbac_authorizer *r = setup(NULL);
    struct kos_error *err = NULL;
    const char *old =
        "{\"kind\":\"Role\",\"metadata\":{\"name\":\"big\",\"namespace\":\"dev\","
        "\"resourceVersion\":\"5\",\"finalizers\":[\"x\"]},\"rules\":" PODS("[\"*\"]") "}";
    const char *gc = "{\"kind\":\"Role\",\"metadata\":{\"name\":\"big\",\"namespace\":\"dev\","
                     "\"resourceVersion\":\"5\",\"ownerReferences\":[{\"name\":\"o\"}]},"
                     "\"rules\":" PODS("[\"*\"]") "}";
    expect_ok(role_write(r, &alice, "roles", "dev", gc, old, &err), err);
    /* an identical update changes nothing it could grant */
    expect_ok(role_write(r, &alice, "roles", "dev", old, old, &err), err);
    /* a label change is not a GC change */
    const char *labeled = "{\"kind\":\"Role\",\"metadata\":{\"name\":\"big\",\"namespace\":"
                          "\"dev\",\"labels\":{\"a\":\"b\"}},\"rules\":" PODS("[\"*\"]") "}";
    assert_int_equal(role_write(r, &alice, "roles", "dev", labeled, old, &err), -EACCES);
    kos_error_free(err);
    rbac_free(r);
}

static void test_binding_escalation(void **state)
{
    struct rbac_authorizer *r = setup("[" CROLE("edit", PODS("[\"*\"]")) "," CROLE(
        "admin", PODS("[\"*\"]")) "," CROLE("reader", PODS("[\"get\",\"list\"]")) "]");
    struct kos_error *err = NULL;

    /* binding what she holds herself: fine */
    expect_ok(binding_write(
                  r, &alice, "rolebindings", "dev",
                  RB("dev", "b", "ClusterRole", "reader", "[{\"kind\":\"User\",\"name\":\"bob\"}]"),
                  NULL, &err),
              err);
    expect_ok(binding_write(
                  r, &alice, "rolebindings", "dev",
                  RB("dev", "b", "Role", "pod-reader", "[{\"kind\":\"User\",\"name\":\"bob\"}]"),
                  NULL, &err),
              err);
    /* but not in another namespace */
    int k = binding_write(r, &alice, "rolebindings", "prod",
                          RB("prod", "b", "ClusterRole", "reader", "[]"), NULL, &err);
    expect_err(k, err, 403,
               "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\"]}");
    kos_error_free(err);
    err = NULL;

    /* edit grants more than she holds */
    k = binding_write(r, &alice, "rolebindings", "dev", RB("dev", "b", "ClusterRole", "edit", "[]"),
                      NULL, &err);
    expect_err(k, err, 403,
               "rolebindings.rbac.authorization.k8s.io \"b\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"*\"]}");
    kos_error_free(err);
    err = NULL;

    /* with `bind` on clusterroles named edit in dev she may bind edit there, nothing else */
    _cleanup_json_ json_t *binder = J("[" ROLE(
        "dev", "binder",
        "[{\"verbs\":[\"bind\"],\"apiGroups\":[\"rbac.authorization.k8s.io\"],"
        "\"resources\":[\"clusterroles\"],\"resourceNames\":[\"edit\"]}]") "," RB("dev", "binder",
                                                                                  "Role", "binder",
                                                                                  ALICE) "]");
    assert_int_equal(rbac_apply_all(r, binder), 2);
    expect_ok(binding_write(r, &alice, "rolebindings", "dev",
                            RB("dev", "b", "ClusterRole", "edit", "[]"), NULL, &err),
              err);
    assert_int_equal(binding_write(r, &alice, "rolebindings", "dev",
                                   RB("dev", "b", "ClusterRole", "admin", "[]"), NULL, &err),
                     -EACCES);
    kos_error_free(err);
    err = NULL;
    assert_int_equal(binding_write(r, &alice, "rolebindings", "prod",
                                   RB("prod", "b", "ClusterRole", "edit", "[]"), NULL, &err),
                     -EACCES);
    kos_error_free(err);
    err = NULL;

    /* cluster role bindings are checked cluster-wide */
    k = binding_write(r, &alice, "clusterrolebindings", NULL, CRB("cb", "reader", "[]"), NULL,
                      &err);
    expect_err(k, err, 403,
               "clusterrolebindings.rbac.authorization.k8s.io \"cb\" is forbidden: user "
               "\"alice\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant "
               "RBAC permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\"]}");
    kos_error_free(err);
    err = NULL;
    expect_ok(
        binding_write(r, &root, "clusterrolebindings", NULL, CRB("cb", "admin", "[]"), NULL, &err),
        err);

    /* a missing role is a 404, a missing namespace a 400 */
    k = binding_write(r, &alice, "rolebindings", "dev", RB("dev", "b", "ClusterRole", "nope", "[]"),
                      NULL, &err);
    expect_err(k, err, 404, "clusterroles.rbac.authorization.k8s.io \"nope\" not found");
    assert_string_equal(json_string_value(json_object_get(err->details, "kind")), "clusterroles");
    kos_error_free(err);
    err = NULL;
    k = binding_write(r, &alice, "rolebindings", "dev", RB("dev", "b", "Role", "nope", "[]"), NULL,
                      &err);
    expect_err(k, err, 404, "roles.rbac.authorization.k8s.io \"nope\" not found");
    kos_error_free(err);
    err = NULL;
    k = binding_write(r, &alice, "rolebindings", "", RB("dev", "b", "Role", "nope", "[]"), NULL,
                      &err);
    expect_err(k, err, 400, "namespace is required");
    kos_error_free(err);
    rbac_free(r);
}

static void test_resolution_errors_in_message(void **state)
{
    struct rbac_authorizer *r = setup("[" CRB("dangling", "gone", ALICE) "]");
    struct kos_error *err = NULL;
    int k =
        role_write(r, &alice, "roles", "dev", ROLE("dev", "x", PODS("[\"delete\"]")), NULL, &err);
    expect_err(k, err, 403,
               "roles.rbac.authorization.k8s.io \"x\" is forbidden: user \"alice\" "
               "(groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC "
               "permissions not currently held:\n"
               "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}; resolution errors: "
               "[clusterroles.rbac.authorization.k8s.io \"gone\" not found]");
    kos_error_free(err);
    rbac_free(r);
}

/* A chain authorizer that allows exactly one verb, to show the checks ask the given chain. */
static int allow_bind(void *ctx, const struct authz_attributes *a, char **reason)
{
    (void)ctx;
    if (reason)
        *reason = NULL;
    return strcmp(a->verb, "bind") == 0 ? AUTHZ_ALLOW : AUTHZ_NO_OPINION;
}

static void test_custom_authorizer(void **state)
{
    struct rbac_authorizer *r = setup("[" CROLE("edit", PODS("[\"*\"]")) "]");
    struct authz_authorizer chain = {.authorize = allow_bind};
    struct kos_error *err = NULL;
    _cleanup_json_ json_t *b = J(RB("dev", "b", "ClusterRole", "edit", "[]"));
    expect_ok(rbac_check_binding_write(r, &chain, &alice, "rolebindings", "dev", b, NULL, &err),
              err);
    _cleanup_json_ json_t *role = J(ROLE("dev", "x", PODS("[\"*\"]")));
    assert_int_equal(rbac_check_role_write(r, &chain, &alice, "roles", "dev", role, NULL, &err),
                     -EACCES);
    kos_error_free(err);
    err = NULL;
    assert_true(rbac_check_role_write(r, NULL, &alice, "pods", "dev", role, NULL, &err) < 0);
    kos_error_free(err);
    rbac_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_escalation),
        cmocka_unit_test(test_role_escalate_verb),
        cmocka_unit_test(test_aggregation_rule_needs_full_authority),
        cmocka_unit_test(test_gc_only_update),
        cmocka_unit_test(test_binding_escalation),
        cmocka_unit_test(test_resolution_errors_in_message),
        cmocka_unit_test(test_custom_authorizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

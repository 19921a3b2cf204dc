/* Unit tests for the --authorization-mode chain (apiserver/authz/chain.c), the request
 * attributes (apiserver/request_info.c) and the bootstrap reconciliation
 * (apiserver/authz/reconcile.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/authz/chain.h"
#include "apiserver/authz/reconcile.h"
#include "apiserver/request_info.h"
#include "util/json_cleanup.h"

#define USER(n, ...)                                                                               \
    (&(struct kos_user){.name = n,                                                                 \
                        .groups = (const char *const[]){__VA_ARGS__},                              \
                        .ngroups = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)})

/* ---- modes ---- */

static void test_modes_parse(void **state)
{
    struct authz_modes m;
    char e[256];
    assert_int_equal(authz_modes_parse("Node,RBAC", &m, e, sizeof(e)), 0);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.v[0], AUTHZ_MODE_NODE);
    assert_int_equal(m.v[1], AUTHZ_MODE_RBAC);
    assert_int_equal(authz_modes_parse("AlwaysDeny", &m, e, sizeof(e)), 0);
    assert_int_equal(m.v[0], AUTHZ_MODE_ALWAYS_DENY);
    assert_int_equal(
        authz_modes_parse("Webhook,AlwaysAllow,Node,RBAC,AlwaysDeny", &m, e, sizeof(e)), 0);
    assert_int_equal(m.n, 5);

    assert_int_equal(authz_modes_parse("RBAC,Foo", &m, e, sizeof(e)), -EINVAL);
    assert_string_equal(e, "authorization-mode \"Foo\" is not a valid mode");
    assert_int_equal(authz_modes_parse("rbac", &m, e, sizeof(e)), -EINVAL); /* case matters */
    assert_int_equal(authz_modes_parse("RBAC,", &m, e, sizeof(e)), -EINVAL);
    assert_string_equal(e, "authorization-mode \"\" is not a valid mode");
    assert_int_equal(authz_modes_parse("RBAC,Node,RBAC", &m, e, sizeof(e)), -EINVAL);
    assert_string_equal(
        e, "authorization-mode [\"RBAC\" \"Node\" \"RBAC\"] has mode specified more than once");
    assert_int_equal(authz_modes_parse("", &m, e, sizeof(e)), -EINVAL);
    assert_string_equal(e, "at least one authorization-mode must be passed");
}

/* ---- chain ---- */

struct fake {
    int decision;
    const char *reason;
    int calls;
};

static int fake_authorize(void *ctx, const struct authz_attributes *a, char **reason)
{
    struct fake *f = ctx;
    f->calls++;
    if (reason)
        *reason = f->reason ? strdup(f->reason) : NULL;
    return f->decision;
}

static struct authz_authorizer fake(struct fake *f)
{
    return (struct authz_authorizer){.authorize = fake_authorize, .ctx = f};
}

static void test_chain_order(void **state)
{
    struct authz_attributes a = {.user = USER("alice", "system:authenticated"), .verb = "get"};
    struct fake no1 = {AUTHZ_NO_OPINION, "first has none", 0};
    struct fake deny = {AUTHZ_DENY, "denied by policy", 0};
    struct fake allow = {AUTHZ_ALLOW, "allowed", 0};
    struct authz_chain c = {0};
    char *why = NULL;

    /* empty chain: no opinion (forbidden), no reason */
    assert_int_equal(authz_chain_authorize(&c, &a, &why), AUTHZ_NO_OPINION);
    assert_null(why);

    assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_NODE, fake(&no1)), 0);
    assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_WEBHOOK, fake(&deny)), 0);
    assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_RBAC, fake(&allow)), 0);
    /* the first DENY wins, even with an ALLOW after it; only its reason is kept */
    assert_int_equal(authz_chain_authorize(&c, &a, &why), AUTHZ_DENY);
    assert_string_equal(why, "denied by policy");
    free(why);
    assert_int_equal(allow.calls, 0);

    /* no opinion then allow */
    deny.decision = AUTHZ_NO_OPINION;
    deny.reason = "webhook has none";
    assert_int_equal(authz_chain_authorize(&c, &a, &why), AUTHZ_ALLOW);
    assert_string_equal(why, "allowed");
    free(why);

    /* all no opinion: reasons joined with newlines */
    allow.decision = AUTHZ_NO_OPINION;
    allow.reason = NULL;
    assert_int_equal(authz_chain_authorize(&c, &a, &why), AUTHZ_NO_OPINION);
    assert_string_equal(why, "first has none\nwebhook has none");
    free(why);
}

static void test_chain_failure_never_allows(void **state)
{
    struct authz_attributes a = {.user = USER("bob"), .verb = "get"};
    struct fake broken = {-EIO, NULL, 0};
    struct authz_chain c = {0};
    char *why = NULL;
    assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_WEBHOOK, fake(&broken)), 0);
    assert_int_equal(authz_chain_authorize(&c, &a, &why), AUTHZ_NO_OPINION);
    assert_non_null(strstr(why, "Webhook authorizer failed"));
    free(why);
}

static void test_chain_masters_and_always(void **state)
{
    struct authz_chain c = {0};
    struct authz_attributes admin = {.user = USER("root", "system:masters"), .verb = "delete"};
    struct authz_attributes alice = {.user = USER("alice", "system:authenticated"), .verb = "get"};
    assert_int_equal(
        authz_chain_add(&c, AUTHZ_MODE_ALWAYS_DENY, authz_always(AUTHZ_MODE_ALWAYS_DENY)), 0);
    /* system:masters passes even AlwaysDeny (kube's privileged-group authorizer is first) */
    assert_int_equal(authz_chain_authorize(&c, &admin, NULL), AUTHZ_ALLOW);
    char *why = NULL;
    assert_int_equal(authz_chain_authorize(&c, &alice, &why), AUTHZ_NO_OPINION);
    assert_string_equal(why, "Everything is forbidden.");
    free(why);

    struct authz_chain c2 = {0};
    assert_int_equal(
        authz_chain_add(&c2, AUTHZ_MODE_ALWAYS_ALLOW, authz_always(AUTHZ_MODE_ALWAYS_ALLOW)), 0);
    assert_int_equal(authz_chain_authorize(&c2, &alice, NULL), AUTHZ_ALLOW);
    /* through the generic interface */
    struct authz_authorizer g = authz_chain_as_authorizer(&c);
    assert_int_equal(g.authorize(g.ctx, &alice, NULL), AUTHZ_NO_OPINION);
    /* AlwaysDeny has no opinion: a later mode may still allow (kube's semantics) */
    struct authz_chain c3 = {0};
    assert_int_equal(
        authz_chain_add(&c3, AUTHZ_MODE_ALWAYS_DENY, authz_always(AUTHZ_MODE_ALWAYS_DENY)), 0);
    assert_int_equal(
        authz_chain_add(&c3, AUTHZ_MODE_ALWAYS_ALLOW, authz_always(AUTHZ_MODE_ALWAYS_ALLOW)), 0);
    assert_int_equal(authz_chain_authorize(&c3, &alice, NULL), AUTHZ_ALLOW);

    for (int i = 0; i < AUTHZ_MAX_MODES - 1; i++)
        assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_RBAC, authz_always(AUTHZ_MODE_ALWAYS_DENY)),
                         0);
    assert_int_equal(authz_chain_add(&c, AUTHZ_MODE_RBAC, authz_always(AUTHZ_MODE_ALWAYS_DENY)),
                     -E2BIG);
}

/* ---- request attributes ---- */

struct ri_case {
    const char *method, *path, *watch, *fsel;
    bool resource;
    const char *verb, *group, *version, *resource_, *sub, *ns, *name;
};

static void test_request_info(void **state)
{
    static const struct ri_case cases[] = {
        {"GET", "/api/v1/namespaces/default/pods", NULL, NULL, true, "list", "", "v1", "pods", "",
         "default", ""},
        {"GET", "/api/v1/namespaces/default/pods", "true", NULL, true, "watch", "", "v1", "pods",
         "", "default", ""},
        {"GET", "/api/v1/namespaces/default/pods", "1", NULL, true, "watch", "", "v1", "pods", "",
         "default", ""},
        {"GET", "/api/v1/namespaces/default/pods", "false", NULL, true, "list", "", "v1", "pods",
         "", "default", ""},
        {"GET", "/api/v1/namespaces/default/pods/web", "true", NULL, true, "get", "", "v1", "pods",
         "", "default", "web"},
        {"HEAD", "/api/v1/pods", NULL, NULL, true, "list", "", "v1", "pods", "", "", ""},
        {"POST", "/apis/apps/v1/namespaces/ns1/deployments", NULL, NULL, true, "create", "apps",
         "v1", "deployments", "", "ns1", ""},
        {"PUT", "/apis/apps/v1/namespaces/ns1/deployments/d/scale", NULL, NULL, true, "update",
         "apps", "v1", "deployments", "scale", "ns1", "d"},
        {"PATCH", "/api/v1/nodes/n1/status", NULL, NULL, true, "patch", "", "v1", "nodes", "status",
         "", "n1"},
        {"DELETE", "/api/v1/namespaces/default/pods/web", NULL, NULL, true, "delete", "", "v1",
         "pods", "", "default", "web"},
        {"DELETE", "/api/v1/namespaces/default/pods", NULL, NULL, true, "deletecollection", "",
         "v1", "pods", "", "default", ""},
        /* the namespace of a Namespace is its own name */
        {"GET", "/api/v1/namespaces/kube-system", NULL, NULL, true, "get", "", "v1", "namespaces",
         "", "kube-system", "kube-system"},
        {"PUT", "/api/v1/namespaces/ns1/finalize", NULL, NULL, true, "update", "", "v1",
         "namespaces", "finalize", "ns1", "ns1"},
        {"GET", "/api/v1/namespaces", NULL, NULL, true, "list", "", "v1", "namespaces", "", "", ""},
        /* a list narrowed to one name authorizes as that name */
        {"GET", "/api/v1/namespaces/default/pods", "true", "metadata.name=web", true, "watch", "",
         "v1", "pods", "", "default", "web"},
        {"GET", "/api/v1/nodes", NULL, "metadata.name==n1,spec.unschedulable=false", true, "list",
         "", "v1", "nodes", "", "", "n1"},
        {"GET", "/api/v1/nodes", NULL, "metadata.name!=n1", true, "list", "", "v1", "nodes", "", "",
         ""},
        {"GET", "/api/v1/nodes", NULL, "metadata.name=..", true, "list", "", "v1", "nodes", "", "",
         ""},
        {"DELETE", "/api/v1/nodes", NULL, "metadata.name=n1", true, "deletecollection", "", "v1",
         "nodes", "", "", ""},
        /* non-resource requests: lowercased method, the path */
        {"GET", "/healthz", NULL, NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/apis", NULL, NULL, false, "get", NULL, NULL, NULL, NULL, NULL, NULL},
        {"POST", "/version", NULL, NULL, false, "post", NULL, NULL, NULL, NULL, NULL, NULL},
        {"GET", "/openapi/v3/apis/apps/v1", NULL, NULL, false, "get", NULL, NULL, NULL, NULL, NULL,
         NULL},
        {"OPTIONS", "/api/v1", NULL, NULL, false, "options", NULL, NULL, NULL, NULL, NULL, NULL},
    };
    const struct kos_user *u = USER("alice");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ri_case *c = &cases[i];
        struct route rt;
        struct request_info ri;
        route_parse(c->path, &rt);
        request_info_init(&ri, u, c->method, c->path, &rt, c->watch, c->fsel);
        const struct authz_attributes *a = &ri.attrs;
        if (a->resource_request != c->resource || strcmp(a->verb, c->verb) != 0)
            fail_msg("case %zu %s %s: resource=%d verb=%s", i, c->method, c->path,
                     a->resource_request, a->verb);
        assert_ptr_equal(a->user, u);
        if (!c->resource) {
            assert_string_equal(a->path, c->path);
            continue;
        }
        assert_string_equal(a->api_group, c->group);
        assert_string_equal(a->api_version, c->version);
        assert_string_equal(a->resource, c->resource_);
        assert_string_equal(a->subresource, c->sub);
        assert_string_equal(a->namespace_, c->ns);
        if (strcmp(a->name, c->name) != 0)
            fail_msg("case %zu %s: name %s, want %s", i, c->path, a->name, c->name);
    }
}

/* ---- reconcile ---- */

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

static void test_reconcile_role(void **state)
{
    _cleanup_json_ json_t *expected =
        J("{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"view\",\"labels\":{\"a\":\"1\"},"
          "\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}},"
          "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"services\"],"
          "\"verbs\":[\"get\",\"list\"]}]}");
    /* holds pods get/list and an extra rule; lacks services */
    _cleanup_json_ json_t *existing =
        J("{\"kind\":\"ClusterRole\",\"metadata\":{\"name\":\"view\",\"labels\":{\"mine\":\"x\"},"
          "\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}},"
          "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"*\"]},"
          "{\"apiGroups\":[\"x\"],\"resources\":[\"y\"],\"verbs\":[\"get\"]}]}");
    json_t *out = NULL;
    assert_true(authz_reconcile_wanted(existing));
    assert_int_equal(authz_reconcile_cluster_role(existing, expected, &out), 1);
    _cleanup_json_ json_t *want =
        J("[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"*\"]},"
          "{\"apiGroups\":[\"x\"],\"resources\":[\"y\"],\"verbs\":[\"get\"]},"
          "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"services\"]},"
          "{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"services\"]}]");
    assert_true(json_equal(json_object_get(out, "rules"), want));
    /* labels merged, the user's own kept */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(out, "metadata"), "labels"), "a")),
                        "1");
    assert_non_null(
        json_object_get(json_object_get(json_object_get(out, "metadata"), "labels"), "mine"));
    /* reconciling the result again changes nothing */
    json_t *again = NULL;
    assert_int_equal(authz_reconcile_cluster_role(out, expected, &again), 0);
    assert_null(again);
    json_decref(out);

    /* opting out */
    _cleanup_json_ json_t *optout =
        J("{\"metadata\":{\"name\":\"view\",\"annotations\":"
          "{\"rbac.authorization.kubernetes.io/autoupdate\":\"false\"}}}");
    assert_false(authz_reconcile_wanted(optout));
}

static void test_reconcile_aggregation(void **state)
{
    _cleanup_json_ json_t *expected =
        J("{\"metadata\":{\"name\":\"admin\"},\"aggregationRule\":{\"clusterRoleSelectors\":"
          "[{\"matchLabels\":{\"agg\":\"admin\"}}]},\"rules\":[]}");
    _cleanup_json_ json_t *existing =
        J("{\"metadata\":{\"name\":\"admin\"},\"aggregationRule\":{\"clusterRoleSelectors\":"
          "[{\"matchLabels\":{\"mine\":\"yes\"}}]},\"rules\":[]}");
    json_t *out = NULL;
    assert_int_equal(authz_reconcile_cluster_role(existing, expected, &out), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(out, "aggregationRule"),
                                                     "clusterRoleSelectors")),
                     2);
    json_decref(out);
    /* an aggregation the expected role does not have is removed */
    _cleanup_json_ json_t *plain = J("{\"metadata\":{\"name\":\"admin\"},\"rules\":[]}");
    assert_int_equal(authz_reconcile_cluster_role(existing, plain, &out), 1);
    assert_null(json_object_get(out, "aggregationRule"));
    json_decref(out);
}

static void test_reconcile_binding(void **state)
{
    _cleanup_json_ json_t *expected =
        J("{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
          "\"kind\":\"ClusterRole\",\"name\":\"r\"},\"subjects\":[{\"apiGroup\":"
          "\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"system:masters\"}]}");
    _cleanup_json_ json_t *existing =
        J("{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\","
          "\"kind\":\"ClusterRole\",\"name\":\"r\"},\"subjects\":[{\"apiGroup\":"
          "\"rbac.authorization.k8s.io\",\"kind\":\"User\",\"name\":\"ops\"}]}");
    json_t *out = NULL;
    assert_int_equal(authz_reconcile_cluster_role_binding(existing, expected, &out), 1);
    assert_int_equal(json_array_size(json_object_get(out, "subjects")), 2);
    json_t *again = NULL;
    assert_int_equal(authz_reconcile_cluster_role_binding(out, expected, &again), 0);
    json_decref(out);
    /* bad stored rules are an error, not a crash */
    _cleanup_json_ json_t *bad = J("{\"metadata\":{\"name\":\"x\"},\"rules\":7}");
    assert_true(authz_reconcile_cluster_role(bad, expected, &out) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_parse),
        cmocka_unit_test(test_chain_order),
        cmocka_unit_test(test_chain_failure_never_allows),
        cmocka_unit_test(test_chain_masters_and_always),
        cmocka_unit_test(test_request_info),
        cmocka_unit_test(test_reconcile_role),
        cmocka_unit_test(test_reconcile_aggregation),
        cmocka_unit_test(test_reconcile_binding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

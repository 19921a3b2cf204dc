/* Unit tests for src/openstack/keystone: the token response parser, k8s-keystone-auth's user
 * mapping, the policy matcher (v1 and v2 formats, as cloud-provider-openstack's
 * authorizer_test.go exercises them), the validation cache's expiry bound, the sync config and
 * the SubjectAccessReview reader. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "openstack/keystone/authorizer.h"
#include "openstack/keystone/cache.h"
#include "openstack/keystone/map.h"
#include "openstack/keystone/policy.h"
#include "openstack/keystone/sync.h"
#include "openstack/keystone/token.h"
#include "openstack/keystone/webhook.h"
#include "util/json_cleanup.h"

static const char TOKEN_BODY[] =
    "{\"token\":{\"methods\":[\"password\"],"
    "\"user\":{\"domain\":{\"id\":\"d1\",\"name\":\"domainA\"},\"id\":\"u1\",\"name\":\"userA\","
    "\"password_expires_at\":null},"
    "\"audit_ids\":[\"x\"],\"expires_at\":\"2026-11-27T06:25:49.000000Z\","
    "\"issued_at\":\"2026-11-27T05:25:49.000000Z\","
    "\"project\":{\"domain\":{\"id\":\"d1\",\"name\":\"domainA\"},\"id\":\"p1\",\"name\":"
    "\"projectA\"},"
    "\"is_domain\":false,\"roles\":[{\"id\":\"r1\",\"name\":\"roleA\"},{\"id\":\"r2\",\"name\":"
    "\"reader\"}],\"catalog\":[]}}";

static void test_token_parse(void **state)
{
    struct keystone_token t;
    assert_int_equal(keystone_token_parse(TOKEN_BODY, strlen(TOKEN_BODY), &t, NULL), 0);
    assert_string_equal(t.user_id, "u1");
    assert_string_equal(t.user_name, "userA");
    assert_string_equal(t.user_domain_name, "domainA");
    assert_string_equal(t.project_id, "p1");
    assert_string_equal(t.project_name, "projectA");
    assert_int_equal(t.nroles, 2);
    assert_string_equal(t.roles[1], "reader");
    assert_int_equal(t.expires_at, 1795760749); /* 2026-11-27T06:25:49Z */
    keystone_token_clear(&t);

    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"token\":1}",
        "{\"token\":{}}",
        "{\"token\":{\"user\":{\"id\":\"u\",\"name\":\"n\"}}}", /* no expiry */
        "{\"token\":{\"user\":{\"id\":1,\"name\":\"n\"},\"expires_at\":\"2026-01-01T00:00:00Z\"}}",
        "{\"token\":{\"user\":{\"id\":\"u\",\"name\":\"n\"},\"expires_at\":\"yesterday\"}}",
        "{\"token\":{\"user\":{\"id\":\"u\",\"name\":\"n\"},\"roles\":[1],"
        "\"expires_at\":\"2026-01-01T00:00:00Z\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct kos_error *err = NULL;
        assert_true(keystone_token_parse(bad[i], strlen(bad[i]), &t, &err) < 0);
        assert_non_null(err);
        assert_int_equal(err->code, 500);
        kos_error_free(err);
    }
    /* Unscoped: parses, but the mapping refuses it (k8s-keystone-auth needs a project). */
    const char *unscoped = "{\"token\":{\"user\":{\"id\":\"u\",\"name\":\"n\"},"
                           "\"expires_at\":\"2026-01-01T00:00:00Z\"}}";
    assert_int_equal(keystone_token_parse(unscoped, strlen(unscoped), &t, NULL), 0);
    assert_null(t.project_id);
    struct kos_user_info u;
    struct kos_error *err = NULL;
    assert_int_equal(keystone_map_user(&t, NULL, 0, &u, &err), -EACCES);
    assert_int_equal(err->code, 401);
    assert_non_null(strstr(err->message, "failed to extract project information"));
    kos_error_free(err);
    keystone_token_clear(&t);
}

static void test_groups_parse(void **state)
{
    char **g;
    size_t n;
    const char *ok =
        "{\"groups\":[{\"id\":\"1\",\"name\":\"devs\"},{\"name\":\"ops\"}],\"links\":{}}";
    assert_int_equal(keystone_groups_parse(ok, strlen(ok), &g, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_string_equal(g[0], "devs");
    keystone_strv_free(g, n);
    const char *bad = "{\"groups\":[{\"id\":\"1\"}]}";
    struct kos_error *err = NULL;
    assert_true(keystone_groups_parse(bad, strlen(bad), &g, &n, &err) < 0);
    kos_error_free(err);
}

static void map_sample(struct kos_user_info *u)
{
    struct keystone_token t;
    assert_int_equal(keystone_token_parse(TOKEN_BODY, strlen(TOKEN_BODY), &t, NULL), 0);
    char *groups[] = {"devs", "ops"};
    assert_int_equal(keystone_map_user(&t, groups, 2, u, NULL), 0);
    keystone_token_clear(&t);
}

static void assert_extra(const struct kos_user_info *u, const char *key, const char *v0)
{
    const struct kos_user_extra *e = keystone_user_extra(u, key);
    assert_non_null(e);
    assert_string_equal(e->values[0], v0);
}

static void test_mapping(void **state)
{
    struct kos_user_info u;
    map_sample(&u);
    assert_string_equal(u.name, "userA");
    assert_string_equal(u.uid, "u1");
    /* Keystone groups first, then the project id. */
    assert_int_equal(u.ngroups, 3);
    assert_string_equal(u.groups[0], "devs");
    assert_string_equal(u.groups[1], "ops");
    assert_string_equal(u.groups[2], "p1");
    assert_extra(&u, "alpha.kubernetes.io/identity/project/id", "p1");
    assert_extra(&u, "alpha.kubernetes.io/identity/project/name", "projectA");
    assert_extra(&u, "alpha.kubernetes.io/identity/user/domain/id", "d1");
    assert_extra(&u, "alpha.kubernetes.io/identity/user/domain/name", "domainA");
    const struct kos_user_extra *roles = keystone_user_extra(&u, KEYSTONE_EXTRA_ROLES);
    assert_int_equal(roles->nvalues, 2);
    assert_string_equal(roles->values[0], "roleA");
    assert_string_equal(roles->values[1], "reader");
    kos_user_info_clear(&u);
}

/* ---- policy ---- */

static struct keystone_policy *P(const char *text)
{
    struct keystone_policy *p = NULL;
    struct kos_error *err = NULL;
    if (keystone_policy_parse(text, strlen(text), &p, &err) < 0)
        fail_msg("policy rejected: %s", err->message);
    return p;
}

static void user_with(struct kos_user_info *u, const char *name, const char *project_name,
                      const char *project_id, const char *role, const char *group)
{
    memset(u, 0, sizeof(*u));
    u->name = strdup(name);
    u->uid = strdup("uid-1");
    if (group)
        kos_user_info_add_group(u, group);
    if (role)
        kos_user_info_add_extra(u, KEYSTONE_EXTRA_ROLES, role);
    if (project_id)
        kos_user_info_add_extra(u, KEYSTONE_EXTRA_PROJECT_ID, project_id);
    if (project_name)
        kos_user_info_add_extra(u, KEYSTONE_EXTRA_PROJECT_NAME, project_name);
}

static bool res(const struct keystone_policy *p, const struct kos_user_info *u, const char *verb,
                const char *ns, const char *group, const char *resource, const char *sub)
{
    struct authz_attributes a = {.verb = verb,
                                 .resource_request = true,
                                 .namespace_ = ns,
                                 .api_group = group,
                                 .resource = resource,
                                 .subresource = sub};
    return keystone_policy_allows(p, u, &a);
}

static bool nonres(const struct keystone_policy *p, const struct kos_user_info *u, const char *verb,
                   const char *path)
{
    struct authz_attributes a = {.verb = verb, .path = path};
    return keystone_policy_allows(p, u, &a);
}

static void test_policy_v1(void **state)
{
    struct keystone_policy *p =
        P("[{\"resource\":{\"verbs\":[\"get\",\"list\"],\"resources\":[\"pods\",\"deployments/"
          "scale\","
          "\"services/*\"],\"version\":\"*\",\"namespace\":\"default\"},"
          "\"match\":[{\"type\":\"role\",\"values\":[\"member\"]},{\"type\":\"project\","
          "\"values\":[\"demo\",\"p-42\"]}]},"
          "{\"resource\":{\"verbs\":[\"*\"],\"resources\":[\"*\"],\"version\":\"apps\","
          "\"namespace\":\"*\"},\"match\":[{\"type\":\"user\",\"values\":[\"admin\"]}]},"
          "{\"resource\":{\"verbs\":[\"list\"],\"resources\":[\"nodes\"],\"version\":\"\","
          "\"namespace\":\"*\"},\"match\":[{\"type\":\"group\",\"values\":[\"ops\"]}]},"
          "{\"nonresource\":{\"verbs\":[\"get\"],\"path\":\"/healthz*\"},"
          "\"match\":[{\"type\":\"user\",\"values\":[\"*\"]}]}]");
    struct kos_user_info member, other_role, other_project, admin, ops, noextra;
    user_with(&member, "alice", "demo", "p-1", "member", NULL);
    user_with(&other_role, "bob", "demo", "p-1", "reader", NULL);
    user_with(&other_project, "carol", "prod", "p-9", "member", NULL);
    user_with(&admin, "admin", "x", "p-2", "reader", NULL);
    user_with(&ops, "dave", "x", "p-3", "reader", "ops");
    user_with(&noextra, "admin", NULL, NULL, NULL, NULL);

    assert_true(res(p, &member, "get", "default", "", "pods", NULL));
    assert_true(res(p, &member, "list", "default", "", "pods", NULL));
    assert_false(res(p, &member, "delete", "default", "", "pods", NULL));  /* verb */
    assert_false(res(p, &member, "get", "kube-system", "", "pods", NULL)); /* namespace */
    assert_false(res(p, &member, "get", "default", "", "secrets", NULL));  /* resource */
    assert_false(res(p, &member, "get", "default", "", "pods", "log"));    /* subresource */
    assert_true(res(p, &member, "get", "default", "apps", "deployments", "scale"));
    assert_false(res(p, &member, "get", "default", "apps", "deployments", NULL));
    assert_true(res(p, &member, "get", "default", "", "services",
                    "proxy")); // matches the services-slash-star entry
    assert_false(res(p, &other_role, "get", "default", "", "pods", NULL));
    assert_false(res(p, &other_project, "get", "default", "", "pods", NULL));
    /* project matches by id as well as by name */
    struct kos_user_info by_id;
    user_with(&by_id, "eve", "nope", "p-42", "member", NULL);
    assert_true(res(p, &by_id, "get", "default", "", "pods", NULL));
    /* user match: by name; API group filter */
    assert_true(res(p, &admin, "delete", "ns1", "apps", "deployments", NULL));
    assert_false(res(p, &admin, "delete", "ns1", "", "pods", NULL));
    /* group match; "*" namespace covers cluster-scoped requests */
    assert_true(res(p, &ops, "list", "", "", "nodes", NULL));
    assert_false(res(p, &member, "list", "", "", "nodes", NULL));
    /* non-resource with a trailing * */
    assert_true(nonres(p, &member, "get", "/healthz"));
    assert_true(nonres(p, &member, "get", "/healthz/ready"));
    assert_false(nonres(p, &member, "post", "/healthz"));
    assert_false(nonres(p, &member, "get", "/metrics"));
    /* no Keystone extra at all: denied, whatever matches */
    assert_false(res(p, &noextra, "delete", "ns1", "apps", "deployments", NULL));

    kos_user_info_clear(&member);
    kos_user_info_clear(&other_role);
    kos_user_info_clear(&other_project);
    kos_user_info_clear(&admin);
    kos_user_info_clear(&ops);
    kos_user_info_clear(&noextra);
    kos_user_info_clear(&by_id);
    keystone_policy_free(p);
}

static void test_policy_v2(void **state)
{
    struct keystone_policy *p =
        P("[{\"users\":{\"roles\":[\"member\"],\"projects\":[\"demo\"]},"
          "\"resource_permissions\":{\"*/pods\":[\"get\",\"List\"],"
          "\"!kube-system/['deployments','services']\":[\"*\"],"
          "\"['team-a','team-b']/!secrets\":[\"create\"],"
          "\"!['prod','stage']/configmaps\":[\"delete\"],"
          "\"a/b/c\":[\"*\"]},"
          "\"nonresource_permissions\":{\"/healthz\":[\"get\"]}},"
          "{\"users\":{\"roles\":[\"admin\",\"member\"],\"projects\":[\"demo\"]},"
          "\"resource_permissions\":{\"*/*\":[\"*\"]}},"
          "{\"users\":{\"roles\":[\"member\"]},\"resource_permissions\":{\"*/*\":[\"*\"]}}]");
    struct kos_user_info member, admin, other_project, reader;
    user_with(&member, "alice", "demo", "p-1", "member", NULL);
    user_with(&admin, "root", "demo", "p-1", "member", NULL);
    kos_user_info_add_extra(&admin, KEYSTONE_EXTRA_ROLES, "admin");
    user_with(&other_project, "carol", "prod", "p-9", "member", NULL);
    user_with(&reader, "bob", "demo", "p-1", "reader", NULL);

    assert_true(res(p, &member, "get", "any", "", "pods", NULL));
    assert_true(res(p, &member, "list", "any", "", "pods", NULL)); /* verbs lower-cased */
    assert_true(res(p, &member, "get", "", "", "pods", NULL));     /* "*" covers cluster scope */
    assert_false(res(p, &member, "delete", "any", "", "pods", NULL));
    /* !ns / list of resources */
    assert_true(res(p, &member, "patch", "default", "apps", "deployments", NULL));
    assert_true(res(p, &member, "delete", "default", "", "services", NULL));
    assert_false(res(p, &member, "patch", "kube-system", "apps", "deployments", NULL));
    assert_false(res(p, &member, "patch", "default", "", "secrets", NULL));
    /* list of namespaces / !resource */
    assert_true(res(p, &member, "create", "team-a", "", "configmaps", NULL));
    assert_true(res(p, &member, "create", "team-b", "", "pods", NULL));
    assert_false(res(p, &member, "create", "team-a", "", "secrets", NULL));
    assert_false(res(p, &member, "create", "team-c", "", "configmaps", NULL));
    /* !list of namespaces */
    assert_true(res(p, &member, "delete", "dev", "", "configmaps", NULL));
    assert_false(res(p, &member, "delete", "prod", "", "configmaps", NULL));
    /* namespaced keys never cover cluster-scoped requests */
    assert_false(res(p, &member, "delete", "", "", "configmaps", NULL));
    /* superset of roles required; project must be listed; no projects list: never */
    assert_true(res(p, &admin, "delete", "kube-system", "", "secrets", NULL));
    assert_false(res(p, &other_project, "get", "any", "", "pods", NULL));
    assert_false(res(p, &reader, "get", "any", "", "pods", NULL));
    /* non-resource: exact path */
    assert_true(nonres(p, &member, "get", "/healthz"));
    assert_false(nonres(p, &member, "get", "/healthz/ready"));
    assert_false(nonres(p, &reader, "get", "/healthz"));

    kos_user_info_clear(&member);
    kos_user_info_clear(&admin);
    kos_user_info_clear(&other_project);
    kos_user_info_clear(&reader);
    keystone_policy_free(p);
}

static void test_policy_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "{}",
        "[null]",
        "[1]",
        "[{\"resource\":{\"verbs\":[\"get\"],\"resources\":[\"pods\"]}}]", /* no version/ns */
        "[{\"resource\":{\"verbs\":\"get\",\"resources\":[\"pods\"],\"version\":\"*\","
        "\"namespace\":\"*\"}}]",
        "[{\"nonresource\":{\"verbs\":[\"get\"]}}]",
        "[{\"match\":[{\"type\":\"color\",\"values\":[\"red\"]}]}]",
        "[{\"match\":{\"type\":\"user\",\"values\":[\"a\"]}}]",
        "[{\"users\":{\"roles\":\"member\"}}]",
        "[{\"resource_permissions\":{\"*/pods\":[1]}}]",
        "[{\"resource_permissions\":[]}]",
        "[{\"a\":1},]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct keystone_policy *p = NULL;
        struct kos_error *err = NULL;
        if (keystone_policy_parse(bad[i], strlen(bad[i]), &p, &err) == 0)
            fail_msg("accepted malformed policy %s", bad[i]);
        assert_non_null(err);
        assert_int_equal(err->code, 400);
        kos_error_free(err);
    }
    /* An empty list loads and denies everything. */
    struct keystone_policy *p = P("[]");
    struct kos_user_info u;
    user_with(&u, "alice", "demo", "p-1", "member", NULL);
    assert_false(res(p, &u, "get", "default", "", "pods", NULL));
    keystone_policy_free(p);
    /* Bounded size. */
    size_t big = KEYSTONE_POLICY_MAX_BYTES + 10;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[0] = '[';
    text[big - 1] = ']';
    text[big] = '\0';
    struct kos_error *err = NULL;
    assert_true(keystone_policy_parse(text, big, &p, &err) < 0);
    kos_error_free(err);
    free(text);
    kos_user_info_clear(&u);
}

/* ---- cache ---- */

static void test_cache_expiry(void **state)
{
    struct keystone_cache *c;
    assert_int_equal(keystone_cache_new(2, 120000, &c), 0);
    struct kos_user_info u, got;
    user_with(&u, "alice", "demo", "p-1", "member", NULL);
    int64_t now = 1000000000000; /* ms */
    time_t far = (time_t)(now / 1000 + 3600), soon = (time_t)(now / 1000 + 30);

    /* TTL bound: cached for 2 minutes, not for the token's hour. */
    assert_int_equal(keystone_cache_put(c, "tok-a", &u, far, now), 0);
    assert_int_equal(keystone_cache_get(c, "tok-a", now + 119999, &got), 1);
    assert_string_equal(got.name, "alice");
    kos_user_info_clear(&got);
    assert_int_equal(keystone_cache_get(c, "tok-a", now + 120000, &got), 0);
    assert_int_equal(keystone_cache_get(c, "tok-b", now, &got), 0);

    /* Expiry bound: a token that expires in 30 s is not served from the cache after 30 s. */
    assert_int_equal(keystone_cache_put(c, "tok-s", &u, soon, now), 0);
    assert_int_equal(keystone_cache_get(c, "tok-s", now + 29999, &got), 1);
    kos_user_info_clear(&got);
    assert_int_equal(keystone_cache_get(c, "tok-s", now + 30000, &got), 0);

    /* Already expired: not stored. */
    assert_int_equal(keystone_cache_put(c, "tok-x", &u, (time_t)(now / 1000 - 1), now), 0);
    assert_int_equal(keystone_cache_get(c, "tok-x", now, &got), 0);

    /* Bounded: a third token evicts the least recently used. */
    assert_int_equal(keystone_cache_put(c, "t1", &u, far, now), 0);
    assert_int_equal(keystone_cache_put(c, "t2", &u, far, now), 0);
    assert_int_equal(keystone_cache_get(c, "t1", now, &got), 1); /* t1 now most recent */
    kos_user_info_clear(&got);
    assert_int_equal(keystone_cache_put(c, "t3", &u, far, now), 0);
    assert_int_equal(keystone_cache_size(c), 2);
    assert_int_equal(keystone_cache_get(c, "t2", now, &got), 0);
    assert_int_equal(keystone_cache_get(c, "t1", now, &got), 1);
    kos_user_info_clear(&got);
    keystone_cache_free(c);

    /* TTL 0 / size 0: nothing is cached. */
    assert_int_equal(keystone_cache_new(0, 0, &c), 0);
    assert_int_equal(keystone_cache_put(c, "tok-a", &u, far, now), 0);
    assert_int_equal(keystone_cache_get(c, "tok-a", now, &got), 0);
    keystone_cache_free(c);
    kos_user_info_clear(&u);
}

/* ---- sync config ---- */

static void test_sync_config(void **state)
{
    const char *yaml = "data-types-to-sync:\n- projects\n- role_assignments\n"
                       "namespace-format: \"%n-%i\"\n"
                       "projects-blacklist: [p-bad]\n"
                       "role-mappings:\n"
                       "- keystone-role: roleA\n  groups: [mapped-group]\n"
                       "- keystone-role: admin\n  username: kube-admin\n";
    struct keystone_sync_config *c = NULL;
    struct kos_error *err = NULL;
    assert_int_equal(keystone_sync_config_parse(yaml, strlen(yaml), &c, &err), 0);
    assert_true(c->sync_projects && c->sync_role_assignments);
    char ns[128];
    assert_int_equal(keystone_sync_namespace_name(c, "p1", "projectA", "d1", ns, sizeof(ns)), 0);
    assert_string_equal(ns, "projectA-p1");
    /* Over 63 characters: the project id alone. */
    assert_int_equal(keystone_sync_namespace_name(
                         c, "p1",
                         "a-very-long-project-name-that-goes-on-and-on-and-on-and-on-forever", "d1",
                         ns, sizeof(ns)),
                     0);
    assert_string_equal(ns, "p1");

    struct kos_user_info u;
    map_sample(&u); /* roles roleA, reader */
    assert_int_equal(keystone_sync_apply_role_maps(c, &u), 0);
    assert_true(kos_user_info_in_group(&u, "mapped-group"));
    assert_string_equal(u.name, "userA"); /* no admin role: name kept */
    kos_user_info_clear(&u);
    keystone_sync_config_free(c);

    static const char *const bad[] = {
        "data-types-to-sync: [users]\n",
        "namespace-format: \"%n\"\n",
        "namespace-format: \"-%i\"\n",
        "role-mappings: {a: b}\n",
        "- a\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (keystone_sync_config_parse(bad[i], strlen(bad[i]), &c, &err) == 0)
            fail_msg("accepted bad sync config %s", bad[i]);
        assert_int_equal(err->code, 400);
        kos_error_free(err);
    }
}

/* ---- SubjectAccessReview reader ---- */

static void test_sar_parse(void **state)
{
    json_t *spec = json_loads(
        "{\"user\":\"alice\",\"groups\":[\"g1\"],\"extra\":{\"alpha.kubernetes.io/identity/roles\":"
        "[\"member\"]},\"resourceAttributes\":{\"verb\":\"get\",\"namespace\":\"ns\",\"resource\":"
        "\"pods\",\"subresource\":\"log\"}}",
        0, NULL);
    struct authz_attributes a;
    struct kos_user_info u;
    assert_int_equal(keystone_webhook_parse_sar(spec, true, &a, &u, NULL), 0);
    assert_true(a.resource_request);
    assert_string_equal(a.subresource, "log");
    assert_string_equal(u.groups[0], "g1");
    assert_extra(&u, KEYSTONE_EXTRA_ROLES, "member");
    kos_user_info_clear(&u);
    json_decref(spec);

    static const char *const bad[] = {
        "{\"user\":1,\"resourceAttributes\":{}}",
        "{\"user\":\"a\",\"group\":\"g\",\"resourceAttributes\":{}}",
        "{\"user\":\"a\",\"extra\":{\"k\":\"v\"},\"resourceAttributes\":{}}",
        "{\"user\":\"a\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        spec = json_loads(bad[i], 0, NULL);
        struct kos_error *err = NULL;
        assert_true(keystone_webhook_parse_sar(spec, false, &a, &u, &err) < 0);
        assert_int_equal(err->code, 400);
        kos_error_free(err);
        json_decref(spec);
    }
}

/* ---- in-process authorizer (kos server --keystone-policy-file) ---- */

static void test_inprocess_authorizer(void **state)
{
    struct keystone_policy *p = P("[{\"users\":{\"roles\":[\"member\"],\"projects\":[\"demo\"]},"
                                  "\"resource_permissions\":{\"*/pods\":[\"get\"]}}]");
    struct authz_authorizer az;
    keystone_authorizer(p, &az);
    struct kos_user_info u;
    user_with(&u, "alice", "demo", "p-1", "member", "g");
    struct kos_user ku = {.name = u.name,
                          .uid = u.uid,
                          .groups = (const char *const *)u.groups,
                          .ngroups = u.ngroups,
                          .extra = u.extra,
                          .nextra = u.nextra};
    struct authz_attributes a = {.user = &ku,
                                 .verb = "get",
                                 .resource_request = true,
                                 .namespace_ = "ns",
                                 .resource = "pods"};
    char *reason = NULL;
    assert_int_equal(az.authorize(az.ctx, &a, &reason), AUTHZ_ALLOW);
    assert_null(reason);
    a.verb = "delete";
    assert_int_equal(az.authorize(az.ctx, &a, &reason), AUTHZ_NO_OPINION);
    assert_string_equal(reason, "No policy matched.");
    free(reason);
    a.verb = "get";
    ku.extra = NULL; /* not a Keystone identity */
    assert_int_equal(az.authorize(az.ctx, &a, NULL), AUTHZ_NO_OPINION);
    kos_user_info_clear(&u);
    keystone_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_parse),  cmocka_unit_test(test_groups_parse),
        cmocka_unit_test(test_mapping),      cmocka_unit_test(test_policy_v1),
        cmocka_unit_test(test_policy_v2),    cmocka_unit_test(test_policy_malformed),
        cmocka_unit_test(test_cache_expiry), cmocka_unit_test(test_sync_config),
        cmocka_unit_test(test_sar_parse),    cmocka_unit_test(test_inprocess_authorizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for authorization wired to the store (apiserver/authorization.c,
 * apiserver/authz/cache.c, apiserver/rbac_bootstrap.c): the bootstrap policy is stored and
 * reconciled, the watch-fed caches follow creates, updates and deletes, and a denial carries
 * kube's 403 text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver/authorization.h"
#include "apiserver/authz/cache.h"
#include "apiserver/authz/node.h"
#include "apiserver/objects.h"
#include "store/store.h"
#include "util/json_cleanup.h"
#include "util/strutil.h"

struct fixture {
    char dir[64];
    char path[96];
    struct store *s;
    struct apiserver srv;
};

#define USER(n, ...)                                                                               \
    (&(struct kos_user){.name = n,                                                                 \
                        .groups = (const char *const[]){__VA_ARGS__},                              \
                        .ngroups = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)})

static int start(struct fixture *f, const char *modes)
{
    char e[256];
    struct store_sqlite_options o = {.path = f->path, .watch_window_events = 1000};
    int r = store_sqlite_open(&o, &f->s);
    if (r == 0)
        r = apiserver_init(&f->srv, f->s, "");
    if (r == 0)
        r = apiserver_authz_start(&f->srv, modes, NULL, e, sizeof(e));
    return r;
}

static void stop(struct fixture *f)
{
    apiserver_done(&f->srv);
    store_close(f->s);
    f->s = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    kos_strlcpy(f->dir, "/tmp/kos-authz-test-XXXXXX", sizeof(f->dir));
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/db.sqlite", f->dir);
    assert_int_equal(start(f, "Node,RBAC"), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stop(f);
    char p[128];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void put(struct fixture *f, const char *key, const char *text)
{
    json_error_t e;
    _cleanup_json_ json_t *obj = json_loads(text, 0, &e);
    if (!obj)
        fail_msg("bad JSON %s: %s", e.text, text);
    struct store_kv kv = {0};
    bool exists = store_get(f->s, key, &kv) == 0;
    store_kv_clear(&kv);
    struct store_write w = {.type = exists ? STORE_UPDATE : STORE_CREATE,
                            .key = key,
                            .render = obj_render,
                            .render_ctx = obj};
    struct store_write_result res = {0};
    assert_int_equal(store_write(f->s, &w, &res), 0);
    kos_value_unref(res.value);
}

static void del(struct fixture *f, const char *key)
{
    _cleanup_json_ json_t *obj = json_object();
    struct store_write w = {
        .type = STORE_DELETE, .key = key, .render = obj_render, .render_ctx = obj};
    struct store_write_result res = {0};
    assert_int_equal(store_write(f->s, &w, &res), 0);
    kos_value_unref(res.value);
}

static void sync_cache(struct fixture *f)
{
    assert_int_equal(authz_cache_wait(f->srv.authz_cache, store_current_rev(f->s), 10000), 0);
}

static int decide(struct fixture *f, const struct kos_user *u, const char *verb, const char *ns,
                  const char *group, const char *resource, const char *name, char **msg)
{
    struct authz_attributes a = {.user = u,
                                 .verb = verb,
                                 .resource_request = true,
                                 .namespace_ = ns,
                                 .api_group = group,
                                 .api_version = "v1",
                                 .resource = resource,
                                 .subresource = "",
                                 .name = name};
    struct kos_error *err = NULL;
    int r = apiserver_authz_check(&f->srv, &a, &err);
    if (r < 0) {
        assert_int_equal(r, -EACCES);
        assert_int_equal(err->code, 403);
        if (msg)
            *msg = strdup(err->message);
    }
    kos_error_free(err);
    return r;
}

#define ROLE_KEY "/registry/rbac.authorization.k8s.io/roles/team/pod-reader"
#define RB_KEY   "/registry/rbac.authorization.k8s.io/rolebindings/team/devs-read"

static void test_binding_lifecycle(void **state)
{
    struct fixture *f = *state;
    const struct kos_user *alice = USER("alice", "devs", "system:authenticated");
    char *msg = NULL;

    assert_int_equal(decide(f, alice, "list", "team", "", "pods", "", &msg), -EACCES);
    assert_string_equal(msg, "pods is forbidden: User \"alice\" cannot list resource \"pods\" in "
                             "API group \"\" in the namespace \"team\"");
    free(msg);

    put(f, ROLE_KEY,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
        "{\"name\":\"pod-reader\",\"namespace\":\"team\"},\"rules\":[{\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\"],\"verbs\":[\"get\",\"list\"]}]}");
    put(f, RB_KEY,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"metadata\":"
        "{\"name\":\"devs-read\",\"namespace\":\"team\"},\"roleRef\":{\"apiGroup\":"
        "\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"pod-reader\"},\"subjects\":"
        "[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\",\"name\":\"devs\"}]}");
    sync_cache(f);
    assert_int_equal(decide(f, alice, "list", "team", "", "pods", "", NULL), 0);
    assert_int_equal(decide(f, alice, "get", "team", "", "pods", "web", NULL), 0);
    /* other verbs, namespaces and users stay forbidden */
    assert_int_equal(decide(f, alice, "delete", "team", "", "pods", "web", &msg), -EACCES);
    assert_string_equal(msg, "pods \"web\" is forbidden: User \"alice\" cannot delete resource "
                             "\"pods\" in API group \"\" in the namespace \"team\"");
    free(msg);
    assert_int_equal(decide(f, alice, "list", "default", "", "pods", "", NULL), -EACCES);
    assert_int_equal(
        decide(f, USER("bob", "system:authenticated"), "list", "team", "", "pods", "", NULL),
        -EACCES);

    /* an update narrows the role */
    put(f, ROLE_KEY,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
        "{\"name\":\"pod-reader\",\"namespace\":\"team\"},\"rules\":[{\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}");
    sync_cache(f);
    assert_int_equal(decide(f, alice, "list", "team", "", "pods", "", NULL), -EACCES);
    assert_int_equal(decide(f, alice, "get", "team", "", "pods", "web", NULL), 0);

    /* a malformed update revokes rather than keeping the old grant */
    put(f, ROLE_KEY,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
        "{\"name\":\"pod-reader\",\"namespace\":\"team\"},\"rules\":\"everything\"}");
    sync_cache(f);
    assert_int_equal(decide(f, alice, "get", "team", "", "pods", "web", &msg), -EACCES);
    assert_non_null(strstr(msg, "role.rbac.authorization.k8s.io \"pod-reader\" not found"));
    free(msg);

    /* deleting the binding revokes */
    put(f, ROLE_KEY,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
        "{\"name\":\"pod-reader\",\"namespace\":\"team\"},\"rules\":[{\"apiGroups\":[\"\"],"
        "\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}");
    sync_cache(f);
    assert_int_equal(decide(f, alice, "get", "team", "", "pods", "web", NULL), 0);
    del(f, RB_KEY);
    sync_cache(f);
    assert_int_equal(decide(f, alice, "get", "team", "", "pods", "web", NULL), -EACCES);
}

static void test_bootstrap_policy(void **state)
{
    struct fixture *f = *state;
    const struct kos_user *alice = USER("alice", "system:authenticated");
    assert_int_equal(apiserver_bootstrap_rbac(&f->srv), 0);
    sync_cache(f);
    /* system:discovery and system:basic-user bound to system:authenticated */
    struct authz_attributes a = {.user = alice, .verb = "get", .path = "/apis"};
    struct kos_error *err = NULL;
    assert_int_equal(apiserver_authz_check(&f->srv, &a, &err), 0);
    assert_int_equal(decide(f, alice, "create", "", "authorization.k8s.io",
                            "selfsubjectaccessreviews", "", NULL),
                     0);
    assert_int_equal(decide(f, alice, "list", "", "", "secrets", "", NULL), -EACCES);
    /* kube-scheduler's binding */
    assert_int_equal(
        decide(f, USER("system:kube-scheduler"), "create", "default", "", "bindings", "", NULL), 0);

    /* a trimmed autoupdate role gets its rules back on the next start; an opted-out one not */
    const char *key = "/registry/rbac.authorization.k8s.io/clusterroles/view";
    put(f, key,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":"
        "{\"name\":\"view\",\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":"
        "\"true\"}},\"rules\":[]}");
    const char *key2 = "/registry/rbac.authorization.k8s.io/clusterroles/edit";
    put(f, key2,
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":"
        "{\"name\":\"edit\",\"annotations\":{\"rbac.authorization.kubernetes.io/autoupdate\":"
        "\"false\"}},\"rules\":[]}");
    assert_int_equal(apiserver_bootstrap_rbac(&f->srv), 0);
    struct store_kv kv = {0};
    assert_int_equal(store_get(f->s, key, &kv), 0);
    _cleanup_json_ json_t *view = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    assert_true(json_array_size(json_object_get(view, "rules")) > 10);
    assert_int_equal(store_get(f->s, key2, &kv), 0);
    _cleanup_json_ json_t *edit = obj_decode_value(kv.value, NULL);
    store_kv_clear(&kv);
    assert_int_equal(json_array_size(json_object_get(edit, "rules")), 0);
}

static void test_node_graph(void **state)
{
    struct fixture *f = *state;
    const struct kos_user *node = USER("system:node:n1", "system:nodes", "system:authenticated");
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s1", NULL), -EACCES);
    put(f, "/registry/pods/default/p1",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\",\"namespace\":"
        "\"default\",\"uid\":\"u1\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","
        "\"image\":\"x\"}],\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"s1\"}}]}}");
    sync_cache(f);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s1", NULL), 0);
    assert_int_equal(decide(f, USER("system:node:n2", "system:nodes"), "get", "default", "",
                            "secrets", "s1", NULL),
                     -EACCES);
    del(f, "/registry/pods/default/p1");
    sync_cache(f);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s1", NULL), -EACCES);

    /* created without a node (status after spec, as stored), then bound: edges only then;
     * and a pod whose spec comes before its metadata */
    const char *unbound =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\",\"namespace\":"
        "\"default\",\"uid\":\"u2\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
        "\"x\"}],\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"s2\"}}]},"
        "\"status\":{\"phase\":\"Pending\"}}";
    put(f, "/registry/pods/default/p2", unbound);
    sync_cache(f);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s2", NULL), -EACCES);
    put(f, "/registry/pods/default/p2",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p2\",\"namespace\":"
        "\"default\",\"uid\":\"u2\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
        "\"x\"}],\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"s2\"}}],"
        "\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Pending\"}}");
    sync_cache(f);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s2", NULL), 0);
    put(f, "/registry/pods/default/p3",
        "{\"spec\":{\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"v\",\"secret\":"
        "{\"secretName\":\"s3\"}}],\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]},"
        "\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p3\","
        "\"namespace\":\"default\",\"uid\":\"u3\"},\"status\":{}}");
    sync_cache(f);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s3", NULL), 0);
}

/* After a restart the graph fills in the background; a node's request that needs it waits for
 * it instead of being decided on a partial graph. */
static void test_restart_node_graph(void **state)
{
    struct fixture *f = *state;
    const struct kos_user *node = USER("system:node:n1", "system:nodes", "system:authenticated");
    char key[96], text[512];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "/registry/pods/default/p%d", i);
        snprintf(text, sizeof(text),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%d\","
                 "\"namespace\":\"default\",\"uid\":\"u%d\"},\"spec\":{\"nodeName\":\"n1\","
                 "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],\"volumes\":[{\"name\":"
                 "\"v\",\"secret\":{\"secretName\":\"s%d\"}}]}}",
                 i, i, i);
        put(f, key, text);
    }
    stop(f);
    assert_int_equal(start(f, "Node,RBAC"), 0);
    /* the last pod listed is the one most likely not in the graph yet */
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s299", NULL), 0);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s0", NULL), 0);
    assert_int_equal(decide(f, node, "get", "default", "", "secrets", "s300", NULL), -EACCES);

    /* an unsynced graph never decides: the request is refused after the wait */
    struct authz_node_authorizer *n = NULL;
    assert_int_equal(authz_node_new(true, &n), 0);
    authz_node_set_synced(n, false);
    assert_int_equal(authz_node_wait_synced(n, 10), -ETIMEDOUT);
    authz_node_set_synced(n, true);
    assert_int_equal(authz_node_wait_synced(n, 10), 0);
    authz_node_free(n);
}

static void test_restart_lists_existing(void **state)
{
    struct fixture *f = *state;
    put(f, "/registry/rbac.authorization.k8s.io/clusterroles/reader",
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRole\",\"metadata\":"
        "{\"name\":\"reader\"},\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"nodes\"],"
        "\"verbs\":[\"list\"]}]}");
    put(f, "/registry/rbac.authorization.k8s.io/clusterrolebindings/reader",
        "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
        "\"metadata\":{\"name\":\"reader\"},\"roleRef\":{\"apiGroup\":"
        "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":\"reader\"},"
        "\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"User\","
        "\"name\":\"carol\"}]}");
    stop(f);
    /* AlwaysDeny alone: nobody but system:masters, whatever is stored */
    assert_int_equal(start(f, "AlwaysDeny"), 0);
    char *msg = NULL;
    assert_int_equal(decide(f, USER("carol"), "list", "", "", "nodes", "", &msg), -EACCES);
    assert_string_equal(msg, "nodes is forbidden: User \"carol\" cannot list resource \"nodes\" "
                             "in API group \"\" at the cluster scope: Everything is forbidden.");
    free(msg);
    assert_int_equal(decide(f, USER("root", "system:masters"), "list", "", "", "nodes", "", NULL),
                     0);
    stop(f);
    /* kube's AlwaysDeny has no opinion: a later RBAC still allows */
    assert_int_equal(start(f, "AlwaysDeny,RBAC"), 0);
    assert_int_equal(decide(f, USER("carol"), "list", "", "", "nodes", "", NULL), 0);
    stop(f);
    assert_int_equal(start(f, "RBAC"), 0);
    /* listed at start, no wait needed */
    assert_int_equal(decide(f, USER("carol"), "list", "", "", "nodes", "", NULL), 0);
    stop(f);
    assert_int_equal(start(f, "AlwaysAllow"), 0);
    assert_int_equal(decide(f, USER("dave"), "delete", "", "", "nodes", "n1", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_binding_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_graph, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_lists_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_node_graph, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

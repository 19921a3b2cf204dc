/* Unit tests for src/apiserver/authz/node.c (the Node authorizer and its graph) and
 * src/apiserver/authz/messages.c (kube's 403 texts). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiserver/authz/messages.h"
#include "apiserver/authz/node.h"
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

static const char *const node_groups[] = {"system:nodes", "system:authenticated"};
static const struct kos_user n1 = {.name = "system:node:n1", .groups = node_groups, .ngroups = 2};
static const struct kos_user n2 = {.name = "system:node:n2", .groups = node_groups, .ngroups = 2};
static const struct kos_user nameless = {
    .name = "system:node:", .groups = node_groups, .ngroups = 2};
static const struct kos_user impostor = {.name = "system:node:n1"};
static const char *const alice_groups[] = {"system:authenticated"};
static const struct kos_user alice = {.name = "alice", .groups = alice_groups, .ngroups = 1};

static struct authz_attributes res(const struct kos_user *u, const char *verb, const char *ns,
                                   const char *group, const char *resource, const char *sub,
                                   const char *name)
{
    return (struct authz_attributes){.user = u,
                                     .verb = verb,
                                     .resource_request = true,
                                     .namespace_ = ns,
                                     .api_group = group,
                                     .resource = resource,
                                     .subresource = sub,
                                     .name = name};
}

static void check(struct authz_node_authorizer *n, struct authz_attributes a, int want,
                  const char *want_reason)
{
    char *reason = (char *)0x1;
    int d = authz_node_authorize(n, &a, &reason);
    bool reason_ok = !want_reason ||
                     (*want_reason ? reason && strcmp(reason, want_reason) == 0 : reason == NULL);
    if (d != want || !reason_ok)
        print_error("%s %s %s/%s %s: got %d (%s)\n", a.user ? a.user->name : "-", a.verb,
                    a.resource, a.subresource, a.name, d, reason ? reason : "no reason");
    assert_int_equal(d, want);
    assert_true(reason_ok);
    free(reason);
}

static const char pod1[] =
    "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"default\"},\"spec\":{\"nodeName\":\"n1\","
    "\"serviceAccountName\":\"sa1\",\"imagePullSecrets\":[{\"name\":\"pull\"}],"
    "\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"A\",\"valueFrom\":{\"secretKeyRef\":"
    "{\"name\":\"env-secret\",\"key\":\"k\"}}},{\"name\":\"B\",\"valueFrom\":{\"configMapKeyRef\":"
    "{\"name\":\"env-cm\",\"key\":\"k\"}}}],\"envFrom\":[{\"configMapRef\":{\"name\":\"from-cm\"}},"
    "{\"secretRef\":{\"name\":\"from-secret\"}}]}],"
    "\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{\"secretRef\":{\"name\":\"init-secret\"}}]}]"
    ","
    "\"volumes\":[{\"name\":\"v1\",\"secret\":{\"secretName\":\"vol-secret\"}},"
    "{\"name\":\"v2\",\"configMap\":{\"name\":\"vol-cm\"}},"
    "{\"name\":\"v3\",\"persistentVolumeClaim\":{\"claimName\":\"claim1\"}},"
    "{\"name\":\"v4\",\"projected\":{\"sources\":[{\"secret\":{\"name\":\"proj-secret\"}},"
    "{\"configMap\":{\"name\":\"proj-cm\"}}]}},"
    "{\"name\":\"v5\",\"ephemeral\":{\"volumeClaimTemplate\":{}}},"
    "{\"name\":\"v6\",\"csi\":{\"driver\":\"d\",\"nodePublishSecretRef\":{\"name\":\"csi-secret\"}}"
    "}"
    "]}}";

static struct authz_node_authorizer *graph(bool selectors)
{
    struct authz_node_authorizer *n = NULL;
    assert_int_equal(authz_node_new(selectors, &n), 0);
    _cleanup_json_ json_t *p = J(pod1);
    assert_int_equal(authz_node_pod_set(n, p), 0);
    _cleanup_json_ json_t *pv =
        J("{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"claimRef\":{\"namespace\":\"default\","
          "\"name\":\"claim1\"},\"csi\":{\"driver\":\"d\",\"nodePublishSecretRef\":{\"name\":"
          "\"pv-secret\",\"namespace\":\"storage\"}}}}");
    assert_int_equal(authz_node_pv_set(n, pv), 0);
    _cleanup_json_ json_t *va =
        J("{\"metadata\":{\"name\":\"va1\"},\"spec\":{\"nodeName\":\"n1\"}}");
    assert_int_equal(authz_node_va_set(n, va), 0);
    return n;
}

#define NO_REL "no relationship found between node 'n1' and this object"

static void test_identity(void **state)
{
    struct authz_node_authorizer *n = graph(false);
    const char *name = NULL;
    assert_true(authz_node_identity(&n1, &name));
    assert_string_equal(name, "n1");
    assert_false(authz_node_identity(&impostor, &name));
    assert_false(authz_node_identity(&alice, &name));
    assert_false(authz_node_identity(NULL, &name));

    check(n, res(&alice, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION, "");
    check(n, res(&impostor, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION, "");
    check(n, res(&nameless, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION,
          "unknown node for user \"system:node:\"");
    authz_node_free(n);
}

static void test_pod_references(void **state)
{
    struct authz_node_authorizer *n = graph(false);
    static const char *const secrets[] = {"pull",       "env-secret",  "from-secret", "init-secret",
                                          "vol-secret", "proj-secret", "csi-secret"};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
        check(n, res(&n1, "get", "default", "", "secrets", "", secrets[i]), AUTHZ_ALLOW, "");
        check(n, res(&n1, "watch", "default", "", "secrets", "", secrets[i]), AUTHZ_ALLOW, "");
        check(n, res(&n2, "get", "default", "", "secrets", "", secrets[i]), AUTHZ_NO_OPINION,
              "no relationship found between node 'n2' and this object");
    }
    static const char *const cms[] = {"env-cm", "from-cm", "vol-cm", "proj-cm"};
    for (size_t i = 0; i < sizeof(cms) / sizeof(cms[0]); i++)
        check(n, res(&n1, "get", "default", "", "configmaps", "", cms[i]), AUTHZ_ALLOW, "");

    check(n, res(&n1, "get", "default", "", "secrets", "", "other"), AUTHZ_NO_OPINION, NO_REL);
    check(n, res(&n1, "get", "kube-system", "", "secrets", "", "pull"), AUTHZ_NO_OPINION, NO_REL);
    check(n, res(&n1, "list", "default", "", "secrets", "", ""), AUTHZ_NO_OPINION,
          "No Object name found");
    check(n, res(&n1, "create", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION,
          "can only read resources of this type");
    check(n, res(&n1, "get", "default", "", "secrets", "x", "pull"), AUTHZ_NO_OPINION,
          "cannot read subresource");
    check(n, res(&n1, "get", "", "", "configmaps", "", "vol-cm"), AUTHZ_NO_OPINION,
          "can only read namespaced object of this type");

    /* PVCs, PVs (through the claim) and the PV's secret, attachments, tokens */
    check(n, res(&n1, "get", "default", "", "persistentvolumeclaims", "", "claim1"), AUTHZ_ALLOW,
          "");
    check(n, res(&n1, "get", "default", "", "persistentvolumeclaims", "", "p1-v5"), AUTHZ_ALLOW,
          "");
    check(n, res(&n1, "list", "default", "", "persistentvolumeclaims", "", "claim1"),
          AUTHZ_NO_OPINION, "can only get individual resources of this type");
    check(n, res(&n1, "patch", "default", "", "persistentvolumeclaims", "status", "claim1"),
          AUTHZ_ALLOW, "");
    check(n, res(&n1, "get", "default", "", "persistentvolumeclaims", "status", "claim1"),
          AUTHZ_NO_OPINION, "can only get/update/patch this type");
    check(n, res(&n1, "get", "", "", "persistentvolumes", "", "pv1"), AUTHZ_ALLOW, "");
    check(n, res(&n2, "get", "", "", "persistentvolumes", "", "pv1"), AUTHZ_NO_OPINION,
          "no relationship found between node 'n2' and this object");
    check(n, res(&n1, "get", "storage", "", "secrets", "", "pv-secret"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "get", "", "storage.k8s.io", "volumeattachments", "", "va1"), AUTHZ_ALLOW,
          "");
    check(n, res(&n2, "get", "", "storage.k8s.io", "volumeattachments", "", "va1"),
          AUTHZ_NO_OPINION, "no relationship found between node 'n2' and this object");
    check(n, res(&n1, "create", "default", "", "serviceaccounts", "token", "sa1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "create", "default", "", "serviceaccounts", "token", "sa2"), AUTHZ_NO_OPINION,
          NO_REL);
    check(n, res(&n1, "get", "default", "", "serviceaccounts", "", "sa1"), AUTHZ_NO_OPINION,
          "can only create tokens for individual service accounts");
    authz_node_free(n);
}

static void test_graph_changes(void **state)
{
    struct authz_node_authorizer *n = graph(false);
    /* the pod moves to n2: n1 loses its secrets, n2 gains them */
    _cleanup_json_ json_t *moved = J(pod1);
    json_object_set_new(json_object_get(moved, "spec"), "nodeName", json_string("n2"));
    assert_int_equal(authz_node_pod_set(n, moved), 0);
    check(n, res(&n1, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION, NO_REL);
    check(n, res(&n2, "get", "default", "", "secrets", "", "pull"), AUTHZ_ALLOW, "");

    /* two pods share a secret: it stays readable until both go */
    _cleanup_json_ json_t *other = J("{\"metadata\":{\"name\":\"p2\",\"namespace\":\"default\"},"
                                     "\"spec\":{\"nodeName\":\"n2\",\"imagePullSecrets\":"
                                     "[{\"name\":\"pull\"}]}}");
    assert_int_equal(authz_node_pod_set(n, other), 0);
    assert_int_equal(authz_node_pod_delete(n, "default", "p1"), 0);
    check(n, res(&n2, "get", "default", "", "secrets", "", "pull"), AUTHZ_ALLOW, "");
    check(n, res(&n2, "get", "default", "", "secrets", "", "vol-secret"), AUTHZ_NO_OPINION,
          "no relationship found between node 'n2' and this object");
    assert_int_equal(authz_node_pod_delete(n, "default", "p2"), 0);
    assert_int_equal(authz_node_pod_delete(n, "default", "p2"), -ENOENT);
    check(n, res(&n2, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION,
          "no relationship found between node 'n2' and this object");

    /* an unscheduled pod grants nothing */
    _cleanup_json_ json_t *pending = J(pod1);
    json_object_del(json_object_get(pending, "spec"), "nodeName");
    assert_int_equal(authz_node_pod_set(n, pending), 0);
    check(n, res(&n1, "get", "default", "", "secrets", "", "pull"), AUTHZ_NO_OPINION, NO_REL);

    assert_int_equal(authz_node_pv_delete(n, "pv1"), 0);
    assert_int_equal(authz_node_pv_delete(n, "pv1"), -ENOENT);
    assert_int_equal(authz_node_va_delete(n, "va1"), 0);
    check(n, res(&n1, "get", "", "storage.k8s.io", "volumeattachments", "", "va1"),
          AUTHZ_NO_OPINION, NO_REL);
    _cleanup_json_ json_t *bad = J("{\"spec\":{}}");
    assert_int_equal(authz_node_pod_set(n, bad), -EINVAL);
    authz_node_free(n);
}

static void test_leases_and_static_rules(void **state)
{
    struct authz_node_authorizer *n = graph(false);
    check(n, res(&n1, "update", "kube-node-lease", "coordination.k8s.io", "leases", "", "n1"),
          AUTHZ_ALLOW, "");
    check(n, res(&n1, "create", "kube-node-lease", "coordination.k8s.io", "leases", "", ""),
          AUTHZ_ALLOW, "");
    check(n, res(&n1, "update", "kube-node-lease", "coordination.k8s.io", "leases", "", "n2"),
          AUTHZ_NO_OPINION, "can only access node lease with the same name as the requesting node");
    check(n, res(&n1, "get", "default", "coordination.k8s.io", "leases", "", "n1"),
          AUTHZ_NO_OPINION, "can only access leases in the \"kube-node-lease\" system namespace");
    check(n, res(&n1, "list", "kube-node-lease", "coordination.k8s.io", "leases", "", ""),
          AUTHZ_NO_OPINION, "can only get, create, update, patch, or delete a node lease");
    check(n, res(&n1, "update", "", "storage.k8s.io", "csinodes", "", "n1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "update", "", "storage.k8s.io", "csinodes", "", "n2"), AUTHZ_NO_OPINION,
          "can only access CSINode with the same name as the requesting node");

    /* NodeRules, for what is not subdivided */
    check(n, res(&n1, "get", "", "", "nodes", "", "n1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "patch", "", "", "nodes", "status", "n1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "create", "default", "", "events", "", ""), AUTHZ_ALLOW, "");
    check(n, res(&n1, "list", "", "", "pods", "", ""), AUTHZ_ALLOW, "");
    check(n, res(&n1, "update", "default", "", "pods", "status", "p1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "create", "", "certificates.k8s.io", "certificatesigningrequests", "", ""),
          AUTHZ_ALLOW, "");
    check(n, res(&n1, "delete", "", "", "nodes", "", "n1"), AUTHZ_NO_OPINION, "");
    check(n, res(&n1, "create", "default", "apps", "deployments", "", ""), AUTHZ_NO_OPINION, "");
    struct authz_attributes url = {.user = &n1, .verb = "get", .path = "/healthz"};
    check(n, url, AUTHZ_NO_OPINION, "");
    authz_node_free(n);
}

static void test_selectors(void **state)
{
    struct authz_node_authorizer *n = graph(true);
    check(n, res(&n1, "get", "", "", "nodes", "", "n1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "get", "", "", "nodes", "", "n2"), AUTHZ_NO_OPINION,
          "node 'n1' cannot read 'n2', only its own Node object");
    check(n, res(&n1, "list", "", "", "nodes", "", ""), AUTHZ_NO_OPINION,
          "node 'n1' cannot read all nodes, only its own Node object");
    check(n, res(&n1, "update", "", "", "nodes", "status", "n1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "delete", "", "", "nodes", "", "n1"), AUTHZ_NO_OPINION, "");

    check(n, res(&n1, "get", "default", "", "pods", "", "p1"), AUTHZ_ALLOW, "");
    check(n, res(&n2, "get", "default", "", "pods", "", "p1"), AUTHZ_NO_OPINION,
          "no relationship found between node 'n2' and this object");
    check(n, res(&n1, "list", "", "", "pods", "", ""), AUTHZ_NO_OPINION,
          "can only list/watch pods with spec.nodeName field selector");
    struct authz_attributes a = res(&n1, "watch", "", "", "pods", "", "");
    a.field_selector = "spec.nodeName=n1";
    check(n, a, AUTHZ_ALLOW, "");
    a.field_selector = "spec.nodeName=n2";
    check(n, a, AUTHZ_NO_OPINION, "can only list/watch pods with spec.nodeName field selector");
    a.field_selector = "((bad";
    check(n, a, AUTHZ_NO_OPINION, "can only list/watch pods with spec.nodeName field selector");
    check(n, res(&n1, "create", "default", "", "pods", "eviction", "p1"), AUTHZ_ALLOW, "");
    check(n, res(&n1, "create", "default", "", "pods", "exec", "p1"), AUTHZ_NO_OPINION, "");
    authz_node_free(n);
}

/* ---- 403 messages ---- */

static void forbidden(struct authz_attributes a, const char *reason, const char *want)
{
    struct kos_error *err = NULL;
    assert_int_equal(authz_forbidden_error(&a, reason, &err), -EACCES);
    assert_non_null(err);
    assert_int_equal(err->code, 403);
    assert_string_equal(err->reason, "Forbidden");
    if (strcmp(err->message, want) != 0)
        print_error("got:  %s\nwant: %s\n", err->message, want);
    assert_string_equal(err->message, want);
    json_t *status = kos_error_to_status(err);
    assert_int_equal(json_integer_value(json_object_get(status, "code")), 403);
    json_decref(status);
    kos_error_free(err);
}

static void test_forbidden_messages(void **state)
{
    forbidden(res(&alice, "list", "default", "", "pods", "", ""), NULL,
              "pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" "
              "in the namespace \"default\"");
    forbidden(res(&alice, "list", "", "", "nodes", "", ""), "",
              "nodes is forbidden: User \"alice\" cannot list resource \"nodes\" in API group "
              "\"\" at the cluster scope");
    forbidden(res(&alice, "get", "default", "", "pods", "", "x"), NULL,
              "pods \"x\" is forbidden: User \"alice\" cannot get resource \"pods\" in API group "
              "\"\" in the namespace \"default\"");
    forbidden(res(&alice, "create", "default", "", "pods", "exec", "x"), NULL,
              "pods \"x\" is forbidden: User \"alice\" cannot create resource \"pods/exec\" in "
              "API group \"\" in the namespace \"default\"");
    forbidden(res(&alice, "list", "", "apps", "deployments", "", ""), NULL,
              "deployments.apps is forbidden: User \"alice\" cannot list resource "
              "\"deployments\" in API group \"apps\" at the cluster scope");
    struct authz_attributes url = {.user = &alice, .verb = "get", .path = "/foo"};
    forbidden(url, NULL, "forbidden: User \"alice\" cannot get path \"/foo\"");
    url.path = "/a<b>&c";
    forbidden(url, NULL, "forbidden: User \"alice\" cannot get path \"/a&lt;b&gt;&amp;c\"");
    struct authz_attributes anon = {.verb = "get", .path = "/"};
    forbidden(anon, NULL, "forbidden: User \"\" cannot get path \"/\"");
    /* the authorizers' reasons follow, unescaped */
    forbidden(res(&n1, "get", "default", "", "secrets", "", "s"), NO_REL,
              "secrets \"s\" is forbidden: User \"system:node:n1\" cannot get resource "
              "\"secrets\" in API group \"\" in the namespace \"default\": " NO_REL);
    forbidden(res(&alice, "get", "", "", "pods", "", ""),
              "RBAC: clusterrole.rbac.authorization.k8s.io \"x<\" not found",
              "pods is forbidden: User \"alice\" cannot get resource \"pods\" in API group \"\" "
              "at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"x<\" not "
              "found");

    /* details: name, group, kind = the resource */
    struct kos_error *err = NULL;
    struct authz_attributes a = res(&alice, "get", "ns", "apps", "deployments", "scale", "d");
    assert_int_equal(authz_forbidden_error(&a, NULL, &err), -EACCES);
    assert_string_equal(json_string_value(json_object_get(err->details, "name")), "d");
    assert_string_equal(json_string_value(json_object_get(err->details, "group")), "apps");
    assert_string_equal(json_string_value(json_object_get(err->details, "kind")), "deployments");
    kos_error_free(err);
    err = NULL;
    assert_int_equal(authz_forbidden_error(&url, NULL, &err), -EACCES);
    assert_null(json_object_get(err->details, "kind"));
    kos_error_free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity),      cmocka_unit_test(test_pod_references),
        cmocka_unit_test(test_graph_changes), cmocka_unit_test(test_leases_and_static_rules),
        cmocka_unit_test(test_selectors),     cmocka_unit_test(test_forbidden_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

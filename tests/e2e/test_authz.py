"""Authorization (issue 4, point 3): the --authorization-mode chain, RBAC fed from the store,
the bootstrap policy, ClusterRole aggregation and the access reviews, driven with real kubectl.

Identities other than the admin are examined through SubjectAccessReview, which asks the very
chain the request path asks."""

import subprocess
import time

import pytest

from kos import KOS_BIN, KosServer

SAR = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


def review(server, user, groups, verb, resource, namespace="", group="", name="", sub=""):
    status, r, _ = server.request("POST", SAR, {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups,
                 "resourceAttributes": {"verb": verb, "resource": resource, "group": group,
                                        "namespace": namespace, "name": name,
                                        "subresource": sub}}})
    assert status == 201, r
    return r["status"]


def wait_for(cond, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_role_and_binding_grant_exactly(server, kubectl_factory, version):
    k = kubectl_factory(server, version)
    groups = ["devs", "system:authenticated"]
    k.run("create", "namespace", "team")
    st = review(server, "alice", groups, "list", "pods", "team")
    assert st["allowed"] is False and not st.get("denied")

    k.run("create", "role", "pod-reader", "-n", "team", "--verb=get,list,watch",
          "--resource=pods")
    k.run("create", "rolebinding", "devs-read", "-n", "team", "--role=pod-reader",
          "--group=devs")
    # in effect for the very next request (the cache waits for the write)
    st = review(server, "alice", groups, "list", "pods", "team")
    assert st["allowed"] is True
    assert st["reason"] == ('RBAC: allowed by RoleBinding "devs-read/team" of Role "pod-reader" '
                            'to Group "devs"')
    assert review(server, "alice", groups, "get", "pods", "team", name="web")["allowed"]
    # other verbs, namespaces, resources and groups stay forbidden
    assert not review(server, "alice", groups, "delete", "pods", "team", name="web")["allowed"]
    assert not review(server, "alice", groups, "list", "pods", "default")["allowed"]
    assert not review(server, "alice", groups, "list", "secrets", "team")["allowed"]
    assert not review(server, "bob", ["system:authenticated"], "list", "pods", "team")["allowed"]

    # LocalSubjectAccessReview asks within its namespace
    status, r, _ = server.request(
        "POST", "/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
         "spec": {"user": "alice", "groups": groups,
                  "resourceAttributes": {"verb": "watch", "resource": "pods",
                                         "namespace": "team"}}})
    assert status == 201 and r["status"]["allowed"] is True
    status, r, _ = server.request(
        "POST", "/apis/authorization.k8s.io/v1/namespaces/team/localsubjectaccessreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview",
         "spec": {"user": "alice", "resourceAttributes": {"verb": "get", "resource": "pods",
                                                          "namespace": "default"}}})
    assert status == 400
    assert r["message"] == "spec.resourceAttributes.namespace must match namespace: team"

    # revoking takes effect at once too
    k.run("delete", "rolebinding", "devs-read", "-n", "team")
    assert not review(server, "alice", groups, "list", "pods", "team")["allowed"]


def test_bootstrap_policy_and_admin(server, kubectl_factory):
    k = kubectl_factory(server, "1.33")
    names = k.run("get", "clusterroles", "-o", "name").stdout.split()
    for want in ("cluster-admin", "admin", "edit", "view", "system:basic-user",
                 "system:discovery", "system:public-info-viewer", "system:node",
                 "system:kube-scheduler"):
        assert "clusterrole.rbac.authorization.k8s.io/" + want in names
    crb = k.run("get", "clusterrolebinding", "cluster-admin", "-o",
                "jsonpath={.subjects[0].name}").stdout
    assert crb == "system:masters"
    # discovery and the self reviews for every authenticated user, nothing else
    auth = ["system:authenticated"]
    st = review(server, "alice", auth, "create", "selfsubjectaccessreviews",
                group="authorization.k8s.io")
    assert st["allowed"]
    status, r, _ = server.request("POST", SAR, {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "alice", "groups": auth,
                 "nonResourceAttributes": {"verb": "get", "path": "/apis"}}})
    assert status == 201 and r["status"]["allowed"]
    assert not review(server, "alice", auth, "list", "nodes")["allowed"]
    # the scheduler's own role
    assert review(server, "system:kube-scheduler", [], "create", "pods", "default",
                  sub="binding")["allowed"]
    # the in-process controllers write as their service accounts, with kube's controller roles
    sa = ["system:serviceaccounts", "system:serviceaccounts:kube-system",
          "system:authenticated"]
    gc = "system:serviceaccount:kube-system:generic-garbage-collector"
    assert review(server, gc, sa, "delete", "pods", "default", name="p")["allowed"]
    assert review(server, gc, sa, "patch", "deployments", "default", group="apps",
                  name="d")["allowed"]
    nsc = "system:serviceaccount:kube-system:namespace-controller"
    assert review(server, nsc, sa, "update", "namespaces", name="x", sub="finalize")["allowed"]
    assert review(server, nsc, sa, "deletecollection", "configmaps", "x")["allowed"]
    agg = "system:serviceaccount:kube-system:clusterrole-aggregation-controller"
    assert review(server, agg, sa, "escalate", "clusterroles", group="rbac.authorization.k8s.io",
                  name="admin")["allowed"]
    assert not review(server, agg, sa, "delete", "pods", "default", name="p")["allowed"]
    # the manager identity itself only lists and watches
    assert review(server, "system:kube-controller-manager", [], "watch", "pods")["allowed"]
    assert not review(server, "system:kube-controller-manager", [], "delete", "pods", "default",
                      name="p")["allowed"]
    # the admin (system:masters) may do anything; can-i --list shows it
    assert k.run("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    assert "*.*" in k.run("auth", "can-i", "--list").stdout


def test_review_validation(server):
    status, r, _ = server.request("POST", SAR, {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    assert status == 422
    assert r["message"] == ('SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: '
                            'Invalid value: "": at least one of user or group must be specified')
    status, r, _ = server.request("POST", SAR, {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": "alice"}})
    assert status == 422 and "exactly one of nonResourceAttributes" in r["message"]
    status, r, _ = server.request(
        "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {}})
    assert status == 400 and r["message"] == "no namespace on request"


def test_aggregation_controller(server, kubectl_factory):
    k = kubectl_factory(server, "1.33")
    k.run("apply", "-f", "-", input="""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-edit
  labels:
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
rules:
- apiGroups: ["example.com"]
  resources: ["widgets"]
  verbs: ["create", "delete"]
""")

    def has_widgets(role):
        out = k.run("get", "clusterrole", role, "-o", "jsonpath={.rules[*].resources}").stdout
        return "widgets" in out

    # edit aggregates it, and admin aggregates edit's aggregate-to-edit roles too
    assert wait_for(lambda: has_widgets("edit") and has_widgets("admin"))
    assert not has_widgets("view")
    # a binding to edit now grants it
    k.run("create", "rolebinding", "e", "-n", "default", "--clusterrole=edit", "--user=erin")
    assert review(server, "erin", [], "create", "widgets", "default",
                  group="example.com")["allowed"]
    k.run("delete", "clusterrole", "widgets-edit")
    assert wait_for(lambda: not has_widgets("edit") and not has_widgets("admin"))
    assert not review(server, "erin", [], "create", "widgets", "default",
                      group="example.com")["allowed"]


@pytest.mark.parametrize("mode", ["AlwaysAllow", "AlwaysDeny"])
def test_always_modes(mode):
    s = KosServer(["--authorization-mode", mode])
    try:
        s.start()
        st = review(s, "alice", ["system:authenticated"], "delete", "nodes", name="n1")
        if mode == "AlwaysAllow":
            assert st["allowed"] is True
        else:
            assert st["allowed"] is False and st["denied"] is True
        # system:masters is allowed whatever the mode
        status, r, _ = s.request("GET", "/api/v1/namespaces")
        assert status == 200
    finally:
        s.cleanup()


@pytest.mark.parametrize("args,message", [
    (["--authorization-mode", "RBAC,Foo"], 'authorization-mode "Foo" is not a valid mode'),
    (["--authorization-mode", "RBAC,RBAC"],
     'authorization-mode "RBAC,RBAC" has mode specified more than once'),
    (["--authorization-mode", "Webhook"],
     "authorization-mode Webhook's authorization config file not passed"),
    (["--authorization-webhook-config-file", "/nonexistent"],
     "cannot specify --authorization-webhook-config-file without mode Webhook"),
])
def test_bad_modes_refuse_to_start(tmp_path, args, message):
    p = subprocess.run([KOS_BIN, "server", "--data-dir", str(tmp_path / "d"), "--bind-address",
                        "127.0.0.1", "--secure-port", "0"] + args,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert message in p.stderr

"""Authorization (issue 4, point 3): the --authorization-mode chain, RBAC fed from the store,
the bootstrap policy, ClusterRole aggregation and the access reviews, driven with real kubectl.

Identities other than the admin are examined through SubjectAccessReview, which asks the very
chain the request path asks."""

import subprocess

import pytest

from kos import KOS_BIN, KosServer, wait_for as wait_for_kos

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


def wait_for(cond, timeout=60):
    return wait_for_kos(cond, timeout, "condition", 0.1)


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
            # kube's AlwaysDeny has no opinion (not an explicit deny) and says why
            assert st["allowed"] is False and not st.get("denied")
            assert st["reason"] == "Everything is forbidden."
        # system:masters is allowed whatever the mode
        status, r, _ = s.request("GET", "/api/v1/namespaces")
        assert status == 200
    finally:
        s.cleanup()


@pytest.mark.parametrize("args,message", [
    (["--authorization-mode", "RBAC,Foo"], 'authorization-mode "Foo" is not a valid mode'),
    (["--authorization-mode", "RBAC,RBAC"],
     'authorization-mode ["RBAC" "RBAC"] has mode specified more than once'),
    (["--authorization-mode", "Webhook"],
     "authorization-mode Webhook's authorization config file not passed"),
    (["--authorization-webhook-config-file", "WEBHOOK_CONFIG"],
     "cannot specify --authorization-webhook-config-file without mode Webhook"),
])
def test_bad_modes_refuse_to_start(tmp_path, args, message):
    config = tmp_path / "webhook.kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: w\n  cluster:\n"
                      "    server: https://127.0.0.1:1/authorize\nusers:\n- name: w\n"
                      "  user: {}\ncontexts:\n- name: w\n  context: {cluster: w, user: w}\n"
                      "current-context: w\n")
    args = [str(config) if a == "WEBHOOK_CONFIG" else a for a in args]
    p = subprocess.run([KOS_BIN, "server", "--data-dir", str(tmp_path / "d"), "--bind-address",
                        "127.0.0.1", "--secure-port", "0"] + args,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert message in p.stderr


# ---- token-file users (needs authentication: --token-auth-file) ------------------------------

TOKENS = ('alice-token,alice,uid-alice,"devs"\n'
          'bob-token,bob,uid-bob\n')


def have_token_auth():
    p = subprocess.run([KOS_BIN, "server", "--help"], capture_output=True, text=True, timeout=30)
    return "--token-auth-file" in p.stdout


needs_authn = pytest.mark.skipif(not have_token_auth(),
                                 reason="authentication (--token-auth-file) is not built in")


def token_kubeconfig(server, token):
    import base64
    import json
    import os
    ca, _, _ = server.tls_files()
    with open(ca, "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "kos", "cluster": {"server": server.url,
                                                    "certificate-authority-data": ca_data}}],
           "users": [{"name": "u", "user": {"token": token}}],
           "contexts": [{"name": "kos", "context": {"cluster": "kos", "user": "u",
                                                    "namespace": "default"}}],
           "current-context": "kos"}
    path = os.path.join(server.dir, "kubeconfig-" + token)
    with open(path, "w") as f:
        json.dump(cfg, f)  # JSON is YAML
    return path


class As:
    """kubectl of one version with one kubeconfig."""

    def __init__(self, server, version, kubeconfig):
        from kos import kubectl_path
        import os
        self.server, self.bin, self.kubeconfig = server, kubectl_path(version), kubeconfig
        self.cache = os.path.join(server.dir, "kcache-%s-%s" % (version,
                                                               os.path.basename(kubeconfig)))

    def run(self, *args, input=None, check=True):
        cmd = [self.bin, "--kubeconfig", self.kubeconfig, "--cache-dir", self.cache,
               "--request-timeout=20s"] + list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\n%s\n%s\nserver log:\n%s" % (
                " ".join(cmd), p.returncode, p.stdout, p.stderr, self.server.log()))
        return p

    def forbidden(self, *args):
        p = self.run(*args, check=False)
        assert p.returncode != 0, p.stdout
        # kubectl prints "Error from server (Forbidden): ..." or, for some create
        # sub-commands, "error: failed to create ...: ... is forbidden: ..."
        assert "(Forbidden)" in p.stderr or " is forbidden: " in p.stderr, p.stderr
        return p.stderr


@pytest.fixture
def token_server(tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(TOKENS)
    s = KosServer(["--token-auth-file", str(tokens)])
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


@needs_authn
@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_token_user_forbidden_then_allowed(token_server, version):
    s = token_server
    admin = As(s, version, s.kubeconfig)
    alice = As(s, version, token_kubeconfig(s, "alice-token"))
    admin.run("create", "namespace", "team")

    err = alice.forbidden("get", "pods", "-n", "team")
    assert ('pods is forbidden: User "alice" cannot list resource "pods" in API group "" in '
            'the namespace "team"') in err
    assert alice.run("auth", "can-i", "list", "pods", "-n", "team",
                     check=False).stdout.strip() == "no"

    admin.run("create", "role", "pod-reader", "-n", "team", "--verb=get,list,watch",
              "--resource=pods")
    admin.run("create", "rolebinding", "devs-read", "-n", "team", "--role=pod-reader",
              "--group=devs")
    # effective on alice's very next request
    alice.run("get", "pods", "-n", "team")
    assert alice.run("auth", "can-i", "list", "pods", "-n", "team").stdout.strip() == "yes"
    # other verbs, namespaces and resources stay forbidden
    err = alice.forbidden("delete", "pod", "web", "-n", "team")
    assert ('pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group '
            '"" in the namespace "team"') in err
    alice.forbidden("get", "pods", "-n", "default")
    alice.forbidden("get", "secrets", "-n", "team")
    err = alice.forbidden("get", "nodes")
    assert ('nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at '
            'the cluster scope') in err
    assert alice.run("auth", "can-i", "delete", "pods", "-n", "team",
                     check=False).stdout.strip() == "no"
    # bob (not in devs) gets nothing
    bob = As(s, version, token_kubeconfig(s, "bob-token"))
    bob.forbidden("get", "pods", "-n", "team")
    # can-i --list: what the rules review says
    out = alice.run("auth", "can-i", "--list", "-n", "team").stdout
    assert any(line.startswith("pods ") and "[get list watch]" in line
               for line in out.splitlines()), out
    assert "selfsubjectaccessreviews.authorization.k8s.io" in out
    assert "*.*" not in out
    admin_out = admin.run("auth", "can-i", "--list").stdout
    assert "*.*" in admin_out
    assert admin.run("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"


@needs_authn
def test_escalation_refused(token_server):
    s = token_server
    admin = As(s, "1.33", s.kubeconfig)
    alice = As(s, "1.33", token_kubeconfig(s, "alice-token"))
    admin.run("create", "namespace", "team")
    admin.run("create", "role", "rbac-writer", "-n", "team", "--verb=create,get,list",
              "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,"
              "pods")
    admin.run("create", "rolebinding", "devs-rbac", "-n", "team", "--role=rbac-writer",
              "--group=devs")
    # a role within what alice holds is fine
    alice.run("create", "role", "pods-only", "-n", "team", "--verb=get", "--resource=pods")
    # one granting more is refused with kube's text
    err = alice.forbidden("create", "role", "secrets", "-n", "team", "--verb=get",
                          "--resource=secrets")
    assert "is attempting to grant RBAC permissions not currently held" in err
    # binding cluster-admin is refused (no bind permission on it)
    err = alice.forbidden("create", "rolebinding", "grab", "-n", "team",
                          "--clusterrole=cluster-admin", "--user=alice")
    assert "is attempting to grant RBAC permissions not currently held" in err
    alice.forbidden("get", "secrets", "-n", "team")
    # once granted `escalate`, the same role may be written
    admin.run("create", "role", "escalator", "-n", "team", "--verb=escalate",
              "--resource=roles.rbac.authorization.k8s.io")
    admin.run("create", "rolebinding", "devs-escalate", "-n", "team", "--role=escalator",
              "--user=alice")
    alice.run("create", "role", "secrets", "-n", "team", "--verb=get", "--resource=secrets")


@needs_authn
@pytest.mark.parametrize("mode", ["AlwaysAllow", "AlwaysDeny"])
def test_always_modes_for_token_user(tmp_path, mode):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text(TOKENS)
    s = KosServer(["--token-auth-file", str(tokens), "--authorization-mode", mode])
    try:
        s.start()
        alice = As(s, "1.33", token_kubeconfig(s, "alice-token"))
        if mode == "AlwaysAllow":
            alice.run("get", "secrets", "-n", "kube-system")
        else:
            # (kubectl's discovery is refused too, so ask the path directly)
            err = alice.forbidden("get", "--raw", "/api/v1/namespaces/default/pods")
            assert ('pods is forbidden: User "alice" cannot list resource "pods" in API group "" '
                    'in the namespace "default": Everything is forbidden.') in err
            # the admin is in system:masters
            As(s, "1.33", s.kubeconfig).run("get", "pods")
    finally:
        s.cleanup()

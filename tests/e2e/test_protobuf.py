"""Protobuf request bodies (kubectl-contract.md section 10): kubectl 1.32+ sends typed creates,
access reviews and drain's DeleteOptions as application/vnd.kubernetes.protobuf. Each command
must work unmodified against kos, and the stored object must carry what the command asked for;
malformed protobuf gets a 400 Status and the server keeps serving."""

import json
import os

import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "protobuf")
PROTOBUF = "application/vnd.kubernetes.protobuf"
VERSIONS = ["1.32", "1.33"]


def fixture(name):
    with open(os.path.join(FIXTURES, name + ".pb"), "rb") as f:
        return f.read()


def get_json(k, *args):
    return json.loads(k.run("get", "-o", "json", *args).stdout)


def version_suffix(version):
    return version.replace(".", "")


@pytest.fixture(params=VERSIONS)
def kubectl(request, shared_server, kubectl_factory):
    return kubectl_factory(shared_server, request.param)


@pytest.fixture
def ns(request, kubectl):
    """A namespace of the test, created with protobuf itself (the simplest case)."""
    test = request.node.originalname.replace("test_", "").replace("_", "-")[:40]
    name = "pb-%s-%s" % (version_suffix(kubectl.version), test)
    p = kubectl.run("create", "namespace", name)
    assert "namespace/%s created" % name in p.stdout
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


def test_create_namespaced_core_kinds(kubectl, ns):
    k = kubectl
    assert get_json(k, "namespace", ns)["metadata"]["name"] == ns

    k.run("create", "configmap", "cm1", "-n", ns, "--from-literal=a=1",
          "--from-literal=greeting=hello world")
    cm = get_json(k, "configmap", "cm1", "-n", ns)
    assert cm["data"] == {"a": "1", "greeting": "hello world"}

    k.run("create", "secret", "generic", "s1", "-n", ns, "--from-literal=user=admin",
          "--from-literal=empty=")
    s = get_json(k, "secret", "s1", "-n", ns)
    assert s["data"] == {"user": "YWRtaW4=", "empty": ""}
    assert s["type"] == "Opaque"

    k.run("create", "secret", "docker-registry", "reg1", "-n", ns, "--docker-server=r.example",
          "--docker-username=u", "--docker-password=p")
    s = get_json(k, "secret", "reg1", "-n", ns)
    assert s["type"] == "kubernetes.io/dockerconfigjson"
    assert ".dockerconfigjson" in s["data"]

    k.run("create", "serviceaccount", "sa1", "-n", ns)
    assert get_json(k, "serviceaccount", "sa1", "-n", ns)["metadata"]["namespace"] == ns

    k.run("create", "service", "clusterip", "svc1", "-n", ns, "--tcp=80:8080")
    svc = get_json(k, "service", "svc1", "-n", ns)
    assert svc["spec"]["type"] == "ClusterIP"
    port = svc["spec"]["ports"][0]
    assert (port["name"], port["port"], port["targetPort"], port["protocol"]) == \
        ("80-8080", 80, 8080, "TCP")
    assert svc["spec"]["selector"] == {"app": "svc1"}


def test_create_workloads(kubectl, ns):
    k = kubectl
    k.run("create", "deployment", "d1", "-n", ns, "--image=nginx", "--replicas=2")
    d = get_json(k, "deployment", "d1", "-n", ns)
    assert d["spec"]["replicas"] == 2
    assert d["spec"]["selector"] == {"matchLabels": {"app": "d1"}}
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert (c["name"], c["image"]) == ("nginx", "nginx")
    assert d["spec"]["template"]["metadata"]["labels"] == {"app": "d1"}

    # replicas is a pointer in Go: an explicit 0 must not become the default of 1.
    k.run("create", "deployment", "d0", "-n", ns, "--image=nginx", "--replicas=0")
    assert get_json(k, "deployment", "d0", "-n", ns)["spec"]["replicas"] == 0

    k.run("create", "job", "j1", "-n", ns, "--image=busybox", "--", "echo", "hi")
    j = get_json(k, "job", "j1", "-n", ns)
    c = j["spec"]["template"]["spec"]["containers"][0]
    assert (c["image"], c["command"]) == ("busybox", ["echo", "hi"])
    assert j["spec"]["template"]["spec"]["restartPolicy"] == "Never"

    k.run("create", "pdb", "pdb1", "-n", ns, "--selector=app=x", "--min-available=1")
    pdb = get_json(k, "pdb", "pdb1", "-n", ns)
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == {"matchLabels": {"app": "x"}}


def test_create_rbac_and_priorityclass(kubectl, ns):
    k = kubectl
    v = version_suffix(k.version)
    k.run("create", "role", "r1", "-n", ns, "--verb=get,list", "--resource=pods,configmaps")
    rules = get_json(k, "role", "r1", "-n", ns)["rules"]
    assert rules == [{"verbs": ["get", "list"], "apiGroups": [""],
                      "resources": ["pods", "configmaps"]}]

    k.run("create", "rolebinding", "rb1", "-n", ns, "--role=r1", "--user=alice",
          "--serviceaccount=%s:sa1" % ns)
    rb = get_json(k, "rolebinding", "rb1", "-n", ns)
    assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                             "name": "r1"}
    assert [s["name"] for s in rb["subjects"]] == ["alice", "sa1"]

    cr, crb, pc, pc0 = ("pb-cr-" + v, "pb-crb-" + v, "pb-pc-" + v, "pb-pc0-" + v)
    try:
        k.run("create", "clusterrole", cr, "--verb=get", "--resource=nodes",
              "--non-resource-url=/healthz")
        rules = get_json(k, "clusterrole", cr)["rules"]
        assert rules[0]["resources"] == ["nodes"]
        assert rules[1]["nonResourceURLs"] == ["/healthz"]

        k.run("create", "clusterrolebinding", crb, "--clusterrole=" + cr, "--group=devs")
        b = get_json(k, "clusterrolebinding", crb)
        assert b["subjects"] == [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io",
                                  "name": "devs"}]
        assert b["roleRef"]["name"] == cr

        k.run("create", "priorityclass", pc, "--value=1000", "--description=important")
        p = get_json(k, "priorityclass", pc)
        assert (p["value"], p["description"]) == (1000, "important")
        assert p["preemptionPolicy"] == "PreemptLowerPriority"
        # value has no omitempty: 0 is sent and must be stored.
        k.run("create", "priorityclass", pc0, "--value=0")
        assert get_json(k, "priorityclass", pc0)["value"] == 0
    finally:
        for kind, name in (("clusterrolebinding", crb), ("clusterrole", cr),
                           ("priorityclass", pc), ("priorityclass", pc0)):
            k.run("delete", kind, name, "--ignore-not-found", check=False)


def test_server_dry_run_stores_nothing(kubectl, ns):
    k = kubectl
    p = k.run("create", "configmap", "dry", "-n", ns, "--from-literal=a=1", "--dry-run=server",
              "-o", "json")
    assert json.loads(p.stdout)["data"] == {"a": "1"}
    p = k.run("get", "configmap", "dry", "-n", ns, check=False)
    assert p.returncode != 0 and "NotFound" in p.stderr


def test_auth_can_i_and_whoami(kubectl):
    p = kubectl.run("auth", "can-i", "get", "pods", "-n", "kube-system", check=False)
    assert p.stdout.strip() in ("yes", "no"), p.stderr
    p = kubectl.run("auth", "whoami")
    assert "Username" in p.stdout


def test_drain_sends_delete_options(kubectl, shared_server):
    k = kubectl
    node = "pb-node-" + version_suffix(k.version)
    s, b, _ = shared_server.request("POST", "/api/v1/nodes",
                                    {"apiVersion": "v1", "kind": "Node",
                                     "metadata": {"name": node}})
    assert s == 201, b
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": node, "namespace": "default"},
           "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}}
    s, b, _ = shared_server.request("POST", "/api/v1/namespaces/default/pods", pod)
    assert s == 201, b
    try:
        p = k.run("drain", node, "--force", "--grace-period=0", "--timeout=30s")
        assert "drained" in p.stdout
        s, _, _ = shared_server.request("GET", "/api/v1/namespaces/default/pods/" + node)
        assert s == 404
    finally:
        shared_server.request("DELETE", "/api/v1/namespaces/default/pods/" + node)
        shared_server.request("DELETE", "/api/v1/nodes/" + node)


def test_raw_bodies(shared_server):
    """Captured kubectl bodies posted by hand: whole, truncated, of the wrong kind."""
    srv = shared_server
    body = fixture("namespace")  # creates namespace pb-ns
    s, b, _ = srv.request("POST", "/api/v1/namespaces", body, content_type=PROTOBUF)
    assert s == 201, b
    assert b["metadata"]["name"] == "pb-ns"
    try:
        s, b, _ = srv.request("POST", "/api/v1/namespaces", body[:40], content_type=PROTOBUF)
        assert s == 400, b
        assert b["kind"] == "Status" and b["reason"] == "BadRequest"
        assert b["message"] == ("error decoding body: protobuf: field 2 length 29 exceeds the "
                                "17 bytes left at offset 23")

        for cut in (3, 4, 10, len(body) - 5):
            s, b, _ = srv.request("POST", "/api/v1/namespaces/pb-ns/configmaps",
                                  fixture("configmap")[:cut], content_type=PROTOBUF)
            assert s == 400, (cut, b)

        # A ConfigMap body posted to secrets: the envelope's kind does not match the URL.
        s, b, _ = srv.request("POST", "/api/v1/namespaces/pb-ns/secrets", fixture("configmap"),
                              content_type=PROTOBUF)
        assert s == 400, b
        assert "does not match the expected kind" in b["message"]

        # A kind kos has no table for.
        s, b, _ = srv.request("POST", "/api/v1/namespaces/pb-ns/configmaps", fixture("ingress"),
                              content_type=PROTOBUF)
        assert s == 415, b
        assert b["reason"] == "UnsupportedMediaType"

        # JSON sent with the protobuf Content-Type.
        s, b, _ = srv.request("POST", "/api/v1/namespaces/pb-ns/configmaps",
                              {"kind": "ConfigMap", "metadata": {"name": "x"}},
                              content_type=PROTOBUF)
        assert s == 400, b
        assert "does not start with the magic" in b["message"]

        # The same body once more works: nothing above left the server in a bad state.
        s, b, _ = srv.request("POST", "/api/v1/namespaces/pb-ns/configmaps", fixture("configmap"),
                              content_type=PROTOBUF)
        assert s == 201, b
        assert b["data"] == {"a": "1", "greeting": "hello world"}
        assert srv.get_raw("/readyz") == b"ok"
    finally:
        srv.request("DELETE", "/api/v1/namespaces/pb-ns")

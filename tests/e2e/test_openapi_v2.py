"""/openapi/v2 as gnostic protobuf: what kubectl 1.27 downloads before every `apply -f` /
`create -f` with the default --validate=strict (a 404 there is "failed to download openapi").

kubectl 1.27 then asks /openapi/v3 whether the server takes fieldValidation; kos says yes, so
plain objects are validated by the server. Client-side validation against the v2 definitions
still runs for `kind: List` documents (kubectl never asks the server about v1/List), which is
how the definitions themselves are checked here. A second apply computes its strategic merge
patch from the v2 definitions' GVK and patch-merge-key extensions."""

import json

import pytest

PB_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
PB_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - containerPort: 80
"""

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
          name: http
        resources:
          limits: {cpu: 500m, memory: 128Mi}
"""

CM = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  a: "1"
"""

LIST_BAD = """
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: bad, namespace: default}
  spec:
    foo: 1
    containers:
    - name: c
      image: busybox
"""


def test_served_as_protobuf_and_json(server):
    s, raw, hdrs = server.request("GET", "/openapi/v2", headers={"Accept": PB_ACCEPT})
    assert s == 200 and hdrs["Content-Type"] == PB_TYPE
    assert raw[:5] == b"\x0a\x032.0"  # Document.swagger = "2.0"
    assert b"io.k8s.api.core.v1.PodSpec" in raw
    assert b"- group: apps\n  kind: Deployment\n  version: v1\n" in raw

    s, doc, hdrs = server.request("GET", "/openapi/v2", headers={"Accept": "application/json"})
    assert s == 200 and hdrs["Content-Type"].startswith("application/json")
    assert doc["swagger"] == "2.0"
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["spec"]["$ref"] == "#/definitions/io.k8s.api.core.v1.PodSpec"
    containers = doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Deployment"
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]

    # built once: the same bytes every time
    assert server.request("GET", "/openapi/v2", headers={"Accept": PB_ACCEPT})[1] == raw


def test_kubectl_127_apply(server, kubectl_factory):
    k = kubectl_factory(server, "1.27")
    for manifest, name in ((POD, "pod/web"), (DEPLOY, "deployment.apps/app"),
                           (CM, "configmap/settings")):
        assert name + " created" in k.run("apply", "-f", "-", input=manifest).stdout
    # second applies: strategic merge patches built from the v2 definitions
    assert "pod/web configured" in k.run(
        "apply", "-f", "-", input=POD.replace("nginx:1.25", "nginx:1.26")).stdout
    assert "deployment.apps/app configured" in k.run(
        "apply", "-f", "-", input=DEPLOY.replace("nginx:1.25", "nginx:1.26")).stdout
    assert "configmap/settings configured" in k.run(
        "apply", "-f", "-", input=CM.replace('"1"', '"2"')).stdout
    app = json.loads(k.run("-n", "default", "get", "deploy", "app", "-o", "json").stdout)
    c = app["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.26" and c["ports"][0]["containerPort"] == 80
    assert "deployment.apps/app unchanged" in k.run(
        "apply", "-f", "-", input=DEPLOY.replace("nginx:1.25", "nginx:1.26")).stdout
    cm = json.loads(k.run("-n", "default", "get", "cm", "settings", "-o", "json").stdout)
    assert cm["data"] == {"a": "2"}
    assert "configmap/other created" in k.run(
        "create", "-f", "-", input=CM.replace("settings", "other")).stdout


def test_kubectl_127_client_side_validation(server, kubectl_factory):
    k = kubectl_factory(server, "1.27")
    p = k.run("apply", "-f", "-", input=LIST_BAD, check=False)
    assert p.returncode != 0
    assert ('error validating data: ValidationError(Pod.spec): unknown field "foo" in '
            'io.k8s.api.core.v1.PodSpec') in p.stderr
    p = k.run("create", "-f", "-", input=LIST_BAD.replace("foo: 1", "hostname: h1"))
    assert "pod/bad created" in p.stdout
    # a plain object goes to the server with fieldValidation=Strict (v3 advertises it)
    bad = POD.replace("spec:\n", "spec:\n  foo: 1\n").replace("name: web", "name: other")
    p = k.run("apply", "-f", "-", input=bad, check=False)
    assert p.returncode != 0 and 'unknown field "spec.foo"' in p.stderr


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_explain(server, kubectl_factory, version):
    k = kubectl_factory(server, version)
    out = k.run("explain", "deployment.spec.replicas").stdout
    assert "KIND:" in out and "replicas" in out

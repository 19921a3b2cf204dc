"""One everyday kubectl workflow, run unmodified against each of kubectl 1.27, 1.29, 1.32 and
1.33 (1.32+ send protobuf bodies for typed creates, 1.27-1.29 take v2beta1 discovery)."""

import json
import time

import pytest

APP = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: wf
  labels: {app: app}
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
"""

POD = """
apiVersion: v1
kind: Pod
metadata:
  name: solo
  namespace: wf
  labels: {app: solo, tier: back}
spec:
  containers:
  - name: c
    image: busybox
"""


def wait_gone(k, *args, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if k.run("get", *args, check=False).returncode != 0:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("version", ["1.27", "1.29", "1.32", "1.33"])
def test_workflow(server, kubectl_factory, version):
    k = kubectl_factory(server, version)

    # typed creates (protobuf bodies on 1.32+)
    assert "namespace/wf created" in k.run("create", "namespace", "wf").stdout
    k.run("-n", "wf", "create", "configmap", "cm", "--from-literal=a=b")
    k.run("-n", "wf", "create", "secret", "generic", "s", "--from-literal=k=v")
    k.run("-n", "wf", "create", "deployment", "web", "--image=nginx:1.25")
    k.run("-n", "wf", "scale", "deployment", "web", "--replicas=3")
    web = json.loads(k.run("-n", "wf", "get", "deploy", "web", "-o", "json").stdout)
    assert web["spec"]["replicas"] == 3
    cm = json.loads(k.run("-n", "wf", "get", "cm", "cm", "-o", "json").stdout)
    assert cm["data"] == {"a": "b"}

    # client-side apply three times: create, change (ports kept), unchanged
    assert "deployment.apps/app created" in k.run("apply", "-f", "-", input=APP).stdout
    out = k.run("apply", "-f", "-", input=APP.replace("nginx:1.25", "nginx:1.26")).stdout
    assert "deployment.apps/app configured" in out
    app = json.loads(k.run("-n", "wf", "get", "deploy", "app", "-o", "json").stdout)
    c = app["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "nginx:1.26" and c["ports"][0]["containerPort"] == 80
    out = k.run("apply", "-f", "-", input=APP.replace("nginx:1.25", "nginx:1.26")).stdout
    assert "deployment.apps/app unchanged" in out

    # label, annotate, and every patch type
    k.run("-n", "wf", "label", "deploy", "app", "team=blue")
    k.run("-n", "wf", "annotate", "deploy", "app", "note=hi")
    k.run("-n", "wf", "patch", "deploy", "app", "-p",
          '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"A","value":"1"}]}]}}}}')
    k.run("-n", "wf", "patch", "deploy", "app", "--type", "merge", "-p",
          '{"metadata":{"labels":{"merged":"yes"}}}')
    k.run("-n", "wf", "patch", "deploy", "app", "--type", "json", "-p",
          '[{"op":"replace","path":"/spec/replicas","value":2}]')
    app = json.loads(k.run("-n", "wf", "get", "deploy", "app", "-o", "json").stdout)
    c = app["spec"]["template"]["spec"]["containers"][0]
    assert c["env"] == [{"name": "A", "value": "1"}] and c["ports"][0]["name"] == "http"
    assert app["metadata"]["labels"]["team"] == "blue"
    assert app["metadata"]["labels"]["merged"] == "yes"
    assert app["metadata"]["annotations"]["note"] == "hi"
    assert app["spec"]["replicas"] == 2

    # reading: wide, all namespaces, labels, sort
    k.run("create", "-f", "-", input=POD)
    wide = k.run("-n", "wf", "get", "pods", "-o", "wide").stdout
    assert "NOMINATED NODE" in wide and "solo" in wide
    every = k.run("get", "pods", "-A").stdout
    assert every.splitlines()[0].startswith("NAMESPACE") and "wf" in every
    assert "app=solo" in k.run("-n", "wf", "get", "pods", "--show-labels").stdout
    assert "TIER" in k.run("-n", "wf", "get", "pods", "-L", "tier").stdout
    names = k.run("-n", "wf", "get", "deploy", "--sort-by=.metadata.name", "-o", "name").stdout
    assert names.split() == ["deployment.apps/app", "deployment.apps/web"]
    assert "Name:" in k.run("-n", "wf", "describe", "pod", "solo").stdout
    assert "Replicas:" in k.run("-n", "wf", "describe", "deploy", "app").stdout

    # replace with a stale resourceVersion
    stale = json.loads(k.run("-n", "wf", "get", "cm", "cm", "-o", "json").stdout)
    k.run("-n", "wf", "label", "cm", "cm", "bump=1")
    stale["data"]["a"] = "c"
    p = k.run("replace", "-f", "-", input=json.dumps(stale), check=False)
    assert p.returncode != 0 and "Conflict" in p.stderr

    # server-side apply: a conflict with kubectl-label's field, then --force-conflicts
    ssa = APP.replace("labels: {app: app}\nspec:", "labels: {app: app, team: red}\nspec:", 1)
    p = k.run("apply", "--server-side", "-f", "-", input=ssa, check=False)
    assert p.returncode != 0 and "conflict" in p.stderr.lower()
    k.run("apply", "--server-side", "--force-conflicts", "-f", "-", input=ssa)
    app = json.loads(k.run("-n", "wf", "get", "deploy", "app", "-o", "json").stdout)
    assert app["metadata"]["labels"]["team"] == "red"

    # reviews and explain
    assert k.run("auth", "can-i", "create", "pods", "-n", "wf").stdout.strip() == "yes"
    assert "Username" in k.run("auth", "whoami").stdout
    assert "KIND:" in k.run("explain", "deployment.spec.replicas").stdout

    # garbage collection of a dependent
    rs = json.loads(k.run("-n", "wf", "get", "deploy", "web", "-o", "json").stdout)
    dep = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "owned", "namespace": "wf",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "web", "uid": rs["metadata"]["uid"]}]}}
    k.run("create", "-f", "-", input=json.dumps(dep))
    k.run("-n", "wf", "delete", "deploy", "web")
    assert wait_gone(k, "-n", "wf", "cm", "owned"), "dependent was not collected"

    # delete with and without --wait
    k.run("-n", "wf", "delete", "pod", "solo", "--wait=false")
    assert wait_gone(k, "-n", "wf", "pod", "solo")
    k.run("-n", "wf", "delete", "cm", "cm")

    # a namespace with content goes away with it
    k.run("delete", "namespace", "wf")
    assert wait_gone(k, "namespace", "wf")
    assert wait_gone(k, "-n", "wf", "deploy", "app")

"""Real kubectl (1.33 and 1.29) against kos: the everyday read/write/watch workflow."""

import json
import time

import pytest
import yaml

VERSIONS = ["1.33", "1.29"]

POD_YAML = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: front
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - containerPort: 80
    resources:
      limits:
        cpu: "1"
        memory: 200Mi
"""

OTHER_POD_YAML = """
apiVersion: v1
kind: Pod
metadata:
  name: db
  labels:
    app: db
spec:
  containers:
  - name: pg
    image: postgres:16
"""

DEPLOYMENT_YAML = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d1
spec:
  replicas: 2
  selector:
    matchLabels: {app: d1}
  template:
    metadata:
      labels: {app: d1}
    spec:
      containers:
      - name: c
        image: nginx
"""


@pytest.fixture(params=VERSIONS)
def kubectl(request, server, kubectl_factory):
    return kubectl_factory(server, request.param)


def test_version(kubectl):
    out = json.loads(kubectl.run("version", "-o", "json").stdout)
    assert out["serverVersion"]["major"] == "1"
    assert out["serverVersion"]["gitVersion"].startswith("v1.")


def test_api_resources(kubectl):
    out = kubectl.run("api-resources").stdout
    for name in ["pods", "namespaces", "nodes", "configmaps", "secrets", "serviceaccounts",
                 "services", "endpoints", "events", "persistentvolumes",
                 "persistentvolumeclaims", "deployments", "replicasets", "statefulsets",
                 "daemonsets", "jobs", "poddisruptionbudgets", "storageclasses",
                 "priorityclasses", "leases", "roles", "rolebindings", "clusterroles",
                 "clusterrolebindings"]:
        assert "\n" + name + " " in "\n" + out, name
    assert " po " in out and " deploy " in out


def test_namespaces_exist_from_start(kubectl):
    out = kubectl.run("get", "namespaces", "-o", "name").stdout.split()
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"]:
        assert "namespace/" + ns in out


def test_create_get_delete(kubectl):
    # default client-side validation fetches /openapi/v3
    out = kubectl.run("create", "-f", "-", input=POD_YAML).stdout
    assert "pod/web created" in out
    kubectl.run("create", "-f", "-", input=OTHER_POD_YAML)

    pod = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    assert pod["metadata"]["uid"]
    assert pod["metadata"]["resourceVersion"]
    assert pod["metadata"]["creationTimestamp"].endswith("Z")
    res = pod["spec"]["containers"][0]["resources"]
    assert res["requests"] == {"cpu": "1", "memory": "200Mi"}
    assert pod["status"]["qosClass"] == "Guaranteed"
    assert pod["spec"]["restartPolicy"] == "Always"

    as_yaml = yaml.safe_load(kubectl.run("get", "pod", "web", "-o", "yaml").stdout)
    assert as_yaml["metadata"]["name"] == "web"

    by_label = kubectl.run("get", "pods", "-l", "app=web", "-o", "name").stdout.split()
    assert by_label == ["pod/web"]
    by_set = kubectl.run("get", "pods", "-l", "app in (web,db),tier!=back", "-o",
                         "name").stdout.split()
    assert sorted(by_set) == ["pod/db", "pod/web"]
    by_field = kubectl.run("get", "pods", "--field-selector", "metadata.name=db", "-o",
                           "name").stdout.split()
    assert by_field == ["pod/db"]
    everywhere = kubectl.run("get", "pods", "-A", "-o", "name").stdout.split()
    assert sorted(everywhere) == ["pod/db", "pod/web"]

    out = kubectl.run("delete", "pod", "web").stdout
    assert 'pod "web" deleted' in out
    gone = kubectl.run("get", "pod", "web", check=False)
    assert gone.returncode != 0
    assert 'Error from server (NotFound): pods "web" not found' in gone.stderr


def test_errors(kubectl):
    missing = kubectl.run("get", "pod", "nope", check=False)
    assert missing.returncode == 1
    assert 'Error from server (NotFound): pods "nope" not found' in missing.stderr

    kubectl.run("create", "-f", "-", input=OTHER_POD_YAML)
    again = kubectl.run("create", "-f", "-", input=OTHER_POD_YAML, check=False)
    assert again.returncode == 1
    assert "(AlreadyExists)" in again.stderr and 'pods "db" already exists' in again.stderr

    bad = OTHER_POD_YAML.replace("name: db", "name: Bad_Name", 1)
    invalid = kubectl.run("create", "-f", "-", input=bad, check=False)
    assert invalid.returncode == 1
    assert 'The Pod "Bad_Name" is invalid' in invalid.stderr
    assert "metadata.name" in invalid.stderr

    no_containers = 'apiVersion: v1\nkind: Pod\nmetadata: {name: empty}\nspec: {containers: []}\n'
    invalid = kubectl.run("create", "-f", "-", input=no_containers, check=False)
    assert invalid.returncode == 1
    assert 'The Pod "empty" is invalid' in invalid.stderr
    assert "spec.containers: Required value" in invalid.stderr


def test_deployment_and_scale(kubectl):
    kubectl.run("create", "-f", "-", input=DEPLOYMENT_YAML)
    dep = json.loads(kubectl.run("get", "deploy", "d1", "-o", "json").stdout)
    assert dep["metadata"]["generation"] == 1
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"
    kubectl.run("scale", "deployment", "d1", "--replicas=5")
    dep = json.loads(kubectl.run("get", "deploy", "d1", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 5
    assert dep["metadata"]["generation"] == 2
    kubectl.run("label", "deployment", "d1", "team=blue")
    out = kubectl.run("get", "deploy", "-l", "team=blue", "-o", "name").stdout.split()
    assert out == ["deployment.apps/d1"]


class _LineReader:
    """Reads a process's stdout on a thread so waiting never misses buffered lines."""

    def __init__(self, proc):
        import queue
        import threading
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self.thread.start()

    def _run(self, proc):
        for line in proc.stdout:
            self.lines.put(line)

    def until(self, want, timeout=60):
        import queue
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline and not all(any(w in l for l in got) for w in want):
            try:
                got.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                pass
        return got


def test_watch_shows_added_modified_deleted(kubectl):
    kubectl.run("create", "-f", "-", input=OTHER_POD_YAML)
    proc = kubectl.popen("get", "pods", "-w", "--output-watch-events")
    reader = _LineReader(proc)
    try:
        # the initial list is printed first (as ADDED), then every change
        first = reader.until(["ADDED"])
        assert any(l.split()[:2] == ["ADDED", "db"] for l in first), first
        kubectl.run("label", "pod", "db", "watched=yes")
        kubectl.run("delete", "pod", "db", "--wait=false")
        rest = reader.until(["MODIFIED", "DELETED"])
        assert any(l.split()[:2] == ["MODIFIED", "db"] for l in rest), rest
        assert any(l.split()[:2] == ["DELETED", "db"] for l in rest), rest
    finally:
        proc.kill()
        proc.wait()

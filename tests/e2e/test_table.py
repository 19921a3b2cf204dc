"""meta.k8s.io Table output: what real kubectl (1.33 and 1.29) prints for `get`, `get -o wide`,
`-A`, `--show-labels`, `-L`, `--sort-by`, several kinds at once and `get -w`; and the raw
Table shapes (includeObject, v1beta1, watch events)."""

import json
import queue
import re
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from kos import wait_for

VERSIONS = ["1.33", "1.29"]
NS = "tbl"
TABLE_V1 = "application/json;as=Table;v=v1;g=meta.k8s.io"
KUBECTL_ACCEPT = (TABLE_V1 + ",application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                  "application/json")


def _rfc3339(delta_seconds):
    t = datetime.now(timezone.utc) - timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _create(server, path, body):
    status, obj, _ = server.request("POST", path, body)
    assert status == 201, (path, status, obj)
    return obj


def _set_status(server, path, status_body):
    # read-modify-write: a controller may change the object in between (the node IPAM
    # controller gives a new Node its podCIDR), so a conflict is retried as clients do
    for _ in range(10):
        status, obj, _ = server.request("GET", path)
        assert status == 200, obj
        obj["status"] = status_body
        status, obj, _ = server.request("PUT", path + "/status", obj)
        if status != 409:
            break
    assert status == 200, obj
    return obj


def _pod(name, labels, node=None):
    spec = {"containers": [{"name": "c", "image": "nginx"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels}, "spec": spec}


@pytest.fixture(scope="module")
def seeded(shared_server):
    s = shared_server
    _create(s, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": NS}})
    pods = "/api/v1/namespaces/%s/pods" % NS
    _create(s, pods, _pod("web", {"app": "web"}, node="node1"))
    _set_status(s, pods + "/web", {
        "phase": "Running", "podIP": "10.1.0.7", "podIPs": [{"ip": "10.1.0.7"}],
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "c", "image": "nginx", "imageID": "", "ready": True,
                               "restartCount": 0, "state": {"running": {
                                   "startedAt": _rfc3339(30)}}}]})
    _create(s, pods, _pod("db", {"app": "db"}))
    _create(s, pods, _pod("crash", {"app": "crash"}, node="node1"))
    _set_status(s, pods + "/crash", {
        "phase": "Running",
        "containerStatuses": [{
            "name": "c", "image": "nginx", "imageID": "", "ready": False, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                         "startedAt": _rfc3339(400),
                                         "finishedAt": _rfc3339(300)}}}]})
    _create(s, "/apis/apps/v1/namespaces/%s/deployments" % NS, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d1"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "d1"}},
                 "template": {"metadata": {"labels": {"app": "d1"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    _create(s, "/api/v1/namespaces/%s/services" % NS, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "websvc"},
        "spec": {"clusterIP": "10.43.0.10", "selector": {"app": "web"},
                 "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]}})
    _create(s, "/api/v1/namespaces/%s/configmaps" % NS, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
        "data": {"a": "1", "b": "2"}})
    _create(s, "/api/v1/namespaces/%s/events" % NS, {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "crash.1"},
        "involvedObject": {"kind": "Pod", "namespace": NS, "name": "crash"},
        "reason": "BackOff", "message": "Back-off restarting failed container", "type": "Warning",
        "source": {"component": "kubelet", "host": "node1"}, "count": 3,
        "firstTimestamp": _rfc3339(600), "lastTimestamp": _rfc3339(60)})
    _create(s, "/api/v1/nodes", {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node1",
                     "labels": {"node-role.kubernetes.io/control-plane": ""}}})
    _set_status(s, "/api/v1/nodes/node1", {
        "conditions": [{"type": "Ready", "status": "True"}],
        "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}],
        "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Debian GNU/Linux 12 (bookworm)",
                     "kernelVersion": "6.1.0", "containerRuntimeVersion": "runc://1.1.7",
                     "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": "",
                     "operatingSystem": "linux", "architecture": "amd64"}})

    # The scheduler finds node1 full (no allocatable) and marks db Unschedulable, in its own
    # time: wait for that, so that no test (a watch above all) sees the change happen.
    def db_judged():
        st, p, _ = s.request("GET", pods + "/db")
        return st == 200 and any(c["type"] == "PodScheduled"
                                 for c in p["status"].get("conditions") or [])
    wait_for(db_judged, what="the scheduler's verdict on db")
    return s


@pytest.fixture(params=VERSIONS)
def kubectl(request, seeded, kubectl_factory):
    return kubectl_factory(seeded, request.param)


class _LineReader:
    """Reads a process's stdout on a thread so that waiting never misses buffered lines."""

    def __init__(self, proc):
        self.lines = queue.Queue()
        threading.Thread(target=self._run, args=(proc,), daemon=True).start()

    def _run(self, proc):
        for line in proc.stdout:
            self.lines.put(line)

    def until(self, want, timeout=60):
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline and not all(any(w in l for l in got) for w in want):
            try:
                got.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                pass
        return got


AGE = r"\d+[smhdy]\w*"


def _rows(out):
    """kubectl's table output as lists of cells (columns are 2+ spaces apart)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]


def _by_name(rows, col=0):
    return {r[col]: r for r in rows[1:]}


def test_get_pods(kubectl):
    rows = _rows(kubectl.run("get", "pods", "-n", NS).stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    pods = _by_name(rows)
    assert pods["web"][1:3] == ["1/1", "Running"] and pods["web"][3] == "0"
    assert pods["db"][1:4] == ["0/1", "Pending", "0"]
    assert pods["crash"][1:3] == ["0/1", "CrashLoopBackOff"]
    assert re.fullmatch(r"4 \(\d+m(\d+s)? ago\)", pods["crash"][3]), pods["crash"]
    assert re.fullmatch(AGE, pods["web"][4]), pods["web"]


def test_get_pods_wide(kubectl):
    rows = _rows(kubectl.run("get", "pods", "-n", NS, "-o", "wide").stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                       "NOMINATED NODE", "READINESS GATES"]
    pods = _by_name(rows)
    assert pods["web"][5:] == ["10.1.0.7", "node1", "<none>", "<none>"]
    assert pods["db"][5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_get_pods_all_namespaces(kubectl):
    rows = _rows(kubectl.run("get", "pods", "-A").stdout)
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    pods = _by_name(rows, col=1)
    assert pods["web"][0] == NS and pods["db"][0] == NS


def test_labels_columns(kubectl):
    rows = _rows(kubectl.run("get", "pods", "-n", NS, "--show-labels").stdout)
    assert rows[0][-1] == "LABELS"
    assert _by_name(rows)["web"][-1] == "app=web"
    rows = _rows(kubectl.run("get", "pods", "-n", NS, "-L", "app").stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "APP"]
    assert _by_name(rows)["db"][-1] == "db"


def test_sort_by(kubectl):
    p = kubectl.run("get", "pods", "-n", NS, "--sort-by=.metadata.name", "-v=6")
    assert "includeObject=Object" in p.stderr
    rows = _rows(p.stdout)
    assert rows[0][0] == "NAME"
    assert [r[0] for r in rows[1:]] == ["crash", "db", "web"]


def test_several_kinds(kubectl):
    out = kubectl.run("get", "deploy,svc,cm", "-n", NS).stdout
    rows = _rows(out)
    headers = [r for r in rows if r[0] == "NAME"]
    assert headers == [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
                       ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
                       ["NAME", "DATA", "AGE"]]
    named = {r[0]: r for r in rows if r[0] != "NAME"}
    assert named["deployment.apps/d1"][1:4] == ["0/2", "0", "0"]
    assert named["service/websvc"][1:5] == ["ClusterIP", "10.43.0.10", "<none>",
                                            "80/TCP,443/TCP"]
    assert named["configmap/cfg"][1] == "2"
    rows = _rows(kubectl.run("get", "deploy", "-n", NS, "-o", "wide").stdout)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS",
                       "IMAGES", "SELECTOR"]
    assert rows[1][5:] == ["c", "nginx", "app=d1"]


def test_nodes_and_events(kubectl):
    rows = _rows(kubectl.run("get", "nodes").stdout)
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    node = _by_name(rows)["node1"]
    assert node[1:3] == ["Ready", "control-plane"] and node[4] == "v1.33.1"
    rows = _rows(kubectl.run("get", "nodes", "-o", "wide").stdout)
    assert rows[0][5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                           "CONTAINER-RUNTIME"]
    assert _by_name(rows)["node1"][5:] == ["192.168.1.10", "<none>",
                                           "Debian GNU/Linux 12 (bookworm)", "6.1.0",
                                           "runc://1.1.7"]
    rows = _rows(kubectl.run("get", "events", "-n", NS).stdout)
    assert rows[0] == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert rows[1][1:] == ["Warning", "BackOff", "pod/crash",
                           "Back-off restarting failed container"]
    assert re.fullmatch(AGE, rows[1][0]), rows[1]


def test_get_one_and_namespaces(kubectl):
    rows = _rows(kubectl.run("get", "pod", "web", "-n", NS).stdout)
    assert rows[0] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and rows[1][0] == "web"
    rows = _rows(kubectl.run("get", "ns", NS).stdout)
    assert rows[0] == ["NAME", "STATUS", "AGE"] and rows[1][:2] == [NS, "Active"]


def test_watch_prints_one_header(kubectl):
    ns = "tbl-watch-" + kubectl.version.replace(".", "-")
    _create(kubectl.server, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": ns}})
    pods = "/api/v1/namespaces/%s/pods" % ns
    _create(kubectl.server, pods, _pod("first", {"app": "w"}))
    proc = kubectl.popen("get", "pods", "-n", ns, "-w", "--output-watch-events")
    reader = _LineReader(proc)
    try:
        got = reader.until(["first"])
        _create(kubectl.server, pods, _pod("second", {"app": "w"}))
        got += reader.until(["second"])
        kubectl.run("label", "pod", "second", "-n", ns, "seen=yes")
        kubectl.run("delete", "pod", "second", "-n", ns, "--wait=false")
        got += reader.until(["MODIFIED", "DELETED"])
    finally:
        proc.kill()
        proc.wait()
    rows = _rows("".join(got))
    headers = [r for r in rows if "NAME" in r]
    assert headers == [["EVENT", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]], got
    events = [(r[0], r[1]) for r in rows if r[0] != "EVENT"]
    assert ("ADDED", "first") in events and ("ADDED", "second") in events, got
    assert ("MODIFIED", "second") in events and ("DELETED", "second") in events, got
    for r in rows[1:]:
        assert len(r) == 6 and r[2] == "0/1", got


def _get_table(server, path, accept=KUBECTL_ACCEPT):
    status, body, headers = server.request("GET", path, headers={"Accept": accept})
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    return body


def test_raw_table_shapes(seeded):
    s = seeded
    base = "/api/v1/namespaces/%s/pods" % NS
    t = _get_table(s, base)
    assert t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1"
    assert int(t["metadata"]["resourceVersion"]) > 0
    cols = t["columnDefinitions"]
    assert [c["name"] for c in cols] == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                         "Nominated Node", "Readiness Gates"]
    assert [c["priority"] for c in cols] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert cols[0]["format"] == "name" and all(c["description"] for c in cols)
    assert [r["cells"][0] for r in t["rows"]] == ["crash", "db", "web"]
    web = t["rows"][2]
    assert web["cells"][1:4] == ["1/1", "Running", "0"] and web["cells"][5:7] == ["10.1.0.7",
                                                                                  "node1"]
    obj = web["object"]
    assert obj["kind"] == "PartialObjectMetadata" and obj["apiVersion"] == "meta.k8s.io/v1"
    assert obj["metadata"]["name"] == "web" and obj["metadata"]["labels"] == {"app": "web"}
    assert obj["metadata"]["namespace"] == NS and obj["metadata"]["uid"]
    assert "spec" not in obj

    t = _get_table(s, base + "?includeObject=None")
    assert all("object" not in r for r in t["rows"])
    t = _get_table(s, base + "?includeObject=Object")
    full = t["rows"][2]["object"]
    assert full["kind"] == "Pod" and full["spec"]["nodeName"] == "node1"
    status, plain, _ = s.request("GET", base + "/web")
    assert full == plain

    status, err, _ = s.request("GET", base + "?includeObject=Everything",
                               headers={"Accept": KUBECTL_ACCEPT})
    assert status == 400 and err["reason"] == "BadRequest", err

    # one object; v1beta1 when only that is accepted
    t = _get_table(s, base + "/web", accept="application/json;g=meta.k8s.io;v=v1beta1;as=Table")
    assert t["apiVersion"] == "meta.k8s.io/v1beta1" and len(t["rows"]) == 1
    assert t["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"
    assert t["metadata"]["resourceVersion"] == plain["metadata"]["resourceVersion"]

    # selectors and paging
    t = _get_table(s, base + "?labelSelector=app%3Ddb")
    assert [r["cells"][0] for r in t["rows"]] == ["db"]
    t = _get_table(s, base + "?fieldSelector=metadata.name%3Dweb")
    assert [r["cells"][0] for r in t["rows"]] == ["web"]
    t = _get_table(s, base + "?limit=2")
    assert [r["cells"][0] for r in t["rows"]] == ["crash", "db"] and t["metadata"]["continue"]
    t2 = _get_table(s, base + "?limit=2&continue=" + urllib.parse.quote(t["metadata"]["continue"]))
    assert [r["cells"][0] for r in t2["rows"]] == ["web"] and "continue" not in t2["metadata"]
    t = _get_table(s, "/api/v1/namespaces/nothing-here/pods")
    assert t["rows"] == [] and len(t["columnDefinitions"]) == 9

    # other kinds: RBAC roles use the default convertor's Created At
    t = _get_table(s, "/apis/rbac.authorization.k8s.io/v1/clusterroles")
    assert [c["name"] for c in t["columnDefinitions"]] == ["Name", "Created At"]


def test_raw_plain_list_unchanged(seeded):
    """Without a Table Accept the List is the stored objects, as before."""
    status, lst, _ = seeded.request("GET", "/api/v1/namespaces/%s/pods" % NS)
    assert status == 200 and lst["kind"] == "PodList" and lst["apiVersion"] == "v1"
    assert [p["metadata"]["name"] for p in lst["items"]] == ["crash", "db", "web"]


def test_raw_watch_tables(seeded):
    s = seeded
    url = s.url + "/api/v1/namespaces/%s/pods?watch=true&timeoutSeconds=1" % NS
    req = urllib.request.Request(url, headers={"Accept": KUBECTL_ACCEPT})
    with s.urlopen(req, timeout=10) as r:
        events = [json.loads(line) for line in r.read().decode().splitlines() if line]
    assert [e["type"] for e in events] == ["ADDED"] * 3
    for i, e in enumerate(events):
        t = e["object"]
        assert t["kind"] == "Table" and len(t["rows"]) == 1
        assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
        # like kube-apiserver: the columns come with the first event only
        assert (t["columnDefinitions"] is not None) == (i == 0)
        assert t["metadata"]["resourceVersion"] == \
            t["rows"][0]["object"]["metadata"]["resourceVersion"]
    req = urllib.request.Request(url + "&includeObject=None&labelSelector=app%3Dweb",
                                 headers={"Accept": TABLE_V1})
    with s.urlopen(req, timeout=10) as r:
        events = [json.loads(line) for line in r.read().decode().splitlines() if line]
    assert len(events) == 1 and "object" not in events[0]["object"]["rows"][0]
    assert events[0]["object"]["rows"][0]["cells"][0] == "web"


def test_table_list_many(server):
    """A Table list of a few hundred pods: every row, in order, quickly."""
    n = 300
    pods = "/api/v1/namespaces/default/pods"
    for i in range(n):
        _create(server, pods, _pod("p%05d" % i, {"app": "bulk"}))
    start = time.time()
    t = _get_table(server, pods)
    took = time.time() - start
    assert [r["cells"][0] for r in t["rows"]] == ["p%05d" % i for i in range(n)]
    assert took < 2, took

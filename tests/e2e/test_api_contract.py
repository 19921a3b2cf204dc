"""The API contract of spec/kubectl-contract.md, tier 0 and the JSON parts of tier 1, over
raw HTTP: discovery, OpenAPI, lists with selectors and continue, watch semantics, create
options, updates, subresources and deletion."""

import json
import time
import urllib.request

from kos import wait_for

AGG_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGG_V2B1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def pod(name, labels=None, **spec):
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    body["spec"].update(spec)
    return body


def create(server, path, body, expect=201):
    status, obj, _ = server.request("POST", path, body)
    assert status == expect, (status, obj)
    return obj


def root_ca_published(server, ns="default"):
    """Waits for the root CA publisher's kube-root-ca.crt in ns: made asynchronously after the
    server (or namespace) starts, it would otherwise turn up as an extra ADDED in a watch of
    the namespace's configmaps whenever a loaded machine runs the publisher late."""
    wait_for(lambda: server.request("GET", "/api/v1/namespaces/%s/configmaps/kube-root-ca.crt"
                                    % ns)[0] == 200, what="kube-root-ca.crt in " + ns)


def watch_events(server, path, timeout=30):
    req = urllib.request.Request(server.url + path)
    events = []
    with server.urlopen(req, timeout=timeout) as r:
        for line in r:
            events.append(json.loads(line))
    return events


def test_version_and_health(server):
    for path in ["/version", "/version/"]:
        status, v, _ = server.request("GET", path)
        assert status == 200 and v["major"] == "1" and v["gitVersion"]
    for path in ["/healthz", "/livez", "/readyz"]:
        assert server.get_raw(path) == b"ok"


def test_discovery_negotiation(server):
    for accept, ct, api_version in [(AGG_V2 + "," + AGG_V2B1 + ",application/json", AGG_V2,
                                     "apidiscovery.k8s.io/v2"),
                                    (AGG_V2B1 + ",application/json", AGG_V2B1,
                                     "apidiscovery.k8s.io/v2beta1")]:
        status, doc, headers = server.request("GET", "/api", headers={"Accept": accept})
        assert status == 200 and headers["Content-Type"] == ct
        assert doc["apiVersion"] == api_version
        core = doc["items"][0]
        assert core["metadata"]["name"] == ""
        pods = [r for r in core["versions"][0]["resources"] if r["resource"] == "pods"][0]
        assert pods["shortNames"] == ["po"] and pods["categories"] == ["all"]
        subs = {s["subresource"] for s in pods["subresources"]}
        assert {"status", "binding"} <= subs
        status, doc, _ = server.request("GET", "/apis", headers={"Accept": accept})
        groups = {i["metadata"]["name"] for i in doc["items"]}
        assert {"apps", "batch", "policy", "storage.k8s.io", "scheduling.k8s.io",
                "coordination.k8s.io", "rbac.authorization.k8s.io"} <= groups

    status, doc, headers = server.request("GET", "/api")
    assert doc["kind"] == "APIVersions" and doc["versions"] == ["v1"]
    status, doc, _ = server.request("GET", "/apis")
    assert doc["kind"] == "APIGroupList"
    status, doc, _ = server.request("GET", "/apis/apps")
    assert doc["kind"] == "APIGroup" and doc["preferredVersion"]["groupVersion"] == "apps/v1"
    status, doc, _ = server.request("GET", "/apis/apps/v1")
    names = {r["name"] for r in doc["resources"]}
    assert {"deployments", "deployments/scale", "deployments/status"} <= names
    scale = [r for r in doc["resources"] if r["name"] == "deployments/scale"][0]
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    status, _, _ = server.request("GET", "/apis/nope.example.com/v1")
    assert status == 404


def test_openapi_v3(server):
    status, root, _ = server.request("GET", "/openapi/v3")
    assert status == 200 and "api/v1" in root["paths"] and "apis/apps/v1" in root["paths"]
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    status, doc, _ = server.request("GET", url)
    op = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert op["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert "fieldValidation" in [p["name"] for p in op["parameters"]]
    # kubectl 1.27 validates with /openapi/v2 (protobuf; JSON when only JSON is accepted)
    status, v2, _ = server.request("GET", "/openapi/v2")
    assert status == 200 and v2["swagger"] == "2.0"


def test_create_options(server):
    ns = "/api/v1/namespaces/default/pods"
    obj = create(server, ns, {"metadata": {"generateName": "gen-"},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
    name = obj["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5
    assert obj["apiVersion"] == "v1" and obj["kind"] == "Pod"   # inferred from the URL

    dry = create(server, ns + "?dryRun=All", pod("dry"))
    assert dry["metadata"]["name"] == "dry"
    status, _, _ = server.request("GET", ns + "/dry")
    assert status == 404

    ok = create(server, ns + "?fieldValidation=Ignore", pod("ignored", extra=1))
    assert ok["metadata"]["uid"]


def test_uid_timestamps_generation_and_conflicts(server):
    base = "/apis/apps/v1/namespaces/default/deployments"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"selector": {"matchLabels": {"app": "d"}},
                    "template": {"metadata": {"labels": {"app": "d"}},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    d = create(server, base, dep)
    assert d["metadata"]["generation"] == 1 and d["spec"]["replicas"] == 1
    rv1 = int(d["metadata"]["resourceVersion"])

    d["spec"]["replicas"] = 3
    status, d2, _ = server.request("PUT", base + "/d", d)
    assert status == 200 and d2["metadata"]["generation"] == 2
    assert int(d2["metadata"]["resourceVersion"]) > rv1
    assert d2["metadata"]["uid"] == d["metadata"]["uid"]
    assert d2["metadata"]["creationTimestamp"] == d["metadata"]["creationTimestamp"]

    status, err, _ = server.request("PUT", base + "/d", d)  # d still carries rv1
    assert status == 409 and err["reason"] == "Conflict"

    # a metadata-only change does not bump generation
    status, d3, _ = server.request("PATCH", base + "/d", {"metadata": {"labels": {"x": "y"}}},
                                   content_type="application/merge-patch+json")
    assert status == 200 and d3["metadata"]["generation"] == 2

    # an update that changes nothing is not a write
    status, d4, _ = server.request("PUT", base + "/d", d3)
    assert status == 200 and d4["metadata"]["resourceVersion"] == d3["metadata"]["resourceVersion"]

    # selector is immutable
    d4["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    d4["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    status, err, _ = server.request("PUT", base + "/d", d4)
    assert status == 422 and "field is immutable" in err["message"]


def test_list_selectors_and_pagination(server):
    path = "/api/v1/namespaces/default/pods"
    for i in range(12):
        create(server, path, pod("p%02d" % i, {"idx": str(i), "even": str(i % 2 == 0).lower()}))
    status, lst, _ = server.request("GET", path + "?labelSelector=even%3Dtrue")
    assert lst["kind"] == "PodList" and len(lst["items"]) == 6
    status, lst, _ = server.request("GET", path + "?labelSelector=idx+in+(1,2,3),even!=true")
    assert sorted(i["metadata"]["name"] for i in lst["items"]) == ["p01", "p03"]
    status, lst, _ = server.request("GET", path + "?labelSelector=!idx")
    assert lst["items"] == []
    status, lst, _ = server.request("GET", path + "?fieldSelector=metadata.name%3Dp05")
    assert [i["metadata"]["name"] for i in lst["items"]] == ["p05"]
    status, lst, _ = server.request("GET", "/api/v1/pods?fieldSelector=metadata.namespace%3Ddefault,"
                                    "status.phase%3DPending")
    assert len(lst["items"]) == 12

    names, token, pages = [], None, 0
    while True:
        q = path + "?limit=5" + ("&continue=" + token if token else "")
        status, lst, _ = server.request("GET", q)
        assert status == 200
        names += [i["metadata"]["name"] for i in lst["items"]]
        pages += 1
        token = lst["metadata"].get("continue")
        if not token:
            break
    assert names == ["p%02d" % i for i in range(12)] and pages == 3
    status, err, _ = server.request("GET", path + "?limit=5&continue=garbage!")
    assert status == 400 and err["reason"] == "BadRequest"


def test_watch_semantics(server):
    path = "/api/v1/namespaces/default/pods"
    first = create(server, path, pod("w1", {"app": "a"}))
    rv = first["metadata"]["resourceVersion"]

    # no resourceVersion: synthetic ADDED for what exists, then changes; timeoutSeconds ends it.
    # The changes are made only once the watch has delivered its synthetic ADDED (the watch is
    # registered): made earlier, a loaded machine could fold them into the initial state, or
    # leave them after the timeout.
    req = urllib.request.Request(server.url + path + "?watch=True&timeoutSeconds=10")
    with server.urlopen(req, timeout=60) as r:
        events = [json.loads(r.readline())]
        create(server, path, pod("w2", {"app": "b"}))
        server.request("PATCH", path + "/w1", {"metadata": {"labels": {"app": "b"}}},
                       content_type="application/merge-patch+json")
        server.request("DELETE", path + "/w2")
        events += [json.loads(line) for line in r]
    seen = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert seen == [("ADDED", "w1"), ("ADDED", "w2"), ("MODIFIED", "w1"), ("DELETED", "w2")]
    assert all(e["object"]["kind"] == "Pod" for e in events)

    # from a resourceVersion: only what came after it
    events = watch_events(server, path + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == \
        [("ADDED", "w2"), ("MODIFIED", "w1"), ("DELETED", "w2")]

    # with a label selector, an object that stops matching is DELETED for the watcher
    events = watch_events(server, path + "?watch=true&timeoutSeconds=1&resourceVersion=" + rv +
                          "&labelSelector=app%3Da")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "w1")]

    # field selector on metadata.name, as kubectl wait and delete use it
    events = watch_events(server, path + "?watch=true&timeoutSeconds=1&fieldSelector="
                          "metadata.name%3Dw1&allowWatchBookmarks=true&resourceVersion=" + rv)
    assert [e["type"] for e in events] == ["MODIFIED"]


def test_many_watchers_some_leave(server):
    """Plain watches are served by the watch fan-out over the connection's own TLS session:
    every stream gets every event once and in order, streams whose clients leave end without
    disturbing the others, and the server keeps serving."""
    path = "/api/v1/namespaces/default/configmaps"
    root_ca_published(server)
    rv = create(server, path, {"metadata": {"name": "fan-0"}})["metadata"]["resourceVersion"]
    n = 40
    streams = []
    for i in range(n):
        req = urllib.request.Request(server.url + path + "?watch=1&timeoutSeconds=20&"
                                     "resourceVersion=" + rv)
        streams.append(server.urlopen(req, timeout=30))
    try:
        for i in range(1, 11):
            server.request("PATCH", path + "/fan-0", {"data": {"n": str(i)}},
                           content_type="application/merge-patch+json")
        for r in streams:
            got = [json.loads(r.readline()) for _ in range(10)]
            assert [e["type"] for e in got] == ["MODIFIED"] * 10
            assert [e["object"]["data"]["n"] for e in got] == [str(i) for i in range(1, 11)]
        # half the clients leave; the rest still get what follows
        for r in streams[: n // 2]:
            r.close()
        for i in range(11, 16):
            server.request("PATCH", path + "/fan-0", {"data": {"n": str(i)}},
                           content_type="application/merge-patch+json")
        for r in streams[n // 2:]:
            got = [json.loads(r.readline()) for _ in range(5)]
            assert [e["object"]["data"]["n"] for e in got] == [str(i) for i in range(11, 16)]
        status, _, _ = server.request("GET", path + "/fan-0")
        assert status == 200
    finally:
        for r in streams:
            r.close()


def test_connection_reused_after_watch(server):
    """A watch that ends at timeoutSeconds hands its connection back whole: the body ends with
    the last chunk and the same TLS connection serves the next request (what client-go does
    after every watch)."""
    path = "/api/v1/namespaces/default/configmaps"
    rv = create(server, path, {"metadata": {"name": "reuse-0"}})["metadata"]["resourceVersion"]
    sock = server.tls_socket(timeout=20)
    try:
        def get(target):
            sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target).encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200"), head
            return head, body
        head, body = get(path + "?watch=1&timeoutSeconds=10&resourceVersion=" + rv)
        assert b"chunked" in head.lower()
        server.request("PATCH", path + "/reuse-0", {"data": {"a": "b"}},
                       content_type="application/merge-patch+json")
        while not body.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            assert chunk, body
            body += chunk
        assert b'"MODIFIED"' in body
        head, body = get(path + "/reuse-0")
        length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0]
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, body
            body += chunk
        assert json.loads(body)["metadata"]["name"] == "reuse-0"
    finally:
        sock.close()


def test_watch_too_old_is_410(server):
    s2 = server
    path = "/api/v1/namespaces/default/configmaps"
    # --watch-cache-size is 16 at the least; write more than that
    s2.stop()
    s2.extra_args = ["--watch-cache-size", "16"]
    s2.start()
    first = create(s2, path, {"metadata": {"name": "c0"}})
    for i in range(1, 40):
        create(s2, path, {"metadata": {"name": "c%d" % i}})
    events = watch_events(s2, path + "?watch=true&timeoutSeconds=2&resourceVersion=" +
                          first["metadata"]["resourceVersion"])
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    st = events[0]["object"]
    assert st["kind"] == "Status" and st["code"] == 410 and st["reason"] == "Expired"
    assert st["message"].startswith("too old resource version")


def test_status_binding_and_scale(server):
    path = "/api/v1/namespaces/default/pods"
    p = create(server, path, pod("b1"))
    assert p["status"]["phase"] == "Pending"

    # the main resource cannot change status
    p["status"]["phase"] = "Running"
    status, p2, _ = server.request("PUT", path + "/b1", p)
    assert status == 200 and p2["status"]["phase"] == "Pending"
    # the status subresource can, and only status
    p2["status"]["phase"] = "Running"
    p2["metadata"]["labels"] = {"sneaky": "yes"}
    status, p3, _ = server.request("PUT", path + "/b1/status", p2)
    assert status == 200 and p3["status"]["phase"] == "Running"
    assert "sneaky" not in (p3["metadata"].get("labels") or {})

    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b1"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node1"}}
    status, _, _ = server.request("POST", path + "/b1/binding", binding)
    assert status == 201
    status, p4, _ = server.request("GET", path + "/b1")
    assert p4["spec"]["nodeName"] == "node1"
    status, err, _ = server.request("POST", path + "/b1/binding", binding)
    assert status == 409

    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                   "template": {"metadata": {"labels": {"a": "b"}},
                                "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    create(server, "/apis/apps/v1/namespaces/default/replicasets", rs)
    spath = "/apis/apps/v1/namespaces/default/replicasets/rs/scale"
    status, sc, _ = server.request("GET", spath)
    assert sc["kind"] == "Scale" and sc["apiVersion"] == "autoscaling/v1"
    assert sc["spec"]["replicas"] == 1 and sc["status"]["selector"] == "a=b"
    status, sc, _ = server.request("PATCH", spath, {"spec": {"replicas": 4}},
                                   content_type="application/merge-patch+json")
    assert status == 200 and sc["spec"]["replicas"] == 4
    status, got, _ = server.request("GET", "/apis/apps/v1/namespaces/default/replicasets/rs")
    assert got["spec"]["replicas"] == 4


def test_delete_finalizers_collections_and_namespaces(server):
    create(server, "/api/v1/namespaces", {"metadata": {"name": "team"}})
    path = "/api/v1/namespaces/team/configmaps"
    create(server, path, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    status, obj, _ = server.request("DELETE", path + "/held")
    assert status in (200, 202) and obj["metadata"]["deletionTimestamp"]
    status, obj, _ = server.request("GET", path + "/held")
    assert status == 200
    status, _, _ = server.request("PATCH", path + "/held", {"metadata": {"finalizers": None}},
                                  content_type="application/merge-patch+json")
    assert status == 200
    status, _, _ = server.request("GET", path + "/held")
    assert status == 404

    for i in range(5):
        create(server, path, {"metadata": {"name": "cm%d" % i, "labels": {"g": str(i % 2)}}})
    status, lst, _ = server.request("DELETE", path + "?labelSelector=g%3D0")
    assert status == 200 and len(lst["items"]) == 3
    status, lst, _ = server.request("GET", path)
    # kube-root-ca.crt is the root CA publisher's, in every namespace
    assert sorted(i["metadata"]["name"] for i in lst["items"]
                  if i["metadata"]["name"] != "kube-root-ca.crt") == ["cm1", "cm3"]

    # deleting with a stale precondition fails
    status, err, _ = server.request("DELETE", path + "/cm1",
                                    {"preconditions": {"resourceVersion": "1"}})
    assert status == 409

    status, _, _ = server.request("DELETE", "/api/v1/namespaces/team")
    assert status == 200
    # the namespace controller removes the contents, then the namespace
    deadline = time.time() + 20
    while server.request("GET", path + "/cm1")[0] != 404 and time.time() < deadline:
        time.sleep(0.05)
    status, _, _ = server.request("GET", path + "/cm1")
    assert status == 404
    status, err, _ = server.request("DELETE", "/api/v1/namespaces/default")
    assert status == 403 and err["reason"] == "Forbidden"


def test_every_kind_round_trips(server):
    bodies = {
        "/api/v1/namespaces/default/secrets": {"metadata": {"name": "s"},
                                               "stringData": {"a": "b"}},
        "/api/v1/namespaces/default/serviceaccounts": {"metadata": {"name": "sa"}},
        "/api/v1/namespaces/default/services": {"metadata": {"name": "svc"},
                                                "spec": {"ports": [{"port": 80}]}},
        "/api/v1/namespaces/default/endpoints": {"metadata": {"name": "svc"}},
        "/api/v1/namespaces/default/events": {
            "metadata": {"name": "e1"},
            "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"},
            "reason": "Test", "message": "hello"},
        "/api/v1/nodes": {"metadata": {"name": "node1"}},
        "/api/v1/persistentvolumes": {
            "metadata": {"name": "pv1"},
            "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                     "hostPath": {"path": "/tmp/pv1"}}},
        "/api/v1/namespaces/default/persistentvolumeclaims": {
            "metadata": {"name": "pvc1"},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}},
        "/apis/apps/v1/namespaces/default/statefulsets": {
            "metadata": {"name": "ss"},
            "spec": {"serviceName": "svc", "selector": {"matchLabels": {"a": "s"}},
                     "template": {"metadata": {"labels": {"a": "s"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
        "/apis/apps/v1/namespaces/default/daemonsets": {
            "metadata": {"name": "ds"},
            "spec": {"selector": {"matchLabels": {"a": "d"}},
                     "template": {"metadata": {"labels": {"a": "d"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}},
        "/apis/batch/v1/namespaces/default/jobs": {
            "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                                           "containers": [{"name": "c", "image": "i"}]}}}},
        "/apis/policy/v1/namespaces/default/poddisruptionbudgets": {
            "metadata": {"name": "pdb"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}},
        "/apis/storage.k8s.io/v1/storageclasses": {"metadata": {"name": "sc"},
                                                   "provisioner": "openstack.org/cinder"},
        "/apis/scheduling.k8s.io/v1/priorityclasses": {"metadata": {"name": "high"},
                                                       "value": 1000},
        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases": {
            "metadata": {"name": "node1"}, "spec": {"holderIdentity": "node1"}},
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles": {
            "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings": {
            "metadata": {"name": "rb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "alice"}]},
        "/apis/rbac.authorization.k8s.io/v1/clusterroles": {
            "metadata": {"name": "cr"},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}]},
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": {
            "metadata": {"name": "crb"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "cr"},
            "subjects": [{"kind": "Group", "name": "devs"}]},
    }
    for path, body in bodies.items():
        obj = create(server, path, body)
        status, got, _ = server.request("GET", path + "/" + body["metadata"]["name"])
        if path == "/api/v1/nodes":
            # the node IPAM controller may have given the Node its podCIDR meanwhile
            for o in (obj, got):
                spec = o.pop("spec", {})
                spec.pop("podCIDR", None)
                spec.pop("podCIDRs", None)
                o["metadata"].pop("resourceVersion", None)
                if spec:
                    o["spec"] = spec
        assert status == 200 and got == obj, path
        status, lst, _ = server.request("GET", path)
        # cluster-scoped RBAC collections also hold the bootstrap policy, and every namespace
        # its ServiceAccount "default" (the service-accounts controller)
        names = [i["metadata"]["name"] for i in lst["items"]]
        assert lst["kind"].endswith("List") and names.count(body["metadata"]["name"]) == 1, path
        if path.endswith("/serviceaccounts"):
            names = [n for n in names if n != "default"]
        # and default the kubernetes Service with its Endpoints (and slice)
        if path.endswith(("/services", "/endpoints", "/endpointslices")):
            names = [n for n in names if n != "kubernetes"]
        if "/clusterrole" not in path:
            assert len(names) == 1, path
    status, s, _ = server.request("GET", "/api/v1/namespaces/default/secrets/s")
    assert s["type"] == "Opaque" and s["data"] == {"a": "Yg=="}


def test_large_list_without_limit(server):
    """A LIST of thousands of objects in one response (the Python client never pages)."""
    from concurrent.futures import ThreadPoolExecutor
    path = "/api/v1/namespaces/default/configmaps"

    def make(i):
        create(server, path, {"metadata": {"name": "many-%04d" % i}, "data": {"i": str(i)}})
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(2500)))
    status, lst, _ = server.request("GET", path)
    # besides the kube-root-ca.crt the root CA publisher keeps in every namespace
    items = [i for i in lst["items"] if i["metadata"]["name"] != "kube-root-ca.crt"]
    assert status == 200 and len(items) == 2500
    assert [i["metadata"]["name"] for i in items] == ["many-%04d" % i for i in range(2500)]
    assert server.get_raw("/readyz") == b"ok"

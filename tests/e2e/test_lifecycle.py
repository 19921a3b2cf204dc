"""Deletion lifecycles: garbage collection through ownerReferences (Background, Orphan,
Foreground), namespace termination, graceful pod deletion, and the events the controllers
write, driven by kubectl 1.33 and raw HTTP against a real kos server."""

import json
import time

import pytest

KUBECTL = "1.33"
DEADLINE = 20  # seconds; the polls below end as soon as the condition holds


def wait_until(cond, what, timeout=DEADLINE):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def kubectl(server, kubectl_factory):
    return kubectl_factory(server, KUBECTL)


def create(server, path, body):
    status, obj, _ = server.request("POST", path, body)
    assert status == 201, obj
    return obj


def get(server, path):
    status, obj, _ = server.request("GET", path)
    return obj if status == 200 else None


def gone(server, path):
    return lambda: server.request("GET", path)[0] == 404


RS_PATH = "/apis/apps/v1/namespaces/default/replicasets"
PODS = "/api/v1/namespaces/default/pods"


def replicaset(server, name="web"):
    return create(server, RS_PATH, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})


def owned_pod(server, name, owner, finalizers=None, block=True):
    meta = {"name": name, "labels": {"app": owner["metadata"]["name"]},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": owner["metadata"]["name"],
                                 "uid": owner["metadata"]["uid"], "controller": True,
                                 "blockOwnerDeletion": block}]}
    if finalizers:
        meta["finalizers"] = finalizers
    return create(server, PODS, {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                                 "spec": {"containers": [{"name": "c", "image": "busybox"}]}})


def pod(server, name, node=None, ns="default"):
    spec = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return create(server, "/api/v1/namespaces/%s/pods" % ns,
                  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec})


# ---------------------------------------------------------------- garbage collection


def test_background_deletes_dependents_and_records_events(server, kubectl):
    rs = replicaset(server)
    owned_pod(server, "web-1", rs)
    owned_pod(server, "web-2", rs)
    out = kubectl.run("delete", "rs", "web").stdout
    assert 'replicaset.apps "web" deleted' in out
    wait_until(gone(server, PODS + "/web-1"), "web-1 to be collected")
    wait_until(gone(server, PODS + "/web-2"), "web-2 to be collected")

    def gc_events():
        evs = json.loads(kubectl.run("get", "events", "-o", "json").stdout)["items"]
        return [e for e in evs
                if e.get("source", {}).get("component") == "garbage-collector-controller"]
    evs = wait_until(lambda: len(gc_events()) >= 2 and gc_events(), "the collector's events")
    assert {e["involvedObject"]["name"] for e in evs} >= {"web-1", "web-2"}
    assert all(e["reason"] == "GarbageCollected" and e["type"] == "Normal" for e in evs)
    assert all("ReplicaSet web" in e["message"] for e in evs)
    table = kubectl.run("get", "events", "-o",
                        "custom-columns=REASON:.reason,OBJECT:.involvedObject.name").stdout
    assert "GarbageCollected" in table and "web-1" in table


def test_orphan_keeps_dependents_without_owner_references(server, kubectl):
    rs = replicaset(server)
    owned_pod(server, "web-1", rs)
    owned_pod(server, "web-2", rs)
    kubectl.run("delete", "rs", "web", "--cascade=orphan")
    wait_until(gone(server, RS_PATH + "/web"), "the orphaning owner to go")
    for name in ("web-1", "web-2"):
        p = get(server, PODS + "/" + name)
        assert p is not None and "deletionTimestamp" not in p["metadata"]
        assert not p["metadata"].get("ownerReferences")
    # nothing collects them later either
    time.sleep(0.3)
    assert get(server, PODS + "/web-1") is not None


def test_foreground_waits_for_blocking_dependents(server, kubectl):
    rs = replicaset(server)
    hold = ["example.com/hold"]
    owned_pod(server, "web-1", rs, finalizers=hold)
    owned_pod(server, "web-2", rs, finalizers=hold)
    kubectl.run("delete", "rs", "web", "--cascade=foreground", "--wait=false")

    # the collector deletes the dependents; their finalizers keep them for now
    def marked():
        pods = [get(server, PODS + "/" + n) for n in ("web-1", "web-2")]
        return all(p and p["metadata"].get("deletionTimestamp") for p in pods)
    wait_until(marked, "the dependents to be deleted")
    owner = get(server, RS_PATH + "/web")
    assert owner is not None, "the owner must wait for its blocking dependents"
    assert owner["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in owner["metadata"]["finalizers"]

    kubectl.run("patch", "pod", "web-1", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    wait_until(gone(server, PODS + "/web-1"), "web-1 to go")
    assert get(server, RS_PATH + "/web") is not None  # web-2 still blocks
    kubectl.run("patch", "pod", "web-2", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    wait_until(gone(server, RS_PATH + "/web"), "the owner to go once its dependents are gone")


def test_foreground_with_kubectl_wait(server, kubectl):
    rs = replicaset(server)
    owned_pod(server, "web-1", rs)
    owned_pod(server, "web-2", rs, block=False)
    kubectl.run("delete", "rs", "web", "--cascade=foreground", "--timeout=60s", timeout=90)
    assert server.request("GET", RS_PATH + "/web")[0] == 404
    wait_until(gone(server, PODS + "/web-1"), "the blocking dependent")
    wait_until(gone(server, PODS + "/web-2"), "the non-blocking dependent")


def test_delete_options_raw(server):
    # orphanDependents (deprecated) in the body orphans like propagationPolicy=Orphan
    rs = replicaset(server, "a")
    owned_pod(server, "a-1", rs)
    status, obj, _ = server.request("DELETE", RS_PATH + "/a", {"orphanDependents": True})
    assert status == 200 and obj["metadata"]["finalizers"] == ["orphan"]
    wait_until(gone(server, RS_PATH + "/a"), "the orphaning owner")
    assert not get(server, PODS + "/a-1")["metadata"].get("ownerReferences")

    # the policy in the query (the Python client's way)
    rs = replicaset(server, "b")
    owned_pod(server, "b-1", rs)
    status, obj, _ = server.request("DELETE", RS_PATH + "/b?propagationPolicy=Foreground")
    assert status == 200 and "foregroundDeletion" in obj["metadata"]["finalizers"]
    wait_until(gone(server, RS_PATH + "/b"), "the foreground owner")
    assert server.request("GET", PODS + "/b-1")[0] == 404

    # without dependents there is nothing to wait for: gone at once
    replicaset(server, "c")
    status, _, _ = server.request("DELETE", RS_PATH + "/c", {"propagationPolicy": "Foreground"})
    assert status == 200
    assert server.request("GET", RS_PATH + "/c")[0] == 404

    # both at once is invalid
    replicaset(server, "d")
    status, err, _ = server.request("DELETE", RS_PATH + "/d", {
        "propagationPolicy": "Background", "orphanDependents": False})
    assert status == 422 and err["reason"] == "Invalid"
    assert "cannot be both set" in err["message"]

    # a dependent created for an owner that is already gone is collected too
    owned_pod(server, "late", {"metadata": {"name": "nobody", "uid": "0000-gone"}})
    wait_until(gone(server, PODS + "/late"), "the dependent of a missing owner")


# ---------------------------------------------------------------- namespaces


def test_namespace_termination(server, kubectl):
    kubectl.run("create", "namespace", "team")
    kubectl.run("-n", "team", "create", "configmap", "c1")
    kubectl.run("-n", "team", "run", "p1", "--image=busybox")
    create(server, "/api/v1/namespaces/team/configmaps",
           {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})

    out = kubectl.run("delete", "namespace", "team", "--wait=false").stdout
    assert 'namespace "team" deleted' in out
    ns = get(server, "/api/v1/namespaces/team")
    assert ns is not None and ns["status"]["phase"] == "Terminating"
    assert ns["metadata"]["deletionTimestamp"]
    assert ns["spec"]["finalizers"] == ["kubernetes"]

    # nothing new may enter it
    status, err, _ = server.request("POST", "/api/v1/namespaces/team/configmaps",
                                    {"metadata": {"name": "new"}})
    assert status == 403 and err["reason"] == "Forbidden", err
    assert ("unable to create new content in namespace team because it is being terminated"
            in err["message"])
    assert err["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    p = kubectl.run("-n", "team", "create", "configmap", "new2", check=False)
    assert p.returncode != 0 and "forbidden" in (p.stderr + p.stdout).lower()

    # a second DELETE answers with the terminating namespace
    status, again, _ = server.request("DELETE", "/api/v1/namespaces/team")
    assert status == 200 and again["status"]["phase"] == "Terminating"

    # the controller empties it; the held configmap keeps the namespace
    wait_until(gone(server, "/api/v1/namespaces/team/configmaps/c1"), "c1 to go")
    wait_until(gone(server, "/api/v1/namespaces/team/pods/p1"), "p1 to go")
    held = get(server, "/api/v1/namespaces/team/configmaps/held")
    assert held is not None and held["metadata"]["deletionTimestamp"]
    assert get(server, "/api/v1/namespaces/team")["status"]["phase"] == "Terminating"

    kubectl.run("-n", "team", "patch", "configmap", "held", "--type=merge",
                "-p", '{"metadata":{"finalizers":null}}')
    wait_until(gone(server, "/api/v1/namespaces/team"), "the namespace to go")
    listed = kubectl.run("get", "namespaces", "-o", "name").stdout.split()
    assert "namespace/team" not in listed

    # the name can be used again
    kubectl.run("create", "namespace", "team")
    assert get(server, "/api/v1/namespaces/team")["status"]["phase"] == "Active"


def test_kubectl_delete_namespace_waits_until_gone(server, kubectl):
    kubectl.run("create", "namespace", "quick")
    kubectl.run("-n", "quick", "create", "configmap", "c1")
    kubectl.run("-n", "quick", "create", "secret", "generic", "s1", "--from-literal=a=b")
    kubectl.run("delete", "namespace", "quick", "--timeout=60s", timeout=90)
    assert server.request("GET", "/api/v1/namespaces/quick")[0] == 404
    assert server.request("GET", "/api/v1/namespaces/default")[1]["status"]["phase"] == "Active"
    p = kubectl.run("delete", "namespace", "kube-system", check=False)
    assert p.returncode != 0 and "Forbidden" in p.stderr


# ---------------------------------------------------------------- graceful pod deletion


def test_graceful_pod_deletion(server, kubectl):
    pod(server, "bound", node="node-a")
    kubectl.run("delete", "pod", "bound", "--wait=false")
    p = get(server, PODS + "/bound")
    assert p is not None, "a pod on a node waits for its agent"
    assert p["metadata"]["deletionTimestamp"]
    assert p["metadata"]["deletionGracePeriodSeconds"] == 30
    first = p["metadata"]["deletionTimestamp"]

    # a longer grace period changes nothing, a shorter one brings the deadline forward
    status, p, _ = server.request("DELETE", PODS + "/bound", {"gracePeriodSeconds": 60})
    assert status == 200 and p["metadata"]["deletionGracePeriodSeconds"] == 30
    status, p, _ = server.request("DELETE", PODS + "/bound?gracePeriodSeconds=10")
    assert status == 200 and p["metadata"]["deletionGracePeriodSeconds"] == 10
    assert p["metadata"]["deletionTimestamp"] < first

    out = kubectl.run("delete", "pod", "bound", "--grace-period=0", "--force")
    assert 'pod "bound" force deleted' in out.stdout
    assert server.request("GET", PODS + "/bound")[0] == 404

    # the agent's confirmation: DELETE with gracePeriodSeconds=0
    pod(server, "confirmed", node="node-a")
    status, p, _ = server.request("DELETE", PODS + "/confirmed")
    assert status == 200 and p["metadata"]["deletionGracePeriodSeconds"] == 30
    status, _, _ = server.request("DELETE", PODS + "/confirmed", {"gracePeriodSeconds": 0})
    assert status == 200
    assert server.request("GET", PODS + "/confirmed")[0] == 404

    # never scheduled: removed at once, with or without kubectl's wait
    pod(server, "loose")
    kubectl.run("delete", "pod", "loose", "--wait=false")
    assert server.request("GET", PODS + "/loose")[0] == 404
    pod(server, "loose2")
    out = kubectl.run("delete", "pod", "loose2", timeout=30).stdout
    assert 'pod "loose2" deleted' in out
    assert server.request("GET", PODS + "/loose2")[0] == 404


def test_expired_pod_on_missing_node_is_removed(server, kubectl):
    pod(server, "stray", node="no-such-node")
    # kubectl waits (list + watch) until the pod is gone: the collector removes it once its
    # grace period is over, since no agent of a missing node will ever confirm it
    kubectl.run("delete", "pod", "stray", "--grace-period=1", "--timeout=60s", timeout=90)
    assert server.request("GET", PODS + "/stray")[0] == 404


# ---------------------------------------------------------------- events in describe


def test_describe_shows_events(server, kubectl):
    p = pod(server, "described")
    create(server, "/api/v1/namespaces/default/events", {
        "metadata": {"name": "described.17f0"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": "default",
                           "name": "described", "uid": p["metadata"]["uid"]},
        "reason": "Checked", "message": "looked at by the test", "type": "Warning",
        "source": {"component": "e2e"}, "count": 1,
        "firstTimestamp": p["metadata"]["creationTimestamp"],
        "lastTimestamp": p["metadata"]["creationTimestamp"]})
    out = kubectl.run("describe", "pod", "described").stdout
    assert "Events:" in out
    events = out.split("Events:", 1)[1]
    assert "Checked" in events and "looked at by the test" in events and "Warning" in events


# ---------------------------------------------------------------- --disable-controller-manager


def namespace_with_controllers_work(server, name):
    """Creates namespace name and an owned pod whose owner is gone: what the controllers would
    act on (its ServiceAccount and kube-root-ca.crt, and the garbage collector's delete)."""
    create(server, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": name}})
    owner = {"metadata": {"name": "gone", "uid": "00000000-0000-0000-0000-00000000dead"}}
    owned_pod(server, "orphan", owner)
    return ["/api/v1/namespaces/%s/serviceaccounts/default" % name,
            "/api/v1/namespaces/%s/configmaps/kube-root-ca.crt" % name]


def test_controllers_act_without_the_flag(server):
    made = namespace_with_controllers_work(server, "with-controllers")
    for path in made:
        wait_until(lambda: get(server, path), path)
    wait_until(gone(server, PODS + "/orphan"), "the orphan's garbage collection")


def test_disable_controller_manager():
    """k3s's flag: the API server (and the scheduler) run, the controllers do not."""
    from kos import KosServer
    s = KosServer(extra_args=["--disable-controller-manager"])
    try:
        s.start()
        made = namespace_with_controllers_work(s, "no-controllers")
        time.sleep(2.0)  # nothing may happen; a grace in which running controllers would act
        for path in made:
            assert get(s, path) is None, path
        assert get(s, PODS + "/orphan") is not None
        # the API still serves everything else, and the scheduler still runs
        s.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                                            "metadata": {"name": "n1"}})
        res = {"cpu": "4", "memory": "8Gi", "pods": "110"}
        status, _, _ = s.request("PATCH", "/api/v1/nodes/n1/status", {"status": {
            "capacity": res, "allocatable": res,
            "conditions": [{"type": "Ready", "status": "True"}]}},
            content_type="application/merge-patch+json")
        assert status == 200
        pod(s, "placed")
        wait_until(lambda: (get(s, PODS + "/placed") or {}).get("spec", {}).get("nodeName"),
                   "the pod bound")
    finally:
        s.cleanup()

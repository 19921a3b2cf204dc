"""The scheduler inside `kos server`, end to end: Node objects made through the API (capacity
and allocatable set with nodes/status, no agent), pods placed by their requests, the
FailedScheduling text, selectors / affinity / taints / cordon, priority admission, and
preemption with the test standing in for the node agent (it confirms the victims' deletion
with gracePeriodSeconds=0)."""

import time

import pytest

from kos import wait_for as wait_for_kos

NS = "default"
PODS = "/api/v1/namespaces/%s/pods" % NS


def wait_for(what, fn, timeout=60.0):
    """Polls fn until it returns something truthy; fails with `what` at the deadline."""
    return wait_for_kos(fn, timeout, what, 0.05)


def ok(resp, *codes):
    status, body, _ = resp
    assert status in (codes or (200, 201)), body
    return body


def make_node(server, name, cpu="4", memory="8Gi", pods="110", labels=None, taints=None):
    labels = dict(labels or {})
    labels.setdefault("kubernetes.io/hostname", name)
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints} if taints else {}}
    ok(server.request("POST", "/api/v1/nodes", node), 201)
    res = {"cpu": cpu, "memory": memory, "pods": pods}
    status = {"status": {"capacity": res, "allocatable": res,
                         "conditions": [{"type": "Ready", "status": "True",
                                         "reason": "KubeletReady",
                                         "message": "kubelet is posting ready status"}]}}
    ok(server.request("PATCH", "/api/v1/nodes/%s/status" % name, status,
                      content_type="application/merge-patch+json"), 200)


def make_pod(server, name, cpu="100m", memory="64Mi", expect=201, **spec):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": dict({"containers": [{"name": "c", "image": "busybox",
                                         "resources": {"requests": {"cpu": cpu,
                                                                    "memory": memory}}}]},
                        **spec)}
    status, body, _ = server.request("POST", PODS, pod)
    assert status == expect, body
    return body


def get_pod(server, name):
    status, body, _ = server.request("GET", PODS + "/" + name)
    return body if status == 200 else None


def node_of(server, name):
    return (get_pod(server, name) or {}).get("spec", {}).get("nodeName")


def wait_bound(server, name):
    return wait_for("pod %s bound" % name, lambda: node_of(server, name))


def condition(pod, ctype):
    for c in (pod or {}).get("status", {}).get("conditions", []):
        if c.get("type") == ctype:
            return c
    return None


def events(server, name, reason):
    body = ok(server.request(
        "GET", "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name=%s" % (NS, name)),
        200)
    return [e for e in body["items"] if e.get("reason") == reason]


def wait_unschedulable(server, name):
    """The PodScheduled=False condition and the FailedScheduling event; returns the text."""
    cond = wait_for("PodScheduled=False on %s" % name,
                    lambda: condition(get_pod(server, name), "PodScheduled"))
    assert cond["status"] == "False" and cond["reason"] == "Unschedulable", cond
    ev = wait_for("FailedScheduling event for %s" % name,
                  lambda: events(server, name, "FailedScheduling"))
    assert ev[0]["type"] == "Warning"
    assert ev[0]["source"]["component"] == "default-scheduler"
    assert ev[0]["message"] == cond["message"]
    assert node_of(server, name) is None
    return cond["message"]


def make_class(server, name, value, global_default=False, policy=None):
    pc = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
          "metadata": {"name": name}, "value": value, "globalDefault": global_default}
    if policy:
        pc["preemptionPolicy"] = policy
    ok(server.request("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", pc), 201)


def test_pods_land_where_they_fit(server, kubectl_factory):
    make_node(server, "n1", cpu="1")
    make_node(server, "n2", cpu="2")
    make_node(server, "n3", cpu="4")
    make_pod(server, "big", cpu="3")
    assert wait_bound(server, "big") == "n3"
    make_pod(server, "mid", cpu="1500m")
    assert wait_bound(server, "mid") == "n2"
    make_pod(server, "small", cpu="800m")
    assert wait_bound(server, "small") in ("n1", "n3")

    pod = get_pod(server, "big")
    assert condition(pod, "PodScheduled")["status"] == "True"
    ev = wait_for("Scheduled event", lambda: events(server, "big", "Scheduled"))
    assert ev[0]["message"] == "Successfully assigned default/big to n3"
    assert ev[0]["type"] == "Normal"
    assert ev[0]["source"]["component"] == "default-scheduler"

    out = kubectl_factory(server, "1.33").run("get", "pods", "-o", "wide").stdout
    lines = {ln.split()[0]: ln for ln in out.splitlines()[1:]}
    assert "NODE" in out.splitlines()[0]
    assert " n3 " in lines["big"] and " n2 " in lines["mid"]


def test_oversized_pod_stays_pending(server):
    for n in ("n1", "n2", "n3"):
        make_node(server, n, cpu="2")
    make_pod(server, "huge", cpu="8")
    msg = wait_unschedulable(server, "huge")
    # More than any node's allocatable: no eviction could help (kube ≥ 1.30 marks this
    # Insufficient as unresolvable, so preemption skips every node).
    assert msg == ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                   "available: 3 Preemption is not helpful for scheduling.")
    # A node that fits arrives: the pod is retried and lands there.
    make_node(server, "n4", cpu="16")
    assert wait_bound(server, "huge") == "n4"


def test_pod_count_and_memory(server):
    make_node(server, "tiny", cpu="8", memory="1Gi", pods="1")
    make_pod(server, "first", memory="512Mi")
    assert wait_bound(server, "first") == "tiny"
    make_pod(server, "second", memory="2Gi")
    msg = wait_unschedulable(server, "second")
    assert msg.startswith("0/1 nodes are available: 1 Insufficient memory, 1 Too many pods."), msg


def test_selectors_affinity_taints_cordon(server, kubectl_factory):
    make_node(server, "ssd", labels={"disk": "ssd"})
    make_node(server, "hdd", labels={"disk": "hdd"})
    make_node(server, "gpu", labels={"disk": "none"},
              taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])

    make_pod(server, "sel", nodeSelector={"disk": "ssd"})
    assert wait_bound(server, "sel") == "ssd"
    aff = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "disk", "operator": "In", "values": ["hdd"]}]}]}}}
    make_pod(server, "aff", affinity=aff)
    assert wait_bound(server, "aff") == "hdd"
    tol = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    make_pod(server, "tolerant", nodeSelector={"disk": "none"}, tolerations=tol)
    assert wait_bound(server, "tolerant") == "gpu"

    make_pod(server, "intolerant", nodeSelector={"disk": "none"})
    msg = wait_unschedulable(server, "intolerant")
    assert msg == ("0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
                   "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes "
                   "are available: 3 Preemption is not helpful for scheduling."), msg

    kubectl = kubectl_factory(server, "1.33")
    kubectl.run("cordon", "ssd")
    make_pod(server, "cordoned", nodeSelector={"disk": "ssd"})
    msg = wait_unschedulable(server, "cordoned")
    assert "1 node(s) were unschedulable" in msg, msg
    kubectl.run("uncordon", "ssd")
    assert wait_bound(server, "cordoned") == "ssd"


def test_priority_admission(server):
    make_class(server, "high", 1000)
    make_class(server, "polite", 500, policy="Never")
    pod = make_pod(server, "p-high", priorityClassName="high")
    assert pod["spec"]["priority"] == 1000
    assert pod["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    pod = make_pod(server, "p-polite", priorityClassName="polite")
    assert (pod["spec"]["priority"], pod["spec"]["preemptionPolicy"]) == (500, "Never")
    pod = make_pod(server, "p-node", priorityClassName="system-node-critical")
    assert pod["spec"]["priority"] == 2000001000
    pod = make_pod(server, "p-cluster", priorityClassName="system-cluster-critical")
    assert pod["spec"]["priority"] == 2000000000
    pod = make_pod(server, "p-none")
    assert pod["spec"]["priority"] == 0
    # Agreeing with the class is allowed; disagreeing is not.
    make_pod(server, "p-same", priorityClassName="high", priority=1000)

    err = make_pod(server, "p-unknown", expect=403, priorityClassName="foo")
    assert err["reason"] == "Forbidden"
    assert err["message"] == \
        'pods "p-unknown" is forbidden: no PriorityClass with name foo was found'
    err = make_pod(server, "p-wrong", expect=403, priorityClassName="high", priority=5)
    assert err["message"] == (
        'pods "p-wrong" is forbidden: the integer value of priority (5) must not be provided '
        "in pod spec; priority admission controller computed 1000 from the given "
        "PriorityClass name")

    make_class(server, "everyone", 42, global_default=True)
    pod = make_pod(server, "p-default")
    assert pod["spec"]["priority"] == 42
    assert pod["spec"]["priorityClassName"] == "everyone"


def test_preemption_evicts_cheapest_victims(server):
    make_class(server, "low", 10)
    make_class(server, "mid", 100)
    make_class(server, "top", 1000)
    make_node(server, "a", cpu="2")
    make_node(server, "b", cpu="2")
    # a: two mid pods; b: one low and one mid. One cpu must be freed for the new pod: on a
    # that costs a mid pod, on b only the low one, so b is chosen and only low-b goes.
    placed = {"mid-a1": "a", "mid-a2": "a", "low-b": "b", "mid-b": "b"}
    for name, node in placed.items():
        make_pod(server, name, cpu="1", priorityClassName=name.split("-")[0],
                 nodeSelector={"kubernetes.io/hostname": node})
    for name, node in placed.items():
        assert wait_bound(server, name) == node

    make_pod(server, "urgent", cpu="1", priorityClassName="top")
    wait_for("urgent nominated",
             lambda: (get_pod(server, "urgent") or {}).get("status", {})
             .get("nominatedNodeName") == "b")
    victim = wait_for("low-b terminating",
                      lambda: (get_pod(server, "low-b") or {})
                      .get("metadata", {}).get("deletionTimestamp") and get_pod(server, "low-b"))
    dt = condition(victim, "DisruptionTarget")
    assert dt and dt["status"] == "True" and dt["reason"] == "PreemptionByScheduler"
    assert dt["message"] == "default-scheduler: preempting to accommodate a higher priority pod"
    ev = wait_for("Preempted event", lambda: events(server, "low-b", "Preempted"))
    assert ev[0]["message"] == "Preempted by default/urgent on node b"
    for name in ("mid-a1", "mid-a2", "mid-b"):
        pod = get_pod(server, name)
        assert "deletionTimestamp" not in pod["metadata"], name
        assert condition(pod, "DisruptionTarget") is None, name
    # The victim still holds its cpu while it terminates: urgent waits.
    assert node_of(server, "urgent") is None

    # Stand in for the node agent: confirm the victim's termination.
    ok(server.request("DELETE", PODS + "/low-b", {"gracePeriodSeconds": 0}), 200)
    assert wait_bound(server, "urgent") == "b"


def test_preemption_policy_never_does_not_preempt(server):
    make_class(server, "low", 10)
    make_class(server, "polite", 1000, policy="Never")
    make_node(server, "a", cpu="1")
    make_pod(server, "occupant", cpu="1", priorityClassName="low")
    assert wait_bound(server, "occupant") == "a"
    make_pod(server, "waiter", cpu="1", priorityClassName="polite")
    msg = wait_unschedulable(server, "waiter")
    assert msg == ("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due "
                   "to preemptionPolicy=Never."), msg
    pod = get_pod(server, "occupant")
    assert "deletionTimestamp" not in pod["metadata"]
    assert not get_pod(server, "waiter")["status"].get("nominatedNodeName")


@pytest.mark.parametrize("flag", ["--disable-scheduler"])
def test_disable_scheduler(flag):
    from kos import KosServer
    s = KosServer(extra_args=[flag])
    try:
        s.start()
        make_node(s, "n1")
        make_pod(s, "idle")
        time.sleep(1.0)  # nothing may happen; a short grace to let a scheduler act if one ran
        pod = get_pod(s, "idle")
        assert not pod["spec"].get("nodeName")
        assert condition(pod, "PodScheduled") is None
    finally:
        s.cleanup()


def test_no_overcommit_under_load(server):
    """Many pods at once against a cluster that can hold only some: parallel bindings never
    put more on a node than its allocatable, and exactly the capacity gets bound."""
    for i in range(10):
        make_node(server, "cap-%d" % i, cpu="2")
    for i in range(60):
        make_pod(server, "load-%02d" % i, cpu="500m")

    def pods():
        return ok(server.request("GET", PODS), 200)["items"]

    # Settled once 40 are bound and every other one was found unfit for all 10 nodes: the
    # scheduler's node and pod informers are separate watches, so on a loaded machine it may
    # try pods before it knows every node, mark them against fewer, and bind them once the
    # rest arrive (a moment with 60 decided is not yet the end).
    def settled():
        items = pods()
        bound = [p for p in items if p["spec"].get("nodeName")]
        waiting = [p for p in items if not p["spec"].get("nodeName") and
                   (condition(p, "PodScheduled") or {}).get("status") == "False" and
                   condition(p, "PodScheduled").get("message", "").startswith("0/10 nodes")]
        return (bound, waiting) if len(bound) + len(waiting) == 60 and len(bound) >= 40 \
            else None

    bound, waiting = wait_for("all 60 pods decided", settled, timeout=60)
    assert len(bound) == 40 and len(waiting) == 20
    per_node = {}
    for p in bound:
        per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    assert all(n == 4 for n in per_node.values()) and len(per_node) == 10, per_node
    msg = condition(waiting[0], "PodScheduled")["message"]
    assert msg.startswith("0/10 nodes are available: 10 Insufficient cpu."), msg


def test_binding_replaces_unschedulable_condition(server):
    make_node(server, "small", cpu="1")
    make_pod(server, "grows", cpu="2")
    wait_unschedulable(server, "grows")
    make_node(server, "large", cpu="4")
    assert wait_bound(server, "grows") == "large"
    conds = [c for c in get_pod(server, "grows")["status"]["conditions"]
             if c["type"] == "PodScheduled"]
    assert [c["status"] for c in conds] == ["True"]


def test_binding_subresource_checks(server):
    """pods/binding as kube's BindingREST answers it: the Binding's uid is a precondition, a pod
    being deleted or already bound is refused (in that order), dry run writes nothing, and a
    binding keeps every other member of the pod. The pods name another scheduler, so that only
    the test binds them."""
    mine = {"schedulerName": "test-only-scheduler"}
    pod = make_pod(server, "bind-checks", **mine)
    uid = pod["metadata"]["uid"]
    path = PODS + "/bind-checks/binding"

    def binding(node, uid=None):
        meta = {"name": "bind-checks"}
        if uid is not None:
            meta["uid"] = uid
        return {"apiVersion": "v1", "kind": "Binding", "metadata": meta,
                "target": {"apiVersion": "v1", "kind": "Node", "name": node}}

    status, err, _ = server.request("POST", path, binding("n1", "not-the-uid"))
    assert status == 409, err
    assert err["reason"] == "Conflict"
    assert "Precondition failed: UID in precondition: not-the-uid, UID in object meta: " + uid \
        in err["message"], err
    status, err, _ = server.request("POST", path, binding(""))
    assert status == 422, err
    ok(server.request("POST", path + "?dryRun=All", binding("n1", uid)), 201)
    assert not get_pod(server, "bind-checks")["spec"].get("nodeName")

    before = get_pod(server, "bind-checks")
    status, reply, _ = server.request("POST", path, binding("n1", uid))
    assert status == 201, reply
    assert reply["kind"] == "Status" and reply["status"] == "Success"
    after = get_pod(server, "bind-checks")
    assert after["spec"]["nodeName"] == "n1"
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert [c["status"] for c in after["status"]["conditions"]
            if c["type"] == "PodScheduled"] == ["True"]
    del after["spec"]["nodeName"], before["metadata"]["resourceVersion"]
    del after["metadata"]["resourceVersion"]
    after["status"]["conditions"] = [c for c in after["status"]["conditions"]
                                     if c["type"] != "PodScheduled"]
    before["status"]["conditions"] = [c for c in before["status"].get("conditions", [])
                                      if c["type"] != "PodScheduled"]
    if not before["status"]["conditions"]:
        del before["status"]["conditions"]
    if not after["status"]["conditions"]:
        del after["status"]["conditions"]
    assert after == before

    status, err, _ = server.request("POST", path, binding("n2"))
    assert status == 409, err
    assert err["message"] == ('Operation cannot be fulfilled on pods/binding "bind-checks": pod '
                              'bind-checks is already assigned to node "n1"'), err

    gone = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "bind-deleting", "finalizers": ["example.com/hold"]},
            "spec": dict({"containers": [{"name": "c", "image": "busybox"}]}, **mine)}
    ok(server.request("POST", PODS, gone), 201)
    try:
        ok(server.request("DELETE", PODS + "/bind-deleting"), 200, 202)
        dpath = PODS + "/bind-deleting/binding"
        b = binding("n1")
        b["metadata"]["name"] = "bind-deleting"
        status, err, _ = server.request("POST", dpath, b)
        assert status == 409, err
        assert err["message"] == ('Operation cannot be fulfilled on pods/binding '
                                  '"bind-deleting": pod bind-deleting is being deleted, cannot '
                                  'be assigned to a host'), err
    finally:
        server.request("PATCH", PODS + "/bind-deleting", {"metadata": {"finalizers": None}},
                       content_type="application/merge-patch+json")
    ok(server.request("DELETE", PODS + "/bind-checks"), 200, 202)


def test_update_of_unschedulable_pod_retries_it(server):
    """kube's isPodUpdated: a toleration added to a pod that no node took makes the scheduler
    try it again at once. The pod is bound long before the 5-minute flush of unschedulable
    pods, with no node event to move it; that the scheduler's own status writes are not taken
    for a change is test_sched_queue.c's (it would only cost retries)."""
    taint = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
    make_node(server, "tainted", taints=[taint])
    make_pod(server, "waits")
    msg = wait_unschedulable(server, "waits")
    assert "untolerated taint" in msg, msg
    tol = [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"}]
    ok(server.request("PATCH", PODS + "/waits", {"spec": {"tolerations": tol}},
                      content_type="application/strategic-merge-patch+json"), 200)
    assert wait_for("pod waits bound", lambda: node_of(server, "waits"), timeout=30) == "tainted"

"""End-to-end: the node agent embedded in `kos server` (as root, real cgroups).

The Node registers Ready with nodeInfo and a renewed Lease; allocatable is capacity minus the
reservations on the command line (as `kubectl describe node` shows it); Guaranteed, Burstable
and BestEffort pods get their pod cgroups with the kubelet's values; a deleted pod's cgroup is
gone; pods that do not fit are rejected with OutOfcpu / OutOfmemory; the Python client reads
the Node. Every server runs under a cgroup root of its own, removed by the fixture."""

import os
import re
import struct
import uuid

import pytest

from kos import KosServer, cgroup_hierarchies, wait_for as wait_for_kos

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the node agent needs root")

RESERVED = ["--kube-reserved", "cpu=100m,memory=100Mi,ephemeral-storage=1Gi",
            "--system-reserved", "cpu=200m,memory=200Mi",
            "--eviction-hard", "memory.available<300Mi,nodefs.available<10%"]
NODE = "kos-test-node"
PAUSE = "registry.k8s.io/pause:3.9"
MI = 1024 * 1024


@pytest.fixture(scope="module")
def agent_server():
    s = KosServer(extra_args=["--node-name", NODE] + RESERVED, agent=True)
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def wait_for(fn, timeout=60, what="condition"):
    return wait_for_kos(fn, timeout, what, 0.1)


def get_node(s):
    st, body, _ = s.request("GET", "/api/v1/nodes/" + NODE)
    return body if st == 200 else None


def node_ready(s):
    n = get_node(s)
    if not n:
        return None
    for c in n.get("status", {}).get("conditions", []):
        if c["type"] == "Ready" and c["status"] == "True":
            return n
    return None


def mount_of(controller):
    for m in cgroup_hierarchies():
        if os.path.basename(m).split(",").count(controller):
            return m
    with open("/proc/self/mountinfo") as f:  # unified host: one tree
        for line in f:
            left, _, right = line.partition(" - ")
            if right.startswith("cgroup2 "):
                return left.split(" ")[4]
    raise AssertionError("no hierarchy for " + controller)


def unified():
    return not any(os.path.basename(m) == "cpu" or "cpu," in m for m in cgroup_hierarchies())


def read(path):
    with open(path) as f:
        return f.read().strip()


def float32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def quantity(s):
    """Node status quantities: "2", "1700m", "24684084Ki", "123456789"."""
    suffixes = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
    if s.endswith("m"):
        return int(s[:-1]) / 1000
    for k, v in suffixes.items():
        if s.endswith(k):
            return int(s[:-2]) * v
    return int(s)


def make_pod(s, name, resources, node=NODE):
    ns = "default"
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": PAUSE, "resources": resources}]}}
    st, got, _ = s.request("POST", "/api/v1/namespaces/%s/pods" % ns, body)
    assert st == 201, got
    return got


def get_pod(s, name):
    st, body, _ = s.request("GET", "/api/v1/namespaces/default/pods/" + name)
    return body if st == 200 else None


def pod_dir(s, controller, tier, uid):
    mid = "/kubepods" + (("/" + tier) if tier else "")
    return "%s%s%s/pod%s" % (mount_of(controller), s.cgroup_root, mid, uid)


def test_node_registers_ready_with_node_info_and_lease(agent_server):
    s = agent_server
    n = wait_for(lambda: node_ready(s), what="Node Ready")
    info = n["status"]["nodeInfo"]
    for k in ["machineID", "systemUUID", "bootID", "kernelVersion", "osImage",
              "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion",
              "operatingSystem", "architecture"]:
        assert k in info, k
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert info["bootID"] == f.read().strip()
    assert info["kernelVersion"] == os.uname().release
    assert info["operatingSystem"] == "linux"
    assert re.match(r"^(runc|crun)://\S+$", info["containerRuntimeVersion"])
    assert info["kubeletVersion"].startswith("v1.")
    types = {c["type"]: c for c in n["status"]["conditions"]}
    assert types["Ready"]["reason"] == "KubeletReady"
    assert types["Ready"]["message"] == "kubelet is posting ready status"
    assert types["MemoryPressure"]["reason"] == "KubeletHasSufficientMemory"
    assert types["DiskPressure"]["reason"] == "KubeletHasNoDiskPressure"
    assert types["PIDPressure"] == {**types["PIDPressure"], "status": "False",
                                    "reason": "KubeletHasSufficientPID",
                                    "message": "kubelet has sufficient PID available"}
    addrs = {a["type"]: a["address"] for a in n["status"]["addresses"]}
    assert "InternalIP" in addrs and "Hostname" in addrs
    assert n["metadata"]["labels"]["kubernetes.io/hostname"] == NODE
    assert n["metadata"]["labels"]["kubernetes.io/os"] == "linux"

    path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/" + NODE

    def lease():
        st, body, _ = s.request("GET", path)
        return body if st == 200 else None
    first = wait_for(lease, what="node Lease")
    assert first["spec"]["holderIdentity"] == NODE
    assert first["spec"]["leaseDurationSeconds"] == 40
    owner = first["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Node", NODE, n["metadata"]["uid"])
    renewed = wait_for(lambda: (lease() or {}).get("spec", {}).get("renewTime") !=
                       first["spec"]["renewTime"], timeout=60, what="lease renewal")
    assert renewed


def test_describe_node_shows_allocatable(agent_server, kubectl_factory):
    s = agent_server
    wait_for(lambda: node_ready(s), what="Node Ready")
    out = kubectl_factory(s, "1.33").run("describe", "node", NODE).stdout

    def section(title):
        m = re.search(r"^%s:\n((?:  .*\n)+)" % title, out, re.M)
        assert m, out
        return dict(line.split(":", 1) for line in m.group(1).strip().splitlines())
    cap = {k.strip(): quantity(v.strip()) for k, v in section("Capacity").items()}
    alloc = {k.strip(): quantity(v.strip()) for k, v in section("Allocatable").items()}
    assert alloc["cpu"] == pytest.approx(cap["cpu"] - 0.3)
    assert alloc["memory"] == cap["memory"] - (100 + 200 + 300) * MI
    eph = cap["ephemeral-storage"]
    assert alloc["ephemeral-storage"] == eph - (1 << 30) - int(eph * float32(0.10))
    assert cap["pods"] == alloc["pods"] == 110

    # enforce-node-allocatable=pods: kubepods is limited to capacity − kube − system reserved
    kp = mount_of("memory") + s.cgroup_root + "/kubepods"
    if not unified():
        assert int(read(kp + "/memory.limit_in_bytes")) == cap["memory"] - 300 * MI
        cpu_kp = mount_of("cpu") + s.cgroup_root + "/kubepods"
        assert int(read(cpu_kp + "/cpu.shares")) == int((cap["cpu"] * 1000 - 300) * 1024 // 1000)
        assert read(cpu_kp + "/besteffort/cpu.shares") == "2"


def test_qos_pod_cgroups_with_the_kubelets_values(agent_server):
    s = agent_server
    wait_for(lambda: node_ready(s), what="Node Ready")
    suffix = uuid.uuid4().hex[:6]
    g = make_pod(s, "guaranteed-" + suffix, {"limits": {"cpu": "1", "memory": "200Mi"}})
    b = make_pod(s, "burstable-" + suffix,
                 {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}})
    be = make_pod(s, "besteffort-" + suffix, {})
    assert g["status"]["qosClass"] == "Guaranteed"
    assert b["status"]["qosClass"] == "Burstable"
    assert be["status"]["qosClass"] == "BestEffort"
    try:
        gd = {c: pod_dir(s, c, None, g["metadata"]["uid"]) for c in ("cpu", "memory")}
        bd = {c: pod_dir(s, c, "burstable", b["metadata"]["uid"]) for c in ("cpu", "memory")}
        bed = {c: pod_dir(s, c, "besteffort", be["metadata"]["uid"]) for c in ("cpu", "memory")}
        for d in (gd, bd, bed):
            wait_for(lambda: os.path.isdir(d["cpu"]) and os.path.isdir(d["memory"]),
                     what="pod cgroup " + d["cpu"])
        if unified():
            assert read(gd["cpu"] + "/cpu.max") == "100000 100000"
            assert read(gd["cpu"] + "/cpu.weight") == "39"
            assert read(gd["memory"] + "/memory.max") == "209715200"
            assert read(bd["cpu"] + "/cpu.weight") == "10"
            assert read(bd["memory"] + "/memory.max") == str(128 * MI)
            assert read(bed["cpu"] + "/cpu.weight") == "1"
        else:
            # the seed example: kubectl run --limits cpu=1,memory=200Mi
            assert read(gd["cpu"] + "/cpu.shares") == "1024"
            assert read(gd["cpu"] + "/cpu.cfs_period_us") == "100000"
            assert read(gd["cpu"] + "/cpu.cfs_quota_us") == "100000"
            assert read(gd["memory"] + "/memory.limit_in_bytes") == "209715200"
            # Burstable: shares from the request, no quota without a cpu limit, memory limit
            assert read(bd["cpu"] + "/cpu.shares") == "256"
            assert read(bd["cpu"] + "/cpu.cfs_quota_us") == "-1"
            assert read(bd["memory"] + "/memory.limit_in_bytes") == str(128 * MI)
            # the burstable tier's shares follow the Burstable pods' cpu requests
            tier = mount_of("cpu") + s.cgroup_root + "/kubepods/burstable/cpu.shares"
            wait_for(lambda: read(tier) == "256", what="burstable tier shares")
            assert read(bed["cpu"] + "/cpu.shares") == "2"
            assert read(bed["cpu"] + "/cpu.cfs_quota_us") == "-1"
        # every hierarchy holds the pod cgroup (runc joins all of them)
        for m in cgroup_hierarchies():
            assert os.path.isdir(m + s.cgroup_root + "/kubepods/pod" + g["metadata"]["uid"]), m
    finally:
        for p in (g, b, be):
            s.request("DELETE", "/api/v1/namespaces/default/pods/" + p["metadata"]["name"])

    # deletion: the agent removes the pod cgroup and confirms, so the object goes away
    for p, d in ((g, gd), (b, bd), (be, bed)):
        wait_for(lambda: get_pod(s, p["metadata"]["name"]) is None, what="pod deleted")
        wait_for(lambda: not os.path.exists(d["cpu"]) and not os.path.exists(d["memory"]),
                 what="pod cgroup removed")
    for m in cgroup_hierarchies():
        assert not os.path.exists(m + s.cgroup_root + "/kubepods/pod" + g["metadata"]["uid"])


def test_pods_that_do_not_fit_are_rejected(agent_server):
    s = agent_server
    n = wait_for(lambda: node_ready(s), what="Node Ready")
    alloc_cpu_m = int(quantity(n["status"]["allocatable"]["cpu"]) * 1000)
    alloc_mem = quantity(n["status"]["allocatable"]["memory"])
    suffix = uuid.uuid4().hex[:6]
    cpu = make_pod(s, "toomuchcpu-" + suffix, {"requests": {"cpu": "1000"}})
    mem = make_pod(s, "toomuchmem-" + suffix, {"requests": {"memory": "100Ti"}})
    try:
        p = wait_for(lambda: (get_pod(s, cpu["metadata"]["name"])["status"].get("phase") ==
                              "Failed") and get_pod(s, cpu["metadata"]["name"]),
                     what="OutOfcpu")
        assert p["status"]["reason"] == "OutOfcpu"
        assert p["status"]["message"] == (
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, "
            "used: 0, capacity: %d" % alloc_cpu_m), p["status"]["message"]
        p = wait_for(lambda: (get_pod(s, mem["metadata"]["name"])["status"].get("phase") ==
                              "Failed") and get_pod(s, mem["metadata"]["name"]),
                     what="OutOfmemory")
        assert p["status"]["reason"] == "OutOfmemory"
        assert p["status"]["message"].startswith(
            "Pod was rejected: Node didn't have enough resource: memory, requested: %d, "
            % (100 << 40))
        assert p["status"]["message"].endswith("capacity: %d" % alloc_mem)
        # and a Warning event with the reason, as `kubectl describe pod` shows it

        def event():
            st, evs, _ = s.request("GET", "/api/v1/namespaces/default/events")
            for e in evs.get("items", []):
                if (e["involvedObject"].get("name") == cpu["metadata"]["name"] and
                        e["reason"] == "OutOfcpu"):
                    return e
            return None
        e = wait_for(event, what="OutOfcpu event")
        assert e["type"] == "Warning"
        assert e["message"].startswith("Node didn't have enough resource: cpu, requested: ")
        # a rejected pod never gets a cgroup
        for pod in (cpu, mem):
            for tier in ("burstable", "besteffort", None):
                assert not os.path.exists(pod_dir(s, "memory", tier, pod["metadata"]["uid"]))
    finally:
        for pod in (cpu, mem):
            s.request("DELETE", "/api/v1/namespaces/default/pods/" + pod["metadata"]["name"])


def test_python_client_reads_the_node(agent_server):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes import client, config
    s = agent_server
    wait_for(lambda: node_ready(s), what="Node Ready")
    api = config.new_client_from_config(config_file=s.kubeconfig)
    try:
        v1 = client.CoreV1Api(api)
        node = v1.read_node(NODE)
        assert node.status.node_info.operating_system == "linux"
        assert node.status.allocatable["pods"] == "110"
        assert any(c.type == "Ready" and c.status == "True" for c in node.status.conditions)
        names = [n.metadata.name for n in v1.list_node().items]
        assert NODE in names
        lease = client.CoordinationV1Api(api).read_namespaced_lease(NODE, "kube-node-lease")
        assert lease.spec.holder_identity == NODE
    finally:
        api.close()


def test_bad_agent_flags_are_refused():
    import subprocess
    from kos import KOS_BIN
    for args, text in [
            (["--kube-reserved", "gpu=1"], 'cannot reserve "gpu" resource'),
            (["--eviction-hard", "bogus<1"], "unsupported eviction signal bogus"),
            (["--max-pods", "-3"], "--max-pods"),
            (["--container-runtime", "docker"], "--container-runtime"),
            (["--cgroup-root", "relative"], "--cgroup-root"),
            (["--node-name", "Bad_Name"], "not a valid node name"),
            (["--node-ip", "10.0.0.300"], "not a valid IP address"),
            (["--system-reserved", "cpu=1000"], "has a reservation of")]:
        s = KosServer(extra_args=args, agent=True)
        try:
            p = subprocess.run([KOS_BIN, "server", "--data-dir", s.data_dir,
                                "--bind-address", "127.0.0.1", "--secure-port", "0"]
                               + s.agent_args() + args, capture_output=True, text=True,
                               timeout=30)
            assert p.returncode != 0, args
            assert text in p.stderr, (args, p.stderr)
        finally:
            s.cleanup()


def test_standalone_agent_joins_with_a_kubeconfig():
    """`kos agent --kubeconfig FILE` against a server that runs no agent of its own."""
    import signal
    import subprocess
    from kos import KOS_BIN, remove_cgroup_tree
    s = KosServer()  # --disable-agent
    root = "/kos-test-" + uuid.uuid4().hex[:12]
    proc = None
    try:
        s.start()
        log = open(os.path.join(s.dir, "agent.log"), "wb")
        proc = subprocess.Popen(
            [KOS_BIN, "agent", "--kubeconfig", s.kubeconfig, "--node-name", "standalone-node",
             "--cgroup-root", root, "--root-dir", os.path.join(s.dir, "agent"),
             "--pod-log-dir", os.path.join(s.dir, "pod-logs"), "--max-pods", "7",
             # no bridge and no nftables on the host's network; no kubelet endpoint on the
             # host's port 10250 (test_kubelet_endpoint.py covers it)
             "--network-plugin=none", "--proxy-mode", "none", "--port", "0"],
            stdout=log, stderr=log)
        log.close()

        def ready():
            st, n, _ = s.request("GET", "/api/v1/nodes/standalone-node")
            if st != 200:
                return None
            conds = {c["type"]: c["status"] for c in n["status"].get("conditions", [])}
            return n if conds.get("Ready") == "True" else None
        n = wait_for(ready, what="standalone node Ready")
        assert n["status"]["capacity"]["pods"] == "7"
        assert os.path.isdir(mount_of("memory") + root + "/kubepods/besteffort")
        # without --kubeconfig or --server it refuses to start
        p = subprocess.run([KOS_BIN, "agent"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and "--kubeconfig or --server is required" in p.stderr
        p = subprocess.run([KOS_BIN, "agent", "--kubeconfig", "/nonexistent"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "cannot read kubeconfig /nonexistent" in p.stderr
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        remove_cgroup_tree(root)
        s.cleanup()


def test_restart_keeps_live_pod_cgroups_and_removes_orphans():
    s = KosServer(extra_args=["--node-name", NODE], agent=True)
    try:
        s.start()
        wait_for(lambda: node_ready(s), what="Node Ready")
        p = make_pod(s, "keeper", {"limits": {"cpu": "100m", "memory": "50Mi"}})
        live = pod_dir(s, "memory", None, p["metadata"]["uid"])
        wait_for(lambda: os.path.isdir(live), what="pod cgroup")
        s.stop()
        # a pod deleted while the agent was down leaves its cgroup behind
        stray = [m + s.cgroup_root + "/kubepods/besteffort/pod0000-stray"
                 for m in cgroup_hierarchies()]
        for d in stray:
            os.mkdir(d)
        s.start()
        wait_for(lambda: not any(os.path.exists(d) for d in stray), what="orphan removed")
        assert os.path.isdir(live)
        assert read(live + "/memory.limit_in_bytes" if not unified() else
                    live + "/memory.max") == str(50 * MI)
    finally:
        s.cleanup()

"""Node-pressure eviction with real cgroups and real memory (issue 7): kos server's embedded
agent, --housekeeping-interval 1s and a short --eviction-pressure-transition-period. Pods hold
anonymous memory in busybox dd's blocks.

Two signals are exercised, each so that nothing outside the test can decide the outcome:
- allocatableMemory.available (the ranking and notification tests): --system-reserved leaves the
  kubepods cgroup a fixed KUBEPODS_MI, so the signal counts this test's pods alone, whatever
  the rest of the host does;
- memory.available (the first test): the host-wide signal, which other processes and the
  kernel's page-cache ageing move by hundreds of MiB. Its hog grows step by step until it is
  evicted (or a cap far below the threshold is reached), so no drift can keep it above."""
import json
import os
import shutil
import time
import uuid

import pytest

from kos import AgentEnv, wait_for
from memsignal import memory_available

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

MI = 1024 * 1024
NODE = "kos-evict-node"
TRANSITION = "12s"

# allocatableMemory.available: kubepods may hold KUBEPODS_MI; the signal's threshold is
# ALLOC_THRESHOLD_MI, so pods are evicted once together they hold more than 2,000 MiB. BIG
# alone stays 550 MiB short of that, BIG + SMALL goes 550 MiB past it and stays 450 MiB under
# the kubepods limit (no OOM kill decides first), and SMALL < BIG, so that usage alone would
# pick the other pod than the rule under test.
KUBEPODS_MI = 3000
ALLOC_THRESHOLD_MI = 1000
BIG_MI = 1450
SMALL_MI = 1100
ALLOC_HOG_MI = 2500

# memory.available: threshold = available when the server starts − MARGIN_MI; the growing hog
# adds GROW_STEP_MI at a time up to MARGIN_MI + GROW_EXTRA_MI (never within 1.5 GiB of what
# the host had available).
MARGIN_MI = 2000
GROW_STEP_MI = 256
GROW_EXTRA_MI = 4000


def mem_total_mi():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def hog(mib):
    """A shell whose dd processes hold `mib` MiB of anonymous memory (each its one block read
    from /dev/zero, at most 1 GiB: one read(2) returns less than 2 GiB; each then stuck
    writing into a pipe nobody reads), says so, and stays."""
    parts = []
    while mib > 0:
        n = min(mib, 1024)
        parts.append("(dd if=/dev/zero bs=%dM count=1 2>/dev/null | sleep 3600) &" % n)
        mib -= n
    return " ".join(parts) + " sleep 2; echo allocated; wait"


def growing_hog(step_mib, steps):
    """A shell that takes `step_mib` more MiB every half second, `steps` times, and stays."""
    return ("i=0; while [ $i -lt %d ]; do (dd if=/dev/zero bs=%dM count=1 2>/dev/null | "
            "sleep 3600) & i=$((i+1)); sleep 0.5; done; echo allocated; wait" % (steps, step_mib))


class Env:
    def __init__(self, ranking, housekeeping="1s", signal="allocatable"):
        self.housekeeping = housekeeping
        self.agent = AgentEnv(NODE)
        self.server = None
        self.kubectl = None
        self.ranking = ranking
        self.signal = signal

    def start(self):
        self.image = self.agent.start_registry().image
        if self.signal == "allocatable":
            self.threshold_mi = ALLOC_THRESHOLD_MI
            self.agent.extra_args += [
                "--system-reserved", "memory=%dMi" % (mem_total_mi() - KUBEPODS_MI),
                "--eviction-hard", "memory.available<1Mi,allocatableMemory.available<%dMi"
                % ALLOC_THRESHOLD_MI]
        else:
            self.avail_mi = memory_available() // MI
            self.threshold_mi = self.avail_mi - MARGIN_MI
            self.agent.extra_args += ["--eviction-hard", "memory.available<%dMi" % self.threshold_mi]
        self.agent.extra_args += [
            "--housekeeping-interval", self.housekeeping,
            "--eviction-pressure-transition-period", TRANSITION,
            "--eviction-ranking", self.ranking, "-v", "4"]
        self.server = self.agent.start_server().server
        self.kubectl = self.agent.kubectl
        for name, value in [("low", 100), ("high", 1000)]:
            st, obj, _ = self.server.request(
                "POST", "/apis/scheduling.k8s.io/v1/priorityclasses",
                {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                 "metadata": {"name": "evict-" + name}, "value": value})
            assert st == 201, obj
        return self

    def stop(self):
        self.agent.close()

    # ---- helpers ----

    def new_ns(self):
        ns = "ev-" + uuid.uuid4().hex[:8]
        self.kubectl.run("create", "namespace", ns)
        return ns

    def create_pod(self, ns, name, script, resources=None, priority_class=None):
        c = {"name": name, "image": self.image, "command": ["sh", "-c", script]}
        if resources:
            c["resources"] = resources
        spec = {"nodeName": NODE, "restartPolicy": "Never", "containers": [c],
                "terminationGracePeriodSeconds": 30}
        if priority_class:
            spec["priorityClassName"] = priority_class
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}
        st, obj, _ = self.server.request("POST", "/api/v1/namespaces/%s/pods" % ns, body)
        assert st == 201, obj
        return obj

    def pod(self, ns, name):
        st, obj, _ = self.server.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
        return obj if st == 200 else None

    def node(self):
        st, obj, _ = self.server.request("GET", "/api/v1/nodes/" + NODE)
        assert st == 200, obj
        return obj

    def condition(self, type_):
        for c in self.node()["status"].get("conditions", []):
            if c["type"] == type_:
                return c
        return None

    def taint_keys(self):
        return {t["key"] for t in self.node().get("spec", {}).get("taints", [])
                if t.get("effect") == "NoSchedule"}

    def log(self, ns, name):
        st, body, _ = self.server.request(
            "GET", "/api/v1/namespaces/%s/pods/%s/log" % (ns, name))
        return body.decode() if st == 200 and isinstance(body, bytes) else ""

    def wait(self, fn, timeout=90, what="condition"):
        return wait_for(fn, timeout, what, interval=0.25, diagnose=self.diagnosis)

    def diagnosis(self):
        """What a failed wait prints: the node's conditions, every pod's status, the log."""
        lines = []
        try:
            lines.append("node conditions: %s" % json.dumps(
                self.node()["status"].get("conditions", [])))
            st, body, _ = self.server.request("GET", "/api/v1/pods")
            for p in (body.get("items", []) if st == 200 else []):
                lines.append("pod %s/%s: %s" % (p["metadata"]["namespace"],
                                                p["metadata"]["name"], json.dumps(p["status"])))
        except Exception as e:  # the diagnosis must not hide the failure it explains
            lines.append("(diagnosis failed: %r)" % e)
        lines.append("server log:\n" + self.server.log())
        return "\n".join(lines)

    def phase(self, ns, name):
        p = self.pod(ns, name)
        return p and p.get("status", {}).get("phase")

    def wait_running(self, ns, name):
        self.wait(lambda: self.phase(ns, name) == "Running", what="%s Running" % name)

    def wait_allocated(self, ns, name):
        self.wait(lambda: "allocated" in self.log(ns, name), what="%s allocated" % name)

    def wait_no_pressure(self):
        self.wait(lambda: (self.condition("MemoryPressure") or {}).get("status") == "False",
                  timeout=120, what="MemoryPressure False")

    def events(self, ns, name):
        st, body, _ = self.server.request("GET", "/api/v1/namespaces/%s/events" % ns)
        assert st == 200
        return [e for e in body["items"] if e["involvedObject"].get("name") == name]


def running(env):
    """A fixture's body: the started env, stopped also when the test fails."""
    try:
        yield env.start()
    finally:
        env.stop()


@pytest.fixture
def host_env():
    yield from running(Env("default", signal="memory"))


@pytest.fixture
def default_env():
    yield from running(Env("default"))


def assert_evicted(env, ns, name):
    p = env.pod(ns, name)
    st = p["status"]
    assert st["phase"] == "Failed", st
    assert st["reason"] == "Evicted", st
    prefix = ("The node was low on resource: memory. Threshold quantity: %dMi, available: "
              % env.threshold_mi)
    assert st["message"].startswith(prefix), st["message"]
    assert ("Container %s was using " % name) in st["message"], st["message"]
    conds = {c["type"]: c for c in st.get("conditions", [])}
    dt = conds["DisruptionTarget"]
    assert dt["status"] == "True" and dt["reason"] == "TerminationByKubelet"
    assert dt["message"] == st["message"]
    assert conds["Ready"]["status"] == "False"
    evs = [e for e in env.events(ns, name) if e["reason"] == "Evicted"]
    assert evs and evs[0]["type"] == "Warning" and evs[0]["message"] == st["message"], evs
    # the kubelet's event annotations: the containers over their request and their usage
    ann = evs[0]["metadata"].get("annotations", {})
    assert ann.get("starved_resource") == "memory", evs[0]
    assert ann.get("offending_containers") == name, evs[0]
    usage = ann.get("offending_containers_usage", "")
    assert ("Container %s was using %s, request is " % (name, usage)) in st["message"], evs[0]
    return st["message"]


def test_besteffort_hog_is_evicted_and_pressure_comes_and_goes(host_env):
    env = host_env
    ns = env.new_ns()
    assert env.condition("MemoryPressure")["status"] == "False"
    env.create_pod(ns, "guaranteed", "sleep 3600",
                   resources={"requests": {"cpu": "100m", "memory": "64Mi"},
                              "limits": {"cpu": "100m", "memory": "64Mi"}})
    env.create_pod(ns, "idle", "sleep 3600")
    env.wait_running(ns, "guaranteed")
    env.wait_running(ns, "idle")

    # the hog alone grows until it takes the node below the threshold
    cap_mi = min(MARGIN_MI + GROW_EXTRA_MI, env.avail_mi - 1536)
    env.create_pod(ns, "hog", growing_hog(GROW_STEP_MI, cap_mi // GROW_STEP_MI))
    seen = {}

    def evicted():
        if (env.condition("MemoryPressure") or {}).get("status") == "True":
            seen["pressure"] = True
            seen.setdefault("taints", env.taint_keys())
        return env.phase(ns, "hog") == "Failed"

    env.wait(evicted, timeout=180, what="hog evicted")
    msg = assert_evicted(env, ns, "hog")
    assert msg.endswith(", request is 0, has larger consumption of memory. "), msg
    # MemoryPressure is on for at least the transition period after the eviction
    assert env.condition("MemoryPressure")["status"] == "True"
    assert env.condition("MemoryPressure")["reason"] == "KubeletHasInsufficientMemory"
    seen.setdefault("taints", env.taint_keys())
    assert "node.kubernetes.io/memory-pressure" in seen["taints"], seen
    # the others were never touched
    for name in ("guaranteed", "idle"):
        p = env.pod(ns, name)
        assert p["status"]["phase"] == "Running", p["status"]
        assert not [c for c in p["status"].get("conditions", [])
                    if c["type"] == "DisruptionTarget"]

    # a BestEffort pod is refused while the node reports MemoryPressure...
    if env.condition("MemoryPressure")["status"] == "True":
        env.create_pod(ns, "refused", "sleep 3600")
        env.wait(lambda: env.phase(ns, "refused") == "Failed", what="refused")
        p = env.pod(ns, "refused")["status"]
        assert p["reason"] == "Evicted"
        assert p["message"] == ("Pod was rejected: The node had condition: [MemoryPressure]. ")

    # ...and the condition and its taint go away after the transition period
    env.wait_no_pressure()
    assert env.condition("MemoryPressure")["reason"] == "KubeletHasSufficientMemory"
    env.wait(lambda: "node.kubernetes.io/memory-pressure" not in env.taint_keys(),
             what="taint removed")
    for name in ("guaranteed", "idle"):
        assert env.phase(ns, name) == "Running"


def test_lower_priority_above_requests_goes_first(default_env):
    env = default_env
    ns = env.new_ns()
    req = {"requests": {"memory": "16Mi"}}
    # the high-priority pod uses more; by usage alone it would go first
    env.create_pod(ns, "high", hog(BIG_MI), resources=req, priority_class="evict-high")
    env.wait_allocated(ns, "high")
    env.create_pod(ns, "low", hog(SMALL_MI), resources=req, priority_class="evict-low")
    env.wait(lambda: env.phase(ns, "low") == "Failed" or env.phase(ns, "high") == "Failed",
             timeout=180, what="an eviction")
    assert env.phase(ns, "low") == "Failed", env.pod(ns, "high")["status"]
    assert_evicted(env, ns, "low")
    # the node recovered with the low one gone: the high one stays
    time.sleep(3)
    assert env.phase(ns, "high") == "Running"


@pytest.fixture
def legacy_env():
    yield from running(Env("legacy"))


def test_legacy_ranking_orders_by_qos(legacy_env):
    env = legacy_env
    ns = env.new_ns()
    # the Burstable pod uses more memory above its request than the BestEffort one: the
    # default ranking would take it first, the legacy one takes BestEffort first
    env.create_pod(ns, "burstable", hog(BIG_MI), resources={"requests": {"memory": "16Mi"}})
    env.wait_allocated(ns, "burstable")
    env.create_pod(ns, "besteffort", hog(SMALL_MI))
    env.wait(lambda: env.phase(ns, "besteffort") == "Failed" or
             env.phase(ns, "burstable") == "Failed", timeout=180, what="an eviction")
    assert env.phase(ns, "besteffort") == "Failed", env.pod(ns, "burstable")["status"]
    assert_evicted(env, ns, "besteffort")
    time.sleep(3)
    assert env.phase(ns, "burstable") == "Running"


@pytest.fixture
def notify_env():
    yield from running(Env("default", housekeeping="10m"))


@pytest.mark.skipif(not os.path.exists("/sys/fs/cgroup/memory/cgroup.event_control"),
                    reason="memory threshold notifications need a cgroup v1 memory hierarchy")
def test_threshold_notification_acts_between_housekeeping_ticks(notify_env):
    """With a 10 minute housekeeping interval only the kubepods memory threshold eventfd can
    make the agent look in time: the hog is evicted within two minutes of running."""
    env = notify_env
    ns = env.new_ns()
    time.sleep(2)  # past the first round, which arms the notification
    env.create_pod(ns, "hog", hog(ALLOC_HOG_MI))
    env.wait_running(ns, "hog")
    env.wait(lambda: env.phase(ns, "hog") == "Failed", timeout=120, what="hog evicted")
    assert_evicted(env, ns, "hog")

"""Liveness, readiness and startup probes through `kos server` with its embedded node agent
(root, real runc, busybox pods): exec, httpGet and tcpSocket probes; readiness drives the
container's `ready` and the pod's Ready/ContainersReady conditions both ways; a failed
liveness probe restarts the container (restartCount, the kubelet's Unhealthy and Killing
events); a startup probe holds the other probes off until it passes; the API server's probe
defaults and its 422 for a liveness successThreshold other than 1.

The probes' outcomes are steered from the test through a hostPath directory (a file there
decides an exec probe, or what busybox httpd serves), never by waiting for a clock. Pods share
the host network until pod networking lands, so every httpd listens on a free port."""
import os
import shutil
import tempfile
import time
import uuid

import pytest

from kos import AgentEnv, wait_for as wait_for_kos
from netns import free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

NODE = "kos-probes-node"


@pytest.fixture(scope="module")
def env():
    # the pods' IP (the node's while pods share its network) is loopback: the test's own
    # servers bind 127.0.0.1 only
    with AgentEnv(NODE, ["--node-ip", "127.0.0.1"], drain_timeout=60) as e:
        yield {"server": e.server, "image": e.image, "kubectl": e.kubectl}


@pytest.fixture
def ctl():
    """The host directory a pod mounts at /ctl: the test's switchboard."""
    d = tempfile.mkdtemp(prefix="kos-probes-")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def wait_for(fn, timeout=120, what="condition"):
    return wait_for_kos(fn, timeout, what, 0.3)


def new_ns(env):
    ns = "pr-" + uuid.uuid4().hex[:8]
    env["kubectl"].run("create", "namespace", ns)
    return ns


def create_pod(env, ns, name, container, ctl, restart="Always", grace=1):
    container.setdefault("image", env["image"])
    container.setdefault("name", "main")
    container["volumeMounts"] = [{"name": "ctl", "mountPath": "/ctl"}]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": NODE, "restartPolicy": restart, "containers": [container],
                     "terminationGracePeriodSeconds": grace,
                     "volumes": [{"name": "ctl", "hostPath": {"path": ctl,
                                                              "type": "Directory"}}]}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 201, obj
    return obj


def get_pod(env, ns, name):
    st, obj, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    return obj if st == 200 else None


def status_of(env, ns, name):
    """(container status, {condition type: status}) of the pod's only container."""
    p = get_pod(env, ns, name) or {}
    cs = (p.get("status", {}).get("containerStatuses") or [{}])[0]
    conds = {c["type"]: c["status"] for c in p.get("status", {}).get("conditions", [])}
    return cs, conds


def readiness_is(env, ns, name, want):
    def check():
        cs, conds = status_of(env, ns, name)
        running = "running" in cs.get("state", {})
        if running and cs.get("ready") is want and \
                conds.get("Ready") == ("True" if want else "False") and \
                conds.get("ContainersReady") == conds.get("Ready"):
            return cs, conds
        return None
    return check


def events(env, ns):
    st, body, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/events")
    assert st == 200
    return body.get("items", [])


def event_with(env, ns, reason, message, fuzzy=False):
    def check():
        for e in events(env, ns):
            m = e.get("message", "")
            if e.get("reason") == reason and (m.startswith(message) if fuzzy else m == message):
                return e
        return None
    return check


def touch(path, data=""):
    with open(path, "w") as f:
        f.write(data)


def test_readiness_exec_follows_the_probe_both_ways(env, ctl):
    ns = new_ns(env)
    create_pod(env, ns, "ready", {
        "command": ["sleep", "3600"],
        "readinessProbe": {"exec": {"command": ["cat", "/ctl/ready"]}, "periodSeconds": 1,
                           "failureThreshold": 1}}, ctl)
    # readiness starts out failed: running but not Ready until the first success
    cs, conds = wait_for(readiness_is(env, ns, "ready", False), what="running, not ready")
    assert cs["started"] is True
    pod = get_pod(env, ns, "ready")
    ready = [c for c in pod["status"]["conditions"] if c["type"] == "Ready"][0]
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [main]"
    ev = wait_for(event_with(env, ns, "Unhealthy",
                             "Readiness probe failed: cat: can't open '/ctl/ready': "
                             "No such file or directory", fuzzy=True), what="Unhealthy event")
    assert ev["type"] == "Warning" and ev["source"]["component"] == "kubelet"
    assert ev["involvedObject"]["fieldPath"] == "spec.containers{main}"
    assert ev["involvedObject"]["kind"] == "Pod" and ev["involvedObject"]["name"] == "ready"

    out = env["kubectl"].run("get", "pod", "ready", "-n", ns, "--no-headers").stdout
    assert out.split()[1] == "0/1", out
    touch(os.path.join(ctl, "ready"), "ok\n")
    wait_for(readiness_is(env, ns, "ready", True), what="Ready")
    out = env["kubectl"].run("get", "pod", "ready", "-n", ns, "--no-headers").stdout
    assert out.split()[1] == "1/1", out
    os.unlink(os.path.join(ctl, "ready"))
    wait_for(readiness_is(env, ns, "ready", False), what="not Ready again")
    touch(os.path.join(ctl, "ready"))
    cs, _ = wait_for(readiness_is(env, ns, "ready", True), what="Ready again")
    # readiness never restarts anything
    assert cs["restartCount"] == 0


def test_readiness_http_get_status_codes(env, ctl):
    ns = new_ns(env)
    port = free_port()
    os.mkdir(os.path.join(ctl, "www"))
    create_pod(env, ns, "web", {
        "command": ["busybox", "httpd", "-f", "-p", str(port), "-h", "/ctl/www"],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": port,
                                       "httpHeaders": [{"name": "X-Probe", "value": "kos"}]},
                           "periodSeconds": 1, "failureThreshold": 1}}, ctl)
    wait_for(readiness_is(env, ns, "web", False), what="running, not ready")
    wait_for(event_with(env, ns, "Unhealthy",
                        "Readiness probe failed: HTTP probe failed with statuscode: 404"),
             what="404 event")
    touch(os.path.join(ctl, "www", "healthz"), "fine\n")
    wait_for(readiness_is(env, ns, "web", True), what="Ready")
    os.unlink(os.path.join(ctl, "www", "healthz"))
    wait_for(readiness_is(env, ns, "web", False), what="not Ready after a 404")


def test_liveness_tcp_failure_restarts_the_container(env, ctl):
    ns = new_ns(env)
    port = free_port()  # nothing listens there
    create_pod(env, ns, "alive", {
        "command": ["sleep", "3600"],
        "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1,
                          "failureThreshold": 2}}, ctl)

    def restarted():
        cs, _ = status_of(env, ns, "alive")
        return cs if cs.get("restartCount", 0) >= 1 and \
            cs.get("lastState", {}).get("terminated") else None
    cs = wait_for(restarted, what="a restart after the liveness probe failed")
    assert cs["lastState"]["terminated"]["reason"] == "Error"
    assert cs["lastState"]["terminated"]["exitCode"] in (137, 143)
    ip = get_pod(env, ns, "alive")["status"]["podIP"]
    wait_for(event_with(env, ns, "Unhealthy",
                        f"Liveness probe failed: dial tcp {ip}:{port}: connect: "
                        "connection refused"), what="Unhealthy event")
    ev = wait_for(event_with(env, ns, "Killing",
                             "Container main failed liveness probe, will be restarted"),
                  what="Killing event")
    assert ev["type"] == "Normal" and ev["involvedObject"]["fieldPath"] == "spec.containers{main}"


def test_liveness_exec_passes_while_the_command_succeeds(env, ctl):
    ns = new_ns(env)
    port = free_port()
    touch(os.path.join(ctl, "alive"))
    create_pod(env, ns, "steady", {
        "command": ["busybox", "httpd", "-f", "-p", str(port), "-h", "/ctl"],
        # a generous timeout: a slow `runc exec` on a loaded machine must not count as a failure
        "livenessProbe": {"exec": {"command": ["test", "-f", "/ctl/alive"]}, "periodSeconds": 1,
                          "failureThreshold": 1, "timeoutSeconds": 10},
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1}}, ctl)
    cs, _ = wait_for(readiness_is(env, ns, "steady", True), what="Ready through tcpSocket")
    first = cs["containerID"]
    time.sleep(3)  # several passing liveness probes: still the same container
    cs, _ = status_of(env, ns, "steady")
    assert cs["restartCount"] == 0 and cs["containerID"] == first
    os.unlink(os.path.join(ctl, "alive"))

    def restarted():
        c, _ = status_of(env, ns, "steady")
        return c if c.get("restartCount", 0) >= 1 else None
    wait_for(restarted, what="a restart")
    # an exec probe that fails without output: the kubelet's text ends after the colon
    wait_for(event_with(env, ns, "Unhealthy", "Liveness probe failed: "), what="Unhealthy")
    touch(os.path.join(ctl, "alive"))
    cs, _ = wait_for(readiness_is(env, ns, "steady", True), what="Ready after the restart")
    assert cs["containerID"] != first


def test_startup_probe_holds_the_others_off(env, ctl):
    ns = new_ns(env)
    create_pod(env, ns, "slow", {
        "command": ["sleep", "3600"],
        # would kill the container at once if it ran before the startup probe passed
        "livenessProbe": {"exec": {"command": ["test", "-f", "/ctl/healthy"]},
                          "periodSeconds": 1, "failureThreshold": 1, "timeoutSeconds": 10},
        "readinessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
        "startupProbe": {"exec": {"command": ["test", "-f", "/ctl/started"]},
                         "periodSeconds": 1, "failureThreshold": 1000}}, ctl)

    def held():
        cs, conds = status_of(env, ns, "slow")
        return cs if "running" in cs.get("state", {}) else None
    wait_for(held, what="running")
    wait_for(event_with(env, ns, "Unhealthy", "Startup probe failed", fuzzy=True),
             what="a failed startup probe")
    time.sleep(3)  # more failed startup probes, no liveness or readiness probe yet
    cs, conds = status_of(env, ns, "slow")
    assert cs["started"] is False and cs["ready"] is False and cs["restartCount"] == 0
    assert conds["Ready"] == "False"
    msgs = [e["message"] for e in events(env, ns) if e["reason"] == "Unhealthy"]
    assert msgs and all(m.startswith("Startup probe failed") for m in msgs), msgs

    touch(os.path.join(ctl, "healthy"))
    touch(os.path.join(ctl, "started"))
    cs, _ = wait_for(readiness_is(env, ns, "slow", True), what="started and ready")
    assert cs["started"] is True and cs["restartCount"] == 0

    # now liveness runs: failing it restarts, and the new container must start up again
    os.unlink(os.path.join(ctl, "healthy"))
    os.unlink(os.path.join(ctl, "started"))

    def restarted_unstarted():
        c, _ = status_of(env, ns, "slow")
        return c if c.get("restartCount", 0) >= 1 and "running" in c.get("state", {}) and \
            c.get("started") is False else None
    wait_for(restarted_unstarted, what="restarted, waiting for its startup probe")
    wait_for(event_with(env, ns, "Killing",
                        "Container main failed liveness probe, will be restarted"),
             what="Killing event")


def test_liveness_kill_uses_the_probe_grace_period(env, ctl):
    """`sleep` as the container's init ignores SIGTERM, so a kill lasts the whole grace period:
    the pod's hour would outlast the wait below; the probe's own 2 s must be what is used."""
    ns = new_ns(env)
    create_pod(env, ns, "stubborn", {
        "command": ["sleep", "3600"],
        "livenessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1,
                          "failureThreshold": 1, "terminationGracePeriodSeconds": 2}},
        ctl, grace=3600)

    def restarted():
        c, _ = status_of(env, ns, "stubborn")
        return c if c.get("restartCount", 0) >= 1 and \
            c.get("lastState", {}).get("terminated") else None
    cs = wait_for(restarted, what="a restart within the probe's grace period")
    assert cs["lastState"]["terminated"]["exitCode"] == 137  # SIGKILL after the grace period


def test_startup_probe_failure_restarts(env, ctl):
    ns = new_ns(env)
    create_pod(env, ns, "never-up", {
        "command": ["sleep", "3600"],
        "startupProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1,
                         "failureThreshold": 2}}, ctl, restart="OnFailure")
    wait_for(event_with(env, ns, "Killing",
                        "Container main failed startup probe, will be restarted"),
             what="Killing event")

    def restarted():
        c, _ = status_of(env, ns, "never-up")
        return c if c.get("restartCount", 0) >= 1 else None
    wait_for(restarted, what="a restart")


def test_probe_that_cannot_run_errors_and_keeps_the_pod_unready(env, ctl):
    """A named port the container does not have passes validation (any IANA name does) but
    cannot be probed: the kubelet's "errored" event, the result thrown away, readiness stays
    at its initial failure, nothing crashes or restarts."""
    ns = new_ns(env)
    create_pod(env, ns, "noport", {
        "command": ["sleep", "3600"],
        "readinessProbe": {"httpGet": {"path": "/", "port": "nope"}, "periodSeconds": 1}}, ctl)
    wait_for(event_with(env, ns, "Unhealthy",
                        "Readiness probe errored and resulted in unknown state: strconv.Atoi: "
                        'parsing "nope": invalid syntax'), what="errored event")
    cs, conds = status_of(env, ns, "noport")
    assert cs["ready"] is False and conds["Ready"] == "False" and cs["restartCount"] == 0


def test_exec_probe_timeout(env, ctl):
    ns = new_ns(env)
    create_pod(env, ns, "slowprobe", {
        "command": ["sleep", "3600"],
        "readinessProbe": {"exec": {"command": ["sleep", "30"]}, "periodSeconds": 2,
                           "timeoutSeconds": 1}}, ctl)
    wait_for(event_with(env, ns, "Unhealthy",
                        'Readiness probe failed: command "sleep 30" timed out'),
             what="timeout event")
    cs, _ = status_of(env, ns, "slowprobe")
    assert cs["ready"] is False


def test_readiness_grpc(env, ctl):
    """busybox has no gRPC server: the health server runs in the test, on the address the pod
    shares with the node (its podIP), standing in for one in the container."""
    from grpc_health import HealthServer
    ns = new_ns(env)
    port = free_port()
    hs = HealthServer(port, {"": "SERVING", "app": "NOT_SERVING"}).start()
    try:
        create_pod(env, ns, "rpc", {
            "command": ["sleep", "3600"],
            "readinessProbe": {"grpc": {"port": port, "service": "app"}, "periodSeconds": 1,
                               "failureThreshold": 1}}, ctl)
        wait_for(readiness_is(env, ns, "rpc", False), what="running, not ready")
        wait_for(event_with(env, ns, "Unhealthy",
                            'Readiness probe failed: service unhealthy (responded with '
                            '"NOT_SERVING")'), what="NOT_SERVING event")
        hs.statuses["app"] = "SERVING"
        wait_for(readiness_is(env, ns, "rpc", True), what="Ready")
        assert any(ua.startswith("kube-probe/1.33") for ua in hs.user_agents), hs.user_agents
        del hs.statuses["app"]
        wait_for(readiness_is(env, ns, "rpc", False), what="not Ready for an unknown service")
        wait_for(event_with(env, ns, "Unhealthy",
                            "Readiness probe failed: error: health rpc probe failed: rpc error: "
                            "code = NotFound desc = unknown service"), what="NotFound event")
    finally:
        hs.stop()


def test_api_defaults_and_validation(env):
    ns = new_ns(env)
    server = env["server"]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "namespace": ns},
            "spec": {"nodeName": "elsewhere", "containers": [{
                "name": "main", "image": env["image"],
                "livenessProbe": {"tcpSocket": {"port": 80}},
                "readinessProbe": {"httpGet": {"port": 80}}}]}}
    st, obj, _ = server.request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 201, obj
    c = obj["spec"]["containers"][0]
    for k in ("livenessProbe", "readinessProbe"):
        p = c[k]
        assert (p["timeoutSeconds"], p["periodSeconds"], p["successThreshold"],
                p["failureThreshold"]) == (1, 10, 1, 3)
    assert c["readinessProbe"]["httpGet"] == {"port": 80, "path": "/", "scheme": "HTTP"}

    body["metadata"]["name"] = "bad"
    body["spec"]["containers"][0]["livenessProbe"]["successThreshold"] = 2
    st, obj, _ = server.request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 422, obj
    assert obj["message"] == (
        'Pod "bad" is invalid: spec.containers[0].livenessProbe.successThreshold: '
        "Invalid value: 2: must be 1")
    body["spec"]["containers"][0]["livenessProbe"]["successThreshold"] = 1
    body["spec"]["containers"][0]["readinessProbe"]["terminationGracePeriodSeconds"] = 5
    st, obj, _ = server.request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 422, obj
    assert "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: " \
        "5: must not be set for readinessProbes" in obj["message"]

"""Whole pods through `kos server` with its embedded node agent (as root, real runc, real
cgroups, images from a local registry): output in `kubectl logs` (-f, --tail, --timestamps,
--previous, -c), exit codes and restarts, ConfigMap/Secret env and volumes, a bad command's
reason, deletion that leaves no processes or cgroups, and the Python client reading pods."""
import base64
import json
import os
import shutil
import time
import uuid

import pytest

from kos import AgentEnv, process_gone, processes, wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

NODE = "kos-runtime-node"



@pytest.fixture(scope="module")
def env():
    with AgentEnv(NODE) as e:
        yield {"server": e.server, "image": e.image, "kubectl": e.kubectl}


def new_ns(env):
    ns = "rt-" + uuid.uuid4().hex[:8]
    env["kubectl"].run("create", "namespace", ns)
    return ns


def create_pod(env, ns, name, containers, restart="Never", volumes=None, init=None, grace=2):
    for c in containers + (init or []):
        c.setdefault("image", env["image"])
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": NODE, "restartPolicy": restart, "containers": containers,
                     "terminationGracePeriodSeconds": grace}}
    if volumes:
        body["spec"]["volumes"] = volumes
    if init:
        body["spec"]["initContainers"] = init
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 201, obj
    return obj


def get_pod(env, ns, name):
    st, obj, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
    return obj if st == 200 else None


def phase_is(env, ns, name, *phases):
    def check():
        p = get_pod(env, ns, name)
        return p if p and p.get("status", {}).get("phase") in phases else None
    return check


def test_pod_output_in_kubectl_logs(env):
    ns = new_ns(env)
    k = env["kubectl"]
    create_pod(env, ns, "hello", [
        {"name": "main", "command": ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; "
                                     "echo oops >&2"]},
        {"name": "side", "command": ["sh", "-c", "echo from side"]}])
    pod = wait_for(phase_is(env, ns, "hello", "Succeeded", "Failed"), what="pod finished")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    cs = {c["name"]: c for c in pod["status"]["containerStatuses"]}
    assert cs["main"]["state"]["terminated"]["reason"] == "Completed"
    assert cs["main"]["imageID"] and cs["main"]["containerID"]
    out = k.run("logs", "-n", ns, "hello", "-c", "main").stdout
    assert out == "line 1\nline 2\nline 3\nline 4\nline 5\noops\n"
    assert k.run("logs", "-n", ns, "hello", "-c", "main", "--tail", "2").stdout == \
        "line 5\noops\n"
    ts = k.run("logs", "-n", ns, "hello", "-c", "side", "--timestamps").stdout
    stamp, text = ts.rstrip("\n").split(" ", 1)
    assert text == "from side" and stamp.endswith("Z") and "T" in stamp
    # kubectl picks the first container itself; the API wants a name when there are two
    assert "Defaulted container" in k.run("logs", "-n", ns, "hello").stderr
    st, body, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/hello/log")
    assert st == 400 and body["message"] == (
        "a container name must be specified for pod hello, choose one of: [main side]")
    p = k.run("logs", "-n", ns, "hello", "-c", "nope", check=False)
    assert p.returncode != 0 and "container nope is not valid for pod hello" in p.stderr


def test_logs_follow_ends_with_the_container(env):
    ns = new_ns(env)
    create_pod(env, ns, "slow", [{"name": "main", "command": [
        "sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 1; done"]}])
    wait_for(phase_is(env, ns, "slow", "Running", "Succeeded"), what="running")
    p = env["kubectl"].run("logs", "-n", ns, "slow", "-f", timeout=60)
    assert p.stdout == "tick 1\ntick 2\ntick 3\n"


def test_restarts_previous_logs_and_exit_codes(env):
    ns = new_ns(env)
    k = env["kubectl"]
    create_pod(env, ns, "crash", [{"name": "main", "command": [
        "sh", "-c", "echo attempt; exit 7"]}], restart="OnFailure")

    def restarted():
        p = get_pod(env, ns, "crash")
        cs = (p or {}).get("status", {}).get("containerStatuses") or [{}]
        return p if cs[0].get("restartCount", 0) >= 1 and \
            cs[0].get("lastState", {}).get("terminated") else None
    pod = wait_for(restarted, what="a restart")
    c = pod["status"]["containerStatuses"][0]
    assert c["lastState"]["terminated"]["exitCode"] == 7
    assert c["lastState"]["terminated"]["reason"] == "Error"
    assert pod["status"]["phase"] == "Running"
    assert k.run("logs", "-n", ns, "crash", "--previous").stdout == "attempt\n"

    def backoff():
        p = get_pod(env, ns, "crash")
        w = p["status"]["containerStatuses"][0]["state"].get("waiting", {})
        return w if w.get("reason") == "CrashLoopBackOff" else None
    w = wait_for(backoff, what="CrashLoopBackOff")
    assert w["message"].startswith("back-off 10s restarting failed container=main pod=crash_")

    create_pod(env, ns, "never", [{"name": "main", "command": ["sh", "-c", "exit 3"]}])
    pod = wait_for(phase_is(env, ns, "never", "Failed"), what="Failed")
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_configmap_secret_env_and_volumes(env):
    ns = new_ns(env)
    k = env["kubectl"]
    k.run("create", "configmap", "cfg", "-n", ns, "--from-literal=color=blue",
          "--from-literal=size=xl")
    k.run("create", "secret", "generic", "sec", "-n", ns, "--from-literal=password=s3cr3t")
    create_pod(env, ns, "cfgpod", [{
        "name": "main",
        # the sleep lets the agent sync the running pod again first (volumes rewritten)
        "command": ["sh", "-c", "sleep 2; echo $COLOR $PASS $CFG_size; cat /cfg/color; echo; "
                                "cat /sec/password; echo; cat /info/ns"],
        "env": [{"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg",
                                                                    "key": "color"}}},
                {"name": "PASS", "valueFrom": {"secretKeyRef": {"name": "sec",
                                                                "key": "password"}}}],
        "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
        "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"},
                         {"name": "sec", "mountPath": "/sec", "readOnly": True},
                         {"name": "info", "mountPath": "/info"}]}],
        volumes=[{"name": "cfg", "configMap": {"name": "cfg"}},
                 {"name": "sec", "secret": {"secretName": "sec"}},
                 {"name": "info", "downwardAPI": {"items": [
                     {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}])
    wait_for(phase_is(env, ns, "cfgpod", "Succeeded", "Failed"), what="finished")
    out = k.run("logs", "-n", ns, "cfgpod").stdout
    assert out == f"blue s3cr3t xl\nblue\ns3cr3t\n{ns}\n"

    # a missing ConfigMap: the kubelet's reason, and the pod waits
    create_pod(env, ns, "missing", [{"name": "main", "command": ["true"], "env": [
        {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]}])

    def waiting():
        p = get_pod(env, ns, "missing")
        cs = (p or {}).get("status", {}).get("containerStatuses") or [{}]
        return cs[0].get("state", {}).get("waiting")
    w = wait_for(waiting, what="waiting")
    assert w["reason"] == "CreateContainerConfigError"
    assert w["message"] == 'configmap "nope" not found'


def test_bad_command_reason_and_node_keeps_serving(env):
    ns = new_ns(env)
    create_pod(env, ns, "bad", [{"name": "main", "command": ["/no/such/binary"]}])
    pod = wait_for(phase_is(env, ns, "bad", "Failed"), what="Failed")
    t = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert t["reason"] == "StartError" and t["exitCode"] == 128 and t["message"]
    create_pod(env, ns, "good", [{"name": "main", "command": ["true"]}])
    wait_for(phase_is(env, ns, "good", "Succeeded"), what="good pod")


def container_pids(server, uid):
    state = os.path.join(server.data_dir, "agent", "containers")
    pids = []
    for cid in os.listdir(state):
        if cid.startswith(uid):
            try:
                with open(os.path.join(state, cid, "state.json")) as f:
                    st = json.load(f)
            except FileNotFoundError:
                continue
            if st.get("status") == "running":
                pids.append(st["pid"])
    return pids


def test_delete_leaves_no_processes_or_cgroups_and_python_client(env):
    from kubernetes import client, config

    ns = new_ns(env)
    server = env["server"]
    create_pod(env, ns, "long", [{"name": "main", "command": ["sleep", "1000"]}],
               restart="Always", grace=1)
    pod = wait_for(phase_is(env, ns, "long", "Running"), what="Running")
    uid = pod["metadata"]["uid"]
    conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conds["Ready"] == "True" and conds["ContainersReady"] == "True"
    assert pod["status"]["podIP"] and pod["status"]["startTime"]

    api = client.CoreV1Api(config.new_client_from_config(server.kubeconfig))
    p = api.read_namespaced_pod("long", ns)
    assert p.status.container_statuses[0].state.running.started_at
    assert p.status.container_statuses[0].ready is True
    for item in api.list_pod_for_all_namespaces().items:
        assert item.metadata.name

    pids = container_pids(server, uid)
    assert pids
    procs = processes(pids)
    env["kubectl"].run("delete", "pod", "-n", ns, "long", "--wait=true", timeout=90)
    assert get_pod(env, ns, "long") is None
    for p, started in procs.items():
        assert process_gone(p, started)
    for base, dirs, _ in os.walk("/sys/fs/cgroup/memory" + server.cgroup_root):
        assert not any(uid in d for d in dirs)
    assert container_pids(server, uid) == []


def test_pvc_bound_to_a_hostpath_pv(env):
    ns = new_ns(env)
    server = env["server"]
    hostdir = os.path.join(server.dir, "pv-" + ns)
    os.makedirs(hostdir)
    with open(os.path.join(hostdir, "seed"), "w") as f:
        f.write("seeded\n")
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-" + ns},
          "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                   "hostPath": {"path": hostdir},
                   "claimRef": {"namespace": ns, "name": "data"}}}
    st, body, _ = server.request("POST", "/api/v1/persistentvolumes", pv)
    assert st == 201, body
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": "data", "namespace": ns},
           "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-" + ns,
                    "resources": {"requests": {"storage": "1Gi"}}}}
    st, body, _ = server.request("POST", f"/api/v1/namespaces/{ns}/persistentvolumeclaims", pvc)
    assert st == 201, body
    create_pod(env, ns, "usespvc", [{"name": "main", "command": [
        "sh", "-c", "cat /data/seed; echo written > /data/out"],
        "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
        volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    wait_for(phase_is(env, ns, "usespvc", "Succeeded", "Failed"), what="finished")
    assert env["kubectl"].run("logs", "-n", ns, "usespvc").stdout == "seeded\n"
    with open(os.path.join(hostdir, "out")) as f:
        assert f.read() == "written\n"
    server.request("DELETE", "/api/v1/persistentvolumes/pv-" + ns)


def test_server_restart_leaves_running_containers(env):
    ns = new_ns(env)
    server = env["server"]
    create_pod(env, ns, "steady", [{"name": "main", "command": [
        "sh", "-c", "while true; do echo alive; sleep 0.5; done"]}], restart="Always", grace=1)
    pod = wait_for(phase_is(env, ns, "steady", "Running"), what="Running")
    uid = pod["metadata"]["uid"]
    before = pod["status"]["containerStatuses"][0]
    pids = container_pids(server, uid)
    assert pids
    procs = processes(pids)
    server.stop()  # the agent goes away; its containers stay
    assert not any(process_gone(p, started) for p, started in procs.items())
    server.start()
    time.sleep(2)
    pod = wait_for(phase_is(env, ns, "steady", "Running"), what="Running again")
    after = pod["status"]["containerStatuses"][0]
    assert after["containerID"] == before["containerID"]
    assert after["restartCount"] == 0
    assert after["state"]["running"]["startedAt"] == before["state"]["running"]["startedAt"]
    assert container_pids(server, uid) == pids
    assert "alive" in env["kubectl"].run("logs", "-n", ns, "steady", "--tail", "1").stdout
    env["kubectl"].run("delete", "pod", "-n", ns, "steady", "--wait=true", timeout=90)
    for p, started in procs.items():
        assert process_gone(p, started)


def test_log_request_errors(env):
    ns = new_ns(env)
    server = env["server"]
    create_pod(env, ns, "once", [{"name": "main", "command": ["sh", "-c", "echo hi"]}])
    wait_for(phase_is(env, ns, "once", "Succeeded"), what="Succeeded")
    base = f"/api/v1/namespaces/{ns}/pods/once/log"
    st, body, _ = server.request("GET", base + "?tailLines=-1")
    assert st == 422 and "tailLines" in body["message"]
    st, body, _ = server.request("GET", base + "?follow=maybe")
    assert st == 400
    st, body, _ = server.request("GET", base + "?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z")
    assert st == 422 and "at most one of `sinceTime` or `sinceSeconds`" in body["message"]
    st, body, _ = server.request("GET", base + "?previous=true")
    assert st == 400 and body["message"] == \
        'previous terminated container "main" in pod "once" not found'
    st, body, _ = server.request("GET", f"/api/v1/namespaces/{ns}/pods/none/log")
    assert st == 404
    st, body, _ = server.request("GET", base + "?limitBytes=2")
    assert st == 200 and body == b"hi"
    st, body, _ = server.request("POST", base, {})
    assert st == 405

"""Local ephemeral storage limit evictions (issue 7's gap; the kubelet's localStorageEviction):
with --housekeeping-interval 1s, a pod that writes past an emptyDir sizeLimit, a pod past the
total of its containers' ephemeral-storage limits and a container past its own limit are each
evicted (phase Failed, reason Evicted, the kubelet's message, a Warning event), while a
neighbour that stays under its own emptyDir sizeLimit keeps running. Writes are a few MiB on
either side of every limit, so file system block rounding cannot decide an outcome."""
import json
import os
import shutil
import time
import uuid

import pytest

from kos import KosServer, Kubectl, stop_leftover_containers, wait_for
from registry import Registry, push_busybox_image

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

NODE = "kos-ls-node"


@pytest.fixture
def env():
    reg = Registry()
    server = kubectl = None
    try:
        reg.start()
        image = push_busybox_image(reg)["ref"]
        server = KosServer(extra_args=["--node-name", NODE, "--housekeeping-interval", "1s"],
                           agent=True)
        server.start()
        kubectl = Kubectl(server, "1.33")
        yield server, kubectl, image
    finally:
        try:
            if kubectl and server and server.proc:
                kubectl.run("delete", "pods", "--all", "-A", "--grace-period=0", "--force",
                            "--wait=false", check=False)
                deadline = time.time() + 30
                while time.time() < deadline:
                    st, body, _ = server.request("GET", "/api/v1/pods")
                    if st == 200 and not body.get("items"):
                        break
                    time.sleep(0.2)
            if server:
                server.stop()
                stop_leftover_containers(os.path.join(server.data_dir, "agent"))
        finally:
            try:
                if server:
                    server.cleanup()
            finally:
                reg.stop()
                if kubectl:
                    kubectl.cleanup()


def pod_manifest(ns, name, image, containers, volumes=()):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"nodeName": NODE, "restartPolicy": "Never",
                     "terminationGracePeriodSeconds": 30,
                     "containers": [dict(c, image=image) for c in containers],
                     "volumes": list(volumes)}}


def write_then_sleep(path, mib):
    # sync: the blocks are allocated on disk before the agent looks
    return ["sh", "-c", "dd if=/dev/zero of=%s bs=1M count=%d 2>/dev/null && sync && "
            "echo written && sleep 3600" % (path, mib)]


def get_pod(kubectl, ns, name):
    return json.loads(kubectl.run("get", "pod", "-n", ns, name, "-o", "json").stdout)


def wait(fn, server, timeout=120, what="condition"):
    return wait_for(fn, timeout, what, interval=0.5,
                    diagnose=lambda: "server log:\n" + server.log())


def phase(server, ns, name):
    st, obj, _ = server.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
    return st == 200 and obj.get("status", {}).get("phase")


def assert_evicted(server, kubectl, ns, name, message):
    st = get_pod(kubectl, ns, name)["status"]
    assert st["phase"] == "Failed", st
    assert st["reason"] == "Evicted", st
    assert st["message"] == message, st
    # the kubelet's local storage evictions carry no DisruptionTarget condition
    assert not [c for c in st.get("conditions", []) if c["type"] == "DisruptionTarget"], st

    # events are recorded apart from the status (as the kubelet's recorder does): the
    # Evicted event may land a moment after the pod shows Failed
    def evicted_events():
        code, body, _ = server.request("GET", "/api/v1/namespaces/%s/events" % ns)
        assert code == 200
        return [e for e in body["items"]
                if e["involvedObject"].get("name") == name and e["reason"] == "Evicted"]
    evs = wait(evicted_events, server, what=name + "'s Evicted event")
    assert evs[0]["type"] == "Warning" and evs[0]["message"] == message, evs


def test_local_storage_limits_evict_and_spare_the_neighbour(env):
    server, kubectl, image = env
    ns = "ls-" + uuid.uuid4().hex[:8]
    kubectl.run("create", "namespace", ns)
    pods = [
        # writes 8 MiB into an emptyDir limited to 4Mi
        pod_manifest(ns, "filler", image,
                     [{"name": "w", "command": write_then_sleep("/data/f", 8),
                       "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     [{"name": "data", "emptyDir": {"sizeLimit": "4Mi"}}]),
        # writes 1 MiB into an emptyDir limited to 64Mi: stays
        pod_manifest(ns, "neighbour", image,
                     [{"name": "w", "command": write_then_sleep("/data/f", 1),
                       "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                     [{"name": "data", "emptyDir": {"sizeLimit": "64Mi"}}]),
        # writes 8 MiB into its writable layer with one container limited to 4Mi: the pod
        # total (checked before the container) is over the sum of the limits
        pod_manifest(ns, "scratch", image,
                     [{"name": "w", "command": write_then_sleep("/tmp/f", 8),
                       "resources": {"limits": {"ephemeral-storage": "4Mi"}}}]),
        # container a goes past its own 4Mi while the pod stays under 4Mi + 64Mi
        pod_manifest(ns, "two", image,
                     [{"name": "a", "command": write_then_sleep("/tmp/f", 8),
                       "resources": {"limits": {"ephemeral-storage": "4Mi"}}},
                      {"name": "b", "command": ["sleep", "3600"],
                       "resources": {"limits": {"ephemeral-storage": "64Mi"}}}]),
    ]
    kubectl.run("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                       "items": pods}))
    expected = {
        "filler": 'Usage of EmptyDir volume "data" exceeds the limit "4Mi". ',
        "scratch": "Pod ephemeral local storage usage exceeds the total limit of containers "
                   "4Mi. ",
        "two": 'Container a exceeded its local ephemeral storage limit "4Mi". ',
    }
    for name in expected:
        wait(lambda: phase(server, ns, name) == "Failed", server, what=name + " evicted")
    for name, message in expected.items():
        assert_evicted(server, kubectl, ns, name, message)
    # the neighbour wrote its file and keeps running past a few more housekeeping rounds
    wait(lambda: phase(server, ns, "neighbour") == "Running", server, what="neighbour Running")
    wait(lambda: "written" in kubectl.run("logs", "-n", ns, "neighbour", check=False).stdout,
         server, what="neighbour wrote")
    time.sleep(4)
    st = get_pod(kubectl, ns, "neighbour")["status"]
    assert st["phase"] == "Running", st
    assert "reason" not in st, st

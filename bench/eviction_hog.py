"""Hog side of bench/eviction.sh, through the Python client (python3-kubernetes).

  eviction_hog.py KUBECONFIG NODE IMAGE THRESHOLD_BYTES MIB CGROUP_ROOT RUN

Creates a Burstable pod (memory request 16Mi, so it is admitted while MemoryPressure from an
earlier run is still reported) whose dd holds MIB MiB of anonymous memory, and measures from
the moment memory.available -- sampled every 5 ms here with the kubelet's formula: MemTotal -
(root memory cgroup usage - inactive file) -- first falls below THRESHOLD_BYTES to the moment
the pod's cgroup holds no process any more (the agent killed them). Prints
"raw: eviction run=N threshold_to_gone_ms=X" and the pod's reason; deletes the pod."""
import os
import sys
import time

from kubernetes import client, config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from memsignal import memory_available  # noqa: E402

NS = "default"


def hog_script(mib):
    """dd processes holding `mib` MiB, at most 1 GiB each (one read(2) returns < 2 GiB)."""
    parts = []
    while mib > 0:
        n = min(mib, 1024)
        parts.append("(dd if=/dev/zero bs=%dM count=1 2>/dev/null | sleep 3600) &" % n)
        mib -= n
    return " ".join(parts) + " wait"


def procs_in(top):
    """Processes in a cgroup subtree; None when it does not exist (any more)."""
    if not os.path.isdir(top):
        return None
    n = 0
    for d, _, _ in os.walk(top):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                n += len(f.read().split())
        except OSError:
            pass
    return n


def main():
    kc, node, image, threshold, mib, cgroot, run = sys.argv[1:8]
    threshold, mib = int(threshold), int(mib)
    config.load_kube_config(kc)
    v1 = client.CoreV1Api()
    name = "bench-hog-%s" % run
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"kos-bench": "agent"}},
            "spec": {"nodeName": node, "restartPolicy": "Never",
                     "terminationGracePeriodSeconds": 30,
                     "containers": [{
                         "name": "hog", "image": image, "imagePullPolicy": "IfNotPresent",
                         "resources": {"requests": {"memory": "16Mi"}},
                         "command": ["sh", "-c", hog_script(mib)]}]}}
    pod = v1.create_namespaced_pod(NS, body)
    uid = pod.metadata.uid
    mem = "/sys/fs/cgroup/memory" if os.path.isdir("/sys/fs/cgroup/memory") else "/sys/fs/cgroup"
    cg = "%s%s/kubepods/burstable/pod%s" % (mem, cgroot, uid)
    deadline = time.monotonic() + 120
    crossed = None
    seen_procs = False
    while time.monotonic() < deadline:
        n = procs_in(cg)
        if n:
            seen_procs = True
        if crossed is None and memory_available() < threshold:
            crossed = time.monotonic()
        if crossed is not None and seen_procs and not n:
            gone = time.monotonic()
            break
        time.sleep(0.005)
    else:
        raise SystemExit("eviction_hog: no eviction within 120 s (crossed=%r)" % crossed)
    for _ in range(100):
        p = v1.read_namespaced_pod(name, NS)
        if p.status.phase == "Failed":
            break
        time.sleep(0.1)
    print("raw: eviction run=%s threshold_to_gone_ms=%.1f phase=%s reason=%s"
          % (run, (gone - crossed) * 1000.0, p.status.phase, p.status.reason))
    v1.delete_namespaced_pod(name, NS, grace_period_seconds=0)


if __name__ == "__main__":
    main()

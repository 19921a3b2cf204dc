"""Pod side of bench/agent.sh, through the Python client (python3-kubernetes).

  agent_pods.py KUBECONFIG wait-node NODE
  agent_pods.py KUBECONFIG warm NODE IMAGE          one pod pulls the image, then is deleted
  agent_pods.py KUBECONFIG latency NODE IMAGE N     N pods, create -> Running per pod
  agent_pods.py KUBECONFIG delete-all               deletes the bench's pods, waits until gone

Latency method: a watch on the namespace's pods is opened first (from the resourceVersion of a
LIST); then the N pods are created one after another from this one client, each create's
client-side time.monotonic() recorded just before its POST; the watch thread records
time.monotonic() of the first event that shows the pod with status.phase Running. The latency of
a pod is the difference (metadata.creationTimestamp has only second resolution)."""
import sys
import threading
import time

from kubernetes import client, config, watch

NS = "default"
LABEL = "kos-bench=agent"


def pod(name, node, image):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"kos-bench": "agent"}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": image, "imagePullPolicy": "IfNotPresent",
                            "command": ["sleep", "3600"]}],
        },
    }


def wait(pred, what, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit("agent_pods: timed out waiting for " + what)


def node_ready(v1, node):
    try:
        n = v1.read_node(node)
    except client.exceptions.ApiException:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))


def phase(v1, name):
    try:
        return v1.read_namespaced_pod(name, NS).status.phase
    except client.exceptions.ApiException as e:
        if e.status == 404:
            return None
        raise


def bench_pods(v1):
    return v1.list_namespaced_pod(NS, label_selector=LABEL).items


def delete_all(v1):
    for p in bench_pods(v1):
        try:
            v1.delete_namespaced_pod(p.metadata.name, NS, grace_period_seconds=0)
        except client.exceptions.ApiException as e:
            if e.status != 404:
                raise
    wait(lambda: not bench_pods(v1), "the bench's pods to be gone", timeout=180)


def latency(v1, node, image, n):
    rv = v1.list_namespaced_pod(NS).metadata.resource_version
    created, running = {}, {}
    created_wall, running_wall = {}, {}  # time.time(): bench/agent_phases.py lines them up
    done = threading.Event()
    w = watch.Watch()

    def watcher():
        for ev in w.stream(v1.list_namespaced_pod, NS, resource_version=rv,
                           label_selector=LABEL, timeout_seconds=600):
            p = ev["object"]
            name = p.metadata.name
            if p.status and p.status.phase == "Running" and name not in running:
                running[name] = time.monotonic()
                running_wall[name] = time.time()
                if len(running) >= n:
                    done.set()
                    return
    cpu0 = time.process_time()  # this client's CPU (both threads): it shares the machine
    t = threading.Thread(target=watcher, daemon=True)
    t.start()
    time.sleep(0.5)  # the watch request is in before the first create
    t_first = time.monotonic()
    for i in range(n):
        name = "bench-%03d" % i
        created[name] = time.monotonic()
        created_wall[name] = time.time()
        v1.create_namespaced_pod(NS, pod(name, node, image))
    t_created = time.monotonic()
    if not done.wait(300):
        missing = sorted(set(created) - set(running))
        raise SystemExit("agent_pods: %d pods not Running after 300 s: %s"
                         % (len(missing), missing[:10]))
    w.stop()
    print("raw: client_cpu_ms %.0f (creates, watch decoding)" % ((time.process_time() - cpu0) * 1000.0))
    lat = sorted((running[k] - created[k]) * 1000.0 for k in created)
    for k in sorted(created):
        print("raw: pod %s create_to_running_ms=%.1f created_at=%.6f running_at=%.6f"
              % (k, (running[k] - created[k]) * 1000.0, created_wall[k], running_wall[k]))

    def pct(p):  # nearest rank
        import math
        return lat[max(0, math.ceil(p / 100.0 * len(lat)) - 1)]
    print("raw: pods=%d create_all_s=%.3f all_running_s=%.3f"
          % (n, t_created - t_first, max(running.values()) - t_first))
    print("raw: latency_ms p50=%.1f p90=%.1f p99=%.1f max=%.1f min=%.1f"
          % (pct(50), pct(90), pct(99), lat[-1], lat[0]))


def main():
    kc, cmd = sys.argv[1], sys.argv[2]
    config.load_kube_config(kc)
    v1 = client.CoreV1Api()
    if cmd == "wait-node":
        wait(lambda: node_ready(v1, sys.argv[3]), "node Ready")
    elif cmd == "warm":
        node, image = sys.argv[3], sys.argv[4]
        t = time.monotonic()
        v1.create_namespaced_pod(NS, pod("bench-warm", node, image))
        wait(lambda: phase(v1, "bench-warm") == "Running", "the warm-up pod Running")
        print("raw: warmup_pull_and_start_ms=%.1f" % ((time.monotonic() - t) * 1000.0))
        delete_all(v1)
    elif cmd == "latency":
        latency(v1, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "delete-all":
        delete_all(v1)
    else:
        raise SystemExit("agent_pods: unknown command " + cmd)


if __name__ == "__main__":
    main()

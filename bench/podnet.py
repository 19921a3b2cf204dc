"""Pod network benchmark (issue 8), driven by bench/podnet.sh.

Runs `kos server` with its agent inside a scratch network namespace (tests/e2e/netns.py), two
pods on its node, and measures with bench/podnet_rr (built by podnet.sh):
- host: two processes in the node's namespace over loopback (the physical limit here);
- pod-to-pod: the same client and server, each in one pod's network namespace (entered
  through the namespace the agent bound under its root dir), over veth - bridge - veth;
- node-to-pod: from the node's namespace to a pod.
and the agent's per-pod network set-up and teardown (bench/podnet_setup) in another scratch
namespace. Everything it starts is stopped and removed at the end, also on failure.

Usage: podnet.py RR_BIN SETUP_BIN   (env: RR_COUNT=20000 STREAM_SECONDS=3 SETUP_COUNT=100)"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from kos import AgentEnv, unmount_under  # noqa: E402
from netns import NetNS  # noqa: E402

NODE = "kos-bench-net"
PORT = 5201


def wait_running(server, ns, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, p, _ = server.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
        if st == 200 and p.get("status", {}).get("phase") == "Running" and \
                p["status"].get("podIP"):
            return p
        time.sleep(0.2)
    raise RuntimeError("pod %s not running: %s" % (name, server.log()[-2000:]))


def nsenter(path, argv):
    return ["nsenter", "--net=" + path, "--"] + argv


def measure(label, server_argv_prefix, client_prefix, ip, rr_bin, count, secs):
    srv = subprocess.Popen(server_argv_prefix + [rr_bin, "server", str(PORT)])
    try:
        time.sleep(0.3)
        rr = subprocess.run(client_prefix + [rr_bin, "rr", ip, str(PORT), str(count)],
                            capture_output=True, text=True, check=True, timeout=300).stdout
        st = subprocess.run(client_prefix + [rr_bin, "stream", ip, str(PORT), str(secs)],
                            capture_output=True, text=True, check=True, timeout=300).stdout
    finally:
        srv.kill()
        srv.wait()
    avg, p50, p99 = rr.split()[1:4]
    gbit = st.split()[1]
    print("raw: %s rr_us avg=%s p50=%s p99=%s stream_gbit_s=%s" % (label, avg, p50, p99, gbit),
          flush=True)
    return float(avg), float(p50), float(p99), float(gbit)


def main():
    rr_bin, setup_bin = sys.argv[1], sys.argv[2]
    count = int(os.environ.get("RR_COUNT", "20000"))
    secs = float(os.environ.get("STREAM_SECONDS", "3"))
    setup_count = int(os.environ.get("SETUP_COUNT", "100"))
    ns = NetNS(prefix="kos-bench")
    env = AgentEnv(NODE, netns=ns, drain_timeout=60)
    scratch = NetNS(prefix="kos-bsetup")
    tmp = tempfile.mkdtemp(prefix="kos-bench-podnet-")
    results = {}
    try:
        server = env.start().server
        image = env.image
        st, _, _ = server.request("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}})
        uids = {}
        for name in ("a", "b"):
            body = {"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name, "namespace": "bench"},
                    "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                             "containers": [{"name": "main", "image": image,
                                             "command": ["sleep", "3600"]}]}}
            st, p, _ = server.request("POST", "/api/v1/namespaces/bench/pods", body)
            assert st == 201, p
            uids[name] = p["metadata"]["uid"]
        pa = wait_running(server, "bench", "a")
        pb = wait_running(server, "bench", "b")
        root = os.path.join(server.data_dir, "agent", "netns")
        na, nb = os.path.join(root, uids["a"]), os.path.join(root, uids["b"])
        node = ns.path
        results["host"] = measure("host_loopback", nsenter(node, []), nsenter(node, []),
                                  "127.0.0.1", rr_bin, count, secs)
        results["pod"] = measure("pod_to_pod", nsenter(na, []), nsenter(nb, []),
                                 pa["status"]["podIP"], rr_bin, count, secs)
        results["node"] = measure("node_to_pod", nsenter(na, []), nsenter(node, []),
                                  pa["status"]["podIP"], rr_bin, count, secs)
        out = scratch.run([setup_bin, tmp, str(setup_count)], timeout=600).stdout
        print("raw: " + out.replace("\n", " ").strip(), flush=True)
        setup = {l.split()[0]: l.split()[1:] for l in out.splitlines()}
        h, p, n = results["host"], results["pod"], results["node"]
        print()
        print("| path | RR avg µs | RR p50 µs | RR p99 µs | stream Gbit/s |")
        print("|---|---|---|---|---|")
        for label, r in (("two host processes (loopback)", h), ("pod to pod (same node)", p),
                         ("node to pod", n)):
            print("| %s | %.1f | %.1f | %.1f | %.2f |" % (label, *r))
        print()
        print("pod-to-pod vs host: latency x%.2f, throughput %.0f%%" % (p[0] / h[0],
                                                                       100 * p[3] / h[3]))
        print("per-pod network set-up ms avg/p50/p99: %s; teardown: %s" % (
            "/".join(setup["setup_ms"]), "/".join(setup["teardown_ms"])))
        print("load average at the end: %s" % open("/proc/loadavg").read().split()[:3])
    finally:
        try:
            env.close()
        finally:
            ns.close()
            unmount_under(tmp)
            subprocess.run(["rm", "-rf", tmp])
            scratch.close()

if __name__ == "__main__":
    main()

"""bench/services.sh: Service programming time and Service traffic against the same traffic
without a Service. Runs kos (server + node agent + its nftables proxy) inside a network
namespace made here (tests/e2e/netns.py), linked by a veth pair to a second one so that the node
has an address and a default route; both are deleted at the end, also on failure."""

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from kos import KosServer  # noqa: E402
from netns import NetNS  # noqa: E402

SERVICES = int(os.environ.get("SERVICES", "1000"))
NODE_IP = "10.251.0.1"
GHOST_IP = "10.251.0.9"


def post(s, path, body):
    st, obj, _ = s.request("POST", path, body)
    assert st == 201, (st, obj)
    return obj


def nft_count(ns, what):
    out = ns.run(["nft", "list", "map", "ip", "kos-proxy", what], check=False).stdout
    return out.count(": goto ")


def wait_rules(ns, want, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if nft_count(ns, "service-ips") >= want:
            return time.time()
        time.sleep(0.02)
    raise RuntimeError("rules did not appear (have %d of %d)" % (nft_count(ns, "service-ips"), want))


def svc(name, selector=True, **spec):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"ports": [{"name": "p", "port": 80, "targetPort": 9000}]}}
    if selector:
        body["spec"]["selector"] = {"app": "ghost"}
    body["spec"].update(spec)
    return body


def programming(s, ns):
    # one ready pod on another node that every Service selects: each gets an endpoint
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "ghost", "labels": {"app": "ghost"}},
           "spec": {"nodeName": "elsewhere", "containers": [{"name": "c", "image": "x"}]}}
    post(s, "/api/v1/namespaces/default/pods", pod)
    st, obj, _ = s.request("PATCH", "/api/v1/namespaces/default/pods/ghost/status",
                           json.dumps({"status": {"podIP": GHOST_IP, "phase": "Running",
                                                  "conditions": [{"type": "Ready",
                                                                  "status": "True"}]}}),
                           content_type="application/merge-patch+json")
    assert st == 200, obj
    base = nft_count(ns, "service-ips")
    t0 = time.time()
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: post(s, "/api/v1/namespaces/default/services", svc("s%d" % i)),
                    range(SERVICES)))
    t_api = time.time()
    t_rules = wait_rules(ns, base + SERVICES)
    # one more Service once the 1,000 are in place
    t1 = time.time()
    post(s, "/api/v1/namespaces/default/services", svc("one-more"))
    t_one = wait_rules(ns, base + SERVICES + 1)
    return {"services": SERVICES, "api_create_s": round(t_api - t0, 2),
            "create_to_rules_s": round(t_rules - t0, 2),
            "one_more_ms": round((t_one - t1) * 1000)}


def traffic(s, ns):
    port = 9000
    server = ns.popen([sys.executable, os.path.join(HERE, "services_net.py"), "serve", NODE_IP,
                       str(port)], stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().strip() == "ready"
    # a Service without selector and the slice that points at the host processes
    for name, p in (("echo", port), ("sink", port + 1)):
        obj = post(s, "/api/v1/namespaces/default/services",
                   svc(name, selector=False, type="NodePort",
                       ports=[{"name": "p", "port": 80, "targetPort": p}]))
        post(s, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name + "-manual", "labels": {"kubernetes.io/service-name": name}},
            "addressType": "IPv4", "ports": [{"name": "p", "port": p, "protocol": "TCP"}],
            "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}}]})
    echo = s.request("GET", "/api/v1/namespaces/default/services/echo")[1]["spec"]
    sink = s.request("GET", "/api/v1/namespaces/default/services/sink")[1]["spec"]
    deadline = time.time() + 60
    while time.time() < deadline:
        r = ns.run(["curl", "-s", "--max-time", "1", "telnet://%s:80" % echo["clusterIP"]],
                   check=False, input="", timeout=10)
        if r.returncode in (0, 28):  # connected (28: timed out waiting for the echo)
            break
        time.sleep(0.1)
    else:
        print(ns.run(["nft", "list", "ruleset"]).stdout[-3000:], file=sys.stderr)
        print(s.log(), file=sys.stderr)
        raise RuntimeError("the echo Service never answered")
    cases = {
        "direct (host process to host process)": (NODE_IP, port, NODE_IP, port + 1),
        "ClusterIP": (echo["clusterIP"], 80, sink["clusterIP"], 80),
        "NodePort on the node address": (NODE_IP, echo["ports"][0]["nodePort"], NODE_IP,
                                         sink["ports"][0]["nodePort"]),
    }
    out = {}
    for label, args in cases.items():
        r = ns.run([sys.executable, os.path.join(HERE, "services_net.py"), "client"] +
                   [str(a) for a in args], timeout=600)
        out[label] = json.loads(r.stdout)
    return out


def main():
    ns, peer = NetNS(prefix="kos-b"), NetNS(prefix="kos-b")
    s = KosServer(extra_args=["--node-name", "bench-node"], agent=True, netns=ns)
    try:
        ns.link(peer, NODE_IP + "/24", "10.251.0.2/24")
        ns.run(["ip", "route", "add", "default", "via", "10.251.0.2"])
        s.start(timeout=60)
        prog = programming(s, ns)
        print(json.dumps({"programming": prog}), flush=True)
        print(json.dumps({"traffic": traffic(s, ns)}), flush=True)
    finally:
        s.cleanup()
        ns.close()
        peer.close()


if __name__ == "__main__":
    main()

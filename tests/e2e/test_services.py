"""Services (issue 8.2): ClusterIP and NodePort allocation and its errors through kubectl, the
kubernetes Service, Endpoints and EndpointSlices following pod readiness, and the node proxy
(nftables) answering on a ClusterIP and a NodePort. Everything that programs nftables runs in
a network namespace of its own (netns.py)."""

import json
import subprocess
import time
import uuid

import pytest

from kos import AgentEnv, KosServer, Kubectl, wait_for
from netns import NetNS

NODE = "kos-svc-node"




# ---- allocation (no agent) ----------------------------------------------------------------

@pytest.fixture(scope="module")
def api():
    s = KosServer(extra_args=["--service-node-port-range", "30000-30100"])
    k = None
    try:
        s.start()
        k = Kubectl(s, "1.33")
        yield s, k
    finally:
        s.cleanup()
        if k:
            k.cleanup()


def svc_body(name, ns="default", **spec):
    spec.setdefault("ports", [{"port": 80, "targetPort": 8080}])
    spec.setdefault("selector", {"app": name})
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def apply(k, body, check=True):
    return k.run("apply", "-f", "-", input=json.dumps(body), check=check)


def test_cluster_ip_allocated_and_fields(api):
    s, k = api
    apply(k, svc_body("alloc-a"))
    spec = json.loads(k.run("get", "svc", "alloc-a", "-o", "json").stdout)["spec"]
    assert spec["clusterIP"].startswith("10.43.")
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    # headless: None, no address taken
    apply(k, svc_body("alloc-headless", clusterIP="None"))
    h = json.loads(k.run("get", "svc", "alloc-headless", "-o", "json").stdout)["spec"]
    assert h["clusterIP"] == "None" and h["clusterIPs"] == ["None"]


def test_taken_and_out_of_range_ip(api):
    s, k = api
    apply(k, svc_body("ip-one", clusterIP="10.43.7.7"))
    p = apply(k, svc_body("ip-two", clusterIP="10.43.7.7"), check=False)
    assert p.returncode != 0
    assert ('The Service "ip-two" is invalid: spec.clusterIPs: Invalid value: '
            '[]string{"10.43.7.7"}: failed to allocate IP 10.43.7.7: provided IP is already '
            'allocated') in p.stderr
    p = apply(k, svc_body("ip-three", clusterIP="10.99.0.1"), check=False)
    assert ("failed to allocate IP 10.99.0.1: the provided IP (10.99.0.1) is not in the valid "
            "range. The range of valid IPs is 10.43.0.0/16") in p.stderr
    # the kubernetes Service holds the first address
    p = apply(k, svc_body("ip-four", clusterIP="10.43.0.1"), check=False)
    assert "provided IP is already allocated" in p.stderr
    # released on delete
    k.run("delete", "svc", "ip-one")
    apply(k, svc_body("ip-two", clusterIP="10.43.7.7"))


def test_cluster_ip_immutable(api):
    s, k = api
    apply(k, svc_body("immut", clusterIP="10.43.8.8"))
    p = k.run("patch", "svc", "immut", "-p", '{"spec":{"clusterIP":"10.43.8.9"}}', check=False)
    assert p.returncode != 0
    assert "may not change once set" in p.stderr
    # a replace that leaves the address out keeps it
    body = svc_body("immut")
    body["spec"]["ports"] = [{"port": 81, "targetPort": 8080}]
    k.run("replace", "-f", "-", input=json.dumps(body))
    spec = json.loads(k.run("get", "svc", "immut", "-o", "json").stdout)["spec"]
    assert spec["clusterIP"] == "10.43.8.8" and spec["ports"][0]["port"] == 81


def test_node_port_clash_and_range(api):
    s, k = api
    apply(k, svc_body("np-one", type="NodePort",
                      ports=[{"port": 80, "targetPort": 8080, "nodePort": 30050}]))
    p = apply(k, svc_body("np-two", type="NodePort",
                          ports=[{"port": 80, "targetPort": 8080, "nodePort": 30050}]), check=False)
    assert p.returncode != 0
    assert ('The Service "np-two" is invalid: spec.ports[0].nodePort: Invalid value: 30050: '
            'provided port is already allocated') in p.stderr
    p = apply(k, svc_body("np-three", type="NodePort",
                          ports=[{"port": 80, "targetPort": 8080, "nodePort": 31000}]), check=False)
    assert ("spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid "
            "range. The range of valid ports is 30000-30100") in p.stderr
    # automatic, from the configured range; kept by an update that leaves it out
    out = k.run("create", "service", "nodeport", "np-auto", "--tcp=80:8080").stdout
    assert "created" in out
    spec = json.loads(k.run("get", "svc", "np-auto", "-o", "json").stdout)["spec"]
    np = spec["ports"][0]["nodePort"]
    assert 30000 <= np <= 30100
    k.run("label", "svc", "np-auto", "x=y")
    spec = json.loads(k.run("get", "svc", "np-auto", "-o", "json").stdout)["spec"]
    assert spec["ports"][0]["nodePort"] == np
    # changing to ClusterIP gives the port back
    k.run("patch", "svc", "np-one", "-p", '{"spec":{"type":"ClusterIP"}}')
    apply(k, svc_body("np-two", type="NodePort",
                      ports=[{"port": 80, "targetPort": 8080, "nodePort": 30050}]))


def test_allocations_survive_restart(api):
    s, k = api
    apply(k, svc_body("restart-a", clusterIP="10.43.9.9", type="NodePort",
                      ports=[{"port": 80, "targetPort": 8080, "nodePort": 30060}]))
    s.stop()
    s.start()
    p = apply(k, svc_body("restart-b", clusterIP="10.43.9.9"), check=False)
    assert "provided IP is already allocated" in p.stderr
    p = apply(k, svc_body("restart-c", type="NodePort",
                          ports=[{"port": 80, "targetPort": 8080, "nodePort": 30060}]), check=False)
    assert "provided port is already allocated" in p.stderr


def test_kubernetes_service(api):
    s, k = api
    svc = json.loads(k.run("get", "svc", "kubernetes", "-o", "json").stdout)
    assert svc["spec"]["clusterIP"] == "10.43.0.1"
    assert svc["spec"]["ports"][0]["port"] == 443
    assert svc["spec"]["ports"][0]["targetPort"] == s.port
    ep = json.loads(k.run("get", "endpoints", "kubernetes", "-o", "json").stdout)
    assert ep["subsets"][0]["addresses"][0]["ip"] == "127.0.0.1"
    assert ep["subsets"][0]["ports"][0]["port"] == s.port
    sl = json.loads(k.run("get", "endpointslices", "kubernetes", "-o", "json").stdout)
    assert sl["endpoints"][0]["addresses"] == ["127.0.0.1"]
    out = k.run("get", "endpointslices").stdout
    assert "ADDRESSTYPE" in out and "kubernetes" in out
    # kept by the server: a deleted Endpoints comes back (within the 10 s reconcile period)
    k.run("delete", "endpoints", "kubernetes")
    wait_for(lambda: k.run("get", "endpoints", "kubernetes", check=False).returncode == 0,
             timeout=30, what="the kubernetes Endpoints to come back")


def test_endpoints_follow_pod_readiness(api):
    """Without an agent the test plays the kubelet: it writes the pod's status."""
    s, k = api
    ns = "ep-" + uuid.uuid4().hex[:6]
    k.run("create", "namespace", ns)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "namespace": ns,
                                                           "labels": {"app": "web"}},
           "spec": {"nodeName": "n1", "containers": [
               {"name": "c", "image": "busybox", "ports": [{"name": "http",
                                                            "containerPort": 8080}]}]}}
    st, obj, _ = s.request("POST", "/api/v1/namespaces/%s/pods" % ns, pod)
    assert st == 201, obj
    apply(k, svc_body("web", ns=ns, selector={"app": "web"},
                      ports=[{"name": "h", "port": 80, "targetPort": "http"}]))

    def status(ready):
        body = {"status": {"podIP": "10.42.0.9", "phase": "Running", "conditions": [
            {"type": "Ready", "status": "True" if ready else "False"}]}}
        k.run("patch", "pod", "p1", "-n", ns, "--subresource=status", "--type=merge",
              "-p", json.dumps(body))

    def endpoints():
        return json.loads(k.run("get", "endpoints", "web", "-n", ns, "-o", "json",
                                check=False).stdout or "{}")

    def slices():
        out = k.run("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=web",
                    "-o", "json").stdout
        return json.loads(out)["items"]

    status(False)
    wait_for(lambda: endpoints().get("subsets", [{}])[0].get("notReadyAddresses"),
             what="a not-ready address")
    sub = endpoints()["subsets"][0]
    assert sub["notReadyAddresses"][0]["ip"] == "10.42.0.9"
    assert sub["ports"][0]["port"] == 8080  # the named port resolved
    status(True)
    wait_for(lambda: endpoints().get("subsets", [{}])[0].get("addresses"), what="a ready address")
    addr = endpoints()["subsets"][0]["addresses"][0]
    assert addr["nodeName"] == "n1"
    assert addr["targetRef"]["kind"] == "Pod" and addr["targetRef"]["name"] == "p1"
    sl = wait_for(lambda: [x for x in slices() if x.get("endpoints")
                           and x["endpoints"][0]["conditions"].get("ready")], what="a ready slice")
    assert sl[0]["ports"][0]["port"] == 8080
    assert sl[0]["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == \
        "endpointslice-controller.k8s.io"
    assert sl[0]["metadata"]["ownerReferences"][0]["kind"] == "Service"
    status(False)
    wait_for(lambda: not endpoints()["subsets"][0].get("addresses"), what="the address to go")
    # the Service goes: its Endpoints and (by owner) its slices too
    k.run("delete", "svc", "web", "-n", ns)
    wait_for(lambda: not endpoints().get("subsets") and not slices(), what="cleanup")


# ---- the proxy, in a network namespace -------------------------------------------------------


@pytest.fixture(scope="module")
def node():
    """kos with its agent in a namespace with a node address (a veth pair to a second namespace
    and a default route through it); the test registry on the host is forwarded in."""
    ns, peer = NetNS(), NetNS()
    try:
        ns.link(peer, "10.250.0.1/24", "10.250.0.2/24")
        ns.run(["ip", "route", "add", "default", "via", "10.250.0.2"])
        with AgentEnv(NODE, netns=ns) as a:
            yield {"ns": ns, "server": a.server, "k": a.kubectl, "image": a.image}
    finally:
        ns.close()
        peer.close()


def httpd_pod(name, image, port, text):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "httpd"}},
            "spec": {"nodeName": NODE, "hostNetwork": True, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "httpd", "image": image, "command": ["sh", "-c",
                                     "mkdir -p /tmp/www && echo %s > /tmp/www/index.html && "
                                     "exec httpd -f -p %d -h /tmp/www" % (text, port)],
                                     "ports": [{"name": "http", "containerPort": port}]}]}}


def fetch(ns, url, timeout=5):
    # (busybox wget -T crashes on Debian 12's busybox: curl instead)
    return ns.run(["curl", "-sS", "--max-time", str(timeout), url], check=False)


def test_cluster_ip_and_node_port_through_nftables(node):
    ns, k = node["ns"], node["k"]
    apply(k, httpd_pod("web1", node["image"], 18080, "hello-kos"))
    apply(k, svc_body("web", type="NodePort", selector={"app": "httpd"},
                      ports=[{"name": "h", "port": 80, "targetPort": "http"}]))
    k.run("wait", "--for=condition=Ready", "pod/web1", "--timeout=90s", timeout=120)
    svc = json.loads(k.run("get", "svc", "web", "-o", "json").stdout)
    cip, np = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]
    wait_for(lambda: json.loads(k.run("get", "endpoints", "web", "-o", "json").stdout)
             .get("subsets"), what="endpoints")
    # the table is kos's own, in this namespace only
    tables = ns.run(["nft", "list", "tables"]).stdout
    assert "table ip kos-proxy" in tables
    assert "kos-proxy" not in subprocess.run(["nft", "list", "tables"], capture_output=True,
                                             text=True).stdout
    # the ClusterIP, the NodePort on the node address and on 127.0.0.1
    for url in ("http://%s:80/" % cip, "http://10.250.0.1:%d/" % np, "http://127.0.0.1:%d/" % np):
        p = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(fetch(ns, url)),
                     timeout=30, what=url)
        assert p.stdout.strip() == "hello-kos", url
    # no endpoints: rejected at once, not a hang
    apply(k, svc_body("nobody", selector={"app": "nobody"}))
    ncip = json.loads(k.run("get", "svc", "nobody", "-o", "json").stdout)["spec"]["clusterIP"]

    def rejected():
        t0 = time.time()
        r = fetch(ns, "http://%s:80/" % ncip, timeout=10)
        return r.returncode != 0 and time.time() - t0 < 5
    wait_for(rejected, timeout=30, what="a reject for a Service without endpoints")
    # the pod goes: so do its endpoints and the rule
    k.run("delete", "pod", "web1", "--grace-period=1")
    wait_for(lambda: not json.loads(k.run("get", "endpoints", "web", "-o", "json").stdout)
             .get("subsets"), what="endpoints to empty")
    wait_for(lambda: fetch(ns, "http://%s:80/" % cip, timeout=3).returncode != 0,
             timeout=30, what="the ClusterIP to stop answering")


def test_kubernetes_service_through_proxy(node):
    """The API server answers on 10.43.0.1:443 inside the node."""
    ns = node["ns"]
    p = wait_for(lambda: (lambda r: r if "ok" in r.stdout else None)(ns.run(
        ["curl", "-sk", "--max-time", "5", "https://10.43.0.1:443/readyz"], check=False)),
        timeout=30, what="kubernetes Service")
    assert p.stdout.strip() == "ok"


# ---- Services in front of pods on the pod network, with readiness probes ----------------------

def web_pod(name, image, labels):
    """busybox httpd on the pod network, ready while /tmp/ready exists (an exec probe)."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 1,
                     "containers": [{
                         "name": "httpd", "image": image,
                         "command": ["sh", "-c", "mkdir -p /tmp/www && echo from-%s > "
                                     "/tmp/www/index.html && touch /tmp/ready && "
                                     "exec httpd -f -p 8080 -h /tmp/www" % name],
                         "ports": [{"name": "http", "containerPort": 8080}],
                         "readinessProbe": {"exec": {"command": ["busybox", "test", "-f",
                                                                         "/tmp/ready"]},
                                            "periodSeconds": 1, "failureThreshold": 1}}]}}


def test_service_from_a_pod_follows_readiness(node):
    """A pod reaches a Service's ClusterIP (pod network → nft DNAT → another pod), the node
    reaches its NodePort, and a failing readiness probe takes the backend out of the Endpoints
    and out of the proxy until it passes again."""
    ns, k, image = node["ns"], node["k"], node["image"]
    apply(k, web_pod("back", image, {"app": "back"}))
    apply(k, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
              "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 1,
                       "containers": [{"name": "c", "image": image,
                                       "command": ["sleep", "3600"]}]}})
    apply(k, svc_body("back", type="NodePort", selector={"app": "back"},
                      ports=[{"name": "h", "port": 80, "targetPort": "http"}]))
    k.run("wait", "--for=condition=Ready", "pod/back", "pod/client", "--timeout=120s",
          timeout=150)
    pods = {p["metadata"]["name"]: p for p in
            json.loads(k.run("get", "pods", "-o", "json").stdout)["items"]}
    back_ip = pods["back"]["status"]["podIP"]
    assert back_ip.startswith("10.42."), back_ip  # on the pod network, not the node's address
    svc = json.loads(k.run("get", "svc", "back", "-o", "json").stdout)
    cip, np = svc["spec"]["clusterIP"], svc["spec"]["ports"][0]["nodePort"]

    def ready_ips():
        subs = json.loads(k.run("get", "endpoints", "back", "-o", "json").stdout).get("subsets")
        return [a["ip"] for s in subs or [] for a in s.get("addresses", [])]

    wait_for(lambda: ready_ips() == [back_ip], what="the pod in the Endpoints")

    def from_client():
        p = k.run("exec", "client", "--", "busybox", "wget", "-q", "-O", "-",
                  "http://%s:80/" % cip, check=False)
        return p.stdout.strip() if p.returncode == 0 else None

    assert wait_for(from_client, timeout=30, what="the ClusterIP from a pod") == "from-back"
    p = wait_for(lambda: (lambda r: r if r.returncode == 0 else None)(
        fetch(ns, "http://127.0.0.1:%d/" % np)), timeout=30, what="the NodePort from the node")
    assert p.stdout.strip() == "from-back"

    # readiness fails: out of the Endpoints (a not-ready address) and out of the proxy
    k.run("exec", "back", "--", "busybox", "rm", "/tmp/ready")
    wait_for(lambda: ready_ips() == [], what="the address to leave the Endpoints")
    subs = json.loads(k.run("get", "endpoints", "back", "-o", "json").stdout)["subsets"]
    assert [a["ip"] for a in subs[0]["notReadyAddresses"]] == [back_ip]
    wait_for(lambda: from_client() is None, timeout=30, what="the ClusterIP to stop answering")
    # and back
    k.run("exec", "back", "--", "busybox", "touch", "/tmp/ready")
    wait_for(lambda: ready_ips() == [back_ip], what="the address to come back")
    assert wait_for(from_client, timeout=30, what="the ClusterIP again") == "from-back"
    k.run("delete", "pod", "back", "client", "--grace-period=1")
    k.run("delete", "svc", "back")

"""Pod networking (issue 8.1): each pod in a network namespace of its own on the node's bridge
with an address from the Node's podCIDR (given by the server's node IPAM controller), pods
reaching each other, the node and pods on other nodes by pod IP; /etc/hosts, resolv.conf and
the hostname as the kubelet writes them; hostNetwork pods keep the node's address; deletion
frees the address and the veth; an agent restart keeps the pods' networks; exhausted CIDRs
give clear errors.

Every kos here runs inside a network namespace made by the test (tests/e2e/netns.py), so
bridges, veths, routes and nftables rules vanish with it; the image registry runs on the host
and is forwarded in."""
import ipaddress
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from kos import (KOS_BIN, AgentEnv, KosServer, Kubectl, delete_all_pods, remove_cgroup_tree,
                 stop_leftover_containers, unmount_under, wait_for as wait_for_kos)
from netns import NetNS
from registry import Registry, push_busybox_image

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc") or not shutil.which("nft")
    or not shutil.which("socat"), reason="needs root, runc, nft and socat")

NODE = "kos-net-node"
BB = "/bin/busybox"



def wait_for(fn, timeout=90, what="condition"):
    return wait_for_kos(fn, timeout, what, 0.2)


class Env:
    def __init__(self, server, image, kubectl, ns=None):
        self.server = server
        self.image = image
        self.kubectl = kubectl
        self.netns = ns

    def new_ns(self):
        ns = "net-" + uuid.uuid4().hex[:8]
        st, body, _ = self.server.request("POST", "/api/v1/namespaces", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        assert st == 201, body
        return ns

    def create_pod(self, ns, name, command, node=NODE, restart="Never", env=None, **spec):
        c = {"name": "main", "image": self.image, "command": command}
        if env:
            c["env"] = [{"name": k, "value": v} for k, v in env.items()]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                "spec": dict({"nodeName": node, "restartPolicy": restart, "containers": [c],
                              "terminationGracePeriodSeconds": 1}, **spec)}
        st, obj, _ = self.server.request("POST", "/api/v1/namespaces/%s/pods" % ns, body)
        assert st == 201, obj
        return obj

    def pod(self, ns, name):
        st, obj, _ = self.server.request("GET", "/api/v1/namespaces/%s/pods/%s" % (ns, name))
        return obj if st == 200 else None

    def wait_phase(self, ns, name, *phases, timeout=90):
        def check():
            p = self.pod(ns, name)
            return p if p and p.get("status", {}).get("phase") in phases else None
        return wait_for(check, timeout=timeout, what="pod %s in %s" % (name, phases))

    def logs(self, ns, name):
        return self.kubectl.run("logs", "-n", ns, name).stdout

    def events(self, ns, reason):
        st, body, _ = self.server.request("GET", "/api/v1/namespaces/%s/events" % ns)
        return [e for e in body.get("items", []) if e.get("reason") == reason]


def host_resolv():
    with open("/etc/resolv.conf") as f:
        return f.read()


@pytest.fixture(scope="module")
def registry():
    reg = Registry()
    try:
        reg.start()
        img = push_busybox_image(reg)
        yield reg, img["ref"]
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def env(registry):
    ns = NetNS()
    try:
        with AgentEnv(NODE, netns=ns, registry=registry, drain_timeout=60) as a:
            yield Env(a.server, a.image, a.kubectl, ns)
    finally:
        ns.close()


def node_pod_cidr(env, node=NODE):
    def get():
        st, n, _ = env.server.request("GET", "/api/v1/nodes/" + node)
        return n if st == 200 and n.get("spec", {}).get("podCIDR") else None
    return wait_for(get, what="podCIDR of " + node)["spec"]


def test_node_gets_pod_cidr_and_pods_their_own_addresses(env):
    spec = node_pod_cidr(env)
    assert spec["podCIDR"] == "10.42.0.0/24" and spec["podCIDRs"] == ["10.42.0.0/24"]
    ns = env.new_ns()
    env.create_pod(ns, "web", ["sh", "-c", "mkdir -p /www && echo hello-from-web > "
                                           "/www/index.html && exec %s httpd -f -p 8080 -h /www"
                               % BB])
    web = env.wait_phase(ns, "web", "Running")
    web_ip = web["status"]["podIP"]
    assert ipaddress.ip_address(web_ip) in ipaddress.ip_network("10.42.0.0/24")
    assert web_ip != web["status"]["hostIP"] and web["status"]["podIPs"] == [{"ip": web_ip}]

    # another pod pings it and fetches from it by pod IP, and reaches the node (the bridge)
    env.create_pod(ns, "client", ["sh", "-c",
                                  "%s ping -c 1 -W 5 $WEB && %s wget -q -O - http://$WEB:8080/ "
                                  "&& %s ping -c 1 -W 5 10.42.0.1 >/dev/null && echo node-ok && "
                                  "%s ip -4 -o addr show eth0" % (BB, BB, BB, BB)],
                   env={"WEB": web_ip})
    client = env.wait_phase(ns, "client", "Succeeded", "Failed")
    out = env.logs(ns, "client")
    assert client["status"]["phase"] == "Succeeded", out
    assert "1 packets received" in out and "hello-from-web" in out and "node-ok" in out
    cip = client["status"]["podIP"]
    assert cip != web_ip and ("inet %s/24" % cip) in out
    # the node reaches the pod too
    got = env.netns.run([BB, "wget", "-q", "-O", "-", "http://%s:8080/" % web_ip])
    assert got.stdout == "hello-from-web\n"
    # the pods' veths are ports of kos0 in hairpin mode (a pod reaches itself via a Service)
    ports = json.loads(env.netns.run(["bridge", "-d", "-j", "link", "show"]).stdout)
    ours = [p for p in ports if p.get("master") == "kos0"]
    assert ours and all(p.get("hairpin") for p in ours), ports  # (client: done, gone)


def test_hosts_resolv_and_hostname(env):
    ns = env.new_ns()
    show = ["sh", "-c", "cat /etc/hosts; echo ===; cat /etc/resolv.conf; echo ===; hostname"]
    env.create_pod(ns, "plain", show)
    pod = env.wait_phase(ns, "plain", "Succeeded", "Failed")
    hosts, resolv, hostname = env.logs(ns, "plain").split("===\n")
    ip = pod["status"]["podIP"]
    assert hosts == ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                     "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                     "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
                     "%s\tplain\n" % ip)
    assert hostname == "plain\n"
    # ClusterFirst without cluster DNS: the node's resolver, and the kubelet's warning
    servers = [l.split()[1] for l in host_resolv().splitlines()
               if l.startswith("nameserver") and len(l.split()) > 1][:3]
    assert [l.split()[1] for l in resolv.splitlines() if l.startswith("nameserver")] == servers
    ev = wait_for(lambda: env.events(ns, "MissingClusterDNS"), what="MissingClusterDNS")
    assert "Falling back to \"Default\" policy" in ev[0]["message"]

    env.create_pod(ns, "custom", show, hostname="myhost", subdomain="sub",
                   hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}],
                   dnsPolicy="None",
                   dnsConfig={"nameservers": ["1.2.3.4"], "searches": ["ns1.svc.example"],
                              "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})
    pod = env.wait_phase(ns, "custom", "Succeeded", "Failed")
    hosts, resolv, hostname = env.logs(ns, "custom").split("===\n")
    ip = pod["status"]["podIP"]
    assert hosts.endswith("%s\tmyhost.sub.%s.svc.cluster.local\tmyhost\n\n"
                          "# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n"
                          % (ip, ns))
    assert resolv == "search ns1.svc.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n"
    assert hostname == "myhost\n"


def test_host_network_pod_keeps_the_node_address(env):
    ns = env.new_ns()
    env.create_pod(ns, "hostnet", ["sh", "-c", "head -1 /etc/hosts; hostname; cat /etc/hostname;"
                                               " %s ip -o link" % BB], hostNetwork=True)
    pod = env.wait_phase(ns, "hostnet", "Succeeded", "Failed")
    assert pod["status"]["podIP"] == pod["status"]["hostIP"]
    out = env.logs(ns, "hostnet")
    node_hostname = os.uname().nodename
    assert out.startswith("# Kubernetes-managed hosts file (host network).\n%s\n%s\n" % (
        node_hostname, node_hostname)), out
    assert "kos0" in out  # it sees the node's interfaces, the bridge among them


def veth_names(env):
    out = env.netns.run(["ip", "-o", "link", "show", "type", "veth"]).stdout
    return {l.split(":")[1].strip().split("@")[0] for l in out.splitlines()}


def ipam_files(env):
    d = os.path.join(env.server.data_dir, "agent", "network", "ipam")
    return {f: open(os.path.join(d, f)).read() for f in os.listdir(d) if f[0].isdigit()}


def test_deletion_frees_address_veth_and_namespace(env):
    ns = env.new_ns()
    pod = env.create_pod(ns, "gone", ["sleep", "3600"])
    uid = pod["metadata"]["uid"]
    pod = env.wait_phase(ns, "gone", "Running")
    ip = pod["status"]["podIP"]
    assert ipam_files(env).get(ip) == uid
    netns_file = os.path.join(env.server.data_dir, "agent", "netns", uid)
    assert os.path.exists(netns_file)
    before = veth_names(env)
    assert any(v.startswith("kos") for v in before)
    st, _, _ = env.server.request("DELETE", "/api/v1/namespaces/%s/pods/gone" % ns)
    assert st == 200
    wait_for(lambda: env.pod(ns, "gone") is None, what="pod gone")
    assert ip not in ipam_files(env)
    assert not os.path.exists(netns_file)
    assert len(veth_names(env)) == len(before) - 1


def test_agent_restart_keeps_pod_networks(env):
    ns = env.new_ns()
    env.create_pod(ns, "keep", ["sh", "-c", "mkdir -p /www && echo still-here > /www/index.html"
                                            " && exec %s httpd -f -p 8080 -h /www" % BB])
    pod = env.wait_phase(ns, "keep", "Running")
    ip = pod["status"]["podIP"]
    env.server.stop()
    env.server.start()
    # the pod is still there, same address, still answering
    got = env.netns.run([BB, "wget", "-q", "-O", "-", "http://%s:8080/" % ip])
    assert got.stdout == "still-here\n"
    time.sleep(1)
    pod = env.wait_phase(ns, "keep", "Running")
    assert pod["status"]["podIP"] == ip
    # a new pod does not get an address that is still held
    env.create_pod(ns, "after", ["sleep", "3600"])
    after = env.wait_phase(ns, "after", "Running")
    assert after["status"]["podIP"] not in (ip,)
    got = env.netns.run([BB, "wget", "-q", "-O", "-", "http://%s:8080/" % ip])
    assert got.stdout == "still-here\n"


def test_exhausted_cidrs_give_clear_errors(registry):
    """A /30 node subnet holds one pod address: the second pod waits in ContainerCreating
    with host-local's error while the first keeps its network; a cluster CIDR with one
    subnet leaves a second Node without a podCIDR and with CIDRNotAvailable."""
    ns = NetNS()
    a = AgentEnv(NODE, ["--cluster-cidr", "10.99.0.0/30", "--node-cidr-mask-size", "30"],
                 netns=ns, registry=registry, drain_timeout=60)
    try:
        server = a.start().server
        env = Env(server, a.image, a.kubectl, ns)
        assert node_pod_cidr(env)["podCIDR"] == "10.99.0.0/30"
        pns = env.new_ns()
        env.create_pod(pns, "first", ["sh", "-c", "mkdir -p /www && echo first > "
                                                  "/www/index.html && exec %s httpd -f -p 80 "
                                                  "-h /www" % BB])
        first = env.wait_phase(pns, "first", "Running")
        assert first["status"]["podIP"] == "10.99.0.2"
        env.create_pod(pns, "second", ["sleep", "3600"])

        def waiting():
            p = env.pod(pns, "second")
            cs = (p or {}).get("status", {}).get("containerStatuses") or [{}]
            w = cs[0].get("state", {}).get("waiting", {})
            return w if "no IP addresses available" in w.get("message", "") else None
        w = wait_for(waiting, what="second pod waiting for an address")
        assert w["reason"] == "ContainerCreating"
        assert "no IP addresses available in range set: 10.99.0.1-10.99.0.2" in w["message"]
        second = env.pod(pns, "second")
        assert second["status"]["phase"] == "Pending" and "podIP" not in second["status"]
        ev = wait_for(lambda: env.events(pns, "FailedCreatePodSandBox"), what="sandbox event")
        assert "no IP addresses available" in ev[0]["message"]
        got = ns.run([BB, "wget", "-q", "-O", "-", "http://10.99.0.2/"])
        assert got.stdout == "first\n"

        # the cluster CIDR has one subnet, taken: another Node gets none
        st, body, _ = server.request("POST", "/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node", "metadata": {"name": "no-room"}})
        assert st == 201, body

        def cidr_event():
            st, body, _ = server.request(
                "GET", "/api/v1/namespaces/default/events?fieldSelector="
                       "involvedObject.name%3Dno-room")
            return [e for e in body.get("items", []) if e["reason"] == "CIDRNotAvailable"]
        ev = wait_for(cidr_event, what="CIDRNotAvailable")
        assert ev[0]["message"] == "Node no-room status is now: CIDRNotAvailable"
        st, n, _ = server.request("GET", "/api/v1/nodes/no-room")
        assert "podCIDR" not in n.get("spec", {})
        server.request("DELETE", "/api/v1/nodes/no-room")
    finally:
        try:
            a.close()
        finally:
            ns.close()


def test_pods_on_two_nodes_reach_each_other(registry):
    """Two `kos agent` processes, each in a namespace of its own; the namespaces are linked
    by a veth pair (10.200.0.1 <-> 10.200.0.2, the nodes' InternalIPs); the API server runs
    without an agent and is forwarded into both. Each agent routes the other's podCIDR via
    the other node: a pod on node A fetches from a pod on node B by pod IP."""
    reg, image = registry
    server = KosServer(agent=False)
    nss, roots, cgroups, procs = [], [], [], []
    kubectl = None
    try:
        server.start()
        kubectl = Kubectl(server, "1.33")
        env = Env(server, image, kubectl)
        a, b = NetNS(), NetNS()
        nss += [a, b]
        a.link(b, "10.200.0.1/24", "10.200.0.2/24")
        for i, (ns, name, ip) in enumerate([(a, "node-a", "10.200.0.1"),
                                            (b, "node-b", "10.200.0.2")]):
            ns.forward_in(reg.port)
            ns.forward_in(server.port)
            root = os.path.join(server.dir, "agent-" + name)
            cg = "/kos-test-net-" + uuid.uuid4().hex[:8]
            roots.append(root)
            cgroups.append(cg)
            argv = [KOS_BIN, "agent", "--kubeconfig", server.kubeconfig, "--node-name", name,
                    "--node-ip", ip, "--cgroup-root", cg, "--root-dir", root,
                    "--pod-log-dir", os.path.join(root, "logs")]
            log = open(os.path.join(server.dir, name + ".log"), "ab")
            procs.append((ns.popen(argv, stdout=log, stderr=log), argv))
            log.close()
        ca = node_pod_cidr(env, "node-a")["podCIDR"]
        cb = node_pod_cidr(env, "node-b")["podCIDR"]
        assert ca != cb

        def routed():
            out = a.run(["ip", "route", "show", cb]).stdout
            return out if "via 10.200.0.2" in out else None
        wait_for(routed, what="route on node A to node B's pods")
        ns = env.new_ns()
        env.create_pod(ns, "web-b", ["sh", "-c", "mkdir -p /www && echo from-node-b > "
                                                 "/www/index.html && exec %s httpd -f -p 8080 "
                                                 "-h /www" % BB], node="node-b")
        web = env.wait_phase(ns, "web-b", "Running", timeout=120)
        web_ip = web["status"]["podIP"]
        assert ipaddress.ip_address(web_ip) in ipaddress.ip_network(cb)
        # (the nodes' addresses live in the namespaces, out of the API server's reach for
        # logs: the exit code tells)
        env.create_pod(ns, "client-a", ["sh", "-c", 'test "$(%s wget -q -O - '
                                                    'http://$WEB:8080/)" = from-node-b' % BB],
                       node="node-a", env={"WEB": web_ip})
        client = env.wait_phase(ns, "client-a", "Succeeded", "Failed", timeout=120)
        assert client["status"]["phase"] == "Succeeded", client["status"]
        assert ipaddress.ip_address(client["status"]["podIP"]) in ipaddress.ip_network(ca)
        # pod traffic to a non-pod address leaves masqueraded as the node
        rules = a.run(["nft", "list", "table", "ip", "kos"]).stdout
        assert "ip saddr %s ip daddr != @pod-cidrs masquerade" % ca in rules
        for ip in (web_ip, client["status"]["podIP"]):  # both nodes' pods are "pods"
            a.run(["nft", "get", "element", "ip", "kos", "pod-cidrs", "{ %s }" % ip])
        delete_all_pods(server, 60)

        # node B leaves while node A's agent is down: A drops the route when it is back
        agent_a, argv_a = procs[0]
        agent_a.terminate()
        agent_a.wait(timeout=30)
        st, _, _ = server.request("DELETE", "/api/v1/nodes/node-b")
        assert st == 200
        log = open(os.path.join(server.dir, "node-a.log"), "ab")
        a.popen(argv_a, stdout=log, stderr=log)
        log.close()
        wait_for(lambda: not a.run(["ip", "route", "show", cb]).stdout.strip(),
                 what="the route to the deleted node's pods gone")
        assert "via 10.200.0.2" not in a.run(["ip", "route"]).stdout
    finally:
        try:
            for ns in nss:
                ns.close()  # stops the agents
            for root in roots:
                stop_leftover_containers(root)
            server.stop()
        finally:
            for cg in cgroups:
                remove_cgroup_tree(cg)
            unmount_under(server.dir)
            server.cleanup()
            if kubectl:
                kubectl.cleanup()


def test_pods_wait_for_the_node_pod_cidr(registry):
    """Without node IPAM (--allocate-node-cidrs=false) the node has no podCIDR: pods wait
    with the kubelet's "network is not ready" (hostNetwork pods run), and start with an
    address from the podCIDR as soon as one is set on the Node."""
    ns = NetNS()
    a = AgentEnv(NODE, ["--allocate-node-cidrs=false"], netns=ns, registry=registry,
                 drain_timeout=60)
    try:
        server = a.start().server
        env = Env(server, a.image, a.kubectl, ns)
        pns = env.new_ns()
        env.create_pod(pns, "waits", ["sleep", "3600"])
        env.create_pod(pns, "hostnet", ["sleep", "3600"], hostNetwork=True)
        env.wait_phase(pns, "hostnet", "Running")

        def not_ready():
            p = env.pod(pns, "waits")
            cs = (p or {}).get("status", {}).get("containerStatuses") or [{}]
            w = cs[0].get("state", {}).get("waiting", {})
            return w if "network is not ready" in w.get("message", "") else None
        w = wait_for(not_ready, what="network is not ready")
        assert w["reason"] == "ContainerCreating"
        assert "NetworkReady=false reason:NetworkPluginNotReady" in w["message"]
        assert wait_for(lambda: env.events(pns, "NetworkNotReady"), what="NetworkNotReady")
        st, body, _ = server.request(
            "PATCH", "/api/v1/nodes/" + NODE, {"spec": {"podCIDR": "10.66.3.0/24",
                                                       "podCIDRs": ["10.66.3.0/24"]}},
            content_type="application/strategic-merge-patch+json")
        assert st == 200, body
        pod = env.wait_phase(pns, "waits", "Running")
        assert ipaddress.ip_address(pod["status"]["podIP"]) in \
            ipaddress.ip_network("10.66.3.0/24")
        # and the podCIDR cannot be changed under the running pod
        st, body, _ = server.request(
            "PATCH", "/api/v1/nodes/" + NODE, {"spec": {"podCIDR": "10.66.4.0/24",
                                                       "podCIDRs": ["10.66.4.0/24"]}},
            content_type="application/strategic-merge-patch+json")
        assert st == 422 and "node updates may not change podCIDR" in body["message"], body
    finally:
        try:
            a.close()
        finally:
            ns.close()


def test_network_flags_are_checked(tmp_path):
    for argv, text in [
            (["server", "--cluster-cidr", "10.42.0.0/33"], "--cluster-cidr: invalid CIDR address"),
            (["server", "--cluster-cidr", "10.42.0.0/16", "--node-cidr-mask-size", "8"],
             "is smaller than the mask of --cluster-cidr"),
            (["server", "--cluster-cidr", "10.0.0.0/8", "--node-cidr-mask-size", "26"],
             "New CIDR set failed; the node CIDR size is too big"),
            (["server", "--allocate-node-cidrs=maybe"], "strconv.ParseBool"),
            (["agent", "--server", "https://127.0.0.1:1", "--network-plugin", "cni"],
             "--network-plugin: \"cni\" is not supported (kubenet or none)"),
            (["agent", "--server", "https://127.0.0.1:1", "--bridge-name", "a-very-long-bridge"],
             "--bridge-name")]:
        p = subprocess.run([KOS_BIN] + argv + ["--data-dir", str(tmp_path / "d")]
                           if argv[0] == "server" else [KOS_BIN] + argv,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (argv, p.returncode, p.stderr)
        assert text in p.stderr, (argv, p.stderr)

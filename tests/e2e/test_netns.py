"""The test helper that runs kos inside a network namespace of its own (netns.py): the API
server inside is reached from the host, a host service is reached from inside, two
namespaces linked by a veth pair reach each other, and closing removes the namespace."""

import http.server
import os
import threading

import pytest

from kos import KosServer
from netns import NetNS, free_port


@pytest.fixture
def ns():
    n = NetNS()
    try:
        yield n
    finally:
        n.close()


def test_server_inside_reached_from_host(ns, kubectl_factory):
    s = KosServer(netns=ns)
    try:
        s.start()
        k = kubectl_factory(s, "1.33")
        out = k.run("get", "namespaces", "-o", "name").stdout.split()
        assert "namespace/kube-system" in out
        # the server really listens inside the namespace (the host side is socat)
        inside = ns.run(["ss", "-Hltn", "sport = :%d" % s.port]).stdout
        assert inside.strip()
    finally:
        s.cleanup()


def test_agent_inside_registers_its_node(ns, kubectl_factory):
    """The embedded node agent works inside (nsenter leaves the cgroup mounts visible)."""
    s = KosServer(agent=True, netns=ns)
    try:
        s.start()
        k = kubectl_factory(s, "1.33")
        k.run("wait", "--for=condition=Ready", "node", "--all", "--timeout=60s", timeout=90)
    finally:
        s.cleanup()


def test_host_service_reached_from_inside(ns):
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hello)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        ns.forward_in(port)
        p = ns.run(["busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:%d/" % port])
        assert p.stdout == "hello from the host"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_linked_namespaces_and_close():
    a, b = NetNS(), NetNS()
    try:
        a.link(b, "10.199.0.1/30", "10.199.0.2/30")
        a.run(["busybox", "ping", "-c", "1", "-W", "5", "10.199.0.2"])
        # the addresses exist only inside the namespaces
        assert "10.199.0.1" not in os.popen("ip -4 addr").read()
    finally:
        a.close()
        b.close()
    assert not os.path.exists(a.path) and not os.path.exists(b.path)

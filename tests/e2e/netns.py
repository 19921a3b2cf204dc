"""Network namespaces for end-to-end tests.

Tests that make bridges, veth pairs, routes or nftables rules run their kos inside a network
namespace of their own: parallel test runs cannot collide on names or addresses, and deleting
the namespace removes every interface and rule that was made in it, also when a test fails.

Processes enter the namespace with `nsenter --net=` rather than `ip netns exec`: the latter
also unshares the mount namespace and remounts /sys, which hides the cgroup hierarchies the
node agent needs.

Servers in tests bind 127.0.0.1 only, and a namespace has a loopback of its own, so a port is
carried between the host's loopback and the namespace's by a pair of socat processes joined
through a unix socket in the test's temp dir (a unix socket on the filesystem is reachable
from every network namespace):
- forward_out(port): host 127.0.0.1:port -> namespace 127.0.0.1:port (e.g. the API server
  running inside, so that kubectl and the Python client on the host reach it);
- forward_in(port): namespace 127.0.0.1:port -> host 127.0.0.1:port (e.g. the image registry
  running on the host, for the node agent inside).
"""

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

NETNS_DIR = "/var/run/netns"


# Ports handed out by free_port(): below the kernel's ephemeral range (32768-60999 by
# default) and the NodePort range (30000-32767).
_PORTS_FROM, _PORTS_TO = 20000, 29999


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(v) for v in f.read().split()[:2])
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def _port_range():
    """Where free_port() draws from: 20000-29999 below the ephemeral range, or above it when a
    host moved that range down; None when the ephemeral range leaves no room."""
    lo, hi = _ephemeral_range()
    if lo - 1 >= _PORTS_FROM + 1000:
        return _PORTS_FROM, min(_PORTS_TO, lo - 1)
    if hi + 1000 <= 65535:
        return hi + 1, 65535
    return None


def free_port():
    """A TCP port free on the host (every address), for a server that a test starts later and
    that binds the number itself (ports are per namespace: a port free here is also used for
    the same service inside a namespace, so one number names both ends).

    Not a port the kernel hands out (bind to 0): those come from the ephemeral range, where any
    process's outgoing connection may take the number between this check and the server's
    bind, on a busy machine often enough to fail a run. Outside that range only another
    explicit pick can take it, and the numbers are drawn at random."""
    span = _port_range()
    for _ in range(200 if span else 0):
        port = span[0] + secrets.randbelow(span[1] - span[0] + 1)
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # no room outside the ephemeral range: the kernel's pick
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


class NetNS:
    """A network namespace /var/run/netns/<name> with its loopback up."""

    def __init__(self, prefix="kos-t"):
        self.name = "%s-%s" % (prefix, secrets.token_hex(4))
        self.dir = tempfile.mkdtemp(prefix="kos-netns-")
        self.procs = []
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    @property
    def path(self):
        return os.path.join(NETNS_DIR, self.name)

    def argv(self, argv):
        """argv prefixed so that it runs inside the namespace (only the network namespace
        changes; the mounts, cgroups and pids stay the host's)."""
        return ["nsenter", "--net=" + self.path, "--"] + [str(a) for a in argv]

    def run(self, argv, check=True, timeout=60, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        p = subprocess.run(self.argv(argv), timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise AssertionError("in netns %s: %s failed (%d): %s%s" % (
                self.name, " ".join(map(str, argv)), p.returncode, p.stdout, p.stderr))
        return p

    def popen(self, argv, **kw):
        """A long-running process inside the namespace, stopped by close()."""
        p = subprocess.Popen(self.argv(argv), **kw)
        self.procs.append(p)
        return p

    def _socat(self, inside, args):
        log = open(os.path.join(self.dir, "socat.log"), "ab")
        try:
            argv = ["socat"] + args
            p = subprocess.Popen(self.argv(argv) if inside else argv, stdout=log, stderr=log)
        finally:
            log.close()
        self.procs.append(p)
        return p

    def _wait_listening(self, inside, port, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if inside:
                out = self.run(["ss", "-Hltn", "sport = :%d" % port], check=False).stdout
                if out.strip():
                    return
            else:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("socat did not listen on port %d (%s) in time" % (
            port, "namespace" if inside else "host"))

    def _forward(self, port, listen_inside):
        """socat at the listening end accepts 127.0.0.1:port and hands each connection
        through a unix socket to socat at the other end, which connects to 127.0.0.1:port."""
        sock = os.path.join(self.dir, "%s-%d.sock" % ("in" if listen_inside else "out", port))
        self._socat(not listen_inside, ["UNIX-LISTEN:%s,fork" % sock, "TCP:127.0.0.1:%d" % port])
        deadline = time.time() + 60
        while not os.path.exists(sock):
            if time.time() > deadline:
                raise RuntimeError("socat made no socket " + sock)
            time.sleep(0.02)
        self._socat(listen_inside, ["TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % port,
                                    "UNIX-CONNECT:" + sock])
        self._wait_listening(listen_inside, port)

    def forward_out(self, port):
        """Host 127.0.0.1:port reaches 127.0.0.1:port inside the namespace."""
        self._forward(port, listen_inside=False)

    def forward_in(self, port):
        """127.0.0.1:port inside the namespace reaches the host's 127.0.0.1:port."""
        self._forward(port, listen_inside=True)

    def link(self, other, my_cidr, other_cidr, my_if=None, other_if=None):
        """A veth pair between this namespace and another, addressed with my_cidr here and
        other_cidr there ("10.200.0.1/24", "10.200.0.2/24"), both ends up: two nodes that
        can route to each other."""
        my_if = my_if or "veth-" + secrets.token_hex(3)
        other_if = other_if or "veth-" + secrets.token_hex(3)
        subprocess.run(["ip", "link", "add", my_if, "netns", self.name, "type", "veth",
                        "peer", "name", other_if, "netns", other.name],
                       check=True, capture_output=True)
        self.run(["ip", "addr", "add", my_cidr, "dev", my_if])
        self.run(["ip", "link", "set", my_if, "up"])
        other.run(["ip", "addr", "add", other_cidr, "dev", other_if])
        other.run(["ip", "link", "set", other_if, "up"])
        return my_if, other_if

    def close(self):
        """Stops every process started here and deletes the namespace (and with it every
        interface, address, route and nftables rule made in it)."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

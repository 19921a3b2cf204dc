"""Helpers for end-to-end tests: start the real build/kos on a free loopback port in a
temporary data dir, and run real kubectl binaries against it. kos serves HTTPS only: raw
requests go through an ssl context built from the admin kubeconfig (its CA and client
certificate, written to files in the server's temp dir)."""

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import yaml

from netns import free_port as netns_free_port

KOS_BIN = os.environ.get(
    "KOS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "kos"))


def kubectl_path(version):
    """The kubectl binary of a minor version ("1.33"), installed beside the kubectl on PATH."""
    real = os.path.realpath(shutil.which("kubectl"))
    path = os.path.join(os.path.dirname(real), "kubectl." + version)
    if not os.path.exists(path):
        raise RuntimeError("kubectl %s is not installed at %s" % (version, path))
    return path


CGROUP_FS = "/sys/fs/cgroup"


def cgroup_hierarchies():
    """Mount points of every cgroup hierarchy (each v1 controller, the v2 tree)."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype = right.split(" ")[0]
            if fstype in ("cgroup", "cgroup2"):
                mounts.append(left.split(" ")[4])
    return mounts


def remove_cgroup_tree(rel):
    """Removes the cgroup `rel` ("/kos-test-ab12") with everything below it, bottom-up, in
    every hierarchy; processes still inside are killed first. Only ever called on a test's own
    cgroup root."""
    assert rel.startswith("/") and rel.strip("/") and ".." not in rel
    for mount in cgroup_hierarchies():
        top = mount + rel
        if not os.path.isdir(top):
            continue
        dirs = [d for d, _, _ in os.walk(top)]
        for d in sorted(dirs, key=len, reverse=True):
            for attempt in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    try:
                        with open(os.path.join(d, "cgroup.procs")) as f:
                            for pid in f.read().split():
                                try:
                                    os.kill(int(pid), signal.SIGKILL)
                                except OSError:
                                    pass
                    except OSError:
                        pass
                    time.sleep(0.1)


def process_start(pid):
    """The start time (clock ticks since boot) of process pid, or None when there is none.
    A pid names one process only together with its start time: on a busy host (pid_max 32768
    wraps in minutes) the number is soon given to another process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            # after the ")" that ends the command name: state is field 3, starttime field 22
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def processes(pids):
    """{pid: start time} of running processes, to ask process_gone() about later."""
    got = {p: process_start(p) for p in pids}
    assert all(v is not None for v in got.values()), "not running: %r" % got
    return got


def process_gone(pid, start):
    """True when the process that was pid (started at start) no longer exists; a zombie
    still counts as existing, as /proc shows it until it is reaped."""
    return process_start(pid) != start


def wait_for(fn, timeout=60, what="condition", interval=0.2, diagnose=None):
    """Calls fn until it returns something true, which is returned; fails the test after
    timeout seconds with the last value (and what diagnose() returns, if given)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    msg = "timed out waiting for %s (last: %r)" % (what, last)
    raise AssertionError(msg + "\n" + diagnose() if diagnose else msg)


def stop_process(p):
    """SIGTERM, up to 10 s, then SIGKILL; closes the pipes the test read from."""
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


def read_until_closed(s):
    """What a socket (or the Python client's port-forward socket) sends until the peer closes
    it; on a timeout or reset, what came until then."""
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ConnectionError):
        pass
    return data


def python_core_api(server):
    """The official Python client's CoreV1Api on the server's admin kubeconfig."""
    from kubernetes import client, config
    cfg = client.Configuration()
    config.load_kube_config(config_file=server.kubeconfig, client_configuration=cfg)
    return client.CoreV1Api(client.ApiClient(cfg))


def portforward_http_get(api, pod, ns, port, path="/index.html"):
    """An HTTP/1.0 GET of path from the pod's port through the Python client's port-forward:
    (the bytes until the pod's server closed the connection, the port's error or None)."""
    from kubernetes.stream import portforward
    pf = portforward(api.connect_get_namespaced_pod_portforward, pod, ns, ports=str(port))
    try:
        s = pf.socket(port)
        s.settimeout(10)
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
        data = read_until_closed(s)
        s.close()
        return data, pf.error(port)
    finally:
        pf.close()


def stop_leftover_containers(agent_root):
    """Safety net after a test's agent stopped (it leaves containers running by design):
    stops and removes the containers of the agent whose --root-dir is agent_root (for an
    embedded agent, DATA/agent)."""
    state = os.path.join(agent_root, "containers")
    if not os.path.isdir(state):
        return
    flags = ["--state-root", state, "--runtime-root", os.path.join(agent_root, "runtime")]
    for cid in os.listdir(state):
        subprocess.run([KOS_BIN, "ctr", "stop", *flags, "--id", cid, "--timeout", "0"],
                       capture_output=True, timeout=60)
        subprocess.run([KOS_BIN, "ctr", "rm", *flags, "--id", cid], capture_output=True,
                       timeout=60)


def delete_all_pods(server, timeout=30):
    """Teardown: deletes every pod with a grace period of 0 and waits up to timeout seconds for
    the list to be empty (the agent has stopped their containers). Raises nothing: a server
    that went away has nothing more to delete."""
    try:
        st, body, _ = server.request("GET", "/api/v1/pods")
        for p in (body.get("items") or []) if st == 200 else []:
            m = p["metadata"]
            server.request("DELETE", "/api/v1/namespaces/%s/pods/%s?gracePeriodSeconds=0" % (
                m["namespace"], m["name"]))
        deadline = time.time() + timeout
        while time.time() < deadline:
            st, body, _ = server.request("GET", "/api/v1/pods")
            if st == 200 and not body.get("items"):
                return
            time.sleep(0.2)
    except OSError:
        pass


class AgentEnv:
    """The pod tests' node: a test registry with the busybox image (or registry=(Registry,
    image ref) borrowed from the caller, who stops it), a KosServer with its embedded agent
    (agent=True, --node-name node, in netns if given: the registry's port is forwarded in; the
    caller closes the namespace after close()) and kubectl 1.33. close() deletes every pod
    (waiting up to drain_timeout seconds), stops the server, removes what containers the agent
    left, then the server's and the registry's temp dirs. As a context manager it starts, and
    closes also when start() fails half-way."""

    def __init__(self, node, extra_args=(), netns=None, registry=None, drain_timeout=30):
        self.node = node
        self.extra_args = ["--node-name", node] + list(extra_args)
        self.netns = netns
        self.drain_timeout = drain_timeout
        self.reg, self.image = registry if registry else (None, None)
        self.own_registry = registry is None
        self.server = None
        self.kubectls = {}
        self.closed = False

    def start_registry(self):
        """The registry part of start(), for a caller that must measure something between."""
        if self.own_registry and self.reg is None:
            from registry import Registry, push_busybox_image
            self.reg = Registry()
            self.reg.start()
            self.image = push_busybox_image(self.reg)["ref"]
        return self

    def start_server(self):
        if self.netns is not None:
            self.netns.forward_in(self.reg.port)
        self.server = KosServer(extra_args=self.extra_args, agent=True, netns=self.netns)
        self.server.start()
        self.kubectl_of("1.33")
        return self

    def start(self):
        return self.start_registry().start_server()

    @property
    def kubectl(self):
        return self.kubectl_of("1.33")

    def kubectl_of(self, version):
        """A Kubectl of that minor version against the server, made once, removed by close()."""
        if version not in self.kubectls:
            self.kubectls[version] = Kubectl(self.server, version)
        return self.kubectls[version]

    def close(self):
        if self.closed:
            return
        self.closed = True
        try:
            if self.server:
                if self.server.proc and self.server.proc.poll() is None:
                    delete_all_pods(self.server, self.drain_timeout)
                self.server.stop()
                stop_leftover_containers(os.path.join(self.server.data_dir, "agent"))
        finally:
            try:
                if self.server:
                    self.server.cleanup()
            finally:
                if self.own_registry and self.reg:
                    self.reg.stop()
                for k in self.kubectls.values():
                    k.cleanup()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()


class KosServer:
    """A kos server in a temp dir. The embedded node agent is off (--disable-agent) unless
    agent=True: then it runs under a cgroup root of its own (/kos-test-<random>), with its
    pod logs in the temp dir, and cleanup() removes that cgroup tree. With netns (a
    netns.NetNS) the server runs inside that network namespace and its port is forwarded to
    the host's loopback under the same number, so that the admin kubeconfig works unchanged
    from the host; the caller closes the namespace after cleanup()."""

    def __init__(self, extra_args=(), agent=False, netns=None):
        self.dir = tempfile.mkdtemp(prefix="kos-e2e-")
        self.data_dir = os.path.join(self.dir, "data")
        self.extra_args = list(extra_args)
        self.agent = agent
        self.cgroup_root = "/kos-test-" + secrets.token_hex(6) if agent else None
        self.pod_log_dir = os.path.join(self.dir, "pod-logs")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.ssl_context = None
        self.netns = netns

    def agent_args(self):
        if not self.agent:
            return ["--disable-agent"]
        args = []
        if not any(a.startswith("--cgroup-root") for a in self.extra_args):
            args += ["--cgroup-root", self.cgroup_root]
        if not any(a.startswith("--pod-log-dir") for a in self.extra_args):
            args += ["--pod-log-dir", self.pod_log_dir]
        # pods get networks of their own (bridge, veth, routes, nftables) only inside a
        # namespace of the test's: on the host's they share the node's, as before
        if self.netns is None and not any(a.startswith("--network-plugin")
                                          for a in self.extra_args):
            args += ["--network-plugin=none"]
        # the Service proxy programs nftables: only inside a namespace of the test's own
        if self.netns is None and not any(a.startswith("--proxy-mode") for a in self.extra_args):
            args += ["--proxy-mode", "none"]
        # the default disk thresholds (nodefs.available<10%, imagefs.available<15%) would
        # evict every test pod on a host whose disk is that full, which the test does not
        # decide; tests of eviction give their own thresholds
        if not any(a.startswith("--eviction-hard") for a in self.extra_args):
            args += ["--eviction-hard", "memory.available<100Mi"]
        return args

    @property
    def kubeconfig(self):
        return os.path.join(self.data_dir, "admin.kubeconfig")

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def tls_files(self, kubeconfig=None):
        """Writes the CA, client certificate and key of a kubeconfig (default: admin) to
        files in the server's temp dir; returns their paths (ca, cert, key)."""
        kubeconfig = kubeconfig or self.kubeconfig
        with open(kubeconfig) as f:
            cfg = yaml.safe_load(f)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        d = os.path.join(self.dir, "client-tls")
        os.makedirs(d, mode=0o700, exist_ok=True)
        paths = []
        for name, data in [("ca.crt", cluster.get("certificate-authority-data")),
                           ("client.crt", user.get("client-certificate-data")),
                           ("client.key", user.get("client-key-data"))]:
            path = os.path.join(d, name)
            if data is None:
                paths.append(None)
                continue
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(data))
            paths.append(path)
        return tuple(paths)

    def make_ssl_context(self, cert=True):
        """An ssl context trusting the cluster CA; with the admin client certificate unless
        cert is False."""
        ca, crt, key = self.tls_files()
        ctx = ssl.create_default_context(cafile=ca)
        # with --tls-cert-file the kubeconfig trusts the served certificate itself (as Go does)
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        if cert and crt:
            ctx.load_cert_chain(crt, key)
        return ctx

    def urlopen(self, req, timeout=10, context=None):
        """urllib.request.urlopen over TLS as the admin (or with the given context)."""
        return urllib.request.urlopen(req, timeout=timeout,
                                      context=context or self.ssl_context)

    def tls_socket(self, timeout=10, context=None):
        """A TLS socket to the server, handshake done, as the admin."""
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        try:
            return (context or self.ssl_context).wrap_socket(raw, server_hostname="127.0.0.1")
        except BaseException:
            raw.close()
            raise

    def start(self, timeout=60):
        cfg = self.kubeconfig
        if os.path.exists(cfg):
            os.unlink(cfg)
        argv = [KOS_BIN, "server", "--data-dir", self.data_dir, "--bind-address", "127.0.0.1"]
        if self.netns is not None and not self.port:
            self.port = netns_free_port()
            self.netns.forward_out(self.port)
        argv += ["--secure-port", str(self.port or 0)] + self.agent_args() + self.extra_args
        if self.netns is not None:
            argv = self.netns.argv(argv)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("kos exited with %d:\n%s" % (self.proc.returncode, self.log()))
            if os.path.exists(cfg):
                with open(cfg) as f:  # written atomically: never half there
                    server = yaml.safe_load(f)["clusters"][0]["cluster"]["server"]
                self.port = int(server.rsplit(":", 1)[1])
                try:
                    self.ssl_context = self.make_ssl_context()
                    if self.get_raw("/readyz") == b"ok":
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("kos did not become ready:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def get_raw(self, path, headers=None):
        req = urllib.request.Request(self.url + path, headers=headers or {})
        with self.urlopen(req, timeout=10) as r:
            return r.read()

    def request(self, method, path, body=None, content_type="application/json", headers=None):
        """Returns (status, parsed JSON or raw bytes, headers)."""
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            if isinstance(data, str):
                data = data.encode()
        h = {"Content-Type": content_type, "Accept": "application/json"}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with self.urlopen(req, timeout=30) as r:
                status, raw, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), e.headers
        try:
            return status, json.loads(raw), hdrs
        except ValueError:
            return status, raw, hdrs

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        try:
            self.stop()
        finally:
            try:
                if self.cgroup_root:
                    remove_cgroup_tree(self.cgroup_root)
            finally:
                unmount_under(self.dir)
                shutil.rmtree(self.dir, ignore_errors=True)


def unmount_under(path):
    """Detaches every mount at or below path (pods' network namespaces are bind mounts in
    the agent's state dir), deepest first, so that the directory can be removed."""
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
    except OSError:
        return
    points = [p.replace("\\040", " ") for p in points]
    for p in sorted(set(points), key=len, reverse=True):
        if p == path or p.startswith(path + "/"):
            subprocess.run(["umount", "-l", p], capture_output=True)


class Kubectl:
    def __init__(self, server, version):
        self.server = server
        self.version = version
        self.bin = kubectl_path(version)
        self.cache = tempfile.mkdtemp(prefix="kos-kubectl-cache-")

    def run(self, *args, input=None, check=True, timeout=60):
        cmd = [self.bin, "--kubeconfig", self.server.kubeconfig, "--cache-dir", self.cache,
               "--request-timeout=20s"] + list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d):\nstdout:%s\nstderr:%s\nserver log:\n%s" % (
                " ".join(cmd), p.returncode, p.stdout, p.stderr, self.server.log()))
        return p

    def popen(self, *args):
        cmd = [self.bin, "--kubeconfig", self.server.kubeconfig, "--cache-dir", self.cache,
               ] + list(args)
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cleanup(self):
        shutil.rmtree(self.cache, ignore_errors=True)

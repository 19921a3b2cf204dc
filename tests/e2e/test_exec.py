"""kubectl exec / attach / port-forward and the Python client's stream() against kos server
with its embedded node agent (root, real runc, busybox pods from a local registry)."""
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest

from kos import (AgentEnv, portforward_http_get, python_core_api, read_until_closed, stop_process,
                 wait_for)
from netns import free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

NODE = "kos-exec-node"


@pytest.fixture(scope="module")
def env():
    with AgentEnv(NODE) as a:
        ns = "ex-" + uuid.uuid4().hex[:8]
        a.kubectl.run("create", "namespace", ns)
        e = {"server": a.server, "image": a.image, "kubectl": a.kubectl, "ns": ns, "agent": a}
        create_pod(e, "box", [{"name": "main", "command": ["sleep", "3600"]},
                              {"name": "side", "command": ["sleep", "3600"]}])
        wait_running(e, "box")
        yield e


def kubectl(env, version):
    return env["agent"].kubectl_of(version)


def create_pod(env, name, containers, **spec):
    for c in containers:
        c.setdefault("image", env["image"])
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": env["ns"]},
            "spec": {"nodeName": NODE, "restartPolicy": "Never", "containers": containers,
                     "terminationGracePeriodSeconds": 1, **spec}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{env['ns']}/pods", body)
    assert st == 201, obj
    return obj


def wait_running(env, name):
    def running():
        st, p, _ = env["server"].request(
            "GET", f"/api/v1/namespaces/{env['ns']}/pods/{name}")
        cs = (p.get("status") or {}).get("containerStatuses") or []
        return p if st == 200 and cs and all("running" in c.get("state", {}) for c in cs) \
            else None
    return wait_for(running, what=f"pod {name} running")


# 1.30+: WebSocket v5; 1.27-1.29: SPDY/3.1 with v4.channel.k8s.io
@pytest.mark.parametrize("version", ["1.33", "1.30", "1.29", "1.27"])
def test_exec_output_stdin_and_exit_code(env, version):
    k, ns = kubectl(env, version), env["ns"]
    p = k.run("exec", "-n", ns, "box", "-c", "main", "--", "sh", "-c", "echo out; echo err >&2")
    assert p.stdout == "out\n" and p.stderr == "err\n"
    p = k.run("exec", "-n", ns, "box", "-c", "main", "--", "sh", "-c", "exit 3", check=False)
    assert p.returncode == 3, p.stderr
    assert "command terminated with exit code 3" in p.stderr
    p = k.run("exec", "-i", "-n", ns, "box", "-c", "side", "--", "sh", "-c",
              "tr a-z A-Z; echo done", input="hello stdin\n")
    assert p.stdout == "HELLO STDIN\ndone\n"
    # large output arrives whole
    p = k.run("exec", "-n", ns, "box", "-c", "main", "--", "sh", "-c",
              "i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done")
    lines = p.stdout.splitlines()
    assert len(lines) == 20000 and lines[-1] == "line-19999"


@pytest.mark.parametrize("version", ["1.33", "1.29"])
def test_exec_errors(env, version):
    k, ns = kubectl(env, version), env["ns"]
    p = k.run("exec", "-n", ns, "box", "-c", "nope", "--", "true", check=False)
    assert p.returncode != 0 and "container nope is not valid for pod box" in p.stderr
    p = k.run("exec", "-n", ns, "missing", "--", "true", check=False)
    assert p.returncode != 0 and 'pods "missing" not found' in p.stderr
    st, body, _ = env["server"].request(
        "GET", f"/api/v1/namespaces/{ns}/pods/box/exec?command=true&stdout=true")
    assert st == 400 and "a container name must be specified for pod box, choose one of: " \
        "[main side]" in body["message"], body
    st, body, _ = env["server"].request(
        "GET", f"/api/v1/namespaces/{ns}/pods/box/exec?command=true&stdout=true&container=main")
    assert st == 400 and body["message"] == "Upgrade request required", body
    p = k.run("exec", "-n", ns, "box", "-c", "main", "--", "/no/such/binary", check=False)
    assert p.returncode != 0


def test_python_client_stream(env):
    pytest.importorskip("kubernetes")
    from kubernetes.stream import stream
    api = python_core_api(env["server"])
    ns = env["ns"]
    out = stream(api.connect_get_namespaced_pod_exec, "box", ns, container="main",
                 command=["sh", "-c", "echo py-out"], stderr=True, stdin=False, stdout=True,
                 tty=False)
    assert out == "py-out\n"
    ws = stream(api.connect_get_namespaced_pod_exec, "box", ns, container="main",
                command=["sh", "-c", "read x; echo got-$x; exit 5"], stderr=True, stdin=True,
                stdout=True, tty=False, _preload_content=False)
    ws.write_stdin("abc\n")
    ws.run_forever(timeout=90)  # returns when the stream ends; bounded for a loaded machine
    assert ws.read_stdout() == "got-abc\n"
    assert ws.returncode == 5
    ws.close()
    # a terminal: the command sees a tty, output comes back on stdout
    ws = stream(api.connect_get_namespaced_pod_exec, "box", ns, container="main",
                command=["sh", "-c", "tty >/dev/null && echo is-a-tty; stty size"],
                stderr=False, stdin=True, stdout=True, tty=True, _preload_content=False)
    ws.write_channel(4, '{"Width":123,"Height":45}')
    ws.run_forever(timeout=90)  # returns when the stream ends; bounded for a loaded machine
    out = ws.read_stdout()
    assert "is-a-tty" in out, out
    ws.close()


@pytest.fixture(scope="module")
def web(env):
    """A busybox httpd pod serving a known page on a free port."""
    port = free_port()
    create_pod(env, "web", [{"name": "httpd", "command": [
        "sh", "-c", "mkdir -p /www && echo hello-from-pod > /www/index.html && "
        "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done > /www/big.txt && "
        f"exec httpd -f -p {port} -h /www"]}])
    pod = wait_running(env, "web")

    def listening():
        try:
            socket.create_connection((pod["status"]["podIP"], port), timeout=2).close()
            return True
        except OSError:
            return False
    wait_for(listening, what="httpd up")
    return port


def port_forward(env, version, remote):
    k = kubectl(env, version)
    local = free_port()
    p = k.popen("port-forward", "-n", env["ns"], "pod/web", f"{local}:{remote}")
    try:
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline and "Forwarding from" not in line:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                raise AssertionError("port-forward exited: " + p.stderr.read())
        for _ in range(3):  # several connections through one session
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html",
                                        timeout=10) as r:
                assert r.read() == b"hello-from-pod\n"
        with urllib.request.urlopen(f"http://127.0.0.1:{local}/big.txt", timeout=10) as r:
            lines = r.read().decode().splitlines()
            assert len(lines) == 3000 and lines[-1] == "line-2999"
    finally:
        stop_process(p)


def test_port_forward_websocket_tunnel(env, web):
    port_forward(env, "1.33", web)


def test_port_forward_spdy(env, web):
    port_forward(env, "1.29", web)


def test_port_forward_python_client(env, web):
    pytest.importorskip("kubernetes")
    api = python_core_api(env["server"])
    data, error = portforward_http_get(api, "web", env["ns"], web)
    assert data.endswith(b"hello-from-pod\n"), data
    assert error is None


TTY_SCRIPT = ('i=0; while [ $i -lt 300 ]; do s=$(stty size); [ "$s" = "33 111" ] && break; '
              'sleep 0.1; i=$((i+1)); done; echo "size=$s"; tty; read x; echo "got=$x"; exit 4')


def run_on_terminal(env, args):
    """Runs kubectl with a terminal of 33x111 as its stdio; types a line once the remote
    side shows its tty; returns (exit code, everything kubectl wrote)."""
    import fcntl
    import pty
    import select
    import struct
    import termios
    k = env["kubectl"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    cmd = [k.bin, "--kubeconfig", env["server"].kubeconfig, "--cache-dir", k.cache] + args
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.time() + 90  # kubectl exec and runc exec start slowly under load
    try:
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and b"/dev/pts" in out:
                os.write(master, b"typed\r")
                sent = True
            if p.poll() is not None and not r:
                break
        rc = p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return rc, out.decode(errors="replace")


def test_exec_tty_with_kubectl(env):
    """kubectl exec -it from a terminal: the command runs on a tty sized as kubectl's."""
    rc, text = run_on_terminal(env, ["exec", "-it", "-n", env["ns"], "box", "-c", "main", "--",
                                     "sh", "-c", TTY_SCRIPT])
    assert "size=33 111" in text, text
    assert "/dev/pts/" in text and "got=typed" in text, text
    assert rc == 4, text


def test_attach_tty_with_kubectl(env):
    """A tty: true container: kubectl attach -it reaches its terminal (size, input, output),
    and the terminal's output is the container's log."""
    ns = env["ns"]
    create_pod(env, "term", [{"name": "main", "stdin": True, "tty": True, "command": [
        "sh", "-c", TTY_SCRIPT]}])
    wait_running(env, "term")
    rc, text = run_on_terminal(env, ["attach", "-it", "-n", ns, "term"])
    assert "size=33 111" in text, text
    assert "/dev/pts/" in text and "got=typed" in text, text
    log = env["kubectl"].run("logs", "-n", ns, "term").stdout
    assert "got=typed" in log, log


def raw_upgrade(server, path, headers):
    """Sends a GET with the given headers on a fresh TLS connection; returns (status, the
    socket, the bytes after the head)."""
    s = server.tls_socket()
    req = "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % path
    req += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    s.sendall(req.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), s, rest


WS_HEADERS = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
              "Sec-WebSocket-Protocol": "v5.channel.k8s.io"}


def test_exec_websocket_get_needs_create(env):
    """The upgrade GET is authorized as get and also as create (kube 1.35's
    AuthorizePodWebsocketUpgradeCreatePermission): get alone never opens a shell."""
    srv, ns = env["server"], env["ns"]
    rbac = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/" % ns
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "exec-get", "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["get"]}]}
    st, body, _ = srv.request("POST", rbac + "roles", role)
    assert st == 201, body
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "exec-get", "namespace": ns},
          "subjects": [{"kind": "User", "name": "getter",
                        "apiGroup": "rbac.authorization.k8s.io"}],
          "roleRef": {"kind": "Role", "name": "exec-get",
                      "apiGroup": "rbac.authorization.k8s.io"}}
    st, body, _ = srv.request("POST", rbac + "rolebindings", rb)
    assert st == 201, body
    path = f"/api/v1/namespaces/{ns}/pods/box/exec?command=true&stdout=true&container=main"
    headers = dict(WS_HEADERS, **{"Impersonate-User": "getter"})

    def status():
        code, s, _ = raw_upgrade(srv, path, headers)
        s.close()
        return code
    code = status()
    assert code == 403, code
    st, body, _ = srv.request("GET", rbac + "roles/exec-get")
    body["rules"][0]["verbs"] = ["get", "create"]
    st, body, _ = srv.request("PUT", rbac + "roles/exec-get", body)
    assert st == 200, body
    assert wait_for(lambda: status() == 101, what="exec allowed with create")


def test_bad_websocket_input_ends_only_that_session(env):
    """Garbage after the upgrade: the session closes with a protocol error, the server and
    other sessions go on."""
    srv, ns = env["server"], env["ns"]
    path = (f"/api/v1/namespaces/{ns}/pods/box/exec?command=sleep&command=30&stdin=true"
            "&stdout=true&container=main")
    code, s, _ = raw_upgrade(srv, path, WS_HEADERS)
    assert code == 101
    s.sendall(b"\x82\x05hello")  # unmasked client frame: a protocol error
    s.settimeout(10)
    data = read_until_closed(s)
    s.close()
    assert b"\x88\x02\x03\xea" in data  # close 1002
    # an oversized frame header is refused before its payload
    code, s, _ = raw_upgrade(srv, path, WS_HEADERS)
    assert code == 101
    s.sendall(b"\x82\xff\x00\x00\x00\x00\x7f\xff\xff\xff\x00\x00\x00\x00")
    s.settimeout(10)
    data = read_until_closed(s)
    s.close()
    assert b"\x88\x02\x03\xf1" in data  # close 1009
    p = env["kubectl"].run("exec", "-n", ns, "box", "-c", "main", "--", "echo", "still-fine")
    assert p.stdout == "still-fine\n"

    # the commands of the sessions that ended are gone too
    def no_sleepers():
        p = env["kubectl"].run("exec", "-n", ns, "box", "-c", "main", "--", "ps", "-o", "args")
        return "sleep 30" not in p.stdout
    wait_for(no_sleepers, what="the ended sessions' commands to stop")


def test_exec_into_a_finished_container(env):
    srv, ns = env["server"], env["ns"]
    create_pod(env, "done", [{"name": "main", "command": ["true"]}])

    def finished():
        st, pod, _ = srv.request("GET", f"/api/v1/namespaces/{ns}/pods/done")
        return pod.get("status", {}).get("phase") == "Succeeded"
    wait_for(finished, what="pod done")
    code, s, rest = raw_upgrade(
        srv, f"/api/v1/namespaces/{ns}/pods/done/exec?command=true&stdout=true", WS_HEADERS)
    s.close()
    assert code == 500, code


@pytest.mark.parametrize("version", ["1.33", "1.29"])
def test_attach_stdin_once(env, version):
    """kubectl attach -i to a container with stdin and stdinOnce: input reaches the main
    process, its output comes back, and closing stdin ends the container."""
    k, ns = kubectl(env, version), env["ns"]
    name = "att-" + version.replace(".", "")
    create_pod(env, name, [{"name": "main", "stdin": True, "stdinOnce": True, "command": [
        "sh", "-c", "while read l; do echo got-$l; done; echo bye"]}])
    wait_running(env, name)
    p = k.run("attach", "-i", "-n", ns, name, "-c", "main", input="a\nb\n", timeout=60)
    assert "got-a\ngot-b\nbye\n" in p.stdout, (p.stdout, p.stderr)

    def finished():
        st, pod, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        return pod.get("status", {}).get("phase") == "Succeeded"
    wait_for(finished, what="container ended by stdin EOF")


def test_attach_output_only(env):
    k, ns = env["kubectl"], env["ns"]
    create_pod(env, "ticker", [{"name": "main", "command": [
        "sh", "-c", "sleep 2; i=0; while [ $i -lt 5 ]; do echo tick-$i; i=$((i+1)); "
        "sleep 0.2; done"]}])
    wait_running(env, "ticker")
    p = k.run("attach", "-n", ns, "ticker", timeout=60)
    assert "tick-4" in p.stdout, (p.stdout, p.stderr)
    # kubectl checks the name itself; the API answers as kube-apiserver does
    st, body, _ = env["server"].request(
        "GET", f"/api/v1/namespaces/{ns}/pods/box/attach?container=nope&stdout=true")
    assert st == 400 and body["message"] == "container nope is not valid for pod box", body


def test_port_forward_reaches_pod_loopback_and_reports_errors(env):
    """The connection is made inside the pod's network namespace: a server bound to the
    pod's 127.0.0.1 is reachable; a closed port comes back as kubelet's error text."""
    pytest.importorskip("kubernetes")
    port, closed = free_port(), free_port()
    create_pod(env, "loweb", [{"name": "httpd", "command": [
        "sh", "-c", "mkdir -p /www && echo loopback-only > /www/index.html && "
        f"exec httpd -f -p 127.0.0.1:{port} -h /www"]}])
    wait_running(env, "loweb")
    api = python_core_api(env["server"])

    def fetch():
        data, _ = portforward_http_get(api, "loweb", env["ns"], port)
        return data if data.endswith(b"loopback-only\n") else None
    wait_for(fetch, what="the pod's loopback server through port-forward")
    from kubernetes.stream import portforward
    pf = portforward(api.connect_get_namespaced_pod_portforward, "loweb", env["ns"],
                     ports=str(closed))
    try:
        err = wait_for(lambda: pf.error(closed), what="the forwarding error")
        assert f"error forwarding port {closed} to pod loweb" in err, err
    finally:
        pf.close()

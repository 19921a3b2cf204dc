"""A standalone `kos agent`'s kubelet endpoint and the API server's proxy to it: a
`kos server --disable-agent` plus one `kos agent` (node address 127.0.0.1, kubelet endpoint on
a free loopback port); kubectl logs / exec / port-forward for its pods go through the API
server to the agent. The endpoint itself lets in only the API server's kubelet client
certificate."""
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

import pytest

from kos import (KOS_BIN, KosServer, Kubectl, portforward_http_get, python_core_api,
                 remove_cgroup_tree, stop_leftover_containers, stop_process, unmount_under,
                 wait_for)
from netns import free_port
from registry import Registry, push_busybox_image

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc"), reason="needs root and runc")

NODE = "kubelet-ep-node"


@pytest.fixture(scope="module")
def env():
    reg = Registry()
    server = KosServer(agent=False)
    agent = None
    root = cgroup = None
    kubectls = []
    try:
        reg.start()
        img = push_busybox_image(reg)
        server.start()
        root = os.path.join(server.dir, "agent")
        cgroup = "/kos-test-kl-" + secrets.token_hex(6)
        port = free_port()
        argv = [KOS_BIN, "agent", "--kubeconfig", server.kubeconfig, "--node-name", NODE,
                "--node-ip", "127.0.0.1", "--address", "127.0.0.1", "--port", str(port),
                "--cgroup-root", cgroup, "--root-dir", root,
                "--pod-log-dir", os.path.join(root, "logs"), "--network-plugin=none",
                "--proxy-mode", "none"]
        log_path = os.path.join(server.dir, "agent.log")
        log = open(log_path, "ab")
        agent = subprocess.Popen(argv, stdout=log, stderr=log)
        log.close()
        k = Kubectl(server, "1.33")
        kubectls.append(k)
        ns = "kl-" + uuid.uuid4().hex[:8]
        k.run("create", "namespace", ns)
        e = {"server": server, "image": img["ref"], "kubectl": k, "ns": ns, "port": port,
             "root": root, "agent": agent, "agent_log": log_path, "kubectls": kubectls}

        def node_ready():
            st, n, _ = server.request("GET", "/api/v1/nodes/" + NODE)
            if agent.poll() is not None:
                raise AssertionError("agent exited:\n" + open(log_path).read()[-3000:])
            return n if st == 200 else None
        wait_for(node_ready, what="node registered")
        yield e
    finally:
        try:
            if kubectls and server.proc:
                kubectls[0].run("delete", "pods", "--all", "-A", "--grace-period=0", "--force",
                                "--wait=false", check=False)
                deadline = time.time() + 30
                while time.time() < deadline:
                    st, body, _ = server.request("GET", "/api/v1/pods")
                    if st == 200 and not body.get("items"):
                        break
                    time.sleep(0.2)
            if agent and agent.poll() is None:
                agent.send_signal(signal.SIGTERM)
                try:
                    agent.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    agent.kill()
                    agent.wait()
            if root:
                stop_leftover_containers(root)
            server.stop()
        finally:
            if cgroup:
                remove_cgroup_tree(cgroup)
            unmount_under(server.dir)
            server.cleanup()
            reg.stop()
            for k in kubectls:
                k.cleanup()


def kubectl(env, version):
    for k in env["kubectls"]:
        if k.version == version:
            return k
    k = Kubectl(env["server"], version)
    env["kubectls"].append(k)
    return k


def create_pod(env, name, containers, restart="Never"):
    for c in containers:
        c.setdefault("image", env["image"])
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": env["ns"]},
            "spec": {"nodeName": NODE, "restartPolicy": restart, "containers": containers,
                     "terminationGracePeriodSeconds": 1}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{env['ns']}/pods", body)
    assert st == 201, obj


def get_pod(env, name):
    st, p, _ = env["server"].request("GET", f"/api/v1/namespaces/{env['ns']}/pods/{name}")
    assert st == 200, p
    return p


def wait_running(env, name):
    def running():
        p = get_pod(env, name)
        cs = (p.get("status") or {}).get("containerStatuses") or []
        return p if cs and all("running" in c.get("state", {}) for c in cs) else None
    return wait_for(running, timeout=120, what=f"pod {name} running")


@pytest.fixture(scope="module")
def box(env):
    create_pod(env, "box", [{"name": "main", "command": [
        "sh", "-c", "echo one; echo two; echo three; exec sleep 3600"]}])
    wait_running(env, "box")
    wait_for(lambda: "three" in kubectl(env, "1.33").run(
        "logs", "-n", env["ns"], "box", check=False).stdout, what="box's lines logged")
    return "box"


def test_node_advertises_the_kubelet_port(env):
    st, n, _ = env["server"].request("GET", "/api/v1/nodes/" + NODE)
    assert st == 200
    assert n["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == env["port"]


def test_logs_plain_and_tail(env, box):
    k, ns = env["kubectl"], env["ns"]
    assert k.run("logs", "-n", ns, box).stdout == "one\ntwo\nthree\n"
    assert k.run("logs", "-n", ns, box, "--tail", "1").stdout == "three\n"
    out = k.run("logs", "-n", ns, box, "-c", "main", "--timestamps").stdout.splitlines()
    assert len(out) == 3 and out[0].endswith(" one") and out[0][:4].isdigit()
    p = k.run("logs", "-n", ns, box, "-c", "nope", check=False)
    assert p.returncode != 0 and "container nope is not valid for pod box" in p.stderr


def test_logs_follow_reads_a_line_then_interrupt(env):
    k, ns = env["kubectl"], env["ns"]
    create_pod(env, "ticker", [{"name": "t", "command": [
        "sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done"]}])
    wait_running(env, "ticker")
    p = k.popen("logs", "-f", "-n", ns, "ticker")
    try:
        first = p.stdout.readline()
        assert first.startswith("tick-"), (first, p.stderr.read() if p.poll() else "")
        second = p.stdout.readline()
        assert second.startswith("tick-") and second != first
        p.send_signal(signal.SIGINT)
        p.wait(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_logs_previous_after_a_restart(env):
    k, ns = env["kubectl"], env["ns"]
    create_pod(env, "crasher", [{"name": "c", "command": [
        "sh", "-c", "echo attempt-at-$(date +%s%N); exit 1"]}], restart="Always")

    def restarted():
        cs = (get_pod(env, "crasher").get("status") or {}).get("containerStatuses") or []
        return cs and cs[0].get("restartCount", 0) >= 1 and \
            "terminated" in (cs[0].get("lastState") or {})
    wait_for(restarted, timeout=120, what="crasher restarted")
    p = k.run("logs", "-n", ns, "crasher", "--previous")
    assert p.stdout.startswith("attempt-at-"), p.stdout


@pytest.mark.parametrize("version", ["1.33", "1.29"])
def test_exec_with_stdin_and_exit_code(env, box, version):
    k, ns = kubectl(env, version), env["ns"]
    p = k.run("exec", "-n", ns, box, "--", "sh", "-c", "echo out; echo err >&2")
    assert p.stdout == "out\n" and p.stderr == "err\n"
    p = k.run("exec", "-i", "-n", ns, box, "--", "sh", "-c", "tr a-z A-Z; exit 7",
              input="hello stdin\n", check=False)
    assert p.stdout == "HELLO STDIN\n" and p.returncode == 7, p.stderr
    assert "command terminated with exit code 7" in p.stderr
    p = k.run("exec", "-n", ns, box, "--", "sh", "-c", "echo 'a b'\"$0\"", "x y&z=1",
              check=False)
    assert p.stdout == "a bx y&z=1\n", p.stderr


@pytest.mark.parametrize("version", ["1.33", "1.29"])
def test_port_forward_reaches_the_pod(env, version):
    k, ns = kubectl(env, version), env["ns"]
    name = "web" + version.replace(".", "")
    port = free_port()
    create_pod(env, name, [{"name": "httpd", "command": [
        "sh", "-c", "mkdir -p /www && echo hello-through-kubelet > /www/index.html && "
        f"exec httpd -f -p 127.0.0.1:{port} -h /www"]}])
    wait_running(env, name)
    local = free_port()
    p = k.popen("port-forward", "-n", ns, "pod/" + name, f"{local}:{port}")
    try:
        line = ""
        deadline = time.time() + 30
        while time.time() < deadline and "Forwarding from" not in line:
            line = p.stdout.readline()
            if not line and p.poll() is not None:
                raise AssertionError("port-forward exited: " + p.stderr.read())

        def fetch():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html",
                                            timeout=10) as r:
                    return r.read()
            except OSError:
                return None
        assert wait_for(fetch, timeout=30, what="page through port-forward") == \
            b"hello-through-kubelet\n"
    finally:
        stop_process(p)


def kubelet_get(env, path, context):
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (env["port"], path))
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_endpoint_refuses_clients_without_the_apiserver_certificate(env, box):
    ns = env["ns"]
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    # no client certificate
    st, body = kubelet_get(env, f"/exec/{ns}/{box}/main?command=id&output=1", insecure)
    assert st == 401 and body == b"Unauthorized\n", (st, body)
    st, _ = kubelet_get(env, f"/containerLogs/{ns}/{box}/main", insecure)
    assert st == 401
    # a certificate from the cluster CA, but the admin's: not the API server's identity
    _, crt, key = env["server"].tls_files()
    admin = ssl.create_default_context()
    admin.check_hostname = False
    admin.verify_mode = ssl.CERT_NONE
    admin.load_cert_chain(crt, key)
    st, body = kubelet_get(env, f"/containerLogs/{ns}/{box}/main", admin)
    assert st == 403 and b"Forbidden (user=kubernetes-admin, verb=get, resource=nodes, " \
                          b"subresource=proxy)" in body, (st, body)
    st, _ = kubelet_get(env, "/healthz", admin)
    assert st == 403
    # a self-made certificate with the right name but another CA
    d = tempfile.mkdtemp(prefix="kos-kl-cert-")
    try:
        k2, c2 = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", k2, "-out", c2,
                        "-days", "1", "-subj",
                        "/O=system:masters/CN=kube-apiserver-kubelet-client"],
                       check=True, capture_output=True)
        forged = ssl.create_default_context()
        forged.check_hostname = False
        forged.verify_mode = ssl.CERT_NONE
        forged.load_cert_chain(c2, k2)
        st, _ = kubelet_get(env, f"/containerLogs/{ns}/{box}/main", forged)
        assert st == 401
    finally:
        shutil.rmtree(d, ignore_errors=True)
    # curl without any certificate
    p = subprocess.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                        "https://127.0.0.1:%d/exec/%s/%s/main?command=id&output=1"
                        % (env["port"], ns, box)], capture_output=True, text=True, timeout=30)
    assert p.stdout == "401", p
    # the self-signed serving certificate the agent made is kept in its root dir
    assert os.path.exists(os.path.join(env["root"], "pki", "kubelet.crt"))


def test_unreachable_kubelet_is_a_clear_error(env, box):
    """A Node whose kubelet does not answer: kube's dial error texts."""
    port = free_port()
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ghost-node"}}
    st, obj, _ = env["server"].request("POST", "/api/v1/nodes", node)
    assert st == 201, obj
    st, obj, _ = env["server"].request(
        "PATCH", "/api/v1/nodes/ghost-node/status",
        {"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}}},
        content_type="application/merge-patch+json")
    assert st == 200, obj
    ns = env["ns"]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ghost", "namespace": ns},
            "spec": {"nodeName": "ghost-node", "containers": [{"name": "c", "image": "x"}]}}
    st, obj, _ = env["server"].request("POST", f"/api/v1/namespaces/{ns}/pods", body)
    assert st == 201, obj
    try:
        st, obj, _ = env["server"].request("GET", f"/api/v1/namespaces/{ns}/pods/ghost/log")
        assert st == 500, obj
        assert obj["message"] == ('Get "https://127.0.0.1:%d/containerLogs/%s/ghost/c": '
                                  'dial tcp 127.0.0.1:%d: connect: connection refused'
                                  % (port, ns, port)), obj
        p = env["kubectl"].run("exec", "-n", ns, "ghost", "--", "true", check=False)
        assert p.returncode != 0
        assert "error dialing backend: dial tcp 127.0.0.1:%d: connect: connection refused" \
            % port in p.stderr, p.stderr
    finally:
        env["server"].request("DELETE", f"/api/v1/namespaces/{ns}/pods/ghost?gracePeriodSeconds=0")
        env["server"].request("DELETE", "/api/v1/nodes/ghost-node")


def test_attach_through_the_kubelet(env):
    k, ns = env["kubectl"], env["ns"]
    create_pod(env, "att", [{"name": "main", "stdin": True, "stdinOnce": True, "command": [
        "sh", "-c", "while read l; do echo got-$l; done; echo bye"]}])
    wait_running(env, "att")
    p = k.run("attach", "-i", "-n", ns, "att", "-c", "main", input="a\nb\n", timeout=60)
    assert "got-a\ngot-b\nbye\n" in p.stdout, (p.stdout, p.stderr)


def test_python_client_port_forward_and_exec(env, box):
    """The Python client's WebSocket v4 forms: ?ports= becomes the kubelet's ?port=."""
    pytest.importorskip("kubernetes")
    from kubernetes.stream import stream
    port = free_port()
    create_pod(env, "pyweb", [{"name": "httpd", "command": [
        "sh", "-c", "mkdir -p /www && echo hello-python > /www/index.html && "
        f"exec httpd -f -p 127.0.0.1:{port} -h /www"]}])
    wait_running(env, "pyweb")
    api = python_core_api(env["server"])
    out = stream(api.connect_get_namespaced_pod_exec, box, env["ns"],
                 command=["sh", "-c", "echo from-$0", "python"], stderr=True, stdin=False,
                 stdout=True, tty=False)
    assert out == "from-python\n", out

    def fetch():
        data, _ = portforward_http_get(api, "pyweb", env["ns"], port)
        return data if data.endswith(b"hello-python\n") else None
    wait_for(fetch, timeout=30, what="page through the Python client's port-forward")


def test_given_serving_certificate_is_served_and_bad_files_stop_the_agent(env, tmp_path):
    key, crt = str(tmp_path / "k.pem"), str(tmp_path / "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=given-kubelet"], check=True,
                   capture_output=True)
    root = str(tmp_path / "agent2")
    cgroup = "/kos-test-kl2-" + secrets.token_hex(6)
    port = free_port()
    base = [KOS_BIN, "agent", "--kubeconfig", env["server"].kubeconfig, "--node-name",
            "kubelet-ep-node2", "--node-ip", "127.0.0.1", "--address", "127.0.0.1",
            "--cgroup-root", cgroup, "--root-dir", root, "--pod-log-dir", root + "/logs",
            "--network-plugin=none", "--proxy-mode", "none"]
    p = subprocess.run(base + ["--port", str(port), "--tls-cert-file", "/nonexistent",
                               "--tls-private-key-file", key],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "cannot read --tls-cert-file /nonexistent" in p.stderr, p
    proc = subprocess.Popen(base + ["--port", str(port), "--tls-cert-file", crt,
                                    "--tls-private-key-file", key],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def advertised():
            st, n, _ = env["server"].request("GET", "/api/v1/nodes/kubelet-ep-node2")
            return st == 200 and n["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] \
                == port
        wait_for(advertised, what="second node advertising its port")
        served = ssl.get_server_certificate(("127.0.0.1", port), timeout=10)
        with open(crt) as f:
            assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(f.read())
        assert not os.path.exists(os.path.join(root, "pki", "kubelet.crt"))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        remove_cgroup_tree(cgroup)
        env["server"].request("DELETE", "/api/v1/nodes/kubelet-ep-node2")

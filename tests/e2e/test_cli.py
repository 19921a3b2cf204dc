"""The kos command line: version, help, flags, refusals, and the kubeconfig it writes."""

import os
import subprocess
import tempfile

import yaml

from kos import KOS_BIN


def run(*args):
    return subprocess.run([KOS_BIN] + list(args), capture_output=True, text=True, timeout=30)


def test_version_and_help():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("kos version ")
    p = run("server", "--help")
    assert p.returncode == 0
    for flag in ["--data-dir", "--bind-address", "--secure-port", "--disable-agent", "--tls-san",
                 "--tls-cert-file", "--tls-private-key-file", "--client-ca-file",
                 "--token-auth-file", "--anonymous-auth"]:
        assert flag in p.stdout


def test_bad_flags_fail_with_one_line():
    for args in [("server", "--bogus"), ("server", "--secure-port", "70000"),
                 ("server", "--secure-port", "12abc"), ("nosuchcommand",)]:
        p = run(*args)
        assert p.returncode != 0
        assert p.stderr.strip(), args


def test_bad_tls_flags_stop_the_start_with_one_line():
    with tempfile.TemporaryDirectory() as d:
        for args, text in [
                (["--tls-san", "not a name"], 'subject alternative name "not a name"'),
                (["--tls-cert-file", os.path.join(d, "nope.crt")],
                 "--tls-cert-file and --tls-private-key-file must be given together"),
                (["--tls-cert-file", os.path.join(d, "nope.crt"),
                  "--tls-private-key-file", os.path.join(d, "nope.key")], "no such file"),
                (["--client-ca-file", os.path.join(d, "nope.crt")], "no such file")]:
            p = run("server", "--data-dir", os.path.join(d, "data"), "--bind-address",
                    "127.0.0.1", "--secure-port", "0", *args)
            assert p.returncode == 1, (args, p.stderr)
            assert text in p.stderr and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)


def test_kubeconfig_and_disable_agent(server):
    with open(server.kubeconfig) as f:
        cfg = yaml.safe_load(f)
    assert cfg["current-context"] == "kos"
    assert cfg["clusters"][0]["cluster"]["server"] == server.url
    assert server.url.startswith("https://")
    assert cfg["clusters"][0]["cluster"]["certificate-authority-data"]
    assert cfg["users"][0]["user"]["client-certificate-data"]
    assert cfg["users"][0]["user"]["client-key-data"]
    assert oct(os.stat(server.kubeconfig).st_mode & 0o777) == "0o600"
    server.stop()
    server.agent = False  # KosServer then passes --disable-agent
    server.start()
    assert "--disable-agent" in server.agent_args()
    assert server.get_raw("/readyz") == b"ok"


def test_make_run_starts_a_server_and_prints_the_kubectl_line():
    import signal
    import time

    from netns import free_port
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    build = os.path.relpath(os.path.dirname(os.path.abspath(KOS_BIN)), repo)
    port = free_port()  # outside the ephemeral range: not taken meanwhile by a connection
    # `make run` starts the embedded node agent with its defaults (cgroup root "/"): the
    # kubepods cgroups it makes there are removed again if this test made them
    from kos import cgroup_hierarchies
    made = [m + "/kubepods" for m in cgroup_hierarchies() if not os.path.exists(m + "/kubepods")]
    with tempfile.TemporaryDirectory() as d:
        data = os.path.join(d, "data")
        p = subprocess.Popen(["make", "-s", "-C", repo, "run", "BUILD=" + build,
                              "DATA_DIR=" + data, "PORT=%d" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        try:
            lines = []
            deadline = time.time() + 120
            while time.time() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                lines.append(line)
                if "serving the Kubernetes API" in line:
                    break
            out = "".join(lines)
            assert "kubectl --kubeconfig %s/admin.kubeconfig" % data in out, out
            assert os.path.exists(os.path.join(data, "admin.kubeconfig"))
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=30)
            for top in made:
                for sub in ("/burstable", "/besteffort", ""):
                    try:
                        os.rmdir(top + sub)
                    except OSError:
                        pass

"""Keystone login end to end, against a REAL Keystone (Debian's keystone package) started once
for this module with shared/tools/keystone-up.sh: `kos keystone-auth` answers TokenReview and
SubjectAccessReview over HTTPS, its policy allows exactly what it says, other projects/roles,
revoked and expired tokens are refused, auth data is synced into kos, and `kos keystone-login`
works as kubectl's exec credential plugin."""

import calendar
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from kos import KOS_BIN, KosServer, kubectl_path
from netns import free_port

TOOLS = os.environ.get("KOS_SHARED_TOOLS", "/work/shared/tools")
KS_UP = os.path.join(TOOLS, "keystone-up.sh")
KS_DOWN = os.path.join(TOOLS, "keystone-down.sh")

# userA: roleA in projectA (the seed's example); userD: roleB in projectA; userC: roleA in
# projectB (another project); all in domainA.
SEED = ("domainA projectA userA userApass roleA;domainA projectA userD userDpass roleB;"
        "domainA projectB userC userCpass roleA")

POLICY = [
    # v2: roleA members of projectA may read pods in namespace "namespacea".
    {"users": {"roles": ["roleA"], "projects": ["projectA"]},
     "resource_permissions": {"namespacea/pods": ["get", "list"]},
     "nonresource_permissions": {"/healthz": ["get"]}},
    # v1: roleB holders of projectA may get configmaps in "namespacea".
    {"resource": {"verbs": ["get"], "resources": ["configmaps"], "version": "",
                  "namespace": "namespacea"},
     "match": [{"type": "role", "values": ["roleB"]}, {"type": "project", "values": ["projectA"]}]},
]


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            if not line.startswith("export "):
                continue
            for kv in line[len("export "):].split():
                k, _, v = kv.partition("=")
                env[k] = v
    return env


class Keystone:
    def __init__(self, base):
        self.dir = os.path.join(base, "keystone")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/v3" % self.port
        self.env = {}

    def script_env(self):
        e = dict(os.environ, KS_DIR=self.dir, KS_PORT=str(self.port), KS_SEED=SEED)
        return e

    def up(self):
        p = subprocess.run([KS_UP], env=self.script_env(), capture_output=True, text=True,
                           timeout=900)
        if p.returncode != 0:
            if shutil.which("keystone-manage") is None:
                pytest.skip("the keystone package cannot be installed here:\n" + p.stderr[-2000:])
            raise RuntimeError("keystone-up.sh failed:\n%s\n%s" % (p.stdout, p.stderr))
        self.env = read_env(os.path.join(self.dir, "env"))

    def down(self):
        subprocess.run([KS_DOWN, "--purge"], env=self.script_env(), capture_output=True,
                       timeout=60)

    def call(self, method, path, body=None, token=None, headers=None):
        h = {"Content-Type": "application/json"}
        h["X-Auth-Token"] = token or self.env["ADMIN_TOKEN"]
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None), r.headers
        except urllib.error.HTTPError as e:
            return e.code, None, e.headers

    def issue(self, user, password, project, domain="domainA"):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": domain}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": domain}}}}}
        req = urllib.request.Request(self.url + "/auth/tokens", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers["X-Subject-Token"], json.loads(r.read())["token"]


@pytest.fixture(scope="module")
def workdir():
    d = tempfile.mkdtemp(prefix="kos-keystone-e2e-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def keystone(workdir):
    ks = Keystone(workdir)
    try:
        ks.up()
        # A Keystone group for userA: its name must show up in the Kubernetes groups.
        st, body, _ = ks.call("POST", "/groups", {"group": {
            "name": "kos-devs", "domain_id": ks.env["USERA_DOMAIN_ID"]}})
        assert st == 201, st
        st, _, _ = ks.call("PUT", "/groups/%s/users/%s" % (body["group"]["id"],
                                                            ks.env["USERA_ID"]))
        assert st == 204, st
        yield ks
    finally:
        ks.down()


def make_tls(d):
    cert, key = os.path.join(d, "tls.crt"), os.path.join(d, "tls.key")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    return cert, key


class KeystoneAuth:
    """A running `kos keystone-auth` on a free loopback port."""

    def __init__(self, workdir, keystone, *extra, policy=POLICY):
        self.dir = tempfile.mkdtemp(dir=workdir, prefix="ka-")
        self.cert, key = make_tls(workdir)
        self.policy = os.path.join(self.dir, "policy.json")
        with open(self.policy, "w") as f:
            json.dump(policy, f)
        self.log_path = os.path.join(self.dir, "ka.log")
        self.out = open(os.path.join(self.dir, "ka.out"), "w+")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [KOS_BIN, "keystone-auth", "--keystone-url", keystone.url, "--policy-file",
             self.policy, "--listen", "127.0.0.1:0", "--tls-cert-file", self.cert,
             "--tls-private-key-file", key] + list(extra), stdout=self.out, stderr=log)
        log.close()
        deadline = time.time() + 60
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                raise RuntimeError("keystone-auth exited %d: %s" % (self.proc.returncode,
                                                                   self.log()))
            self.out.seek(0)
            for line in self.out:
                if line.startswith("listening on "):
                    self.port = int(line.strip().rsplit(":", 1)[1])
            time.sleep(0.05)
        assert self.port, self.log()
        self.ctx = ssl.create_default_context(cafile=self.cert)
        self.url = "https://127.0.0.1:%d/webhook" % self.port

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def post(self, obj):
        req = urllib.request.Request(self.url, data=json.dumps(obj).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ctx) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw

    def token_review(self, token, version="v1"):
        return self.post({"apiVersion": "authentication.k8s.io/" + version,
                          "kind": "TokenReview", "spec": {"token": token}})

    def sar(self, user, verb, namespace="", resource="", group="", path=None, version="v1"):
        spec = {"user": user["username"], "uid": user["uid"],
                ("groups" if version == "v1" else "group"): user["groups"],
                "extra": user["extra"]}
        if path is not None:
            spec["nonResourceAttributes"] = {"verb": verb, "path": path}
        else:
            spec["resourceAttributes"] = {"verb": verb, "namespace": namespace,
                                          "resource": resource, "group": group}
        st, body = self.post({"apiVersion": "authorization.k8s.io/" + version,
                              "kind": "SubjectAccessReview", "spec": spec})
        assert st == 200, (st, body)
        assert "spec" not in body
        return body["status"]["allowed"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


@pytest.fixture(scope="module")
def webhook(workdir, keystone):
    ka = KeystoneAuth(workdir, keystone)
    try:
        yield ka
    finally:
        ka.stop()


def login(webhook, token):
    st, body = webhook.token_review(token)
    assert st == 200, (st, body, webhook.log())
    assert body["status"]["authenticated"] is True
    return body["status"]["user"]


def test_token_review_maps_user_as_k8s_keystone_auth(keystone, webhook):
    env = keystone.env
    for version in ("v1", "v1beta1"):
        st, body = webhook.token_review(env["USERA_TOKEN"], version)
        assert st == 200, (st, body)
        assert body["apiVersion"] == "authentication.k8s.io/" + version
        assert body["kind"] == "TokenReview"
        user = body["status"]["user"]
        assert body["status"]["authenticated"] is True
        assert user["username"] == "userA"
        assert user["uid"] == env["USERA_ID"]
        # Keystone group names, then the project id.
        assert user["groups"] == ["kos-devs", env["USERA_PROJECT_ID"]]
        extra = user["extra"]
        assert extra["alpha.kubernetes.io/identity/project/id"] == [env["USERA_PROJECT_ID"]]
        assert extra["alpha.kubernetes.io/identity/project/name"] == ["projectA"]
        assert extra["alpha.kubernetes.io/identity/roles"] == ["roleA"]
        assert extra["alpha.kubernetes.io/identity/user/domain/id"] == [env["USERA_DOMAIN_ID"]]
        assert extra["alpha.kubernetes.io/identity/user/domain/name"] == ["domainA"]


def test_bad_tokens_are_refused(webhook):
    for token in ("gAAAAAB-not-a-real-token", "x" * 300, "has space", ""):
        st, body = webhook.token_review(token)
        assert st in (400, 401), (token, st, body)
        if st == 401:
            assert body["status"]["authenticated"] is False
            assert body["status"]["user"]["username"] == ""


def test_bad_requests(webhook):
    assert webhook.post({"apiVersion": "authentication.k8s.io/v2", "kind": "TokenReview",
                         "spec": {"token": "x"}})[0] == 400
    assert webhook.post({"apiVersion": "authentication.k8s.io/v1", "kind": "Pod"})[0] == 400
    assert webhook.post({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                         "spec": {"user": "a"}})[0] == 400
    req = urllib.request.Request(webhook.url, data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10, context=webhook.ctx)
    assert e.value.code == 400


def test_policy_allows_exactly_what_it_says(keystone, webhook):
    env = keystone.env
    a = login(webhook, env["USERA_TOKEN"])
    for version in ("v1", "v1beta1"):
        assert webhook.sar(a, "get", "namespacea", "pods", version=version)
        assert webhook.sar(a, "list", "namespacea", "pods", version=version)
    assert not webhook.sar(a, "delete", "namespacea", "pods")
    assert not webhook.sar(a, "get", "namespaceb", "pods")
    assert not webhook.sar(a, "get", "namespacea", "secrets")
    assert not webhook.sar(a, "get", "namespacea", "configmaps")  # roleB's, not roleA's
    assert not webhook.sar(a, "list", "", "pods")  # cluster-wide
    assert webhook.sar(a, "get", path="/healthz")
    assert not webhook.sar(a, "get", path="/metrics")

    # Same project, another role (v1 entry): configmaps yes, pods no.
    d = login(webhook, env["USERD_TOKEN"])
    assert d["extra"]["alpha.kubernetes.io/identity/roles"] == ["roleB"]
    assert webhook.sar(d, "get", "namespacea", "configmaps")
    assert not webhook.sar(d, "list", "namespacea", "configmaps")
    assert not webhook.sar(d, "get", "namespacea", "pods")

    # Same role, another project: nothing.
    c = login(webhook, env["USERC_TOKEN"])
    assert c["extra"]["alpha.kubernetes.io/identity/project/name"] == ["projectB"]
    assert not webhook.sar(c, "get", "namespacea", "pods")
    assert not webhook.sar(c, "get", "namespacea", "configmaps")

    # A subject without Keystone extra (not from TokenReview) gets nothing.
    bare = dict(a, extra={})
    assert not webhook.sar(bare, "get", "namespacea", "pods")


def test_revoked_token_is_refused(workdir, keystone):
    # No cache here, so revocation takes effect at once (with the default cache it takes
    # effect within the cache TTL, as with kube-apiserver's webhook cache).
    ka = KeystoneAuth(workdir, keystone, "--token-cache-ttl", "0")
    try:
        token, _ = keystone.issue("userA", "userApass", "projectA")
        assert login(ka, token)["username"] == "userA"
        st, _, _ = keystone.call("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})
        assert st == 204
        st, body = ka.token_review(token)
        assert st == 401 and body["status"]["authenticated"] is False, body
    finally:
        ka.stop()


def test_revoked_before_first_use_is_refused_with_cache(keystone, webhook):
    token, _ = keystone.issue("userA", "userApass", "projectA")
    st, _, _ = keystone.call("DELETE", "/auth/tokens", headers={"X-Subject-Token": token})
    assert st == 204
    st, body = webhook.token_review(token)
    assert st == 401 and body["status"]["authenticated"] is False


def test_keystone_down_fails_closed(workdir, keystone):
    port = free_port()  # nothing listens here
    ka = KeystoneAuth(workdir, keystone, "--keystone-url", "http://127.0.0.1:%d/v3" % port)
    try:
        st, body = ka.token_review(keystone.env["USERA_TOKEN"])
        assert st == 401 and body["status"]["authenticated"] is False
        assert "unreachable" in body["status"]["error"]
    finally:
        ka.stop()


def test_slow_keystone_fails_closed_within_the_timeout(workdir, keystone):
    # A listener that never answers: connections are accepted by the kernel, then silence.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        ka = KeystoneAuth(workdir, keystone, "--keystone-url",
                          "http://127.0.0.1:%d/v3" % silent.getsockname()[1],
                          "--keystone-timeout", "1s")
        try:
            st, body = ka.token_review(keystone.env["USERA_TOKEN"])
            assert st == 401 and body["status"]["authenticated"] is False
            assert "did not answer" in body["status"]["error"], body
            # Other requests are still served meanwhile and after.
            a = {"username": "x", "uid": "", "groups": [], "extra": {}}
            assert not ka.sar(a, "get", "namespacea", "pods")
        finally:
            ka.stop()


def test_malformed_policy_is_a_startup_error(workdir, keystone):
    d = tempfile.mkdtemp(dir=workdir)
    cert, key = make_tls(workdir)
    for text in ('{"not": "a list"}', '[{"resource": {"verbs": ["get"]}}]', "[", "x" * 2000000):
        path = os.path.join(d, "bad.json")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([KOS_BIN, "keystone-auth", "--keystone-url", keystone.url,
                            "--policy-file", path, "--listen", "127.0.0.1:0", "--tls-cert-file",
                            cert, "--tls-private-key-file", key],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1, (text[:50], p.stderr)
        assert "policy" in p.stderr


def test_sync_creates_namespace_and_role_bindings(workdir, keystone):
    server = KosServer()
    ka = None
    try:
        server.start()
        sync = os.path.join(workdir, "sync.yaml")
        with open(sync, "w") as f:
            f.write("data-types-to-sync: [projects, role_assignments]\n"
                    "namespace-format: \"ks-%i\"\n"
                    "role-mappings:\n- keystone-role: roleA\n  groups: [keystone-roleA]\n")
        ka = KeystoneAuth(workdir, keystone, "--keystone-sync-config-file", sync,
                          "--kubeconfig", server.kubeconfig)
        env = keystone.env
        ns = "ks-" + env["USERA_PROJECT_ID"]
        uid = env["USERA_ID"]
        rbs = "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings" % ns
        # A stale binding of this user (a role Keystone no longer grants) and an admin's own.
        user = login(ka, env["USERA_TOKEN"])
        assert "keystone-roleA" in user["groups"]  # role mapping applied
        st, body, _ = server.request("GET", "/api/v1/namespaces/" + ns)
        assert st == 200, (st, body, ka.log())
        st, body, _ = server.request("GET", rbs + "/%s_roleA" % uid)
        assert st == 200, (st, body)
        assert body["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                     "name": "userA"}]
        assert body["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io",
                                   "kind": "ClusterRole", "name": "roleA"}
        for name in ("%s_oldrole" % uid, "admin-made"):
            st, _, _ = server.request("POST", rbs, {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                              "name": "userA"}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "view"}})
            assert st == 201
        login(ka, env["USERA_TOKEN"])
        st, body, _ = server.request("GET", rbs)
        names = sorted(i["metadata"]["name"] for i in body["items"])
        assert names == sorted(["%s_roleA" % uid, "admin-made"]), names
    finally:
        if ka:
            ka.stop()
        server.cleanup()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        _Recorder.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                           "items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_keystone_login_is_a_kubectl_exec_plugin(workdir, keystone, webhook, version):
    """kubectl runs `kos keystone-login` and sends its token (client-go sends exec credentials
    over TLS only, hence a small HTTPS recorder); the token logs in as userA."""
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    cert, key = make_tls(workdir)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    cache = tempfile.mkdtemp(dir=workdir)
    try:
        api = "client.authentication.k8s.io/v1" if version != "1.27" else \
            "client.authentication.k8s.io/v1beta1"
        cfg = os.path.join(workdir, "exec-%s.kubeconfig" % version)
        with open(cfg, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "k",
                       "clusters": [{"name": "c", "cluster": {
                           "server": "https://127.0.0.1:%d" % srv.server_address[1],
                           "certificate-authority": cert}}],
                       "contexts": [{"name": "k", "context": {"cluster": "c", "user": "u"}}],
                       "users": [{"name": "u", "user": {"exec": {
                           "apiVersion": api, "command": KOS_BIN, "args": ["keystone-login"],
                           "interactiveMode": "Never",
                           "env": [{"name": "OS_AUTH_URL", "value": keystone.url},
                                   {"name": "OS_USERNAME", "value": "userA"},
                                   {"name": "OS_PASSWORD", "value": "userApass"},
                                   {"name": "OS_USER_DOMAIN_NAME", "value": "domainA"},
                                   {"name": "OS_PROJECT_NAME", "value": "projectA"},
                                   {"name": "OS_PROJECT_DOMAIN_NAME", "value": "domainA"}]}}}]},
                      f)
        _Recorder.seen = []
        p = subprocess.run([kubectl_path(version), "--kubeconfig", cfg, "--cache-dir", cache,
                            "get", "--raw", "/api/v1/namespaces"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        auth = _Recorder.seen[-1]
        assert auth and auth.startswith("Bearer "), _Recorder.seen
        assert login(webhook, auth[len("Bearer "):])["username"] == "userA"
    finally:
        srv.shutdown()
        srv.server_close()


def test_keystone_login_errors(keystone):
    base = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    good = dict(base, OS_AUTH_URL=keystone.url, OS_USERNAME="userA", OS_PASSWORD="userApass",
                OS_USER_DOMAIN_NAME="domainA", OS_PROJECT_NAME="projectA",
                OS_PROJECT_DOMAIN_NAME="domainA")
    p = subprocess.run([KOS_BIN, "keystone-login"], env=good, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    cred = json.loads(p.stdout)
    assert cred["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert cred["kind"] == "ExecCredential"
    assert cred["status"]["token"].startswith("gAAAA")
    assert cred["status"]["expirationTimestamp"].endswith("Z")
    # OS_TOKEN alone (re-scoping an existing token) works too.
    tok_env = dict(base, OS_AUTH_URL=keystone.url, OS_TOKEN=cred["status"]["token"],
                   OS_PROJECT_ID=keystone.env["USERA_PROJECT_ID"],
                   KUBERNETES_EXEC_INFO=json.dumps({
                       "apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                       "spec": {"interactive": False}}))
    p = subprocess.run([KOS_BIN, "keystone-login"], env=tok_env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["apiVersion"] == "client.authentication.k8s.io/v1"
    for env, needle in ((dict(good, OS_PASSWORD="wrong"), "Invalid user credentials"),
                        ({k: v for k, v in good.items() if k != "OS_AUTH_URL"}, "OS_AUTH_URL"),
                        (dict(good, OS_AUTH_URL="http://127.0.0.1:%d/v3" % free_port()),
                         "unreachable"),
                        (dict(good, OS_PROJECT_NAME="nope"), "Invalid user credentials")):
        p = subprocess.run([KOS_BIN, "keystone-login"], env=env, capture_output=True, text=True)
        assert p.returncode == 1, (needle, p.stdout)
        assert p.stdout == ""
        assert needle in p.stderr and p.stderr.count("\n") == 1, p.stderr


# ---- through `kos server`: webhook mode and in-process mode, with real kubectl ---------------

def server_supports(flag):
    p = subprocess.run([KOS_BIN, "server", "--help"], capture_output=True, text=True)
    return flag in p.stdout


def user_kubeconfig(server, path, user):
    """A kubeconfig for the kos server with the given `user:` stanza (token or exec)."""
    with open(server.kubeconfig) as f:
        admin = yaml.safe_load(f)
    cluster = admin["clusters"][0]["cluster"]
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "k",
                   "clusters": [{"name": "kos", "cluster": cluster}],
                   "contexts": [{"name": "k", "context": {"cluster": "kos", "user": "u"}}],
                   "users": [{"name": "u", "user": user}]}, f)
    return path


def kubectl_as(workdir, kubeconfig, *args, version="1.33"):
    cache = tempfile.mkdtemp(dir=workdir)
    try:
        return subprocess.run([kubectl_path(version), "--kubeconfig", kubeconfig, "--cache-dir",
                               cache, "--request-timeout=30s"] + list(args),
                              capture_output=True, text=True, timeout=90)
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def exec_user(keystone, user="userA", password="userApass", project="projectA"):
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": KOS_BIN,
                     "args": ["keystone-login"], "interactiveMode": "Never",
                     "env": [{"name": "OS_AUTH_URL", "value": keystone.url},
                             {"name": "OS_USERNAME", "value": user},
                             {"name": "OS_PASSWORD", "value": password},
                             {"name": "OS_USER_DOMAIN_NAME", "value": "domainA"},
                             {"name": "OS_PROJECT_NAME", "value": project},
                             {"name": "OS_PROJECT_DOMAIN_NAME", "value": "domainA"}]}}


def check_keystone_logins(workdir, server, keystone, authz=True):
    """What both modes must show: Keystone users log in (token or exec plugin), bad tokens get
    401, and (authz) the policy decides for them, nothing more."""
    env = keystone.env
    st, _, _ = server.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "namespacea"}})
    assert st == 201
    d = tempfile.mkdtemp(dir=workdir)
    a = user_kubeconfig(server, os.path.join(d, "a"), {"token": env["USERA_TOKEN"]})
    p = kubectl_as(workdir, a, "get", "pods", "-n", "namespacea")
    assert p.returncode == 0, p.stderr + server.log()
    p = kubectl_as(workdir, a, "auth", "whoami", "-o", "json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)["status"]["userInfo"]
    assert info["username"] == "userA"
    assert env["USERA_PROJECT_ID"] in info["groups"]
    assert info["extra"]["alpha.kubernetes.io/identity/project/name"] == ["projectA"]
    # not a Keystone token at all
    bad = user_kubeconfig(server, os.path.join(d, "bad"), {"token": "gAAAAAB-bogus"})
    p = kubectl_as(workdir, bad, "get", "pods", "-n", "namespacea")
    assert p.returncode != 0 and "You must be logged in to the server" in p.stderr, p.stderr
    # kubectl runs `kos keystone-login` itself
    e = user_kubeconfig(server, os.path.join(d, "exec"), exec_user(keystone))
    p = kubectl_as(workdir, e, "auth", "whoami", "-o", "json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["status"]["userInfo"]["username"] == "userA"
    if not authz:
        return
    p = kubectl_as(workdir, a, "auth", "can-i", "list", "pods", "-n", "namespacea")
    assert p.stdout.strip() == "yes", p.stdout + p.stderr
    p = kubectl_as(workdir, e, "get", "pods", "-n", "namespacea")
    assert p.returncode == 0, p.stderr
    for args in (("delete", "pod", "x", "-n", "namespacea"), ("get", "pods", "-n", "default"),
                 ("get", "secrets", "-n", "namespacea"), ("get", "nodes")):
        p = kubectl_as(workdir, a, *args)
        assert p.returncode != 0 and "Forbidden" in p.stderr, (args, p.stderr)
    # another project, same role
    c = user_kubeconfig(server, os.path.join(d, "c"), {"token": env["USERC_TOKEN"]})
    p = kubectl_as(workdir, c, "get", "pods", "-n", "namespacea")
    assert p.returncode != 0 and "Forbidden" in p.stderr, p.stderr


def test_kos_server_with_keystone_auth_webhooks(workdir, keystone, webhook):
    for flag in ("--authentication-token-webhook-config-file",
                 "--authorization-webhook-config-file"):
        if not server_supports(flag):
            pytest.skip("kos server has no %s yet" % flag)
    cfg = os.path.join(workdir, "keystone-webhook.kubeconfig")
    with open(cfg, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "webhook",
                   "clusters": [{"name": "keystone", "cluster": {
                       "server": webhook.url, "certificate-authority": webhook.cert}}],
                   "users": [{"name": "apiserver", "user": {}}],
                   "contexts": [{"name": "webhook", "context": {"cluster": "keystone",
                                                                "user": "apiserver"}}]}, f)
    server = KosServer(extra_args=[
        "--authentication-token-webhook-config-file", cfg,
        "--authorization-webhook-config-file", cfg,
        "--authorization-mode", "Node,RBAC,Webhook"])
    try:
        server.start()
        check_keystone_logins(workdir, server, keystone)
    finally:
        server.cleanup()


def test_kos_server_in_process_keystone(workdir, keystone, webhook):
    # The policy joins the authorizer chain once kos server has one (--authorization-mode);
    # until then only the login half is checked.
    authz = server_supports("--authorization-mode")
    server = KosServer(extra_args=["--keystone-url", keystone.url,
                                   "--keystone-policy-file", webhook.policy])
    try:
        server.start()
        check_keystone_logins(workdir, server, keystone, authz=authz)
    finally:
        server.cleanup()


def test_expired_token_is_refused_even_from_the_cache(keystone, webhook):
    """Runs last: it makes Keystone issue short-lived tokens for a moment (uwsgi re-reads
    keystone.conf on SIGHUP), then restores the normal lifetime."""
    conf = os.path.join(keystone.dir, "keystone.conf")
    with open(conf) as f:
        original = f.read()
    pid = int(open(os.path.join(keystone.dir, "keystone.pid")).read())

    def reload_and_issue(want_short):
        # uwsgi's graceful reload re-imports keystone, which can take long on a loaded
        # machine; ask again every 60 s, give up after 5 minutes.
        deadline = time.time() + 300
        next_hup = 0
        while time.time() < deadline:
            if time.time() >= next_hup:
                os.kill(pid, 1)
                next_hup = time.time() + 60
            try:
                token, body = keystone.issue("userA", "userApass", "projectA")
                lifetime = (time.mktime(time.strptime(body["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
                            - time.mktime(time.strptime(body["issued_at"][:19],
                                                        "%Y-%m-%dT%H:%M:%S")))
                if (lifetime < 60) == want_short:
                    return token, body
            except (OSError, urllib.error.HTTPError):
                pass
            time.sleep(0.3)
        raise AssertionError("keystone did not reload its config")

    try:
        # 20 s: long enough that both logins below are made before the expiry also when a
        # loaded machine makes each take seconds (with 4 s the token could expire first)
        with open(conf, "w") as f:
            f.write(original.replace("expiration = 3600", "expiration = 20"))
        token, body = reload_and_issue(True)
        expires = calendar.timegm(time.strptime(body["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
        # Cached by the webhook (default TTL 2 minutes) ...
        assert login(webhook, token)["username"] == "userA"
        assert login(webhook, token)["username"] == "userA"
        time.sleep(max(0.0, expires - time.time()) + 1.5)
        # ... but never past the token's expiry.
        st, body = webhook.token_review(token)
        assert st == 401 and body["status"]["authenticated"] is False, body
    finally:
        with open(conf, "w") as f:
            f.write(original)
        reload_and_issue(False)

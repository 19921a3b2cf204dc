"""Webhook authentication/authorization and service-account tokens, end to end.

A test webhook (a Python HTTPS server with a certificate made by the openssl CLI) answers
TokenReview and SubjectAccessReview and counts what it is asked; kos reaches it through
kubeconfig-format files (--authentication-token-webhook-config-file,
--authorization-webhook-config-file). Service-account tokens come from `kubectl create token`.
"""

import base64
import json
import os
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kos import KosServer, Kubectl, wait_for as wait_for_kos


def b64url_json(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def wait_for(fn, timeout=60):
    return wait_for_kos(fn, timeout, "condition", 0.1)


class WebhookServer:
    """HTTPS TokenReview + SubjectAccessReview answers from tables the test fills:
    tokens[token] = user dict (or absent: not authenticated); allow / deny: sets of
    (user, verb, resource)."""

    def __init__(self, directory):
        self.dir = directory
        self.tokens = {}
        self.allow = set()
        self.deny = set()
        self.hits = {"TokenReview": 0, "SubjectAccessReview": 0}
        self.requests = []
        self.lock = threading.Lock()
        self.cert = os.path.join(directory, "hook.crt")
        self.key = os.path.join(directory, "hook.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                        "/CN=test-webhook", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                review = json.loads(self.rfile.read(n))
                kind = review.get("kind")
                with hook.lock:
                    hook.hits[kind] = hook.hits.get(kind, 0) + 1
                    hook.requests.append((dict(self.headers), review))
                if kind == "TokenReview":
                    user = hook.tokens.get(review["spec"]["token"])
                    review["status"] = ({"authenticated": True, "user": user} if user
                                        else {"authenticated": False})
                else:
                    spec = review["spec"]
                    attrs = spec.get("resourceAttributes") or {}
                    key = (spec.get("user"), attrs.get("verb"), attrs.get("resource"))
                    if key in hook.deny:
                        review["status"] = {"allowed": False, "denied": True,
                                            "reason": "the test webhook says no"}
                    else:
                        review["status"] = {"allowed": key in hook.allow,
                                            "reason": "test webhook"}
                body = json.dumps(review).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def config(self, name, port=None):
        """A kubeconfig-format file pointing at the webhook (or at another port)."""
        with open(self.cert, "rb") as f:
            ca = base64.b64encode(f.read()).decode()
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: hook\n  cluster:\n"
                    "    server: https://127.0.0.1:%d/%s\n"
                    "    certificate-authority-data: %s\n"
                    "users:\n- name: kos\n  user:\n    token: kos-to-webhook\n"
                    "contexts:\n- name: hook\n  context: {cluster: hook, user: kos}\n"
                    "current-context: hook\n" % (port or self.port, name, ca))
        return path

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook(tmp_path):
    h = WebhookServer(str(tmp_path))
    try:
        yield h
    finally:
        h.stop()


@pytest.fixture
def make_server():
    made = []

    def make(*args):
        s = KosServer(extra_args=args)
        made.append(s)
        s.start()
        return s

    yield make
    for s in made:
        s.cleanup()


def test_default_service_account_and_create_token(make_server, kubectl_factory):
    s = make_server()
    k = kubectl_factory(s, "1.33")
    # the service-accounts controller gives every namespace its "default"
    assert wait_for(lambda: k.run("get", "sa", "default", "-n", "default",
                                  check=False).returncode == 0)
    k.run("create", "namespace", "team")
    assert wait_for(lambda: k.run("get", "sa", "default", "-n", "team",
                                  check=False).returncode == 0)
    key = os.path.join(s.data_dir, "tls", "sa.key")
    assert os.stat(key).st_mode & 0o777 == 0o600

    token = k.run("create", "token", "default").stdout.strip()
    header, claims, _ = token.split(".")
    assert b64url_json(header)["alg"] == "ES256"
    c = b64url_json(claims)
    assert c["iss"] == "https://kubernetes.default.svc.cluster.local"
    assert c["aud"] == ["https://kubernetes.default.svc.cluster.local"]
    assert c["sub"] == "system:serviceaccount:default:default"
    assert c["exp"] - c["iat"] == 3600
    sa_uid = json.loads(k.run("get", "sa", "default", "-o", "json").stdout)["metadata"]["uid"]
    assert c["kubernetes.io"]["serviceaccount"] == {"name": "default", "uid": sa_uid}

    # the oldest kubectl kos serves asks the same way
    old = kubectl_factory(s, "1.27").run("create", "token", "default").stdout.strip()
    assert b64url_json(old.split(".")[1])["sub"] == "system:serviceaccount:default:default"

    token = k.run("create", "token", "default", "--audience", "vault",
                  "--duration", "20m").stdout.strip()
    c = b64url_json(token.split(".")[1])
    assert c["aud"] == ["vault"] and c["exp"] - c["iat"] == 1200

    # bound to a secret; a missing object or a too-short duration is refused as kube does
    k.run("create", "secret", "generic", "s1", "--from-literal=a=b")
    token = k.run("create", "token", "default", "--bound-object-kind", "Secret",
                  "--bound-object-name", "s1").stdout.strip()
    assert b64url_json(token.split(".")[1])["kubernetes.io"]["secret"]["name"] == "s1"
    p = k.run("create", "token", "default", "--duration", "5m", check=False)
    assert p.returncode != 0 and "may not specify a duration less than 10 minutes" in p.stderr
    p = k.run("create", "token", "nobody", check=False)
    assert p.returncode != 0 and 'serviceaccounts "nobody" not found' in p.stderr

    # deleting "default" brings it back (with a new uid)
    k.run("delete", "sa", "default")
    assert wait_for(lambda: k.run("get", "sa", "default", "-o", "json", check=False)
                    .stdout.find(sa_uid) < 0 and
                    k.run("get", "sa", "default", check=False).returncode == 0)

    # a restart keeps the signing key
    with open(key, "rb") as f:
        before = f.read()
    s.stop()
    s.start()
    with open(key, "rb") as f:
        assert f.read() == before


def test_bad_webhook_flags(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("clusters: [{name: a, cluster: {server: 'ftp://x'}}]\n")
    for args, needle in [
        (["--authentication-token-webhook-config-file", str(bad)], "not an http(s) URL"),
        (["--authorization-mode=RBAC,Webhook", "--authorization-webhook-config-file",
          str(tmp_path / "missing")], "unable to read"),
        (["--authentication-token-webhook-version", "v2"], "want v1 or v1beta1"),
        (["--authentication-token-webhook-cache-ttl", "soon"], "want a duration"),
        (["--service-account-signing-key-file", str(tmp_path / "nokey")], "does not exist"),
    ]:
        s = KosServer(extra_args=args)
        try:
            with pytest.raises(RuntimeError) as e:
                s.start(timeout=60)
            assert needle in str(e.value), str(e.value)
        finally:
            s.cleanup()


def token_kubeconfig(server, directory, name, token):
    """The admin kubeconfig with a bearer token instead of the client certificate."""
    import yaml
    with open(server.kubeconfig) as f:
        cfg = yaml.safe_load(f)
    cfg["users"][0]["user"] = {"token": token}
    path = os.path.join(directory, name + ".kubeconfig")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    return path


def whoami(k, kubeconfig):
    p = k.run("--kubeconfig", kubeconfig, "auth", "whoami", "-o", "json", check=False)
    return p.returncode, (json.loads(p.stdout)["status"]["userInfo"] if p.returncode == 0
                          else p.stderr)


def test_token_webhook_login(hook, make_server, kubectl_factory, tmp_path):
    cfg = hook.config("authenticate")
    s = make_server("--authentication-token-webhook-config-file", cfg)
    k = kubectl_factory(s, "1.33")
    hook.tokens["good-token"] = {"username": "carol", "uid": "c-1", "groups": ["ops"],
                                 "extra": {"scopes": ["a", "b"]}}
    good = token_kubeconfig(s, str(tmp_path), "good", "good-token")
    bad = token_kubeconfig(s, str(tmp_path), "bad", "bad-token")

    rc, info = whoami(k, good)
    assert rc == 0, info
    assert info["username"] == "carol" and info["uid"] == "c-1"
    assert info["groups"] == ["ops", "system:authenticated"]
    assert info["extra"] == {"scopes": ["a", "b"]}
    headers, review = hook.requests[-1]
    assert review["apiVersion"] == "authentication.k8s.io/v1"
    assert review["spec"]["token"] == "good-token"
    assert review["spec"]["audiences"] == ["https://kubernetes.default.svc.cluster.local"]
    assert headers.get("Authorization") == "Bearer kos-to-webhook"

    # cached for the TTL (2m): the webhook is not asked again, for either answer
    hits = hook.hits["TokenReview"]
    assert whoami(k, good)[0] == 0
    assert hook.hits["TokenReview"] == hits
    rc, err = whoami(k, bad)
    assert rc != 0 and "Unauthorized" in err
    assert hook.hits["TokenReview"] == hits + 1
    assert whoami(k, bad)[0] != 0
    assert hook.hits["TokenReview"] == hits + 1

    # webhook down: a token it never saw gets 401, cached ones and other users go on
    hook.tokens["new-token"] = {"username": "dave"}
    hook.stop()
    rc, err = whoami(k, token_kubeconfig(s, str(tmp_path), "new", "new-token"))
    assert rc != 0 and "Unauthorized" in err
    assert whoami(k, good)[0] == 0
    k.run("get", "namespaces")


def test_token_webhook_cache_ttl_and_version(hook, make_server, kubectl_factory, tmp_path):
    cfg = hook.config("authenticate")
    s = make_server("--authentication-token-webhook-config-file", cfg,
                    "--authentication-token-webhook-cache-ttl", "0",
                    "--authentication-token-webhook-version", "v1beta1")
    k = kubectl_factory(s, "1.33")
    hook.tokens["t"] = {"username": "erin"}
    kc = token_kubeconfig(s, str(tmp_path), "t", "t")
    assert whoami(k, kc)[1]["username"] == "erin"
    assert hook.requests[-1][1]["apiVersion"] == "authentication.k8s.io/v1beta1"
    hits = hook.hits["TokenReview"]
    assert whoami(k, kc)[0] == 0
    assert hook.hits["TokenReview"] == hits + 1  # TTL 0: every request asks


def test_service_account_token_login(make_server, kubectl_factory, tmp_path):
    s = make_server()
    k = kubectl_factory(s, "1.33")
    assert wait_for(lambda: k.run("get", "sa", "default", check=False).returncode == 0)
    k.run("create", "serviceaccount", "robot")
    token = k.run("create", "token", "robot").stdout.strip()
    kc = token_kubeconfig(s, str(tmp_path), "robot", token)
    rc, info = whoami(k, kc)
    assert rc == 0, info
    uid = json.loads(k.run("get", "sa", "robot", "-o", "json").stdout)["metadata"]["uid"]
    assert info["username"] == "system:serviceaccount:default:robot"
    assert info["uid"] == uid
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default",
                              "system:authenticated"]
    assert list(info["extra"]) == ["authentication.kubernetes.io/credential-id"]

    # bound to a pod: the pod's name and uid ride along; deleting the pod ends the token
    k.run("run", "p1", "--image=busybox", "--restart=Never")
    pod_token = k.run("create", "token", "robot", "--bound-object-kind", "Pod",
                      "--bound-object-name", "p1").stdout.strip()
    rc, info = whoami(k, token_kubeconfig(s, str(tmp_path), "pod", pod_token))
    assert rc == 0, info
    assert info["extra"]["authentication.kubernetes.io/pod-name"] == ["p1"]

    # a token for another audience, a tampered one and one of a deleted account get 401
    other = k.run("create", "token", "robot", "--audience", "vault").stdout.strip()
    assert whoami(k, token_kubeconfig(s, str(tmp_path), "aud", other))[0] != 0
    h, c, sig = token.split(".")
    tampered = ".".join([h, c, ("A" if sig[0] != "A" else "B") + sig[1:]])
    assert whoami(k, token_kubeconfig(s, str(tmp_path), "tamper", tampered))[0] != 0
    k.run("delete", "sa", "robot")
    rc, err = whoami(k, kc)
    assert rc != 0 and "Unauthorized" in err
    # re-created under the same name: a new uid, the old token stays dead
    k.run("create", "serviceaccount", "robot")
    assert whoami(k, kc)[0] != 0


SAR = "/apis/authorization.k8s.io/v1/subjectaccessreviews"


def review(server, user, groups, verb, resource, namespace=""):
    """Asks the server's authorizer chain (the one the request path asks) about a user."""
    status, r, _ = server.request("POST", SAR, {
        "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups,
                 "resourceAttributes": {"verb": verb, "resource": resource,
                                        "namespace": namespace}}})
    assert status == 201, r
    return r["status"]


def test_authorization_webhook(hook, make_server, kubectl_factory):
    cfg = hook.config("authorize")
    s = make_server("--authorization-mode=Node,RBAC,Webhook",
                    "--authorization-webhook-config-file", cfg,
                    "--authorization-webhook-cache-unauthorized-ttl", "0")
    admin = kubectl_factory(s, "1.33")
    admin.run("create", "namespace", "team")
    groups = ["devs", "system:authenticated"]

    # the admin (system:masters) never reaches the webhook
    admin.run("get", "pods", "-n", "team")
    assert hook.hits["SubjectAccessReview"] == 0

    # RBAC has no opinion about alice: the webhook decides
    hook.allow.add(("alice", "list", "pods"))
    hook.deny.add(("alice", "list", "secrets"))
    st = review(s, "alice", groups, "list", "pods", "team")
    assert st["allowed"] is True and st["reason"] == "test webhook"
    headers, sar = hook.requests[-1]
    assert sar["apiVersion"] == "authorization.k8s.io/v1"
    assert sar["spec"]["user"] == "alice" and sar["spec"]["groups"] == groups
    assert sar["spec"]["resourceAttributes"] == {"namespace": "team", "verb": "list",
                                                 "resource": "pods"}
    assert headers.get("Authorization") == "Bearer kos-to-webhook"

    # an allowed answer is cached (authorized TTL 5m): asking again does not reach the webhook
    hits = hook.hits["SubjectAccessReview"]
    assert review(s, "alice", groups, "list", "pods", "team")["allowed"] is True
    assert hook.hits["SubjectAccessReview"] == hits

    # a denial is DENY (status.denied), no opinion is not allowed; with the unauthorized TTL
    # at 0 each is asked anew
    st = review(s, "alice", groups, "list", "secrets", "team")
    assert st["allowed"] is False and st.get("denied") is True
    assert "the test webhook says no" in st["reason"]
    st = review(s, "alice", groups, "delete", "pods", "team")
    assert st["allowed"] is False and not st.get("denied")
    hits = hook.hits["SubjectAccessReview"]
    review(s, "alice", groups, "list", "secrets", "team")
    assert hook.hits["SubjectAccessReview"] == hits + 1

    # RBAC still allows first: a RoleBinding makes the webhook unnecessary
    admin.run("create", "role", "cm-reader", "-n", "team", "--verb=get", "--resource=configmaps")
    admin.run("create", "rolebinding", "devs-cm", "-n", "team", "--role=cm-reader",
              "--group=devs")
    hits = hook.hits["SubjectAccessReview"]
    assert review(s, "alice", groups, "get", "configmaps", "team")["allowed"] is True
    assert hook.hits["SubjectAccessReview"] == hits

    # webhook gone: no opinion with the error as reason, never an allow; a cached allow
    # still serves, and the server goes on serving everyone else
    hook.stop()
    st = review(s, "bob", ["system:authenticated"], "list", "pods", "team")
    assert st["allowed"] is False and not st.get("denied")
    assert review(s, "alice", groups, "list", "pods", "team")["allowed"] is True
    admin.run("get", "namespaces")


def test_authorization_webhook_flags(tmp_path, hook):
    cfg = hook.config("authorize")
    for args, needle in [
        (["--authorization-mode=RBAC,Webhook"], "authorization config file not passed"),
        (["--authorization-webhook-config-file", cfg],
         "cannot specify --authorization-webhook-config-file without mode Webhook"),
    ]:
        s = KosServer(extra_args=args)
        try:
            with pytest.raises(RuntimeError) as e:
                s.start(timeout=60)
            assert needle in str(e.value), str(e.value)
        finally:
            s.cleanup()


def test_webhooks_in_the_request_path(hook, make_server, kubectl_factory, tmp_path):
    """A token the TokenReview webhook vouches for, authorized by the SubjectAccessReview
    webhook (Keystone's setup), with real kubectl."""
    s = make_server("--authentication-token-webhook-config-file", hook.config("authenticate"),
                    "--authorization-mode=Node,RBAC,Webhook",
                    "--authorization-webhook-config-file", hook.config("authorize"))
    admin = kubectl_factory(s, "1.33")
    admin.run("create", "namespace", "team")
    hook.tokens["frank-token"] = {"username": "frank", "groups": ["devs"],
                                  "extra": {"project": ["p1"]}}
    kc = token_kubeconfig(s, str(tmp_path), "frank", "frank-token")
    k = kubectl_factory(s, "1.33")

    def as_frank(*args):
        return k.run("--kubeconfig", kc, *args, check=False)

    p = as_frank("get", "pods", "-n", "team")
    assert p.returncode != 0
    assert ('pods is forbidden: User "frank" cannot list resource "pods" in API group "" in '
            'the namespace "team"') in p.stderr
    # the SubjectAccessReview carries what the TokenReview said, extra included
    sar = [r for _, r in hook.requests if r["kind"] == "SubjectAccessReview"][-1]
    assert sar["spec"]["user"] == "frank"
    assert sar["spec"]["groups"] == ["devs", "system:authenticated"]
    assert sar["spec"]["extra"] == {"project": ["p1"]}
    hook.allow.add(("frank", "list", "pods"))
    hook.deny.add(("frank", "list", "secrets"))
    # the earlier no-opinion is cached for the unauthorized TTL (30s): another verb first
    hook.allow.add(("frank", "get", "pods"))
    p = as_frank("get", "pod", "x", "-n", "team")
    assert p.returncode != 0 and 'pods "x" not found' in p.stderr  # allowed, then 404
    p = as_frank("get", "secrets", "-n", "team")
    assert p.returncode != 0 and "forbidden" in p.stderr
    assert as_frank("auth", "can-i", "get", "pods", "-n", "team").stdout.strip() == "yes"
    # a denial's reason shows, as kubectl prints it for kube-apiserver
    assert (as_frank("auth", "can-i", "list", "secrets", "-n", "team").stdout.strip() ==
            "no - the test webhook says no")

"""Authentication with real kubectl: the admin client certificate, user certificates signed by
the cluster CA (CN -> user, O -> groups) or by a --client-ca-file CA, certificates from an
unknown CA, --token-auth-file users, bad tokens, --anonymous-auth, impersonation, and the
routes that answer without authentication (only /healthz, /livez, /readyz, /version)."""

import base64
import json
import os
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

from kos import KOS_BIN, KosServer, kubectl_path

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}

TOKENS = ('alice-token,alice,uid-alice,"dev,qa"\n'
          'bob-token,bob,uid-bob\n')


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout


def b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def write_kubeconfig(server, path, token=None, cert=None, key=None):
    """A kubeconfig for server trusting its CA, with a token, a client cert, or nothing."""
    ca, _, _ = server.tls_files()
    user = {}
    if token:
        user["token"] = token
    if cert:
        user["client-certificate-data"] = b64(cert)
        user["client-key-data"] = b64(key)
    cfg = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": "kos", "cluster": {"server": server.url,
                                                    "certificate-authority-data": b64(ca)}}],
           "users": [{"name": "u", "user": user}],
           "contexts": [{"name": "kos", "context": {"cluster": "kos", "user": "u"}}],
           "current-context": "kos"}
    with open(path, "w") as f:
        json.dump(cfg, f)  # JSON is YAML
    return path


def kubectl(server, version, kubeconfig, *args, check=True):
    cache = os.path.join(server.dir, "kcache-" + version)
    cmd = [kubectl_path(version), "--kubeconfig", kubeconfig, "--cache-dir", cache,
           "--request-timeout=20s"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s\nserver log:\n%s" % (
            " ".join(cmd), p.returncode, p.stdout, p.stderr, server.log()))
    return p


def whoami(server, version, kubeconfig, *extra):
    p = kubectl(server, version, kubeconfig, "auth", "whoami", "-o", "json", *extra)
    return json.loads(p.stdout)["status"]["userInfo"]


def client_cert(d, name, subj, ca_crt, ca_key):
    """A client certificate (EC P-256, clientAuth) for subj, signed by ca_crt/ca_key."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", subj, cwd=d)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca_crt, "-CAkey", ca_key,
            "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext",
            cwd=d)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def self_signed_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".crt", "-subj", "/CN=" + name,
            "-days", "2", cwd=d)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def raw(server, path, method="GET", headers=None, cert=True, body=None):
    """(status, parsed body) of a request with no client certificate unless cert."""
    ctx = server.make_ssl_context(cert=cert)
    req = urllib.request.Request(server.url + path, method=method, headers=headers or {},
                                 data=body)
    try:
        with server.urlopen(req, timeout=10, context=ctx) as r:
            status, data = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


@pytest.fixture(scope="module")
def user_ca():
    d = tempfile.mkdtemp(prefix="kos-authn-ca-")
    try:
        yield d, self_signed_ca(d, "user-ca")
    finally:
        subprocess.run(["rm", "-rf", d])


@pytest.fixture(scope="module")
def authn_server(user_ca):
    d, (ca_crt, _) = user_ca
    s = KosServer()
    try:
        tokens = os.path.join(s.dir, "tokens.csv")
        with open(tokens, "w") as f:
            f.write(TOKENS)
        s.extra_args = ["--token-auth-file", tokens, "--client-ca-file", ca_crt]
        s.start()
        yield s
    finally:
        s.cleanup()


@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_admin_by_certificate(authn_server, version):
    info = whoami(authn_server, version, authn_server.kubeconfig)
    assert info["username"] == "kubernetes-admin"
    assert info["groups"] == ["system:masters", "system:authenticated"]


@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_user_certificates_map_cn_and_o(authn_server, user_ca, version):
    s = authn_server
    tls = os.path.join(s.data_dir, "tls")
    d = os.path.join(s.dir, "certs-" + version)
    os.makedirs(d, exist_ok=True)
    # signed by the cluster CA
    crt, key = client_cert(d, "jane", "/CN=jane/O=team-a/O=team-b",
                           os.path.join(tls, "ca.crt"), os.path.join(tls, "ca.key"))
    cfg = write_kubeconfig(s, os.path.join(d, "jane.kubeconfig"), cert=crt, key=key)
    info = whoami(s, version, cfg)
    assert info["username"] == "jane"
    assert info["groups"] == ["team-a", "team-b", "system:authenticated"]
    # signed by the --client-ca-file CA
    ud, (ucrt, ukey) = user_ca
    crt, key = client_cert(d, "joe", "/CN=joe/O=ext", ucrt, ukey)
    cfg = write_kubeconfig(s, os.path.join(d, "joe.kubeconfig"), cert=crt, key=key)
    info = whoami(s, version, cfg)
    assert info["username"] == "joe" and info["groups"] == ["ext", "system:authenticated"]


def test_certificate_from_another_ca_is_401(authn_server):
    s = authn_server
    d = os.path.join(s.dir, "rogue")
    os.makedirs(d, exist_ok=True)
    ca_crt, ca_key = self_signed_ca(d, "rogue-ca")
    crt, key = client_cert(d, "mallory", "/CN=kubernetes-admin/O=system:masters", ca_crt, ca_key)
    cfg = write_kubeconfig(s, os.path.join(d, "rogue.kubeconfig"), cert=crt, key=key)
    for version in ["1.33", "1.27"]:
        p = kubectl(s, version, cfg, "get", "namespaces", check=False)
        assert p.returncode != 0
        assert "You must be logged in to the server" in p.stderr, p.stderr
    # the raw answer is kube's Status
    ctx = ssl.create_default_context(cafile=s.tls_files()[0])
    ctx.load_cert_chain(crt, key)
    req = urllib.request.Request(s.url + "/api/v1/namespaces")
    with pytest.raises(urllib.error.HTTPError) as e:
        s.urlopen(req, context=ctx)
    assert e.value.code == 401
    assert json.loads(e.value.read()) == UNAUTHORIZED


@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_token_file_user(authn_server, version):
    s = authn_server
    cfg = write_kubeconfig(s, os.path.join(s.dir, "alice-%s.kubeconfig" % version),
                           token="alice-token")
    info = whoami(s, version, cfg)
    assert info["username"] == "alice"
    assert info["uid"] == "uid-alice"
    assert info["groups"] == ["dev", "qa", "system:authenticated"]
    cfg = write_kubeconfig(s, os.path.join(s.dir, "bob-%s.kubeconfig" % version),
                           token="bob-token")
    info = whoami(s, version, cfg)
    assert info["username"] == "bob" and info["groups"] == ["system:authenticated"]


def test_bad_token_is_401(authn_server):
    s = authn_server
    cfg = write_kubeconfig(s, os.path.join(s.dir, "bad.kubeconfig"), token="no-such-token")
    p = kubectl(s, "1.33", cfg, "get", "pods", check=False)
    assert p.returncode != 0 and "You must be logged in to the server" in p.stderr, p.stderr
    for auth in ["Bearer no-such-token", "Bearer alice-token-x", "bearer ALICE-TOKEN"]:
        status, body = raw(s, "/api/v1/namespaces", cert=False, headers={"Authorization": auth})
        assert (status, body) == (401, UNAUTHORIZED), auth
    # a good token with a case-insensitive scheme works
    status, _ = raw(s, "/api/v1/namespaces", cert=False,
                    headers={"Authorization": "BEARER alice-token"})
    assert status == 200


def test_only_health_and_version_answer_without_authentication(authn_server):
    s = authn_server
    for path in ["/", "/api", "/apis", "/api/v1", "/apis/apps/v1", "/api/v1/namespaces",
                 "/api/v1/namespaces/default/pods", "/apis/apps/v1/deployments",
                 "/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1", "/metrics", "/no/such/path",
                 "/healthzx", "/versions", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                 "/api/v1/namespaces/default/configmaps?watch=true"]:
        status, body = raw(s, path, cert=False)
        assert (status, body) == (401, UNAUTHORIZED), path
    status, body = raw(s, "/api/v1/namespaces", method="POST", cert=False,
                       headers={"Content-Type": "application/json"},
                       body=b'{"metadata":{"name":"sneaky"}}')
    assert (status, body) == (401, UNAUTHORIZED)
    status, _ = raw(s, "/api/v1/namespaces/sneaky")
    assert status == 404  # nothing was created
    for path in ["/healthz", "/livez", "/readyz", "/version", "/readyz/ping", "/livez/ping",
                 "/healthz/ping"]:
        status, _ = raw(s, path, cert=False)
        assert status == 200, path
    status, body = raw(s, "/version", cert=False)
    assert body["major"] == "1"
    # the public prefixes are no way around authentication
    for path in ["/healthz/../api/v1/namespaces", "/version/../api/v1/namespaces",
                 "/readyz/%2e%2e/api/v1/namespaces", "/livez//api/v1/namespaces",
                 "/version/%2F..%2Fapi/v1/namespaces"]:
        status, body = raw(s, path, cert=False)
        assert status in (401, 404), (path, status, body)
        assert b"NamespaceList" not in (body if isinstance(body, bytes) else json.dumps(body)
                                        .encode()), path


def test_anonymous_auth(tmp_path):
    s = KosServer(["--anonymous-auth=true"])
    try:
        s.start()
        # (kubectl prompts for a user name when a kubeconfig has no credentials: raw HTTPS)
        for version in ["v1", "v1alpha1"]:
            status, body = raw(s, "/apis/authentication.k8s.io/%s/selfsubjectreviews" % version,
                               method="POST", cert=False,
                               headers={"Content-Type": "application/json"},
                               body=json.dumps({"apiVersion": "authentication.k8s.io/" + version,
                                                "kind": "SelfSubjectReview"}).encode())
            assert status == 201, body
            assert body["status"]["userInfo"] == {"username": "system:anonymous",
                                                  "groups": ["system:unauthenticated"]}
        # credentials that fail are not downgraded to anonymous
        status, body = raw(s, "/api/v1/namespaces", cert=False,
                           headers={"Authorization": "Bearer nope"})
        assert (status, body) == (401, UNAUTHORIZED)
        # the admin is still the admin
        assert whoami(s, "1.33", s.kubeconfig)["username"] == "kubernetes-admin"
    finally:
        s.cleanup()
    # and it is off by default and with =false
    s = KosServer(["--anonymous-auth=false"])
    try:
        s.start()
        status, body = raw(s, "/api/v1/namespaces", cert=False)
        assert (status, body) == (401, UNAUTHORIZED)
    finally:
        s.cleanup()


@pytest.mark.parametrize("version", ["1.33", "1.27"])
def test_impersonation(authn_server, version):
    s = authn_server
    info = whoami(s, version, s.kubeconfig, "--as=bob", "--as-group=g")
    assert info["username"] == "bob"
    assert info["groups"] == ["g", "system:authenticated"]
    info = whoami(s, version, s.kubeconfig, "--as=system:serviceaccount:ns1:robot")
    assert info["username"] == "system:serviceaccount:ns1:robot"
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ns1",
                              "system:authenticated"]
    if version == "1.33":
        info = whoami(s, version, s.kubeconfig, "--as=carol", "--as-uid=u-9")
        assert info["uid"] == "u-9"
    # a user outside system:masters may not impersonate
    cfg = write_kubeconfig(s, os.path.join(s.dir, "alice-imp-%s.kubeconfig" % version),
                           token="alice-token")
    p = kubectl(s, version, cfg, "auth", "whoami", "--as=bob", check=False)
    assert p.returncode != 0  # kubectl words a 403 here as "... do not have permission ..."
    p = kubectl(s, version, cfg, "get", "--raw", "/api/v1/namespaces", "--as=bob", check=False)
    assert p.returncode != 0
    assert ('users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API '
            'group "" at the cluster scope') in p.stderr, p.stderr
    p = kubectl(s, version, cfg, "get", "--raw", "/api/v1/pods", "--as=bob",
                "--as-group=system:masters", check=False)
    assert p.returncode != 0 and "forbidden" in p.stderr, p.stderr


def test_impersonation_raw_errors(authn_server):
    s = authn_server
    status, body = raw(s, "/api/v1/namespaces", headers={"Impersonate-Group": "g"})
    assert status == 400 and body["reason"] == "BadRequest"
    assert body["message"] == "requested [{Group  g    }] without impersonating a user"
    status, body = raw(s, "/api/v1/namespaces", cert=False,
                       headers={"Authorization": "Bearer alice-token",
                                "Impersonate-User": "x", "Impersonate-Extra-Scopes": "s1"})
    assert status == 403 and body["reason"] == "Forbidden"
    assert body["details"] == {"name": "x", "kind": "users"}


def test_malformed_token_file_stops_the_start(tmp_path):
    for text, want in [("tok,user\n", "must have at least 3 columns"),
                       ('tok,us"er,uid\n', 'bare " in non-quoted-field')]:
        path = tmp_path / "tokens.csv"
        path.write_text(text)
        p = subprocess.run([KOS_BIN, "server", "--data-dir", str(tmp_path / "data"),
                            "--bind-address", "127.0.0.1", "--secure-port", "0",
                            "--token-auth-file", str(path)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, p.stderr
        assert want in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = subprocess.run([KOS_BIN, "server", "--data-dir", str(tmp_path / "data"),
                        "--secure-port", "0", "--token-auth-file", str(tmp_path / "missing")],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "missing" in p.stderr
    p = subprocess.run([KOS_BIN, "server", "--anonymous-auth=maybe"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--anonymous-auth" in p.stderr

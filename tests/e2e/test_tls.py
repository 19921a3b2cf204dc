"""TLS-only serving: the PKI kos server creates under DATA/tls and reuses on restart, --tls-san,
a user's own serving certificate (--tls-cert-file/--tls-private-key-file) and client CA
(--client-ca-file), no plain HTTP, no TLS below 1.2."""

import hashlib
import http.client
import os
import socket
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest

from kos import KosServer, read_until_closed


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60,
                       cwd=cwd)
    assert p.returncode == 0, (args, p.stderr)
    return p.stdout


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def san_server():
    s = KosServer(["--tls-san", "api.example.com,10.20.30.40", "--tls-san", "kos.internal"])
    try:
        s.start()
        yield s
    finally:
        s.cleanup()


def test_pki_files_modes_and_names(san_server):
    tls = os.path.join(san_server.data_dir, "tls")
    assert oct(os.stat(tls).st_mode & 0o777) == "0o700"
    for name in ["ca.key", "server.key", "admin.key"]:
        assert oct(os.stat(os.path.join(tls, name)).st_mode & 0o777) == "0o600", name
    for name in ["ca.crt", "server.crt", "admin.crt"]:
        assert os.path.exists(os.path.join(tls, name))
    sans = openssl("x509", "-in", os.path.join(tls, "server.crt"), "-noout", "-ext",
                   "subjectAltName")
    for want in ["IP Address:127.0.0.1", "DNS:localhost", "DNS:api.example.com",
                 "IP Address:10.20.30.40", "DNS:kos.internal"]:
        assert want in sans, sans
    host = socket.gethostname()
    if host and host != "localhost" and "." not in host.strip("."):
        assert "DNS:" + host in sans, sans
    subject = openssl("x509", "-in", os.path.join(tls, "admin.crt"), "-noout", "-subject",
                      "-nameopt", "RFC2253")
    assert "CN=kubernetes-admin" in subject and "O=system:masters" in subject, subject
    # the serving and admin certificates chain to the CA
    for name in ["server.crt", "admin.crt"]:
        out = openssl("verify", "-CAfile", os.path.join(tls, "ca.crt"), os.path.join(tls, name))
        assert "OK" in out
    # the admin kubeconfig carries exactly the CA and the admin pair
    ca, crt, key = san_server.tls_files()
    assert digest(ca) == digest(os.path.join(tls, "ca.crt"))
    assert digest(crt) == digest(os.path.join(tls, "admin.crt"))
    assert digest(key) == digest(os.path.join(tls, "admin.key"))


def test_restart_reuses_the_pki(san_server):
    tls = os.path.join(san_server.data_dir, "tls")
    names = ["ca.crt", "ca.key", "server.crt", "server.key", "admin.crt", "admin.key"]
    before = {n: digest(os.path.join(tls, n)) for n in names}
    san_server.stop()
    san_server.start()
    assert {n: digest(os.path.join(tls, n)) for n in names} == before
    assert san_server.get_raw("/readyz") == b"ok"
    # a new SAN re-issues the serving certificate only, from the same CA
    san_server.stop()
    san_server.extra_args = ["--tls-san", "other.example.com"]
    san_server.start()
    after = {n: digest(os.path.join(tls, n)) for n in names}
    assert after["server.crt"] != before["server.crt"]
    assert {n: after[n] for n in names if not n.startswith("server")} == \
        {n: before[n] for n in names if not n.startswith("server")}
    sans = openssl("x509", "-in", os.path.join(tls, "server.crt"), "-noout", "-ext",
                   "subjectAltName")
    assert "DNS:other.example.com" in sans


def test_no_plain_http(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        s.settimeout(10)
        data = read_until_closed(s)
    assert not data.startswith(b"HTTP/"), data[:100]
    # an http:// URL gets no answer either
    with pytest.raises((urllib.error.URLError, OSError, http.client.HTTPException)):
        urllib.request.urlopen("http://127.0.0.1:%d/readyz" % server.port, timeout=10).read()


def test_tls12_and_13_only(server):
    for version in [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3]:
        ctx = server.make_ssl_context()
        ctx.minimum_version = ctx.maximum_version = version
        with server.tls_socket(context=ctx) as s:
            assert s.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                   ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    ca, _, _ = server.tls_files()
    for flag in ["-tls1_1", "-tls1"]:
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.port,
                            flag, "-cipher", "DEFAULT@SECLEVEL=0", "-CAfile", ca],
                           input="", capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, (flag, p.stdout)
        assert "Cipher is (NONE)" in p.stdout or "alert" in p.stderr, (flag, p.stdout, p.stderr)


def test_a_users_own_serving_certificate_and_client_ca(tmp_path, kubectl_factory):
    d = str(tmp_path)
    # the user's serving PKI: a CA and a leaf for 127.0.0.1
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "uca.key", "-out", "uca.crt", "-subj", "/CN=user-ca", "-days", "2",
            cwd=d)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "serving.key", "-out", "serving.csr", "-subj", "/CN=my-apiserver", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "serving.csr", "-CA", "uca.crt", "-CAkey", "uca.key",
            "-CAcreateserial", "-out", "serving.crt", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    s = KosServer(["--tls-cert-file", os.path.join(d, "serving.crt"),
                   "--tls-private-key-file", os.path.join(d, "serving.key"),
                   "--client-ca-file", os.path.join(d, "uca.crt")])
    try:
        s.start()
        # what is served is the user's certificate, verified by the user's CA
        ctx = ssl.create_default_context(cafile=os.path.join(d, "uca.crt"))
        _, crt, key = s.tls_files()
        ctx.load_cert_chain(crt, key)
        with s.tls_socket(context=ctx) as sock:
            der = sock.getpeercert(binary_form=True)
        with open(os.path.join(d, "serving.crt")) as f:
            assert ssl.DER_cert_to_PEM_cert(der).strip() == f.read().strip()
        assert not os.path.exists(os.path.join(s.data_dir, "tls", "server.crt"))
        # kubectl with the admin kubeconfig works, and the in-process controllers reach the
        # API through the user's certificate (a namespace deletion completes)
        k = kubectl_factory(s, "1.33")
        k.run("create", "namespace", "gone")
        k.run("delete", "namespace", "gone", "--wait=true", "--timeout=60s", timeout=90)
        p = k.run("get", "namespace", "gone", check=False)
        assert p.returncode != 0 and "NotFound" in p.stderr, p.stderr
    finally:
        s.cleanup()

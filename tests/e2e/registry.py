"""A real OCI registry for tests: Debian's docker-registry on 127.0.0.1:<free port>, in a temp
dir, stopped and removed afterwards, plus helpers that build images from Debian's busybox-static
and push them with the distribution upload API.

Use from a test module:
    from registry import local_registry, busybox_image  # noqa: F401  (pytest fixtures)
`busybox_image` is a dict: ref (tag ref), registry (the Registry), repo, tag, digest (manifest),
index_ref/index_digest (an OCI index over it, linux/amd64 + a decoy arm64), config.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from netns import free_port as _free_port  # (test_image imports it from here too)

BUSYBOX = "/bin/busybox"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def htpasswd_line(user, password):
    """A bcrypt htpasswd entry (docker-registry accepts only bcrypt), made with libcrypt."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # deprecated since 3.11, present in Debian 12's python3

    return "%s:%s\n" % (user, crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH)))


class TokenServer:
    """A bearer-token endpoint as Docker Hub's auth service works: GET /token?service=&scope=
    answers {"token": JWT} signed by a self-signed certificate the registry trusts. With basic
    credentials (checked against users) every requested action is granted; anonymously only
    pull on repositories under public/."""

    def __init__(self, workdir, users, service="kos-test-registry", issuer="kos-test-issuer"):
        import datetime
        import http.server
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.users, self.service, self.issuer = users, service, issuer
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kos-test-token-issuer")])
        now = datetime.datetime.utcnow()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(self.key, hashes.SHA256()))
        self.cert_path = os.path.join(workdir, "token-cert.pem")
        with open(self.cert_path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        import base64

        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.key_pem = self.key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = "http://127.0.0.1:%d/token" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, req):
        import base64
        import urllib.parse

        import jwt

        q = urllib.parse.parse_qs(urllib.parse.urlparse(req.path).query)
        auth = req.headers.get("Authorization", "")
        user = None
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if self.users.get(u) != p:
                req.send_response(401)
                req.send_header("Content-Type", "application/json")
                req.end_headers()
                req.wfile.write(b'{"details":"incorrect username or password"}')
                return
            user = u
        self.requests.append({"user": user, "service": q.get("service", [""])[0],
                              "scope": q.get("scope", [])})
        access = []
        for scope in q.get("scope", []):
            typ, name, actions = scope.split(":", 2) if scope.count(":") >= 2 else ("", "", "")
            actions = actions.split(",")
            if user is None:
                actions = [a for a in actions if a == "pull"] if name.startswith("public/") else []
            access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": user or "", "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
        token = jwt.encode(claims, self.key_pem, algorithm="RS256", headers={"x5c": [self.x5c]})
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Registry:
    """users: basic auth (htpasswd) on the registry itself; token_users: bearer-token auth
    through a TokenServer that knows these users (anonymous pulls allowed under public/)."""

    def __init__(self, users=None, token_users=None):
        self.dir = tempfile.mkdtemp(prefix="kos-registry-")
        self.port = _free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.url = "http://" + self.host
        self.users = users or {}
        self.token_users = token_users
        self.token_server = None
        self.proc = None
        self.log = None

    def start(self):
        storage = os.path.join(self.dir, "storage")
        os.makedirs(storage)
        cfg = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": storage}, "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "kos-test-secret"},
        }
        if self.users:
            path = os.path.join(self.dir, "htpasswd")
            with open(path, "w") as f:
                for u, p in self.users.items():
                    f.write(htpasswd_line(u, p))
            cfg["auth"] = {"htpasswd": {"realm": "kos-test", "path": path}}
        if self.token_users is not None:
            self.token_server = TokenServer(self.dir, self.token_users)
            ts = self.token_server
            cfg["auth"] = {"token": {"realm": ts.realm, "service": ts.service,
                                     "issuer": ts.issuer, "rootcertbundle": ts.cert_path}}
        cfg_path = os.path.join(self.dir, "config.yml")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)  # JSON is YAML
        self.log = open(os.path.join(self.dir, "registry.log"), "wb")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self._request("GET", "/v2/")
                break
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not start: " + self.read_log())
            time.sleep(0.1)
        return self

    def read_log(self):
        try:
            with open(os.path.join(self.dir, "registry.log"), "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
        if self.token_server:
            self.token_server.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _basic(self, users):
        import base64

        u, p = next(iter(users.items()))
        return "Basic " + base64.b64encode(("%s:%s" % (u, p)).encode()).decode()

    def _token(self, path):
        """A push+pull token for the repository in path, as an authenticated client."""
        import urllib.parse

        parts = path.split("/v2/", 1)[1].split("/")
        for i, p in enumerate(parts):
            if p in ("blobs", "manifests"):
                repo = "/".join(parts[:i])
                break
        else:
            return None
        ts = self.token_server
        q = urllib.parse.urlencode({"service": ts.service,
                                    "scope": "repository:%s:pull,push" % repo})
        req = urllib.request.Request(ts.realm + "?" + q)
        if self.token_users:
            req.add_header("Authorization", self._basic(self.token_users))
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["token"]

    def _request(self, method, path, data=None, headers=None):
        url = path if path.startswith("http") else self.url + path
        req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if self.users:
            req.add_header("Authorization", self._basic(self.users))
        if self.token_server and "/v2/" in url and not url.endswith("/v2/"):
            tok = self._token(url)
            if tok:
                req.add_header("Authorization", "Bearer " + tok)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()

    def push_blob(self, repo, data):
        digest = sha256(data)
        _, headers, _ = self._request("POST", "/v2/%s/blobs/uploads/" % repo)
        loc = headers["Location"]
        if loc.startswith("/"):
            loc = self.url + loc
        sep = "&" if "?" in loc else "?"
        self._request("PUT", loc + sep + "digest=" + digest, data=data,
                      headers={"Content-Type": "application/octet-stream"})
        return digest

    def push_manifest(self, repo, ref, body, media_type):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._request("PUT", "/v2/%s/manifests/%s" % (repo, ref), data=data,
                      headers={"Content-Type": media_type})
        return sha256(data)

    def blob_path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.dir, "storage", "docker", "registry", "v2", "blobs", "sha256",
                            hexd[:2], hexd, "data")


def _tar_add(t, name, data=None, mode=0o644, kind=tarfile.REGTYPE, linkname="", uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.mtime = 1700000000
    ti.linkname = linkname
    if kind == tarfile.REGTYPE:
        data = data or b""
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def make_layer(entries, compress=True):
    """entries: list of (name, dict(data=, mode=, kind=, linkname=, uid=, gid=)). Returns
    (blob bytes, diff id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kw in entries:
            _tar_add(t, name, **kw)
    tar_bytes = raw.getvalue()
    blob = gzip.compress(tar_bytes, mtime=0) if compress else tar_bytes
    return blob, sha256(tar_bytes)


BUSYBOX_APPLETS = ["sh", "ls", "cat", "echo", "sleep", "true", "false", "env", "id", "ps", "test"]


def busybox_layers():
    """Layer 1: busybox with applet symlinks, /etc, a hard link, a dir to be made opaque and a file
    to be whited out; layer 2 (uncompressed tar): the whiteout, the opaque dir, a new file."""
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    d = {"kind": tarfile.DIRTYPE, "mode": 0o755}
    l1 = [("bin/", d), ("bin/busybox", {"data": bb, "mode": 0o755})]
    l1 += [("bin/" + a, {"kind": tarfile.SYMTYPE, "linkname": "busybox"}) for a in BUSYBOX_APPLETS]
    l1 += [
        ("etc/", d),
        ("etc/passwd", {"data": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"}),
        ("etc/group", {"data": b"root:x:0:\nnogroup:x:65534:\n"}),
        ("etc/removeme", {"data": b"gone in layer 2\n"}),
        ("etc/passwd.link", {"kind": tarfile.LNKTYPE, "linkname": "etc/passwd"}),
        ("etc/abs-link", {"kind": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
        ("opq/", d),
        ("opq/old", {"data": b"old\n"}),
        ("data/", {"kind": tarfile.DIRTYPE, "mode": 0o1777}),
        ("data/owned", {"data": b"owned\n", "mode": 0o640, "uid": 1234, "gid": 5678}),
        ("data/setuid", {"data": b"x", "mode": 0o4755}),
        ("tmp/", {"kind": tarfile.DIRTYPE, "mode": 0o1777}),
    ]
    l2 = [
        ("etc/.wh.removeme", {}),
        ("opq/", d),
        ("opq/.wh..wh..opq", {}),
        ("opq/new", {"data": b"new\n"}),
        ("hello.txt", {"data": b"hello from layer 2\n"}),
    ]
    return [make_layer(l1, compress=True), make_layer(l2, compress=False)]


def push_busybox_image(reg, repo="test/busybox", tag="1.36", cmd=None, arch="amd64",
                       layers=None, docker=False):
    """Pushes an image; docker=True uses Docker schema 2 media types (whose layers are all
    labelled tar.gzip, as Docker does even for plain tar), else OCI ones."""
    layers = layers or busybox_layers()
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "KOS_IMAGE=busybox"],
            "Entrypoint": None,
            "Cmd": cmd or ["sh"],
            "WorkingDir": "/data",
            "User": "",
        },
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
    }
    cfg_bytes = json.dumps(config).encode()
    cfg_digest = reg.push_blob(repo, cfg_bytes)
    descs = []
    for i, (blob, _) in enumerate(layers):
        dg = reg.push_blob(repo, blob)
        mt = OCI_LAYER_GZIP if blob[:2] == b"\x1f\x8b" else OCI_LAYER_TAR
        descs.append({"mediaType": DOCKER_LAYER if docker else mt, "digest": dg,
                      "size": len(blob)})
    mtype = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": mtype,
        "config": {"mediaType": DOCKER_CONFIG if docker else OCI_CONFIG, "digest": cfg_digest,
                   "size": len(cfg_bytes)},
        "layers": descs,
    }
    body = json.dumps(manifest).encode()
    digest = reg.push_manifest(repo, tag, body, mtype)
    return {"repo": repo, "tag": tag, "digest": digest, "size": len(body), "config": config,
            "media_type": mtype,
            "config_digest": cfg_digest, "layers": descs,
            "ref": "%s/%s:%s" % (reg.host, repo, tag)}


def push_index(reg, repo, tag, entries, docker=False):
    """entries: list of (image dict from push_busybox_image, arch). docker=True makes a Docker
    manifest list instead of an OCI index."""
    itype = DOCKER_LIST if docker else OCI_INDEX
    index = {
        "schemaVersion": 2,
        "mediaType": itype,
        "manifests": [
            {"mediaType": img["media_type"], "digest": img["digest"], "size": img["size"],
             "platform": {"architecture": arch, "os": "linux"}}
            for img, arch in entries
        ],
    }
    body = json.dumps(index).encode()
    return reg.push_manifest(repo, tag, body, itype)


@pytest.fixture
def local_registry():
    reg = Registry()
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def busybox_image(local_registry):
    reg = local_registry
    img = push_busybox_image(reg)
    # A decoy arm64 image listed first in the index: the agent must pick linux/amd64.
    decoy = push_busybox_image(reg, tag="arm64-only", cmd=["echo", "wrong platform"], arch="arm64",
                               layers=[make_layer([("decoy", {"data": b"arm64\n"})])])
    idx = push_index(reg, img["repo"], "multi", [(decoy, "arm64"), (img, "amd64")])
    img.update({"registry": reg, "index_ref": "%s/%s:multi" % (reg.host, img["repo"]),
                "index_digest": idx})
    return img

"""kos image pull against a real docker-registry on loopback: images built here from Debian's
busybox-static, layers with whiteouts, an index, digests, pull policies, auth and faults."""
import json
import os
import shutil
import stat
import tarfile
import subprocess
import tempfile
import threading

import pytest

from registry import (  # noqa: F401  (pytest fixtures)
    Registry,
    _free_port,
    busybox_image,
    local_registry,
    make_layer,
    push_busybox_image,
    push_index,
)

KOS = os.environ.get("KOS_BIN", os.path.join(os.path.dirname(__file__), "../../build/kos"))


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="kos-image-")
    try:
        yield d
    finally:
        subprocess.run([KOS, "image", "rootfs-remove", os.path.join(d, "c1")], check=False)
        subprocess.run([KOS, "image", "rootfs-remove", os.path.join(d, "c2")], check=False)
        shutil.rmtree(d, ignore_errors=True)


def pull(ref, root, *args, ok=True):
    p = subprocess.run([KOS, "image", "pull", ref, "--root-dir", root, *args],
                       capture_output=True, text=True, timeout=120)
    if ok:
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)
    assert p.returncode == 1, (p.stdout, p.stderr)
    return p.stderr.strip()


def check_busybox_tree(rootfs):
    j = lambda *p: os.path.join(rootfs, *p)  # noqa: E731
    st = os.lstat(j("bin/busybox"))
    assert stat.S_ISREG(st.st_mode) and st.st_mode & 0o777 == 0o755
    with open("/bin/busybox", "rb") as a, open(j("bin/busybox"), "rb") as b:
        assert a.read() == b.read()
    assert os.readlink(j("bin/sh")) == "busybox"
    assert os.readlink(j("etc/abs-link")) == "/etc/passwd"
    # hard link kept
    assert os.lstat(j("etc/passwd")).st_ino == os.lstat(j("etc/passwd.link")).st_ino
    # owners and modes (setuid, sticky)
    st = os.lstat(j("data/owned"))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 5678, 0o640)
    assert os.lstat(j("data/setuid")).st_mode & 0o7777 == 0o4755
    assert os.lstat(j("tmp")).st_mode & 0o7777 == 0o1777
    # whiteout and opaque directory from layer 2
    assert not os.path.lexists(j("etc/removeme"))
    assert sorted(os.listdir(j("opq"))) == ["new"]
    assert open(j("hello.txt")).read() == "hello from layer 2\n"
    # no whiteout markers leak into the container's view
    for dp, dns, fns in os.walk(rootfs):
        for n in dns + fns:
            assert not n.startswith(".wh."), os.path.join(dp, n)
    # the busybox really runs in it
    out = subprocess.run(["chroot", rootfs, "/bin/sh", "-c", "echo ok; cat /etc/abs-link"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.startswith("ok\nroot:x:0:0"), out


@pytest.mark.parametrize("snapshotter", ["copy", "overlay"])
def test_pull_unpack_rootfs(busybox_image, workdir, snapshotter):
    root = os.path.join(workdir, "root")
    cdir = os.path.join(workdir, "c1")
    info = pull(busybox_image["ref"], root, "--rootfs", cdir, "--snapshotter", snapshotter)
    assert info["digest"] == busybox_image["digest"]
    assert info["imageID"] == busybox_image["config_digest"]
    assert info["repoDigest"] == "%s/%s@%s" % (busybox_image["registry"].host,
                                               busybox_image["repo"], busybox_image["digest"])
    assert info["cmd"] == ["sh"] and info["entrypoint"] is None
    assert "KOS_IMAGE=busybox" in info["env"]
    assert info["workingDir"] == "/data"
    assert info["layers"] == [d["digest"] for d in busybox_image["layers"]]
    assert info["overlay"] is (snapshotter == "overlay")
    check_busybox_tree(info["rootfs"])
    # blobs stored once by digest, verified, no temp leftovers
    blobs = os.listdir(os.path.join(root, "images/blobs/sha256"))
    for d in [busybox_image["digest"], busybox_image["config_digest"]] + info["layers"]:
        assert d.split(":")[1] in blobs
    assert os.listdir(os.path.join(root, "images/tmp")) == []
    # idempotent: a second create keeps what is there (a restarted agent)
    again = pull(busybox_image["ref"], root, "--rootfs", cdir, "--snapshotter", snapshotter)
    assert again["rootfs"] == info["rootfs"] and again["overlay"] == info["overlay"]
    assert subprocess.run([KOS, "image", "rootfs-remove", cdir]).returncode == 0
    assert not os.path.exists(os.path.join(cdir, "rootfs"))
    assert cdir not in open("/proc/self/mountinfo").read()


def test_index_picks_linux_amd64_and_digest_refs(busybox_image, workdir):
    root = os.path.join(workdir, "root")
    info = pull(busybox_image["index_ref"], root)
    assert info["digest"] == busybox_image["index_digest"]
    assert info["cmd"] == ["sh"], "took the arm64 decoy"
    assert info["imageID"] == busybox_image["config_digest"]
    reg = busybox_image["registry"]
    by_digest = "%s/%s@%s" % (reg.host, busybox_image["repo"], busybox_image["digest"])
    info = pull(by_digest, os.path.join(workdir, "root2"))
    assert info["digest"] == busybox_image["digest"]
    assert info["ref"] == by_digest
    # "localhost" is a registry host spoken to over plain HTTP too
    via_localhost = "localhost:%d/%s:1.36" % (reg.port, busybox_image["repo"])
    info = pull(via_localhost, os.path.join(workdir, "root3"))
    assert info["digest"] == busybox_image["digest"]
    assert info["ref"] == via_localhost


def test_pull_policies(busybox_image, workdir):
    root = os.path.join(workdir, "root")
    ref = busybox_image["ref"]
    err = pull(ref, root, "--policy", "Never", ok=False)
    assert err == ('ErrImageNeverPull: Container image "%s" is not present with pull policy '
                   'of Never' % ref)
    pull(ref, root, "--policy", "IfNotPresent")
    busybox_image["registry"].stop()
    # present: IfNotPresent and Never need no registry; the tag 1.36 defaults to IfNotPresent
    assert pull(ref, root, "--policy", "Never")["digest"] == busybox_image["digest"]
    assert pull(ref, root)["digest"] == busybox_image["digest"]
    # Always goes to the registry, which is gone
    err = pull(ref, root, "--policy", "Always", ok=False)
    assert err.startswith('ErrImagePull: Failed to pull image "%s": ' % ref), err
    assert "Connection refused" in err or "connect" in err.lower(), err


def test_bad_references_and_missing_images(busybox_image, workdir):
    root = os.path.join(workdir, "root")
    reg = busybox_image["registry"]
    err = pull("Not//Valid", root, ok=False)
    assert err.startswith('InvalidImageName: Failed to apply default image tag "Not//Valid": '
                          "couldn't parse image name"), err
    missing = "%s/test/nope:1" % reg.host
    err = pull(missing, root, ok=False)
    assert err == ('ErrImagePull: Failed to pull image "%s": failed to resolve reference "%s": '
                   "%s: not found" % (missing, missing, missing)), err
    unknown = "127.0.0.1:%d/test/busybox:1" % _free_port()
    err = pull(unknown, root, ok=False)
    assert err.startswith('ErrImagePull: Failed to pull image "%s": failed to resolve reference'
                          % unknown), err
    assert "refused" in err.lower(), err


def test_corrupted_blob_is_refused(busybox_image, workdir):
    reg = busybox_image["registry"]
    layer = busybox_image["layers"][1]["digest"]
    path = reg.blob_path(layer)
    data = bytearray(open(path, "rb").read())
    data[600] ^= 0xFF  # same size, different bytes: a real fault on the registry's disk
    open(path, "wb").write(bytes(data))
    root = os.path.join(workdir, "root")
    err = pull(busybox_image["ref"], root, ok=False)
    assert "blob %s: digest mismatch: got sha256:" % layer in err, err
    assert err.startswith("ErrImagePull: "), err
    # nothing partial became visible
    blobs = os.listdir(os.path.join(root, "images/blobs/sha256"))
    assert layer.split(":")[1] not in blobs
    assert os.listdir(os.path.join(root, "images/tmp")) == []
    assert not os.path.exists(os.path.join(root, "images/layers/sha256", layer.split(":")[1]))


def test_concurrent_pulls_share_the_store(busybox_image, workdir):
    root = os.path.join(workdir, "root")
    results = []

    def one():
        p = subprocess.run([KOS, "image", "pull", busybox_image["index_ref"], "--root-dir", root],
                           capture_output=True, text=True, timeout=120)
        results.append(p)

    threads = [threading.Thread(target=one) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert all(p.returncode == 0 for p in results), [p.stderr for p in results]
    digests = {json.loads(p.stdout)["digest"] for p in results}
    assert digests == {busybox_image["index_digest"]}
    assert os.listdir(os.path.join(root, "images/tmp")) == []
    layers = os.listdir(os.path.join(root, "images/layers/sha256"))
    assert len(layers) == 2


def test_layer_path_traversal_refused(local_registry, workdir):
    reg = local_registry
    outside = os.path.join(workdir, "outside")
    evil = make_layer([("../../../../../../../../%s/pwned" % outside.lstrip("/"),
                        {"data": b"x"})])
    img = push_busybox_image(reg, repo="test/evil", tag="dotdot", layers=[evil])
    err = pull(img["ref"], os.path.join(workdir, "root"), ok=False)
    assert "escapes the layer root" in err, err
    assert not os.path.exists(outside)
    # An absolute symlink followed by a write through it stays inside the layer.
    os.makedirs(outside)
    sneaky = make_layer([("link", {"kind": tarfile.SYMTYPE, "linkname": outside}),
                         ("link/pwned", {"data": b"x"})])
    img = push_busybox_image(reg, repo="test/evil", tag="symlink", layers=[sneaky])
    cdir = os.path.join(workdir, "c1")
    info = pull(img["ref"], os.path.join(workdir, "root"), "--rootfs", cdir)
    assert os.listdir(outside) == []
    inside = os.path.join(info["rootfs"], outside.lstrip("/"), "pwned")
    assert os.path.exists(inside), "the write should land under the rootfs"


def test_basic_auth_registry(workdir):
    reg = Registry(users={"alice": "s3cret"})
    try:
        reg.start()
        img = push_busybox_image(reg)
        root = os.path.join(workdir, "root")
        err = pull(img["ref"], root, ok=False)
        assert "401 Unauthorized" in err and err.startswith("ErrImagePull: "), err
        err = pull(img["ref"], root, "--username", "alice", "--password", "wrong", ok=False)
        assert "401 Unauthorized" in err, err
        info = pull(img["ref"], root, "--username", "alice", "--password", "s3cret")
        assert info["digest"] == img["digest"]
        # the same from an imagePullSecret's .dockerconfigjson (auth = base64 user:password)
        import base64

        secret = os.path.join(workdir, "dockerconfig.json")
        with open(secret, "w") as f:
            json.dump({"auths": {
                "other.example:5000": {"auth": base64.b64encode(b"mallory:x").decode()},
                reg.host: {"auth": base64.b64encode(b"alice:s3cret").decode()}}}, f)
        info = pull(img["ref"], os.path.join(workdir, "root2"), "--pull-secret", secret)
        assert info["digest"] == img["digest"]
    finally:
        reg.stop()


def test_bearer_token_registry(workdir):
    reg = Registry(token_users={"bob": "hunter2"})
    try:
        reg.start()
        pub = push_busybox_image(reg, repo="public/busybox")
        priv = push_busybox_image(reg, repo="private/busybox")
        ts = reg.token_server
        root = os.path.join(workdir, "root")
        # anonymous token for a public repository
        ts.requests.clear()
        info = pull(pub["ref"], root)
        assert info["digest"] == pub["digest"]
        assert ts.requests and ts.requests[0]["user"] is None
        assert ts.requests[0]["service"] == ts.service
        assert ts.requests[0]["scope"] == ["repository:public/busybox:pull"]
        # an anonymous token grants nothing on a private one
        err = pull(priv["ref"], root, ok=False)
        assert "pull access denied" in err and "401 Unauthorized" in err, err
        # wrong credentials are refused by the token endpoint
        err = pull(priv["ref"], root, "--username", "bob", "--password", "nope", ok=False)
        assert "failed to fetch oauth token: 401" in err, err
        # basic credentials at the token endpoint
        ts.requests.clear()
        info = pull(priv["ref"], root, "--username", "bob", "--password", "hunter2")
        assert info["digest"] == priv["digest"]
        assert ts.requests[0]["user"] == "bob"
    finally:
        reg.stop()


def test_damaged_local_blob_is_pulled_again(busybox_image, workdir):
    root = os.path.join(workdir, "root")
    pull(busybox_image["ref"], root)
    cfg = os.path.join(root, "images/blobs/sha256", busybox_image["config_digest"].split(":")[1])
    with open(cfg, "ab") as f:
        f.write(b" ")
    err = pull(busybox_image["ref"], root, "--policy", "Never", ok=False)
    assert "is corrupt: digest mismatch" in err, err
    info = pull(busybox_image["ref"], root, "--policy", "IfNotPresent")
    assert info["imageID"] == busybox_image["config_digest"]


def test_docker_schema2_manifest_list(local_registry, workdir):
    reg = local_registry
    img = push_busybox_image(reg, repo="test/dockerfmt", tag="amd64", docker=True)
    decoy = push_busybox_image(reg, repo="test/dockerfmt", tag="arm", cmd=["false"], arch="arm",
                               layers=[make_layer([("decoy", {"data": b"arm\n"})])], docker=True)
    lst = push_index(reg, "test/dockerfmt", "list", [(decoy, "arm"), (img, "amd64")], docker=True)
    cdir = os.path.join(workdir, "c1")
    info = pull("%s/test/dockerfmt:list" % reg.host, os.path.join(workdir, "root"),
                "--rootfs", cdir)
    assert info["digest"] == lst
    assert info["imageID"] == img["config_digest"]
    check_busybox_tree(info["rootfs"])

"""The node agent's container runtime on real runc and real cgroups: the shim, CRI logs,
exit codes, OOM kills, graceful stop and clean-up, driven through the hidden `kos ctr`
command with a root filesystem made from Debian's busybox-static."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from kos import KOS_BIN

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runc") or not os.path.exists("/bin/busybox"),
    reason="needs root, runc and busybox-static")

CGROUP_CONTROLLERS = ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices",
                      "freezer", "systemd"]


def cgroup_dirs(rel):
    """Every directory of a cgroup (v1 controllers and the v2 tree) that exists."""
    rel = rel.lstrip("/")
    cands = [os.path.join("/sys/fs/cgroup", c, rel) for c in CGROUP_CONTROLLERS]
    cands.append(os.path.join("/sys/fs/cgroup/unified", rel))
    cands.append(os.path.join("/sys/fs/cgroup", rel))
    return [d for d in cands if os.path.isdir(d) and d != "/sys/fs/cgroup/"]


def make_rootfs(path):
    os.makedirs(os.path.join(path, "bin"))
    for d in ["proc", "sys", "dev", "etc", "tmp"]:
        os.makedirs(os.path.join(path, d))
    shutil.copy("/bin/busybox", os.path.join(path, "bin", "busybox"))
    for app in ["sh", "echo", "sleep", "cat", "ls", "seq", "printf", "yes", "head", "id",
                "pwd", "env", "true", "false", "kill"]:
        os.symlink("busybox", os.path.join(path, "bin", app))


class Node:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kos-rt-")
        self.rootfs = os.path.join(self.tmp, "rootfs")
        make_rootfs(self.rootfs)
        self.state = os.path.join(self.tmp, "state")
        self.runc_root = os.path.join(self.tmp, "runc")
        self.cgroup_parent = "/kos-e2e-" + uuid.uuid4().hex[:8]
        self.ids = []

    def flags(self):
        return ["--state-root", self.state, "--runtime-root", self.runc_root]

    def ctr(self, *args, check=True):
        p = subprocess.run([KOS_BIN, "ctr", args[0], *self.flags(), *args[1:]],
                           capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"kos ctr {args}: {p.returncode} {p.stderr}")
        return p

    def run(self, cid, cmd, *extra, check=True):
        self.ids.append(cid)
        return self.ctr("run", "--id", cid, "--rootfs", self.rootfs, "--log-path",
                        self.log(cid), "--cgroups-path", f"{self.cgroup_parent}/{cid}",
                        *extra, "--", *cmd, check=check)

    def log(self, cid):
        return os.path.join(self.tmp, f"{cid}.log")

    def state_of(self, cid):
        return json.loads(self.ctr("state", "--id", cid).stdout)

    def wait_exit(self, cid, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.state_of(cid)
            if st["status"] == "exited":
                return st
            time.sleep(0.1)
        raise AssertionError(f"{cid} did not exit: {st}")

    def cleanup(self):
        for cid in self.ids:
            subprocess.run([KOS_BIN, "ctr", "stop", *self.flags(), "--id", cid, "--timeout",
                            "0"], capture_output=True, timeout=60)
            subprocess.run([KOS_BIN, "ctr", "rm", *self.flags(), "--id", cid],
                           capture_output=True, timeout=60)
        for d in cgroup_dirs(self.cgroup_parent):
            try:
                os.rmdir(d)
            except OSError:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def node():
    n = Node()
    try:
        yield n
    finally:
        n.cleanup()


def cri_records(path):
    with open(path) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        ts, stream, tag, content = line.split(" ", 3) if line.count(" ") >= 3 else \
            (line.split(" ") + [""])[:4]
        out.append((ts, stream, tag, content))
    return out


def test_output_in_cri_log_and_exit_code(node):
    node.run("c1", ["sh", "-c", "echo hello; echo oops >&2; printf tail; exit 3"])
    st = node.wait_exit("c1")
    assert st["exitCode"] == 3 and st["reason"] == "Error"
    assert st["finishedAt"] >= st["startedAt"] > 0
    recs = cri_records(node.log("c1"))
    assert [(r[1], r[2], r[3]) for r in recs] == [
        ("stdout", "F", "hello"), ("stderr", "F", "oops"), ("stdout", "F", "tail")]
    for ts, *_ in recs:
        # RFC 3339 with nanoseconds in UTC, as containerd writes it
        assert len(ts) == 30 and ts.endswith("Z") and ts[10] == "T" and ts[19] == "."
    out = subprocess.run([KOS_BIN, "ctr", "logs", "--log-path", node.log("c1"), "--tail", "2"],
                         capture_output=True, text=True, check=True).stdout
    assert out == "oops\ntail\n"
    out = subprocess.run([KOS_BIN, "ctr", "logs", "--log-path", node.log("c1"), "--timestamps"],
                         capture_output=True, text=True, check=True).stdout
    first = out.splitlines()[0]
    assert first.endswith(" hello") and first.split(" ")[0].startswith(recs[0][0][:19])
    # the container's cgroup is gone once it exited
    assert cgroup_dirs(f"{node.cgroup_parent}/c1") == []


def test_completed_and_cgroup_values(node):
    node.run("c2", ["sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                    "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us "
                    "2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max"],
             "--memory", "209715200", "--cpu-shares", "1024", "--cpu-quota", "100000")
    st = node.wait_exit("c2")
    assert st["exitCode"] == 0 and st["reason"] == "Completed"
    content = [r[3] for r in cri_records(node.log("c2"))]
    assert content in (["209715200", "1024", "100000"], ["209715200", "100000 100000"])


def test_bad_command_is_a_start_error(node):
    p = node.run("bad", ["no-such-binary"], check=False)
    assert p.returncode == 1
    assert "StartError" in p.stderr and "no-such-binary" in p.stderr
    st = node.state_of("bad")
    assert st["status"] == "exited" and st["exitCode"] == 128
    assert st["reason"] == "StartError" and "executable file not found" in st["message"]
    # the node keeps running other containers
    node.run("good", ["true"])
    assert node.wait_exit("good")["reason"] == "Completed"


def test_graceful_stop_then_kill(node):
    node.run("term", ["sh", "-c", "trap 'echo got TERM; exit 0' TERM; "
                      "while true; do sleep 0.1; done"])
    node.ctr("stop", "--id", "term", "--timeout", "10")
    st = node.state_of("term")
    assert st["status"] == "exited" and st["exitCode"] == 0
    assert [r[3] for r in cri_records(node.log("term"))] == ["got TERM"]

    node.run("stubborn", ["sh", "-c", "trap '' TERM; sleep 1000 & wait; sleep 1000"])
    pid = node.state_of("stubborn")["pid"]
    node.ctr("stop", "--id", "stubborn", "--timeout", "1")
    st = node.state_of("stubborn")
    assert st["status"] == "exited" and st["exitCode"] == 137
    assert not os.path.exists(f"/proc/{pid}")
    node.ctr("rm", "--id", "stubborn")
    assert not os.path.exists(os.path.join(node.state, "stubborn"))
    assert cgroup_dirs(f"{node.cgroup_parent}/stubborn") == []
    # no runc state left behind
    assert not os.path.exists(os.path.join(node.runc_root, "stubborn"))


def test_oom_killed(node):
    node.run("oom", ["sh", "-c", "x=aaaaaaaa; while true; do x=$x$x; done"],
             "--memory", "20971520")
    st = node.wait_exit("oom")
    assert st["reason"] == "OOMKilled" and st["exitCode"] == 137


def test_shim_survives_its_starter_and_is_found_again(node):
    """The shim runs in its own session: killing the process group that started it (the
    agent) leaves the container running, and a fresh `kos ctr list/state` finds it."""
    script = (f"import subprocess,sys; subprocess.run({[KOS_BIN, 'ctr', 'run', *node.flags()]!r}"
              f" + ['--id','long','--rootfs',{node.rootfs!r},'--log-path',{node.log('long')!r},"
              f"'--','sh','-c','while true; do echo tick; sleep 0.2; done'], check=True)")
    node.ids.append("long")
    starter = subprocess.Popen(["/usr/bin/python3", "-c", script], start_new_session=True)
    assert starter.wait(timeout=60) == 0
    os.killpg(starter.pid, 9) if _pgrp_alive(starter.pid) else None
    assert "long" in node.ctr("list").stdout.split()
    st = node.state_of("long")
    assert st["status"] == "running"
    shim = st["shimPid"]
    # a session of its own: neither ours nor the starter's
    assert os.getsid(shim) not in (os.getsid(0), starter.pid)
    size = os.path.getsize(node.log("long"))
    time.sleep(1)
    assert os.path.getsize(node.log("long")) > size
    # sh as pid 1 has no TERM handler, so the kernel ignores TERM: killed after the grace
    node.ctr("stop", "--id", "long", "--timeout", "1")
    assert node.state_of("long")["exitCode"] == 137
    for _ in range(50):
        if not os.path.exists(f"/proc/{shim}"):
            break
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{shim}")


def _pgrp_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_log_rotation(node):
    node.run("chatty", ["sh", "-c", "seq 1 4000"], "--log-max-size", "8192",
             "--log-max-files", "3")
    node.wait_exit("chatty")
    files = sorted(f for f in os.listdir(node.tmp) if f.startswith("chatty.log"))
    assert files[0] == "chatty.log" and len(files) == 3, files
    for f in files:
        assert os.path.getsize(os.path.join(node.tmp, f)) <= 8192
    last = [r[3] for r in cri_records(node.log("chatty"))]
    assert last[-1] == "4000"
    # every record is whole: the rotated files continue where the older ones stopped
    rotated = sorted(files[1:])
    seq = []
    for f in rotated + ["chatty.log"]:
        seq += [int(r[3]) for r in cri_records(os.path.join(node.tmp, f))]
    assert seq == list(range(seq[0], 4001))

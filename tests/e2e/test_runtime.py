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

from kos import KOS_BIN, process_gone, process_start, processes

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
    started = processes([pid])[pid]
    node.ctr("stop", "--id", "stubborn", "--timeout", "1")
    st = node.state_of("stubborn")
    assert st["status"] == "exited" and st["exitCode"] == 137
    assert process_gone(pid, started)
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
    shim_start = process_start(shim)
    assert shim_start is not None
    # a session of its own: neither ours nor the starter's
    assert os.getsid(shim) not in (os.getsid(0), starter.pid)
    size = os.path.getsize(node.log("long"))
    # still writing: the log grows (polled, bounded: a loaded machine runs the loop late)
    deadline = time.time() + 60
    while os.path.getsize(node.log("long")) <= size and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.getsize(node.log("long")) > size
    # sh as pid 1 has no TERM handler, so the kernel ignores TERM: killed after the grace
    node.ctr("stop", "--id", "long", "--timeout", "1")
    assert node.state_of("long")["exitCode"] == 137
    deadline = time.time() + 60
    while not process_gone(shim, shim_start) and time.time() < deadline:
        time.sleep(0.1)
    assert process_gone(shim, shim_start)


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


# ---- whole pods through the pod runtime (kos ctr pod-sync / pod-kill drive it as the agent
# would), with images pulled from a real local registry --------------------------------------

from registry import local_registry, busybox_image  # noqa: E402,F401  (fixtures)


class PodEnv:
    def __init__(self, image):
        self.image = image
        self.tmp = tempfile.mkdtemp(prefix="kos-pods-")
        self.root = os.path.join(self.tmp, "root")
        self.logs = os.path.join(self.tmp, "logs")
        self.cg_root = "/kos-e2e-" + uuid.uuid4().hex[:8]
        self.pods = []

    def pod(self, name, containers, restart="Never", init=None, volumes=None):
        uid = str(uuid.uuid4())
        pod = {"metadata": {"name": name, "namespace": "default", "uid": uid},
               "spec": {"restartPolicy": restart, "containers": containers,
                        "terminationGracePeriodSeconds": 30}}
        if init:
            pod["spec"]["initContainers"] = init
        if volumes:
            pod["spec"]["volumes"] = volumes
        for c in containers + (init or []):
            c.setdefault("image", self.image)
        path = os.path.join(self.tmp, uid + ".json")
        with open(path, "w") as f:
            json.dump(pod, f)
        self.pods.append(path)
        pod["_path"] = path
        return pod

    def args(self, pod):
        return ["--root-dir", self.root, "--pod-log-dir", self.logs, "--pod", pod["_path"],
                "--cgroup-root", self.cg_root]

    def sync(self, pod, *extra, seconds=60):
        p = subprocess.run([KOS_BIN, "ctr", "pod-sync", *self.args(pod), "--seconds",
                            str(seconds), *extra], capture_output=True, text=True,
                           timeout=seconds + 60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def kill(self, pod, grace=30):
        p = subprocess.run([KOS_BIN, "ctr", "pod-kill", *self.args(pod), "--grace", str(grace)],
                           capture_output=True, text=True, timeout=grace + 60)
        assert p.returncode == 0, p.stderr

    def mark_deleted(self, pod):
        pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        with open(pod["_path"], "w") as f:
            json.dump({k: v for k, v in pod.items() if k != "_path"}, f)

    def ctr_state(self, cid):
        p = subprocess.run([KOS_BIN, "ctr", "state", "--state-root",
                            os.path.join(self.root, "containers"), "--runtime-root",
                            os.path.join(self.root, "runtime"), "--id", cid],
                           capture_output=True, text=True, check=True)
        return json.loads(p.stdout)

    def log_file(self, pod, container, attempt=0):
        m = pod["metadata"]
        return os.path.join(self.logs, f"{m['namespace']}_{m['name']}_{m['uid']}", container,
                            f"{attempt}.log")

    def cleanup(self):
        for path in self.pods:
            subprocess.run([KOS_BIN, "ctr", "pod-kill", "--root-dir", self.root,
                            "--pod-log-dir", self.logs, "--pod", path, "--cgroup-root",
                            self.cg_root, "--grace", "0"], capture_output=True, timeout=120)
        for d in sorted(cgroup_dirs(self.cg_root)):
            subprocess.run(["find", d, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"],
                           capture_output=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture
def pods(busybox_image):
    env = PodEnv(busybox_image["ref"])
    try:
        yield env
    finally:
        env.cleanup()


def cstatus(status, name, init=False):
    key = "initContainerStatuses" if init else "containerStatuses"
    return next(c for c in status[key] if c["name"] == name)


def test_pod_init_env_volumes_and_logs(pods):
    hostdir = os.path.join(pods.tmp, "host")
    os.makedirs(hostdir)
    with open(os.path.join(hostdir, "from-host"), "w") as f:
        f.write("host file\n")
    pod = pods.pod("web", restart="Never", volumes=[
        {"name": "work", "emptyDir": {}},
        {"name": "host", "hostPath": {"path": hostdir, "type": "Directory"}},
        {"name": "info", "downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.name"}}]}},
    ], init=[{"name": "prepare", "command": ["sh", "-c", "echo made-by-init > /work/note"],
              "volumeMounts": [{"name": "work", "mountPath": "/work"}]}],
        containers=[{"name": "main", "command": ["sh", "-c"],
                     "args": ["echo $(GREETING) $POD_NAME $KOS_IMAGE; cat /work/note "
                              "/host/from-host; echo; cat /info/labels; echo; pwd; "
                              "echo err >&2; exit 0"],
                     "workingDir": "/tmp",
                     "env": [{"name": "GREETING", "value": "hello"},
                             {"name": "POD_NAME", "valueFrom": {"fieldRef": {
                                 "fieldPath": "metadata.name"}}}],
                     "volumeMounts": [{"name": "work", "mountPath": "/work"},
                                      {"name": "host", "mountPath": "/host", "readOnly": True},
                                      {"name": "info", "mountPath": "/info"}]}])
    st = pods.sync(pod, "--until-phase", "Succeeded")
    assert st["phase"] == "Succeeded"
    init = cstatus(st, "prepare", init=True)
    assert init["state"]["terminated"]["reason"] == "Completed"
    main = cstatus(st, "main")
    term = main["state"]["terminated"]
    assert term["exitCode"] == 0 and term["reason"] == "Completed"
    assert "/test/busybox@sha256:" in main["imageID"]
    assert main["containerID"].startswith("runc://")
    for field in ["name", "image", "imageID", "ready", "restartCount", "started", "state",
                  "lastState"]:
        assert field in main
    conds = {c["type"]: c for c in st["conditions"]}
    assert conds["Initialized"]["status"] == "True"
    assert conds["Ready"]["status"] == "False" and conds["Ready"]["reason"] == "PodCompleted"
    assert st["podIP"] and st["hostIP"] and st["startTime"]
    recs = cri_records(pods.log_file(pod, "main"))
    assert [r[3] for r in recs if r[1] == "stdout"] == [
        "hello web busybox", "made-by-init", "host file", "", "web", "/tmp"]
    assert [(r[1], r[3]) for r in recs if r[1] == "stderr"] == [("stderr", "err")]
    pods.kill(pod)
    # a finished pod that still exists keeps its logs (kubectl logs on a Completed pod) ...
    assert os.path.exists(pods.log_file(pod, "main"))
    assert os.listdir(os.path.join(pods.root, "containers")) == []
    # ... until it is deleted
    pods.mark_deleted(pod)
    pods.kill(pod)
    assert not os.path.exists(os.path.dirname(pods.log_file(pod, "main")))
    assert os.listdir(os.path.join(pods.root, "pods")) == []
    # the host directory is never touched by the clean-up
    assert os.path.exists(os.path.join(hostdir, "from-host"))


def test_exit_codes_and_policies(pods):
    failed = pods.pod("fails", restart="Never",
                      containers=[{"name": "main", "command": ["sh", "-c", "exit 3"]}])
    st = pods.sync(failed, "--until-phase", "Failed")
    assert st["phase"] == "Failed"
    term = cstatus(st, "main")["state"]["terminated"]
    assert term["exitCode"] == 3 and term["reason"] == "Error"

    ok = pods.pod("onfailure-ok", restart="OnFailure",
                  containers=[{"name": "main", "command": ["true"]}])
    st = pods.sync(ok, "--until-phase", "Succeeded")
    assert st["phase"] == "Succeeded"
    assert cstatus(st, "main")["restartCount"] == 0


def test_crash_loop_backoff(pods):
    # first exit: restarted at once; second exit: CrashLoopBackOff for 10 s (one process
    # drives both: a fresh pod-sync, like a restarted agent, has no back-off memory)
    pod2 = pods.pod("crash2", restart="Always",
                    containers=[{"name": "main", "command": ["sh", "-c", "exit 1"]}])
    st = pods.sync(pod2, "--seconds", "5")
    main = cstatus(st, "main")
    assert main["state"]["waiting"]["reason"] == "CrashLoopBackOff", main
    assert main["state"]["waiting"]["message"] == (
        "back-off 10s restarting failed container=main pod=crash2_default(%s)"
        % pod2["metadata"]["uid"])
    assert main["lastState"]["terminated"]["exitCode"] == 1
    assert main["restartCount"] == 1
    assert st["phase"] == "Running"
    # after the back-off the container runs again: restartCount 2
    st = pods.sync(pod2, "--until-restarts", "2", "--seconds", "40")
    assert cstatus(st, "main")["restartCount"] == 2
    # logs of the previous attempt are kept, older ones removed
    assert os.path.exists(pods.log_file(pod2, "main", 2)) or \
        os.path.exists(pods.log_file(pod2, "main", 1))
    assert not os.path.exists(pods.log_file(pod2, "main", 0))


def test_bad_command_and_bad_image_give_reasons(pods):
    bad = pods.pod("badcmd", restart="Never",
                   containers=[{"name": "main", "command": ["/no/such/binary"]}])
    st = pods.sync(bad, "--until-phase", "Failed")
    term = cstatus(st, "main")["state"]["terminated"]
    assert term["reason"] == "StartError" and term["exitCode"] == 128
    assert "no such file or directory" in term["message"] or "not found" in term["message"]

    noimg = pods.pod("noimage", restart="Never",
                     containers=[{"name": "main", "image": "127.0.0.1:1/none/such:1"}])
    st = pods.sync(noimg, "--seconds", "3")
    w = cstatus(st, "main")["state"]["waiting"]
    assert w["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert st["phase"] == "Pending"

    # the node keeps running other pods
    good = pods.pod("good", restart="Never", containers=[{"name": "main", "command": ["true"]}])
    assert pods.sync(good, "--until-phase", "Succeeded")["phase"] == "Succeeded"


def test_kill_removes_processes_and_cgroups(pods):
    pod = pods.pod("long", restart="Always", containers=[
        {"name": "main", "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]},
        {"name": "side", "command": ["sleep", "1000"]}])
    st = pods.sync(pod, "--until-phase", "Running")
    assert st["phase"] == "Running"
    assert all(c["ready"] and c["started"] for c in st["containerStatuses"])
    uid = pod["metadata"]["uid"]
    pids = [pods.ctr_state(f"{uid}_{n}_0")["pid"] for n in ("main", "side")]
    procs = processes(pids)
    pod_cg = cgroup_dirs(f"{pods.cg_root}/kubepods/besteffort/pod{uid}")
    assert pod_cg
    # each container has its own cgroup under the pod's
    assert any(os.path.isdir(os.path.join(d, f"{uid}_main_0")) for d in pod_cg)
    pods.kill(pod, grace=2)
    for p, started in procs.items():
        assert process_gone(p, started)
    assert cgroup_dirs(f"{pods.cg_root}/kubepods/besteffort/pod{uid}") == []
    assert os.listdir(os.path.join(pods.root, "containers")) == []


def test_agent_restart_leaves_running_containers(pods):
    pod = pods.pod("steady", restart="Always",
                   containers=[{"name": "main", "command": ["sleep", "1000"]}])
    st1 = pods.sync(pod, "--until-phase", "Running")
    main1 = cstatus(st1, "main")
    # a new process (the restarted agent) finds the container and leaves it alone
    st2 = pods.sync(pod, "--seconds", "1")
    main2 = cstatus(st2, "main")
    assert main2["containerID"] == main1["containerID"]
    assert main2["restartCount"] == 0
    assert main2["state"]["running"]["startedAt"] == main1["state"]["running"]["startedAt"]
    pods.kill(pod, grace=1)

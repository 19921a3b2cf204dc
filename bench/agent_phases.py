"""Where the start-up time of bench/agent.sh's pods goes, per phase (run by bench/agent.sh while
the pods still run; reads only what the agent and the shims left on disk).

  agent_phases.py TMP LATENCY_OUT

For each pod (name -> uid from the pod log directory <TMP>/pod-logs/default_<name>_<uid>), the
wall-clock times (CLOCK_REALTIME) of:
  created   the client's create request (agent_pods.py, time.time() before the POST)
  files     pods/<uid>/etc-hostname written: the watch event reached the agent, a worker took
            the pod, admission, pod cgroup and pod network are done
  token     pods/<uid>/serviceaccount/token written: the TokenRequest came back
  spec      containers/<uid>_c_0/config.json written: image looked up, env, overlay rootfs
            mounted, OCI spec made
  shim      containers/<uid>_c_0/shim.log created: the shim was spawned
  runc      state.json's startedAt: `runc run --detach` returned, the container runs
  running   the client's watch saw status.phase Running: status write, watch delivery
Prints, per phase, the median and the worst (over the pods) of the time since the previous
phase, and the pods whose latency is the p99."""
import json
import os
import re
import statistics
import sys

PHASES = ["created", "files", "token", "spec", "shim", "runc", "running"]


def mtime(path):
    try:
        return os.stat(path).st_mtime_ns / 1e9
    except OSError:
        return None


def main():
    tmp, latency_out = sys.argv[1], sys.argv[2]
    pods = {}
    for line in open(latency_out):
        m = re.match(r"raw: pod (\S+) create_to_running_ms=(\S+) created_at=(\S+) running_at=(\S+)",
                     line)
        if m:
            pods[m.group(1)] = {"latency": float(m.group(2)), "created": float(m.group(3)),
                                "running": float(m.group(4))}
    logs = os.path.join(tmp, "pod-logs")
    for d in os.listdir(logs) if os.path.isdir(logs) else []:
        m = re.match(r"default_(.+)_([0-9a-f-]{36})$", d)
        if not m or m.group(1) not in pods:
            continue
        name, uid = m.group(1), m.group(2)
        p = pods[name]
        pod_dir = os.path.join(tmp, "agent", "pods", uid)
        ctr = os.path.join(tmp, "agent", "containers", uid + "_c_0")
        p["files"] = mtime(os.path.join(pod_dir, "etc-hostname"))
        p["token"] = mtime(os.path.join(pod_dir, "serviceaccount", "token"))
        p["spec"] = mtime(os.path.join(ctr, "config.json"))
        p["shim"] = mtime(os.path.join(ctr, "shim.log"))
        try:
            with open(os.path.join(ctr, "state.json")) as f:
                p["runc"] = json.load(f)["startedAt"] / 1e9
        except (OSError, ValueError, KeyError):
            p["runc"] = None
        if p["token"] is None:  # a pod without a service-account token
            p["token"] = p["files"]
    full = [p for p in pods.values() if all(p.get(k) is not None for k in PHASES)]
    if not full:
        print("raw: phases none (no pod with every timestamp)")
        return
    t0 = min(p["created"] for p in full)
    print("raw: phases pods=%d (ms since the previous phase: median / max)" % len(full))
    for a, b in zip(PHASES, PHASES[1:]):
        d = [(p[b] - p[a]) * 1000.0 for p in full]
        print("raw: phase %-7s -> %-7s median %7.1f max %7.1f"
              % (a, b, statistics.median(d), max(d)))
    worst = max(full, key=lambda p: p["latency"])
    print("raw: phases of the slowest pod (ms since the first create): " +
          " ".join("%s=%.0f" % (k, (worst[k] - t0) * 1000.0) for k in PHASES))


if __name__ == "__main__":
    main()

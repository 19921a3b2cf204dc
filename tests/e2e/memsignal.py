"""The kubelet's memory.available signal, read the way it (and kos's eviction manager)
computes it: MemTotal - working set of the root memory cgroup (usage - inactive file pages),
on cgroup v1 or v2. Shared by tests/e2e/test_eviction.py and bench/eviction_hog.py."""
import os


def memory_available():
    meminfo = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            meminfo[k] = int(v.split()[0]) * 1024
    v1 = "/sys/fs/cgroup/memory/memory.usage_in_bytes"
    if os.path.exists(v1):
        with open(v1) as f:
            usage = int(f.read())
        stat_path, key = "/sys/fs/cgroup/memory/memory.stat", "total_inactive_file"
    else:
        usage = meminfo["MemTotal"] - meminfo["MemFree"]
        stat_path, key = "/sys/fs/cgroup/memory.stat", "inactive_file"
    inactive = 0
    with open(stat_path) as f:
        for line in f:
            k, v = line.split()
            if k == key:
                inactive = int(v)
                break
    return meminfo["MemTotal"] - max(usage - inactive, 0)

#!/bin/bash
# Node agent benchmarks (issue 6): pod startup latency (create -> Running) for 50 pods with a
# cached image, and the agent's RSS and idle CPU with those 50 pods running.
#
# The registry, server and standalone agent it runs against, and their cleanup, are
# bench/lib/agent-env.sh's (shared with bench/eviction.sh). Needs root, runc or crun,
# docker-registry, python3-kubernetes, bc.
#
# Usage: bench/agent.sh            (KOS_BIN, PODS=50, IDLE_SECONDS=30 may be set)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KOS_BIN=${KOS_BIN:-$HERE/../build/kos}
KOS_BIN=$(readlink -f "$KOS_BIN")
PODS=${PODS:-50}
IDLE_SECONDS=${IDLE_SECONDS:-30}
# shellcheck source=bench/lib/agent-env.sh
. "$HERE/lib/agent-env.sh"
agent_env_init agent

# 1. registry with the image; 2. server without agent; 3. standalone agent, its own process
agent_env_registry
agent_env_server
agent_env_agent --proxy-mode none
echo "raw: agent_rss_kb_idle_no_pods $(awk '/^VmRSS/ {print $2}' /proc/$AGENT_PID/status)"

# 4. warm the image cache with one pod, then the measured run
"$PY" "$HERE/agent_pods.py" "$KC" warm "$NODE" "$IMAGE"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime+stime
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$1/stat"; } # cutime+cstime
HZ=$(getconf CLK_TCK)
ba0=$(cpu_ticks "$AGENT_PID") bs0=$(cpu_ticks "$SERVER_PID")
"$PY" "$HERE/agent_pods.py" "$KC" latency "$NODE" "$IMAGE" "$PODS" | tee "$TMP/latency.out" ||
    { tail -20 "$TMP/agent.log" >&2; exit 1; }
# The CPU the burst cost, whatever the machine's load (which stretches the latencies): the
# agent and the API server over the measured run; each shim (exec of kos, state files) and
# the runtime it waited for (runc run, which includes runc init's first stages); each
# container's process (runc init's last stage before its exec, then sleep).
ba1=$(cpu_ticks "$AGENT_PID") bs1=$(cpu_ticks "$SERVER_PID")
sh_self=0 sh_rt=0 ctr=0
for p in $(our_shims); do
    sh_self=$((sh_self + $(cpu_ticks "$p" 2>/dev/null || echo 0)))
    sh_rt=$((sh_rt + $(child_ticks "$p" 2>/dev/null || echo 0)))
done
for f in "$TMP"/agent/containers/*/init.pid; do
    [ -f "$f" ] && ctr=$((ctr + $(cpu_ticks "$(cat "$f")" 2>/dev/null || echo 0)))
done
ms() { echo $(($1 * 1000 / HZ)); }
BURST_TICKS=$((ba1 - ba0 + bs1 - bs0 + sh_self + sh_rt + ctr))
echo "raw: burst_cpu_ms agent $(ms $((ba1 - ba0))) server $(ms $((bs1 - bs0))) shims $(ms $sh_self) runtime $(ms $sh_rt) containers $(ms $ctr) (ticks of 1/$HZ s)"
"$PY" "$HERE/agent_phases.py" "$TMP" "$TMP/latency.out" || true # where the time went, per phase

# 5. RSS and idle CPU with the pods running
sleep 5 # let the status updates of the last pods settle
SHIMS=$(our_shims)
t0=$(date +%s.%N); a0=$(cpu_ticks "$AGENT_PID")
s0=0; for p in $SHIMS; do s0=$((s0 + $(cpu_ticks "$p"))); done
sleep "$IDLE_SECONDS"
t1=$(date +%s.%N); a1=$(cpu_ticks "$AGENT_PID")
s1=0; for p in $SHIMS; do s1=$((s1 + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done
RSS=$(awk '/^VmRSS/ {print $2}' /proc/$AGENT_PID/status)
HWM=$(awk '/^VmHWM/ {print $2}' /proc/$AGENT_PID/status)
# PSS shares each page among the processes mapping it: the shims all map the same kos binary,
# so their summed RSS counts its pages once per shim, their summed PSS once in all.
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
PSS=$(pss "$AGENT_PID")
NSHIM=0 SHIM_RSS=0 SHIM_PSS=0
for p in $SHIMS; do
    r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
    NSHIM=$((NSHIM + 1)) SHIM_RSS=$((SHIM_RSS + r)) SHIM_PSS=$((SHIM_PSS + $(pss "$p")))
done
ELAPSED=$(echo "$t1 - $t0" | bc -l)
CPU=$(echo "scale=3; ($a1 - $a0) * 100 / $HZ / $ELAPSED" | bc -l)
SHIM_CPU=$(echo "scale=3; ($s1 - $s0) * 100 / $HZ / $ELAPSED" | bc -l)
RUNNING=$("$PY" -c '
import sys
from kubernetes import client, config
config.load_kube_config(sys.argv[1])
print(sum(1 for p in client.CoreV1Api().list_namespaced_pod("default", label_selector="kos-bench=agent").items if p.status.phase == "Running"))' "$KC")
echo "raw: pods_running $RUNNING"
echo "raw: agent_rss_kb $RSS agent_hwm_kb $HWM agent_pss_kb $PSS"
echo "raw: agent_cpu_ticks $((a1 - a0)) over ${ELAPSED}s hz $HZ -> ${CPU}% of one core"
echo "raw: shims $NSHIM shim_rss_kb_sum $SHIM_RSS shim_pss_kb_sum $SHIM_PSS shim_cpu ${SHIM_CPU}% of one core"
echo "raw: loadavg_end $(cut -d' ' -f1-3 /proc/loadavg)"

read -r P50 P99 MAX < <(sed -n 's/^raw: latency_ms p50=\([^ ]*\) p90=[^ ]* p99=\([^ ]*\) max=\([^ ]*\).*/\1 \2 \3/p' "$TMP/latency.out")
mb() { echo "scale=1; $1 / 1024" | bc -l; }
ok() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo yes; else echo no; fi; }
echo
echo "| measure ($PODS pods, cached image) | kos | reference | goal | met |"
echo "|---|---|---|---|---|"
echo "| startup p50 (create -> Running) | ${P50} ms | | | |"
echo "| startup p99 | ${P99} ms | SLO 5,000 ms | < 1,000 ms | SLO $(ok "$P99 < 5000"), goal $(ok "$P99 < 1000") |"
echo "| startup max | ${MAX} ms | | | |"
echo "| agent RSS | $(mb "$RSS") MB (peak $(mb "$HWM")) | k3s agent 275 MB | < 30 MB | $(ok "$RSS < 30 * 1024") |"
echo "| agent idle CPU over ${IDLE_SECONDS} s | ${CPU} % of one core | | | |"
echo "| $NSHIM shims, RSS summed (PSS summed) | $(mb "$SHIM_RSS") MB ($(mb "$SHIM_PSS") MB) | | | |"
echo "| $NSHIM shims, idle CPU summed | ${SHIM_CPU} % of one core | | | |"
echo "| CPU of the $PODS starts (agent+server+shims+runtime+containers) | $(ms "$BURST_TICKS") ms, $(echo "scale=1; $(ms "$BURST_TICKS") / $PODS" | bc -l) ms per pod | | | |"

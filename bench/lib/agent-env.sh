# shellcheck shell=bash
# Sourced by the standalone node-agent benchmarks (bench/agent.sh, bench/eviction.sh): the
# environment they share. In a temp dir: Debian's docker-registry with the busybox image
# (bench/agent_registry.py), `kos server --disable-agent`, and a standalone `kos agent` under a
# cgroup root of its own (/kos-bench-<hex>), so the agent's RSS and CPU are its own process's.
# Everything is stopped and removed on exit, also on failure or Ctrl-C.
#
# The caller sets HERE (the bench directory), KOS_BIN and runs under `set -euo pipefail`, then:
#   agent_env_init TAG      root and binary checks, TMP, CGROOT, KC, the exit traps, the banner
#   agent_env_registry      starts the registry; sets IMAGE
#   agent_env_server        starts the server; waits for its admin kubeconfig $KC
#   agent_env_agent ARGS..  starts the agent with the common flags and ARGS; waits for its Node
# and may use stop_pid, our_shims, free_port, and REG_PID, SERVER_PID, AGENT_PID, NODE, PY.

PY=/usr/bin/python3
NODE=kos-bench-node
REG_PID="" SERVER_PID="" AGENT_PID=""

stop_pid() { # pid: SIGTERM, up to 10 s, then SIGKILL
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

our_shims() { # the container-shim processes of this run (their --dir is inside $TMP)
    local p
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "container-shim .*--dir $TMP/" &&
            echo "${p#/proc/}"
    done
    return 0
}

agent_env_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    echo "cleanup: removing pods, agent, server, registry, cgroup $CGROOT, $TMP" >&2
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null && [ -f "$KC" ]; then
        timeout 200 "$PY" "$HERE/agent_pods.py" "$KC" delete-all >/dev/null 2>&1
    fi
    stop_pid "$AGENT_PID"
    stop_pid "$SERVER_PID"
    stop_pid "$REG_PID"
    # what the agent did not stop: shims first (they would restart nothing, but hold files)
    for p in $(our_shims); do kill -KILL "$p" 2>/dev/null; done
    "$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); from kos import remove_cgroup_tree; remove_cgroup_tree(sys.argv[2])' \
        "$HERE/../tests/e2e" "$CGROOT" 2>/dev/null
    # overlay and volume mounts left under the temp dir, deepest first
    awk -v t="$TMP/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$TMP"
    exit "$rc"
}

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

agent_env_init() { # tag: names the temp dir /tmp/kos-bench-<tag>.XXXXXX
    local me
    me=bench/$(basename "$0")
    if [ "$(id -u)" != 0 ]; then
        echo "$me: needs root (cgroups, runc)" >&2
        exit 2
    fi
    [ -x "$KOS_BIN" ] || { echo "$me: no $KOS_BIN (make first)" >&2; exit 2; }

    TMP=$(mktemp -d "/tmp/kos-bench-$1.XXXXXX")
    CGROOT=/kos-bench-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
    KC=$TMP/data/admin.kubeconfig
    trap agent_env_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "raw: loadavg_start $(cut -d' ' -f1-3 /proc/loadavg)"
}

agent_env_registry() {
    "$PY" "$HERE/agent_registry.py" "$TMP/image-ref" >"$TMP/registry.log" 2>&1 &
    REG_PID=$!
    for _ in $(seq 300); do
        [ -s "$TMP/image-ref" ] && break
        kill -0 "$REG_PID" 2>/dev/null || { cat "$TMP/registry.log" >&2; exit 1; }
        sleep 0.1
    done
    IMAGE=$(cat "$TMP/image-ref")
    echo "image: $IMAGE"
}

agent_env_server() {
    local port
    port=$(free_port)
    "$KOS_BIN" server --disable-agent --data-dir "$TMP/data" --bind-address 127.0.0.1 \
        --secure-port "$port" >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 300); do
        [ -s "$KC" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$KC" ] || { echo "server did not write $KC" >&2; exit 1; }
}

agent_env_agent() { # extra kos agent flags...
    "$KOS_BIN" agent --kubeconfig "$KC" --port 0 --node-name "$NODE" --cgroup-root "$CGROOT" \
        --root-dir "$TMP/agent" --pod-log-dir "$TMP/pod-logs" "$@" >"$TMP/agent.log" 2>&1 &
    AGENT_PID=$!
    "$PY" "$HERE/agent_pods.py" "$KC" wait-node "$NODE" ||
        { tail -20 "$TMP/agent.log" >&2; exit 1; }
}

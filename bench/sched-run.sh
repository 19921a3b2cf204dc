#!/usr/bin/env bash
# The scheduler benchmark (scheduler_perf-like), kos only; bench/run-all.sh runs it as its
# section 8, and it runs alone as well:
#
#   KOS_BIN=build/kos bench/sched-run.sh [RAW_FILE]
#
# For each node count in SCHED_NODES (default "1000 5000"):
#   - the pure in-memory decision rate: sched_bench_decisions (src/scheduler/bench.c), one
#     thread's CPU time, SCHED_PODS pods against that many nodes;
#   - end to end through the API: a fresh `kos server`, that many Node objects created and
#     made Ready with allocatable through nodes/status, then SCHED_PODS pods created by
#     SCHED_CONC clients; pods/s from the first create to the last pod seen bound by a watch.
#     Twice: as scheduler_perf runs kube-scheduler, beside the API server and its store only
#     (`--disable-controller-manager`, phase sched-e2e-N), and as `kos server` runs by
#     default, with the controllers too (phase sched-e2e-all-N).
# The driver is bench/sched_bench.c, linked here against the objects `make` built beside
# KOS_BIN. Raw lines ("raw: phase=... mode=sched_...") go to stdout and to RAW_FILE if given.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KOS_BIN=$(readlink -f "${KOS_BIN:-$HERE/../build/kos}")
SCHED_NODES=${SCHED_NODES:-"1000 5000"}
SCHED_PODS=${SCHED_PODS:-10000}
SCHED_CONC=${SCHED_CONC:-32}
RAW=${1:-/dev/null}
OBJ=$(dirname "$KOS_BIN")/obj/src
PKGS="libmicrohttpd jansson yaml-0.1 sqlite3 libcurl gnutls"

[ -x "$KOS_BIN" ] || { echo "sched-run: KOS_BIN=$KOS_BIN is not executable" >&2; exit 2; }
[ -d "$OBJ" ] || { echo "sched-run: no objects in $OBJ (build kos with make first)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kos-sched-bench.XXXXXX")
SRV_PID=
cleanup() {
    local rc=$?
    if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
        kill -TERM "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# An archive, so that the driver pulls in only the modules it uses.
find "$OBJ" -name '*.o' ! -path '*/src/main.o' -print0 | xargs -0 ar rcs "$WORK/libkos.a"
# shellcheck disable=SC2046
gcc -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter -I"$HERE/../src" -I"$HERE" \
    $(pkg-config --cflags $PKGS) "$HERE/sched_bench.c" "$HERE/lib/httpc.c" "$WORK/libkos.a" \
    -o "$WORK/sched_bench" \
    $(pkg-config --libs $PKGS) -lpthread -lm
SB=$WORK/sched_bench

raw() { # phase, then a driver line
    echo "raw: phase=$1 $2"
    echo "phase=$1 $2" >>"$RAW"
}

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

for n in $SCHED_NODES; do
    echo "== 8. scheduler: in-memory decisions, $n nodes, $SCHED_PODS pods"
    raw "sched-decide-$n" "$("$SB" decisions --nodes "$n" --pods "$SCHED_PODS") target=kos"

    for role in sched all; do
        flags=()
        phase=sched-e2e-$n
        what="the API server and the scheduler"
        if [ $role = sched ]; then
            flags=(--disable-controller-manager)
        else
            phase=sched-e2e-all-$n
            what="the whole control plane"
        fi
        echo "== 8. scheduler: $n nodes, $SCHED_PODS pods through the API, $SCHED_CONC clients, $what"
        port=$(free_port)
        # the nodes are the benchmark's own (no node agent: it would add this machine as one)
        "$KOS_BIN" server --data-dir "$WORK/data-$n" --bind-address 127.0.0.1 \
            --secure-port "$port" --disable-agent "${flags[@]}" >>"$WORK/kos.log" 2>&1 &
        SRV_PID=$!
        for _ in $(seq 1 300); do
            curl -sfk -o /dev/null "https://127.0.0.1:$port/readyz" && break
            sleep 0.1
        done
        cpu0=$(awk '{print $14 + $15}' "/proc/$SRV_PID/stat")
        tls=$WORK/data-$n/tls
        out=$("$SB" e2e --server "https://127.0.0.1:$port" --ca "$tls/ca.crt" \
            --cert "$tls/admin.crt" --key "$tls/admin.key" --nodes "$n" --pods "$SCHED_PODS" \
            --conc "$SCHED_CONC" --max-seconds 120) || true
        cpu1=$(awk '{print $14 + $15}' "/proc/$SRV_PID/stat" 2>/dev/null || echo "$cpu0")
        cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" \
            'BEGIN{printf "%.2f", (b - a) / hz}')
        raw "$phase" "${out:-mode=failed} server_cpu_s=$cpu_s target=kos loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
        kill -TERM "$SRV_PID" 2>/dev/null || true
        wait "$SRV_PID" 2>/dev/null || true
        SRV_PID=
        rm -rf "$WORK/data-$n"
    done
done

#!/usr/bin/env bash
# kos benchmarks, each side by side with etcd 3.4 (the reference) in the same run.
#
#   KOS_BIN=build/kos bench/run-all.sh        (make bench does this)
#
# Starts everything it needs itself (kos, /usr/bin/etcd) on 127.0.0.1 with temp data dirs on
# the same filesystem as $TMPDIR (default /tmp), and stops and removes all of it on exit, also
# on failure or Ctrl-C. Prints the raw figures as they come (lines starting "raw:") and a
# summary table at the end. The load generator is bench/loadgen.c, built here.
#
# Knobs (environment): CREATE_COUNT CREATE_ROUNDS GET_ROUNDS CONC FILL_PODS GET_SECONDS LIST_RUNS WATCHERS WATCH_RATE
# WATCH_SECONDS STARTUP_RUNS, and SCHED_NODES SCHED_PODS SCHED_CONC (bench/sched-run.sh). The
# defaults are the figures docs/benchmarks.md reports.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KOS_BIN=${KOS_BIN:-$HERE/../build/kos}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
CREATE_COUNT=${CREATE_COUNT:-20000}
CREATE_ROUNDS=${CREATE_ROUNDS:-5}
GET_ROUNDS=${GET_ROUNDS:-3}
CONC=${CONC:-32}
FILL_PODS=${FILL_PODS:-10000}
GET_SECONDS=${GET_SECONDS:-3}
LIST_RUNS=${LIST_RUNS:-7}
WATCHERS=${WATCHERS:-1000}
WATCH_RATE=${WATCH_RATE:-100}
WATCH_SECONDS=${WATCH_SECONDS:-10}
STARTUP_RUNS=${STARTUP_RUNS:-10}

[ -x "$KOS_BIN" ] || { echo "run-all: KOS_BIN=$KOS_BIN is not executable" >&2; exit 2; }
[ -x "$ETCD_BIN" ] || { echo "run-all: $ETCD_BIN missing (apt-get install etcd-server)" >&2; exit 2; }
KOS_BIN=$(readlink -f "$KOS_BIN")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kos-bench.XXXXXX")
RAW=$WORK/raw.txt
: >"$RAW"
PIDS=()

stop_pid() { # pid: SIGTERM, up to 15 s, then SIGKILL
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "run-all: pid $pid ignored SIGTERM for 15 s, killing" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1000 watchers need 1000+ descriptors here and in kos (which inherits this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((WATCHERS + 200)) ] ||
    { echo "run-all: ulimit -n $(ulimit -n) is too low for $WATCHERS watchers" >&2; exit 2; }

LG=$WORK/loadgen
gcc -O2 -pthread -Wall -o "$LG" "$HERE/loadgen.c" "$HERE/lib/httpc.c" $(pkg-config --cflags --libs gnutls)

# Both servers speak TLS with client certificates: kos serves HTTPS only (its CA and admin
# certificate are in DATA/tls), and etcd gets a CA, a serving and a client certificate made
# here (ECDSA P-256, as kos's), so neither side skips the cost the other pays.
ETLS=$WORK/etcd-tls
mkcert() { # name, subject CN, signed by ca (empty: a self-signed CA), extensions
    local n=$1 cn=$2 ca=$3 ext=$4
    openssl ecparam -name prime256v1 -genkey -noout -out "$ETLS/$n.key" 2>/dev/null
    if [ -z "$ca" ]; then
        openssl req -x509 -new -key "$ETLS/$n.key" -subj "/CN=$cn" -days 2 \
            -out "$ETLS/$n.crt" 2>/dev/null
    else
        openssl req -new -key "$ETLS/$n.key" -subj "/CN=$cn" -out "$ETLS/$n.csr" 2>/dev/null
        printf '%s\n' "$ext" >"$ETLS/$n.ext"
        openssl x509 -req -in "$ETLS/$n.csr" -CA "$ETLS/ca.crt" -CAkey "$ETLS/ca.key" \
            -CAcreateserial -days 2 -extfile "$ETLS/$n.ext" -out "$ETLS/$n.crt" 2>/dev/null
    fi
}
mkdir -p "$ETLS"
mkcert ca bench-etcd-ca "" ""
# clientAuth too: etcd's JSON gateway dials etcd's own gRPC port with the serving certificate
mkcert server 127.0.0.1 ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
mkcert client root ca "extendedKeyUsage=clientAuth"
[ -s "$ETLS/client.crt" ] || { echo "run-all: making etcd's certificates failed" >&2; exit 2; }
ETCD_TLS=(--cert-file "$ETLS/server.crt" --key-file "$ETLS/server.key"
    --trusted-ca-file "$ETLS/ca.crt" --client-cert-auth)
ETCD_CLIENT=(--cacert "$ETLS/ca.crt" --cert "$ETLS/client.crt" --key "$ETLS/client.key")
kos_client() { # data dir: loadgen's TLS options for the kos using it
    KOS_CLIENT=(--cacert "$1/tls/ca.crt" --cert "$1/tls/admin.crt" --key "$1/tls/admin.key")
}

raw() { # phase, then a loadgen line
    echo "raw: phase=$1 $2"
    echo "phase=$1 $2" >>"$RAW"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- servers -------------------------------------------------------------------------------

SRV_PID=
SRV_PORT=
TLSA=() # loadgen's TLS options for the server measured
ROUND=1

# What kos runs besides the API server: the create rounds measure it alone (KOS_ROLE=api:
# the role kube-apiserver has beside etcd, k3s's --disable-scheduler and
# --disable-controller-manager) and with the scheduler and controllers in the process as
# `kos server` runs by default (KOS_ROLE=all, also every other phase).
KOS_ROLE=all
start_kos() { # data dir
    local dir=$1 log=$WORK/kos.log i role=()
    SRV_PORT=$("$LG" port)
    [ "$KOS_ROLE" = api ] && role=(--disable-scheduler --disable-controller-manager)
    # The API server's benchmarks: without --disable-agent the embedded node agent would
    # register this machine as a node and try to run every pod created here.
    "$KOS_BIN" server --data-dir "$dir" --bind-address 127.0.0.1 --secure-port "$SRV_PORT" \
        --disable-agent "${role[@]}" >>"$log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for i in $(seq 1 300); do
        if curl -sfk -o /dev/null "https://127.0.0.1:$SRV_PORT/readyz"; then
            kos_client "$dir"
            TLSA=("${KOS_CLIENT[@]}")
            return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "run-all: kos did not become ready; log:" >&2
    tail -20 "$log" >&2
    return 1
}

start_etcd() { # data dir
    local dir=$1 log=$WORK/etcd.log peer i
    SRV_PORT=$("$LG" port)
    peer=$("$LG" port)
    "$ETCD_BIN" --name default --data-dir "$dir" "${ETCD_TLS[@]}" \
        --listen-client-urls "https://127.0.0.1:$SRV_PORT" \
        --advertise-client-urls "https://127.0.0.1:$SRV_PORT" \
        --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "default=http://127.0.0.1:$peer" >>"$log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for i in $(seq 1 300); do
        if curl -sf --cacert "$ETLS/ca.crt" --cert "$ETLS/client.crt" --key "$ETLS/client.key" \
            "https://127.0.0.1:$SRV_PORT/health" 2>/dev/null | grep -q true; then
            TLSA=("${ETCD_CLIENT[@]}")
            return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "run-all: etcd did not become ready; log:" >&2
    tail -20 "$log" >&2
    return 1
}

start_target() { # kos|etcd, data dir
    if [ "$1" = kos ]; then start_kos "$2"; else start_etcd "$2"; fi
}

# Runs loadgen; records its line, or a failure line when it printed none. Never fails.
measure() { # phase, loadgen args...
    local phase=$1 out rc=0
    shift
    # TLS options right after the mode: startup's argv follows a "--"
    out=$("$LG" "$1" "${TLSA[@]}" "${@:2}" 2>>"$WORK/loadgen.err") || rc=$?
    if [ -n "$out" ]; then
        raw "$phase" "$out round=$ROUND exit=$rc"
    else
        raw "$phase" "mode=failed exit=$rc"
    fi
    if [ $rc -ne 0 ] && [ -s "$WORK/loadgen.err" ]; then
        sed 's/^/  loadgen: /' "$WORK/loadgen.err" | tail -5
    fi
    : >"$WORK/loadgen.err"
}

# After a phase: did the server survive it?
check_alive() { # target, phase
    if ! kill -0 "$SRV_PID" 2>/dev/null; then
        raw "$2" "mode=crash target=$1"
        echo "run-all: $1 DIED during $2; last log lines:" >&2
        tail -5 "$WORK/$1.log" >&2
        return 1
    fi
}

rss_of() { # target phase
    raw "$2" "$("$LG" rss --pid "$SRV_PID") target=$1"
}

echo "kos benchmarks: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
    "kernel $(uname -r), work dir $WORK ($(df -T "$WORK" | awk 'NR==2{print $2}'))"
echo "kos: $KOS_BIN   etcd: $("$ETCD_BIN" --version | head -1)"
raw start "mode=env loadavg=\"$(loadavg)\" date=$(date -u +%FT%TZ)"
# What one durable 4 KiB write costs on this disk (both servers pay this per group commit).
dd_s=$(dd if=/dev/zero of="$WORK/dd" bs=4k count=500 oflag=dsync 2>&1 | awk '/copied/{print $(NF-3)}')
rm -f "$WORK/dd"
raw disk "mode=env dsync_4k_write_ms=$(awk -v s="$dd_s" 'BEGIN{printf "%.3f", s * 1000 / 500}')"
T0=$(date +%s)

# Other tenants of a shared machine make single runs noisy, so the comparisons interleave kos
# and etcd (alternating which goes first) and summarize.py takes the median round.

# ---- 1. durable creates, CONC clients -------------------------------------------------------
# phase "create": kos as the API server alone, "create-all": with its scheduler and controllers
for round in $(seq 1 "$CREATE_ROUNDS"); do
    ROUND=$round
    order="kos:api etcd kos:all"
    [ $((round % 2)) -eq 0 ] && order="kos:all etcd kos:api"
    for tr in $order; do
        t=${tr%%:*}         # kos or etcd
        KOS_ROLE=${tr#kos:} # api or all (start_etcd does not read it)
        phase=create
        [ "$tr" = kos:all ] && phase=create-all
        echo "== 1. $tr, round $round: $CREATE_COUNT creates of ~2 KB pods, $CONC clients"
        start_target $t "$WORK/$t-create"
        measure $phase create --port "$SRV_PORT" --target $t --conc "$CONC" \
            --count "$CREATE_COUNT" --max-seconds 120 --prefix create --server-pid "$SRV_PID"
        check_alive $t $phase || true
        stop_pid "$SRV_PID"
        rm -rf "$WORK/$t-create"
    done
done
KOS_ROLE=all

# ---- 2-5. a store of FILL_PODS pods in each: RSS, GET, LIST, WATCH --------------------------
declare -A PID_OF PORT_OF
up() { # target: (re)start the filled server
    start_target "$1" "$WORK/$1-fill"
    PID_OF[$1]=$SRV_PID
    PORT_OF[$1]=$SRV_PORT
}
on() { # target: point SRV_PID/SRV_PORT (and the TLS options) at it
    SRV_PID=${PID_OF[$1]}
    SRV_PORT=${PORT_OF[$1]}
    if [ "$1" = kos ]; then
        kos_client "$WORK/kos-fill"
        TLSA=("${KOS_CLIENT[@]}")
    else
        TLSA=("${ETCD_CLIENT[@]}")
    fi
}
alive_or_restart() { # target phase
    on "$1"
    check_alive "$1" "$2" || up "$1"
}

WATCH_PODS=$(for i in $(seq 0 9); do printf 'fill-%06d,' "$i"; done)
WATCH_PODS=${WATCH_PODS%,}
for t in kos etcd; do
    up $t
    echo "== 2-5. $t: $FILL_PODS creates to fill the store"
    measure fill create --port "$SRV_PORT" --target $t --conc "$CONC" --count "$FILL_PODS" \
        --max-seconds 120 --prefix fill --server-pid "$SRV_PID"
done
sleep 1
for t in kos etcd; do on $t; rss_of $t rss-filled; done
for round in $(seq 1 "$GET_ROUNDS"); do
    ROUND=$round
    order="kos etcd"
    [ $((round % 2)) -eq 0 ] && order="etcd kos"
    for c in 1 32; do
        for t in $order; do
            echo "== 2. $t, round $round: GET one pod, $c clients, $GET_SECONDS s"
            on $t
            measure get-$c get --port "$SRV_PORT" --target $t --conc $c \
                --seconds "$GET_SECONDS" --name fill-000042 --server-pid "$SRV_PID"
            alive_or_restart $t get-$c
        done
    done
done
ROUND=1
for t in kos etcd; do
    echo "== 3. $t: LIST in pages of 500, $LIST_RUNS runs"
    on $t
    measure list-500 list --port "$SRV_PORT" --target $t --runs "$LIST_RUNS" --limit 500 \
        --expect "$FILL_PODS" --server-pid "$SRV_PID"
    alive_or_restart $t list-500
done
for t in kos etcd; do
    echo "== 4. $t: $WATCHERS watchers, $WATCH_RATE updates/s for $WATCH_SECONDS s"
    on $t
    measure watch watch --port "$SRV_PORT" --target $t --watchers "$WATCHERS" \
        --rate "$WATCH_RATE" --seconds "$WATCH_SECONDS" --pods "$WATCH_PODS" \
        --server-pid "$SRV_PID"
    alive_or_restart $t watch
    rss_of $t rss-after-load
done
for t in kos etcd; do
    # Last, as it is the one that has taken a server down.
    echo "== 3. $t: full LIST, $LIST_RUNS runs"
    on $t
    measure list-all list --port "$SRV_PORT" --target $t --runs "$LIST_RUNS" \
        --expect "$FILL_PODS" --server-pid "$SRV_PID"
    check_alive $t list-all || true
    if [ $t = kos ]; then
        # ---- 7. kos only: the same LIST as a meta.k8s.io Table (what kubectl get asks for),
        # and strategic merge patches of ~2 KB pods (patches/s) --------------------------------
        echo "== 7. kos: full LIST as Table, $LIST_RUNS runs"
        measure list-table list --port "$SRV_PORT" --target kos --runs "$LIST_RUNS" --table \
            --expect "$FILL_PODS" --server-pid "$SRV_PID"
        alive_or_restart kos list-table
        echo "== 7. kos: strategic merge patches of ~2 KB pods, $CONC clients, $GET_SECONDS s"
        measure patch patch --port "$SRV_PORT" --target kos --conc "$CONC" \
            --seconds "$GET_SECONDS" --count "$FILL_PODS" --prefix fill --server-pid "$SRV_PID"
        check_alive kos patch || true
    fi
    stop_pid "$SRV_PID"
done

# ---- 5-6. restarts: reload FILL_PODS pods (RSS, time to ready), and empty starts ------------
for t in kos etcd; do
    if [ $t = kos ]; then
        cmd=("$KOS_BIN" server --data-dir '{DIR}' --bind-address 127.0.0.1 --secure-port '{PORT}'
            --disable-agent)
        # the probe cannot verify a CA that the server makes as it starts; /readyz is public
        TLSA=(--tls)
    else
        cmd=("$ETCD_BIN" --name default --data-dir '{DIR}' "${ETCD_TLS[@]}"
            --listen-client-urls 'https://127.0.0.1:{PORT}'
            --advertise-client-urls 'https://127.0.0.1:{PORT}'
            --listen-peer-urls 'http://127.0.0.1:{PORT2}'
            --initial-advertise-peer-urls 'http://127.0.0.1:{PORT2}'
            --initial-cluster 'default=http://127.0.0.1:{PORT2}')
    fi
    [ $t = etcd ] && TLSA=("${ETCD_CLIENT[@]}")
    echo "== 5-6. $t: $STARTUP_RUNS starts with $FILL_PODS pods stored, $STARTUP_RUNS empty"
    measure start-filled startup --target $t --runs "$STARTUP_RUNS" --dir "$WORK/$t-fill" --rss \
        --log "$WORK/$t.log" -- "${cmd[@]}"
    measure start-empty startup --target $t --runs "$STARTUP_RUNS" --dir "$WORK/$t-empty" \
        --fresh --rss --log "$WORK/$t.log" -- "${cmd[@]}"
    rm -rf "$WORK/$t-fill" "$WORK/$t-empty"
done

# ---- 8. kos only: the scheduler, scheduler_perf-like (bench/sched-run.sh; ~1 min) -----------
# In-memory decisions/s, and pods/s end to end through the API with 1,000 and 5,000 nodes.
KOS_BIN=$KOS_BIN "$HERE/sched-run.sh" "$RAW" || echo "run-all: the scheduler benchmark failed" >&2

raw end "mode=env loadavg=\"$(loadavg)\" seconds=$(($(date +%s) - T0))"
echo
/usr/bin/python3 "$HERE/summarize.py" "$RAW"

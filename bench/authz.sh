#!/usr/bin/env bash
# Authorization cost (issue 4): requests/s of an authenticated GET through RBAC with 1,000
# RoleBindings in the namespace, against the same server with --authorization-mode=AlwaysAllow.
# Goal: RBAC costs under 10%.
#
#   KOS_BIN=build/kos bench/authz.sh
#
# Method: for each mode, a fresh `kos server` (no agent, no scheduler) on a free loopback port
# with a --token-auth-file holding one user ("bench", group "bench-readers"). The admin
# (DATA/admin.kubeconfig) creates namespace "bench", one ConfigMap, BINDINGS-1 RoleBindings to
# other users and one RoleBinding granting the group get on configmaps. wrk (Debian) then GETs
# the ConfigMap over HTTPS with the bearer token, THREADS threads and CONNS connections for
# DURATION seconds, after a short warm-up. Same data in both modes; only the mode differs.
# Everything started is stopped and removed on exit, also on failure or Ctrl-C.
#
# Knobs (environment): BINDINGS (1000) DURATION (10) WARMUP (2) THREADS (2) CONNS (32) RUNS (3)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KOS_BIN=${KOS_BIN:-$HERE/../build/kos}
BINDINGS=${BINDINGS:-1000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
RUNS=${RUNS:-3}
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}

[ -x "$KOS_BIN" ] || { echo "authz.sh: KOS_BIN=$KOS_BIN is not executable" >&2; exit 2; }
command -v wrk >/dev/null || { echo "authz.sh: wrk missing (apt-get install wrk)" >&2; exit 2; }
[ -n "$KUBECTL" ] || { echo "authz.sh: kubectl missing" >&2; exit 2; }
KOS_BIN=$(readlink -f "$KOS_BIN")
if ! "$KOS_BIN" server --help | grep -q -- --token-auth-file; then
    echo "authz.sh: this kos has no --token-auth-file (authentication not built in): an" >&2
    echo "authz.sh: unauthenticated request runs as system:masters and never reaches RBAC" >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kos-bench-authz.XXXXXX")
PID=""

stop_server() {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT INT TERM

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s,bench,bench-uid,"bench-readers"\n' "$TOKEN" >"$WORK/tokens.csv"

# The objects, as one List (one kubectl call).
"${PYTHON:-/usr/bin/python3}" - "$BINDINGS" >"$WORK/objects.json" <<'PY'
import json, sys
n = int(sys.argv[1])
items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "bench"},
          "data": {"k": "v"}},
         {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
          "metadata": {"name": "cm-reader", "namespace": "bench"},
          "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}]
for i in range(n - 1):
    items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": {"name": "other-%04d" % i, "namespace": "bench"},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                              "name": "cm-reader"},
                  "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                                "name": "user-%04d" % i}]})
items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "bench-readers", "namespace": "bench"},
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                          "name": "cm-reader"},
              "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                            "name": "bench-readers"}]})
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)
PY

start_server() { # mode -> sets PID, URL, KCFG
    local mode=$1 data=$WORK/data-$1
    rm -rf "$data"
    "$KOS_BIN" server --data-dir "$data" --bind-address 127.0.0.1 --secure-port 0 \
        --disable-agent --disable-scheduler --token-auth-file "$WORK/tokens.csv" \
        --authorization-mode "$mode" >"$WORK/server-$mode.log" 2>&1 &
    PID=$!
    KCFG=$data/admin.kubeconfig
    for _ in $(seq 1 200); do
        if [ -f "$KCFG" ]; then
            URL=$(sed -n 's/^ *server: *//p' "$KCFG" | head -1)
            [ "$(curl -sk "$URL/readyz" || true)" = ok ] && return 0
        fi
        kill -0 "$PID" 2>/dev/null || { cat "$WORK/server-$mode.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "authz.sh: server ($mode) did not become ready" >&2
    cat "$WORK/server-$mode.log" >&2
    exit 1
}

measure() { # mode -> prints req/s of each run
    local mode=$1 path=/api/v1/namespaces/bench/configmaps/cm code
    start_server "$mode"
    "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$WORK/kcache" create namespace bench >/dev/null
    "$KUBECTL" --kubeconfig "$KCFG" --cache-dir "$WORK/kcache" apply -f "$WORK/objects.json" \
        >/dev/null
    code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL$path")
    [ "$code" = 200 ] || { echo "authz.sh: GET as bench answered $code ($mode)" >&2; exit 1; }
    code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
        "$URL/api/v1/namespaces/bench/secrets")
    if [ "$mode" != AlwaysAllow ] && [ "$code" != 403 ]; then
        echo "authz.sh: RBAC let bench list secrets ($code): not measuring RBAC" >&2
        exit 1
    fi
    wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" -H "Authorization: Bearer $TOKEN" "$URL$path" \
        >/dev/null
    for _ in $(seq 1 "$RUNS"); do
        wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -H "Authorization: Bearer $TOKEN" \
            "$URL$path" | awk -v m="$mode" '
            /Non-2xx/ { bad = $NF }
            /Requests\/sec/ { rps = $2 }
            END { if (bad) { print "authz.sh: " bad " non-2xx answers (" m ")" > "/dev/stderr"; exit 1 }
                  print rps }'
    done
    stop_server
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "bindings=$BINDINGS threads=$THREADS conns=$CONNS duration=${DURATION}s runs=$RUNS"
RBAC_ALL=$(measure Node,RBAC | tr '\n' ' ')
ALLOW_ALL=$(measure AlwaysAllow | tr '\n' ' ')
RBAC=$(echo "$RBAC_ALL" | tr ' ' '\n' | grep . | median)
ALLOW=$(echo "$ALLOW_ALL" | tr ' ' '\n' | grep . | median)
echo "raw: RBAC req/s: $RBAC_ALL"
echo "raw: AlwaysAllow req/s: $ALLOW_ALL"
awk -v r="$RBAC" -v a="$ALLOW" 'BEGIN {
    printf "%-34s %12s\n", "authenticated GET (median)", "req/s"
    printf "%-34s %12.0f\n", "--authorization-mode=Node,RBAC", r
    printf "%-34s %12.0f\n", "--authorization-mode=AlwaysAllow", a
    printf "RBAC cost: %.1f%% (goal: under 10%%)\n", (a - r) * 100 / a
}'

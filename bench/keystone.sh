#!/usr/bin/env bash
# Keystone login benchmark (standalone): TokenReview cost with a cold and a warm validation
# cache vs a direct Keystone validation, in process (bench/keystone_bench.c linked against the
# objects `make` built beside KOS_BIN) and as an HTTPS round trip to `kos keystone-auth`.
#
#   KOS_BIN=build/kos bench/keystone.sh [RAW_FILE]
#
# Starts a real Keystone with shared/tools/keystone-up.sh (KS_CACHE=1: keystone's in-memory
# cache, its fastest configuration here) in a temp dir on a free port unless KEYSTONE_URL and
# KEYSTONE_TOKEN (a project-scoped token) are given, and stops everything it started.
# Goal (issue #4): a warm-cache authentication under 0.1 ms.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
KOS_BIN=$(readlink -f "${KOS_BIN:-$HERE/../build/kos}")
TOOLS=${KOS_SHARED_TOOLS:-/work/shared/tools}
N=${KEYSTONE_BENCH_N:-2000}
RAW=${1:-/dev/null}
OBJ=$(dirname "$KOS_BIN")/obj/src
PKGS="libmicrohttpd jansson yaml-0.1 sqlite3 libcurl gnutls"

[ -x "$KOS_BIN" ] || { echo "keystone-bench: KOS_BIN=$KOS_BIN is not executable" >&2; exit 2; }
[ -d "$OBJ" ] || { echo "keystone-bench: no objects in $OBJ (build kos with make first)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kos-keystone-bench.XXXXXX")
KA_PID=
STARTED_KS=0
cleanup() {
    local rc=$?
    if [ -n "$KA_PID" ] && kill -0 "$KA_PID" 2>/dev/null; then
        kill -TERM "$KA_PID" 2>/dev/null || true
        wait "$KA_PID" 2>/dev/null || true
    fi
    if [ "$STARTED_KS" = 1 ]; then
        KS_DIR="$WORK/keystone" "$TOOLS/keystone-down.sh" --purge >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ -z "${KEYSTONE_URL:-}" ] || [ -z "${KEYSTONE_TOKEN:-}" ]; then
    STARTED_KS=1
    KS_PORT=$(free_port)
    KS_DIR="$WORK/keystone" KS_PORT=$KS_PORT KS_CACHE=1 \
        KS_SEED="domainA projectA userA userApass roleA" "$TOOLS/keystone-up.sh" >"$WORK/ks-up.log" 2>&1 ||
        { cat "$WORK/ks-up.log" >&2; exit 1; }
    # shellcheck disable=SC1091
    . "$WORK/keystone/env"
    KEYSTONE_TOKEN=$USERA_TOKEN
fi

find "$OBJ" -name '*.o' ! -path '*/src/main.o' -print0 | xargs -0 ar rcs "$WORK/libkos.a"
# shellcheck disable=SC2046
gcc -std=gnu17 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter -I"$HERE/../src" \
    $(pkg-config --cflags $PKGS) "$HERE/keystone_bench.c" "$WORK/libkos.a" -o "$WORK/keystone_bench" \
    $(pkg-config --libs $PKGS) -lpthread -lm

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.crt" -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
echo '[]' >"$WORK/policy.json"
"$KOS_BIN" keystone-auth --keystone-url "$KEYSTONE_URL" --policy-file "$WORK/policy.json" \
    --listen 127.0.0.1:0 --tls-cert-file "$WORK/tls.crt" --tls-private-key-file "$WORK/tls.key" \
    >"$WORK/ka.out" 2>"$WORK/ka.log" &
KA_PID=$!
for _ in $(seq 200); do grep -q '^listening on ' "$WORK/ka.out" 2>/dev/null && break; sleep 0.05; done
KA_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$WORK/ka.out")
[ -n "$KA_PORT" ] || { cat "$WORK/ka.log" >&2; exit 1; }

echo "keystone-bench: Keystone $KEYSTONE_URL, kos keystone-auth on 127.0.0.1:$KA_PORT, N=$N"
"$WORK/keystone_bench" "$KEYSTONE_URL" "$KEYSTONE_TOKEN" "$N" \
    "https://127.0.0.1:$KA_PORT/webhook" "$WORK/tls.crt" | tee -a "$RAW"

#!/bin/bash
# Pod network benchmark (issue 8): pod-to-pod TCP round-trip latency and throughput against the
# same traffic between two host processes (the physical limit here), node-to-pod, and the
# agent's per-pod network set-up time. Builds bench/podnet_rr.c and bench/podnet_setup.c (the
# latter against the agent's own code in build/obj), then runs bench/podnet.py, which puts kos,
# its bridge, pods and rules in scratch network namespaces and removes everything at the end.
# Needs root, runc, nft, socat, docker-registry.
#
# Usage: bench/podnet.sh      (KOS_BIN, RR_COUNT=20000, STREAM_SECONDS=3, SETUP_COUNT=100)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export KOS_BIN=$(readlink -f "${KOS_BIN:-$ROOT/build/kos}")
[ "$(id -u)" = 0 ] || { echo "bench/podnet.sh: needs root" >&2; exit 2; }
[ -x "$KOS_BIN" ] || { echo "bench/podnet.sh: no $KOS_BIN (make first)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/kos-bench-podnet.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
make -s -C "$ROOT" build/kos >/dev/null # every object the set-up harness links
cc -O2 -o "$TMP/podnet_rr" "$HERE/podnet_rr.c"
mapfile -t OBJS < <(find "$ROOT/build/obj/src" -name '*.o' ! -path "$ROOT/build/obj/src/main.o")
PKGS="libmicrohttpd jansson yaml-0.1 sqlite3 libcurl gnutls zlib"
# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$ROOT/src" $(pkg-config --cflags $PKGS) \
    -o "$TMP/podnet_setup" "$HERE/podnet_setup.c" "${OBJS[@]}" $(pkg-config --libs $PKGS) \
    -lpthread -lm
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
/usr/bin/python3 "$HERE/podnet.py" "$TMP/podnet_rr" "$TMP/podnet_setup"

#!/bin/bash
# Service benchmarks (issue 8): programming time for 1,000 Services (create through the API ->
# every ClusterIP in the node proxy's nftables map), one more Service once 1,000 are in place,
# and Service traffic (ClusterIP, NodePort) against the same traffic between two host processes:
# 1-byte request/response latency over one connection, new connections per second, and
# one-connection throughput. Everything runs in network namespaces made and deleted by the
# script (bench/services_bench.py). Needs root and nft.
#
# Usage: bench/services.sh          (KOS_BIN, SERVICES=1000 may be set)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export KOS_BIN=$(readlink -f "${KOS_BIN:-$HERE/../build/kos}")
[ "$(id -u)" = 0 ] || { echo "bench/services.sh: needs root (network namespaces, nftables)" >&2; exit 2; }
[ -x "$KOS_BIN" ] || { echo "bench/services.sh: no $KOS_BIN (make first)" >&2; exit 2; }
exec /usr/bin/python3 "$HERE/services_bench.py"

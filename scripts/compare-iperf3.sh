#!/usr/bin/env bash
# TCP stream throughput, loopbench vs iperf3 (Debian package `iperf3`), in one interleaved
# session: every round runs each tool once, in a shuffled order, so machine drift hits both.
#
# Fair by construction: same placement (sender on CPU $CLIENT_CPU, receiver on CPU $SERVER_CPU,
# both tools pinned with taskset), same write size (128 KiB: iperf3 -l 128K, loopbench -s 128KiB),
# default socket buffers for both, no warm-up for either (iperf3 has no separate warm-up
# connection; loopbench --warmup 0), one connection each, and receiver-side numbers from both
# (iperf3: end.sum_received; loopbench: bytes counted by the receiver over its receive span).
# Both receivers read up to 128 KiB (iperf3) / 256 KiB (loopbench) per read call.
#
# Usage: scripts/compare-iperf3.sh [ROUNDS] [SECONDS]     (defaults: 7 rounds of 5 s)
# Env: CLIENT_CPU (default 0), SERVER_CPU (default 1), LOOPBENCH (binary path), ENGINE (loopbench's
# engine, default blocking: the same waits as iperf3's; `spin` shows what a receiver that never
# sleeps gains, which iperf3 cannot do).
set -euo pipefail
rounds=${1:-7}
secs=${2:-5}
ccpu=${CLIENT_CPU:-0}
scpu=${SERVER_CPU:-1}
engine=${ENGINE:-blocking}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOOPBENCH:-$here/target/release/loopbench}
command -v iperf3 >/dev/null || { echo "iperf3 is not installed: apt-get install iperf3" >&2; exit 2; }
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"; kill $(jobs -p) 2>/dev/null || true' EXIT
port=$((20000 + RANDOM % 20000))

lb() { # -> receiver Gbit/s
  "$bin" run -w stream -t tcp4 -s 128KiB -e "$engine" --client-cpu "$ccpu" --server-cpu "$scpu" -n 1 -d "${secs}s" \
      --warmup 0 -q -o "$out/lb" --json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["cases"][0]["summary"]["bytes_per_sec"]*8/1e9)'
}
ip3() { # -> receiver Gbit/s
  taskset -c "$scpu" iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.3
  taskset -c "$ccpu" iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -l 128K -J \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["end"]["sum_received"]["bits_per_second"]/1e9)'
  wait $srv 2>/dev/null || true
}

printf "%-6s %-10s %12s\n" round tool "Gbit/s (rx)"
for r in $(seq 1 "$rounds"); do
  for m in $(printf "%s\n" loopbench iperf3 | shuf); do
    case $m in
      loopbench) v=$(lb) ;;
      iperf3) v=$(ip3) ;;
    esac
    printf "%-6s %-10s %12.2f\n" "$r" "$m" "$v" | tee -a "$out/all.txt"
  done
done
echo
python3 - "$out/all.txt" <<'PY'
import sys, statistics, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, m, v = line.split()
    d[m].append(float(v))
lb, ip = statistics.median(d["loopbench"]), statistics.median(d["iperf3"])
print(f"median loopbench {lb:.2f} Gbit/s, iperf3 {ip:.2f} Gbit/s: ratio {lb/ip:.3f} (target >= 1.10)")
ratios = [a / b for a, b in zip(d["loopbench"], d["iperf3"])]
print("per-round ratios: " + ", ".join(f"{x:.3f}" for x in ratios))
PY

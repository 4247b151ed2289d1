#!/usr/bin/env bash
# Compares loopbench's tcp4 rr 64 B round trip with sockperf ping-pong (Debian package `sockperf`),
# same-core and cross-core, plus loopbench's shm floor, in one interleaved session: every round runs
# each measurement once, in a shuffled order, so machine drift hits all of them alike.
#
# The shm floor uses the spin engine: no kernel at all.
# sockperf reports one-way latency = RTT/2; this script doubles it so both columns are round trips.
# Both tools use blocking send/recv on one connection here (sockperf's default for one fd; checked
# with strace: sendto + recvfrom per message on both sides).
#
# Usage: scripts/compare-sockperf.sh [ROUNDS] [SECONDS]      (defaults: 5 rounds of 2 s)
set -euo pipefail
rounds=${1:-5}
secs=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOOPBENCH:-$here/target/release/loopbench}
command -v sockperf >/dev/null || { echo "sockperf is not installed: apt-get install sockperf" >&2; exit 2; }
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"; kill $(jobs -p) 2>/dev/null || true' EXIT
port=$((20000 + RANDOM % 20000))

lb() { # transport placement engine -> p50 RTT in µs
  local transport=$1 placement=$2 engine=$3
  "$bin" run -t "$transport" -p "$placement" -e "$engine" -n 1 -d "${secs}s" --warmup 200ms -q -o "$out/lb" --json \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["cases"][0]["summary"]["latency"]["p50_ns"]/1000)'
}
sp() { # placement -> p50 RTT in µs (2 x sockperf's one-way median)
  local client_cpu=0 server_cpu=1
  [ "$1" = same-core ] && server_cpu=0
  taskset -c $server_cpu sockperf server --tcp -i 127.0.0.1 -p $port >/dev/null 2>&1 &
  local srv=$!
  sleep 0.3
  taskset -c $client_cpu sockperf ping-pong --tcp -i 127.0.0.1 -p $port -t "$secs" -m 64 2>&1 \
    | awk '/percentile 50.000/ {print 2*$NF}'
  kill $srv; wait $srv 2>/dev/null || true
}

printf "%-6s %-28s %10s\n" round measurement "p50 RTT µs"
for r in $(seq 1 "$rounds"); do
  for m in $(printf "%s\n" lb-same lb-cross sp-same sp-cross shm-cross | shuf); do
    case $m in
      lb-same) v=$(lb tcp4 same-core blocking) ;;
      lb-cross) v=$(lb tcp4 cross-core blocking) ;;
      sp-same) v=$(sp same-core) ;;
      sp-cross) v=$(sp cross-core) ;;
      shm-cross) v=$(lb shm cross-core spin) ;;
    esac
    printf "%-6s %-28s %10.2f\n" "$r" "$m" "$v" | tee -a "$out/all.txt"
  done
done
echo
echo "median over rounds:"
python3 - "$out/all.txt" <<'PY'
import sys, statistics, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, m, v = line.split()
    d[m].append(float(v))
for m in ["lb-same", "sp-same", "lb-cross", "sp-cross", "shm-cross"]:
    print(f"  {m:10} {statistics.median(d[m]):8.2f} µs  (rounds: {', '.join(f'{x:.1f}' for x in d[m])})")
print(f"  loopbench/sockperf same-core:  {statistics.median(d['lb-same'])/statistics.median(d['sp-same']):.3f}")
print(f"  loopbench/sockperf cross-core: {statistics.median(d['lb-cross'])/statistics.median(d['sp-cross']):.3f}")
PY

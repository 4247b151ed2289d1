#!/usr/bin/env bash
# TCP and UDP rr (64 B) for every engine and placement in one interleaved run, with what each
# wait strategy costs per message: CPU ns and context switches per message on each side.
#
# spin at same-core is left out: two busy-polling threads on one CPU only take turns at the
# scheduler's time slice, which measures the scheduler, not the engine.
#
# Usage: scripts/rr-engines.sh [ITERATIONS] [DURATION]     (defaults: 10 iterations of 1s)
set -euo pipefail
n=${1:-10}
d=${2:-1s}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOOPBENCH:-$here/target/release/loopbench}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
out=${OUT:-$here/results}
{
  "$bin" run -t tcp4,udp4 -e blocking,epoll,tokio,tokio-mt -p same-core,cross-core -n "$n" -d "$d" -q -o "$out" --json
  "$bin" run -t tcp4,udp4 -e spin -p cross-core -n "$n" -d "$d" -q -o "$out" --json
} > "$out/rr-engines.jsonl"
python3 - "$out/rr-engines.jsonl" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, i, cases = json.JSONDecoder(), 0, []
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    r, i = dec.raw_decode(text, i)
    cases += r["cases"]
cols = ["case", "p50 us", "p99 us", "msgs/s", "cli ns/msg", "cli sw/msg", "srv ns/msg", "srv sw/msg", "cli migr"]
print("%-40s %8s %8s %9s %10s %10s %10s %10s %8s" % tuple(cols))
for c in sorted(cases, key=lambda c: c["case_id"]):
    s = c["summary"]
    if not s:
        print(c["case_id"], "FAILED", c["errors"])
        continue
    cl, sv = s["client"], s["server"]
    print("%-40s %8.2f %8.1f %9.0f %10.0f %10.2f %10.0f %10.2f %8s" % (
        c["case_id"], s["latency"]["p50_ns"] / 1e3, s["latency"]["p99_ns"] / 1e3, s["msgs_per_sec"],
        cl["usage"]["cpu_ns_per_msg"], cl["usage"]["switches_per_msg"],
        sv["usage"]["cpu_ns_per_msg"], sv["usage"]["switches_per_msg"], cl.get("migrations")))
PY

#!/usr/bin/env bash
# Connection rate (crr, tcp4, 64 B request and response) over 60 s at full rate, with and without
# --spread, showing connections/s, EADDRNOTAVAIL (ephemeral-port exhaustion; must be 0 with the
# spread), local ports used and the kernel's port range. Connections close normally (the
# client keeps TIME_WAIT); add --linger0 to the arguments to close with RST instead.
#
# Usage: scripts/crr-60s.sh [SECONDS] [extra loopbench args...]   (default 60)
set -euo pipefail
secs=${1:-60}
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${LOOPBENCH:-$here/target/release/loopbench}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
out=${OUT:-$here/results}
report=$(mktemp)
trap 'rm -f "$report"' EXIT
cat > "$report" <<'PY'
import json, sys
r = json.load(sys.stdin)
for c in r["cases"]:
    s = c["summary"]
    if not s:
        print(c["case_id"], "FAILED", c["errors"])
        continue
    k = s["connections"]
    print("%s: %.0f conn/s, p50 %.1f us, p99 %.1f us, %d connections, EADDRNOTAVAIL %d, "
          "ports used %d of range %s, %d source address(es), close=%s" % (
              c["case_id"], s["msgs_per_sec"], s["latency"]["p50_ns"] / 1e3, s["latency"]["p99_ns"] / 1e3,
              k["connections"], k["addr_not_avail"], k["ports_used"], k["ephemeral_port_range"],
              k["source_addresses"], k["close"]))
PY
for spread in "--spread 127.0.0.2-127.0.0.50" ""; do
  # shellcheck disable=SC2086
  "$bin" run -w crr -t tcp4 -e blocking,epoll $spread -n 1 -d "${secs}s" --warmup 1s -q -o "$out" --json "$@" \
    | python3 "$report"
done

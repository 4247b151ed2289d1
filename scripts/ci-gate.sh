#!/usr/bin/env bash
# The performance gate for CI: build BASE_REF and the candidate (this checkout), run both
# interleaved on this machine with `loopbench ab`, print the verdict as markdown (and append it to
# $GITHUB_STEP_SUMMARY when set, once: the gate binary itself is kept from doing so), and exit
# non-zero on a regression. Under GitHub Actions the gate writes its annotations and
# $GITHUB_OUTPUT values itself.
#
#   scripts/ci-gate.sh BASE_REF [-- LOOPBENCH_RUN_ARGS...]
#
#   BASE_REF           a git ref to compare against (origin/main, a tag, a commit)
#   LOOPBENCH_RUN_ARGS the cases and timing every round measures
#                      (default: -t tcp4,udp4,unix-stream,pipe,shm -p same-core,cross-core
#                       -n 3 -d 200ms --warmup 200ms)
#
# Environment: ROUNDS (default 8) rounds of both builds in random order; GATE_ARGS extra
# `loopbench compare` options (e.g. "--threshold 3,p99=15"); RESULTS (default results) where
# the session goes (RESULTS/ab/<id>/: runs, logs, comparison.md, comparison.json).
#
# The gate's own code comes from the base build when it has one (`loopbench ab`), so a change
# cannot loosen the gate that judges it; otherwise from the candidate.
#
# Exit codes: 0 no regression, 1 regression, 2 a build or a run failed, or bad arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
base_ref=$1
shift
[ "${1:-}" = "--" ] && shift
run_args=("$@")
if [ ${#run_args[@]} -eq 0 ]; then
  run_args=(-t tcp4,udp4,unix-stream,pipe,shm -p same-core,cross-core -n 3 -d 200ms --warmup 200ms)
fi
rounds=${ROUNDS:-8}
results=${RESULTS:-results}

work=$(mktemp -d "${TMPDIR:-/tmp}/loopbench-gate.XXXXXX")
cleanup() {
  git worktree remove --force "$work/base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building the base ($base_ref) and the candidate" >&2
git worktree add --detach "$work/base" "$base_ref" >/dev/null || exit 2
cargo build --release --quiet --manifest-path "$work/base/Cargo.toml" --target-dir "$work/target-base" || exit 2
cargo build --release --quiet || exit 2
base_bin="$work/target-base/release/loopbench"
new_bin="$PWD/target/release/loopbench"

gate_bin=$new_bin
if "$base_bin" ab --help >/dev/null 2>&1; then
  gate_bin=$base_bin
fi

args=$(printf '%q ' "${run_args[@]}")
summary="$work/summary.md"
set +e
# shellcheck disable=SC2086 # GATE_ARGS is a list of options on purpose
env -u GITHUB_STEP_SUMMARY "$gate_bin" ab --rounds "$rounds" --format markdown -o "$results" \
  --base-cmd "$(printf '%q' "$base_bin") run $args -q -o {out}" \
  --new-cmd "$(printf '%q' "$new_bin") run $args -q -o {out}" \
  ${GATE_ARGS:-} >"$summary"
code=$?
set -e
cat "$summary"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
exit $code

#!/usr/bin/env bash
# Checks a loopbench report.html in a real browser (headless Chromium): the page must log nothing
# to the console (no script error, no failed load), must not be blank (its heading, sections and
# every chart are in the rendered DOM, the screenshot is not empty), and a screenshot is kept next
# to the report as report.png.
#
# Usage:
#   scripts/check-report.sh RUN_DIR|report.html   check that report
#   scripts/check-report.sh                       what CI runs: a self-test (a page with an
#                                                 injected script error must fail the check), then
#                                                 measure the tiny test suite with
#                                                 target/debug/loopbench and check its report
#
# Installs Debian's chromium when it is missing (as root, with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
  else
    echo "error: chromium is not installed and cannot be installed here (needs root and apt-get): install chromium, or run as root" >&2
    exit 2
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Flags that work headless as root on a machine without network: without the background
# networking flags Chromium keeps trying to reach its services.
chrome() {
  local profile
  profile=$(mktemp -d -p "$work")
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@"
}

# check HTML [EXPECTED_SVGS]: 0 when the page renders cleanly, 1 with the reasons on stderr.
check() {
  local html dir shot log dom svgs failed=0
  html=$(realpath "$1")
  dir=$(dirname "$html")
  shot="$dir/report.png"
  log="$work/console.log"
  chrome --enable-logging=stderr --v=0 --window-size=1400,3000 --screenshot="$shot" \
    "file://$html" >/dev/null 2>"$log" || { echo "chromium failed on $html" >&2; return 1; }
  if grep -E ':CONSOLE[^]]*\]' "$log" >&2; then
    echo "FAIL: $html logs to the browser console (above)" >&2
    failed=1
  fi
  dom=$(chrome --dump-dom "file://$html" 2>/dev/null) || { echo "chromium --dump-dom failed" >&2; return 1; }
  for want in '<h1>loopbench run' 'id="anatomy"' 'id="cases"' 'id="environment"'; do
    if ! grep -qF "$want" <<<"$dom"; then
      echo "FAIL: the rendered page lacks $want (blank or broken page)" >&2
      failed=1
    fi
  done
  svgs=$(grep -o '<svg' <<<"$dom" | wc -l || true)
  if [ -n "${2:-}" ] && [ "$svgs" -ne "$2" ]; then
    echo "FAIL: the rendered page shows $svgs charts, expected $2" >&2
    failed=1
  fi
  # A blank 1400x3000 page compresses to a few KB; a report with charts and tables to far more.
  if [ ! -s "$shot" ] || [ "$(stat -c %s "$shot")" -lt 40000 ]; then
    echo "FAIL: the screenshot $shot is missing or blank" >&2
    failed=1
  fi
  [ "$failed" = 0 ] && echo "ok: $html renders ($svgs charts, no console messages); screenshot $shot"
  return "$failed"
}

# The number of charts a report should show: the SVG files next to it (nothing when it has none).
charts_of() {
  local plots
  plots="$(dirname "$1")/plots"
  [ -d "$plots" ] && find "$plots" -name '*.svg' | wc -l
  return 0
}

if [ $# -ge 1 ]; then
  html=$1
  [ -d "$html" ] && html="$html/report.html"
  [ -f "$html" ] || { echo "error: no report at $html; \`loopbench report RUN\` writes one" >&2; exit 2; }
  check "$html" "$(charts_of "$html")"
  exit
fi

bin=target/debug/loopbench
[ -x "$bin" ] || cargo build --quiet
results="$work/results"
"$bin" suite --suite-file tests/cli/data/tiny-suite.toml -q -o "$results" >/dev/null
run=$(find "$results/runs" -mindepth 1 -maxdepth 1 -type d | head -n1)

# Self-test: the same page with a script error must fail, or this check checks nothing.
mkdir -p "$work/injected"
sed 's|</body>|<script>throw new Error("injected by check-report.sh")</script></body>|' \
  "$run/report.html" >"$work/injected/report.html"
if check "$work/injected/report.html" 2>/dev/null; then
  echo "FAIL: self-test: a page with a script error passed the check" >&2
  exit 1
fi
echo "ok: self-test: an injected script error is caught"

check "$run/report.html" "$(charts_of "$run/report.html")"
mkdir -p target/check-report
cp "$run/report.html" "$run/report.png" target/check-report/
echo "kept: target/check-report/report.html and report.png"

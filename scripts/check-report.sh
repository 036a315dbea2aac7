#!/usr/bin/env bash
# Renders the simulation report in headless Chromium and checks it: no console messages
# or script errors, and every chart present as inline SVG in the rendered page. Writes a
# PNG screenshot of the page.
#
# Usage: scripts/check-report.sh [OUT_DIR]        (default: target/check-report)
#
#   ORDERS=20000 DAYS=14 scripts/check-report.sh  replays generated orders over DAYS days
#                                                 instead of the bundled example data
#   WIDTH=1280 HEIGHT=5200                        the browser window (and screenshot) size
#
# Installs Debian's `chromium` with apt-get when it is missing (needs root or sudo).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mkdir -p "${1:-$root/target/check-report}" && cd "${1:-$root/target/check-report}" && pwd)"
width="${WIDTH:-1280}"
height="${HEIGHT:-5200}"

cd "$root"
cargo build --release --quiet
bin="$root/target/release/sourcing"

if [[ -n "${ORDERS:-}" ]]; then
  data="$out/data"
  "$bin" gen --out "$data" --seed 1 --orders "$ORDERS" --days "${DAYS:-1}" \
    --stores 200 --skus 2000 >/dev/null
else
  data="$root/data/example"
fi

inventory="$data/inventory.csv"
[[ -f "$inventory" ]] || inventory="$data/inventory.json"
"$bin" simulate --rules rules/min-cost.rules --vs rules/ship-from-store-first.rules \
  --network "$data/network.json" --inventory "$inventory" --orders "$data/orders.jsonl" \
  --out "$out/sim"
report="$out/sim/report.html"

if ! command -v chromium >/dev/null; then
  sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi

flags=(--headless --disable-gpu --no-sandbox --hide-scrollbars
  --window-size="$width,$height" --enable-logging=stderr --v=0)
url="file://$report"
chromium "${flags[@]}" --dump-dom "$url" >"$out/dom.html" 2>"$out/dom.log"
chromium "${flags[@]}" --screenshot="$out/report.png" "$url" >/dev/null 2>"$out/screenshot.log"

status=0
# The report runs no script and loads nothing: any console message is a fault.
if grep -hE 'CONSOLE|Uncaught' "$out/dom.log" "$out/screenshot.log"; then
  echo "check-report: the browser reported console messages (above)" >&2
  status=1
fi
expected="$(grep -o '<svg' "$report" | wc -l)"
rendered="$(grep -o '<svg' "$out/dom.html" | wc -l)"
if [[ "$expected" -lt 4 || "$rendered" -ne "$expected" ]]; then
  echo "check-report: $rendered charts rendered, $expected in the report (at least 4 expected)" >&2
  status=1
fi
if ! grep -q 'class="better"\|class="worse"' "$out/dom.html"; then
  echo "check-report: the comparison table marks no difference" >&2
  status=1
fi
if [[ ! -s "$out/report.png" ]]; then
  echo "check-report: no screenshot written" >&2
  status=1
fi
[[ "$status" -eq 0 ]] && echo "report OK: $rendered charts; screenshot $out/report.png"
exit "$status"

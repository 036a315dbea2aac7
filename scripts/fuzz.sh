#!/usr/bin/env bash
# Fuzzes the rule language and the loaders with cargo-fuzz (libFuzzer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (all by default) for SECONDS (default 60), starting from the bundled
# example data and rule files. Installs cargo-fuzz when it is missing. Works on the stable
# toolchain: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its flags, and `--sanitizer none` needs
# no sanitizer runtime. A crash stops the run and leaves its input in
# fuzz/artifacts/TARGET/; replay it with `scripts/fuzz.sh --replay TARGET FILE`, and once
# fixed keep it in fuzz/regressions/TARGET/, where `cargo test` runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(rules fmt ide network_json inventory_csv inventory_json orders_jsonl stock_events rules_route)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

if [[ "${1:-}" == "--replay" ]]; then
  exec cargo fuzz run --sanitizer none "$2" "$3"
fi

seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL[@]}")

# Seeds: copied into each target's corpus (kept between runs, not committed).
seed() {
  local target="$1"
  shift
  mkdir -p "fuzz/corpus/$target"
  for f in "$@"; do
    cp "$f" "fuzz/corpus/$target/seed-$(basename "$f")"
  done
}
seed rules rules/*.rules dsl/tests/corpus/*/ok/*.rules dsl/tests/corpus/*/err/*.rules
seed fmt rules/*.rules dsl/tests/corpus/*/ok/*.rules
seed ide rules/*.rules dsl/tests/corpus/*/ok/*.rules
seed rules_route rules/*.rules
seed network_json data/example/network.json
seed inventory_csv data/example/inventory.csv
seed orders_jsonl data/example/orders.jsonl
seed inventory_json fuzz/seeds/inventory.json
seed stock_events fuzz/seeds/events.jsonl
# Inputs that once broke a target stay in its corpus.
for dir in fuzz/regressions/*/; do
  target="$(basename "$dir")"
  mkdir -p "fuzz/corpus/$target"
  cp "$dir"* "fuzz/corpus/$target/"
done

cargo fuzz build --sanitizer none
for target in "${targets[@]}"; do
  echo "== $target: ${seconds}s"
  cargo fuzz run --sanitizer none "$target" -- \
    -max_total_time="$seconds" -max_len=8192 -timeout=10 -print_final_stats=1
done

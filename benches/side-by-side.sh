#!/bin/sh
# redstep beside its baselines, in one run: `redstep serve` and the embedded
# engine beside a real redis-server (apt-get install redis-server), traced
# runs beside untraced ones, the TUI's keys against 16 ms. Prints every
# bench's output, then each ratio with its target and whether it is met.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo bench --bench serve --bench script_incr --bench script_types --bench tui 2>/dev/null | tee "$out"
echo
echo "== each ratio with its target =="
grep -E "met|MISSED" "$out"

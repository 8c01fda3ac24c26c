#!/bin/sh
# redstep beside its baselines, in one run: `redstep serve` and the embedded
# engine beside a real redis-server (apt-get install redis-server), traced
# runs beside untraced ones, the TUI's keys against 16 ms. Prints every
# bench's output, then each ratio with its target and whether it is met.
#
# --pgo: the same benches built with profile-guided optimisation, as a
# release of redstep would be: first built instrumented and run once (the
# training, its output not shown), then built again with the profile they
# wrote. Needs llvm-profdata from the toolchain's own LLVM
# (`rustup component add llvm-tools`). Builds into target/pgo, so the
# plain build is left as it is.
set -e
cd "$(dirname "$0")/.."
benches="--bench serve --bench script_incr --bench script_types --bench tui"
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ "${1:-}" = "--pgo" ]; then
    profdata=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata 2>/dev/null | head -n 1)
    if [ -z "$profdata" ]; then
        echo "side-by-side: --pgo needs the toolchain's llvm-profdata: rustup component add llvm-tools" >&2
        exit 1
    fi
    pgo=$PWD/target/pgo
    rm -rf "$pgo/raw"
    echo "== training: the benches built instrumented, run once =="
    # shellcheck disable=SC2086
    RUSTFLAGS="-Cprofile-generate=$pgo/raw" cargo bench --target-dir "$pgo/train" $benches >/dev/null 2>&1
    "$profdata" merge -o "$pgo/redstep.profdata" "$pgo/raw"
    echo "profile: $pgo/redstep.profdata ($(ls "$pgo/raw" | wc -l) runs)"
    export RUSTFLAGS="-Cprofile-use=$pgo/redstep.profdata"
    export CARGO_TARGET_DIR="$pgo/build"
    echo "== the benches, built with the profile =="
elif [ -n "${1:-}" ]; then
    echo "usage: benches/side-by-side.sh [--pgo]" >&2
    exit 2
fi

# shellcheck disable=SC2086
cargo bench $benches 2>/dev/null | tee "$out"
echo
echo "== each ratio with its target =="
grep -E "met|MISSED" "$out"

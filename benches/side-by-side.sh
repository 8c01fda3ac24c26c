#!/bin/sh
# redstep beside its baselines, in one run: `redstep serve` and the embedded
# engine beside a real redis-server (apt-get install redis-server), traced
# runs beside untraced ones, the TUI's keys against 16 ms. Prints every
# bench's output, then each ratio with its target and whether it is met.
#
# --pgo: the same benches with redstep's Rust code built with profile-guided
# optimisation, as a release of redstep would be: first built instrumented
# and run once (the training; its output in target/pgo/train.log), then
# built again with the profile they wrote. The C code (the Lua VM) is
# built as usual. Needs llvm-profdata from the toolchain's own LLVM
# (`rustup component add llvm-tools`). Builds into target/pgo, so the
# plain build is left as it is.
set -e
cd "$(dirname "$0")/.."
benches="--bench serve --bench script_incr --bench script_types --bench tui"
out=$(mktemp)
build_target=""
trap 'rm -f "$out"' EXIT

if [ "$#" = 1 ] && [ "$1" = "--pgo" ]; then
    profdata=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-profdata 2>/dev/null | head -n 1)
    if [ -z "$profdata" ]; then
        echo "side-by-side: --pgo needs the toolchain's llvm-profdata: rustup component add llvm-tools" >&2
        exit 1
    fi
    pgo=$PWD/target/pgo
    # With --target, RUSTFLAGS reach the crates of the benches and not the
    # build scripts and proc-macros (which would write profiles of their own).
    host=$(rustc -vV | sed -n 's/^host: //p')
    rm -rf "$pgo/raw"
    mkdir -p "$pgo"
    echo "== training: the benches built instrumented, run once (target/pgo/train.log) =="
    # shellcheck disable=SC2086
    if ! RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$pgo/raw" \
        cargo bench --target "$host" --target-dir "$pgo/train" $benches >"$pgo/train.log" 2>&1; then
        echo "side-by-side: the training run failed; see $pgo/train.log" >&2
        exit 1
    fi
    "$profdata" merge -o "$pgo/merged.profdata" "$pgo/raw"
    # Named by its contents: a new profile is a new flag, so cargo rebuilds
    # every crate with it (it does not watch the file of a registry crate).
    sum=$(sha1sum "$pgo/merged.profdata" | cut -c1-12)
    profile=$pgo/redstep-$sum.profdata
    mv "$pgo/merged.profdata" "$profile"
    echo "profile: $profile ($(ls "$pgo/raw" | wc -l) runs)"
    export RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$profile"
    export CARGO_TARGET_DIR="$pgo/build"
    build_target="--target $host"
    echo "== the benches, built with the profile =="
elif [ "$#" != 0 ]; then
    echo "usage: benches/side-by-side.sh [--pgo]" >&2
    exit 2
fi

# shellcheck disable=SC2086
cargo bench $build_target $benches 2>/dev/null | tee "$out"
echo
echo "== each ratio with its target =="
grep -E "met|MISSED" "$out"

#!/bin/sh
# `cargo bench --bench script_incr` from N copies of its binary (default 5),
# each a new file: on some machines (the 2-core VM of the README) where the
# kernel puts a binary's pages alone moves the in-script and traced figures
# by 10% or more (README, "Where the spread comes from"). Prints each copy's
# ratios, then their medians. Builds as `cargo bench` does (RUSTFLAGS and
# CARGO_TARGET_DIR from the environment are used as they are).
set -e
cd "$(dirname "$0")/.."
n=${1:-5}
case $n in
'' | *[!0-9]* | 0)
    echo "usage: benches/copies.sh [N]" >&2
    exit 2
    ;;
esac
bin=$(cargo bench --bench script_incr --no-run --message-format=json 2>/dev/null |
    grep '"name":"script_incr"' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
if [ -z "$bin" ]; then
    echo "copies: the bench did not build (cargo bench --bench script_incr --no-run)" >&2
    exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
i=1
while [ "$i" -le "$n" ]; do
    cp "$bin" "$dir/copy$i"
    if ! "$dir/copy$i" --bench >"$dir/out$i" 2>&1; then
        tail -n 5 "$dir/out$i" >&2
        echo "copies: copy $i of the bench failed" >&2
        exit 1
    fi
    ratio=$(sed -n 's/^ratio redstep\/redis: *\([0-9.]*\).*/\1/p' "$dir/out$i")
    traced=$(sed -n 's/^traced 1M INCR .* \([0-9.]*\)x the untraced.*/\1/p' "$dir/out$i")
    echo "copy $i: in-script ${ratio:-?}x Redis, traced ${traced:-?}x untraced"
    echo "$ratio" >>"$dir/ratios"
    echo "$traced" >>"$dir/traced"
    rm -f "$dir/copy$i"
    i=$((i + 1))
done
median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "median of $n copies: in-script $(median "$dir/ratios")x Redis (target <= 0.5), traced $(median "$dir/traced")x untraced (target <= 2)"

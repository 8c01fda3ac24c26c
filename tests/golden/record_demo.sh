#!/usr/bin/env bash
# Records what redis-cli prints (on a terminal, as in the post) for the
# post's four runs against a real redis-server 7.0, from the files
# `redstep demo --write` gives a reader (no checkout needed to replay);
# tests/demo.rs checks `redstep demo --print` against it.
# Usage: tests/golden/record_demo.sh [PORT]
set -euo pipefail
port=${1:-6390}
here=$(cd "$(dirname "$0")" && pwd)
post=$(mktemp -d)
redis-server --port "$port" --save '' --appendonly no --daemonize yes >/dev/null
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$post"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" flushall >/dev/null
(cd "$here/../.." && cargo run --quiet -- demo --write "$post/post" >/dev/null)
cd "$post/post"
for f in init get inc get; do
    echo "\$ redis-cli --eval $f.lua"
    # `script` gives redis-cli a terminal, so it prints as in the post.
    script -qc "redis-cli -p $port --eval $f.lua" /dev/null | tr -d '\r'
done > "$here/demo-redis-cli.txt"
echo "wrote $here/demo-redis-cli.txt ($(redis-server --version | cut -d' ' -f3))"

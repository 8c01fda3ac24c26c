#!/usr/bin/env bash
# Records what redis-cli prints (on a terminal, as in the post) for the
# post's four runs against a real redis-server 7.0; tests/demo.rs checks
# `redstep demo --print` against it. Usage: tests/golden/record_demo.sh [PORT]
set -euo pipefail
port=${1:-6390}
here=$(cd "$(dirname "$0")" && pwd)
redis-server --port "$port" --save '' --appendonly no --daemonize yes >/dev/null
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port" flushall >/dev/null
cd "$here/../../assets/post"
for f in init get inc get; do
    echo "\$ redis-cli --eval $f.lua"
    # `script` gives redis-cli a terminal, so it prints as in the post.
    script -qc "redis-cli -p $port --eval $f.lua" /dev/null | tr -d '\r'
done > "$here/demo-redis-cli.txt"
echo "wrote $here/demo-redis-cli.txt ($(redis-server --version | cut -d' ' -f3))"

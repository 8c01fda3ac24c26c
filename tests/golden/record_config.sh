#!/bin/sh
# Records Redis 7.0.15's configuration defaults, which CONFIG GET answers for
# the parameters redstep does not model (src/engine/commands/server.rs):
#
#     sh record_config.sh > ../../assets/redis/config-defaults.tsv
#
# A redis-server started with no configuration file (only a free port and
# loopback), asked `CONFIG GET *`; one "name<TAB>value<TAB>flag" line a
# parameter, sorted by name (Redis answers in its hash table's order), the
# flag `immutable` or `protected` when CONFIG SET refuses it (`hidden` for the
# five only an exact name reaches, at the end). `dir` is where
# the server started: redstep answers its own working directory instead.
set -e
port=${PORT:-6408}
dir=$(mktemp -d)
(cd "$dir" && exec redis-server --port "$port" --bind 127.0.0.1 >"$dir/log" 2>&1) &
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1; rm -rf "$dir"' EXIT
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "redis-server did not start" >&2; exit 1; }
    sleep 0.1
done
echo "# Redis $(redis-cli -p "$port" info server | sed -n 's/^redis_version:\(.*\)\r$/\1/p') CONFIG GET * without a configuration file (tests/golden/record_config.sh)"
# A third column for a parameter CONFIG SET refuses even at its own value:
# immutable or protected (Redis's error says which).
redis-cli -p "$port" config get '*' | paste - - | LC_ALL=C sort |
while IFS="$(printf '\t')" read -r name value; do
    case $(redis-cli -p "$port" config set "$name" "$value" 2>&1) in
        *immutable*) flag=immutable ;;
        *protected*) flag=protected ;;
        *) flag= ;;
    esac
    printf '%s\t%s\t%s\n' "$name" "$value" "$flag"
done
# The hidden parameters (config.c's HIDDEN_CONFIG): CONFIG GET * leaves them
# out, CONFIG GET and SET answer them by their exact name.
for name in loading-process-events-interval-bytes key-load-delay rdb-key-save-delay use-exit-on-panic watchdog-period; do
    value=$(redis-cli -p "$port" config get "$name" | sed -n 2p)
    printf '%s\t%s\t%s\n' "$name" "$value" hidden
done

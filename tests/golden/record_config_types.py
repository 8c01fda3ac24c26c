#!/usr/bin/env python3
"""Records how Redis 7.0.15 checks a CONFIG SET value, parameter by parameter.

    redis-server --port 6409 --bind 127.0.0.1 --save '' --daemonize yes
    python3 record_config_types.py --port 6409 \
        > ../../assets/redis/config-types.tsv

Every parameter CONFIG SET may change (`config-defaults.tsv` without a flag,
or `hidden`)
is sent values no parameter of its kind takes, and numbers past any bound;
Redis's answers say what it is (config.c's checks, read off the server):

    bool      argument must be 'yes' or 'no'
    enum      argument(s) must be one of the following: a, b   (values)
    enums     the same, several values at once (MULTI_ARG_CONFIG)
    bool      ... yes TEXT: a bool this build refuses to turn on, and why
    int       argument couldn't be parsed into an integer       (min, max)
    memory    argument must be a memory value                   (min, max)
    memory%   argument must be a memory or percent value        (min, max)
    string    any value is taken
    special   its own checks (save, bind, client-output-buffer-limit, ...)

A bound is read from "argument must be between MIN and MAX inclusive", the
answer to 2^63-1 or -2^63; a bound those two numbers pass is theirs. An
accepted probe is undone at once (CONFIG SET back to the default). Each
line: name, kind, then its values or bounds, tab separated; the probes and
Redis's answers follow as comments, which tests/config_set.rs replays.
Standard library only.
"""
import argparse, os, re, socket, sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULTS = os.path.join(HERE, "..", "..", "assets", "redis", "config-defaults.tsv")
WORD = "redstep"
BIG, SMALL = "9223372036854775807", "-9223372036854775808"
# Probed as "special": their values have a grammar of their own.
SPECIAL_PROBES = {
    "client-output-buffer-limit": [
        "", "normal 0 0 0", "NORMAL 1mb 1kb 60", "master 0 0 0", "normal 0 0",
        "normal 1x 0 0", "normal 0 0 -1", "normal 0 0 1x", "replica 0 0 0 pubsub 1 1 1",
        "normal  0 0 0"],
    "oom-score-adj-values": [
        "", "0 200 800", "0 200", "0 200 2001", "-2000 0 2000", "+1 -1 0", "1x 0 0",
        " 0 200 800", "0 200 800 1"],
    "latency-tracking-info-percentiles": [
        "", "50 99 99.9", "101", "-1", "abc", "50  99", " 50", "1e2", "nan"],
    "save": ["", "900 1", "900", "x 1", "900 -1", "900 1 300 10"],
    "notify-keyspace-events": ["", "KEA", "Kx", "g$"],
}
SPECIAL = {"save", "client-output-buffer-limit", "oom-score-adj-values",
           "notify-keyspace-events", "bind", "latency-tracking-info-percentiles"}


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.s.makefile("rb")

    def call(self, *args):
        args = [a.encode() for a in args]
        self.s.sendall(b"*%d\r\n" % len(args)
                       + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        line = self.f.readline()[:-2].decode()
        if line[:1] == "$":
            n = int(line[1:])
            return self.f.read(n + 2)[:-2].decode() if n >= 0 else None
        if line[:1] == "*":
            return [self._bulk() for _ in range(int(line[1:]))]
        return line

    def _bulk(self):
        n = int(self.f.readline()[1:-2])
        return self.f.read(n + 2)[:-2].decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=6409)
    port = ap.parse_args().port
    c = Conn(port)
    version = c.call("INFO", "server").split("redis_version:")[1].split("\r\n")[0]
    params = []
    for line in open(DEFAULTS):
        if line.startswith("#"):
            continue
        name, default, flag = (line.rstrip("\n").split("\t") + [""])[:3]
        if flag in ("", "hidden") and name != "dir":
            params.append((name, default))
    print(f"# Redis {version}: how CONFIG SET checks each parameter's value "
          "(tests/golden/record_config_types.py)")
    probes = []

    def probe(name, value, default):
        reply = c.call("CONFIG", "SET", name, value)
        probes.append((name, value, reply))
        if reply == "+OK" and c.call("CONFIG", "GET", name)[1] != default:
            undo = c.call("CONFIG", "SET", name, default)
            assert undo == "+OK", (name, undo)
        return reply

    def why(reply):
        return reply.split(" - ", 1)[1] if " - " in reply else reply

    for name, default in params:
        if name in SPECIAL:
            # `bind` is not probed: its answer is whether the machine has
            # the address.
            for value in [] if name == "bind" else [WORD] + SPECIAL_PROBES.get(name, []):
                probe(name, value, default)
            print(f"{name}\tspecial")
            continue
        first = why(probe(name, WORD, default))
        if first == "+OK":
            print(f"{name}\tstring")
        elif first == "argument must be 'yes' or 'no'":
            refusal = ""
            for value in ("", "YES", "No", "1", "yes "):
                reply = why(probe(name, value, default))
                if value == "YES" and reply != "+OK":
                    # A value the build refuses (activedefrag without
                    # Redis's own jemalloc).
                    refusal = f"\tyes\t{reply}"
            print(f"{name}\tbool{refusal}")
        elif first.startswith("argument(s) must be one of the following: "):
            values = first.split(": ", 1)[1].split(", ")
            many = probe(name, f"{values[0]} {values[-1]}", default) == "+OK"
            for value in ("", values[-1].upper(), f" {values[-1]}", f"{values[0]}  {values[-1]}",
                          "save nosave"):
                probe(name, value, default)
            print(f"{name}\t{'enums' if many else 'enum'}\t" + "\t".join(values))
        else:
            kind = {"argument couldn't be parsed into an integer": "int",
                    "argument must be a memory value": "memory",
                    "argument must be a memory or percent value": "memory%"}[first]
            lo, hi = SMALL, BIG
            for value in (BIG, SMALL):
                m = re.search(r"between (-?\d+) and (\d+) inclusive", why(probe(name, value, default)))
                if m:
                    lo, hi = m.group(1), m.group(2)
            if kind != "int":
                # A memory value is never negative: its bounds show past
                # 0 and 2^64-1 (which a signed parameter reads as -1).
                for value in ("0", str(2**64 - 1)):
                    m = re.search(r"between (-?\d+) and (\d+) inclusive", why(probe(name, value, default)))
                    if m:
                        lo, hi = m.group(1), m.group(2)
                if lo == SMALL:
                    lo = "0"
                if kind == "memory" and BIG in [p[1] for p in probes[-4:] if p[0] == name and p[2] == "+OK"] and hi == BIG \
                        and probe(name, str(2**64 - 1), default) == "+OK":
                    hi = str(2**64 - 1)
            if kind == "memory%":
                m = re.search(r"less or equal to (\d+)", why(probe(name, "101%", default)))
                lo = "-" + m.group(1)
            for value in ("", "1.5", "-1", "+1", " 1", "1kb", "1 gb", "1GB", "0x10"):
                probe(name, value, default)
            print(f"{name}\t{kind}\t{lo}\t{hi}")
    print("# probes: name, value, Redis's answer")
    for name, value, reply in probes:
        print(f"#\t{name}\t{value}\t{reply}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Records what real Redis sends its replicas for each case.

    redis-server --port 6402 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
    python3 record_repl.py --port 6402 engine-cases.jsonl conformance-cases.jsonl \
        > repl.golden.jsonl

A connection made replica with SYNC reads the replication stream (what a
replica applies and writes to its own AOF). Every case runs as record.py
runs it (fresh keyspace, script cache and functions; `conn` numbers are
connections); a PUBLISH on a marker channel (PUBLISH is propagated too)
ends each case's part of the stream. PINGs the primary sends on its own
are left out. Each argument is its text, or `hex:...` if not UTF-8.
Cases tagged `needs-no-replica` are skipped (they propagate nothing, and
FAILOVER would start a failover to this recorder's replica). Only cases
that propagate something are written:
{"id": ..., "repl": [["SELECT", "0"], ["INCR", "a"], ...]}.
Standard library only.
"""
import argparse, json, sys

from record import Conn, cases, play

MARKER = [b"PUBLISH", b"__repl_marker__", b"end"]


def text(b):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return "hex:" + b.hex()


class Replica:
    def __init__(self, port):
        self.c = Conn(port)
        self.c.s.sendall(b"SYNC\r\n")
        f = self.c.f
        while True:
            line = f.readline()
            if line.startswith(b"$"):
                break
        f.read(int(line[1:-2]))  # the RDB payload (no CRLF after it)

    def read(self):
        f = self.c.f
        line = f.readline()
        assert line[:1] == b"*", line
        out = []
        for _ in range(int(line[1:-2])):
            n = int(f.readline()[1:-2])
            out.append(f.read(n + 2)[:-2])
        return out

    def until_marker(self):
        ops = []
        while True:
            op = self.read()
            if op == [b"PING"]:
                continue
            if op == MARKER:
                # A marker's own SELECT, if any, belongs to the marker.
                if ops and ops[-1][0].upper() == b"SELECT":
                    ops.pop()
                return ops
            ops.append(op)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cases", nargs="+")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    replica = Replica(a.port)
    Conn(a.port).call(MARKER)
    replica.until_marker()
    def setup(_c1):
        Conn(a.port).call(MARKER)
        replica.until_marker()

    for case in cases(a.cases):
        if "needs-no-replica" in case.get("tags", []):
            continue  # this recorder's replica would change it (FAILOVER)
        play(case, a.port, setup)
        marker = Conn(a.port)
        marker.call(MARKER)
        ops = replica.until_marker()
        marker.s.close()
        if ops:
            print(json.dumps({"id": case["id"], "repl": [[text(x) for x in op] for op in ops]},
                             ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

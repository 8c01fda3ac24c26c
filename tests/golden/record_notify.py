#!/usr/bin/env python3
"""Records the keyspace notifications real Redis publishes for each case.

    redis-server --port 6402 --bind 127.0.0.1 --save '' --appendonly no \
        --enable-debug-command yes --daemonize yes
    python3 record_notify.py --port 6402 engine-cases.jsonl conformance-cases.jsonl \
        > notify.golden.jsonl

Every case runs as record.py runs it (fresh keyspace, script cache and
functions; `conn` numbers are connections), with `notify-keyspace-events
KEAnm` (every class, `new` and keymiss included) and active expiry off (keys expire
when read, as in redstep's replay). Another connection, subscribed to
`__key*__:*`, collects what was published; a marker published after the
case ends the collection. Only cases that publish something are written:
{"id": ..., "events": ["__keyspace@0__:k set", "__keyevent@0__:set k", ...]}.
Standard library only.
"""
import argparse, base64, json, sys

from record import Conn, cases, play

MARKER = b"__keymarker__:end"


def text(reply):
    """A published string as the golden file shows it: the text, or
    `hex:...` for bytes that are not UTF-8."""
    if "b64" in reply:
        return "hex:" + base64.b64decode(reply["b64"]).hex()
    return reply["v"]


def collect(sub, conn1):
    conn1.call([b"PUBLISH", MARKER, b"."])
    events = []
    while True:
        msg = sub.read()
        assert msg["t"] == "array", msg
        kind, _pattern, channel, message = (text(m) for m in msg["v"])
        assert kind == "pmessage", msg
        if channel.encode() == MARKER:
            return events
        events.append(f"{channel} {message}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cases", nargs="+")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    sub = Conn(a.port)
    sub.call([b"PSUBSCRIBE", b"__key*__:*"])
    def setup(c1):
        c1.call([b"CONFIG", b"SET", b"notify-keyspace-events", b"KEAnm"])
        c1.call([b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"])
        collect(sub, c1)

    for case in cases(a.cases):
        play(case, a.port, setup)
        events = collect(sub, Conn(a.port))
        if events:
            print(json.dumps({"id": case["id"], "events": events}, ensure_ascii=False,
                             separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())

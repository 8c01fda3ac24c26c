#!/usr/bin/env python3
"""Records Redis's own description of its commands, as redstep answers COMMAND,
COMMAND INFO, COMMAND DOCS and COMMAND GETKEYS from it:

    redis-server --port 6402 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
    python3 record_commands.py --port 6402 --out ../../assets/redis

writes `command-info.resp` (the reply to COMMAND) and `command-docs.resp` (the
reply to COMMAND DOCS), both asked in RESP3 so that every type is kept (sets of
flags, maps of docs), with the commands sorted by name (Redis lists them in its
hash table's order, which changes from one start to the next). tests/commands.rs
checks redstep's command table against them. Standard library only.
"""
import argparse, os, socket


def read(f):
    """One RESP3 reply as (type byte, value): scalars keep their line's text,
    aggregates a list (a map's list alternates keys and values)."""
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ValueError("cut reply: %r" % line)
    t, rest = line[:1], line[1:-2]
    if t in b"+-:_,#(":
        return (t, rest)
    if t in b"$=!":
        n = int(rest)
        data = f.read(n + 2)
        return (t, data[:-2])
    if t in b"*~>%":
        n = int(rest)
        items = [read(f) for _ in range(2 * n if t == b"%" else n)]
        return (t, items)
    raise ValueError("unknown reply type: %r" % line)


def write(reply, out):
    t, v = reply
    if t in b"+-:_,#(":
        out += t + v + b"\r\n"
    elif t in b"$=!":
        out += t + b"%d\r\n" % len(v) + v + b"\r\n"
    else:
        n = len(v) // 2 if t == b"%" else len(v)
        out += t + b"%d\r\n" % n
        for item in v:
            write(item, out)


def sort_info(entries):
    """Commands, and each one's subcommands (its tenth field), by name."""
    entries[1].sort(key=lambda entry: entry[1][0][1])
    for entry in entries[1]:
        sort_info(entry[1][9])


def sort_docs(docs):
    """A map of docs by name, and each one's "subcommands" map, sorted."""
    pairs = sorted(zip(docs[1][0::2], docs[1][1::2]), key=lambda kv: kv[0][1])
    for _, doc in pairs:
        fields = doc[1]
        for i in range(0, len(fields), 2):
            if fields[i][1] == b"subcommands":
                fields[i + 1] = (b"%", [x for kv in sort_docs(fields[i + 1]) for x in kv])
    return pairs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    s = socket.create_connection(("127.0.0.1", a.port))
    f = s.makefile("rb")

    def call(*args):
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in args))
        return read(f)

    hello = call(b"HELLO", b"3")
    assert hello[0] == b"%", hello
    info = call(b"COMMAND")
    assert info[0] == b"*"
    sort_info(info)
    docs = call(b"COMMAND", b"DOCS")
    assert docs[0] == b"%"
    pairs = sort_docs(docs)
    docs = (b"%", [x for kv in pairs for x in kv])
    for name, reply in (("command-info.resp", info), ("command-docs.resp", docs)):
        out = bytearray()
        write(reply, out)
        with open(os.path.join(a.out, name), "wb") as fh:
            fh.write(out)
        print(name, len(info[1]) if reply is info else len(pairs), "commands,", len(out), "bytes")


main()

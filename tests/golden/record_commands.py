#!/usr/bin/env python3
"""Records name, arity, flags and key positions (first, last, step) of every command (and subcommand) from a
real Redis: `python3 record_commands.py --port 6402 > commands.json`.
tests/commands.rs checks redstep's command table against it."""
import argparse, json, socket

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    s = socket.create_connection(("127.0.0.1", a.port))
    f = s.makefile("rb")
    s.sendall(b"*1\r\n$7\r\nCOMMAND\r\n")
    def read():
        line = f.readline()[:-2]
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n)]
        raise ValueError(line)
    out = {}
    def add(entry):
        name, arity, flags = entry[0], entry[1], entry[2]
        out[name] = {"arity": arity, "flags": sorted(flags), "keys": entry[3:6]}
        for sub in entry[9]:
            add(sub)
    for entry in read():
        add(entry)
    print(json.dumps(out, indent=1, sort_keys=True))

main()

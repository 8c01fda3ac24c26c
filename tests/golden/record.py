#!/usr/bin/env python3
"""Records golden replies for redstep's tests from a real Redis server.

    redis-server --port 6402 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
    python3 record.py CASES.jsonl --port 6402 > GOLDEN.jsonl

Standard library only. The case and golden formats are those of the shared
conformance corpus (see README.md here): every case runs on fresh
connections after FLUSHALL, SCRIPT FLUSH and FUNCTION FLUSH; each reply is
stored in canonical JSON ({"t":"int","v":1}, ...).
"""
import argparse, base64, json, socket, sys

RESET = [[b"FLUSHALL"], [b"SCRIPT", b"FLUSH"], [b"FUNCTION", b"FLUSH"], [b"CONFIG", b"SET", b"busy-reply-threshold", b"5000"]]


def arg_bytes(a):
    if isinstance(a, str):
        return a.encode()
    if "b64" in a:
        return base64.b64decode(a["b64"])
    return bytes.fromhex(a["hex"])


def canon(kind, data):
    try:
        return {"t": kind, "v": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"t": kind, "b64": base64.b64encode(data).decode()}


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rb")

    def call(self, args):
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line:
            return {"t": "harness-error", "v": "connection closed"}
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return canon("status", rest)
        if kind == b"-":
            return canon("error", rest)
        if kind == b":":
            return {"t": "int", "v": int(rest)}
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return {"t": "nil"}
            return canon("bulk", self.f.read(n + 2)[:-2])
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return {"t": "nilarray"}
            return {"t": "array", "v": [self.read() for _ in range(n)]}
        raise ValueError(f"unexpected reply {line!r}")


def unordered(reply, mode):
    if not mode or reply.get("t") != "array":
        return reply
    key = lambda x: json.dumps(x, sort_keys=True, ensure_ascii=False)
    items = reply["v"]
    if mode == "pairs":
        pairs = sorted((items[i:i + 2] for i in range(0, len(items), 2)), key=key)
        return {"t": "array", "v": [x for p in pairs for x in p]}
    return {"t": "array", "v": sorted(items, key=key)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cases")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    for case in cases([a.cases]):
        case["replies"] = play(case, a.port)
        print(json.dumps(case, ensure_ascii=False, separators=(",", ":")))
    return 0


def cases(paths):
    """Each case of these .jsonl files, in order."""
    for path in paths:
        for line in open(path, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def play(case, port, after_reset=None):
    """Runs a case from a fresh start: RESET on connection 1, then
    `after_reset()` if given, then each step on its connection. Returns the
    replies (sorted where the step says so); the connections are closed."""
    conns = {}

    def conn(n):
        if n not in conns:
            conns[n] = Conn(port)
        return conns[n]

    for r in RESET:
        conn(1).call(r)
    if after_reset:
        after_reset(conn(1))
    replies = []
    for step in case["cmds"]:
        if isinstance(step, list):
            step = {"cmd": step}
        reply = conn(step.get("conn", 1)).call([arg_bytes(x) for x in step["cmd"]])
        replies.append(unordered(reply, step.get("unordered")))
    for c in conns.values():
        c.s.close()
    return replies


if __name__ == "__main__":
    sys.exit(main())

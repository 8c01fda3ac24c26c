#!/usr/bin/env python3
"""Records golden replies of a real 3-master Redis Cluster for redstep's
cluster mode (`--cluster`), talking to node 1 only, as redstep's engine is.

    python3 record_cluster.py            # starts the cluster on 127.0.0.1:7101-7103
    python3 record_cluster.py --base-port 7111

It starts three `redis-server --cluster-enabled yes` in a temporary folder,
joins them with `redis-cli --cluster create ... --cluster-replicas 0
--cluster-yes` (node 1: slots 0-5460, node 2: 5461-10922, node 3:
10923-16383), writes the cases to cluster-cases.jsonl and the cases with
node 1's replies to cluster.golden.jsonl (next to this file), then shuts the
nodes down. Standard library only; the formats are record.py's. Each case
starts with FLUSHALL, SCRIPT FLUSH and FUNCTION FLUSH on fresh connections.

`tests/cluster_golden.rs` replays cluster.golden.jsonl against an engine in
cluster mode whose port is the recording's base port (so MOVED names the
same addresses); `tests/cluster_real.rs` runs cluster-cases.jsonl on a
cluster it starts itself and on the emulation, and compares replies and keys.

Keys used: on node 1 `b` (slot 3300), `f` (3168), `j` (3564), `{b}x` (3300);
on node 2 `c` (7365); on node 3 `a` (15495).
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record import Conn, RESET, arg_bytes, unordered  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

LIB = """#!lua name=cl
redis.register_function('cross', function(keys, args)
  redis.call('set', keys[1], '1')
  redis.call('set', 'f', '2')
  return 1
end)
redis.register_function{function_name='cross_ok', callback=function(keys, args)
  redis.call('set', keys[1], '1')
  redis.call('set', 'f', '2')
  return 1
end, flags={'allow-cross-slot-keys'}}
redis.register_function{function_name='nocluster', callback=function(keys, args)
  return 1
end, flags={'no-cluster'}}
redis.register_function('remote', function(keys, args)
  return redis.call('get', 'a')
end)
"""

WRITE_THEN_OTHER_SLOT = "#!lua\nredis.call('set',KEYS[1],'1')\nredis.call('set','f','2')\nreturn 1"

CASES = [
    ("cl-keyslot", [
        ["CLUSTER", "KEYSLOT", "a"], ["CLUSTER", "KEYSLOT", "b"],
        ["CLUSTER", "KEYSLOT", "{user1000}.following"], ["CLUSTER", "KEYSLOT", "{}a"],
        ["CLUSTER", "KEYSLOT", "a{}"], ["CLUSTER", "KEYSLOT", "{a"], ["CLUSTER", "KEYSLOT", "foo{bar}{zap}"],
        ["CLUSTER", "KEYSLOT", ""], ["CLUSTER", "KEYSLOT"], ["CLUSTER", "INFO", "x"], ["CLUSTER", "FOO"],
    ]),
    ("cl-keys-in-slot", [
        ["SET", "b", "1"], ["SET", "{b}x", "2"], ["SET", "f", "3"],
        ["CLUSTER", "COUNTKEYSINSLOT", "3300"], ["CLUSTER", "COUNTKEYSINSLOT", "3168"],
        ["CLUSTER", "COUNTKEYSINSLOT", "15495"], ["CLUSTER", "COUNTKEYSINSLOT", "16384"],
        ["CLUSTER", "COUNTKEYSINSLOT", "-1"], ["CLUSTER", "COUNTKEYSINSLOT", "x"],
        {"cmd": ["CLUSTER", "GETKEYSINSLOT", "3300", "10"], "unordered": True},
        ["CLUSTER", "GETKEYSINSLOT", "3168", "10"], ["CLUSTER", "GETKEYSINSLOT", "3300", "0"],
        ["CLUSTER", "GETKEYSINSLOT", "3300", "x"], ["CLUSTER", "GETKEYSINSLOT", "-1", "1"],
        ["CLUSTER", "GETKEYSINSLOT", "3300", "-1"], ["CLUSTER", "GETKEYSINSLOT", "16384", "1"],
    ]),
    ("cl-help-info", [["CLUSTER", "HELP"], ["INFO", "cluster"], ["READONLY"], ["READWRITE"],
                      ["ASKING"], ["READONLY", "x"], ["ASKING", "x"], ["GET", "b"]]),
    ("cl-plain-commands", [
        ["SET", "b", "1"], ["GET", "a"], ["SET", "a", "1"], ["SET", "c", "1"], ["MGET", "b", "f"],
        ["MGET", "b", "{b}x"], ["MSET", "b", "1", "{b}x", "2"], ["MSET", "b", "1", "a", "2"],
        ["DEL", "b", "a"], ["DEL", "b", "b"], ["RENAME", "{b}x", "f"], ["WATCH", "a"], ["WATCH", "b", "f"],
        ["OBJECT", "ENCODING", "a"], ["EXISTS", "b"], ["DBSIZE"], ["KEYS", "*"], ["PING"],
        ["SPUBLISH", "a", "x"], ["SPUBLISH", "b", "x"], ["PUBLISH", "a", "x"],
        ["ZUNIONSTORE", "b", "2", "f", "j"], ["LMPOP", "2", "b", "a", "LEFT"],
    ]),
    ("cl-movable-and-blocking-keys", [
        ["XADD", "b", "1-1", "f", "v"], ["XREAD", "STREAMS", "b", "f", "0", "0"],
        ["XREAD", "STREAMS", "b", "{b}x", "0", "0"], ["XREAD", "STREAMS", "a", "0"],
        ["BLPOP", "a", "0"], ["BLPOP", "b", "f", "0"], ["BZPOPMIN", "{b}z", "j", "1"],
        ["SORT", "{b}l", "STORE", "f"], ["SORT", "{b}l", "STORE", "{b}s"],
        ["PFCOUNT", "b", "f"], ["PFMERGE", "{b}h", "{b}g"], ["GEORADIUS", "{b}g", "0", "0", "1", "km", "STORE", "a"],
        ["SSUBSCRIBE", "a"], ["SSUBSCRIBE", "b", "f"], ["SUNSUBSCRIBE", "a"],
        ["EXISTS", "b", "{b}x", "f"], ["TOUCH", "a"], ["UNLINK", "{b}x", "b"], ["TYPE", "c"],
        ["OBJECT", "ENCODING", "{b}h"], ["MEMORY", "USAGE", "a"], ["DUMP", "a"], ["RESTORE", "a", "0", "x"],
    ]),
    ("cl-select-move-copy", [
        ["SET", "b", "1"], ["SELECT", "1"], ["SELECT", "0"], ["SELECT", "16"], ["SELECT", "-1"],
        ["SELECT", "x"], ["MOVE", "b", "1"], ["MOVE", "a", "1"], ["SWAPDB", "0", "1"], ["SWAPDB", "x", "1"],
        ["COPY", "b", "j"], ["COPY", "b", "{b}j", "DB", "1"], ["COPY", "b", "{b}j", "DB", "0"],
        ["COPY", "b", "{b}k", "DB", "x"], ["COPY", "b", "{b}k", "DB", "99"], ["COPY", "b", "{b}k", "FOO"],
        ["COPY", "b", "{b}k", "REPLACE", "DB", "1"], ["COPY", "b", "{b}k", "DB"],
        ["FLUSHDB"], ["DBSIZE"],
    ]),
    ("cl-eval-declared", [
        ["EVAL", "return 1", "2", "b", "f"], ["EVAL", "return 1", "2", "b", "a"],
        ["EVAL", "return 1", "1", "a"], ["EVAL", "return 1", "1", "c"],
        ["EVAL", "return redis.call('set', KEYS[1], KEYS[2])", "2", "b", "{b}x"],
        ["EVAL", "return 1", "0"], ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", "a"],
        ["EVAL_RO", "return 1", "2", "b", "f"], ["GET", "b"],
    ]),
    ("cl-shebang-dies-after-write", [
        ["SET", "b", "0"],
        ["EVAL", WRITE_THEN_OTHER_SLOT, "1", "b"],
        ["GET", "b"], ["GET", "f"],
        ["EVAL", "#!lua\nredis.call('set', KEYS[1], 'x') redis.call('incr', 'f')", "1", "b"],
        ["GET", "b"], ["GET", "f"],
        ["EVALSHA", "c0dbeb826e509189d0899f580b95ca21d1e0f19a", "1", "b"],
    ]),
    ("cl-compat-crosses-slots", [
        ["EVAL", "redis.call('set',KEYS[1],'1')\nredis.call('set','f','2')\nreturn 1", "1", "b"],
        ["GET", "b"], ["GET", "f"],
        ["EVAL", "redis.call('set','j','3') return redis.call('mset','f','4','{b}x','5')", "0"],
        ["EVAL", "return redis.call('mget','b','f')", "0"],
        ["EVAL", "return redis.pcall('mget','b','f')", "0"],
    ]),
    ("cl-allow-cross-slot-keys", [
        ["EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set',KEYS[1],'1')\nredis.call('set','f','2')\nreturn redis.call('get','j')", "1", "b"],
        ["GET", "f"],
        ["EVAL", "#!lua flags=allow-cross-slot-keys\nreturn redis.call('get','a')", "0"],
        ["EVAL", "#!lua flags=allow-cross-slot-keys\nreturn redis.call('mget','b','f')", "0"],
    ]),
    ("cl-non-local-key", [
        ["SET", "b", "0"],
        ["EVAL", "#!lua\nredis.call('set',KEYS[1],'1')\nredis.call('set','a','2')\nreturn 1", "1", "b"],
        ["GET", "b"],
        ["EVAL", "redis.call('set',KEYS[1],'3')\nredis.call('set','a','2')\nreturn 1", "1", "b"],
        ["GET", "b"],
        ["EVAL", "#!lua\nreturn redis.pcall('get','c')", "0"],
        ["EVAL", "return redis.call('get','c')", "0"],
        ["EVAL", "return redis.call('exists','c')", "1", "b"],
        ["EVAL", "#!lua\nlocal ok = redis.pcall('get','a')\nreturn {ok['err'], redis.call('set','b','after')}", "0"],
        ["GET", "b"],
    ]),
    ("cl-undeclared-first-key-binds", [
        ["SET", "b", "1"],
        ["EVAL", "#!lua\nredis.call('get','b')\nreturn redis.pcall('get','f')", "0"],
        ["EVAL", "#!lua\nredis.call('get','b')\nreturn redis.call('get','{b}x')", "0"],
        ["EVAL", "#!lua\nredis.call('ping')\nredis.call('get','f')\nreturn redis.call('get','b')", "0"],
        ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get','f')", "1", "b"],
    ]),
    ("cl-no-cluster-flag", [
        ["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"],
        ["EVAL", "#!lua flags=no-cluster\nreturn 1", "1", "a"],
        ["EVAL", "#!lua flags=no-cluster\nreturn 1", "1", "b"],
        ["EVAL", "#!lua flags=no-cluster,no-writes\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-cluster\nreturn 1", "0"],
        ["SCRIPT", "LOAD", "#!lua flags=no-cluster\nreturn 2"],
    ]),
    ("cl-script-select", [
        ["EVAL", "return redis.call('select','1')", "0"],
        ["EVAL", "return redis.pcall('select','0')", "0"],
        ["EVAL", "#!lua\nreturn redis.call('move','b','1')", "1", "b"],
    ]),
    ("cl-functions", [
        ["FUNCTION", "LOAD", LIB],
        ["FCALL", "cross", "1", "b"], ["GET", "b"], ["GET", "f"],
        ["FCALL", "cross_ok", "1", "j"], ["GET", "j"],
        ["FCALL", "nocluster", "0"], ["FCALL", "nocluster", "1", "a"],
        ["FCALL", "remote", "0"], ["FCALL", "remote", "1", "a"], ["FCALL", "cross", "2", "b", "f"],
        ["FCALL_RO", "nocluster", "0"],
    ]),
    ("cl-multi", [
        ["MULTI"], ["SET", "b", "1"], ["SET", "a", "1"], ["EXEC"], ["GET", "b"],
        ["MULTI"], ["SET", "b", "1"], ["SET", "f", "1"], ["EXEC"], ["GET", "b"], ["EXEC"],
        ["MULTI"], ["SET", "b", "1"], ["SET", "{b}x", "1"], ["EXEC"],
        ["MULTI"], ["EVAL", "#!lua\nreturn redis.call('get','f')", "0"], ["SET", "b", "2"], ["EXEC"],
        ["MULTI"], ["EVAL", "return redis.call('get','f')", "0"], ["SET", "b", "3"], ["EXEC"],
        ["MULTI"], ["EVAL", "#!lua\nreturn redis.call('get','f')", "0"], ["EVAL", "#!lua\nreturn redis.call('get','j')", "0"], ["EXEC"],
        ["MULTI"], ["SELECT", "1"], ["GET", "b"], ["EXEC"],
        ["MULTI"], ["GET", "a"], ["DISCARD"], ["EXEC"],
        ["MULTI"], ["PING"], ["EXEC"],
        ["MULTI"], ["SET", "c", "1"], ["PING"], ["EXEC"],
    ]),
]


def wait_ok(port, deadline):
    while time.time() < deadline:
        try:
            reply = Conn(port).call([b"CLUSTER", b"INFO"])
            if "cluster_state:ok" in reply.get("v", ""):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"node {port} did not reach cluster_state:ok")


def start_cluster(base, workdir):
    ports = [base, base + 1, base + 2]
    for port in ports:
        d = os.path.join(workdir, str(port))
        os.makedirs(d)
        subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--save", "", "--appendonly", "no", "--daemonize", "yes",
                        "--dir", d, "--logfile", os.path.join(d, "log")], check=True)
    deadline = time.time() + 20
    for port in ports:
        while True:
            try:
                Conn(port).call([b"PING"])
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
    subprocess.run(["redis-cli", "--cluster", "create"] + [f"127.0.0.1:{p}" for p in ports]
                   + ["--cluster-replicas", "0", "--cluster-yes"], check=True,
                   stdout=subprocess.DEVNULL)
    for port in ports:
        wait_ok(port, time.time() + 30)
    return ports


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-port", type=int, default=7101)
    a = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="redstep-cluster-")
    ports = []
    try:
        ports = start_cluster(a.base_port, workdir)
        with open(os.path.join(HERE, "cluster-cases.jsonl"), "w", encoding="utf-8") as cases, \
             open(os.path.join(HERE, "cluster.golden.jsonl"), "w", encoding="utf-8") as golden:
            for cid, cmds in CASES:
                case = {"id": cid, "tags": ["cluster"], "cmds": cmds}
                cases.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
                conn = Conn(a.base_port)
                for r in RESET:
                    conn.call(r)
                conn = Conn(a.base_port)
                replies = []
                for step in cmds:
                    if isinstance(step, list):
                        step = {"cmd": step}
                    reply = conn.call([arg_bytes(x) for x in step["cmd"]])
                    replies.append(unordered(reply, step.get("unordered")))
                case["base_port"] = a.base_port
                case["replies"] = replies
                golden.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
    finally:
        for port in ports:
            try:
                Conn(port).call([b"SHUTDOWN", b"NOSAVE"])
            except OSError:
                pass
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

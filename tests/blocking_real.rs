//! Blocking commands woken by transactions and scripts that push and then
//! delete or retype the key: the same interleaving is run against
//! `redstep serve` and a real redis-server (two real sockets each), ordered
//! by replies and `INFO clients` (no sleeps), and the transcripts compared.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

mod common;
mod real;
use redstep::engine::Reply;
use redstep::protocol::resp::{encode_request, parse_reply};

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
}

impl Conn {
    fn send(&mut self, line: &str) {
        let argv: Vec<Vec<u8>> = split(line);
        self.stream.write_all(&encode_request(&argv)).unwrap();
    }

    fn read(&mut self) -> Reply {
        loop {
            if let Some((reply, used)) = parse_reply(&self.buf).unwrap() {
                self.buf.drain(..used);
                return reply;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "the server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, line: &str) -> Reply {
        self.send(line);
        self.read()
    }

    fn blocked_clients(&mut self) -> i64 {
        let Reply::Bulk(info) = self.call("INFO clients") else {
            panic!("INFO clients")
        };
        String::from_utf8(info)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

/// Words split on spaces; a word in single quotes may hold spaces.
fn split(line: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('\'') {
            let end = r.find('\'').expect("closing quote");
            out.push(r.as_bytes()[..end].to_vec());
            rest = r[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest.as_bytes()[..end].to_vec());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// Blocks `waiter` with `block`, waits until the server counts it blocked,
/// runs `writes` from another connection, then `finally` (which must wake the
/// waiter if it is still blocked). Returns every reply in order.
fn run(
    mut waiter: Conn,
    mut writer: Conn,
    block: &str,
    writes: &[&str],
    finally: &[&str],
) -> Vec<String> {
    let mut transcript = Vec::new();
    assert_eq!(writer.call("FLUSHALL"), Reply::ok());
    waiter.send(block);
    let start = Instant::now();
    while writer.blocked_clients() != 1 {
        assert!(start.elapsed() < Duration::from_secs(10), "never blocked");
        std::thread::yield_now();
    }
    for w in writes {
        transcript.push(format!("writer {w} -> {:?}", writer.call(w)));
    }
    // Whether the waiter is still blocked after the writes.
    transcript.push(format!("blocked {}", writer.blocked_clients()));
    for w in finally {
        transcript.push(format!("writer {w} -> {:?}", writer.call(w)));
    }
    transcript.push(format!("waiter {block} -> {:?}", waiter.read()));
    transcript.push(format!("after: {:?}", writer.call("KEYS *")));
    transcript
}

fn compare(block: &str, writes: &[&str], finally: &[&str]) {
    let Some(real) = real::Real::start() else {
        eprintln!("redis-server missing: skipped");
        return;
    };
    let path = real.url().trim_start_matches("redis+unix://").to_string();
    let unix = || Conn {
        stream: Box::new(UnixStream::connect(&path).unwrap()),
        buf: Vec::new(),
    };
    let expected = run(unix(), unix(), block, writes, finally);
    let addr = common::start();
    let tcp = || Conn {
        stream: Box::new(TcpStream::connect(addr).unwrap()),
        buf: Vec::new(),
    };
    let got = run(tcp(), tcp(), block, writes, finally);
    assert_eq!(
        got, expected,
        "redstep (left) differs from Redis 7.0.15 (right)"
    );
}

const RETYPE_TX: [&str; 5] = ["MULTI", "LPUSH k x", "DEL k", "SET k v", "EXEC"];
const PUSH_AFTER: [&str; 2] = ["DEL k", "RPUSH k z"];

#[test]
fn blpop_stays_blocked_when_exec_leaves_a_string() {
    compare("BLPOP k 0", &RETYPE_TX, &PUSH_AFTER);
}

#[test]
fn brpop_blmove_blmpop_stay_blocked_when_exec_leaves_another_type() {
    compare(
        "BRPOP k 0",
        &["MULTI", "RPUSH k x", "DEL k", "ZADD k 1 m", "EXEC"],
        &PUSH_AFTER,
    );
    compare("BLMOVE k dst LEFT RIGHT 0", &RETYPE_TX, &PUSH_AFTER);
    compare("BRPOPLPUSH k dst 0", &RETYPE_TX, &PUSH_AFTER);
    compare("BLMPOP 0 1 k RIGHT COUNT 2", &RETYPE_TX, &PUSH_AFTER);
}

#[test]
fn bzpop_stays_blocked_when_exec_leaves_another_type() {
    let after = ["DEL k", "ZADD k 2 z"];
    compare(
        "BZPOPMIN k 0",
        &["MULTI", "ZADD k 1 x", "DEL k", "SET k v", "EXEC"],
        &after,
    );
    compare(
        "BZPOPMAX k 0",
        &["MULTI", "ZADD k 1 x", "DEL k", "RPUSH k v", "EXEC"],
        &after,
    );
    compare(
        "BZMPOP 0 1 k MIN",
        &["MULTI", "ZADD k 1 x", "DEL k", "SADD k v", "EXEC"],
        &after,
    );
}

#[test]
fn scripts_that_push_then_retype_leave_the_waiter_blocked() {
    compare(
        "BLPOP k 0",
        &["EVAL 'redis.call(\"LPUSH\", KEYS[1], \"x\") redis.call(\"DEL\", KEYS[1]) return redis.call(\"SET\", KEYS[1], \"v\")' 1 k"],
        &PUSH_AFTER,
    );
    compare(
        "BZPOPMIN k 0",
        &["EVAL 'redis.call(\"ZADD\", KEYS[1], 1, \"x\") redis.call(\"DEL\", KEYS[1]) return redis.call(\"HSET\", KEYS[1], \"f\", \"v\")' 1 k"],
        &["DEL k", "ZADD k 2 z"],
    );
}

#[test]
fn the_later_push_is_served_in_the_mirror_cases() {
    compare(
        "BLPOP k 0",
        &["MULTI", "SET k v", "DEL k", "LPUSH k y", "EXEC"],
        &[],
    );
    compare(
        "BLPOP k 0",
        &["MULTI", "LPUSH k x", "DEL k", "LPUSH k y", "EXEC"],
        &[],
    );
    compare(
        "BZPOPMIN k 0",
        &["MULTI", "ZADD k 1 x", "DEL k", "ZADD k 5 y", "EXEC"],
        &[],
    );
    compare(
        "BLMOVE k dst RIGHT LEFT 0",
        &["EVAL 'redis.call(\"SET\", KEYS[1], \"v\") redis.call(\"DEL\", KEYS[1]) return redis.call(\"RPUSH\", KEYS[1], \"y\")' 1 k"],
        &[],
    );
}

#[test]
fn a_retyped_first_key_does_not_stop_a_push_on_the_second() {
    compare(
        "BLPOP a k 0",
        &["MULTI", "SET a str", "RPUSH k y", "EXEC"],
        &[],
    );
    compare(
        "BLMPOP 0 2 a k LEFT",
        &["MULTI", "SET a str", "RPUSH k y", "EXEC"],
        &[],
    );
    compare(
        "BZPOPMIN a k 0",
        &["MULTI", "SET a str", "ZADD k 1 y", "EXEC"],
        &[],
    );
    compare(
        "BZMPOP 0 2 a k MAX COUNT 3",
        &["MULTI", "SET a str", "ZADD k 1 y", "EXEC"],
        &[],
    );
}

/// WAIT with no replica attached (redstep never has one): blocked until its
/// timeout, writes or not, then 0.
#[test]
fn wait_blocks_until_its_timeout_without_replicas() {
    compare("WAIT 1 1500", &["SET a 1"], &[]);
}

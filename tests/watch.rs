//! What a WATCH sees and how EXEC ends a transaction, on `redstep serve`
//! and on a real redis-server 7.0.15 through the same real sockets:
//! writes that change nothing still touch a key when Redis says they do
//! (a no-op LTRIM), and an EXEC refused for its arity discards the
//! transaction.

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

const NO_OPS: &[&[&str]] = &[
    &["LTRIM", "l", "0", "-1"],
    &["LTRIM", "l", "0", "100"],
    &["LREM", "l", "0", "zz"],
    &["SREM", "s", "zz"],
    &["HDEL", "h", "zz"],
    &["ZREM", "z", "zz"],
    &["PERSIST", "l"],
    &["SETRANGE", "str", "0", ""],
    &["EXPIRE", "l", "100"],
    &["SET", "str", "v"],
    &["APPEND", "str", ""],
    &["SADD", "s", "a"],
    &["HSET", "h", "f", "v"],
    &["LPUSHX", "nope", "x"],
    &["DEL", "nope"],
    &["INCRBY", "n", "0"],
];

/// For each no-op write by a second client between WATCH and EXEC: EXEC's
/// reply. Then a transaction ended by `EXEC extra`.
fn run(target: &Target) -> Vec<Reply> {
    let (mut one, mut two) = (Conn::open(target).unwrap(), Conn::open(target).unwrap());
    let mut out = Vec::new();
    for no_op in NO_OPS {
        one.cmd(&[b"FLUSHALL"]).unwrap();
        for setup in [
            &["RPUSH", "l", "a", "b"][..],
            &["SADD", "s", "a"],
            &["HSET", "h", "f", "v"],
            &["ZADD", "z", "1", "a"],
            &["SET", "str", "v"],
            &["SET", "n", "1"],
        ] {
            one.call(&words(setup)).unwrap();
        }
        one.call(&words(&["WATCH", "l", "s", "h", "z", "str", "nope", "n"]))
            .unwrap();
        out.push(two.call(&words(no_op)).unwrap());
        one.cmd(&[b"MULTI"]).unwrap();
        one.cmd(&[b"PING"]).unwrap();
        out.push(one.cmd(&[b"EXEC"]).unwrap());
    }
    for c in [
        &["MULTI"][..],
        &["SET", "a", "1"],
        &["EXEC", "extra"],
        &["GET", "a"],
        &["EXEC"],
    ] {
        out.push(one.call(&words(c)).unwrap());
    }
    out
}

#[test]
fn no_op_writes_touch_watched_keys_and_a_refused_exec_discards_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = run(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = run(&Target::parse(&real.url()).unwrap());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        let what = NO_OPS
            .get(i / 2)
            .map(|c| c.join(" "))
            .unwrap_or_else(|| "EXEC extra".into());
        assert_eq!(a, b, "step {i} ({what})");
    }
    assert_eq!(ours.len(), theirs.len());
}

/// CLIENT REPLY OFF / SKIP / ON: the replies that arrive, in order.
fn replies_arriving(target: &Target) -> Vec<Reply> {
    let mut c = Conn::open(target).unwrap();
    for line in [
        &["CLIENT", "REPLY", "SKIP"][..],
        &["SET", "a", "1"],
        &["GET", "a"],
        &["CLIENT", "REPLY", "OFF"],
        &["SET", "b", "2"],
        &["INCR", "b"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "b"],
        &["CLIENT", "REPLY", "MAYBE"],
        &["PING"],
    ] {
        c.send(&words(line)).unwrap();
    }
    (0..5).map(|_| c.read().unwrap()).collect()
}

#[test]
fn client_reply_off_skip_and_on_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = replies_arriving(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = replies_arriving(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
    assert_eq!(ours[0], Reply::bulk("1"));
}

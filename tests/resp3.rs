//! RESP3 for network clients: `redis-cli -3` against `redstep serve` and a
//! real redis-server 7.0.15 prints the same for each command (maps, sets,
//! doubles, nulls), HELLO switches the protocol, and pub/sub messages come
//! as pushes.

mod common;
mod real;

use std::process::Command;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn cli(target: &[&str], args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-3")
        .args(target)
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const COMMANDS: &[&[&str]] = &[
    &["HSET", "h", "f", "v", "g", "w"],
    &["HGETALL", "h"],
    &["SADD", "s", "a"],
    &["SMEMBERS", "s"],
    &["ZADD", "z", "1.5", "m", "2", "n"],
    &["ZSCORE", "z", "m"],
    &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    &["ZPOPMIN", "z"],
    &["ZINCRBY", "z", "inf", "n"],
    &["GET", "missing"],
    &["HGET", "h", "nope"],
    &["LPOP", "missing"],
    &["BLPOP", "missing", "0.01"],
    &["HSET", "one", "f", "v"],
    &["HRANDFIELD", "one", "-2", "WITHVALUES"],
    &["CONFIG", "GET", "busy-reply-threshold"],
    &["XADD", "x", "1-1", "f", "v"],
    &["XRANGE", "x", "-", "+"],
    &["XINFO", "GROUPS", "x"],
    &["EVAL", "return {1, 'a', false}", "0"],
    &["MGET", "h", "missing"],
    &["GEOADD", "g", "13.361389", "38.115556", "P"],
    &["ZRANDMEMBER", "z", "1", "WITHSCORES"],
];

#[test]
fn redis_cli_in_resp3_prints_the_same_on_serve_and_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let port = addr.port().to_string();
    let ours: &[&str] = &["-p", &port];
    let socket = real.url().trim_start_matches("redis+unix://").to_string();
    let theirs: &[&str] = &["-s", &socket];
    if Command::new("redis-cli").arg("-v").output().is_err() {
        eprintln!("skipped: redis-cli is not installed");
        return;
    }
    for command in COMMANDS {
        assert_eq!(cli(ours, command), cli(theirs, command), "{command:?}");
    }
    // HELLO 3: the same map but the client id.
    let strip_id = |text: String| {
        text.lines()
            .filter(|l| !l.starts_with("id "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let hello = strip_id(cli(ours, &["HELLO", "3"]));
    assert!(hello.contains("\nproto 3\n"), "{hello}");
    assert_eq!(hello, strip_id(cli(theirs, &["HELLO", "3"])));
}

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// HELLO 3, SUBSCRIBE, a PUBLISH from another client, RESET: what the
/// subscriber reads.
fn subscriber(target: &Target) -> Vec<Reply> {
    let mut sub = Conn::open(target).unwrap();
    let mut publisher = Conn::open(target).unwrap();
    let mut got = Vec::new();
    let mut hello = sub.call(&words(&["HELLO", "3"])).unwrap();
    if let Reply::Map(pairs) = &mut hello {
        pairs.retain(|(k, _)| *k != Reply::bulk("id"));
    }
    got.push(hello);
    got.push(sub.call(&words(&["SUBSCRIBE", "ch"])).unwrap());
    got.push(sub.call(&words(&["PSUBSCRIBE", "c*"])).unwrap());
    assert_eq!(
        publisher.call(&words(&["PUBLISH", "ch", "hi"])).unwrap(),
        Reply::Int(2)
    );
    got.push(sub.read().unwrap());
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["PING"])).unwrap());
    got.push(sub.call(&words(&["UNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["RESET"])).unwrap());
    got.push(sub.call(&words(&["HGETALL", "nothing"])).unwrap());
    got
}

#[test]
fn pub_sub_messages_are_pushes_in_resp3_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = subscriber(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = subscriber(&Target::parse(&real.url()).unwrap());
    assert!(matches!(ours[3], Reply::Push(_)), "{:?}", ours[3]);
    assert_eq!(ours, theirs);
}

/// Sharded pub/sub, in RESP2 and in RESP3: every reply and message.
fn sharded(target: &Target, resp3: bool) -> Vec<Reply> {
    let mut sub = Conn::open(target).unwrap();
    let mut publisher = Conn::open(target).unwrap();
    let mut got = Vec::new();
    if resp3 {
        sub.call(&words(&["HELLO", "3"])).unwrap();
    }
    sub.send(&words(&["SSUBSCRIBE", "a", "b"])).unwrap();
    got.push(sub.read().unwrap());
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["SUBSCRIBE", "c"])).unwrap());
    got.push(publisher.call(&words(&["SPUBLISH", "a", "hi"])).unwrap());
    got.push(sub.read().unwrap());
    got.push(publisher.call(&words(&["PUBLISH", "a", "x"])).unwrap());
    // Redis lists channels in its hash order: compare them sorted.
    let mut all = publisher
        .call(&words(&["PUBSUB", "SHARDCHANNELS"]))
        .unwrap();
    if let Reply::Array(items) = &mut all {
        items.sort_by_key(|r| format!("{r:?}"));
    }
    got.push(all);
    got.push(
        publisher
            .call(&words(&["PUBSUB", "SHARDCHANNELS", "b*"]))
            .unwrap(),
    );
    got.push(
        publisher
            .call(&words(&["PUBSUB", "SHARDNUMSUB", "a", "x"]))
            .unwrap(),
    );
    got.push(
        publisher
            .call(&words(&["PUBSUB", "NUMSUB", "a", "c"]))
            .unwrap(),
    );
    got.push(sub.call(&words(&["PING"])).unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE", "a"])).unwrap());
    sub.send(&words(&["SUNSUBSCRIBE"])).unwrap();
    got.push(sub.read().unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["UNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["SUNSUBSCRIBE"])).unwrap());
    got.push(sub.call(&words(&["GET", "k"])).unwrap());
    got
}

#[test]
fn sharded_pub_sub_as_on_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    for resp3 in [false, true] {
        let ours = sharded(&Target::parse(&format!("redis://{addr}")).unwrap(), resp3);
        let theirs = sharded(&Target::parse(&real.url()).unwrap(), resp3);
        assert_eq!(ours, theirs, "resp3: {resp3}");
    }
}

//! A real client library (the `redis` crate, sync) against `redstep serve`
//! and a real redis-server 7.0.15 side by side, over RESP2 and RESP3: the
//! same calls, the same values.

mod common;
mod real;

use real::Real;

/// What a client sees for a series of calls (as `redis::Value`s).
fn session(url: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut seen = Vec::new();
    let mut call = |args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let value: redis::RedisResult<redis::Value> = cmd.query(&mut con);
        seen.push(format!("{:?}", value.map_err(|e| e.to_string())));
    };
    call(&["FLUSHALL"]);
    call(&["SET", "a", "42"]);
    call(&["INCR", "a"]);
    call(&["GET", "a"]);
    call(&["GET", "missing"]);
    call(&["HSET", "h", "f", "v"]);
    call(&["HGETALL", "h"]);
    call(&["SADD", "s", "x"]);
    call(&["SMEMBERS", "s"]);
    call(&["ZADD", "z", "1.5", "m"]);
    call(&["ZSCORE", "z", "m"]);
    call(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]);
    call(&["LPUSH", "a", "x"]);
    call(&[
        "EVAL",
        "redis.call('INCR', KEYS[1]); return redis.call('GET', KEYS[1])",
        "1",
        "a",
    ]);
    call(&["EVAL", "return {1, 'two', {3}}", "0"]);
    call(&["EVAL", "redis.call('INCR', 'a') local x = nil + 1", "0"]);
    call(&["GET", "a"]);
    call(&["MULTI"]);
    call(&["INCR", "a"]);
    call(&["EXEC"]);
    call(&["CONFIG", "GET", "busy-reply-threshold"]);
    call(&["XADD", "x", "1-1", "f", "v"]);
    call(&["XRANGE", "x", "-", "+"]);
    call(&["PFADD", "p", "a", "b"]);
    call(&["PFCOUNT", "p"]);
    seen
}

#[test]
fn the_redis_crate_sees_the_same_on_serve_and_on_redis_in_resp2_and_resp3() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    for protocol in ["", "?protocol=resp3"] {
        let ours = session(&format!("redis://{addr}/{protocol}"));
        let theirs = session(&format!("{}{protocol}", real.url()));
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "call {i} over {protocol:?}");
        }
        assert_eq!(ours.len(), theirs.len());
        assert!(ours[3].contains("43"), "{ours:?}");
        if !protocol.is_empty() {
            assert!(ours[6].contains("map("), "RESP3 maps: {ours:?}");
        }
    }
}

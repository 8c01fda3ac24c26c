//! MONITOR shows what a script did, as Redis 7.0.15 shows it: the EVAL,
//! then each `redis.call` as `[0 lua]`, compared line by line with a real
//! redis-server (timestamps and client ports aside).

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

const INC: &str = "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n";

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// The lines a MONITOR client gets while another runs the post's story,
/// without timestamps and with client addresses as `client`.
fn monitored(target: &Target) -> Vec<String> {
    let mut monitor = Conn::open(target).unwrap();
    let mut client = Conn::open(target).unwrap();
    assert_eq!(monitor.cmd(&[b"MONITOR"]).unwrap(), Reply::ok());
    let commands: &[&[&str]] = &[
        &["SET", "a", "42"],
        &["set", "b", "42"],
        &["EVAL", INC, "0"],
        &["MGET", "a", "b"],
        &["NOSUCHCOMMAND"],
        &["CONFIG", "GET", "port"],
        &[
            "EVAL",
            "return redis.call('GET', KEYS[1])",
            "1",
            "a\nb \"c\"",
        ],
        // Passwords redacted, as Redis redacts them while parsing.
        &["AUTH", "nosuch", "secret"],
        &["AUTH", "a", "b", "c"],
        &["HELLO", "2", "AUTH", "default", "pw", "SETNAME", "x"],
        &["HELLO", "9", "AUTH", "default", "pw"],
        &[
            "MIGRATE", "h", "1", "", "0", "5", "AUTH", "pw", "KEYS", "nokey",
        ],
        &[
            "MIGRATE", "h", "1", "", "0", "5", "COPY", "AUTH2", "u", "pw", "KEYS", "nokey",
        ],
        &["CONFIG", "SET", "requirepass", ""],
        &["PING"],
    ];
    for c in commands {
        client.call(&words(c)).unwrap();
    }
    let mut lines = Vec::new();
    loop {
        let Reply::Status(line) = monitor.read().unwrap() else {
            panic!()
        };
        let line = String::from_utf8(line).unwrap();
        let (_, rest) = line.split_once(' ').unwrap();
        let rest = match rest.split_once("] ") {
            Some((who, args)) if who.ends_with("lua") => format!("{who}] {args}"),
            Some((who, args)) => format!("{} client] {args}", &who[..who.find(' ').unwrap()]),
            None => rest.to_string(),
        };
        let done = rest.ends_with("\"PING\"");
        lines.push(rest);
        if done {
            return lines;
        }
    }
}

#[test]
fn monitor_shows_the_posts_script_as_redis_does() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = monitored(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = monitored(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
    for line in [
        "[0 lua] \"INCR\" \"a\"",
        "[0 client] \"AUTH\" \"(redacted)\" \"(redacted)\"",
        "[0 client] \"MIGRATE\" \"h\" \"1\" \"\" \"0\" \"5\" \"AUTH\" \"(redacted)\" \"KEYS\" \"nokey\"",
    ] {
        assert!(ours.contains(&line.to_string()), "{line} not in {ours:?}");
    }
}

//! SLOWLOG on `redstep serve` and on a real redis-server 7.0.15, through the
//! same sockets: with `slowlog-log-slower-than 0` every command is an
//! entry, and the entries (arguments cut as Redis cuts them, the client's
//! name, a script's own calls from `?:0`, EXEC left out, newest first) are
//! the same. Ids, times, durations and addresses are compared by shape.

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// The slow log after a session, each entry with its id counted from the
/// first one and its address as "client" (a connection) or "?:0" (a script).
fn story(target: &Target) -> Vec<String> {
    let mut c = Conn::open(target).unwrap();
    let mut run = |w: &[&str]| c.call(&words(w)).unwrap();
    run(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    run(&["SLOWLOG", "RESET"]);
    run(&["CLIENT", "SETNAME", "alice"]);
    run(&["SET", "k", "v"]);
    run(&[
        "EVAL",
        "redis.call('SET', 'x', '1') return redis.pcall('INCR', 'k')",
        "0",
    ]);
    run(&["MULTI"]);
    run(&["INCR", "n"]);
    run(&["EXEC"]);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut rpush = vec!["RPUSH", "l"];
    rpush.extend(many.iter().map(String::as_str));
    run(&rpush);
    let big = "y".repeat(200);
    run(&["SET", "big", &big]);
    // Passwords redacted, as Redis redacts them while parsing.
    run(&["AUTH", "nosuch", "secret"]);
    run(&["HELLO", "2", "AUTH", "default", "pw"]);
    run(&[
        "MIGRATE", "h", "1", "", "0", "5", "AUTH2", "u", "pw", "KEYS", "nokey",
    ]);
    run(&["ACL", "SETUSER", "default"]);
    run(&["CONFIG", "SET", "requirepass", "", "timeout", "0"]);
    run(&["NOSUCH"]);
    run(&["GET", "k", "extra"]);
    let len = run(&["SLOWLOG", "LEN"]);
    let Reply::Array(entries) = run(&["SLOWLOG", "GET", "-1"]) else {
        panic!()
    };
    run(&["CONFIG", "SET", "slowlog-log-slower-than", "10000"]);
    let first = entries
        .iter()
        .filter_map(|e| match e {
            Reply::Array(f) => match f[0] {
                Reply::Int(id) => Some(id),
                _ => None,
            },
            _ => None,
        })
        .min()
        .unwrap();
    let mut out = vec![format!("len {len:?}")];
    for e in entries {
        let Reply::Array(f) = e else { panic!() };
        let (Reply::Int(id), Reply::Int(t), Reply::Int(us), Reply::Bulk(peer)) =
            (&f[0], &f[1], &f[2], &f[4])
        else {
            panic!("{f:?}")
        };
        assert!(*t > 1_700_000_000 && *us >= 0, "{f:?}");
        let peer = String::from_utf8_lossy(peer);
        let peer = if peer == "?:0" { "?:0" } else { "client" };
        let text = |r: &Reply| match r {
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        };
        let Reply::Array(args) = &f[3] else { panic!() };
        let args: Vec<String> = args.iter().map(text).collect();
        out.push(format!(
            "{} [{}] {peer} {:?}",
            id - first,
            args.join(" "),
            text(&f[5])
        ));
    }
    out
}

#[test]
fn the_slow_log_holds_what_redis_holds() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = story(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = story(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
    // Not vacuous: the script's calls, the cut arguments, the name.
    let all = ours.join("\n");
    for needle in [
        "... (11 more arguments)",
        "... (72 more bytes)",
        "?:0",
        "\"alice\"",
        "EVAL",
        "AUTH (redacted) (redacted)",
        "ACL SETUSER (redacted)",
        "requirepass (redacted) timeout 0",
    ] {
        assert!(all.contains(needle), "{needle} not in\n{all}");
    }
    assert!(!all.contains("EXEC"), "{all}");
}

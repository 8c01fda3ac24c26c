//! CLIENT PAUSE and CLIENT UNPAUSE on `redstep serve` and on a real
//! redis-server 7.0.15 through the same real sockets: which commands a
//! WRITE pause holds back, that held commands run in the order they came
//! once it ends, a transaction's write held at queue time, a pause started
//! inside MULTI, an expired key kept (unseen) while paused, and ALL.
//! Ordered by replies and by polling, never by sleeping: the pauses are
//! long and CLIENT UNPAUSE ends them.

mod common;
mod real;

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// A reply as one readable line.
fn show(r: &Reply) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match r {
        Reply::Status(s) => format!("+{}", text(s)),
        Reply::Error(e) => format!("-{}", text(e)),
        Reply::Bulk(b) => format!("{:?}", text(b)),
        Reply::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn story(target: &Target) -> Vec<String> {
    let open = || Conn::open(target).unwrap();
    let (mut admin, mut one, mut two, mut three) = (open(), open(), open(), open());
    let mut four = open();
    let mut out = Vec::new();
    let mut note = |what: &str, r: Reply| out.push(format!("{what}: {}", show(&r)));
    note("flush", admin.call(&words(&["FLUSHALL"])).unwrap());
    for c in [
        &["CLIENT", "PAUSE"][..],
        &["CLIENT", "PAUSE", "abc"],
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "10", "FOO"],
        &["CLIENT", "PAUSE", "10", "WRITE", "extra"],
        &["CLIENT", "UNPAUSE", "x"],
        &["CLIENT", "PAUSE", "0"],
        &["CLIENT", "PAUSE", "9223372036854775807", "WRITE"],
        &["CLIENT", "UNPAUSE"],
    ] {
        note(&c.join(" "), admin.call(&words(c)).unwrap());
    }
    // A WRITE pause: writes and scripts wait, reads and no-writes scripts
    // answer at once.
    note(
        "pause write",
        admin
            .call(&words(&["CLIENT", "PAUSE", "100000", "WRITE"]))
            .unwrap(),
    );
    one.send(&words(&["SET", "k", "v"])).unwrap();
    one.send(&words(&["GET", "k"])).unwrap();
    common::wait_blocked(&mut admin, 1);
    two.send(&words(&["EVAL", "return redis.call('INCR', 'n')", "0"]))
        .unwrap();
    common::wait_blocked(&mut admin, 2);
    // A script with a shebang and no `no-writes` is a write command
    // (scriptFlagsToCmdFlags), EVAL_RO's too: it waits, then is refused.
    four.send(&words(&["EVAL_RO", "#!lua\nreturn 1", "0"]))
        .unwrap();
    common::wait_blocked(&mut admin, 3);
    note(
        "read while paused",
        three.call(&words(&["GET", "k"])).unwrap(),
    );
    note(
        "no-writes script while paused",
        three
            .call(&words(&[
                "EVAL",
                "#!lua flags=no-writes\nreturn redis.call('EXISTS', 'k')",
                "0",
            ]))
            .unwrap(),
    );
    note(
        "eval_ro while paused",
        three
            .call(&words(&["EVAL_RO", "return redis.call('GET', 'n')", "0"]))
            .unwrap(),
    );
    for c in [&["MULTI"][..], &["GET", "k"], &["EXEC"]] {
        note("read-only transaction", three.call(&words(c)).unwrap());
    }
    // A transaction's write is held when it is queued.
    note("multi", three.call(&words(&["MULTI"])).unwrap());
    three.send(&words(&["SET", "k", "w"])).unwrap();
    common::wait_blocked(&mut admin, 4);
    note(
        "unpause",
        admin.call(&words(&["CLIENT", "UNPAUSE"])).unwrap(),
    );
    note("one's SET", one.read().unwrap());
    note("one's GET after it", one.read().unwrap());
    note("two's script", two.read().unwrap());
    note("four's eval_ro of a write script", four.read().unwrap());
    note("three's queued write", three.read().unwrap());
    note("three's exec", three.call(&words(&["EXEC"])).unwrap());
    // A pause started inside a transaction begins when EXEC ends; a key
    // that expires while clients are paused reads as gone but stays.
    for c in [
        &["MULTI"][..],
        &["SET", "e", "1", "PX", "20"],
        &["CLIENT", "PAUSE", "100000", "WRITE"],
        &["EXEC"],
    ] {
        note(&c.join(" "), admin.call(&words(c)).unwrap());
    }
    while admin.call(&words(&["GET", "e"])).unwrap() != Reply::Nil {}
    note(
        "dbsize, e expired",
        admin.call(&words(&["DBSIZE"])).unwrap(),
    );
    note("exists e", admin.call(&words(&["EXISTS", "e"])).unwrap());
    note(
        "unpause",
        admin.call(&words(&["CLIENT", "UNPAUSE"])).unwrap(),
    );
    note(
        "exists e after",
        admin.call(&words(&["EXISTS", "e"])).unwrap(),
    );
    // ALL holds every command, a short one ends by itself.
    note(
        "pause all",
        admin
            .call(&words(&["CLIENT", "PAUSE", "50", "ALL"]))
            .unwrap(),
    );
    note("ping during all", one.call(&words(&["PING"])).unwrap());
    note("get during all", two.call(&words(&["GET", "k"])).unwrap());
    out
}

#[test]
fn client_pause_and_unpause_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let addr = common::start();
    let ours = story(&Target::parse(&format!("redis://{addr}")).unwrap());
    let theirs = story(&Target::parse(&real.url()).unwrap());
    assert_eq!(ours, theirs);
    // What the story shows, so it cannot pass by both sides doing nothing.
    let joined = theirs.join("\n");
    for shown in [
        "CLIENT PAUSE 10 WRITE extra: -ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.",
        "read while paused: Nil",
        "no-writes script while paused: Int(0)",
        "one's SET: +OK",
        "one's GET after it: \"v\"",
        "two's script: Int(1)",
        "four's eval_ro of a write script: -ERR Can not execute a script with write flag using *_ro command.",
        "three's queued write: +QUEUED",
        "three's exec: [+OK]",
        "dbsize, e expired: Int(3)",
        "exists e: Int(0)",
    ] {
        assert!(joined.contains(shown), "{shown} not in:\n{joined}");
    }
}

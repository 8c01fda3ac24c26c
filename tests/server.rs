//! `redstep serve` over real TCP: pipelining, blocking commands, pub/sub,
//! and clients that send garbage.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod common;
use common::{start, Client};
use redstep::engine::{Engine, Reply};
use redstep::protocol::resp::encode_request;
use redstep::script::ScriptConfig;

fn bulk(s: &str) -> Reply {
    Reply::bulk(s)
}

#[test]
fn answers_like_redis() {
    let addr = start();
    let mut c = Client::connect(addr);
    assert_eq!(c.call("SET a 42"), Reply::ok());
    assert_eq!(c.call("INCR a"), Reply::Int(43));
    assert_eq!(c.call("GET a"), bulk("43"));
    c.send_raw(b"GET a\r\n");
    assert_eq!(c.read(), Some(bulk("43")), "inline commands work");
    assert_eq!(c.call("QUIT"), Reply::ok());
    assert_eq!(c.read(), None, "QUIT closes the connection");
}

#[test]
fn pipelines_keep_order() {
    let addr = start();
    let mut c = Client::connect(addr);
    let mut batch = Vec::new();
    for i in 0..20_000 {
        batch.extend(encode_request(&[
            b"RPUSH".to_vec(),
            b"l".to_vec(),
            i.to_string().into_bytes(),
        ]));
    }
    c.send_raw(&batch);
    for i in 0..20_000 {
        assert_eq!(c.read(), Some(Reply::Int(i + 1)));
    }
    assert_eq!(c.call("LINDEX l -1"), bulk("19999"));
}

/// Polls until `cond` holds (the engine is another thread); no fixed sleeps.
fn wait_until(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition never held"
        );
        std::thread::yield_now();
    }
}

fn blocked_clients(c: &mut Client) -> i64 {
    let Reply::Bulk(info) = c.call("INFO clients") else {
        panic!()
    };
    let info = String::from_utf8(info).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn blpop_waits_for_a_push_from_another_client() {
    let addr = start();
    let mut waiter = Client::connect(addr);
    let mut pusher = Client::connect(addr);
    waiter.send("BLPOP jobs 0");
    waiter.send("PING");
    wait_until(|| blocked_clients(&mut pusher) == 1);
    assert_eq!(pusher.call("RPUSH jobs j1 j2"), Reply::Int(2));
    assert_eq!(waiter.read(), Some(Reply::bulks(["jobs", "j1"])));
    assert_eq!(
        waiter.read(),
        Some(Reply::status("PONG")),
        "commands sent while blocked run afterwards"
    );
    assert_eq!(pusher.call("LRANGE jobs 0 -1"), Reply::bulks(["j2"]));
}

#[test]
fn blocking_commands_time_out() {
    let addr = start();
    let mut c = Client::connect(addr);
    let started = Instant::now();
    assert_eq!(c.call("BRPOP nothing 0.2"), Reply::NilArray);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // A blocked list command's timeout is a null array, BLMOVE's too (Redis
    // 7.0.15's replyToBlockedClientTimedOut sends `*-1`; in MULTI BLMOVE
    // answers `$-1` at once).
    assert_eq!(
        c.call("BLMOVE nothing dst LEFT RIGHT 0.05"),
        Reply::NilArray
    );
}

#[test]
fn blmove_chain_serves_the_oldest_waiter_first() {
    let addr = start();
    let mut first = Client::connect(addr);
    let mut second = Client::connect(addr);
    let mut pusher = Client::connect(addr);
    first.send("BLMOVE src dst LEFT RIGHT 0");
    wait_until(|| blocked_clients(&mut pusher) == 1);
    second.send("BLPOP dst 0");
    wait_until(|| blocked_clients(&mut pusher) == 2);
    pusher.call("RPUSH src x");
    assert_eq!(first.read(), Some(bulk("x")));
    assert_eq!(
        second.read(),
        Some(Reply::bulks(["dst", "x"])),
        "the moved element wakes the next waiter"
    );
}

#[test]
fn publish_reaches_subscribers() {
    let addr = start();
    let mut sub = Client::connect(addr);
    let mut publisher = Client::connect(addr);
    sub.send("SUBSCRIBE news weather");
    assert_eq!(
        sub.read(),
        Some(Reply::Array(vec![
            bulk("subscribe"),
            bulk("news"),
            Reply::Int(1)
        ]))
    );
    assert_eq!(
        sub.read(),
        Some(Reply::Array(vec![
            bulk("subscribe"),
            bulk("weather"),
            Reply::Int(2)
        ]))
    );
    assert_eq!(publisher.call("PUBLISH news hello"), Reply::Int(1));
    assert_eq!(sub.read(), Some(Reply::bulks(["message", "news", "hello"])));
    assert_eq!(
        sub.call("EXEC"),
        Reply::error("EXECABORT Transaction discarded because of: Can't execute 'exec': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(
        sub.call("GET x"),
        Reply::error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
}

#[test]
fn garbage_gets_a_protocol_error_and_others_keep_working() {
    let addr = start();
    let mut bystander = Client::connect(addr);
    bystander.call("SET k v");
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$1073741824\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (
            b"*1\r\n+PING\r\n",
            "ERR Protocol error: expected '$', got '+'",
        ),
        (
            b"SET k \"unterminated\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    for (bytes, error) in cases {
        let mut bad = Client::connect(addr);
        bad.send_raw(bytes);
        assert_eq!(bad.read(), Some(Reply::error(*error)));
        assert_eq!(
            bad.read(),
            None,
            "the connection is closed after a protocol error"
        );
    }
    let mut half = Client::connect(addr);
    half.send_raw(b"*2\r\n$3\r\nGET\r\n$1");
    drop(half);
    let mut huge_inline = Client::connect(addr);
    huge_inline.send_raw(&vec![b'A'; 70 * 1024]);
    assert_eq!(
        huge_inline.read(),
        Some(Reply::error("ERR Protocol error: too big inline request"))
    );
    assert_eq!(bystander.call("GET k"), bulk("v"));
}

#[test]
fn exec_runs_queued_commands_and_keeps_partial_writes() {
    let addr = start();
    let mut c = Client::connect(addr);
    assert_eq!(c.call("MULTI"), Reply::ok());
    assert_eq!(c.call("SET a x"), Reply::status("QUEUED"));
    assert_eq!(c.call("INCR a"), Reply::status("QUEUED"));
    assert_eq!(c.call("SET b y"), Reply::status("QUEUED"));
    assert_eq!(
        c.call("EXEC"),
        Reply::Array(vec![
            Reply::ok(),
            Reply::error("ERR value is not an integer or out of range"),
            Reply::ok()
        ])
    );
    assert_eq!(c.call("MGET a b"), Reply::bulks(["x", "y"]));
}

fn start_with(script: ScriptConfig, busy_threshold_ms: i64) -> SocketAddr {
    common::start_engine(
        move || {
            let mut engine = Engine::default();
            engine.config.busy_reply_threshold_ms = busy_threshold_ms;
            engine
        },
        script,
    )
}

/// Sends PING until the server answers BUSY (the script passed the threshold).
fn wait_for_busy(c: &mut Client) -> Reply {
    let start = Instant::now();
    loop {
        let reply = c.call("PING");
        if reply != Reply::status("PONG") {
            return reply;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the script never became busy"
        );
    }
}

#[test]
fn script_kill_stops_a_busy_script_that_has_not_written() {
    let addr = start_with(ScriptConfig::default(), 50);
    let mut runner = Client::connect(addr);
    let mut other = Client::connect(addr);
    runner.send_raw(&encode_request(&[
        b"EVAL".to_vec(),
        b"local i = 0\nwhile true do i = i + 1 end".to_vec(),
        b"0".to_vec(),
    ]));
    assert_eq!(
        wait_for_busy(&mut other),
        Reply::error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(other.call("GET k"), Reply::error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."));
    assert_eq!(other.call("SCRIPT KILL"), Reply::ok());
    assert_eq!(
        runner.read(),
        Some(Reply::error(
            "ERR Script killed by user with SCRIPT KILL... script: 5485ac7b11abac6760734f4b4ec80041904408bc, on @user_script:2."
        ))
    );
    assert_eq!(other.call("PING"), Reply::status("PONG"));
    assert_eq!(runner.call("PING"), Reply::status("PONG"));
}

#[test]
fn a_script_that_wrote_is_unkillable_and_keeps_its_write() {
    let budget = ScriptConfig {
        budget: Some(Duration::from_millis(600)),
        ..ScriptConfig::default()
    };
    let addr = start_with(budget, 50);
    let mut runner = Client::connect(addr);
    let mut other = Client::connect(addr);
    runner.send_raw(&encode_request(&[
        b"EVAL".to_vec(),
        b"redis.call('SET','w','1')\nwhile true do end".to_vec(),
        b"0".to_vec(),
    ]));
    wait_for_busy(&mut other);
    assert_eq!(
        other.call("SCRIPT KILL"),
        Reply::error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
    );
    let Some(Reply::Error(text)) = runner.read() else {
        panic!("the budget should stop the script")
    };
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.starts_with("ERR Script stopped by redstep after 600 ms"),
        "{text}"
    );
    assert!(text.ends_with("on @user_script:2."), "{text}");
    assert_eq!(
        other.call("GET w"),
        bulk("1"),
        "no rollback: the write stays"
    );
}

#[test]
fn commands_pipelined_behind_a_busy_script_wait_for_it() {
    let addr = start_with(ScriptConfig::default(), 20);
    let mut runner = Client::connect(addr);
    let mut other = Client::connect(addr);
    let mut batch = encode_request(&[
        b"EVAL".to_vec(),
        b"local n = 0 for i = 1, 3e7 do n = n + 1 end return n".to_vec(),
        b"0".to_vec(),
    ]);
    batch.extend(encode_request(&[b"PING".to_vec()]));
    runner.send_raw(&batch);
    wait_for_busy(&mut other);
    assert_eq!(runner.read(), Some(Reply::Int(30_000_000)));
    assert_eq!(
        runner.read(),
        Some(Reply::status("PONG")),
        "the caller's own next command was not answered BUSY"
    );
}

//! A busy script, seen from other clients, on `redstep serve` and on a real
//! redis-server 7.0.15 driven through the same interleaving with real
//! sockets: MULTI/WATCH answered at once, refused commands abort the
//! transaction, FUNCTION STATS and FUNCTION KILL, SHUTDOWN NOSAVE and
//! SIGTERM ending the server. Busy is found by polling, never by sleeping.

mod real;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use real::Real;
use redstep::engine::Reply;
use redstep::remote::{Conn, Target};

/// `redstep serve --port 0` as a process, and where it listens.
fn serve() -> (Child, Target) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(["serve", "--port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line.trim().rsplit(' ').next().unwrap().to_string();
    (child, Target::parse(&format!("redis://{address}")).unwrap())
}

fn words(w: &[&str]) -> Vec<Vec<u8>> {
    w.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Writes (or not), then spins for `ms` of the server's clock.
fn spinner(write: bool, ms: u32) -> String {
    format!(
        "{}\nlocal t = redis.call('TIME')\nlocal start = t[1] * 1000000 + t[2]\nlocal now = start\nwhile now - start < {} do\n  t = redis.call('TIME')\n  now = t[1] * 1000000 + t[2]\nend\nreturn 'done'\n",
        if write { "redis.call('SET', KEYS[1], 'started')" } else { "local k = KEYS[1]" },
        ms * 1000
    )
}

/// Starts `busy` from one client, waits until another sees BUSY, sends
/// `commands` from that other client; returns their replies and the busy
/// command's own reply.
fn while_busy(
    target: &Target,
    setup: &[&[&str]],
    busy: &[&str],
    commands: &[&[&str]],
) -> (Vec<Reply>, Reply) {
    let (mut script, mut other) = until_busy(target, setup, busy);
    let replies = commands
        .iter()
        .map(|c| other.call(&words(c)).unwrap())
        .collect();
    (replies, script.read().unwrap())
}

/// Starts `busy` from one client and returns once another sees BUSY:
/// the script's connection and the other's.
fn until_busy(target: &Target, setup: &[&[&str]], busy: &[&str]) -> (Conn, Conn) {
    let mut admin = Conn::open(target).unwrap();
    admin.cmd(&[b"FLUSHALL"]).unwrap();
    admin.cmd(&[b"FUNCTION", b"FLUSH"]).unwrap();
    admin
        .cmd(&[b"CONFIG", b"SET", b"busy-reply-threshold", b"100"])
        .unwrap();
    for cmd in setup {
        admin.call(&words(cmd)).unwrap();
    }
    let mut script = Conn::open(target).unwrap();
    script.send(&words(busy)).unwrap();
    let mut other = Conn::open(target).unwrap();
    let since = std::time::Instant::now();
    loop {
        assert!(since.elapsed().as_secs() < 30, "the script never got busy");
        if let Reply::Error(e) = other.cmd(&[b"PING"]).unwrap() {
            assert!(e.starts_with(b"BUSY"), "{}", String::from_utf8_lossy(&e));
            break;
        }
    }
    (script, other)
}

/// A line of HTTP while a script is busy closes that connection without a
/// reply: Redis's processCommand checks for it first, busy or not.
#[test]
fn a_line_of_http_during_a_busy_script_closes_the_connection() {
    let Some(real) = Real::start() else { return };
    let body = spinner(false, 2000);
    let busy = ["EVAL", body.as_str(), "1", "k"];
    let (mut child, ours) = serve();
    for target in [Target::parse(&real.url()).unwrap(), ours] {
        let (mut script, mut other) = until_busy(&target, &[], &busy);
        other.send(&words(&["POST", "/", "HTTP/1.1"])).unwrap();
        let error = format!("{:#}", other.read().expect_err("closed, no reply"));
        assert!(
            error.contains("closed the connection"),
            "{target:?}: {error}"
        );
        assert_eq!(script.read().unwrap(), Reply::bulk("done"), "{target:?}");
    }
    let _ = child.kill();
}

#[test]
fn other_clients_during_a_busy_script_are_answered_as_by_redis() {
    let Some(real) = Real::start() else { return };
    // Long enough for the sixteen commands below to be answered while it
    // runs, even in a debug build under load (800 ms was not, once).
    let body = spinner(true, 3000);
    let commands: &[&[&str]] = &[
        &["MULTI"],
        &["SET", "a", "1"],
        &["EXEC"],
        &["MULTI"],
        &["DISCARD"],
        &["WATCH", "k"],
        &["UNWATCH"],
        &["FUNCTION", "STATS"],
        &["FUNCTION", "KILL"],
        &["SCRIPT", "KILL"],
        &["SHUTDOWN"],
        &["NOSUCHCOMMAND", "x"],
        &["GET"],
        &["MULTI"],
        &["GET"],
        &["EXEC"],
    ];
    let busy = ["EVAL", body.as_str(), "1", "k"];
    let theirs = while_busy(&Target::parse(&real.url()).unwrap(), &[], &busy, commands);
    let (mut child, target) = serve();
    let ours = while_busy(&target, &[], &busy, commands);
    let _ = child.kill();
    assert_eq!(ours, theirs);
    assert!(format!("{:?}", theirs.0[2]).len() > 10);
    assert_eq!(theirs.1, Reply::bulk("done"));
}

#[test]
fn function_stats_shows_a_busy_function_and_function_kill_stops_it_as_in_redis() {
    let Some(real) = Real::start() else { return };
    let library = format!(
        "#!lua name=spin\nredis.register_function('spin', function(keys, args)\n{}\nend)\n",
        spinner(false, 2000).replace("KEYS[1]", "keys[1]")
    );
    let load: &[&str] = &["FUNCTION", "LOAD", &library];
    let commands: &[&[&str]] = &[
        &["FUNCTION", "STATS"],
        &["SCRIPT", "KILL"],
        &["FUNCTION", "KILL"],
    ];
    let busy = ["FCALL", "spin", "1", "k"];
    let (mut theirs, their_end) = while_busy(
        &Target::parse(&real.url()).unwrap(),
        &[load],
        &busy,
        commands,
    );
    let (mut child, target) = serve();
    let (mut ours, our_end) = while_busy(&target, &[load], &busy, commands);
    let _ = child.kill();
    // duration_ms differs from run to run: compare it apart.
    for stats in [&mut theirs[0], &mut ours[0]] {
        let Reply::Array(top) = stats else {
            panic!("{stats:?}")
        };
        let Reply::Array(running) = &mut top[1] else {
            panic!()
        };
        assert!(
            matches!(running[5], Reply::Int(ms) if ms >= 100),
            "{running:?}"
        );
        running[5] = Reply::Int(0);
    }
    assert_eq!(ours, theirs);
    // The same error; the line is wherever the kill landed in the loop.
    let at = |r: &Reply| {
        r.error_text()
            .unwrap()
            .rsplit_once(':')
            .unwrap()
            .0
            .to_string()
    };
    assert_eq!(at(&our_end), at(&their_end));
    assert!(
        at(&our_end).starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{our_end:?}"
    );
}

/// Waits for the process to end; its exit status.
fn exit_status(child: &mut Child) -> Option<i32> {
    child.wait().unwrap().code()
}

#[test]
fn shutdown_nosave_ends_a_server_busy_with_a_script_that_wrote() {
    let (mut child, target) = serve();
    let body = spinner(true, 60_000);
    let mut admin = Conn::open(&target).unwrap();
    admin
        .cmd(&[b"CONFIG", b"SET", b"busy-reply-threshold", b"100"])
        .unwrap();
    let mut script = Conn::open(&target).unwrap();
    script.send(&words(&["EVAL", &body, "1", "k"])).unwrap();
    loop {
        if admin.cmd(&[b"PING"]).unwrap().is_error() {
            break;
        }
    }
    assert_eq!(
        admin
            .cmd(&[b"SCRIPT", b"KILL"])
            .unwrap()
            .error_text()
            .unwrap()[..11],
        *"UNKILLABLE "
    );
    admin.send(&words(&["SHUTDOWN", "NOSAVE"])).unwrap();
    assert!(
        admin.read_or_eof().unwrap().is_none(),
        "no reply: the server is gone"
    );
    assert_eq!(exit_status(&mut child), Some(0));
}

#[test]
fn sigterm_ends_a_server_busy_with_a_script() {
    let (mut child, target) = serve();
    let body = spinner(true, 60_000);
    let mut admin = Conn::open(&target).unwrap();
    admin
        .cmd(&[b"CONFIG", b"SET", b"busy-reply-threshold", b"100"])
        .unwrap();
    let mut script = Conn::open(&target).unwrap();
    script.send(&words(&["EVAL", &body, "1", "k"])).unwrap();
    loop {
        if admin.cmd(&[b"PING"]).unwrap().is_error() {
            break;
        }
    }
    // SAFETY: sends a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(exit_status(&mut child), Some(0));
}

#[test]
fn shutdown_ends_an_idle_server_and_its_arguments_are_checked() {
    let (mut child, target) = serve();
    let mut c = Conn::open(&target).unwrap();
    assert_eq!(
        c.cmd(&[b"SHUTDOWN", b"NOSAVE", b"SAVE"]).unwrap(),
        Reply::error("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&[b"SHUTDOWN", b"ABORT"]).unwrap(),
        Reply::error("ERR No shutdown in progress.")
    );
    c.send(&words(&["SHUTDOWN"])).unwrap();
    assert!(c.read_or_eof().unwrap().is_none());
    assert_eq!(exit_status(&mut child), Some(0));
}

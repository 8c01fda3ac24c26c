//! Other clients beside a run (the debugger's lane): what they get, and
//! when, on the engine and on a real redis-server 7.0.15 driven with real
//! sockets through the same interleavings.

mod real;

use real::Real;
use redstep::engine::{Engine, Reply};
use redstep::remote::{Conn, Target};
use redstep::script::Scripting;
use redstep::trace::{self, Event, LaneCommand, Limits, StepKind, Timeline};

const INC: &str = "redis.call('INCR', 'a')\nlocal result = result + 1\nredis.call('INCR', 'b')\n";

fn bytes(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

/// Runs `body` on a fresh engine after `setup`, with these other clients.
fn run_with_lane(
    setup: &[&[&str]],
    body: &str,
    keys: &[&str],
    lane: &[&str],
) -> (Timeline, Engine) {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, Default::default());
    let mut client = engine.new_client();
    for cmd in setup {
        engine.call(&mut client, &bytes(cmd), &mut scripting);
    }
    let lane: Vec<LaneCommand> = lane
        .iter()
        .map(|l| LaneCommand::parse(l).unwrap())
        .collect();
    let mut argv = bytes(&["EVAL", body, &keys.len().to_string()]);
    argv.extend(bytes(keys));
    let timeline = trace::record_with_lane(
        &mut engine,
        &mut scripting,
        &mut client,
        &argv,
        Limits::default(),
        &lane,
    );
    drop(scripting);
    (timeline, engine)
}

/// The other clients' steps: (client, reply, sent at).
fn others(t: &Timeline) -> Vec<(u32, Option<Reply>, Option<usize>)> {
    t.steps
        .iter()
        .filter_map(|s| match t.event(s) {
            Event::Other(o) => Some((o.client, o.reply.clone(), o.sent_at)),
            _ => None,
        })
        .collect()
}

fn conn(real: &Real) -> Conn {
    Conn::open(&Target::parse(&real.url()).unwrap()).unwrap()
}

#[test]
fn a_client_sending_during_the_posts_script_waits_and_sees_all_its_writes_as_on_redis() {
    let (t, _) = run_with_lane(
        &[&["SET", "a", "42"], &["SET", "b", "42"]],
        INC,
        &[],
        &[
            "step 2: GET a",
            "client 3 step 2: INCR b",
            "after: MGET a b",
        ],
    );
    let got = others(&t);
    assert_eq!(
        got,
        vec![
            (2, None, None),
            (3, None, None),
            (2, Some(Reply::bulk("43")), Some(1)),
            (3, Some(Reply::Int(43)), Some(1)),
            (
                2,
                Some(Reply::Array(vec![Reply::bulk("43"), Reply::bulk("43")])),
                None
            ),
        ]
    );
    // The markers stand right after step 2 (INCR a), the answers after the error.
    assert!(matches!(t.steps[1].kind, StepKind::Call(_)));
    assert!(matches!(t.steps[2].kind, StepKind::Other(_)));
    assert!(matches!(t.steps[4].kind, StepKind::Line { .. }));
    assert!(matches!(t.steps[5].kind, StepKind::Error(_)));
    let text = trace::export::text(&t, &Engine::default().keyspace);
    assert!(
        text.contains(
            "Client 2 sent GET a at step 2 and waited: it got \"43\" only after the script ended."
        ),
        "{text}"
    );
    assert!(text.contains("A script is isolated"), "{text}");

    // Redis 7.0.15, the same interleaving: the script is held at step 2
    // by the Lua debugger in sync mode while clients 2 and 3 send.
    let Some(mut real) = Real::start() else {
        return;
    };
    real.cmd(&["MSET", "a", "42", "b", "42"]);
    let mut script = conn(&real);
    assert_eq!(
        script.cmd(&[b"SCRIPT", b"DEBUG", b"SYNC"]).unwrap(),
        Reply::ok()
    );
    script.send(&bytes(&["EVAL", INC, "0"])).unwrap();
    script.read().unwrap(); // stopped at line 1
    script.send(&bytes(&["step"])).unwrap();
    let log = redstep::remote::human::render(&script.read().unwrap());
    assert!(
        log.contains("INCR a") && log.contains("Stopped at 2"),
        "{log}"
    );
    let (mut two, mut three) = (conn(&real), conn(&real));
    two.send(&bytes(&["GET", "a"])).unwrap();
    three.send(&bytes(&["INCR", "b"])).unwrap();
    script.send(&bytes(&["step"])).unwrap();
    script.read().unwrap(); // <endsession>
    assert!(script.read().unwrap().is_error());
    assert_eq!(Some(two.read().unwrap()), got[2].1);
    assert_eq!(Some(three.read().unwrap()), got[3].1);
    assert_eq!(Some(two.cmd(&[b"MGET", b"a", b"b"]).unwrap()), got[4].1);
}

/// Writes, then spins for `ms` milliseconds of the server's TIME; line 9
/// is reached only after the spin.
fn spinner(write: bool, ms: u32) -> String {
    format!(
        "{}\nlocal t = redis.call('TIME')\nlocal start = t[1] * 1000000 + t[2]\nlocal now = start\nwhile now - start < {} do\n  t = redis.call('TIME')\n  now = t[1] * 1000000 + t[2]\nend\nreturn 'done'\n",
        if write { "redis.call('SET', KEYS[1], 'started')" } else { "local k = KEYS[1]" },
        ms * 1000
    )
}

/// On a real server: runs `body`, waits (by polling, never sleeping)
/// until another client gets BUSY, then sends `commands` from it.
fn busy_on_redis(real: &Real, body: &str, commands: &[&[&str]]) -> (Vec<Reply>, Reply) {
    let mut admin = conn(real);
    admin
        .cmd(&[b"CONFIG", b"SET", b"busy-reply-threshold", b"100"])
        .unwrap();
    let mut script = conn(real);
    script.send(&bytes(&["EVAL", body, "1", "k"])).unwrap();
    let mut other = conn(real);
    loop {
        if let Reply::Error(e) = other.cmd(&[b"PING"]).unwrap() {
            assert!(e.starts_with(b"BUSY"), "{}", String::from_utf8_lossy(&e));
            break;
        }
    }
    let replies = commands
        .iter()
        .map(|c| other.call(&bytes(c)).unwrap())
        .collect();
    (replies, script.read().unwrap())
}

#[test]
fn past_the_busy_threshold_a_client_gets_busy_and_script_kill_unkillable_as_on_redis() {
    let body = spinner(true, 1000);
    let (t, _) = run_with_lane(
        &[&["CONFIG", "SET", "busy-reply-threshold", "100"]],
        &body,
        &["k"],
        &["line 9: GET k", "line 9: SCRIPT KILL", "line 9: MULTI"],
    );
    let got = others(&t);
    assert_eq!(got.len(), 4, "{got:?}");
    let busy = got[0].1.clone().unwrap();
    let unkillable = got[1].1.clone().unwrap();
    assert!(
        busy.error_text()
            .unwrap()
            .starts_with("BUSY Redis is busy running a script"),
        "{busy:?}"
    );
    assert!(
        unkillable.error_text().unwrap().starts_with("UNKILLABLE"),
        "{unkillable:?}"
    );
    // MULTI waits (Redis serves it after the script), then answers OK.
    assert_eq!(got[2], (2, None, None));
    assert_eq!(got[3].1, Some(Reply::ok()));
    assert_eq!(t.outcome.reply, Reply::bulk("done"));

    let Some(real) = Real::start() else { return };
    let (replies, end) = busy_on_redis(&real, &body, &[&["GET", "k"], &["SCRIPT", "KILL"]]);
    assert_eq!(replies, vec![busy, unkillable]);
    assert_eq!(end, Reply::bulk("done"));
}

#[test]
fn script_kill_before_any_write_kills_the_script_as_on_redis() {
    let body = spinner(false, 1000);
    let (t, _) = run_with_lane(
        &[&["CONFIG", "SET", "busy-reply-threshold", "100"]],
        &body,
        &["k"],
        &["line 9: SCRIPT KILL"],
    );
    let got = others(&t);
    assert_eq!(got[0].1, Some(Reply::ok()));
    let ours = t.outcome.reply.error_text().unwrap();

    let Some(real) = Real::start() else { return };
    let (replies, end) = busy_on_redis(&real, &body, &[&["SCRIPT", "KILL"]]);
    assert_eq!(replies, vec![Reply::ok()]);
    let theirs = end.error_text().unwrap();
    // The same error; the line differs only by where the kill landed.
    let head = |e: &str| e.split(" script: ").next().unwrap().to_string();
    assert_eq!(head(&ours), head(&theirs));
    assert!(
        ours.starts_with("ERR Script killed by user with SCRIPT KILL..."),
        "{ours}"
    );
}

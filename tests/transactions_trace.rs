//! MULTI/EXEC stepped in the debugger: a buffer of redis-cli commands
//! recorded command by command, each queued command its own step inside
//! EXEC, compared with redis-server 7.0.15 running the same commands (and
//! the same other client) over real sockets.

mod real;

use real::Real;
use redstep::engine::{Engine, Reply};
use redstep::remote::{Conn, Target};
use redstep::script::Scripting;
use redstep::trace::{self, Event, LaneCommand, Limits, Timeline};

fn record(text: &str, lane: &[&str]) -> (Timeline, Engine) {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, Default::default());
    let mut client = engine.new_client();
    let lane: Vec<LaneCommand> = lane
        .iter()
        .map(|l| LaneCommand::parse(l).unwrap())
        .collect();
    let t = trace::record_commands(
        &mut engine,
        &mut scripting,
        &mut client,
        text,
        Limits::default(),
        &lane,
    );
    drop(scripting);
    (t, engine)
}

/// (line, command, reply) of every command step, other clients' too.
fn calls(t: &Timeline) -> Vec<(u32, String, Reply)> {
    t.steps
        .iter()
        .filter_map(|s| match t.event(s) {
            Event::Call(c) => Some((
                s.line,
                trace::export::command_text(c.argv),
                c.reply.into_owned(),
            )),
            Event::Other(o) => Some((0, trace::export::command_text(&o.argv), o.reply.clone()?)),
            _ => None,
        })
        .collect()
}

/// The same commands on a real server: client 1 runs the lines, client 2
/// sends `other` after line `after_line`. Returns every reply in order.
fn on_redis(real: &Real, text: &str, other: Option<(u32, &str)>) -> Vec<Reply> {
    let target = Target::parse(&real.url()).unwrap();
    let (mut one, mut two) = (Conn::open(&target).unwrap(), Conn::open(&target).unwrap());
    one.cmd(&[b"FLUSHALL"]).unwrap();
    let mut replies = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let argv = redstep::protocol::cli::split_args(line.as_bytes()).unwrap();
        replies.push(one.call(&argv).unwrap());
        if let Some((after, cmd)) = other {
            if after == i as u32 + 1 {
                let argv = redstep::protocol::cli::split_args(cmd.as_bytes()).unwrap();
                replies.push(two.call(&argv).unwrap());
            }
        }
    }
    replies
}

const RUNTIME_ERROR: &str = "MULTI\nSET a 1\nLPUSH a x\nSET b 2\nEXEC";

#[test]
fn a_run_time_error_in_exec_leaves_commands_one_and_three_applied() {
    let (t, engine) = record(RUNTIME_ERROR, &[]);
    let got = calls(&t);
    let exec = got.last().unwrap().2.clone();
    let Reply::Array(items) = &exec else {
        panic!("{exec:?}")
    };
    assert!(items[1].is_error() && items[0] == Reply::ok() && items[2] == Reply::ok());
    // Inside EXEC, each queued command is a step at the line that queued it.
    let inside: Vec<(u32, String)> = got[4..7].iter().map(|(l, c, _)| (*l, c.clone())).collect();
    assert_eq!(
        inside,
        vec![
            (2, "SET a 1".into()),
            (3, "LPUSH a x".into()),
            (4, "SET b 2".into())
        ]
    );
    assert_eq!(
        got[4..7].iter().map(|c| c.2.clone()).collect::<Vec<_>>(),
        *items
    );
    assert_eq!(t.outcome.writes_applied, 2);
    let keys = &engine.keyspace;
    let text = trace::export::text(&t, keys);
    assert!(
        text.contains("command 2 (LPUSH a x) failed: (error) WRONGTYPE"),
        "{text}"
    );
    assert!(
        text.contains("MULTI/EXEC does not roll back either"),
        "{text}"
    );
    let Some(real) = Real::start() else { return };
    let theirs = on_redis(&real, RUNTIME_ERROR, None);
    let ours: Vec<Reply> = [&got[..4], &got[7..]]
        .concat()
        .into_iter()
        .map(|c| c.2)
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn a_queueing_error_makes_exec_refuse_everything() {
    let text = "MULTI\nSET a 1\nLPUSH a\nSET b 2\nEXEC";
    let (t, _) = record(text, &[]);
    let got = calls(&t);
    assert_eq!(got.len(), 5, "nothing runs inside EXEC: {got:?}");
    assert_eq!(t.outcome.writes_applied, 0);
    let summary = trace::export::summary(&t, &[]);
    assert!(
        summary.iter().any(|l| l.contains("EXECABORT")),
        "{summary:?}"
    );
    let Some(real) = Real::start() else { return };
    assert_eq!(
        got.into_iter().map(|c| c.2).collect::<Vec<_>>(),
        on_redis(&real, text, None)
    );
}

#[test]
fn a_watched_key_touched_by_client_2_makes_exec_answer_nil() {
    let text = "WATCH a\nMULTI\nINCR a\nEXEC";
    // Step 2 is WATCH's reply: client 2 writes a between WATCH and MULTI.
    let (t, _) = record(text, &["step 2: SET a 9"]);
    let got = calls(&t);
    assert_eq!(got[1], (0, "SET a 9".into(), Reply::ok()));
    assert_eq!(got.last().unwrap().2, Reply::NilArray);
    let summary = trace::export::summary(&t, &[]);
    assert!(
        summary.iter().any(|l| l.contains("a WATCHed key changed")),
        "{summary:?}"
    );
    let Some(real) = Real::start() else { return };
    let theirs = on_redis(&real, text, Some((1, "SET a 9")));
    assert_eq!(got.into_iter().map(|c| c.2).collect::<Vec<_>>(), theirs);
}

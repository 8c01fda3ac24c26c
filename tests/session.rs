//! The debugger's view model (`trace::Session`): a big run's marks, summary
//! and first changes; each outcome told truly (a compile error is not a
//! half-done run); what a key does once the run is over; a breakpoint on
//! line 1. Model first, then the same through the TUI (driver + TestBackend).

mod env;
use env::Env;
use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

use redstep::engine::Reply;
use redstep::trace::{export, Answer, KeyMark, Move, Session, Start, StepKind, Why};
use redstep::tui::driver::Driver;
use redstep::tui::opening::{BufferSpec, Opening};
use redstep::tui::ui;

fn no_breakpoints() -> BTreeSet<u32> {
    BTreeSet::new()
}

const BIG: &str = "for i = 1, 100000 do redis.call('SET', 'k'..i, i) end";

/// The step of the `redis.call` that wrote `k<i>` (1-based).
fn call_of(session: &Session, i: usize) -> usize {
    session
        .debugger()
        .timeline()
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Call(_)))
        .nth(i - 1)
        .map(|(n, _)| n)
        .unwrap()
}

#[test]
fn a_hundred_thousand_keys_get_their_marks_summary_and_first_changes() {
    let mut env = Env::new();
    env.run("SET k7 old");
    let mut session = env.session(BIG, Start::new(Move::StepOver, no_breakpoints()));
    assert_eq!(session.debugger().cursor(), 0, "a step stays on line 1");
    assert_eq!(session.key_count(), 100_000);
    assert_eq!(
        session.rows().len(),
        100_001,
        "100,000 calls and the return"
    );
    assert_eq!(
        session.summary(),
        ["The script returned after 100000 writes."]
    );
    let net = session.debugger().net_changes();
    assert_eq!(net.len(), 100_000);
    let text = |e: Option<&redstep::engine::keyspace::Entry>| export::entry_text(e);
    assert_eq!(
        (
            net[6].key.as_slice(),
            text(net[6].before.as_ref()),
            text(net[6].after.as_ref())
        ),
        (b"k7".as_slice(), "\"old\"".to_string(), "\"7\"".to_string())
    );
    assert_eq!(text(net[99_999].before.as_ref()), "(absent)");
    assert_eq!(text(net[99_999].after.as_ref()), "\"100000\"");

    // First changes: the call that wrote each key.
    for i in [1, 7, 50_000, 100_000] {
        let key = format!("k{i}");
        assert_eq!(
            session.first_change(0, key.as_bytes()),
            Some(call_of(&session, i)),
            "{key}"
        );
    }
    assert_eq!(session.first_change(0, b"nope"), None);

    // Before anything ran, every key is still to be written; k7 still holds "old".
    let first: Vec<_> = session.keys(0, 3).collect();
    assert_eq!(
        first.iter().map(|k| k.key).collect::<Vec<_>>(),
        [b"k1".as_slice(), b"k2", b"k3"]
    );
    assert!(first.iter().all(|k| k.mark == KeyMark::Later && !k.gone));
    assert_eq!(text(session.key(6).unwrap().entry), "\"old\"");
    assert_eq!(session.key(0).unwrap().entry, None);

    // On the call that writes k50000: it is changed now, k49999 before, k50001 later.
    session.goto(call_of(&session, 50_000));
    let now = session.key(49_999).unwrap();
    assert_eq!(now.key, b"k50000");
    assert_eq!(now.mark, KeyMark::Now);
    assert_eq!(now.before, Some(None), "it was absent before this step");
    assert_eq!(text(now.entry), "\"50000\"");
    assert_eq!(session.key(49_998).unwrap().mark, KeyMark::Before);
    assert_eq!(session.key(50_000).unwrap().mark, KeyMark::Later);
    assert_eq!(session.key(50_000).unwrap().entry, None);
    assert_eq!(session.changes().len(), 1);
    assert_eq!(session.changes()[0].key, b"k50000");
    // changes_at is a query: it leaves the cursor where it is.
    let cursor = session.debugger().cursor();
    let at = call_of(&session, 7);
    let other = session.changes_at(at);
    assert_eq!(
        (
            text(other[0].before.as_ref()),
            text(other[0].after.as_ref())
        ),
        ("\"old\"".to_string(), "\"7\"".to_string())
    );
    assert_eq!(session.debugger().cursor(), cursor);

    // F5 runs to the end: everything was written before; nothing stayed (no failure).
    assert_eq!(
        session.command(Move::Continue, &no_breakpoints()),
        Answer::Moved
    );
    assert!(session.at_end());
    let last = session.key(99_999).unwrap();
    assert_eq!((last.mark, last.stayed), (KeyMark::Before, false));
    assert_eq!(session.current_row(), Some(100_000));
}

#[test]
fn a_big_run_that_fails_names_a_few_keys_and_counts_the_rest() {
    let mut env = Env::new();
    let session = env.session(
        "for i = 1, 1000 do redis.call('SET', 'k'..i, i) end\nredis.call('INCR', 'k1000', 'x')",
        Start::new(Move::End, no_breakpoints()),
    );
    let summary = session.summary();
    assert_eq!(
        summary[0],
        "The script failed at line 2 after 1000 writes. Redis does not roll back: what it wrote stays written."
    );
    assert_eq!(
        summary[1],
        "  k1 went from (absent) to \"1\" and stayed that way."
    );
    assert_eq!(summary[21], "  … and 980 more keys stayed changed too.");
    assert_eq!(summary.len(), 22);
    // One script's writes reach replicas as one MULTI/EXEC of 1000 SETs:
    // the replica view lists the first ones and counts the rest (the
    // summary leaves its sentence on replicas to the view).
    let (heading, sent) = session.replica().unwrap();
    assert_eq!(heading, "Replicas and the AOF received:");
    assert_eq!(sent[..3], ["MULTI", "SET k1 1", "SET k2 2"]);
    assert_eq!(sent.len(), 9);
    assert_eq!(sent[8], "… and 994 more");
    let k = session.key(0).unwrap();
    assert!(k.stayed && k.mark == KeyMark::Before);
}

/// Checked live against redis-server 7.0.15.
const UNEXPECTED: &str =
    "ERR Error compiling script (new function): user_script:2: unexpected symbol near '='";
const EOF_3: &str = "ERR Error compiling script (new function): user_script:3: 'end' expected (to close 'if' at line 1) near '<eof>'";

#[test]
fn a_compile_error_says_nothing_ran_and_where() {
    let mut env = Env::new();
    env.run("SET a 42");
    let session = env.session(
        "local a = 1\nlocal b = = 2\nredis.call('SET', 'a', 43)",
        Start::new(Move::Continue, no_breakpoints()),
    );
    let outcome = &session.debugger().timeline().outcome;
    assert_eq!(outcome.reply, Reply::Error(UNEXPECTED.into()));
    assert!(outcome.compile_error);
    assert_eq!(outcome.writes_applied, 0);
    assert_eq!(session.compile_error_line(), Some(2));
    assert_eq!(
        session.summary(),
        [
            "The script did not compile: line 2: unexpected symbol near '='.",
            "Redis ran none of it: no command ran and no key changed. Fix the line and run again."
        ]
    );
    assert_eq!(
        session.debugger().step().line,
        2,
        "the cursor is on the line"
    );
    assert!(session.debugger().view().lines_never_reached.is_empty());
    assert_eq!(env.run("GET a"), Reply::bulk("42"));

    // At the end of the input, Lua counts past the last line: the last line is shown.
    let timeline = env.eval("if true then\n  return 1\n");
    assert_eq!(timeline.outcome.reply, Reply::Error(EOF_3.into()));
    assert_eq!(timeline.outcome.error_line, Some(2));
    let text = export::text(&timeline, &env.engine.keyspace);
    assert!(
        text.contains("The script did not compile: line 2 (the script ended before the statement did): 'end' expected (to close 'if' at line 1) near '<eof>'."),
        "{text}"
    );
    assert!(
        !text.contains("roll back") && !text.contains("0 writes"),
        "{text}"
    );

    // A runtime error is still told as a half-done run.
    let failed = env.eval("redis.call('SET', 'a', 1)\nredis.call('INCR', 'a', 'x')");
    assert!(!failed.outcome.compile_error);
}

#[test]
fn after_the_run_a_step_says_it_is_over_and_only_continue_runs_again() {
    let mut env = Env::new();
    let mut session = env.session(
        "redis.call('INCR', 'a')\nreturn 1",
        Start::new(Move::StepOver, no_breakpoints()),
    );
    let bps = no_breakpoints();
    while session.command(Move::StepOver, &bps) == Answer::Moved {}
    assert!(session.at_end());
    for movement in [Move::StepOver, Move::StepInto, Move::NextCall, Move::End] {
        assert_eq!(
            session.command(movement, &bps),
            Answer::Stayed(Why::RunOver),
            "{movement:?}"
        );
    }
    assert_eq!(
        session.command(Move::Continue, &bps),
        Answer::Run(Move::Continue)
    );
    // Backwards still moves; then forward moves work again.
    assert_eq!(session.command(Move::BackInto, &bps), Answer::Moved);
    assert_eq!(session.command(Move::StepOver, &bps), Answer::Moved);
    assert_eq!(session.command(Move::Start, &bps), Answer::Moved);
    assert_eq!(
        session.command(Move::Start, &bps),
        Answer::Stayed(Why::AlreadyThere)
    );
    // The run returned: there is no failure to go to, wherever the cursor is.
    assert_eq!(
        session.command(Move::Failure, &bps),
        Answer::Stayed(Why::NoFailure)
    );
    // With no run: forward moves start one, backward ones cannot.
    assert_eq!(
        Session::without_run(Move::StepOver),
        Answer::Run(Move::StepOver)
    );
    assert_eq!(
        Session::without_run(Move::BackInto),
        Answer::Stayed(Why::NoRun)
    );
}

#[test]
fn a_breakpoint_on_line_1_stops_a_run_started_by_continue() {
    let mut env = Env::new();
    let body = "redis.call('INCR', 'a')\nredis.call('INCR', 'b')\nreturn 1";
    let on_1 = BTreeSet::from([1]);
    let session = env.session(body, Start::new(Move::Continue, on_1.clone()));
    assert_eq!(session.debugger().cursor(), 0);
    assert_eq!(session.debugger().step().line, 1);
    let mut session = env.session(body, Start::new(Move::Continue, no_breakpoints()));
    assert!(session.at_end(), "without it, Continue runs to the end");
    // In a loop, Continue stops at line 1 each time round.
    let mut looped = env.session(
        "for i = 1, 3 do\n  redis.call('INCR', 'n')\nend",
        Start::new(Move::Continue, on_1.clone()),
    );
    let mut stops = vec![looped.debugger().cursor()];
    while looped.command(Move::Continue, &on_1) == Answer::Moved && !looped.at_end() {
        stops.push(looped.debugger().cursor());
    }
    assert!(stops.len() >= 3, "{stops:?}");
    assert!(stops
        .iter()
        .all(|&s| looped.debugger().timeline().steps[s].line == 1));
    // Back to the start, Continue goes on to the next stop.
    assert_eq!(session.command(Move::Start, &on_1), Answer::Moved);
    assert_eq!(session.command(Move::Continue, &on_1), Answer::Moved);
    assert!(
        session.at_end(),
        "line 1 runs once: the next stop is the end"
    );
}

// ---- the same through the TUI ----

fn opening(text: &str, setup: &[&str]) -> Opening {
    Opening {
        id: "t".into(),
        buffers: vec![BufferSpec {
            name: "s.lua".into(),
            path: None,
            text: text.into(),
            args: String::new(),
        }],
        active: 0,
        setup: setup
            .iter()
            .map(|l| redstep::protocol::cli::split_args(l.as_bytes()).unwrap())
            .collect(),
        intro: String::new(),
    }
}

fn screen(driver: &mut Driver) -> String {
    let (w, h) = (driver.app.size.width, driver.app.size.height);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|frame| ui::draw(frame, &driver.app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn get(driver: &Driver, key: &str) -> Reply {
    driver
        .conn
        .call(vec![b"GET".to_vec(), key.as_bytes().to_vec()])
}

#[test]
fn the_tui_tells_a_compile_error_and_marks_its_line() {
    let mut d = Driver::new(
        opening("local a = 1\nlocal b = = 2\nreturn a", &[]),
        120,
        40,
    );
    d.key(KeyCode::F(5));
    let s = screen(&mut d);
    assert!(s.contains("The script did not compile: line 2"), "{s}");
    assert!(s.contains("Redis ran none of it"), "{s}");
    assert!(!s.contains("roll back"), "{s}");
    assert!(s.contains("the script did not compile (line 2)"), "{s}");
    let line_2 = s.lines().find(|l| l.contains("   2 local b")).unwrap();
    assert!(line_2.contains('✗'), "the gutter marks line 2: {line_2}");
}

#[test]
fn the_tui_says_the_run_is_over_and_writes_again_only_on_f5() {
    let mut d = Driver::new(
        opening("redis.call('INCR', 'a')\nreturn 1", &["SET a 42"]),
        120,
        40,
    );
    for _ in 0..4 {
        d.key(KeyCode::F(10));
    }
    assert!(d.app.session.as_ref().unwrap().at_end());
    assert_eq!(get(&d, "a"), Reply::bulk("43"));
    d.key(KeyCode::F(10));
    let (message, _) = d.app.message.clone().unwrap();
    assert!(message.contains("run over: F5 runs it again"), "{message}");
    assert!(message.contains("(writing again)"), "{message}");
    assert!(message.contains("F6"), "{message}");
    assert_eq!(get(&d, "a"), Reply::bulk("43"), "no second run");
    d.key(KeyCode::F(8));
    assert_eq!(get(&d, "a"), Reply::bulk("43"));
    d.key(KeyCode::F(5));
    assert_eq!(
        get(&d, "a"),
        Reply::bulk("44"),
        "F5 on a finished run runs again"
    );
}

#[test]
fn the_tui_stops_f5_at_a_breakpoint_on_line_1() {
    let mut d = Driver::new(
        opening("redis.call('INCR', 'a')\nreturn 1", &["SET a 42"]),
        120,
        40,
    );
    d.key(KeyCode::F(9));
    assert!(d.app.buffer().breakpoints.contains(&1));
    d.key(KeyCode::F(5));
    let session = d.app.session.as_ref().unwrap();
    assert_eq!(session.debugger().cursor(), 0);
    assert_eq!(session.debugger().step().line, 1);
    let s = screen(&mut d);
    assert!(s.contains("line 1 (about to run)"), "{s}");
    // F5 again goes on to the end of this run (no new run).
    d.key(KeyCode::F(5));
    assert!(d.app.session.as_ref().unwrap().at_end());
    assert_eq!(get(&d, "a"), Reply::bulk("43"));
    // Ctrl+Q still quits.
    d.key_with(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert!(d.app.quit);
}

#[test]
fn a_session_undoes_its_run_where_it_was_recorded_unless_its_keys_moved_on() {
    let mut env = Env::new();
    env.run("SET a 42");
    let mut session = env.session(
        "redis.call('INCR', 'a')\nredis.call('SET', 'b', 'x')\nredis.call('DEL', 'a')",
        Start::new(Move::NextCall, no_breakpoints()),
    );
    let cursor = session.debugger().cursor();
    session.undo_in(&mut env.engine.keyspace).unwrap();
    assert_eq!(env.run("GET a"), Reply::bulk("42"));
    assert_eq!(env.run("EXISTS b"), Reply::Int(0));
    assert_eq!(session.debugger().cursor(), cursor, "the cursor stays");

    let mut session = env.session(
        "redis.call('INCR', 'a')",
        Start::new(Move::End, no_breakpoints()),
    );
    env.run("SET a 7");
    assert!(session.undo_in(&mut env.engine.keyspace).is_err());
    assert_eq!(env.run("GET a"), Reply::bulk("7"), "newer data is kept");
}

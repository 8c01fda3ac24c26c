//! The trace recorder and the debugger model: what a run records, and that
//! moving the cursor rebuilds the keyspace of any step exactly.

mod env;
use env::Env;
use redstep::engine::keyspace::Entry;
use redstep::engine::Reply;
use redstep::trace::{self, Debugger, Event, Limits, Move, Status, StepKind, Timeline};

/// The keyspace the debugger shows at its cursor, for the keys of `keys`.
fn shown(
    debugger: &Debugger,
    env: &Env,
    keys: &[(usize, Vec<u8>)],
) -> Vec<(usize, Vec<u8>, Entry)> {
    let mut out: Vec<(usize, Vec<u8>, Entry)> = keys
        .iter()
        .filter_map(|(db, k)| {
            debugger
                .entry(&env.engine.keyspace, *db, k)
                .map(|e| (*db, k.clone(), e.clone()))
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

fn all_keys(
    snapshots: &[&[(usize, Vec<u8>, Entry)]],
    timeline: &Timeline,
) -> Vec<(usize, Vec<u8>)> {
    let mut keys: Vec<(usize, Vec<u8>)> = snapshots
        .iter()
        .flat_map(|s| s.iter().map(|(db, k, _)| (*db, k.clone())))
        .collect();
    keys.extend(timeline.outcome.keys_changed.iter().cloned());
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn the_post_scenario_records_one_write_and_the_death_at_line_2() {
    let mut env = Env::new();
    env.run("SET a 42");
    env.run("SET b 42");
    let timeline = env.eval(include_str!("../assets/post/inc.lua"));
    let kinds = env::step_kinds(&timeline);
    assert_eq!(
        kinds,
        vec![(1, "line"), (1, "call"), (2, "line"), (2, "error")]
    );
    assert_eq!(timeline.outcome.status, Status::Error);
    assert_eq!(timeline.outcome.error_line, Some(2));
    assert_eq!(timeline.outcome.writes_applied, 1);
    assert_eq!(timeline.outcome.keys_changed, vec![(0, b"a".to_vec())]);
    assert_eq!(timeline.name, "d0e480e1285ebff8a062967eb0fa7d2ada562d97");
    assert_eq!(
        timeline
            .lines_never_reached()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![3]
    );
    let mut debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    let changes = debugger.changes_at(1);
    assert_eq!(changes.len(), 1);
    let value = |e: &Option<Entry>| match e.as_ref().map(|e| &e.value) {
        Some(redstep::engine::Value::String(s)) => String::from_utf8(s.clone()).unwrap(),
        _ => panic!("a string"),
    };
    assert_eq!(
        (value(&changes[0].before), value(&changes[0].after)),
        ("42".into(), "43".into())
    );
    let text = trace::export::text(&timeline, &env.engine.keyspace);
    assert!(
        text.contains("a went from \"42\" to \"43\" and stayed that way."),
        "{text}"
    );
    assert!(
        text.contains("Line 3 never ran: redis.call('INCR', 'b')"),
        "{text}"
    );
    let json = trace::export::json(&timeline, &env.engine.keyspace);
    // The text written out keeps the document's keys in sorted order, as
    // the value's maps do (a field declared out of order would show here).
    assert_eq!(
        trace::export::json_text(&timeline, &env.engine.keyspace, true),
        serde_json::to_string_pretty(&json).unwrap()
    );
    assert_eq!(json["outcome"]["rolled_back"], false);
    assert_eq!(json["outcome"]["writes_applied"], 1);
    assert_eq!(json["outcome"]["status"], "error");
    assert_eq!(
        json["steps"][1]["reply"],
        serde_json::json!({"t": "int", "v": 43})
    );
}

const EVERY_TYPE: &str = r#"
redis.call('SET', 's', 'new')
redis.call('APPEND', 's', '!')
redis.call('INCR', 'n')
redis.call('RPUSH', 'l', 'x', 'y')
redis.call('LPOP', 'l')
redis.call('LSET', 'l', 0, 'z')
redis.call('LREM', 'l', 0, 'b')
redis.call('HSET', 'h', 'f', 'v2', 'g', 'w')
redis.call('HDEL', 'h', 'a')
redis.call('SADD', 'st', 'm', 'n')
redis.call('SREM', 'st', 'a')
redis.call('ZADD', 'z', 5, 'a', 7, 'q')
redis.call('ZREM', 'z', 'b')
redis.call('DEL', 'gone')
redis.call('RENAME', 'old', 'renamed')
redis.call('EXPIRE', 's', 100)
redis.call('PERSIST', 'ttl')
redis.call('SET', 'n', 'twice')
redis.call('HSET', 'h', string.rep('f', 70), 'big')
redis.call('SELECT', 1)
redis.call('SET', 'other', 'db1')
redis.call('SWAPDB', 0, 1)
return 'done'
"#;

fn setup_every_type(env: &mut Env) {
    for line in [
        "SET s old",
        "SET n 1",
        "RPUSH l a b c",
        "HSET h a 1 f 2",
        "SADD st a b 1",
        "ZADD z 1 a 2 b",
        "SET gone x",
        "SET old moved",
        "SET ttl v EX 1000",
    ] {
        env.run(line);
    }
}

#[test]
fn stepping_back_from_the_end_rebuilds_the_keyspace_before_the_script() {
    let mut env = Env::new();
    setup_every_type(&mut env);
    let before = env.snapshot();
    let timeline = env.eval(EVERY_TYPE);
    assert_eq!(timeline.outcome.reply, Reply::bulk("done"));
    let after = env.snapshot();
    let keys = all_keys(&[&before, &after], &timeline);
    let mut debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    let breakpoints = std::collections::BTreeSet::new();
    debugger.apply(Move::End, &breakpoints);
    assert_eq!(
        shown(&debugger, &env, &keys),
        after,
        "at the end the view is the live keyspace"
    );
    // Walk back one step at a time, then forward again, then jump.
    while debugger.apply(Move::BackInto, &breakpoints) {}
    debugger.goto(0);
    assert_eq!(
        shown(&debugger, &env, &keys),
        before,
        "at the start the view is the keyspace before the script"
    );
    while debugger.apply(Move::StepInto, &breakpoints) {}
    assert_eq!(shown(&debugger, &env, &keys), after);
    debugger.apply(Move::Start, &breakpoints);
    assert_eq!(shown(&debugger, &env, &keys), before);
}

/// The line of each `redis.call` step, in order.
fn call_lines(timeline: &Timeline) -> Vec<u32> {
    timeline
        .steps
        .iter()
        .filter(|s| matches!(s.kind, StepKind::Call(_)))
        .map(|s| s.line)
        .collect()
}

/// A line step's depth counts the calls Lua keeps and the tail calls it
/// lost (as `lua_getstack` and LDB count them), and a call's line is its
/// nearest Lua caller's.
#[test]
fn depths_count_lost_tail_calls_and_calls_name_their_lua_line() {
    let mut env = Env::new();
    let body = "local function down(n)\n  if n == 0 then return redis.call('INCR', 'k') end\n  return down(n - 1)\nend\nlocal function up(n)\n  if n == 0 then return 0 end\n  return 1 + up(n - 1)\nend\nreturn {down(2), up(2), pcall(redis.call, 'INCR', 'k')}";
    let timeline = env.eval(body);
    assert_eq!(
        timeline.outcome.status,
        Status::Ok,
        "{:?}",
        timeline.outcome.reply
    );
    let depths = |line: u32| -> Vec<u32> {
        timeline
            .steps
            .iter()
            .filter_map(|s| match s.kind {
                StepKind::Line { depth, .. } if s.line == line => Some(depth.get()),
                _ => None,
            })
            .collect()
    };
    let main = depths(9)[0];
    // down's tail calls: each lost call still counts a level.
    assert_eq!(depths(2), vec![main + 1, main + 2, main + 3]);
    // up's calls are kept: one level each.
    assert_eq!(depths(6), vec![main + 1, main + 2, main + 3]);
    let calls = call_lines(&timeline);
    // pcall(redis.call, ...): a C function between, the line is line 9's.
    assert_eq!(calls, vec![2, 9]);
}

/// `return redis.error_reply(...)` is a return, not a death: the run ends
/// on a return step that holds the error reply (the client gets the error,
/// as from Redis 7.0: `-ERR insufficient funds`); the write before it
/// stays, the run failed there, and the words say it returned an error.
/// An error the script raises still ends on an error step.
#[test]
fn a_returned_error_reply_ends_on_its_return() {
    let mut env = Env::new();
    env.run("SET alice 100");
    let body = "local b = redis.call('DECRBY', 'alice', 500)\nif b < 0 then\n  return redis.error_reply('ERR insufficient funds')\nend\nreturn b";
    let timeline = env.eval(body);
    assert_eq!(
        timeline.outcome.reply,
        Reply::error("ERR insufficient funds")
    );
    assert_eq!(timeline.outcome.status, Status::Error);
    assert_eq!(timeline.outcome.error_line, Some(3));
    assert_eq!(timeline.outcome.writes_applied, 1);
    let last = timeline.steps.last().unwrap();
    assert!(matches!(
        timeline.event(last),
        trace::Event::Return { reply } if *reply == Reply::error("ERR insufficient funds")
    ));
    let debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    assert_eq!(debugger.failure(), Some(timeline.steps.len() - 1));
    let words = trace::export::summary(&timeline, &[]);
    assert!(
        words[0].starts_with("The script returned an error at line 3 after 1 write."),
        "{words:?}"
    );
    // Raised, it is an error step, as before.
    let raised = env.eval("redis.call('SET', 'x', 1)\nerror('no')");
    let last = raised.steps.last().unwrap();
    assert!(matches!(raised.event(last), trace::Event::Error { .. }));
}

/// A tail-recursive loop goes one level deeper each turn (the lost calls
/// count): 70,000 turns are 70,000 levels, past what 16 bits hold.
#[test]
fn a_long_tail_recursion_keeps_its_exact_depth() {
    let mut env = Env::new();
    let body = "local function f(n)\n  if n == 0 then return 0 end\n  return f(n - 1)\nend\nreturn f(70000)";
    let timeline = env.eval(body);
    assert_eq!(timeline.outcome.reply, Reply::Int(0));
    let depth_of = |s: &trace::Step| match s.kind {
        StepKind::Line { depth, .. } => Some(depth.get()),
        _ => None,
    };
    let main = timeline.steps.iter().find_map(depth_of).unwrap();
    let deepest = timeline.steps.iter().filter_map(depth_of).max().unwrap();
    assert_eq!(deepest, main + 70_001);
}

#[test]
fn loops_nested_functions_and_pcall_are_stepped_as_lua_runs_them() {
    let mut env = Env::new();
    env.run("SET s notanumber");
    let body = "local function bump(k)\n  return redis.call('INCR', k)\nend\nfor i = 1, 3 do\n  bump('n')\nend\nlocal r = redis.pcall('INCR', 's')\nreturn r.err";
    let timeline = env.eval(body);
    assert_eq!(timeline.outcome.status, Status::Ok);
    assert_eq!(
        timeline.outcome.reply,
        Reply::bulk("ERR value is not an integer or out of range")
    );
    let calls = call_lines(&timeline);
    assert_eq!(calls, vec![2, 2, 2, 7]);
    let mut debugger = Debugger::new(timeline, &env.engine.keyspace);
    let mut breakpoints = std::collections::BTreeSet::new();
    // From line 5 (in the loop), stepping over skips the body of bump.
    while debugger.step().line != 5 {
        debugger.apply(Move::StepInto, &breakpoints);
    }
    debugger.apply(Move::StepOver, &breakpoints);
    assert_eq!(debugger.step().line, 4, "step over stays in the main chunk");
    while debugger.step().line != 5 {
        debugger.apply(Move::StepInto, &breakpoints);
    }
    debugger.apply(Move::StepInto, &breakpoints);
    assert_eq!(debugger.step().line, 2, "step into enters bump");
    debugger.apply(Move::StepOut, &breakpoints);
    assert!(
        matches!(debugger.step().line, 4 | 5),
        "step out returns to the caller, got {}",
        debugger.step().line
    );
    breakpoints.insert(7);
    debugger.apply(Move::Start, &breakpoints);
    debugger.apply(Move::Continue, &breakpoints);
    assert_eq!(debugger.step().line, 7);
    debugger.apply(Move::NextCall, &breakpoints);
    let Some(Event::Call(call)) = debugger.last_call().map(|s| debugger.timeline().event(s)) else {
        panic!()
    };
    assert!(
        call.reply.is_error(),
        "the pcall's error is recorded as its reply"
    );
    debugger.apply(Move::PreviousCall, &breakpoints);
    assert_eq!(debugger.step().line, 2);
}

/// A line's locals as the debugger shows them: every Lua type, a string
/// with a NUL, one clipped to the 60 characters a value is shown in (the
/// last one an ellipsis), and tables cut at three levels.
#[test]
fn a_lines_locals_are_rendered_clipped_and_cut() {
    let mut env = Env::new();
    let body = "local n = nil\nlocal b = true\nlocal f = 3.5\nlocal i = 42\nlocal s = 'a\\0b'\nlocal long = string.rep('é', 100)\nlocal t = {1, 2, x = 'y'}\nlocal deep = {{{{1}}}}\nlocal g = tostring\nreturn 1";
    let timeline = env.eval(body);
    assert_eq!(timeline.outcome.status, Status::Ok);
    let last = timeline
        .steps
        .iter()
        .rev()
        .find_map(|s| match &s.kind {
            StepKind::Line {
                locals: Some(l), ..
            } if s.line == 10 => Some(timeline.locals.get(*l)),
            _ => None,
        })
        .expect("line 10's locals");
    let pairs: Vec<(&str, &str)> = last.iter().collect();
    let long = format!("\"{}…", "é".repeat(58));
    assert_eq!(
        pairs,
        [
            ("n", "nil"),
            ("b", "true"),
            ("f", "3.5"),
            ("i", "42"),
            ("s", "\"a\\0b\""),
            ("long", long.as_str()),
            ("t", "{1, 2, x=\"y\"}"),
            ("deep", "{{{…}}}"),
            ("g", "function"),
        ]
    );
    assert_eq!(long.chars().count(), 60);
}

#[test]
fn keys_that_appear_and_vanish_are_tracked() {
    let mut env = Env::new();
    env.run("SET k v");
    let timeline = env.eval("redis.call('DEL', 'k')\nredis.call('SET', 'k', 'again', 'PX', 5000)\nredis.call('RENAME', 'k', 'k2')\nredis.call('SET', 'k2', 'twice')\nreturn 1");
    assert_eq!(timeline.outcome.writes_applied, 4);
    let mut debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    let call_steps: Vec<usize> = timeline
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Call(_)))
        .map(|(i, _)| i)
        .collect();
    let del = debugger.changes_at(call_steps[0]);
    assert!(del[0].before.is_some() && del[0].after.is_none());
    let set = debugger.changes_at(call_steps[1]);
    assert!(set[0].before.is_none() && set[0].after.as_ref().unwrap().expire_at.is_some());
    let rename = debugger.changes_at(call_steps[2]);
    assert_eq!(
        rename.len(),
        2,
        "RENAME removes one key and creates another"
    );
    debugger.goto(call_steps[2]);
    assert!(debugger.entry(&env.engine.keyspace, 0, b"k").is_none());
    assert!(debugger.entry(&env.engine.keyspace, 0, b"k2").is_some());
}

#[test]
fn evalsha_and_fcall_are_traced_with_their_sources() {
    let mut env = Env::new();
    let Reply::Bulk(sha) = env.run("SCRIPT LOAD \"redis.call('SET', KEYS[1], ARGV[1])\nreturn 1\"")
    else {
        panic!()
    };
    let sha = String::from_utf8(sha).unwrap();
    let timeline = env.trace(&["EVALSHA", &sha, "1", "k", "v"]);
    assert_eq!(timeline.source.len(), 2);
    assert_eq!(timeline.name, sha);
    assert_eq!(timeline.outcome.writes_applied, 1);
    env.run("FUNCTION LOAD \"#!lua name=lib\nredis.register_function('f', function(keys, args)\n  redis.call('SET', keys[1], args[1])\n  error('late')\nend)\"");
    let timeline = env.trace(&["FCALL", "f", "1", "fk", "fv"]);
    assert_eq!(timeline.name, "f");
    assert_eq!(timeline.outcome.status, Status::Error);
    assert_eq!(timeline.outcome.error_line, Some(4));
    assert_eq!(timeline.source[0], "#!lua name=lib");
    assert_eq!(
        env.run("GET fk"),
        Reply::bulk("fv"),
        "the function's write stays"
    );
}

/// Runs `body` as an EVAL with no keys, recording at most `max_steps` steps.
fn record_capped(env: &mut Env, body: &str, max_steps: usize) -> Timeline {
    let argv = vec![b"EVAL".to_vec(), body.as_bytes().to_vec(), b"0".to_vec()];
    let limits = Limits {
        max_steps,
        ..Limits::default()
    };
    trace::record(
        &mut env.engine,
        &mut env.scripting,
        &mut env.client,
        &argv,
        limits,
    )
}

#[test]
fn past_the_step_cap_the_script_runs_on_and_recorded_steps_stay_right() {
    let mut env = Env::new();
    let timeline = record_capped(
        &mut env,
        "for i = 1, 10000 do redis.call('INCR', 'c') end return 'done'",
        1000,
    );
    assert_eq!(
        timeline.outcome.status,
        Status::Ok,
        "the step cap does not stop the script"
    );
    assert_eq!(timeline.outcome.reply, Reply::bulk("done"));
    assert!(timeline
        .outcome
        .truncated
        .as_deref()
        .unwrap()
        .contains("1000 steps"));
    assert_eq!(
        timeline.steps.len(),
        1001,
        "1000 recorded steps and the return"
    );
    assert_eq!(timeline.outcome.writes_applied, 10000);
    assert_eq!(env.run("GET c"), Reply::bulk("10000"));
    let mut debugger = Debugger::new(timeline, &env.engine.keyspace);
    // Two line steps start the loop, then line and call alternate: call n is step 2n.
    debugger.goto(500);
    let c = |d: &Debugger| {
        d.changed_keys()
            .into_iter()
            .next()
            .and_then(|(_, _, e)| e)
            .map(|e| trace::export::short_value(&e, 20))
    };
    assert_eq!(c(&debugger).as_deref(), Some("\"250\""));
    debugger.goto(debugger.len() - 1);
    assert_eq!(
        c(&debugger).as_deref(),
        Some("\"10000\""),
        "the run's end shows what it changed unrecorded"
    );
}

/// Past the step cap the changes are kept as few as undoing them needs: a
/// key whose whole entry was kept needs nothing more while it exists. The
/// run's first step still shows the keyspace as it was, its last the live
/// one, and undo puts back every key, value, expiry and key order.
#[test]
fn past_the_step_cap_changes_are_kept_once_per_key_and_undo_stays_exact() {
    let mut env = Env::new();
    for setup in [
        "SET a 1",
        "SET b 2",
        "HSET h f 1 g 2",
        "SET gone x",
        "RPUSH l 1 2 3",
        "SET t v EX 100",
    ] {
        env.run(setup);
    }
    let before = env::snapshot(&env.engine);
    let timeline = record_capped(
        &mut env,
        "for i = 1, 3000 do redis.call('INCR', 'a') end\n\
             for i = 1, 50 do redis.call('HSET', 'h', 'f', i) redis.call('HINCRBY', 'h', 'n', 1) end\n\
             redis.call('DEL', 'gone') redis.call('SET', 'gone', 'back')\n\
             redis.call('EXPIRE', 't', 500) redis.call('SET', 't', 'w', 'KEEPTTL')\n\
             redis.call('RPOP', 'l') redis.call('LPUSH', 'l', 'z')\n\
             for i = 1, 20 do redis.call('SET', 'new' .. i, i) end\n\
             redis.call('DEL', 'b') redis.call('INCR', 'a')\n\
             return 'done'",
        100,
    );
    assert_eq!(timeline.outcome.reply, Reply::bulk("done"));
    assert_eq!(env.run("GET a"), Reply::bulk("3002"));
    let at_end = timeline.deltas_of(timeline.steps.len() - 1).len();
    // Unkept, the INCRs alone past the cap would be about 2950 deltas.
    assert!(at_end < 250, "{at_end} deltas at the end");
    let after = env::snapshot(&env.engine);
    let mut debugger = Debugger::new(timeline, &env.engine.keyspace);
    let keys: Vec<(usize, Vec<u8>)> = before
        .iter()
        .chain(&after)
        .flat_map(|db| db.iter().map(|(k, _)| (0, k.clone())))
        .collect();
    let entries = |d: &Debugger, env: &Env| -> Vec<Option<Entry>> {
        keys.iter()
            .map(|(db, k)| d.entry(&env.engine.keyspace, *db, k).cloned())
            .collect()
    };
    let mut expected = Vec::new();
    for (db, k) in &keys {
        expected.push(
            before[*db]
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, e)| e.clone()),
        );
    }
    debugger.goto(0);
    assert_eq!(
        entries(&debugger, &env),
        expected,
        "step 1 shows the keyspace before the run"
    );
    debugger.goto(debugger.len() - 1);
    let live: Vec<Option<Entry>> = keys
        .iter()
        .map(|(db, k)| env.engine.keyspace.db(*db).entry(k).cloned())
        .collect();
    assert_eq!(
        entries(&debugger, &env),
        live,
        "the last step shows the run's end"
    );
    debugger.undo_in(&mut env.engine.keyspace).unwrap();
    assert_ne!(after, before);
    assert_eq!(
        env::snapshot(&env.engine),
        before,
        "undo: every key, value, expiry and order"
    );
}

#[test]
fn past_the_byte_cap_the_script_is_stopped_and_says_so() {
    let mut env = Env::new();
    let argv: Vec<Vec<u8>> = ["EVAL", "for i = 1, 1e6 do redis.call('INCR', 'c') end", "0"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let limits = Limits {
        max_bytes: 100_000,
        ..Limits::default()
    };
    let timeline = trace::record(
        &mut env.engine,
        &mut env.scripting,
        &mut env.client,
        &argv,
        limits,
    );
    assert_eq!(timeline.outcome.status, Status::Interrupted);
    assert!(timeline
        .outcome
        .truncated
        .as_deref()
        .unwrap()
        .contains("100000 bytes"));
    let Reply::Error(e) = &timeline.outcome.reply else {
        panic!()
    };
    assert!(String::from_utf8_lossy(e)
        .starts_with("ERR Script stopped by redstep: the trace reached its cap of 100000 bytes"));
    let Reply::Bulk(count) = env.run("GET c") else {
        panic!()
    };
    let count: usize = String::from_utf8(count).unwrap().parse().unwrap();
    assert!(
        count > 100 && count < 2000,
        "writes before the cap stay: {count}"
    );
}

/// The TUI's byte cap stops the recording, not the script: it runs to its
/// end as on Redis, and what it changed after the cap shows at its end; a
/// run whose kept changes reach twice the cap is stopped.
#[test]
fn at_the_byte_cap_a_run_on_trace_lets_the_script_finish() {
    let limits = Limits {
        max_bytes: 100_000,
        run_on_at_max_bytes: true,
        ..Limits::default()
    };
    let record = |env: &mut Env, body: &str| {
        let argv: Vec<Vec<u8>> = ["EVAL", body, "0"]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        trace::record(
            &mut env.engine,
            &mut env.scripting,
            &mut env.client,
            &argv,
            limits.clone(),
        )
    };
    let mut env = Env::new();
    let timeline = record(
        &mut env,
        "for i = 1, 20000 do redis.call('INCR', 'c') end return redis.call('GET', 'c')",
    );
    assert_eq!(timeline.outcome.status, Status::Ok);
    assert_eq!(timeline.outcome.reply, Reply::bulk("20000"));
    assert_eq!(
        timeline.outcome.truncated.as_deref(),
        Some("recording stopped at its cap of 100000 bytes; the script ran on, and what it changed after that shows at its end")
    );
    // Recording stopped early: the run has 40,002 steps.
    assert!(
        timeline.steps.len() < 4000,
        "{} steps",
        timeline.steps.len()
    );
    let mut debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    debugger.apply(Move::End, &Default::default());
    let shown = |d: &Debugger, env: &Env| match d.entry(&env.engine.keyspace, 0, b"c") {
        Some(Entry {
            value: redstep::engine::Value::String(s),
            ..
        }) => String::from_utf8(s.clone()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(shown(&debugger, &env), "20000");
    debugger.apply(Move::Start, &Default::default());
    debugger.apply(Move::NextCall, &Default::default());
    assert_eq!(shown(&debugger, &env), "1");

    // Each new key is a change kept past the cap: twice the cap stops it.
    let mut env = Env::new();
    let timeline = record(
        &mut env,
        "for i = 1, 1e6 do redis.call('SET', 'k' .. i, i) end",
    );
    assert_eq!(timeline.outcome.status, Status::Interrupted);
    let Reply::Error(e) = &timeline.outcome.reply else {
        panic!("{:?}", timeline.outcome.reply)
    };
    assert!(String::from_utf8_lossy(e)
        .starts_with("ERR Script stopped by redstep: the trace reached its cap of 200000 bytes"));
}

/// A random command over a few keys of every type, valid or not.
fn random_call(rng: &mut fastrand::Rng) -> String {
    let v = ["1", "2", "x", "-3", "7"][rng.usize(..5)];
    let k = ["a", "b", "l", "h", "s", "z"][rng.usize(..6)];
    let o = ["a", "b", "l", "h", "s", "z"][rng.usize(..6)];
    match rng.usize(..16) {
        0 => format!("'SET', '{k}', '{v}'"),
        1 => format!("'INCR', '{k}'"),
        2 => format!("'APPEND', '{k}', '{v}'"),
        3 => format!("'RPUSH', '{k}', '{v}', '{v}'"),
        4 => format!("'LPOP', '{k}'"),
        5 => format!("'HSET', '{k}', '{v}', '{v}'"),
        6 => format!("'HDEL', '{k}', '{v}'"),
        7 => format!("'SADD', '{k}', '{v}'"),
        8 => format!("'SREM', '{k}', '{v}'"),
        9 => format!("'ZADD', '{k}', '{v}', '{v}'"),
        10 => format!("'ZREM', '{k}', '{v}'"),
        11 => format!("'DEL', '{k}'"),
        12 => format!("'RENAME', '{k}', '{o}'"),
        13 => format!("'EXPIRE', '{k}', '{}'", rng.i64(-1..100)),
        14 => format!("'LTRIM', '{k}', '1', '-1'"),
        _ => format!("'SUNIONSTORE', '{k}', '{o}'"),
    }
}

#[test]
fn the_state_at_step_k_equals_running_the_first_k_calls() {
    for seed in 0..60u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let calls: Vec<String> = (0..rng.usize(1..25))
            .map(|_| random_call(&mut rng))
            .collect();
        let body: String = calls
            .iter()
            .map(|c| format!("redis.pcall({c})\n"))
            .collect();
        let mut traced = Env::new();
        traced.run("RPUSH l a b c");
        traced.run("SET a 5");
        let before = traced.snapshot();
        let timeline = traced.eval(&body);
        let after = traced.snapshot();
        let call_steps: Vec<usize> = timeline
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, StepKind::Call(_)))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(call_steps.len(), calls.len(), "seed {seed}");
        let mut debugger = Debugger::new(timeline.clone(), &traced.engine.keyspace);
        let mut direct = Env::new();
        direct.run("RPUSH l a b c");
        direct.run("SET a 5");
        for (k, call) in calls.iter().enumerate() {
            direct.eval(&format!("redis.pcall({call})"));
            let expected = direct.snapshot();
            let keys = all_keys(&[&before, &after, &expected], &timeline);
            debugger.goto(call_steps[k]);
            assert_eq!(
                shown(&debugger, &traced, &keys),
                expected,
                "seed {seed}, after call {k}: {call}\nscript:\n{body}"
            );
        }
    }
}

#[test]
fn undoing_a_run_restores_the_keyspace_unless_it_changed_since() {
    let mut env = Env::new();
    setup_every_type(&mut env);
    let before = env.snapshot();
    let timeline = env.eval(EVERY_TYPE);
    assert_ne!(env.snapshot(), before);
    timeline.undo_in(&mut env.engine.keyspace).unwrap();
    assert_eq!(
        env.snapshot(),
        before,
        "undo puts back what the script changed, as Redis never does"
    );

    let timeline = env.eval("redis.call('SET', 'a', '1')");
    env.run("SET a 2");
    let refused = timeline.undo_in(&mut env.engine.keyspace);
    assert!(
        refused.is_err(),
        "a key written after the run makes undo refuse"
    );
    assert_eq!(env.run("GET a"), Reply::bulk("2"));
}

#[test]
fn a_debugger_gives_back_an_undoable_run_whatever_its_cursor() {
    let mut env = Env::new();
    setup_every_type(&mut env);
    let before = env.snapshot();
    let timeline = env.eval(EVERY_TYPE);
    let mut debugger = Debugger::new(timeline, &env.engine.keyspace);
    debugger.goto(debugger.len() / 2);
    let cursor = debugger.cursor();
    let undoable = debugger.undoable();
    assert_eq!(debugger.cursor(), cursor, "the cursor stays put");
    undoable.undo_in(&mut env.engine.keyspace).unwrap();
    assert_eq!(env.snapshot(), before);
}

/// The locals of each line step at `line`, in order, as pairs.
fn locals_at(timeline: &redstep::trace::Timeline, line: u32) -> Vec<Vec<(String, String)>> {
    timeline
        .steps
        .iter()
        .filter(|s| s.line == line)
        .filter_map(|s| match s.kind {
            StepKind::Line {
                locals: Some(at), ..
            } => Some(
                timeline
                    .locals
                    .get(at)
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Each line step's locals are the function's declared locals in scope,
/// in order, without Lua's own slots (`(for index)`) or temporaries.
#[test]
fn line_steps_show_the_declared_locals_in_scope() {
    let mut env = Env::new();
    let body = "local a = 5\nlocal s = 'hi'\nfor i = 1, 2 do\n  local inner = i * 10\n  redis.call('SET', s, inner)\nend\nlocal function f(x)\n  local y = x\n  return y\nend\nreturn f(3)";
    let timeline = env.eval(body);
    assert_eq!(timeline.outcome.reply, Reply::Int(3));
    let locals_at = |line: u32| locals_at(&timeline, line);
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        locals_at(5),
        vec![
            pairs(&[("a", "5"), ("s", "\"hi\""), ("i", "1"), ("inner", "10")]),
            pairs(&[("a", "5"), ("s", "\"hi\""), ("i", "2"), ("inner", "20")]),
        ]
    );
    assert_eq!(locals_at(9), vec![pairs(&[("x", "3"), ("y", "3")])]);
}

/// Locals as Lua's own debug API numbers them (one walk of the function's
/// locals, not one a local): a shadowed name shows both values, a block's
/// local is gone after its `end`, and a function with Lua's most locals
/// (200) shows every one.
#[test]
fn locals_follow_scopes_shadowing_and_lua_s_limit() {
    let mut env = Env::new();
    let many: Vec<String> = (1..=200).map(|i| format!("v{i}")).collect();
    let body = format!(
        "local x = 1\nlocal x = 2\ndo local t = 3\n  redis.call('SET', 'k', t)\nend\nredis.call('GET', 'k')\nlocal function g()\n  local {} = {}\n  return v200\nend\nreturn g()",
        many.join(", "),
        (1..=200).map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
    );
    let timeline = env.eval(&body);
    assert_eq!(timeline.outcome.reply, Reply::Int(200));
    let locals_at = |line: u32| {
        locals_at(&timeline, line)
            .pop()
            .unwrap_or_else(|| panic!("no locals at line {line}"))
    };
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(locals_at(4), pairs(&[("x", "1"), ("x", "2"), ("t", "3")]));
    assert_eq!(locals_at(6), pairs(&[("x", "1"), ("x", "2")]));
    let in_g = locals_at(9);
    assert_eq!(in_g.len(), 200);
    assert_eq!(in_g[0], ("v1".to_string(), "1".to_string()));
    assert_eq!(in_g[199], ("v200".to_string(), "200".to_string()));
}

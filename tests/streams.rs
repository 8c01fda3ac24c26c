//! Streams: a BullMQ-style script (an events stream trimmed with
//! `MAXLEN ~`, a consumer group reading and acknowledging) answers as a
//! real redis-server 7.0 does, and undoing a run's deltas restores a
//! stream exactly (entries, counters, groups and their pending lists)
//! without a step copying the whole stream.

mod env;
mod real;
use env::{snapshot, Recorder};
use real::Real;

use redstep::engine::{ClientId, Delta, Engine, ManualClock, Reply};
use redstep::protocol::resp::{parse_reply, to_bytes};
use redstep::script::{ScriptConfig, Scripting};

type Argv = Vec<Vec<u8>>;

fn words(line: &[&str]) -> Argv {
    line.iter().map(|w| w.as_bytes().to_vec()).collect()
}

// ---------- the engine's side ----------

struct Ours {
    engine: Engine,
    scripting: Scripting,
    client: ClientId,
}

impl Ours {
    fn new() -> Ours {
        let mut engine = Engine::default();
        let scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let client = engine.connect();
        Ours {
            engine,
            scripting,
            client,
        }
    }

    fn call(&mut self, argv: &Argv) -> Reply {
        let reply = self
            .engine
            .execute_with(self.client, argv, &mut self.scripting)
            .expect("nothing here blocks");
        parse_reply(&to_bytes(&reply.to_resp2()))
            .unwrap()
            .unwrap()
            .0
    }
}

/// BullMQ's addJob, cut down: the job hash, the wait list, and an `added`
/// event on the events stream, trimmed with `MAXLEN ~ 10000`. The id is
/// `ms-*` (BullMQ passes `*`, which depends on the clock).
const ADD_JOB: &str = "\
redis.call('HSET', KEYS[2] .. ARGV[2], 'name', 'job', 'data', ARGV[3]) \
redis.call('RPUSH', KEYS[3], ARGV[2]) \
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', ARGV[1], 'event', 'added', 'jobId', ARGV[2], 'name', 'job')";

/// A worker's move-to-active: read one event in the group, ack it, report.
const TAKE: &str = "\
local r = redis.call('XREADGROUP', 'GROUP', 'workers', ARGV[1], 'COUNT', 1, 'STREAMS', KEYS[1], '>') \
if not r then return false end \
local id = r[1][2][1][1] \
redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', '*', 'event', 'active', 'jobId', r[1][2][1][2][4]) \
return {id, redis.call('XACK', KEYS[1], 'workers', id)}";

/// An event written before a failing line stays: scripts are not atomic.
const FAILS_AFTER_EVENT: &str = "\
redis.call('XADD', KEYS[1], ARGV[1], 'event', 'failed', 'jobId', '9') \
return redis.call('INCR', KEYS[2])";

fn session() -> Vec<Argv> {
    let mut s = vec![words(&[
        "XGROUP",
        "CREATE",
        "bull:q:events",
        "workers",
        "$",
        "MKSTREAM",
    ])];
    for (i, id) in ["1700000000000-*", "1700000000000-*", "1700000000001-*"]
        .iter()
        .enumerate()
    {
        let job = (i + 1).to_string();
        s.push(words(&[
            "EVAL",
            ADD_JOB,
            "3",
            "bull:q:events",
            "bull:q:",
            "bull:q:wait",
            id,
            &job,
            "{\"x\":1}",
        ]));
    }
    s.push(words(&["XLEN", "bull:q:events"]));
    s.push(words(&["XPENDING", "bull:q:events", "workers"]));
    s.push(words(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "w1",
        "COUNT",
        "2",
        "STREAMS",
        "bull:q:events",
        ">",
    ]));
    s.push(words(&["XPENDING", "bull:q:events", "workers"]));
    s.push(words(&[
        "XPENDING",
        "bull:q:events",
        "workers",
        "-",
        "+",
        "10",
        "w1",
    ]));
    s.push(words(&[
        "XACK",
        "bull:q:events",
        "workers",
        "1700000000000-0",
        "1700000000000-1",
    ]));
    s.push(words(&["XPENDING", "bull:q:events", "workers"]));
    s.push(words(&[
        "XREADGROUP",
        "GROUP",
        "workers",
        "w2",
        "STREAMS",
        "bull:q:events",
        "0",
    ]));
    s.push(words(&[
        "EVAL",
        FAILS_AFTER_EVENT,
        "2",
        "bull:q:events",
        "bull:q:name",
        "1700000000002-0",
    ]));
    s.push(words(&["SET", "bull:q:name", "not a number"]));
    s.push(words(&[
        "EVAL",
        FAILS_AFTER_EVENT,
        "2",
        "bull:q:events",
        "bull:q:name",
        "1700000000003-0",
    ]));
    s.push(words(&["XRANGE", "bull:q:events", "-", "+"]));
    s.push(words(&[
        "XREVRANGE",
        "bull:q:events",
        "+",
        "(1700000000001-0",
        "COUNT",
        "1",
    ]));
    s.push(words(&["XTRIM", "bull:q:events", "MAXLEN", "2"]));
    s.push(words(&["XDEL", "bull:q:events", "1700000000003-0", "1-1"]));
    s.push(words(&["XRANGE", "bull:q:events", "-", "+"]));
    s.push(words(&[
        "XREAD",
        "COUNT",
        "5",
        "STREAMS",
        "bull:q:events",
        "bull:q:wait",
        "0",
        "0",
    ]));
    s.push(words(&["LRANGE", "bull:q:wait", "0", "-1"]));
    s.push(words(&["HGETALL", "bull:q:2"]));
    s.push(words(&["TYPE", "bull:q:events"]));
    s.push(words(&["OBJECT", "ENCODING", "bull:q:events"]));
    s.push(words(&["XGROUP", "DESTROY", "bull:q:events", "workers"]));
    s.push(words(&["KEYS", "*"]));
    s
}

fn sorted_keys(reply: Reply) -> Reply {
    match reply {
        Reply::Array(mut items) => {
            items.sort_by_key(|r| format!("{r:?}"));
            Reply::Array(items)
        }
        other => other,
    }
}

/// Extended XPENDING's entries with their idle time (milliseconds) set to 0.
fn idle_blanked(reply: Reply) -> Reply {
    match reply {
        Reply::Array(entries) => Reply::Array(
            entries
                .into_iter()
                .map(|entry| match entry {
                    Reply::Array(mut fields) if fields.len() == 4 => {
                        assert!(matches!(fields[2], Reply::Int(ms) if ms >= 0));
                        fields[2] = Reply::Int(0);
                        Reply::Array(fields)
                    }
                    other => other,
                })
                .collect(),
        ),
        other => other,
    }
}

#[test]
fn a_bullmq_style_script_answers_as_redis_does() {
    let Some(mut real) = Real::start() else {
        eprintln!(
            "SKIPPED: redis-server is not installed; the BullMQ-style session was not compared"
        );
        return;
    };
    let mut ours = Ours::new();
    for argv in session() {
        let (mut theirs, mut mine) = (real.call(&argv), ours.call(&argv));
        if argv[0] == b"KEYS" {
            (theirs, mine) = (sorted_keys(theirs), sorted_keys(mine));
        }
        if argv[0] == b"XPENDING" && argv.len() > 3 {
            // Idle times are clock readings: both sides have one, not the same.
            (theirs, mine) = (idle_blanked(theirs), idle_blanked(mine));
        }
        assert_eq!(
            mine,
            theirs,
            "{:?}",
            argv.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
        );
    }
    // `*` ids: the worker script's `active` event. Both sides answer a
    // pair (id, acked); the ids differ by clock, so only the shape and the
    // ack count are compared.
    for side in 0..2 {
        let reply = {
            let setup = [
                words(&["XADD", "ev", "1-1", "event", "added", "jobId", "1"]),
                words(&["XGROUP", "CREATE", "ev", "workers", "0"]),
                words(&["EVAL", TAKE, "1", "ev", "w1"]),
            ];
            let mut last = Reply::Nil;
            for argv in &setup {
                last = if side == 0 {
                    real.call(argv)
                } else {
                    ours.call(argv)
                };
            }
            last
        };
        assert_eq!(
            reply,
            Reply::Array(vec![Reply::Bulk(b"1-1".to_vec()), Reply::Int(1)]),
            "side {side}"
        );
        let len = if side == 0 {
            real.call(&words(&["XLEN", "ev"]))
        } else {
            ours.call(&words(&["XLEN", "ev"]))
        };
        assert_eq!(len, Reply::Int(2), "side {side}");
    }
}

// ---------- undo ----------

fn run(engine: &mut Engine, client: ClientId, line: &str) -> Reply {
    let argv: Argv = line.split(' ').map(|w| w.as_bytes().to_vec()).collect();
    engine.execute(client, &argv).expect("no blocking")
}

#[test]
fn undo_of_stream_writes_restores_the_stream_exactly() {
    let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
    let client = engine.connect();
    for i in 1..=250 {
        run(&mut engine, client, &format!("XADD s {i}-1 f {i}"));
    }
    run(&mut engine, client, "XGROUP CREATE s g 0");
    run(
        &mut engine,
        client,
        "XREADGROUP GROUP g c COUNT 3 STREAMS s >",
    );
    run(&mut engine, client, "XDEL s 5-1");
    let before = snapshot(&engine);
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    for line in [
        "XADD s 251-* f x",
        "XADD s MAXLEN ~ 120 * f y",
        "XDEL s 200-1 201-1",
        "XTRIM s MINID 230",
        "XACK s g 1-1 2-1",
        "XREADGROUP GROUP g d COUNT 2 STREAMS s >",
        "XGROUP CREATECONSUMER s g e",
        "XSETID s 999999999999999-0",
        "XGROUP CREATE t g $ MKSTREAM",
        "XADD t 1-1 a 1",
        "XTRIM s MAXLEN 0",
        "XGROUP DESTROY s g",
    ] {
        let reply = run(&mut engine, client, line);
        assert!(!reply.is_error(), "{line}: {reply:?}");
    }
    engine.keyspace.set_observer(None);
    let after = snapshot(&engine);
    assert_ne!(after, before);
    let deltas = std::mem::take(&mut *recorder.0.lock().unwrap());
    let mut redo = Vec::new();
    for (db, delta) in deltas.into_iter().rev() {
        redo.push((db, engine.keyspace.apply(db, delta)));
    }
    assert_eq!(snapshot(&engine), before, "undo");
    for (db, delta) in redo.into_iter().rev() {
        engine.keyspace.apply(db, delta);
    }
    assert_eq!(snapshot(&engine), after, "redo");
}

#[test]
fn an_xadd_delta_names_one_entry_not_the_stream() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    for i in 1..=1000 {
        run(&mut engine, client, &format!("XADD s {i}-0 f {i}"));
    }
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    run(&mut engine, client, "XADD s 1001-0 f x");
    run(&mut engine, client, "XDEL s 3-0");
    let deltas = recorder.0.lock().unwrap();
    let shapes: Vec<(usize, usize, bool)> = deltas
        .iter()
        .map(|(_, d)| match d {
            Delta::Stream {
                added,
                removed,
                groups,
                ..
            } => (added.len(), removed.len(), groups.is_some()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(shapes, vec![(1, 0, false), (0, 1, false)]);
}

#[test]
fn a_stream_reads_as_its_entries_and_groups() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    run(&mut engine, client, "XADD s 1-1 event added jobId 7");
    run(&mut engine, client, "XADD s 2-0 event done");
    run(&mut engine, client, "XGROUP CREATE s workers 0");
    run(
        &mut engine,
        client,
        "XREADGROUP GROUP workers w COUNT 1 STREAMS s >",
    );
    let entry = engine.keyspace.db(0).entry(b"s").unwrap();
    assert_eq!(
        redstep::trace::export::value_text(&entry.value, 200),
        "2 entries, last id 2-0, group \"workers\" (1 pending) \
         [1-1 \"event\" \"added\" \"jobId\" \"7\", 2-0 \"event\" \"done\"]"
    );
    assert_eq!(
        redstep::trace::export::value_text(&entry.value, 40),
        "2 entries, last id 2-0, group \"workers\"…"
    );
}

/// XINFO STREAM FULL's times are the engine's clock: a consumer's
/// seen-time, each pending entry's delivery time and count (a history read
/// delivers again), with COUNT cutting the entries, the group's PEL and
/// each consumer's PEL (the shape and every other figure are compared with
/// Redis 7.0.15 in the golden cases).
#[test]
fn xinfo_stream_full_reports_times_from_the_clock() {
    let clock = ManualClock::new(1_000);
    let mut engine = Engine::new(Box::new(clock.clone()));
    let c = engine.connect();
    for line in [
        "XADD s 1-0 a 1",
        "XADD s 2-0 b 2",
        "XADD s 3-0 c 3",
        "XGROUP CREATE s g 0",
        "XREADGROUP GROUP g alice COUNT 2 STREAMS s >",
    ] {
        run(&mut engine, c, line);
    }
    clock.advance(500);
    run(&mut engine, c, "XREADGROUP GROUP g bob STREAMS s >");
    clock.advance(500);
    run(&mut engine, c, "XREADGROUP GROUP g alice STREAMS s 0");
    fn b(s: &str) -> Reply {
        Reply::bulk(s)
    }
    let entry = |id: &str, f: &str, v: &str| Reply::Array(vec![b(id), Reply::bulks([f, v])]);
    let pel = |id: &str, who: &str, t: i64, n: i64| {
        Reply::Array(vec![b(id), b(who), Reply::Int(t), Reply::Int(n)])
    };
    let mine = |id: &str, t: i64, n: i64| Reply::Array(vec![b(id), Reply::Int(t), Reply::Int(n)]);
    let consumer = |name: &str, seen: i64, count: i64, pending: Vec<Reply>| {
        Reply::Array(vec![
            b("name"),
            b(name),
            b("seen-time"),
            Reply::Int(seen),
            b("pel-count"),
            Reply::Int(count),
            b("pending"),
            Reply::Array(pending),
        ])
    };
    let expected = Reply::Array(vec![
        b("length"),
        Reply::Int(3),
        b("radix-tree-keys"),
        Reply::Int(1),
        b("radix-tree-nodes"),
        Reply::Int(2),
        b("last-generated-id"),
        b("3-0"),
        b("max-deleted-entry-id"),
        b("0-0"),
        b("entries-added"),
        Reply::Int(3),
        b("recorded-first-entry-id"),
        b("1-0"),
        b("entries"),
        Reply::Array(vec![entry("1-0", "a", "1"), entry("2-0", "b", "2")]),
        b("groups"),
        Reply::Array(vec![Reply::Array(vec![
            b("name"),
            b("g"),
            b("last-delivered-id"),
            b("3-0"),
            b("entries-read"),
            Reply::Int(3),
            b("lag"),
            Reply::Int(0),
            b("pel-count"),
            Reply::Int(3),
            b("pending"),
            Reply::Array(vec![
                pel("1-0", "alice", 2_000, 2),
                pel("2-0", "alice", 2_000, 2),
            ]),
            b("consumers"),
            Reply::Array(vec![
                consumer(
                    "alice",
                    2_000,
                    2,
                    vec![mine("1-0", 2_000, 2), mine("2-0", 2_000, 2)],
                ),
                consumer("bob", 1_500, 1, vec![mine("3-0", 1_500, 1)]),
            ]),
        ])]),
    ]);
    assert_eq!(run(&mut engine, c, "XINFO STREAM s FULL COUNT 2"), expected);
}

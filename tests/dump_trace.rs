//! RESTORE in a traced script: it writes through the keyspace's
//! primitives, so the run records it, the debugger shows each step's
//! keyspace, and undoing the run puts back what RESTORE created or
//! replaced (REPLACE, a TTL, a key deleted by an already-past ABSTTL).

mod env;
use env::Env;
use redstep::engine::Reply;
use redstep::trace::{Debugger, StepKind};

#[test]
fn a_restore_in_a_traced_run_is_undone() {
    let mut env = Env::new();
    env.run("HSET h a 1 b 2");
    env.run("RPUSH l x y z");
    env.run("SET s old");
    env.run("SET gone soon");
    env.run("XADD x 1-1 f v");
    env.run("XGROUP CREATE x g 0");
    let before = env.snapshot();
    let timeline = env.eval(
        "local h = redis.call('DUMP', 'h')\n\
         redis.call('RESTORE', 'copy', 0, h)\n\
         redis.call('RESTORE', 's', 100000, redis.call('DUMP', 'l'), 'REPLACE')\n\
         redis.call('RESTORE', 'gone', 1, h, 'REPLACE', 'ABSTTL')\n\
         redis.call('RESTORE', 'x', 0, redis.call('DUMP', 'l'), 'REPLACE')\n\
         return redis.call('RESTORE', 'copy', 0, h)",
    );
    let after = env.snapshot();
    assert_eq!(
        env.run("HGETALL copy"),
        Reply::Array(["a", "1", "b", "2"].iter().map(Reply::bulk).collect())
    );
    assert_eq!(
        env.run("LRANGE s 0 -1"),
        Reply::Array(["x", "y", "z"].iter().map(Reply::bulk).collect())
    );
    assert_eq!(env.run("PTTL s"), Reply::Int(100000));
    assert_eq!(env.run("EXISTS gone"), Reply::Int(0));
    let calls: Vec<usize> = timeline
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, StepKind::Call(_)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        calls.len(),
        8,
        "DUMP, RESTORE, DUMP, RESTORE x2, DUMP, RESTORE x2"
    );
    let mut debugger = Debugger::new(timeline.clone(), &env.engine.keyspace);
    debugger.goto(calls[1]);
    assert!(debugger.entry(&env.engine.keyspace, 0, b"copy").is_some());
    assert_eq!(
        debugger
            .entry(&env.engine.keyspace, 0, b"s")
            .map(|e| e.value.kind().name()),
        Some("string"),
        "before the REPLACE, s is still the string"
    );
    debugger.goto(0);
    assert_eq!(
        env.snapshot(),
        after,
        "the debugger leaves the keyspace alone"
    );
    timeline.undo_in(&mut env.engine.keyspace).unwrap();
    assert_eq!(env.snapshot(), before, "undo of the run");
}

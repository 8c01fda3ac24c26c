//! Key expiry with an injected clock: lazy on access, and the active sweep
//! that removes keys nobody reads.

use redstep::engine::{Engine, ManualClock, Reply};

fn engine() -> (Engine, ManualClock, u64) {
    let clock = ManualClock::new(1_764_000_000_000);
    let mut engine = Engine::new(Box::new(clock.clone()));
    let client = engine.connect();
    (engine, clock, client)
}

fn run(engine: &mut Engine, client: u64, line: &str) -> Reply {
    let argv: Vec<Vec<u8>> = line.split(' ').map(|s| s.as_bytes().to_vec()).collect();
    engine.execute(client, &argv).expect("not blocked")
}

#[test]
fn keys_expire_lazily_when_read() {
    let (mut e, clock, c) = engine();
    run(&mut e, c, "SET k v PX 1500");
    assert_eq!(
        run(&mut e, c, "TTL k"),
        Reply::Int(2),
        "TTL rounds to the nearest second"
    );
    clock.advance(1000);
    assert_eq!(run(&mut e, c, "PTTL k"), Reply::Int(500));
    assert_eq!(run(&mut e, c, "TTL k"), Reply::Int(1));
    clock.advance(500);
    assert_eq!(run(&mut e, c, "GET k"), Reply::Nil);
    assert_eq!(run(&mut e, c, "TTL k"), Reply::Int(-2));
    assert_eq!(
        run(&mut e, c, "DBSIZE"),
        Reply::Int(0),
        "the read deleted it"
    );
}

#[test]
fn expired_keys_are_invisible_before_deletion() {
    let (mut e, clock, c) = engine();
    run(&mut e, c, "SET a 1 PX 10");
    run(&mut e, c, "SET b 2");
    clock.advance(10);
    assert_eq!(run(&mut e, c, "KEYS *"), Reply::bulks(["b"]));
    assert_eq!(run(&mut e, c, "EXISTS a"), Reply::Int(0));
    assert_eq!(
        run(&mut e, c, "RENAME a c"),
        Reply::error("ERR no such key")
    );
    assert_eq!(run(&mut e, c, "SETNX a again"), Reply::Int(1));
    assert_eq!(
        run(&mut e, c, "TTL a"),
        Reply::Int(-1),
        "a new key does not inherit the old TTL"
    );
}

#[test]
fn the_active_sweep_deletes_keys_nobody_reads() {
    let (mut e, clock, c) = engine();
    for i in 0..200 {
        run(&mut e, c, &format!("SET k{i} v PX 100"));
    }
    run(&mut e, c, "SET keep v");
    clock.advance(100);
    assert_eq!(
        e.keyspace.db(0).len(),
        201,
        "nothing is deleted until the sweep or a read"
    );
    for _ in 0..50 {
        e.active_expire();
    }
    assert_eq!(e.keyspace.db(0).len(), 1);
    assert_eq!(e.keyspace.db(0).expiring_len(), 0);
}

#[test]
fn watch_sees_a_key_deleted_by_expiry_on_access() {
    let (mut e, clock, c) = engine();
    let other = e.connect();
    run(&mut e, c, "SET k v PX 10");
    run(&mut e, c, "WATCH k");
    clock.advance(10);
    run(&mut e, other, "SET k fresh");
    run(&mut e, c, "MULTI");
    run(&mut e, c, "GET k");
    assert_eq!(run(&mut e, c, "EXEC"), Reply::NilArray);
}

/// A clock that moves one millisecond each time it is read: time passes
/// while a script runs, without the test sleeping.
struct Ticking(std::sync::atomic::AtomicI64);

impl redstep::engine::Clock for Ticking {
    fn now_ms(&self) -> i64 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
}

/// Inside a script a key's expiry is judged at the script's start (it
/// still exists), but TTL and PTTL count from the wall clock as Redis's
/// ttlGenericCommand does (`mstime()`): spec §6.4, Redis 7.0.15 answers
/// `[1, 0]` to this script after a long loop.
#[test]
fn pttl_in_a_script_counts_from_the_wall_clock_not_the_scripts_start() {
    use redstep::script::{ScriptConfig, Scripting};
    let mut engine = Engine::new(Box::new(Ticking(std::sync::atomic::AtomicI64::new(
        1_764_000_000_000,
    ))));
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let client = engine.connect();
    let script = "redis.call('SET', 'ex', 'v', 'PX', 50)\n\
                  for i = 1, 200 do redis.call('TIME') end\n\
                  return {redis.call('EXISTS', 'ex'), redis.call('PTTL', 'ex'), redis.call('TTL', 'ex')}";
    let argv: Vec<Vec<u8>> = ["EVAL", script, "0"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let reply = engine.execute_with(client, &argv, &mut scripting);
    assert_eq!(
        reply,
        Some(Reply::Array(vec![
            Reply::Int(1),
            Reply::Int(0),
            Reply::Int(0)
        ]))
    );
    // After the script the key has expired for everyone.
    let exists: Vec<Vec<u8>> = vec![b"EXISTS".to_vec(), b"ex".to_vec()];
    assert_eq!(engine.execute(client, &exists), Some(Reply::Int(0)));
}

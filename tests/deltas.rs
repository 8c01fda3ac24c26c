//! Every write reports an inverse delta; undoing a run's deltas in reverse
//! order must restore the keyspace exactly (values, TTLs, encodings, order).

mod env;
use env::{snapshot, Recorder};

use redstep::engine::{Delta, Engine, ManualClock};

/// A random command from a small domain of keys and values, so commands
/// collide, change types, empty collections and hit errors. Most commands
/// use a key of their own type ("l" for lists...), the rest any key.
fn random_command(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let keys = ["a", "b", "l", "l2", "h", "h2", "s", "s2", "z", "z2"];
    let mut key = |own: &str| -> String {
        if rng.usize(..10) < 8 {
            format!("{own}{}", if rng.bool() { "" } else { "2" })
        } else {
            keys[rng.usize(..keys.len())].to_string()
        }
    };
    let (ka, kl, kh, ks, kz) = (key("a"), key("l"), key("h"), key("s"), key("z"));
    let other = key("b");
    let values = ["1", "2", "x", "-3", "10", "1.5", "y", "", "0"];
    let mut v = || values[rng.usize(..values.len())].to_string();
    let (v1, v2, v3) = (v(), v(), v());
    let n = rng.i64(-3..5).to_string();
    let m = rng.i64(-3..5).to_string();
    let line: Vec<String> = match rng.usize(..42) {
        0 => vec!["SET".into(), ka, v1],
        1 => vec!["SET".into(), ka, v1, "EX".into(), "100".into()],
        2 => vec!["INCR".into(), ka],
        3 => vec!["APPEND".into(), ka, v1],
        4 => vec!["SETRANGE".into(), ka, rng.usize(..4).to_string(), v1],
        5 => vec!["DEL".into(), ka, other],
        6 => vec!["RENAME".into(), ka, other],
        7 => vec!["EXPIRE".into(), ka, n],
        8 => vec!["PERSIST".into(), ka],
        9 => vec!["LPUSH".into(), kl, v1, v2],
        10 => vec!["RPUSH".into(), kl, v1, v2, v3],
        11 => vec!["LPOP".into(), kl, rng.usize(..3).to_string()],
        12 => vec!["RPOP".into(), kl],
        13 => vec!["LSET".into(), kl, n, v1],
        14 => vec!["LREM".into(), kl, n, v1],
        15 => vec!["LINSERT".into(), kl, "BEFORE".into(), v1, v2],
        16 => vec!["LTRIM".into(), kl, n, m],
        17 => vec!["LMOVE".into(), kl, other, "LEFT".into(), "RIGHT".into()],
        18 => vec!["HSET".into(), kh, v1, v2, v3, "f".into()],
        19 => vec!["HDEL".into(), kh, v1, v2],
        20 => vec!["HINCRBY".into(), kh, v1, n],
        21 => vec!["SADD".into(), ks, v1, v2, v3],
        22 => vec!["SREM".into(), ks, v1],
        23 => vec!["SPOP".into(), ks],
        24 => vec!["SMOVE".into(), ks, other, v1],
        25 => vec!["ZADD".into(), kz, n, v1, m, v2],
        26 => vec!["ZINCRBY".into(), kz, "1.5".into(), v1],
        27 => vec!["ZREM".into(), kz, v1],
        28 => vec!["ZPOPMIN".into(), kz],
        29 => vec!["ZREMRANGEBYRANK".into(), kz, "0".into(), n],
        30 => vec!["SUNIONSTORE".into(), ks, other, "s".into()],
        31 => vec!["ZUNIONSTORE".into(), kz, "2".into(), other, "z".into()],
        32 => vec!["COPY".into(), ka, other, "REPLACE".into()],
        33 => vec!["MOVE".into(), ka, "1".into()],
        34 => vec!["SWAPDB".into(), "0".into(), "1".into()],
        35 => vec!["SORT".into(), kl, "ALPHA".into(), "STORE".into(), other],
        36 => vec!["GETDEL".into(), ka],
        37 => vec!["HSET".into(), kh, "f".repeat(rng.usize(60..70)), v1],
        38 => vec!["SELECT".into(), rng.usize(..2).to_string()],
        39 => vec!["GEOADD".into(), kz, n, m, v1, "10".into(), "20".into(), v2],
        40 => vec![
            "GEORADIUS".into(),
            kz,
            "5".into(),
            "5".into(),
            "2000".into(),
            "km".into(),
            "STOREDIST".into(),
            other,
        ],
        _ => vec!["FLUSHDB".into()],
    };
    line.into_iter().map(String::into_bytes).collect()
}

#[test]
fn undoing_recorded_deltas_restores_the_keyspace() {
    for seed in 0..1000u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let clock = ManualClock::new(1_764_000_000_000);
        let mut engine = Engine::new(Box::new(clock));
        let client = engine.connect();
        for _ in 0..rng.usize(0..30) {
            engine.execute(client, &random_command(&mut rng));
        }
        let before = snapshot(&engine);
        let recorder = Recorder::default();
        engine
            .keyspace
            .set_observer(Some(Box::new(recorder.clone())));
        let mut commands = Vec::new();
        for _ in 0..rng.usize(1..40) {
            let argv = random_command(&mut rng);
            engine.execute(client, &argv);
            commands.push(String::from_utf8_lossy(&argv.join(&b' ')).into_owned());
        }
        engine.keyspace.set_observer(None);
        let after = snapshot(&engine);
        let deltas = std::mem::take(&mut *recorder.0.lock().unwrap());
        let mut redo = Vec::new();
        for (db, delta) in deltas.into_iter().rev() {
            redo.push((db, engine.keyspace.apply(db, delta)));
        }
        assert_eq!(
            snapshot(&engine),
            before,
            "seed {seed}: undo did not restore the keyspace after {commands:#?}"
        );
        for (db, delta) in redo.into_iter().rev() {
            engine.keyspace.apply(db, delta);
        }
        assert_eq!(
            snapshot(&engine),
            after,
            "seed {seed}: redo did not bring the run back after {commands:#?}"
        );
    }
}

#[test]
fn compact_deltas_do_not_copy_whole_collections() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    let big: Vec<Vec<u8>> = [b"RPUSH".to_vec(), b"l".to_vec()]
        .into_iter()
        .chain((0..1000).map(|i| i.to_string().into_bytes()))
        .collect();
    engine.execute(client, &big);
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    engine.execute(client, &[b"LPUSH".to_vec(), b"l".to_vec(), b"x".to_vec()]);
    engine.execute(client, &[b"RPOP".to_vec(), b"l".to_vec()]);
    let deltas = recorder.0.lock().unwrap();
    assert_eq!(
        *deltas,
        vec![
            (
                0,
                Delta::ListPushed {
                    key: b"l".to_vec(),
                    side: redstep::engine::Side::Left,
                    count: 1
                }
            ),
            (
                0,
                Delta::ListPopped {
                    key: b"l".to_vec(),
                    side: redstep::engine::Side::Right,
                    items: vec![b"999".to_vec()]
                }
            ),
        ]
    );
}

#[test]
fn undo_restores_hash_field_order() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    let cmd = |s: &str| {
        s.split(' ')
            .map(|p| p.as_bytes().to_vec())
            .collect::<Vec<_>>()
    };
    engine.execute(client, &cmd("HSET h a 1 b 2 c 3"));
    let before = snapshot(&engine);
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    engine.execute(client, &cmd("HDEL h a"));
    engine.keyspace.set_observer(None);
    for (db, delta) in std::mem::take(&mut *recorder.0.lock().unwrap())
        .into_iter()
        .rev()
    {
        engine.keyspace.undo(db, delta);
    }
    assert_eq!(snapshot(&engine), before);
}

//! Bitmaps and HyperLogLog: their writes report compact inverse deltas
//! (undo and redo restore the keyspace exactly), and a SETBIT on a big
//! string does not copy it.

mod env;
use env::{snapshot, Recorder};

use redstep::engine::{Delta, Engine, ManualClock};

fn cmd(line: &str) -> Vec<Vec<u8>> {
    line.split(' ').map(|p| p.as_bytes().to_vec()).collect()
}

/// A random bitmap / HLL / string write on a few keys.
fn random_command(rng: &mut fastrand::Rng) -> Vec<Vec<u8>> {
    let keys = ["a", "b", "h", "l"];
    let k = keys[rng.usize(..keys.len())];
    let o = keys[rng.usize(..keys.len())];
    let bit = rng.usize(..2);
    let off = rng.usize(..200);
    let line = match rng.usize(..14) {
        0 | 1 => format!("SETBIT {k} {off} {bit}"),
        2 => format!("SETBIT {k} {} 1", rng.usize(..5000)),
        3 => format!(
            "BITFIELD {k} OVERFLOW {} INCRBY i{} {} {}",
            ["WRAP", "SAT", "FAIL"][rng.usize(..3)],
            rng.usize(1..65),
            off,
            rng.i64(-300..300)
        ),
        4 => format!(
            "BITFIELD {k} SET u8 #{} {}",
            rng.usize(..40),
            rng.usize(..300)
        ),
        5 => format!("BITOP {} {k} {o} b", ["AND", "OR", "XOR"][rng.usize(..3)]),
        6 => format!("BITOP NOT {k} {o}"),
        7 | 8 => format!(
            "PFADD {k} {}",
            (0..rng.usize(1..20))
                .map(|_| rng.usize(..3000).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        9 => format!("PFMERGE {k} {o}"),
        10 => format!("PFCOUNT {k} {o}"),
        11 => format!("SET {k} {}", rng.usize(..100)),
        12 => format!("SETRANGE {k} {off} xy"),
        _ => format!("RPUSH {k} x"),
    };
    cmd(&line)
}

#[test]
fn undo_and_redo_of_bit_and_hll_writes_restore_the_keyspace() {
    for seed in 0..300u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let client = engine.connect();
        for _ in 0..rng.usize(0..20) {
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
            "seed {seed}: undo after {commands:#?}"
        );
        for (db, delta) in redo.into_iter().rev() {
            engine.keyspace.apply(db, delta);
        }
        assert_eq!(
            snapshot(&engine),
            after,
            "seed {seed}: redo after {commands:#?}"
        );
    }
}

#[test]
fn setbit_on_a_big_string_records_one_byte() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    engine.execute(client, &cmd("SETBIT k 8000000 1"));
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    engine.execute(client, &cmd("SETBIT k 9 1"));
    engine.execute(client, &cmd("SETBIT k 16000007 1"));
    engine.execute(client, &cmd("BITFIELD k SET u16 #1 65535"));
    let deltas = recorder.0.lock().unwrap().clone();
    let ranges: Vec<(usize, Vec<u8>, usize)> = deltas
        .into_iter()
        .map(|(_, d)| match d {
            Delta::StringRange {
                offset, old, len, ..
            } => (offset, old, len),
            other => panic!("not a string range: {other:?}"),
        })
        .collect();
    assert_eq!(
        ranges,
        vec![
            (1, vec![0], 1_000_001),
            (2_000_000, vec![0], 1_000_001),
            (2, vec![0, 0], 2_000_001),
        ]
    );
}

#[test]
fn pfadd_to_a_dense_hll_records_the_changed_bytes_only() {
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    let mut add = cmd("PFADD h");
    add.extend((0..5000).map(|i| format!("e{i}").into_bytes()));
    engine.execute(client, &add);
    assert_eq!(
        engine.execute(client, &cmd("PFDEBUG ENCODING h")),
        Some(redstep::engine::Reply::Status(b"dense".to_vec()))
    );
    engine.execute(client, &cmd("PFCOUNT h"));
    let recorder = Recorder::default();
    engine
        .keyspace
        .set_observer(Some(Box::new(recorder.clone())));
    // An element that raises one register (found by trying).
    let mut raised = None;
    for i in 0..1000 {
        let line = format!("PFADD h new{i}");
        if engine.execute(client, &cmd(&line)) == Some(redstep::engine::Reply::Int(1)) {
            raised = Some(line);
            break;
        }
    }
    assert!(raised.is_some());
    let deltas = recorder.0.lock().unwrap().clone();
    let sizes: Vec<(usize, usize)> = deltas
        .iter()
        .map(|(_, d)| match d {
            Delta::StringRange { offset, old, .. } => (*offset, old.len()),
            other => panic!("not a string range: {other:?}"),
        })
        .collect();
    // The cache-invalid bit in the header, then one or two register bytes.
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    assert_eq!(sizes[0], (15, 1));
    assert!(sizes[1].0 >= 16 && sizes[1].1 <= 2, "{sizes:?}");
}

#[test]
fn the_keyspace_pane_shows_an_hll_as_its_count() {
    use redstep::trace::export::short_value;
    let mut engine = Engine::new(Box::new(ManualClock::new(0)));
    let client = engine.connect();
    let entry = |engine: &Engine, key: &str| engine.keyspace.db(0).entry(key.as_bytes()).cloned();
    engine.execute(client, &cmd("PFADD h a b c"));
    assert_eq!(
        short_value(&entry(&engine, "h").unwrap(), 80),
        "hll ~3 (sparse)"
    );
    let mut add = cmd("PFADD d");
    add.extend((0..3000).map(|i| format!("e{i}").into_bytes()));
    engine.execute(client, &add);
    // The cache is invalid after PFADD: the count is estimated.
    let shown = short_value(&entry(&engine, "d").unwrap(), 80);
    let count = engine.execute(client, &cmd("PFCOUNT d"));
    assert_eq!(
        Some(redstep::engine::Reply::Int(
            shown
                .trim_start_matches("hll ~")
                .trim_end_matches(" (dense)")
                .parse()
                .unwrap()
        )),
        count,
        "{shown}"
    );
    engine.execute(client, &cmd("SET s HYLL"));
    engine.execute(client, &cmd("SETBIT b 6 1"));
    assert_eq!(short_value(&entry(&engine, "s").unwrap(), 80), "\"HYLL\"");
    assert_eq!(short_value(&entry(&engine, "b").unwrap(), 80), "\"\\x02\"");
}

//! Bitmap and HyperLogLog writes in a traced script: the debugger's
//! keyspace at every call step equals running the first calls directly
//! (time travel), and undoing the run restores the keyspace.

mod env;
use env::Env;
use redstep::engine::keyspace::Entry;
use redstep::trace::{Debugger, StepKind};

/// Keys of each kind the script works on.
fn fill(env: &mut Env) {
    env.run("SET a 5");
    env.run("SETBIT b 100 1");
    let mut line = String::from("PFADD dense");
    for i in 0..3000 {
        line += &format!(" e{i}");
    }
    env.run(&line);
    env.run("PFADD sparse x y");
}

fn random_call(rng: &mut fastrand::Rng) -> String {
    let k = ["a", "b", "c", "dense", "sparse"][rng.usize(..5)];
    let o = ["a", "b", "c", "dense", "sparse"][rng.usize(..5)];
    match rng.usize(..9) {
        0 | 1 => format!(
            "'SETBIT', '{k}', '{}', '{}'",
            rng.usize(..300),
            rng.usize(..2)
        ),
        2 => format!(
            "'BITFIELD', '{k}', 'OVERFLOW', 'SAT', 'INCRBY', 'i7', '{}', '{}'",
            rng.usize(..100),
            rng.i64(-90..90)
        ),
        3 => format!("'BITOP', 'XOR', '{k}', '{o}', 'b'"),
        4 | 5 => format!("'PFADD', '{k}', 'n{}', 'm{}'", rng.u32(..), rng.u32(..)),
        6 => format!("'PFCOUNT', '{k}'"),
        7 => format!("'PFMERGE', '{k}', '{o}'"),
        _ => format!("'DEL', '{k}'"),
    }
}

#[test]
fn time_travel_and_undo_over_bit_and_hll_writes() {
    for seed in 0..40u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let calls: Vec<String> = (0..rng.usize(1..20))
            .map(|_| random_call(&mut rng))
            .collect();
        let body: String = calls
            .iter()
            .map(|c| format!("redis.pcall({c})\n"))
            .collect();
        let mut traced = Env::new();
        fill(&mut traced);
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
        fill(&mut direct);
        let mut keys: Vec<(usize, Vec<u8>)> = ["a", "b", "c", "dense", "sparse"]
            .iter()
            .map(|k| (0, k.as_bytes().to_vec()))
            .collect();
        keys.sort();
        for (k, call) in calls.iter().enumerate() {
            direct.eval(&format!("redis.pcall({call})"));
            let expected = direct.snapshot();
            debugger.goto(call_steps[k]);
            let shown: Vec<(usize, Vec<u8>, Entry)> = keys
                .iter()
                .filter_map(|(db, key)| {
                    debugger
                        .entry(&traced.engine.keyspace, *db, key)
                        .map(|e| (*db, key.clone(), e.clone()))
                })
                .collect();
            assert_eq!(shown, expected, "seed {seed}, after call {k}: {call}");
        }
        debugger.goto(0);
        assert_eq!(
            traced.snapshot(),
            after,
            "the debugger leaves the keyspace alone"
        );
        timeline.undo_in(&mut traced.engine.keyspace).unwrap();
        assert_eq!(traced.snapshot(), before, "seed {seed}: undo of the run");
    }
}

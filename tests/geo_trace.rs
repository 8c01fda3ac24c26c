//! Geo writes in a traced script: GEOADD and the STORE forms report inverse
//! deltas like the sorted-set writes they are, so undoing the run restores
//! the keyspace, and the debugger shows each step's keyspace.

mod env;
use env::Env;
use redstep::engine::keyspace::Entry;
use redstep::engine::Reply;
use redstep::trace::{Debugger, StepKind};

fn fill(env: &mut Env) {
    env.run("GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania");
    env.run("SET s text");
    env.run("ZADD d 1 old");
}

#[test]
fn a_geoadd_in_a_traced_run_is_undone_by_the_runs_deltas() {
    let mut env = Env::new();
    fill(&mut env);
    let before = env.snapshot();
    let timeline = env.eval(
        "redis.call('GEOADD', 'g', 12.758489, 38.788135, 'Trapani', 13, 38, 'Palermo')\n\
         redis.call('GEOADD', 'fresh', 0, 0, 'origin')\n\
         redis.call('GEOADD', 'g', 1, 100, 'bad')",
    );
    assert!(
        matches!(env.run("ZCARD g"), Reply::Int(3)),
        "the writes before the failing line stay"
    );
    assert!(matches!(env.run("EXISTS fresh"), Reply::Int(1)));
    assert_ne!(env.snapshot(), before);
    timeline.undo_in(&mut env.engine.keyspace).unwrap();
    assert_eq!(env.snapshot(), before, "undo of the run");
    assert_eq!(
        env.run("GEOPOS g Palermo"),
        Reply::Array(vec![Reply::Array(vec![
            Reply::bulk("13.36138933897018433"),
            Reply::bulk("38.11555639549629859"),
        ])])
    );
}

fn random_call(rng: &mut fastrand::Rng) -> String {
    let keys = ["g", "s", "d", "new"];
    let k = keys[rng.usize(..keys.len())];
    let o = keys[rng.usize(..keys.len())];
    let lon = rng.i32(-180..=180);
    let lat = rng.i32(-85..=85);
    let member = ["Palermo", "Catania", "a", "b"][rng.usize(..4)];
    match rng.usize(..7) {
        0 | 1 => format!("'GEOADD', '{k}', {lon}, {lat}, '{member}'"),
        2 => format!("'GEOADD', '{k}', 'XX', 'CH', {lon}, {lat}, '{member}'"),
        3 => format!("'GEORADIUS', '{k}', {lon}, {lat}, 5000, 'km', 'STORE', '{o}'"),
        4 => format!("'GEOSEARCHSTORE', '{o}', '{k}', 'FROMLONLAT', {lon}, {lat}, 'BYBOX', 8000, 8000, 'km', 'STOREDIST'"),
        5 => format!("'GEORADIUSBYMEMBER', '{k}', '{member}', 3000, 'km', 'STOREDIST', '{o}'"),
        _ => format!("'ZREM', '{k}', '{member}'"),
    }
}

#[test]
fn time_travel_and_undo_over_geo_writes() {
    for seed in 0..40u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let calls: Vec<String> = (0..rng.usize(1..15))
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
        let keys: Vec<&str> = vec!["d", "g", "new", "s"];
        for (k, call) in calls.iter().enumerate() {
            direct.eval(&format!("redis.pcall({call})"));
            let expected = direct.snapshot();
            debugger.goto(call_steps[k]);
            let shown: Vec<(usize, Vec<u8>, Entry)> = keys
                .iter()
                .filter_map(|key| {
                    debugger
                        .entry(&traced.engine.keyspace, 0, key.as_bytes())
                        .map(|e| (0, key.as_bytes().to_vec(), e.clone()))
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

//! 1,000,000 `XADD`s and 1,000,000 `SETBIT`s, each in one script: redstep's
//! embedded engine against a real `redis-server` measured in the same run
//! (when one is installed), reported as ratios (target: at most 1.0). Then
//! the same two scripts recorded by the trace recorder against their
//! untraced runs, as ratios (target: under 3x). Run with `cargo bench`.
//! Each figure is the median of 5 copies of this program (`-- --copies N`
//! for N), each a new file beside its own copy of `redis-server` (see
//! `common::copies`).

mod common;

use common::copies;

use std::time::{Duration, Instant};

use redstep::engine::{Engine, Reply};
use redstep::script::{ScriptConfig, Scripting};
use redstep::trace::{self, Limits};

const XADD_SCRIPT: &str = "for i = 1, 1000000 do redis.call('XADD', KEYS[1], '*', 'f', i) end return redis.call('XLEN', KEYS[1])";
const SETBIT_SCRIPT: &str = "for i = 0, 999999 do redis.call('SETBIT', KEYS[1], i, 1) end return redis.call('BITCOUNT', KEYS[1])";
const ROUNDS: usize = 3;

/// The measured scripts: a label, the script, its key, and the integer it
/// returns on both servers.
const CASES: [(&str, &str, &str, i64); 2] = [
    ("1M XADD  ", XADD_SCRIPT, "stream", 1_000_000),
    ("1M SETBIT", SETBIT_SCRIPT, "bits", 1_000_000),
];

fn best_of(mut run: impl FnMut() -> Duration) -> Duration {
    (0..ROUNDS).map(|_| run()).min().unwrap()
}

fn argv(script: &str, key: &str) -> Vec<Vec<u8>> {
    ["EVAL", script, "1", key]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

fn embedded(script: &str, key: &str, expected: i64) -> Duration {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let client = engine.connect();
    let argv = argv(script, key);
    best_of(|| {
        engine.execute_with(
            client,
            &[b"DEL".to_vec(), key.as_bytes().to_vec()],
            &mut scripting,
        );
        let start = Instant::now();
        let reply = engine.execute_with(client, &argv, &mut scripting);
        let elapsed = start.elapsed();
        assert_eq!(reply, Some(Reply::Int(expected)));
        elapsed
    })
}

/// The same script recorded by the trace recorder with the limits
/// `redstep run --trace` uses by default (`Limits::default()`: 5,000,000
/// steps, 512 MB): every line, call and keyspace delta is kept, locals for
/// the first 100,000 line steps. The trace must not be cut, so what is
/// measured is the whole script, recorded in full.
fn traced(script: &str, key: &str, expected: i64) -> (Duration, trace::Timeline) {
    let mut best: Option<(Duration, trace::Timeline)> = None;
    for _ in 0..ROUNDS {
        let mut engine = Engine::default();
        let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let mut client = engine.new_client();
        let argv = argv(script, key);
        let start = Instant::now();
        let timeline = trace::record(
            &mut engine,
            &mut scripting,
            &mut client,
            &argv,
            Limits::default(),
        );
        let elapsed = start.elapsed();
        assert_eq!(timeline.outcome.truncated, None);
        assert_eq!(timeline.outcome.reply, Reply::Int(expected));
        if best.as_ref().is_none_or(|(d, _)| elapsed < *d) {
            best = Some((elapsed, timeline));
        }
    }
    best.unwrap()
}

fn real_redis() -> Option<Vec<Duration>> {
    let mut redis = common::Redis::start()?;
    Some(
        CASES
            .iter()
            .map(|&(_, script, key, expected)| {
                best_of(|| {
                    redis.call(&["DEL", key]);
                    let start = Instant::now();
                    let reply = redis.call(&["EVAL", script, "1", key]);
                    let elapsed = start.elapsed();
                    assert_eq!(reply, format!(":{expected}"));
                    elapsed
                })
            })
            .collect(),
    )
}

fn main() {
    // `-- --copies N`: N copies of this program measure (5 by default).
    if copies::is_copy() {
        measure();
        return;
    }
    let n = copies::count();
    report(&copies::run(n), n);
}

/// What one copy measures (see [`copies`]), in milliseconds and bytes.
fn measure() {
    for (i, &(_, script, key, expected)) in CASES.iter().enumerate() {
        copies::figure(&format!("ours{i}"), ms(embedded(script, key, expected)));
        let (with_trace, timeline) = traced(script, key, expected);
        copies::figure(&format!("traced{i}"), ms(with_trace));
        copies::figure(&format!("steps{i}"), timeline.steps.len() as f64);
        copies::figure(&format!("bytes{i}"), timeline.outcome.trace_bytes as f64);
    }
    if let Some(theirs) = real_redis() {
        for (i, time) in theirs.into_iter().enumerate() {
            copies::figure(&format!("redis{i}"), ms(time));
        }
    }
}

/// The medians over the copies, with their targets.
fn report(figures: &[copies::Figures], n: usize) {
    copies::heading(n);
    let with_redis = figures.iter().all(|f| f.has("redis0"));
    for (i, &(name, ..)) in CASES.iter().enumerate() {
        let ours = copies::spread(figures, |f| f.get(&format!("ours{i}")));
        println!(
            "redstep (embedded) {name}: {:>8.1} ms {}  in one EVAL (best of {ROUNDS})",
            ours.median,
            ours.range(1)
        );
    }
    if with_redis {
        for (i, &(name, ..)) in CASES.iter().enumerate() {
            let theirs = copies::spread(figures, |f| f.get(&format!("redis{i}")));
            let ratio = copies::spread(figures, |f| {
                f.get(&format!("ours{i}")) / f.get(&format!("redis{i}"))
            });
            println!(
                "redis-server 7.0   {name}: {:>8.1} ms {}  (same script, same machine, same run)",
                theirs.median,
                theirs.range(1)
            );
            println!(
                "ratio redstep/redis {name}: {:>6.3}  {}  (target: <= 1.0: {})",
                ratio.median,
                ratio.range(3),
                if ratio.median <= 1.0 { "met" } else { "MISSED" }
            );
        }
    } else {
        println!(
            "redis-server not found: install it (apt-get install redis-server) to get the ratios (SKIPPED)"
        );
    }
    for (i, &(name, ..)) in CASES.iter().enumerate() {
        let with_trace = copies::spread(figures, |f| f.get(&format!("traced{i}")));
        let ratio = copies::spread(figures, |f| {
            f.get(&format!("traced{i}")) / f.get(&format!("ours{i}"))
        });
        println!(
            "traced {name}     : {:>8.1} ms  {:.2}x the untraced run {} (target: < 3x: {}), {} steps, trace ~{:.0} MB",
            with_trace.median,
            ratio.median,
            ratio.range(2),
            if ratio.median < 3.0 { "met" } else { "MISSED" },
            figures[0].get(&format!("steps{i}")),
            figures[0].get(&format!("bytes{i}")) / (1024.0 * 1024.0)
        );
    }
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

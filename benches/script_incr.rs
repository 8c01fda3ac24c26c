//! 1,000,000 `redis.call('INCR', KEYS[1])` in one script: redstep's embedded
//! engine against a real `redis-server` measured in the same run (when one
//! is installed), reported as a ratio. Then `redstep run` of 40,000 writes
//! with and without `--trace` (text, JSON, Markdown), as ratios measured in
//! the same run (target: at most 5x). Run with `cargo bench`.
//!
//! The script's figures are measured by 5 copies of this program (`--
//! --copies N` for N), each a new file beside its own copy of
//! `redis-server`, and reported as their medians (see `common::copies`).

mod common;

use common::copies;

use std::time::{Duration, Instant};

use redstep::engine::{Engine, Reply};
use redstep::script::{ScriptConfig, Scripting};
use redstep::trace::{self, Limits};

const SCRIPT: &str =
    "for i = 1, 1000000 do redis.call('INCR', KEYS[1]) end return redis.call('GET', KEYS[1])";
const ROUNDS: usize = 3;
/// Untraced and traced runs measured in turn (see [`traced`]).
const PAIRED: usize = 4;

fn best_of(mut run: impl FnMut() -> Duration) -> Duration {
    (0..ROUNDS).map(|_| run()).min().unwrap()
}

fn embedded() -> Duration {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let client = engine.connect();
    let argv: Vec<Vec<u8>> = ["EVAL", SCRIPT, "1", "counter"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    best_of(|| {
        engine.execute_with(
            client,
            &[b"DEL".to_vec(), b"counter".to_vec()],
            &mut scripting,
        );
        let start = Instant::now();
        let reply = engine.execute_with(client, &argv, &mut scripting);
        let elapsed = start.elapsed();
        assert_eq!(reply, Some(Reply::bulk("1000000")));
        elapsed
    })
}

/// The script untraced and with full tracing (every line, call and delta
/// kept), one run of each in turn, each in a fresh engine, best of
/// `PAIRED` pairs: a slow spell of the machine meets both alike. Returns
/// both times, the steps and the heap the timeline holds (counted once the
/// engine and its Lua state are gone: the timeline's own bytes, not an
/// estimate).
fn traced(script: &str, key: &str) -> (Duration, Duration, usize, usize) {
    let argv: Vec<Vec<u8>> = ["EVAL", script, "1", key]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let mut plain = Duration::MAX;
    let mut best: Option<(Duration, usize, usize)> = None;
    for _ in 0..PAIRED {
        {
            let mut engine = Engine::default();
            let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
            let client = engine.connect();
            let start = Instant::now();
            engine.execute_with(client, &argv, &mut scripting);
            plain = plain.min(start.elapsed());
        }
        let before = common::heap::live();
        let (elapsed, timeline) = {
            let mut engine = Engine::default();
            let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
            let mut client = engine.new_client();
            let limits = Limits {
                max_steps: usize::MAX,
                max_bytes: usize::MAX,
                ..Limits::default()
            };
            let start = Instant::now();
            let timeline = trace::record(&mut engine, &mut scripting, &mut client, &argv, limits);
            (start.elapsed(), timeline)
        };
        let held = common::heap::live().saturating_sub(before);
        assert_eq!(timeline.outcome.truncated, None);
        if best.as_ref().is_none_or(|(d, _, _)| elapsed < *d) {
            best = Some((elapsed, timeline.steps.len(), held));
        }
    }
    let (with_trace, steps, held) = best.unwrap();
    (plain, with_trace, steps, held)
}

fn real_redis() -> Option<Duration> {
    let mut redis = common::Redis::start()?;
    Some(best_of(|| {
        redis.call(&["DEL", "counter"]);
        let start = Instant::now();
        let reply = redis.call(&["EVAL", SCRIPT, "1", "counter"]);
        let elapsed = start.elapsed();
        assert_eq!(reply, "1000000");
        elapsed
    }))
}

const RPUSH_SCRIPT: &str =
    "for i = 1, 100000 do redis.call('RPUSH', KEYS[1], i) end return redis.call('LLEN', KEYS[1])";

const WRITES_40K: &str = "for i = 1, 40000 do redis.call('SET', 'k'..i, i) end return 1";

/// `redstep run` in process (what the command does after parsing its
/// arguments), with `trace` as its `--trace` option; returns the time and
/// the bytes it printed.
fn run_command(trace: Option<redstep::run::TraceFormat>) -> (Duration, usize) {
    let mut printed = 0;
    let time = best_of(|| {
        let input = redstep::run::RunInput {
            body: WRITES_40K.as_bytes().to_vec(),
            keys: Vec::new(),
            args: Vec::new(),
            setup: Vec::new(),
            raw: false,
            trace,
            limits: Limits::default(),
            server: None,
            lane: Vec::new(),
            cluster: None,
            file: None,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let start = Instant::now();
        redstep::run::run(input, &mut out, &mut err).unwrap();
        let elapsed = start.elapsed();
        printed = out.len();
        elapsed
    });
    (time, printed)
}

fn run_trace_ratios() {
    use redstep::run::TraceFormat;
    let (plain, _) = run_command(None);
    println!(
        "run, 40k SET       : {:>8.1} ms  untraced (best of {ROUNDS})",
        plain.as_secs_f64() * 1e3
    );
    for (name, format) in [
        ("--trace (text)", TraceFormat::Text),
        ("--trace json", TraceFormat::Json),
        ("--trace md", TraceFormat::Markdown),
    ] {
        let (time, bytes) = run_command(Some(format));
        let ratio = time.as_secs_f64() / plain.as_secs_f64();
        println!(
            "run {name:<15}: {:>8.1} ms  {ratio:.2}x the untraced run (target: <= 5x: {}), {:.1} MB printed",
            time.as_secs_f64() * 1e3,
            if ratio <= 5.0 { "met" } else { "MISSED" },
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}

fn main() {
    // `cargo bench --bench script_incr -- trace`: the traced runs alone;
    // `-- --copies N`: N copies of this program measure (5 by default).
    let only_trace = std::env::args().any(|a| a == "trace");
    if copies::is_copy() {
        measure(only_trace);
        return;
    }
    if !only_trace {
        run_trace_ratios();
    }
    let n = copies::count();
    report(&copies::run(n), n, only_trace);
}

/// What one copy measures (see [`copies`]), in milliseconds and bytes.
fn measure(only_trace: bool) {
    copies::figure("ours", ms(embedded()));
    if let Some(theirs) = real_redis().filter(|_| !only_trace) {
        copies::figure("redis", ms(theirs));
    }
    let (plain, with_trace, steps, held) = traced(SCRIPT, "counter");
    copies::figure("plain", ms(plain));
    copies::figure("traced", ms(with_trace));
    copies::figure("steps", steps as f64);
    copies::figure("held", held as f64);
    let (plain, with_trace, _, held) = traced(RPUSH_SCRIPT, "list");
    copies::figure("rpush_plain", ms(plain));
    copies::figure("rpush_traced", ms(with_trace));
    copies::figure("rpush_held", held as f64);
}

/// The copies' figures, each copy's ratios, then the medians with their targets.
fn report(figures: &[copies::Figures], n: usize, only_trace: bool) {
    let with_redis = !only_trace && figures.iter().all(|f| f.has("redis"));
    for (i, f) in figures.iter().enumerate() {
        let redis = if with_redis {
            format!(
                "in-script {:.3}x Redis ({:.1} / {:.1} ms), ",
                f.get("ours") / f.get("redis"),
                f.get("ours"),
                f.get("redis")
            )
        } else {
            String::new()
        };
        println!(
            "copy {}: {redis}traced {:.3}x untraced ({:.1} / {:.1} ms)",
            i + 1,
            f.get("traced") / f.get("plain"),
            f.get("traced"),
            f.get("plain")
        );
    }
    copies::heading(n);
    let ours = copies::spread(figures, |f| f.get("ours"));
    println!(
        "redstep (embedded) : {:>8.1} ms {}  for 1,000,000 redis.call('INCR') in one EVAL (best of {ROUNDS})",
        ours.median,
        ours.range(1)
    );
    if with_redis {
        let theirs = copies::spread(figures, |f| f.get("redis"));
        println!(
            "redis-server 7.0   : {:>8.1} ms {}  (same script, same machine, same run)",
            theirs.median,
            theirs.range(1)
        );
        let ratio = copies::spread(figures, |f| f.get("ours") / f.get("redis"));
        println!(
            "ratio redstep/redis: {:>8.3}  {}  (target: <= 0.5: {})",
            ratio.median,
            ratio.range(3),
            met(ratio.median <= 0.5)
        );
    } else if !only_trace {
        println!(
            "redis-server not found: install it (apt-get install redis-server) to get the ratio"
        );
    }
    let (plain, with_trace) = (
        copies::spread(figures, |f| f.get("plain")),
        copies::spread(figures, |f| f.get("traced")),
    );
    let ratio = copies::spread(figures, |f| f.get("traced") / f.get("plain"));
    let (steps, held) = (figures[0].get("steps"), figures[0].get("held"));
    let per_step = (held / steps) as usize;
    println!(
        "traced 1M INCR     : {:>8.1} ms  {:.3}x the untraced run {} ({:.1} ms, best of {PAIRED} in turn) (target: <= 2x: {}), {steps} steps",
        with_trace.median,
        ratio.median,
        ratio.range(3),
        plain.median,
        met(ratio.median <= 2.0),
    );
    println!(
        "  its trace holds  : {:>8.1} MB of heap (counted) = {per_step} bytes a step (target: <= 64: {})",
        held / (1024.0 * 1024.0),
        met(per_step <= 64)
    );
    let (plain, with_trace) = (
        copies::spread(figures, |f| f.get("rpush_plain")),
        copies::spread(figures, |f| f.get("rpush_traced")),
    );
    let rpush_held = figures[0].get("rpush_held");
    println!(
        "100k RPUSH, traced : {:>8.1} ms  {:.2}x the untraced run ({:.1} ms), trace {:.1} MB of heap = {} bytes per pushed element",
        with_trace.median,
        copies::spread(figures, |f| f.get("rpush_traced") / f.get("rpush_plain")).median,
        plain.median,
        rpush_held / (1024.0 * 1024.0),
        rpush_held as usize / 100_000
    );
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "not met"
    }
}

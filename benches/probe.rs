//! `redstep probe`'s speed: probe runs per second on the post's inc.lua and
//! on a 20-line rate limiter, on one thread and on every core, against the
//! rate of plain (untraced) runs of the same script on the same keyspace in
//! the same process. Target: at least 5,000 probe runs per second per core
//! on inc.lua. Run with `cargo bench --bench probe`.

use std::time::Instant;

use redstep::engine::Engine;
use redstep::probe::{probe, Options, Target};
use redstep::protocol::cli::setup_commands;
use redstep::script::{ScriptConfig, Scripting};

const INC: &str = include_str!("../assets/post/inc.lua");
const LIMITER: &str = "\
-- KEYS[1]: the counter, KEYS[2]: the log; ARGV: limit, window (s), now (ms)
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], window)
end
redis.call('ZADD', KEYS[2], now, now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, now - window * 1000)
local recent = redis.call('ZCARD', KEYS[2])
if count > limit then
  return redis.error_reply('rate limited')
end
if recent > limit * 2 then
  redis.call('DEL', KEYS[2])
end
local ttl = redis.call('TTL', KEYS[1])
return {count, recent, ttl}
";

fn target(name: &str, body: &str, keys: &[&str], args: &[&str], setup: &[&str]) -> Target {
    Target {
        name: name.into(),
        body: body.as_bytes().to_vec(),
        keys: keys.iter().map(|k| k.as_bytes().to_vec()).collect(),
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        setup: setup_commands(&setup.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
    }
}

/// Plain runs per second: the same setup and EVAL, no recorder, one engine.
fn plain_rate(t: &Target, runs: usize) -> f64 {
    let mut engine = Engine::default();
    let mut scripting = Scripting::new(&mut engine, ScriptConfig::default());
    let mut client = engine.new_client();
    let mut argv = vec![
        b"EVAL".to_vec(),
        t.body.clone(),
        t.keys.len().to_string().into_bytes(),
    ];
    argv.extend(t.keys.iter().cloned());
    argv.extend(t.args.iter().cloned());
    let setup: Vec<Vec<Vec<u8>>> = t
        .setup
        .iter()
        .map(|l| redstep::protocol::cli::split_args(&l.line).unwrap())
        .collect();
    let start = Instant::now();
    for _ in 0..runs {
        engine.call(&mut client, &[b"FLUSHALL".to_vec()], &mut scripting);
        for command in &setup {
            engine.call(&mut client, command, &mut scripting);
        }
        engine.call(&mut client, &argv, &mut scripting);
    }
    runs as f64 / start.elapsed().as_secs_f64()
}

/// Script runs per second inside probes (every run a probe makes: inputs,
/// shrinking, the findings' final runs; each probe builds its own engine),
/// with `threads` threads probing side by side, each `repeat` times.
fn probe_rate(t: &Target, budget: usize, threads: usize, repeat: usize) -> (f64, usize) {
    let start = Instant::now();
    let (executed, inputs): (usize, usize) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                s.spawn(move || {
                    (0..repeat)
                        .map(|r| {
                            let report = probe(
                                t,
                                Options {
                                    budget,
                                    seed: (i * repeat + r) as u64 + 1,
                                },
                            );
                            (report.executed, report.runs)
                        })
                        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    (
        executed as f64 / start.elapsed().as_secs_f64(),
        inputs / (threads * repeat),
    )
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cases = [
        (
            "inc.lua",
            target("inc.lua", INC, &[], &[], &["SET a 42", "SET b 42"]),
        ),
        (
            "rate limiter (20 lines)",
            target(
                "limiter.lua",
                LIMITER,
                &["rate:u1", "log:u1"],
                &["10", "60", "1700000000000"],
                &["SET rate:u1 3"],
            ),
        ),
    ];
    println!(
        "probe runs per second (each a fresh keyspace, setup, traced EVAL), against plain runs:"
    );
    for (name, t) in &cases {
        let plain = plain_rate(t, 20_000);
        // inc.lua has few inputs (no KEYS or ARGV): probe it many times.
        let repeat = if t.keys.is_empty() { 300 } else { 2 };
        let (one, runs) = probe_rate(t, 5_000, 1, repeat);
        let (all, _) = probe_rate(t, 5_000, cores, repeat);
        println!(
            "{name:<24} plain {plain:>9.0}/s  probe 1 thread {one:>8.0}/s ({:.2}x plain, {runs} inputs a probe)  {cores} threads {all:>8.0}/s{}",
            one / plain,
            if *name == "inc.lua" {
                format!(
                    "  target >= 5000/s per core: {}",
                    if all / cores as f64 >= 5000.0 { "met" } else { "NOT met" }
                )
            } else {
                String::new()
            }
        );
    }
}

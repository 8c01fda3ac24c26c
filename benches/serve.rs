//! `redstep serve` beside a real `redis-server`, in the same run, under
//! `redis-benchmark` (50 clients): EVAL of one INCR, and pipelined SET and
//! GET. Prints each ratio of requests per second with its target, and the
//! p99 latencies side by side. Needs `redis-server` and `redis-benchmark`
//! (apt-get install redis-server); says so and stops without them.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Redis;

/// Runs of each workload on each server, alternating; the median counts.
const ROUNDS: usize = 3;

struct Workload {
    name: &'static str,
    args: &'static [&'static str],
    /// redstep's requests per second over Redis's, at least.
    target: f64,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "EVAL one INCR",
        args: &[
            "-n",
            "100000",
            "eval",
            "return redis.call('INCR', KEYS[1])",
            "1",
            "k",
        ],
        target: 1.0,
    },
    Workload {
        name: "SET, pipelined 16",
        args: &["-n", "1000000", "-P", "16", "-t", "set"],
        target: 0.7,
    },
    Workload {
        name: "GET, pipelined 16",
        args: &["-n", "1000000", "-P", "16", "-t", "get"],
        target: 0.7,
    },
];

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redstep() -> (Serve, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_redstep"))
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redstep serve");
    let serve = Serve(child);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redstep serve did not listen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (serve, port)
}

/// Requests per second and p99 latency (ms) of one redis-benchmark run.
fn bench(port: u16, workload: &Workload) -> (f64, f64) {
    let out = Command::new("redis-benchmark")
        .args([
            "-p",
            &port.to_string(),
            "-c",
            "50",
            "--csv",
            "--precision",
            "3",
        ])
        .args(workload.args)
        .stderr(Stdio::null())
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .last()
        .filter(|l| !l.starts_with("\"test\""))
        .unwrap_or_else(|| panic!("redis-benchmark printed {text:?}"));
    let fields: Vec<f64> = line
        .rsplitn(8, ',')
        .map(|f| f.trim_matches('"').parse().unwrap_or(f64::NAN))
        .collect();
    // Reversed: max, p99, p95, p50, min, avg, rps.
    (fields[6], fields[1])
}

fn median(mut v: Vec<(f64, f64)>) -> (f64, f64) {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v[v.len() / 2]
}

fn main() {
    let Some(redis) = Redis::start() else {
        println!(
            "redis-server not found: install it (apt-get install redis-server) to get the ratios"
        );
        return;
    };
    if Command::new("redis-benchmark")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("redis-benchmark not found: install redis-server (it comes with it)");
        return;
    }
    let (_serve, port) = start_redstep();
    println!("redis-benchmark, 50 clients, median of {ROUNDS} runs on each server, alternating:");
    println!(
        "{:<20} {:>12} {:>12} {:>7}  {:<22} {:>9} {:>9}",
        "", "redis req/s", "redstep", "ratio", "target", "p99 redis", "redstep"
    );
    for w in WORKLOADS {
        let mut theirs = Vec::new();
        let mut ours = Vec::new();
        for _ in 0..ROUNDS {
            theirs.push(bench(redis.port, w));
            ours.push(bench(port, w));
        }
        let (theirs, ours) = (median(theirs), median(ours));
        let ratio = ours.0 / theirs.0;
        println!(
            "{:<20} {:>12.0} {:>12.0} {:>6.2}x  {:<22} {:>6.3} ms {:>6.3} ms (p99 not worse: {})",
            w.name,
            theirs.0,
            ours.0,
            ratio,
            format!(">= {:.1}x: {}", w.target, met(ratio >= w.target)),
            theirs.1,
            ours.1,
            met(ours.1 <= theirs.1),
        );
    }
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "not met"
    }
}

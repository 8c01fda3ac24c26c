//! `redstep serve` beside a real `redis-server`, in the same run, under
//! `redis-benchmark` (50 clients): EVAL of one INCR, and pipelined SET and
//! GET. Prints each ratio of requests per second with its target, and the
//! p99 latencies side by side. Needs `redis-server` and `redis-benchmark`
//! (apt-get install redis-server); says so and stops without them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Redis;

/// Runs of each workload on each server, alternating; the medians count.
const ROUNDS: usize = 5;

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

/// A `redstep serve` child, on its port.
struct Serve(Child, u16);

impl Drop for Serve {
    /// Asks the server to end (SHUTDOWN, so that it exits as a process
    /// does: a build instrumented for profile-guided optimisation writes
    /// its profile then), and kills it if it has not within 10 seconds.
    fn drop(&mut self) {
        let wait = Duration::from_secs(10);
        if let Ok(mut stream) = TcpStream::connect_timeout(&([127, 0, 0, 1], self.1).into(), wait) {
            let _ = stream.set_read_timeout(Some(wait));
            let _ = stream.set_write_timeout(Some(wait));
            let _ = stream.write_all(b"SHUTDOWN NOSAVE\r\n");
            let _ = stream.read(&mut [0; 64]);
        }
        let start = Instant::now();
        while start.elapsed() < wait {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
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
    let serve = Serve(child, port);
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

/// Where the processes run. Redis's benchmark page: "redis-benchmark
/// results seem non-deterministic because client and server processes are
/// distributed randomly on the cores. To get deterministic results, it is
/// required to use process placement tools (on Linux: taskset or
/// numactl)". With two cores or more (and `taskset`), redis-benchmark runs
/// on core 0 and each server, every thread of it, on core 1.
struct Placement {
    pinned: bool,
}

impl Placement {
    fn new() -> Placement {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let taskset = Command::new("taskset")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        Placement {
            pinned: cores >= 2 && taskset,
        }
    }

    /// Puts a server (all its threads) on core 1.
    fn server(&self, pid: u32) {
        if self.pinned {
            let placed = Command::new("taskset")
                .args(["-a", "-p", "-c", "1", &pid.to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(placed, "taskset could not place process {pid}");
        }
    }

    /// redis-benchmark, on core 0.
    fn client(&self) -> Command {
        if self.pinned {
            let mut command = Command::new("taskset");
            command.args(["-c", "0", "redis-benchmark"]);
            command
        } else {
            Command::new("redis-benchmark")
        }
    }

    fn describe(&self) -> &'static str {
        if self.pinned {
            "redis-benchmark on core 0, each server on core 1 (taskset)"
        } else {
            "unpinned (fewer than 2 cores, or no taskset): the ratios are noisier"
        }
    }
}

/// CPU time a process used (its threads', and its reaped children's) in
/// seconds, from `/proc/PID/stat`.
fn cpu_seconds(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's name (it may hold spaces): state is
    // the first; utime, stime, cutime, cstime the 12th to 15th.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    // SAFETY: sysconf reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let at = |i: usize| fields.get(i).copied().unwrap_or(0.0) / hz;
    (at(11) + at(12), at(13) + at(14))
}

/// One redis-benchmark run against one server.
struct Run {
    rps: f64,
    p99_ms: f64,
    /// The server's CPU time a request, in microseconds.
    server_us: f64,
    /// The share of its core redis-benchmark used.
    client_busy: f64,
}

/// Runs one workload against the server `pid` listening on `port`.
fn bench(placement: &Placement, pid: u32, port: u16, workload: &Workload) -> Run {
    let requests: f64 = workload
        .args
        .iter()
        .position(|a| *a == "-n")
        .and_then(|i| workload.args.get(i + 1)?.parse().ok())
        .expect("a workload says its number of requests");
    let server_before = cpu_seconds(&pid.to_string()).0;
    let client_before = cpu_seconds("self").1;
    let start = Instant::now();
    let out = placement
        .client()
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
    let wall = start.elapsed().as_secs_f64();
    let server = cpu_seconds(&pid.to_string()).0 - server_before;
    let client = cpu_seconds("self").1 - client_before;
    // Reversed: max, p99, p95, p50, min, avg, rps.
    Run {
        rps: fields[6],
        p99_ms: fields[1],
        server_us: server * 1e6 / requests,
        client_busy: client / wall,
    }
}

/// Each figure's median over the runs (each on its own: a run's p99 swings
/// more than its throughput).
fn median(runs: &[Run]) -> Run {
    let of = |figure: fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(figure).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Run {
        rps: of(|r| r.rps),
        p99_ms: of(|r| r.p99_ms),
        server_us: of(|r| r.server_us),
        client_busy: of(|r| r.client_busy),
    }
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
    let (serve, port) = start_redstep();
    let placement = Placement::new();
    placement.server(redis.pid());
    placement.server(serve.0.id());
    println!(
        "redis-benchmark, 50 clients, median of {ROUNDS} runs on each server, alternating; {}:",
        placement.describe()
    );
    println!(
        "{:<20} {:>12} {:>12} {:>7}  {:<22} {:>9} {:>9}",
        "", "redis req/s", "redstep", "ratio", "target", "p99 redis", "redstep"
    );
    for w in WORKLOADS {
        let mut theirs = Vec::new();
        let mut ours = Vec::new();
        for _ in 0..ROUNDS {
            theirs.push(bench(&placement, redis.pid(), redis.port, w));
            ours.push(bench(&placement, serve.0.id(), port, w));
        }
        let (theirs, ours) = (median(&theirs), median(&ours));
        let ratio = ours.rps / theirs.rps;
        println!(
            "{:<20} {:>12.0} {:>12.0} {:>6.3}x  {:<22} {:>6.3} ms {:>6.3} ms (p99 not worse: {})",
            w.name,
            theirs.rps,
            ours.rps,
            ratio,
            format!(">= {:.1}x: {}", w.target, met(ratio >= w.target)),
            theirs.p99_ms,
            ours.p99_ms,
            met(ours.p99_ms <= theirs.p99_ms),
        );
        // What each server spent a request, and whether redis-benchmark
        // itself was the limit (then both servers answer as fast as it asks).
        println!(
            "{:<20} server CPU a request: redis {:.2} µs, redstep {:.2} µs; redis-benchmark used {:.0}% and {:.0}% of its core",
            "",
            theirs.server_us,
            ours.server_us,
            100.0 * theirs.client_busy,
            100.0 * ours.client_busy,
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

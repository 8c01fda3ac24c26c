//! A bench's figures measured by several copies of its own program, each a
//! new file, and reported as their medians. On some machines where the
//! kernel puts a program's pages alone moves its time by 10% or more (the
//! README's "Where the spread comes from": one build copied with `cp` ran
//! 1M INCRs in 129.5, 130.5, 132.5 and 153.2 ms), so one file's figure
//! says as much about that file as about the code. Each copy starts its own
//! copy of `redis-server` as well, so both sides of a ratio are sampled
//! alike.
//!
//! The program runs as the parent (no `REDSTEP_BENCH_COPY` in its
//! environment): [`run`] copies it and runs the copies one after another;
//! a copy ([`is_copy`]) measures and prints each figure with [`figure`].
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const COPY: &str = "REDSTEP_BENCH_COPY";
/// Where a copy finds its `redis-server` (see `Redis::start`).
pub const REDIS: &str = "REDSTEP_BENCH_REDIS";
/// How many copies when `--copies N` is not given.
const DEFAULT: usize = 5;

/// Whether this process is one of the copies.
pub fn is_copy() -> bool {
    std::env::var_os(COPY).is_some()
}

/// How many copies to run: `--copies N` among the arguments, else 5.
pub fn count() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2)
        .find(|w| w[0] == "--copies")
        .map(|w| match w[1].parse() {
            Ok(n) if n > 0 => n,
            _ => panic!("--copies takes a number above 0, not {:?}", w[1]),
        })
        .unwrap_or(DEFAULT)
}

/// A copy's figure, for its parent.
pub fn figure(name: &str, value: f64) {
    println!("figure {name} {value}");
}

/// One copy's figures, by name.
pub struct Figures(HashMap<String, f64>);

impl Figures {
    /// A figure the copy printed; panics if it printed none of that name.
    pub fn get(&self, name: &str) -> f64 {
        match self.0.get(name) {
            Some(&value) => value,
            None => panic!("a copy of the bench printed no figure {name}"),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Runs `n` copies of this program (with its own arguments), one after
/// another, each from a new file in a fresh temporary folder beside a new
/// copy of `redis-server` when one is installed; returns each copy's
/// figures. A copy that fails stops the bench with its output.
pub fn run(n: usize) -> Vec<Figures> {
    let me = std::env::current_exe().expect("the bench's own program");
    let redis = on_path("redis-server");
    (1..=n)
        .map(|i| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let program = dir.path().join("bench");
            std::fs::copy(&me, &program).expect("a copy of the bench's program");
            let mut command = Command::new(&program);
            command
                .args(std::env::args().skip(1))
                .env(COPY, i.to_string())
                .stderr(Stdio::inherit());
            if let Some(redis) = &redis {
                let copy = dir.path().join("redis-server");
                std::fs::copy(redis, &copy).expect("a copy of redis-server");
                command.env(REDIS, copy);
            }
            let output = command.output().expect("the copy of the bench runs");
            let text = String::from_utf8_lossy(&output.stdout);
            if !output.status.success() {
                panic!("copy {i} of the bench failed ({}):\n{text}", output.status);
            }
            Figures(
                text.lines()
                    .filter_map(|line| {
                        let mut parts = line.strip_prefix("figure ")?.split(' ');
                        let name = parts.next()?.to_string();
                        Some((name, parts.next()?.parse().ok()?))
                    })
                    .collect(),
            )
        })
        .collect()
}

/// The median of one value over the copies (a figure, or a ratio of two),
/// with the least and the greatest.
pub fn spread(copies: &[Figures], value: impl Fn(&Figures) -> f64) -> Spread {
    let mut values: Vec<f64> = copies.iter().map(value).collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Spread {
        median,
        least: values[0],
        most: values[n - 1],
    }
}

#[derive(Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub least: f64,
    pub most: f64,
}

impl Spread {
    /// `[least-most]` with `decimals` decimals.
    pub fn range(&self, decimals: usize) -> String {
        format!("[{:.decimals$}-{:.decimals$}]", self.least, self.most)
    }
}

/// A program's path as the shell would find it.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The line that says how the figures below it were made.
pub fn heading(n: usize) {
    println!(
        "(each figure below: the median of {n} copies of this bench's program, each a new file with \
         its own copy of redis-server, [least-most] across them; README, \"Where the spread comes from\")"
    );
}

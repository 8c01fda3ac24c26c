//! What the tests of recorded runs and undo share: an engine with Lua on a
//! clock that does not move, an observer collecting inverse deltas, and
//! snapshots of the whole keyspace.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use redstep::engine::keyspace::{Entry, DATABASES};
use redstep::engine::{Client, Delta, Engine, ManualClock, Observer, Reply};
use redstep::script::{ScriptConfig, Scripting};
use redstep::trace::{self, Debugger, Limits, Session, Start, Timeline};

pub struct Env {
    pub engine: Engine,
    pub scripting: Scripting,
    pub client: Client,
}

impl Env {
    pub fn new() -> Env {
        let mut engine = Engine::new(Box::new(ManualClock::new(1_764_000_000_000)));
        let scripting = Scripting::new(&mut engine, ScriptConfig::default());
        let client = engine.new_client();
        Env {
            engine,
            scripting,
            client,
        }
    }

    /// One command in redis-cli quoting.
    pub fn run(&mut self, line: &str) -> Reply {
        let argv = redstep::protocol::cli::split_args(line.as_bytes()).unwrap();
        self.engine
            .call(&mut self.client, &argv, &mut self.scripting)
    }

    pub fn trace(&mut self, argv: &[&str]) -> Timeline {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        trace::record(
            &mut self.engine,
            &mut self.scripting,
            &mut self.client,
            &argv,
            Limits::default(),
        )
    }

    /// `EVAL body 0`, recorded.
    pub fn eval(&mut self, body: &str) -> Timeline {
        self.trace(&["EVAL", body, "0"])
    }

    /// Every key of every database.
    pub fn snapshot(&self) -> Vec<(usize, Vec<u8>, Entry)> {
        let mut out = Vec::new();
        for db in 0..DATABASES {
            for (k, e) in self.engine.keyspace.db(db).iter() {
                out.push((db, k.clone(), e.clone()));
            }
        }
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }

    /// The run's session, its cursor placed as a run started by `start` would be.
    pub fn session(&mut self, body: &str, start: Start) -> Session {
        let timeline = self.eval(body);
        Session::new(Debugger::new(timeline, &self.engine.keyspace), &start)
    }
}

/// Collects the inverse deltas the keyspace reports.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<(usize, Delta)>>>);

impl Observer for Recorder {
    fn record(&mut self, db: usize, delta: Delta) {
        self.0.lock().unwrap().push((db, delta));
    }
}

/// Every database's keys and entries, in the keyspace's own order.
pub type Snapshot = Vec<Vec<(Vec<u8>, Entry)>>;

pub fn snapshot(engine: &Engine) -> Snapshot {
    (0..DATABASES)
        .map(|db| {
            engine
                .keyspace
                .db(db)
                .iter()
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect()
        })
        .collect()
}

/// Each step as (its line, its kind's name): a timeline's shape, for
/// comparing with what a run should record.
#[allow(dead_code)] // not every test that shares this module uses it
pub fn step_kinds(timeline: &Timeline) -> Vec<(u32, &'static str)> {
    use redstep::trace::StepKind;
    timeline
        .steps
        .iter()
        .map(|s| {
            let kind = match s.kind {
                StepKind::Line { .. } => "line",
                StepKind::Call(_) => "call",
                StepKind::Error(_) => "error",
                StepKind::Return(_) => "return",
                StepKind::Other(_) => "other",
            };
            (s.line, kind)
        })
        .collect()
}

//! `run --compare`: the same script on a real server and on the embedded
//! engine, from the same keys, step by step.
//!
//! Lines are compared by number, commands as LDB logs them (space-joined,
//! at most ten arguments), replies in LDB's human form, errors and the
//! final reply exactly. Locals are not compared: LDB prints Lua values in
//! its own notation.

use std::fmt::Write;

use super::human;
use super::ldb::{logged_command, Recorded};
use crate::engine::Engine;
use crate::protocol::Reply;
use crate::script::{ScriptConfig, Scripting, HEADLESS_BUDGET};
use crate::trace::{self, Event, Limits, Step, Timeline};

/// The first step where two runs differ.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// From 1.
    pub step: usize,
    pub line: u32,
    pub server: String,
    pub engine: String,
}

pub struct Report {
    pub text: String,
    pub difference: Option<Difference>,
}

/// Runs the recorded script on a fresh embedded engine holding the keys
/// the server run read, and compares the two runs.
pub fn against_engine(recorded: &Recorded, limits: Limits) -> Report {
    against(recorded, Engine::default(), limits)
}

/// `against_engine` on a given engine (tests plant a difference in one).
pub fn against(recorded: &Recorded, mut engine: Engine, limits: Limits) -> Report {
    let mut scripting = Scripting::new(
        &mut engine,
        ScriptConfig {
            budget: Some(HEADLESS_BUDGET),
            ..ScriptConfig::default()
        },
    );
    let mut client = engine.new_client();
    for load in &recorded.loads {
        engine.call(&mut client, load, &mut scripting);
    }
    let ours = trace::record(
        &mut engine,
        &mut scripting,
        &mut client,
        &recorded.timeline.command,
        limits,
    );
    compare(&recorded.timeline, &ours)
}

/// One step as it is compared: what it is, in words.
fn describe(timeline: &Timeline, step: &Step) -> String {
    match timeline.event(step) {
        Event::Line { .. } => format!("line {}", step.line),
        Event::Call(call) => format!(
            "line {}: {} → {}",
            step.line,
            logged_command(call.argv),
            human::render(&call.reply)
        ),
        // A returned error reply (`redis.error_reply`) reads as the error
        // the client gets: LDB's trace cannot tell it from a raised one.
        Event::Error { message, .. } => {
            format!("error: {}", String::from_utf8_lossy(message))
        }
        Event::Return {
            reply: Reply::Error(message),
        } => format!("error: {}", String::from_utf8_lossy(message)),
        Event::Return { reply } => format!("return {}", human::render(reply)),
        Event::Other(other) => {
            format!("client {}: {}", other.client, logged_command(&other.argv))
        }
    }
}

/// Step `i`'s reply, if it is the return.
fn returned(timeline: &Timeline, i: usize) -> Option<&Reply> {
    match timeline.event(timeline.steps.get(i)?) {
        Event::Return { reply } => Some(reply),
        _ => None,
    }
}

/// The first step where `server` and `engine` differ.
pub fn compare(server: &Timeline, engine: &Timeline) -> Report {
    let label = server
        .server
        .as_ref()
        .map(|s| s.label.clone())
        .unwrap_or_else(|| "the server".into());
    let steps = server.steps.len().max(engine.steps.len());
    let mut difference = None;
    for i in 0..steps {
        let a = server.steps.get(i).map(|s| describe(server, s));
        let b = engine.steps.get(i).map(|s| describe(engine, s));
        let exact_return = match (returned(server, i), returned(engine, i)) {
            (Some(x), Some(y)) => {
                x == y
                    || matches!((x, y), (Reply::Double(p), Reply::Double(q)) if p.to_bits() == q.to_bits())
            }
            _ => true,
        };
        if a != b || !exact_return {
            let line = server
                .steps
                .get(i)
                .or(engine.steps.get(i))
                .map_or(0, |s| s.line);
            difference = Some(Difference {
                step: i + 1,
                line,
                server: a.unwrap_or_else(|| "(the run had ended)".into()),
                engine: b.unwrap_or_else(|| "(the run had ended)".into()),
            });
            break;
        }
    }
    let mut text = String::new();
    match &difference {
        None => {
            let _ = writeln!(
                text,
                "identical on {steps} steps: {label} and redstep's engine ran the same lines and commands, with the same replies."
            );
        }
        Some(d) => {
            let _ = writeln!(
                text,
                "first difference at step {}, line {}:\n  {label}: {}\n  redstep:  {}",
                d.step, d.line, d.server, d.engine
            );
        }
    }
    Report { text, difference }
}
